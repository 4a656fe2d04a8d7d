"""What a rehearsal controls that moto cannot: time, the migration's exit code, when an alarm fires, and faults.

moto 5.2.5 cannot run a Fargate task with a network configuration (its ECS
backend fails building the task's network interface) and always reports exit
code 0 for a container, so the migration runs behind the ``TaskRunner`` seam:
the rehearsal's runner checks the cluster and task definition exist in moto
(real API answers), and the scenario decides the exit code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from components.config import Colour
from rehearsal.world.servers import MotoSession
from release.aws.ecs import TaskRun, TaskSpec
from release.clock import ManualClock


class ScheduledClock(ManualClock):
    """A manual clock that runs callbacks at given times while something sleeps through them."""

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__(start)
        self._events: list[tuple[float, Callable[[], None]]] = []

    def at(self, when: float, action: Callable[[], None]) -> None:
        """Run ``action`` once the clock reaches ``when`` (monotonic seconds)."""
        self._events.append((when, action))
        self._events.sort(key=lambda e: e[0])

    def sleep(self, seconds: float) -> None:
        """Advance, stopping at each due event to run it."""
        target = self.monotonic() + max(0.0, seconds)
        while self._events and self._events[0][0] <= target:
            when, action = self._events.pop(0)
            super().sleep(max(0.0, when - self.monotonic()))
            action()
        super().sleep(target - self.monotonic())


@dataclass
class RehearsalTaskRunner:
    """Runs the migration as far as moto allows: the cluster and task definition must exist; the exit code is the scenario's."""

    session: MotoSession
    exit_code: int = 0
    runs: list[TaskSpec] = field(default_factory=list)

    def run(self, spec: TaskSpec, started_by: str, timeout: float, heartbeat: Callable[[], None] | None = None) -> TaskRun:
        """Check the task could start here; return the scenario's exit code (at once: nothing to wait for)."""
        ecs = self.session.shared("ecs")
        if not ecs.describe_clusters(clusters=[spec.cluster])["clusters"]:
            return TaskRun(task_arn="", exit_code=None, reason=f"cluster {spec.cluster} not found")
        definition = ecs.describe_task_definition(taskDefinition=spec.task_definition_arn)["taskDefinition"]
        names = [c["name"] for c in definition["containerDefinitions"]]
        if spec.container_name not in names:
            return TaskRun(task_arn="", exit_code=None, reason=f"no container {spec.container_name} in {names}")
        self.runs.append(spec)
        ident = hashlib.sha256(f"{spec.task_definition_arn}{len(self.runs)}".encode()).hexdigest()[:32]
        cluster = spec.cluster.rsplit("cluster/", 1)[-1]
        arn = f"arn:aws:ecs:{self.session.region}:123456789012:task/{cluster}/{ident}"
        return TaskRun(task_arn=arn, exit_code=self.exit_code, reason="" if self.exit_code == 0 else "Essential container in task exited")


UPDATE_KINDS = ("shift", "promote", "abort")


@dataclass(frozen=True)
class Faults:
    """What goes wrong in a rehearsal's world beyond what moto does by itself."""

    listener_ignores: frozenset[str] = frozenset()
    """Kinds of update (``shift``, ``promote``, ``abort``) whose forward weights moto's listener does not take."""
    listener_reverts: bool = False
    """When it ignores an update, the listener goes back to the weights it started with instead of keeping the last."""
    running_caps: tuple[tuple[str, int], ...] = ()
    """(colour, most tasks that ever run): tasks beyond these never start."""
    unhealthy: frozenset[str] = frozenset()
    """Colours whose new tasks never pass the load balancer's health checks."""
    alarms: frozenset[str] = frozenset()
    """Colours whose alarms are in ALARM from the start."""

    def caps(self) -> dict[Colour, int]:
        """Colour -> most running tasks."""
        return {Colour(c): n for c, n in self.running_caps}
