"""Runs the steps of a release against a stack engine and AWS; any failure after the start aborts.

Every traffic change is a stack update followed by verification of what the
listener actually serves (set, then verify). A failure before anything changed
refuses the release; after, it aborts: the candidate goes back to 0 in one
update (targeted at the listener when the stack exports its URN), verified, and
the record moves to ``release:lastRelease`` with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from components.config import Colour, ConfigError, load
from components.config.release_record import Outcome, Phase, ReleaseRecord
from release import record as records
from release.aws.base import AwsError
from release.capacity import CANDIDATE_TASKS
from release.context import Context
from release.engine import EngineError, StackBusyError
from release.errors import ExitCode
from release.executor_steps import StepFailure, StepRunner
from release.steps import Shift, Step

# What a step may fail with; anything else is a bug and is not swallowed.
FAILURES = (StepFailure, AwsError, EngineError, ClientError, BotoCoreError)


@dataclass(frozen=True)
class Result:
    """How a release ended."""

    outcome: Outcome
    record: ReleaseRecord | None
    failed_step: str | None = None
    why: str | None = None
    next_command: str | None = None
    infrastructure: bool = False
    steps_done: int = 0

    @property
    def exit_code(self) -> ExitCode:
        """0 released, 1 aborted or refused, 3 when AWS or the engine failed."""
        if self.infrastructure:
            return ExitCode.INFRASTRUCTURE
        if self.outcome is Outcome.PROMOTED and self.why is None:
            return ExitCode.OK
        return ExitCode.REFUSED


@dataclass
class Timing:
    """Where the driver's wall time went: per step, and how much of it was the engine's."""

    steps: list[tuple[str, float, float]] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)


class Executor:
    """Runs a planned release."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.timing = Timing()
        self.runner = StepRunner(ctx, self.timing)

    def run(self, steps: list[Step], record: ReleaseRecord) -> Result:
        """Run every step; abort on the first failure once the release has started."""
        done = 0
        if record.steps is None:
            # Recorded so that a resumed release walks the same weights.
            record = record.model_copy(update={"steps": tuple(s.weight for s in steps if isinstance(s, Shift))})
        for index, step in enumerate(steps, start=1):
            self.ctx.reporter.step(index, len(steps), step)
            began, engine_before = time.perf_counter(), self.runner.engine_seconds
            try:
                record = self.runner.run(step, record)
            except FAILURES as exc:
                return self._failed(step, record, exc, done)
            finally:
                self.timing.steps.append((step.name, time.perf_counter() - began, self.runner.engine_seconds - engine_before))
            done += 1
        return Result(Outcome.PROMOTED, record, steps_done=done)

    def _failed(self, step: Step, record: ReleaseRecord, exc: Exception, done: int) -> Result:
        what, why, next_command = _explain(exc, self.ctx.stack)
        # The durable record may know more than the one in hand (a failing step records what it did first).
        try:
            stored = records.in_progress(self.ctx.engine)
        except EngineError:
            stored = None
        if stored is not None and stored.id == record.id:
            record = stored
        if isinstance(exc, StepFailure) and exc.record is not None:
            record = exc.record
        # Somebody else holding the stack is a refusal to act, not a broken environment.
        infrastructure = (not isinstance(exc, StepFailure) or exc.infrastructure) and not isinstance(exc, StackBusyError)
        if getattr(exc, "elsewhere", False):
            return Result(Outcome.ABORTED, record, step.name, why, next_command, False, done)
        if done == 0:
            return Result(Outcome.REFUSED, None, step.name, f"{what}: {why}", next_command, infrastructure, done)
        if record.phase is Phase.PROMOTED:
            # The release is live; a failed post-release check is reported, the old colour is the way back.
            return Result(
                Outcome.PROMOTED, record, step.name, f"{what}: {why}",
                f"python -m release status --stack {self.ctx.stack}, then roll back to {record.colour.other} if needed",
                infrastructure, done,
            )
        try:
            aborted = abort(self.ctx, record, f"{what}: {why}", self.timing)
        except FAILURES as second:
            w2, y2, n2 = _explain(second, self.ctx.stack)
            return Result(Outcome.ABORTED, record, step.name, f"{what}: {why}; then the abort failed: {w2}: {y2}", n2, True, done)
        return Result(Outcome.ABORTED, aborted, step.name, f"{what}: {why}", next_command, infrastructure, done)


def _explain(exc: Exception, stack: str) -> tuple[str, str, str]:
    if isinstance(exc, ClientError):
        return f"AWS {exc.operation_name}", str(exc), f"retry, or check AWS; then python -m release status --stack {stack}"
    if isinstance(exc, (StepFailure, AwsError, EngineError)):
        nxt = exc.next_command or f"python -m release status --stack {stack}"
        return exc.what, exc.why, nxt
    return type(exc).__name__, str(exc), f"python -m release status --stack {stack}"


def release_config(engine_config: Mapping[str, str], stack: str) -> Any:
    """The validated release config of a config map; StepFailure naming every problem when invalid."""
    try:
        return load(engine_config, stack).release
    except ConfigError as exc:
        msg = "stack config"
        raise StepFailure(msg, "; ".join(exc.problems), f"fix the config of {stack}") from exc


def abort(ctx: Context, record: ReleaseRecord, reason: str, timing: Timing | None = None) -> ReleaseRecord:
    """Send the candidate back to 0 in one update, verified; record the release as aborted."""
    config = release_config(ctx.engine.get_config(), ctx.stack)
    final = records.finished(record, Outcome.ABORTED, ctx.clock, reason)
    changes = {records.LAST_RELEASE: records.encode(final)}
    moved = config.canary_weight != 0
    if moved:
        changes["release:canaryWeight"] = "0"
    ctx.engine.set_config(changes)
    # The candidate's extra tasks go with the release; the abort's update is targeted at the listener, so they
    # are scaled down by the next full update.
    ctx.engine.remove_config([records.IN_PROGRESS, CANDIDATE_TASKS])
    outputs = ctx.engine.outputs()
    targets = [str(outputs["listener_urn"])] if moved and outputs.get("listener_urn") else None
    if timing is not None:
        timing.events.append((ctx.clock.monotonic(), "abort-update"))
    ctx.engine.update(f"abort release {record.id} of {record.version}: {reason}"[:1000], targets=targets)
    StepRunner(ctx, timing or Timing()).verify(config.candidate, 0)
    ctx.reporter.note(f"aborted: {config.candidate} back to 0%, {config.live} serves 100%")
    return final


def promote_now(ctx: Context, record: ReleaseRecord) -> ReleaseRecord:
    """Make the candidate of the release in progress live at once, verified."""
    return StepRunner(ctx, Timing()).promote(Colour(record.colour), record)
