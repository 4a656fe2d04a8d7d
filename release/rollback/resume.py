"""Continue an interrupted release from its last verified step, or end it.

The record in ``release:inProgress`` says how far the release got: its phase,
the snapshot it took, the migration it ran and the last weight the listener was
*verified* to serve. A release killed mid-shift may have written a higher
weight to config without applying or verifying it; resuming therefore sets the
last verified weight again (set, then verify), bakes it afresh, and carries on
with the remaining steps. Steps already verified (backup, deploy, migration,
smoke test) are not repeated.

An interrupt (Ctrl-C, SIGTERM) never moves traffic: the weights stay as last
verified and the two ways on are printed.

A release still driven elsewhere is not resumed: while its lease is fresh (the
driver renews it as it goes), ``resume`` refuses and names the holder and when
they last renewed it. A release being ended by a command from another shell is
finished by running that command again, not resumed.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from components.config import Strategy
from components.config.release_record import Outcome, Phase, ReleaseRecord
from release.context import Context
from release.rollback.fast import RollbackRefusedError, current_release
from release.state import record as records
from release.strategies.executor import Executor, Result, abort
from release.strategies.planner import ReleaseOptions, plan_release
from release.strategies.steps import Backup, Bake, Deploy, Migrate, Preflight, Shift, Smoke, Step

reached = records.reached
WATCH_POLL = 15.0
"""Seconds between two reads of a record whose lease is being watched."""


def remaining(steps: list[Step], record: ReleaseRecord) -> list[Step]:
    """The steps of the release still to run, given what its record says was verified."""
    left: list[Step] = []
    for step in steps:
        if isinstance(step, Preflight):
            continue
        if isinstance(step, Backup) and record.snapshot:
            continue
        if isinstance(step, Deploy) and reached(record, Phase.DEPLOYED):
            continue
        if isinstance(step, Migrate) and record.migration is not None and record.migration.exit_code == 0:
            continue
        if isinstance(step, Smoke) and step.colour is not None and reached(record, Phase.SMOKE_TESTED):
            continue
        if isinstance(step, (Shift, Bake)) and step.weight < record.weight:
            continue
        left.append(step)
    return left


def plan_resume(ctx: Context) -> tuple[ReleaseRecord, list[Step]]:
    """The release in progress and what is left of it; a refusal when there is none."""
    release = current_release(ctx)
    record = release.in_progress
    if record is None:
        msg = "resume"
        raise RollbackRefusedError(msg, f"no release is in progress on {ctx.stack}", f"python -m release status --stack {ctx.stack}")
    refuse_if_driven(ctx, record)
    if record.strategy is Strategy.ROLLING:
        # ECS may have completed, failed or rolled the rollout back meanwhile: the way on is the verified rollback.
        msg = "resume"
        raise RollbackRefusedError(
            msg, f"release {record.id} is a rolling release of {record.version} on {record.colour}; it is not resumed",
            f"`python -m release abort --stack {ctx.stack}` puts {record.colour} back to {record.previous}, verified; then release again",
        )
    steps_source = (record.steps or release.steps) if record.strategy is Strategy.CANARY else None
    options = ReleaseOptions(version=record.version, strategy=record.strategy, steps=steps_source, bake_minutes=record.bake_minutes)
    # Planned against the config as it was before the release: the live colour and its version are unchanged until promotion.
    steps = plan_release(release, ctx.engine.outputs(), options, ctx.stack)
    return record, remaining(steps, record)


def refuse_if_driven(ctx: Context, record: ReleaseRecord) -> None:
    """Refuse while another shell is ending the release, or a driver's lease on it is fresh."""
    if record.ending is not None:
        msg = "resume"
        unfinished = records.EndingUnfinishedError.of(record, ctx.stack)
        raise RollbackRefusedError(msg, unfinished.why, unfinished.next_command)
    if record.lease is not None and not records.lease_fresh(record, ctx.clock):
        _watch(ctx, record)
    if record.lease is not None and records.lease_fresh(record, ctx.clock):
        msg = "resume"
        expires = record.lease.renewed_at + records.LEASE
        raise RollbackRefusedError(
            msg, f"release {record.id} is being driven by {record.lease.holder} (lease renewed "
            f"{record.lease.renewed_at:%Y-%m-%d %H:%M:%S} UTC, fresh until {expires:%H:%M:%S} UTC)",
            f"let it finish, or end it: python -m release abort --stack {ctx.stack}; "
            f"if that driver is gone, resume after {expires:%H:%M:%S} UTC",
        )


def _watch(ctx: Context, record: ReleaseRecord) -> None:
    """A lease that looks expired by this shell's clock is watched on this shell's own clock before it is taken over.

    The lease's time is the driver's clock; a shell whose clock runs ahead would take it for expired. A live
    driver writes its record at least every ``RENEW_AFTER`` plus one poll while it waits (bakes, watches, the backup
    window), so a record unchanged for ``WATCH`` on this shell's clock has nobody writing it; one that changed
    has a driver, and ``resume`` refuses, naming it.
    """
    assert record.lease is not None  # noqa: S101 - only a leased record is watched
    ctx.reporter.note(f"the lease of {record.lease.holder} on release {record.id} looks expired by this clock "
                      f"({record.lease.renewed_at:%Y-%m-%d %H:%M:%S} UTC); watching the record for "
                      f"{records.WATCH.total_seconds() / 60:g} min before taking it over")
    start = ctx.clock.monotonic()
    while ctx.clock.monotonic() - start < records.WATCH.total_seconds():
        ctx.clock.sleep(WATCH_POLL)
        now = records.in_progress(ctx.engine)
        if now is None or now.id != record.id or now.revision != record.revision:
            msg = "resume"
            holder = now.lease.holder if now is not None and now.lease is not None else "another shell"
            raise RollbackRefusedError(
                msg, f"release {record.id} is being driven by {holder}: its record changed while this shell watched it "
                f"(revision {record.revision} to {now.revision if now else 'gone'}), although its lease looked expired by "
                "this shell's clock",
                f"let it finish, or end it: python -m release abort --stack {ctx.stack}; check this machine's clock",
            )


def resume(ctx: Context) -> Result:
    """Run what is left of the release in progress; any failure aborts it (the candidate back to 0)."""
    record, steps = plan_resume(ctx)
    executor = Executor(ctx)
    # Take the lease first, compare-and-set: of two shells resuming at once, one wins.
    record = records.commit(ctx.engine, record, records.leased(record, executor.runner.holder, ctx.clock)) or record
    ctx.reporter.note(f"resuming release {record.id} of {record.version} at phase {record.phase}, {record.weight}% verified")
    result = executor.run(steps, record)
    if result.outcome is not Outcome.REFUSED:
        return result
    # The executor treats a failure of the first step as a refusal; here the release had already started.
    held = executor.runner.last if executor.runner.last is not None else record
    aborted = abort(ctx, held, result.why or "resume failed", exact=True)
    return Result(Outcome.ABORTED, aborted, result.failed_step, result.why, result.next_command, result.infrastructure, 0)


def interrupted_message(stack: str) -> str:
    """What a person reads after stopping a release: nothing moved, and the two ways on."""
    return (
        f"interrupted: the release on {stack} is still in progress and traffic stays at the last verified weights.\n"
        f"  continue it:  python -m release resume --stack {stack}\n"
        f"  end it:       python -m release abort --stack {stack}"
    )


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM (a killed process) stops the release the way Ctrl-C does."""
    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread: only Ctrl-C is caught
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


@contextmanager
def interruptible(stack: str, say: Callable[[str], None]) -> Iterator[None]:
    """Turn SIGTERM into an interrupt, and an interrupt into the message and ``KeyboardInterrupt`` re-raised."""
    try:
        with terminate_as_interrupt():
            yield
    except KeyboardInterrupt:
        say(interrupted_message(stack))
        raise
