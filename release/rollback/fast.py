"""The fast rollback: one stack update, targeted at the listener, then verified.

During a canary the candidate goes back to 0 (the abort of the release in
progress). After a promotion, while the previous colour still runs the previous
version, ``release:live`` goes back to it. Either way the listener is the only
resource the update touches when the stack exports its URN, and the driver then
confirms what the listener serves. Nothing is deleted: the colour rolled away
from keeps running its version, and every snapshot stays.

When the previous colour was scaled down after its backup window, it is scaled
back up to the count live runs and must run it, healthy, before the listener
moves (bounded; refused with nothing moved otherwise). When it was given
another version, flipping back would serve the wrong version; the way back is
then a release of the previous version (``--to-version``).
"""

from __future__ import annotations

from collections.abc import Sequence

from components.config import ConfigError, ReleaseConfig, Strategy, load
from components.config.release_record import Outcome, ReleaseRecord
from release.aws.base import wait_until
from release.context import Context
from release.engine import HistoryEntry
from release.rollback.common import (
    RollbackRefusedError,
    RollbackResult,
    check_config,
    current_release,
    last_promoted,
    rollback_record,
    served,
    touched,
    updates,
)
from release.rollback.rolling import rolling_rollback
from release.state import record as records
from release.strategies.capacity import CANDIDATE_TASKS
from release.strategies.executor import abort
from release.strategies.runner import StepRunner
from release.strategies.timing import Timing

__all__ = ["RollbackRefusedError", "RollbackResult", "current_release", "fast_rollback", "version_serving"]

SCALE_UP_TIMEOUT = 600.0
"""Seconds a scaled-down previous colour may take to run its tasks again and pass health checks (a deploy's timeout)."""


def version_serving(history: Sequence[HistoryEntry], version: str, stack: str) -> int | None:
    """The newest stack version at which the live colour ran ``version`` with no canary traffic."""
    for entry in history:
        if entry.result != "succeeded":
            continue
        try:
            release = load(entry.config, stack).release
        except ConfigError:
            continue
        if release.versions.of(release.live) == version and release.canary_weight == 0:
            return entry.version
    return None


def fast_rollback(ctx: Context, reason: str = "") -> RollbackResult:
    """Undo the release in progress, or the last promotion, in one verified update."""
    release = current_release(ctx)
    why = reason or f"rolled back by {ctx.by}"
    if release.strategy is Strategy.ROLLING:
        # No second colour serves a rolling stack: the previous version goes back on the live one (release/rollback/rolling.py).
        return rolling_rollback(ctx, release, why)
    if release.in_progress is not None:
        return _abort_canary(ctx, release.in_progress, why)
    last = last_promoted(
        release, ctx.stack,
        f"python -m release history --stack {ctx.stack}, then `python -m release rollback --stack {ctx.stack} --to-version N`",
    )
    return _flip_back(ctx, release, last, why)


def _abort_canary(ctx: Context, running: ReleaseRecord, why: str) -> RollbackResult:
    before = updates(ctx)
    if running.ending is not None and running.ending.outcome is Outcome.ROLLED_BACK:
        # A rollback killed before it finished: finish that one.
        return _finish_flip(ctx, running, why, before)
    final = abort(ctx, running, why)
    weights = served(ctx)
    release = current_release(ctx)
    return RollbackResult(
        "aborted", release.live, release.versions.of(release.live), weights, final,
        updates=updates(ctx) - before, touched=touched(ctx),
        notes=(f"{running.colour} keeps running {running.version} with no traffic",),
    )


def _flip_back(ctx: Context, release: ReleaseConfig, last: ReleaseRecord, why: str) -> RollbackResult:
    current, previous = release.live, release.live.other
    to_version = f"python -m release rollback --stack {ctx.stack} --to-version N"
    if current is not last.colour:
        msg = "rollback"
        raise RollbackRefusedError(
            msg, f"the last release put {last.version} on {last.colour}, but {current} is live now: it was already rolled back",
            f"python -m release history --stack {ctx.stack}",
        )
    running = release.versions.of(previous)
    if running != last.previous:
        msg = "rollback"
        raise RollbackRefusedError(
            msg, f"{previous} runs {running} now, not {last.previous} (what it served before release {last.id})",
            _to_version_hint(ctx, last.previous, to_version),
        )
    before = updates(ctx)
    _ready(ctx, StepRunner(ctx, Timing()), release, last, _to_version_hint(ctx, last.previous, to_version))
    record = rollback_record(ctx, last, previous, why)
    changes = {"release:live": previous.value, "release:canaryWeight": "0"}
    check_config(ctx, changes)
    return _finish_flip(ctx, record, why, before, changes=changes, last=last)


def _ready(ctx: Context, runner: StepRunner, release: ReleaseConfig, last: ReleaseRecord, hint: str) -> None:
    """The previous colour must run as many tasks as live runs now, healthy, before any traffic moves to it.

    After the backup window it runs its standby count (0 allowed): it is scaled back
    up first (``release:candidateTasks``, compare-and-set, then one update) and
    waited for, bounded; if it does not get healthy, no traffic moves.
    """
    current, previous = release.live, release.live.other
    needed = runner.running(current)
    running = runner.running(previous)
    if needed is not None and running is not None and running < needed:
        if release.candidate_tasks < needed:
            try:
                records.commit(ctx.engine, None, None, {CANDIDATE_TASKS: str(needed)}, expect_last=last.id)
            except records.ReleaseEndedError as exc:
                msg = "rollback"
                raise RollbackRefusedError(msg, f"{exc.why}; nothing was changed", exc.next_command) from exc
            ctx.reporter.note(f"{previous} runs {running} task(s): scaling it back to the {needed} {current} runs first")
            runner._update(f"rollback: scale {previous} back to {needed} tasks before it takes traffic again")
        try:
            wait_until(lambda: runner.runs(previous, needed), ctx.clock, what=f"{previous} running {needed} healthy tasks",
                       timeout=SCALE_UP_TIMEOUT, interval=15)
        except Exception as exc:
            msg = "rollback"
            raise RollbackRefusedError(
                msg, f"{previous} was scaled back up to {needed} tasks but is not healthy after {SCALE_UP_TIMEOUT:g}s "
                f"({getattr(exc, 'why', exc)}); no traffic was moved", hint,
            ) from exc
        return
    healthy, state = runner.healthy(previous)
    if not healthy:
        msg = "rollback"
        # Scaling cannot help either way: no services to scale, or it already runs as many tasks as live.
        scale = ("and the stack exports no ECS services to scale it back up" if needed is None
                 else f"though it runs {running} task(s), as many as {current} ({needed})")
        raise RollbackRefusedError(
            msg, f"the previous colour {previous} is not healthy ({state}), {scale}: flipping to it would serve nothing", hint,
        )


def _finish_flip(
    ctx: Context, record: ReleaseRecord, why: str, before: int, *,
    changes: dict[str, str] | None = None, last: ReleaseRecord | None = None,
) -> RollbackResult:
    """Make ``record.colour`` live in one verified listener update: old state or new, never half.

    The rollback is recorded in progress (marked as being rolled back) before
    the update, so a driver or another rollback running meanwhile stops, and a
    rollback killed mid-way is finished by the next ``rollback``.
    """
    outputs = ctx.engine.outputs()
    targets = [str(outputs["listener_urn"])] if outputs.get("listener_urn") else None
    runner = StepRunner(ctx, Timing())
    live_now = record.colour.other
    reason = record.reason or why
    message = f"rollback: {record.colour} ({record.version}) live again, undoing release {last.id if last else record.previous}"
    # After the flip the colour that is not live is the one rolled away from: it must get 0.
    final = runner.end(
        record, Outcome.ROLLED_BACK, changes if changes is not None else {"release:live": record.colour.value, "release:canaryWeight": "0"},
        message, targets, lambda: runner.verify(live_now, 0), by=ctx.by, exact=False, reason=reason, new=last is not None,
        expect_last=last.id if last else None,
    )
    weights = served(ctx)
    notes = [f"{live_now} keeps running {record.previous} with no traffic"]
    if targets:
        notes.append("only the listener was updated; the next full `pulumi up` brings the test listener and outputs in line")
    return RollbackResult(
        "flipped", record.colour, record.version, weights, final, updates=updates(ctx) - before, touched=touched(ctx), notes=tuple(notes),
    )


def _to_version_hint(ctx: Context, version: str, fallback: str) -> str:
    found = version_serving(ctx.engine.history(), version, ctx.stack)
    if found is None:
        return fallback
    return f"python -m release rollback --stack {ctx.stack} --to-version {found}  (stack version {found} served {version})"


