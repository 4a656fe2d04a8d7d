"""ECS's rolling deployment of the live colour, which moto does not do: the rehearsal's seam.

moto 5.2.5 keeps one deployment per service, created COMPLETED, and changes only
its task definition on UpdateService; it never rolls tasks, never fails a
deployment and never rolls one back. In a rolling rehearsal this seam does what
ECS would, on the rehearsal's clock, and writes the deployments into every
DescribeServices answer (a botocore ``after-call`` hook, like the running counts
of ``ServiceFleet``), so the driver reads them through its own wrapper:

- a new version of the live colour registers a task definition revision in moto
  (image ``app:<version>``), points the service at it and starts a PRIMARY
  deployment IN_PROGRESS beside the old one (ACTIVE); the colour's application
  process becomes the new version's, unless that crashes on start, when the old
  tasks keep serving (``minimumHealthyPercent`` 100 stops none before a new one is
  healthy);
- it completes once its tasks are replaced (``replace_seconds``) and ECS's bake of
  the deployment alarms has passed ("a period of time after a new service version
  has scaled out and the old service version has scaled in, during which Amazon ECS
  continues to monitor the alarm ... computed based on the alarm configuration",
  AWS docs "How CloudWatch alarms detect Amazon ECS deployment failures"; here the
  longest evaluationPeriods x period of the service's alarms);
- it fails while IN_PROGRESS when one of the service's deployment alarms is in
  ALARM in moto (set by the rehearsal's evaluator from real traffic, never here),
  or when its tasks keep failing to start: the circuit breaker's threshold is half
  the desired count, at least 3 and at most 200 (ECS API reference,
  ServiceDeploymentCircuitBreaker ``threshold``), one failed task every
  ``task_seconds``;
- a failed deployment is rolled back (``rollback`` true in both the circuit breaker
  and the alarms, components/fleet.py): a new PRIMARY deployment of the last
  completed one's task definition, the process back to that version, COMPLETED
  after ``replace_seconds``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.config import Colour
from offline import Plan
from rehearsal.world.alarms import METRIC_ALARM
from rehearsal.world.seams import ScheduledClock
from rehearsal.world.servers import MotoSession
from release.aws.ecs import ACTIVE, COMPLETED, FAILED, IN_PROGRESS, PRIMARY

SERVICE = "aws:ecs/service:Service"
TICK = 5.0


@dataclass
class Deployment:
    """One deployment as the seam keeps it."""

    id: str
    task_definition: str
    version: str
    started: float
    status: str = PRIMARY
    state: str = IN_PROGRESS
    reason: str = ""
    healthy: bool = True
    """Whether its tasks pass their health checks."""
    rollback: bool = False
    failed_tasks: int = 0

    def answer(self, desired: int) -> dict[str, Any]:
        """As an element of DescribeServices' ``deployments`` (botocore ecs shape ``Deployment``)."""
        return {"id": self.id, "status": self.status, "taskDefinition": self.task_definition, "rolloutState": self.state,
                "rolloutStateReason": self.reason, "desiredCount": desired, "failedTasks": self.failed_tasks,
                "runningCount": desired if self.healthy and self.state != FAILED else 0, "launchType": "FARGATE"}


@dataclass
class RolloutSeam:
    """The live colour's ECS deployments in a rolling rehearsal."""

    session: MotoSession
    clock: ScheduledClock
    colour: Colour
    starter: Callable[[Colour, str], bool]
    replace_seconds: float = 120.0
    """How long replacing the colour's tasks takes (start, pass health checks, drain the old ones)."""
    task_seconds: float = 30.0
    """How often a task that crashes on start is replaced by another attempt."""
    deployments: list[Deployment] = field(default_factory=list)
    events: list[tuple[float, str, str]] = field(default_factory=list)
    """(clock, deployment id, what happened): IN_PROGRESS, COMPLETED, FAILED, rolling back."""
    cluster: str = ""
    service: str = ""
    alarms: tuple[str, ...] = ()
    bake_seconds: float = 0.0
    desired: int = 1
    _ticking: bool = False

    def attach(self) -> None:
        """Write this seam's deployments into every DescribeServices answer of the session's ECS clients."""

        def answer(parsed: dict[str, Any], **_: Any) -> None:
            self.tick()
            for service in parsed.get("services", []):
                if service.get("serviceName") == self.service and self.deployments:
                    service["deployments"] = [d.answer(self.desired) for d in self.deployments]
                    service["taskDefinition"] = self.deployments[0].task_definition

        self.session.hooks.append(("after-call.ecs.DescribeServices", answer))

    def begin(self, plan: Plan, cluster: str, service: str, old: str, new: str) -> bool:
        """The stack changed the colour's version: ECS starts a deployment. True: a process serves the colour."""
        self.cluster, self.service = cluster, service
        self._read_plan(plan)
        if not self.deployments:
            self.deployments.append(Deployment("ecs-svc/0", self._register(old), old, self.clock.monotonic(), state=COMPLETED))
        for deployment in self.deployments:
            if deployment.state != FAILED:
                deployment.status = ACTIVE
        started = self.starter(self.colour, new)
        if not started:
            # The new tasks never become healthy; the old ones keep serving until the circuit breaker fails the deployment.
            self.starter(self.colour, self._stable().version)
        head = Deployment(f"ecs-svc/{len(self.events) + 1}", self._register(new), new, self.clock.monotonic(), healthy=started)
        self.deployments.insert(0, head)
        self.events.append((self.clock.monotonic(), head.id, IN_PROGRESS))
        self._point(head.task_definition)
        self._schedule()
        return True

    def tick(self) -> None:
        """Move the PRIMARY deployment on, as ECS would by now."""
        if not self.deployments or self.deployments[0].state != IN_PROGRESS:
            return
        head, now = self.deployments[0], self.clock.monotonic()
        if not head.rollback:
            firing = self._firing()
            if firing:
                self._fail(head, f"Deployment failed: alarm(s) detected: {', '.join(firing)}")
                return
            if not head.healthy:
                head.failed_tasks = int((now - head.started) // self.task_seconds)
                if head.failed_tasks >= self._threshold():
                    self._fail(head, f"ECS deployment circuit breaker: {head.failed_tasks} tasks failed to start")
                return
        if now >= head.started + self.replace_seconds + (0.0 if head.rollback else self.bake_seconds):
            head.state = COMPLETED
            head.reason = f"ECS deployment {head.id} completed."
            # Replaced deployments become INACTIVE, which DescribeServices does not list.
            self.deployments = [head]
            self.events.append((now, head.id, COMPLETED))

    def _fail(self, head: Deployment, reason: str) -> None:
        stable = self._stable()
        head.state, head.status, head.reason = FAILED, ACTIVE, reason
        back = Deployment(f"ecs-svc/{len(self.events) + 1}", stable.task_definition, stable.version, self.clock.monotonic(),
                          rollback=True, reason=f"ECS deployment circuit breaker: rolling back to deploymentId {stable.id}")
        self.deployments.insert(0, back)
        self.events.append((self.clock.monotonic(), head.id, FAILED))
        self.events.append((self.clock.monotonic(), back.id, "rolling back"))
        self._point(stable.task_definition)
        # The colour's tasks are the last completed version's again.
        self.starter(self.colour, stable.version)

    def _stable(self) -> Deployment:
        """The last deployment that completed (what a rollback goes back to)."""
        return next(d for d in self.deployments if d.state == COMPLETED)

    def _threshold(self) -> int:
        return min(200, max(3, math.ceil(0.5 * self.desired)))

    def _firing(self) -> list[str]:
        if not self.alarms:
            return []
        found = self.session.shared("cloudwatch").describe_alarms(AlarmNames=list(self.alarms))["MetricAlarms"]
        return [a["AlarmName"] for a in found if a.get("StateValue") == "ALARM"]

    def _read_plan(self, plan: Plan) -> None:
        """The service's deployment alarms, ECS's bake time over them, and its desired count, from the plan."""
        service = next((r for r in plan.of_type(SERVICE) if str(r.inputs.get("name")) == self.service), None)
        inputs: Mapping[str, Any] = service.inputs if service is not None else {}
        self.desired = int(inputs.get("desiredCount", 1) or 1)
        settings = inputs.get("alarms") or {}
        self.alarms = tuple(str(n) for n in settings.get("alarmNames") or ()) if settings.get("enable") else ()
        periods = [int(r.inputs.get("evaluationPeriods", 1)) * int(r.inputs.get("period", 60))
                   for r in plan.of_type(METRIC_ALARM) if str(r.inputs.get("name")) in self.alarms]
        self.bake_seconds = float(max(periods, default=0))

    def _register(self, version: str) -> str:
        container = {"name": "app", "image": f"app:{version}", "cpu": 256, "memory": 512}
        return str(self.session.shared("ecs").register_task_definition(
            family=self.service, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[container],
        )["taskDefinition"]["taskDefinitionArn"])

    def _point(self, task_definition: str) -> None:
        self.session.shared("ecs").update_service(cluster=self.cluster, service=self.service, taskDefinition=task_definition)

    def _schedule(self) -> None:
        if self._ticking:
            return
        self._ticking = True

        def again() -> None:
            self.tick()
            if self.deployments and self.deployments[0].state == IN_PROGRESS:
                self.clock.at(self.clock.monotonic() + TICK, again)
            else:
                self._ticking = False

        self.clock.at(self.clock.monotonic() + TICK, again)
