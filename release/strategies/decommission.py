"""Verified decommission: the previous live colour stays as the backup until the new live has proved itself.

After a promotion the old colour keeps the tasks it ran (``release:candidateTasks``,
set by the promotion) for ``release:backupMinutes``, so the fast rollback is one
listener update to a colour that is already serving-sized. During that window the
driver reads, every poll, the new live colour's target health (registered, healthy
targets and a service running its count) and its release alarms. A CloudWatch
alarm changes state only when it is evaluated, once per period (CloudWatch User
Guide, "Using Amazon CloudWatch alarms", "Evaluating an alarm"); the stack's
periods are ``monitoring:periodSeconds``, 60 by default and never under 10
(``components/config/monitoring.py``), so a poll every 10 s (the driver's
``--poll`` default) sees every ALARM state.

- All well for the whole window: ONE compare-and-set write of the release state
  (the old colour's count back to standby and the record's ``backup`` saying
  ``scaling-down``), only if the last release is still this one and its colour
  still live, then one stack update, then the record says ``scaled-down``. If that
  update fails, the count and the record are put back: the old state or the new
  one holds. Killed between the write and the update's end, the record says
  ``scaling-down`` while the old colour still runs its tasks, and ``status`` says so.
- Unhealthy or an alarm: nothing is scaled down. The record's ``backup`` says why
  (kept), the release ends with exit 1 and points at ``release rollback``.
- Somebody else moved on meanwhile (a rollback, another release): nothing is
  written; the step says what it found.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from components.config import Colour, load
from components.config.release_record import Backup, BackupState, ReleaseRecord
from release.aws.base import wait_until
from release.context import Context
from release.engine import EngineError
from release.judgement.analysis import alarm_names
from release.state import record as records
from release.strategies.capacity import CANDIDATE_TASKS
from release.strategies.failure import StepFailure
from release.strategies.steps import Retire

Health = Callable[[Colour], tuple[bool, str]]
"""A colour's health: registered, healthy targets and a service running its count (``StepRunner.healthy``)."""
Update = Callable[[str], None]
"""One recorded stack update (``StepRunner._update``)."""


def retire(
    ctx: Context, step: Retire, record: ReleaseRecord, healthy: Health, update: Update,
    end_control: Callable[[ReleaseRecord], ReleaseRecord] | None = None,
) -> ReleaseRecord:
    """Watch the new live colour through the backup window; scale the old one down only if it stayed well.

    ``end_control``: the old colour still serves the control share (``release:controlWeight``); once the window passed
    well it goes to the new live colour, verified, before anything is scaled down.
    """
    old, live = step.colour, step.colour.other
    try:
        wait_until(lambda: healthy(live), ctx.clock, what=f"{live} running its live count",
                   timeout=step.timeout_seconds, interval=15)
    except Exception as exc:
        why = f"{live} has not scaled: {getattr(exc, 'why', exc)}"
        kept = _keep(ctx, record, old, why, ctx.clock.now())
        msg = f"scaling {old} down"
        raise StepFailure(msg, f"{why}; {old} keeps its tasks as the backup", _rollback(ctx.stack, live, old), record=kept) from exc
    until = ctx.clock.now() + timedelta(seconds=step.backup_seconds)
    started = ctx.clock.monotonic()
    alarms = alarm_names(ctx.engine.outputs(), live)
    polls = 0
    while True:
        _still_live(ctx, record, live)
        problem = _problem(ctx, live, alarms, healthy)
        polls += 1
        if problem:
            kept = _keep(ctx, record, old, f"{problem} during the backup window", until)
            msg = f"backup window after release {record.id}"
            raise StepFailure(
                msg, f"{problem}; {old} keeps running {record.previous} as the backup and was not scaled down",
                _rollback(ctx.stack, live, old), record=kept,
            )
        remaining = step.backup_seconds - (ctx.clock.monotonic() - started)
        if remaining <= 0:
            break
        ctx.clock.sleep(min(step.poll_seconds, remaining))
    why = (f"{live} stayed healthy with no release alarm for {step.backup_seconds / 60:g} min ({polls} reads)"
           if step.backup_seconds else f"{live} runs its live count (release:backupMinutes is 0)")
    if end_control is not None:
        record = end_control(record)
    return _scale_down(ctx, record, old, live, until, why, update)


def _rollback(stack: str, live: Colour, old: Colour) -> str:
    return (f"`python -m release rollback --stack {stack}` puts {old} live again in one listener update; "
            f"`python -m release status --stack {stack}` shows {live}'s alarms and targets")


def _problem(ctx: Context, live: Colour, alarms: list[str], healthy: Health) -> str | None:
    """Why the new live colour is not well right now, or None."""
    ok, state = healthy(live)
    if not ok:
        return f"the new live colour {live} is not healthy: {state}"
    if alarms:
        firing = sorted(n for n, s in ctx.aws.cloudwatch.alarm_states(alarms).items() if s == "ALARM")
        if firing:
            return f"release alarms of {live} in ALARM: {', '.join(firing)}"
    return None


def _still_live(ctx: Context, record: ReleaseRecord, live: Colour) -> None:
    """The release must still be the last one and its colour live; otherwise somebody moved on: stop, write nothing."""
    values, _ = ctx.engine.read_release()
    last = records.decode(values.get(records.LAST_RELEASE))
    now_live = values.get("release:live")
    if last is None or last.id != record.id or (now_live is not None and now_live != live.value):
        found = f"the last release is now {last.id} ({last.outcome})" if last else "no last release is recorded"
        msg = f"backup window after release {record.id}"
        raise StepFailure(msg, f"{found}, live is {now_live}: somebody moved on, so nothing was scaled down",
                          f"python -m release status --stack {ctx.stack}")


def _live_is(live: Colour, stack: str) -> Callable[[dict[str, str]], None]:
    """The check ``records.commit`` runs on the config it would write: the colour watched must still be live."""

    def check(merged: dict[str, str]) -> None:
        now_live = load(merged, stack).release.live
        if now_live is not live:
            msg = "scaling the backup down"
            raise StepFailure(msg, f"{now_live} is live now, not {live}: nothing was scaled down",
                              f"python -m release status --stack {stack}")

    return check


def _with_backup(ctx: Context, record: ReleaseRecord, old: Colour, state: BackupState, why: str, until: datetime) -> ReleaseRecord:
    backup = Backup(colour=old, until=until, state=state, at=ctx.clock.now(), why=why[:500])
    return record.model_copy(update={"backup": backup})


def _scale_down(ctx: Context, record: ReleaseRecord, old: Colour, live: Colour, until: datetime, why: str,
                update: Update) -> ReleaseRecord:
    """ONE compare-and-set write (count back to standby, record says so), then one update; put back if it fails."""
    before = ctx.engine.get_config()
    if before.get(CANDIDATE_TASKS, "0") == "0":
        # No extra tasks were kept (no ECS services, or already standby): nothing to scale.
        return record
    # The record says "scaling-down" until the update has applied: a driver killed between the write and the update
    # leaves the old colour running its tasks, and the record must not say they are gone (status names what finishes it).
    scaling = _with_backup(ctx, record, old, BackupState.SCALING_DOWN, why, until)
    done = _with_backup(ctx, record, old, BackupState.SCALED_DOWN, why, until)
    try:
        records.commit(ctx.engine, None, None, {records.LAST_RELEASE: records.encode(scaling), CANDIDATE_TASKS: "0"},
                       check=_live_is(live, ctx.stack), expect_last=record.id)
    except records.ReleaseEndedError as exc:
        msg = f"scaling {old} down"
        raise StepFailure(msg, f"{exc.why}: nothing was scaled down", exc.next_command) from exc
    try:
        update(f"release {record.id}: after the backup window, scale {old} down to its standby count")
    except (EngineError, KeyboardInterrupt) as exc:
        undo = _with_backup(ctx, record, old, BackupState.KEPT, f"the scale-down's update failed: {exc}", until)
        try:
            records.commit(ctx.engine, None, None, {records.LAST_RELEASE: records.encode(undo),
                                                    CANDIDATE_TASKS: before[CANDIDATE_TASKS]}, expect_last=record.id)
        except Exception as second:  # noqa: BLE001 - the first failure is the one raised; this one is reported
            ctx.reporter.note(f"could not put the backup's count back after the failed update: {second}")
        raise
    try:
        records.commit(ctx.engine, None, None, {records.LAST_RELEASE: records.encode(done)}, expect_last=record.id)
    except (records.ReleaseEndedError, EngineError) as exc:
        ctx.reporter.note(f"{old} was scaled down, but the record still says scaling-down: {exc}")
        return scaling
    ctx.reporter.note(f"{why}: {old} scaled down to its standby count")
    return done


def _keep(ctx: Context, record: ReleaseRecord, old: Colour, why: str, until: datetime) -> ReleaseRecord:
    """Record that the backup was kept and why (compare-and-set); the count stays as it is."""
    kept = _with_backup(ctx, record, old, BackupState.KEPT, why, until)
    try:
        records.commit(ctx.engine, None, None, {records.LAST_RELEASE: records.encode(kept)}, expect_last=record.id)
    except (records.ReleaseEndedError, EngineError) as exc:
        ctx.reporter.note(f"the backup stays; could not record why ({exc})")
        return record
    return kept
