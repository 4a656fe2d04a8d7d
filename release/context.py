"""What the executor works with: the engine, the AWS wrappers, the clock, and the seams a rehearsal controls."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from components.config.release_analysis import AnalysisConfig
from release.aws.cloudwatch import Metrics
from release.aws.ecs import Containers, TaskRun, TaskSpec
from release.aws.elbv2 import LoadBalancing
from release.aws.rds import Databases
from release.aws.secrets import Secrets
from release.aws.sns import Notifications
from release.clock import Clock
from release.engine import StackEngine
from release.judgement.analysis import Verdict
from release.strategies.steps import Step


class Probe(Protocol):
    """GETs a URL with extra headers; the status code, or 0 when nothing answered."""

    def __call__(self, url: str, headers: Mapping[str, str] | None = None) -> int:
        """The status of ``GET url``."""
        ...


def http_probe(url: str, headers: Mapping[str, str] | None = None, timeout: float = 5.0) -> int:
    """GET ``url`` with ``headers`` (certificate and host name verified); the status code, or 0 when nothing answered."""
    if not url.startswith(("http://", "https://")):
        return 0
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - the scheme is checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - the scheme is checked above
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0


Heartbeat = Callable[[], None]
"""Called between two reads of a long wait (the migration's task): the driver renews its lease there."""


class TaskRunner(Protocol):
    """Runs a one-off task to completion (the migration)."""

    def run(self, spec: TaskSpec, started_by: str, timeout: float, heartbeat: Heartbeat | None = None) -> TaskRun:
        """Start the task, wait until it stops (calling ``heartbeat`` between reads), return how it ended."""
        ...


class EcsTaskRunner:
    """Runs the task on ECS and reads the container's exit code."""

    def __init__(self, ecs: Containers) -> None:
        self.ecs = ecs

    def run(self, spec: TaskSpec, started_by: str, timeout: float, heartbeat: Heartbeat | None = None) -> TaskRun:
        """Start, wait until stopped (calling ``heartbeat`` at each read), return the exit code."""
        arn = self.ecs.start_task(spec, started_by)
        return self.ecs.wait_stopped(spec.cluster, arn, spec.container_name, timeout=timeout, heartbeat=heartbeat)


@dataclass(frozen=True)
class Aws:
    """The AWS wrappers of one session."""

    elbv2: LoadBalancing
    cloudwatch: Metrics
    ecs: Containers
    rds: Databases
    sns: Notifications
    secrets: Secrets

    @classmethod
    def from_session(cls, session: Any, clock: Clock) -> Aws:
        """Every wrapper over one boto3 session."""
        return cls(
            LoadBalancing(session, clock), Metrics(session, clock), Containers(session, clock),
            Databases(session, clock), Notifications(session, clock), Secrets(session, clock),
        )


@dataclass(frozen=True)
class Poll:
    """One poll of a bake: when, the step's weights, the time left and the analysis's verdict."""

    at: datetime
    remaining: float
    weights: dict[str, int]
    verdict: Verdict
    overtime: float = 0.0
    """Seconds the bake has run past its end waiting for the minimum sample (the low-traffic rule)."""
    candidate: str = ""
    """The candidate colour."""


class Reporter(Protocol):
    """Where the executor tells people what happens."""

    def step(self, index: int, total: int, step: Step) -> None:
        """A step starts."""
        ...

    def note(self, text: str) -> None:
        """Something worth showing."""
        ...

    def bake(self, poll: Poll) -> None:
        """One poll of a bake."""
        ...


class SilentReporter:
    """Shows nothing (JSON output, tests)."""

    def step(self, index: int, total: int, step: Step) -> None:
        """Nothing."""

    def note(self, text: str) -> None:
        """Nothing."""

    def bake(self, poll: Poll) -> None:
        """Nothing."""


@dataclass
class Context:
    """Everything a release runs against."""

    stack: str
    engine: StackEngine
    aws: Aws
    clock: Clock
    runner: TaskRunner
    probe: Probe = http_probe
    reporter: Reporter = field(default_factory=SilentReporter)
    thresholds: AnalysisConfig | None = None
    """The analysis settings; None reads the stack's ``release:analysis`` at each bake."""
    verify_timeout: float = 60.0
    by: str = "unknown"
