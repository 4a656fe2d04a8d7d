"""The ECS services of a rehearsal: moto keeps their desired counts, the scenario decides how many tasks run.

moto 5.2.5 keeps a service's ``desiredCount`` but reports ``runningCount`` 0
for every Fargate service (or one fixed number from ``MOTO_ECS_SERVICE_RUNNING``),
and it never runs Application Auto Scaling. So the services are created in moto
from the plan and their desired counts follow every update, while the running
count is this module's: a botocore ``after-call`` hook on the driver's ECS
client writes it into each DescribeServices answer. The driver's own wrapper
and health check run unchanged over real API answers.

Running counts: a service's new tasks run ``start_seconds`` after its desired
count rose; scaling in takes effect at once; a scenario may cap a colour below
its desired count (tasks that never start).

Desired counts: a service with an autoscaling target gets its current count
clamped into the target's range, as RegisterScalableTarget does ("it changes the
resource's current capacity to a value that is inside of this range",
botocore/data/application-autoscaling/2016-02-06/service-2.json); a service
without one gets the plan's ``desiredCount``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.config import Colour
from offline import Plan
from rehearsal.world.servers import MotoSession
from release.clock import Clock

SERVICE = "aws:ecs/service:Service"
SCALING_TARGET = "aws:appautoscaling/target:Target"


@dataclass
class Tasks:
    """One service's counts."""

    colour: Colour
    desired: int
    running: int
    since: float
    """When the desired count last rose (monotonic seconds)."""


def planned_counts(plan: Plan, names: Mapping[Colour, str], current: Mapping[Colour, int]) -> dict[Colour, int]:
    """Colour -> the desired count the plan gives its service, autoscaling ranges applied to the current count."""
    counts: dict[Colour, int] = {}
    services = {str(r.inputs.get("name") or r.outputs.get("name")): r for r in plan.of_type(SERVICE)}
    targets = {str(r.inputs.get("resourceId", "")).rsplit("/", 1)[-1]: r for r in plan.of_type(SCALING_TARGET)}
    for colour, name in names.items():
        service = services.get(name)
        if service is None:
            continue
        target = targets.get(name)
        if target is None:
            counts[colour] = int(service.inputs.get("desiredCount", 0))
            continue
        low, high = int(target.inputs.get("minCapacity", 0)), int(target.inputs.get("maxCapacity", 0))
        start = current.get(colour, int(service.inputs.get("desiredCount", low)))
        counts[colour] = min(max(start, low), high)
    return counts


class ServiceFleet:
    """Both colours' ECS services in moto, with running counts the scenario controls."""

    def __init__(self, session: MotoSession, clock: Clock, caps: Mapping[Colour, int] | None = None,
                 start_seconds: float = 30.0) -> None:
        self.session = session
        self.clock = clock
        self.caps = dict(caps or {})
        self.start_seconds = start_seconds
        self.cluster = ""
        self.tasks: dict[str, Tasks] = {}
        self.names: dict[Colour, str] = {}
        self.log: list[dict[str, Any]] = []
        """Per update: the split it set, and each colour's running and desired tasks when it began and once it applied."""

    def build(self, plan: Plan, cluster: str) -> None:
        """Create each colour's service in moto at its planned count, all of its tasks running."""
        names = plan.outputs.get("service_names")
        if not cluster or not isinstance(names, Mapping) or not names:
            return
        self.cluster = cluster
        self.names = {Colour(c): str(n) for c, n in names.items()}
        ecs = self.session.shared("ecs")
        for colour, count in planned_counts(plan, self.names, {}).items():
            name = self.names[colour]
            ecs.register_task_definition(
                family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
                containerDefinitions=[{"name": "app", "image": "app", "cpu": 256, "memory": 512}],
            )
            ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=name, desiredCount=count, launchType="FARGATE")
            self.tasks[name] = Tasks(colour, count, count, self.clock.monotonic())

    def counts(self) -> dict[str, tuple[int, int]]:
        """Colour -> (running, desired) now."""
        return {t.colour.value: (self.running(name), t.desired) for name, t in self.tasks.items()}

    def apply(self, plan: Plan) -> None:
        """Set each service's desired count in moto from a new plan."""
        if not self.tasks:
            return
        before = self.counts()
        self._apply(plan)
        out = plan.outputs
        self.log.append({"live": out.get("live_colour"), "weights": dict(out.get("weights") or {}),
                         "before": before, "after": self.counts()})

    def _apply(self, plan: Plan) -> None:
        current = {t.colour: t.desired for t in self.tasks.values()}
        ecs = self.session.shared("ecs")
        for colour, count in planned_counts(plan, self.names, current).items():
            tasks = self.tasks[self.names[colour]]
            if count == tasks.desired:
                continue
            ecs.update_service(cluster=self.cluster, service=self.names[colour], desiredCount=count)
            if count > tasks.desired:
                tasks.since = self.clock.monotonic()
            tasks.desired = count

    def running(self, name: str) -> int:
        """How many tasks of a service run now."""
        tasks = self.tasks[name]
        if tasks.running > tasks.desired or self.clock.monotonic() >= tasks.since + self.start_seconds:
            tasks.running = tasks.desired
        return min(tasks.running, self.caps.get(tasks.colour, tasks.running))

    def attach(self) -> None:
        """Make the DescribeServices answers of every ECS client of the session carry this fleet's running counts."""

        def counts(parsed: dict[str, Any], **_: Any) -> None:
            for service in parsed.get("services", []):
                if service.get("serviceName") in self.tasks:
                    service["runningCount"] = self.running(service["serviceName"])

        self.session.hooks.append(("after-call.ecs.DescribeServices", counts))
