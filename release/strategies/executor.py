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
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from components.config import Colour, ConfigError, Strategy, load
from components.config.release_record import Outcome, Phase, ReleaseRecord
from release.aws.base import AwsError
from release.context import Context
from release.engine import EngineError, StackBusyError
from release.errors import ExitCode, RefusedError
from release.rollback.common import is_rollback
from release.state import record as records
from release.strategies.canary import CanaryRunner
from release.strategies.capacity import CANDIDATE_TASKS
from release.strategies.failure import StepFailure, UnfinishedEndingError
from release.strategies.rolling import RollingRunner, RolloutFailedError, roll_back
from release.strategies.runner import StepRunner
from release.strategies.steps import Bake, Retire, Shift, Step
from release.strategies.timing import Timing

# What a step may fail with; anything else is a bug and is not swallowed.
FAILURES = (StepFailure, AwsError, EngineError, ClientError, BotoCoreError, records.ReleaseEndedError)


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


class Executor:
    """Runs a planned release."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.timing = Timing()
        self.runner = RollingRunner(ctx, self.timing)

    def run(self, steps: list[Step], record: ReleaseRecord) -> Result:
        """Run every step; abort on the first failure once the release has started."""
        done = 0
        # Recorded so that a resumed release walks the same weights and bakes as long.
        if record.steps is None:
            record = record.model_copy(update={"steps": tuple(s.weight for s in steps if isinstance(s, Shift))})
        bakes = [s.seconds for s in steps if isinstance(s, Bake)]
        if record.bake_minutes is None and bakes:
            record = record.model_copy(update={"bake_minutes": bakes[0] / 60})
        self.runner.last = record if record.revision else None
        for index, step in enumerate(steps, start=1):
            self.ctx.reporter.step(index, len(steps), step)
            began, engine_before = time.perf_counter(), self.runner.engine_seconds
            try:
                record = self.runner.run(step, record)
            except FAILURES as exc:
                result = self._failed(step, record, exc, done)
                # A driver that stops leaves nobody driving: its lease goes, so `resume` can take over at once.
                self._release_lease()
                return result
            except KeyboardInterrupt:
                self._release_lease()
                raise
            finally:
                self.timing.steps.append((step.name, time.perf_counter() - began, self.runner.engine_seconds - engine_before))
            done += 1
        return Result(Outcome.PROMOTED, record, steps_done=done)

    def _release_lease(self) -> None:
        """Stopped (interrupted, failed, or ended elsewhere): the weights stay, and this driver's lease goes.

        Only a record that is still this driver's (same release, no ending mark, its lease) loses its lease;
        a finished or marked record, or one another shell took over, is left as it is.
        """
        held = self.runner.last
        if held is None or held.outcome is not None:
            return
        try:
            stored = records.in_progress(self.ctx.engine)
            if stored is None or stored.id != held.id or stored.ending is not None or not self.runner.owns(stored):
                return
            self.runner.last = records.commit(self.ctx.engine, stored, stored.model_copy(update={"lease": None}))
        except (EngineError, records.ReleaseEndedError) as exc:
            self.ctx.reporter.note(f"the lease on release {held.id} stays until it expires: {exc}")

    def _failed(self, step: Step, record: ReleaseRecord, exc: Exception, done: int) -> Result:
        what, why, next_command = _explain(exc, self.ctx.stack)
        # The record as last written may know more than the one in hand (a failing step records what it did first).
        held = self.runner.last
        if held is not None and held.id == record.id:
            record = held
        if isinstance(exc, StepFailure) and exc.record is not None:
            record = exc.record
        # Somebody else holding the stack is a refusal to act, not a broken environment.
        infrastructure = (not isinstance(exc, StepFailure) or exc.infrastructure) and not isinstance(exc, StackBusyError)
        if isinstance(exc, records.ReleaseEndedError):
            return _ended_elsewhere(exc, record, step.name, done)
        if done == 0:
            return Result(Outcome.REFUSED, None, step.name, f"{what}: {why}", next_command, infrastructure, done)
        if record.phase is Phase.PROMOTED:
            # The release is live; a failed post-release check is reported, the old colour is the way back.
            # The backup window names its own way on (the rollback, while the old colour still runs).
            way = next_command if isinstance(step, Retire) or isinstance(exc, UnfinishedEndingError) else \
                f"python -m release status --stack {self.ctx.stack}, then roll back to {record.colour.other} if needed"
            return Result(Outcome.PROMOTED, record, step.name, f"{what}: {why}", way, infrastructure, done)
        if record.strategy is Strategy.ROLLING:
            return self._rolled_back(step, record, exc, (what, why, next_command), infrastructure, done)
        try:
            aborted = abort(self.ctx, record, f"{what}: {why}", self.timing, exact=True)
        except records.ReleaseEndedError as ended:
            return _ended_elsewhere(ended, record, step.name, done)
        except UnfinishedEndingError as unfinished:
            # The candidate is back at 0, verified; only the record's last write is missing.
            return Result(Outcome.ABORTED, unfinished.record, step.name, f"{what}: {why}; {unfinished.why}",
                          unfinished.next_command, True, done)
        except FAILURES as second:
            w2, y2, n2 = _explain(second, self.ctx.stack)
            return Result(Outcome.ABORTED, record, step.name, f"{what}: {why}; then the abort failed: {w2}: {y2}", n2, True, done)
        return Result(Outcome.ABORTED, aborted, step.name, f"{what}: {why}", next_command, infrastructure, done)


    def _rolled_back(
        self, step: Step, record: ReleaseRecord, exc: Exception, explained: tuple[str, str, str], infrastructure: bool, done: int,
    ) -> Result:
        """A rolling release that failed: ECS's rollback verified (when ECS rolls back), then the old version in the config."""
        what, why, next_command = explained
        reason = f"{what}: {why}"
        ecs = isinstance(exc, RolloutFailedError) and exc.ecs_rolls_back
        try:
            final = roll_back(self.ctx, record, reason, self.runner, ecs_rolls_back=ecs, outcome=Outcome.ROLLED_BACK,
                              by=self.ctx.by, exact=True)
        except records.ReleaseEndedError as ended:
            return _ended_elsewhere(ended, record, step.name, done)
        except FAILURES as second:
            w2, y2, n2 = _explain(second, self.ctx.stack)
            return Result(Outcome.ABORTED, self.runner.last or record, step.name,
                          f"{reason}; then the rollback failed: {w2}: {y2}", n2, True, done)
        if final.outcome is not Outcome.ROLLED_BACK:
            return Result(Outcome.ABORTED, final, step.name, reason, next_command, infrastructure, done)
        return Result(Outcome.ROLLED_BACK, final, step.name, reason,
                      f"python -m release status --stack {self.ctx.stack}; fix {record.version} and release again",
                      infrastructure, done)


def _ended_elsewhere(exc: records.ReleaseEndedError, record: ReleaseRecord, step: str, done: int) -> Result:
    """The driver stopped because another shell ended or changed its release: say who and how; write nothing."""
    outcome = exc.outcome if exc.outcome in (Outcome.PROMOTED, Outcome.ROLLED_BACK) else Outcome.ABORTED
    final = exc.stored if exc.stored is not None and exc.stored.id == record.id else record
    why = f"{exc.what}: {exc.why}"
    if final.outcome is None and (exc.stored is None or exc.stored.id == record.id) and exc.stored is not None:
        # Not ended: the release is where its record says, and nobody drives it from here.
        why += f"; stopped; the release is still at {final.weight}%"
    return Result(outcome, final, step, why, exc.next_command, False, done)


def _explain(exc: Exception, stack: str) -> tuple[str, str, str]:
    if isinstance(exc, ClientError):
        return f"AWS {exc.operation_name}", str(exc), f"retry, or check AWS; then python -m release status --stack {stack}"
    if isinstance(exc, (StepFailure, AwsError, EngineError, records.ReleaseEndedError)):
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


def abort(
    ctx: Context, record: ReleaseRecord, reason: str, timing: Timing | None = None, *, by: str | None = None, exact: bool = False,
) -> ReleaseRecord:
    """Send the candidate back to 0 in one update, verified; record the release as aborted (old state or new, never half).

    ``exact`` is for the driver aborting its own release; a command from another
    shell passes the record it just read and wins over the driver.
    """
    if record.strategy is Strategy.ROLLING:
        if is_rollback(record):
            # A rolling rollback's own record names the version it rolled away from as ``previous``: "aborting" it would
            # put that version back. The rollback run again finishes it instead (release/rollback/rolling.py).
            msg = "abort"
            raise RefusedError(msg, f"{record.id} is a rollback to {record.version} on {record.colour} that did not finish; "
                               f"aborting it would put {record.previous} back", f"python -m release rollback --stack {ctx.stack}")
        # Nothing to shift back: the live colour goes back to the old version, verified (release/strategies/rolling.py).
        return roll_back(ctx, record, reason, RollingRunner(ctx, timing or Timing()), ecs_rolls_back=False,
                         outcome=Outcome.ABORTED, by=by or ctx.by, exact=exact)
    base = ctx.engine.get_config()
    config = release_config(base, ctx.stack)

    def changes(values: Mapping[str, str]) -> dict[str, str]:
        # Decided from the release state the abort's compare-and-set write is made on, not from an earlier read:
        # a driver that scaled or shifted the candidate in between is undone too.
        now = release_config({**base, **values}, ctx.stack)
        found = {"release:canaryWeight": "0"} if now.canary_weight != 0 else {}
        if now.candidate_tasks:
            # The candidate's extra tasks go with the release; the abort's update is targeted at the listener, so they
            # are scaled down by the next full update.
            found[CANDIDATE_TASKS] = "0"
        return found

    outputs = ctx.engine.outputs()

    def targets(decided: Mapping[str, str]) -> list[str] | None:
        moved = "release:canaryWeight" in decided
        return [str(outputs["listener_urn"])] if moved and outputs.get("listener_urn") else None

    runner = StepRunner(ctx, timing or Timing())
    if timing is not None:
        timing.events.append((ctx.clock.monotonic(), "abort-update"))
    final = runner.end(
        record, Outcome.ABORTED, changes,
        f"abort release {record.id} of {record.version}: {reason}", targets, lambda: runner.verify(config.candidate, 0),
        by=by or ctx.by, exact=exact, reason=reason,
    )
    ctx.reporter.note(f"aborted: {config.candidate} back to 0%, {config.live} serves 100%")
    return final


def promote_now(ctx: Context, record: ReleaseRecord) -> ReleaseRecord:
    """Make the candidate of the release in progress live at once, verified; only once it passed its checks.

    A release killed before its candidate was deployed, migrated (when planned)
    and smoke-tested has not earned traffic: promoting it would put an unchecked
    version live.
    """
    missing = []
    if not records.reached(record, Phase.DEPLOYED):
        missing.append("deploy")
    if record.migration is not None and record.migration.exit_code != 0:
        missing.append(f"the migration (task {record.migration.task} exited {record.migration.exit_code})")
    if not records.reached(record, Phase.SMOKE_TESTED):
        missing.append("the candidate smoke test")
    if missing:
        msg = "promote"
        raise StepFailure(
            msg, f"release {record.id} of {record.version} has not passed {', '.join(missing)} (last verified phase: {record.phase})",
            f"`python -m release resume --stack {ctx.stack}` runs what is left; `python -m release abort --stack {ctx.stack}` ends it",
        )
    return CanaryRunner(ctx, Timing()).promote(Colour(record.colour), record, by=ctx.by, exact=False)
