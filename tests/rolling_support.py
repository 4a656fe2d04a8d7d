"""A rolling release's world for fast tests: the small FakeStack of ``stack_world`` plus an ECS whose deployments a test scripts.

``ScriptedEcs`` stands in for the ECS client of the driver's wrapper: its
DescribeServices answer lists the live service's deployments as the chosen
``mode`` says, from the stack's current config (the version on the live colour)
and the clock; task definitions are named after the version they run, and
DescribeTaskDefinition answers with that image.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from components.config import Colour
from release.aws.ecs import Containers
from release.clock import ManualClock
from release.rollback.fast import fast_rollback
from tests.stack_world import FakeStack, World, world

CLUSTER = "web"
MODES = ("completes", "stuck", "fails-no-rollback", "rolls-back")


def task_definition(version: str) -> str:
    """The ARN of the revision running ``version``."""
    return f"arn:aws:ecs:eu-west-1:123456789012:task-definition/web-live:{version}"


class ScriptedEcs:
    """DescribeServices and DescribeTaskDefinition of the live service, as a test scripts them."""

    class exceptions:  # noqa: N801 - botocore's attribute name
        ClusterNotFoundException = type("ClusterNotFoundException", (Exception,), {})

    def __init__(self, stack: FakeStack, clock: ManualClock, mode: str, max_polls: int = 500) -> None:
        assert mode in MODES
        self.stack = stack
        self.clock = clock
        self.mode = mode
        self.max_polls = max_polls
        self.polls = 0
        self.first = stack.release_config().versions.of(stack.release_config().live)
        self.rolled_at: float | None = None
        self.restored_at: float | None = None
        self.throttled = False
        """Every DescribeServices answers ThrottlingException."""
        self.throttled_until: float | None = None
        """DescribeServices answers ThrottlingException until this time of the clock (``monotonic``), then answers again."""
        self.interrupt_after_restore: float | None = None
        """Seconds after the driver puts the old version back at which Ctrl-C lands (an ``InterruptingClock``)."""
        self.back_on: str | None = None
        """The version the old one's deployment (ECS's rollback, the driver's) completes on: a wrong image."""
        self.counts = (2, 2)
        """The service's (runningCount, desiredCount)."""
        self.answer: list[dict[str, Any]] | None = None
        """Deployments DescribeServices lists as they are, whatever the config says (a state the modes do not script)."""
        self.leaves_after: float | None = None
        """Seconds after the rollout began at which PRIMARY, COMPLETED, runs the old version again with no alarm (a bake's hazard)."""

    def describe_services(self, cluster: str, services: list[str]) -> dict[str, Any]:
        self.polls += 1
        # A loop with no timeout would poll for ever: fail loudly instead of hanging the test.
        assert self.polls <= self.max_polls, "polled ECS past any timeout"
        # ECS's answers for a cluster or a service it does not have (DescribeServices: ClusterNotFoundException; a
        # service not found is listed under ``failures`` with reason MISSING, and ``services`` is empty).
        if cluster != CLUSTER:
            raise self.exceptions.ClusterNotFoundException(f"Cluster not found: {cluster}")
        if services[0] not in {f"{self.stack.prefix}-{c.value}" for c in Colour}:
            return {"services": [], "failures": [{"arn": str(services[0]), "reason": "MISSING"}]}
        if self.throttled or (self.throttled_until is not None and self.clock.monotonic() < self.throttled_until):
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "DescribeServices")
        running, desired = self.counts
        return {"services": [{"serviceName": services[0], "runningCount": running, "desiredCount": desired,
                              "deployments": self.deployments()}]}

    def describe_task_definition(self, taskDefinition: str) -> dict[str, Any]:  # noqa: N803 - botocore's parameter name
        return {"taskDefinition": {"containerDefinitions": [{"name": "app", "image": f"repo:{taskDefinition.rsplit(':', 1)[-1]}"}]}}

    def deployments(self) -> list[dict[str, Any]]:
        if self.answer is not None:
            return self.answer
        release = self.stack.release_config()
        now = release.versions.of(release.live)
        back = self.back_on or self.first
        if now == self.first and self.rolled_at is None:
            return [deployment("ecs-svc/1", self.first, "PRIMARY", "COMPLETED")]
        if now == self.first:
            # The old version put back by the driver: its re-registered revision rolls out for 30 seconds.
            if self.restored_at is None:
                self.restored_at = self.clock.monotonic()
                if self.interrupt_after_restore is not None:
                    self.clock.at = self.restored_at + self.interrupt_after_restore  # type: ignore[attr-defined]
            state = "COMPLETED" if self.clock.monotonic() >= self.restored_at + 30 else "IN_PROGRESS"
            return [deployment("ecs-svc/4", back if state == "COMPLETED" else self.first, "PRIMARY", state)]
        self.restored_at = None
        if self.rolled_at is None:
            self.rolled_at = self.clock.monotonic()
        if self.leaves_after is not None and self.clock.monotonic() >= self.rolled_at + self.leaves_after:
            return [deployment("ecs-svc/5", self.first, "PRIMARY", "COMPLETED"), deployment("ecs-svc/2", now, "ACTIVE", "COMPLETED")]
        if self.mode == "completes":
            return [deployment("ecs-svc/2", now, "PRIMARY", "COMPLETED")]
        if self.mode == "stuck":
            return [deployment("ecs-svc/2", now, "PRIMARY", "IN_PROGRESS"), deployment("ecs-svc/1", self.first, "ACTIVE", "COMPLETED")]
        if self.mode == "fails-no-rollback":
            return [deployment("ecs-svc/2", now, "PRIMARY", "FAILED", "ECS deployment circuit breaker: 3 tasks failed to start")]
        # rolls-back: the failed deployment ACTIVE, the old version PRIMARY again, completed a minute later.
        state = "COMPLETED" if self.clock.monotonic() >= self.rolled_at + 60 else "IN_PROGRESS"
        return [deployment("ecs-svc/3", back if state == "COMPLETED" else self.first, "PRIMARY", state,
                            "rolling back to deploymentId ecs-svc/1"),
                deployment("ecs-svc/2", now, "ACTIVE", "FAILED", "ECS deployment circuit breaker: 3 tasks failed to start")]


def deployment(ident: str, version: str, status: str, state: str, reason: str = "") -> dict[str, Any]:
    return {"id": ident, "status": status, "taskDefinition": task_definition(version), "rolloutState": state,
            "rolloutStateReason": reason, "runningCount": 2, "desiredCount": 2, "failedTasks": 0}


class RollingStack(FakeStack):
    """The fake stack with ECS services exported, on the rolling strategy."""

    def outputs(self) -> dict[str, Any]:
        found = super().outputs()
        found.update(cluster_name=CLUSTER, service_names={c.value: f"{self.prefix}-{c.value}" for c in Colour})
        return found


def rolling_world(session: Any, mode: str, clock: ManualClock | None = None) -> tuple[World, ScriptedEcs]:
    """A fresh rolling stack and driver context, with ECS answering as ``mode`` says."""
    w = world(session, clock=clock)
    w.stack.__class__ = RollingStack
    w.stack.set_release(strategy="rolling")
    ecs = ScriptedEcs(w.stack, w.clock, mode)
    containers = Containers(session, w.clock)
    containers.client = ecs
    w.ctx.aws = type(w.ctx.aws)(w.ctx.aws.elbv2, w.ctx.aws.cloudwatch, containers, w.ctx.aws.rds, w.ctx.aws.sns, w.ctx.aws.secrets)
    return w, ecs


def rollback_killed_after_its_write(w: World, monkeypatch: pytest.MonkeyPatch, reason: str = "") -> None:
    """A rolling rollback killed after its marked write, before its update: the marked record stays in progress."""
    real = w.stack.update

    def killed(message: str, targets: Any = None) -> Any:
        raise SystemExit(137)

    monkeypatch.setattr(w.stack, "update", killed)
    with pytest.raises(SystemExit):
        fast_rollback(w.ctx, reason)
    monkeypatch.setattr(w.stack, "update", real)
