"""The running driver against another shell's writes: what it keeps, what it gives up, and what it says.

A record with the same id, no ending mark and this driver's lease is still the driver's (another shell's ending
failed and put it back); anything else stops the driver, with its lease released and the release's state said.
A write that lost its compare-and-set is never taken for a written one, and a command holding an older record
never acts on a release that replaced it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from components.config.release_record import Outcome
from rehearsal.world.seams import ScheduledClock
from release.clock import ManualClock
from release.engine import EngineError, StackBusyError
from release.rollback import fast
from release.rollback.fast import RollbackRefusedError
from release.rollback.resume import resume
from release.state import record as records
from release.strategies.capacity import CANDIDATE_TASKS
from release.strategies.executor import abort, promote_now
from tests.stack_world import Notes, World, lease_taken_by, release, world


def _bob(w: World) -> Any:
    return replace(w.ctx, by="bob@desk")


def _after_update(w: World, text: str, action: Callable[[], object]) -> None:
    """Run ``action`` (another shell) right after the first update whose message holds ``text``."""
    original = w.stack.update
    done: list[bool] = []

    def update(message: str, targets: Any = None) -> Any:
        found = original(message, targets)
        if text in message and not done:
            done.append(True)
            action()
        return found

    w.stack.update = update  # type: ignore[method-assign]


def _before_update(w: World, text: str, action: Callable[[], object]) -> None:
    """Run ``action`` (another shell) while the first update whose message holds ``text`` holds the stack."""
    original = w.stack.update
    done: list[bool] = []

    def update(message: str, targets: Any = None) -> Any:
        if text in message and not done:
            done.append(True)
            w.stack.busy_with = "alice@laptop (the driver's update)"
            try:
                action()
            finally:
                w.stack.busy_with = None
        return original(message, targets)

    w.stack.update = update  # type: ignore[method-assign]


def _updates(w: World, text: str) -> list[str]:
    return [u["message"] for u in w.stack.issued if text in u["message"]]


# --- a write that lost its compare-and-set is not taken for written -------------------------------------


def test_a_driver_write_overtaken_by_an_abort_stops_the_driver_instead_of_passing_for_written(session: Any) -> None:
    w = world(session)
    original = w.stack.write_release
    overtaken: list[bool] = []

    def write_release(changes: Any, removals: Any, expect_etag: str) -> str:
        held = records.in_progress(w.stack)
        if not overtaken and held is not None and changes.get("release:canaryWeight") == "95":
            # Between the driver's read and its write of the last step (95%: live keeps the 5% control share, the
            # write before that update), bob aborts.
            overtaken.append(True)
            abort(_bob(w), held, "bob saw errors", by="bob@desk")
        return original(changes, removals, expect_etag)

    w.stack.write_release = write_release  # type: ignore[method-assign]
    result = release(w, "v2")
    assert overtaken, "the abort got in between a read and a write of the driver"
    assert result.outcome is Outcome.ABORTED
    assert result.why is not None
    assert "aborted elsewhere: bob@desk" in result.why
    assert not _updates(w, "95% to green"), "the driver did not go on to the update as if its write had been made"
    assert w.stack.served() == {"blue": 100, "green": 0}
    assert w.stack.release_config().in_progress is None


def test_an_abort_marks_the_record_as_stored_so_a_step_the_driver_verified_meanwhile_is_kept(session: Any) -> None:
    w = world(session)
    release(w, "v2", until_weight=25)
    bobs = records.in_progress(w.stack)
    # The driver (resumed elsewhere) verifies 50% after bob read the record.
    assert bobs is not None
    records.commit(w.stack, bobs, records.advance(bobs, weight=50), {"release:canaryWeight": "50"})
    w.stack.update("release: 50% to green")
    abort(_bob(w), bobs, "bob aborts", by="bob@desk")
    last = w.stack.release_config().last_release
    assert (last.outcome, last.highest_weight) == (Outcome.ABORTED, 50), "the record says how far the candidate got"
    assert w.stack.served() == {"blue": 100, "green": 0}


# --- a command holding an older record never acts on the release that replaced it ------------------------

STALE_COMMANDS: dict[str, Callable[[Any, Any], object]] = {
    "abort": lambda ctx, held: abort(ctx, held, "bob aborts", by="bob@desk"),
    "promote": promote_now,
    "rollback": lambda ctx, held: fast._abort_canary(ctx, held, "bob rolls back"),  # noqa: SLF001 - the rollback of a release in progress
}


@pytest.mark.parametrize("command", list(STALE_COMMANDS))
def test_a_command_holding_an_older_release_refuses_the_release_now_in_progress(session: Any, command: str) -> None:
    w = world(session)
    release(w, "v2", until_weight=25)
    older = records.in_progress(w.stack)
    assert older is not None
    abort(w.ctx, older, "alice aborts")
    w.clock.sleep(60)
    release(w, "v3", until_weight=25)
    now = records.in_progress(w.stack)
    assert now is not None
    served, before = w.stack.served(), w.stack.get_config()
    w.stack.issued.clear()
    with pytest.raises(records.ReleaseEndedError) as caught:
        STALE_COMMANDS[command](_bob(w), older)
    assert f"replaced by release {now.id} of v3, started by alice@laptop" in caught.value.why
    assert w.stack.get_config() == before, "nothing was written"
    assert w.stack.issued == []
    assert w.stack.served() == served


# --- the lease is renewed through a bake longer than the lease -------------------------------------------


def test_a_bake_longer_than_the_lease_keeps_it_fresh_and_resume_elsewhere_is_refused_throughout(session: Any) -> None:
    w = world(session, clock=ScheduledClock())
    clock = w.clock
    assert isinstance(clock, ScheduledClock)
    bake = records.LEASE + timedelta(minutes=10)
    tries: list[str] = []

    def carol_resumes() -> None:
        held = records.in_progress(w.stack)
        assert held is not None
        assert held.lease is not None
        tries.append(f"{(clock.now() - held.lease.renewed_at).total_seconds():.0f}")
        with pytest.raises(RollbackRefusedError) as caught:
            resume(replace(w.ctx, by="carol@ci"))
        assert "is being driven by alice@laptop" in caught.value.why
        tries.append("refused")

    def arm() -> None:
        for minute in (records.LEASE.total_seconds() / 60 + 1, records.LEASE.total_seconds() / 60 + 8):
            clock.at(clock.monotonic() + minute * 60, carol_resumes)

    _after_update(w, "25% to green", arm)
    # A poll a minute: the bake renews at its polls, and three 45-minute bakes judged every 10 s cost a minute of CPU.
    # Two steps: carol tries in the first bake; each later 45-minute bake only judges more minutes (12 s of CPU with
    # the stack's three steps, 6 s with two).
    result = release(w, "v2", bake_minutes=bake.total_seconds() / 60, poll_seconds=60.0, steps=(25, 100))
    assert result.outcome is Outcome.PROMOTED, result.why
    assert tries[1::2] == ["refused", "refused"], "carol was refused past the lease's length into the bake"
    assert all(float(age) <= records.RENEW_AFTER.total_seconds() + 60 for age in tries[0::2]), tries


def test_a_migration_that_runs_its_whole_timeout_keeps_the_lease_fresh_and_resume_elsewhere_is_refused(session: Any) -> None:
    # The migration writes nothing for up to 30 minutes (release/strategies/steps.py Migrate.timeout_seconds): with the
    # lease last renewed before it, a shell whose clock runs 6 minutes ahead would see it past the 35-minute lease,
    # watch an unchanging record and take over a live driver. The driver renews between the task's reads.
    w = world(session)
    seen: list[str] = []

    def carol_resumes() -> None:
        if seen:
            return  # once: a resume that took over would run the migration again
        held = records.in_progress(w.stack)
        assert held is not None
        assert held.lease is not None
        seen.append(f"lease {(w.clock.now() - held.lease.renewed_at).total_seconds():.0f}s old")
        # Carol's clock runs ahead and does not move with the driver's: a watch there sees no write.
        carol = replace(w.ctx, by="carol@ci", clock=ManualClock(w.clock.now() + timedelta(minutes=6)))
        with pytest.raises(RollbackRefusedError) as caught:
            resume(carol)
        assert "is being driven by alice@laptop" in caught.value.why
        seen.append("refused")

    w.ctx.runner = replace(w.runner, clock=w.clock, seconds=1800.0, during=carol_resumes)
    result = release(w, "v2")
    assert result.outcome is Outcome.PROMOTED, result.why
    assert seen[1:] == ["refused"], seen
    assert float(seen[0].split()[1].rstrip("s")) <= records.RENEW_AFTER.total_seconds() + 10, seen


# --- another shell's failed ending leaves the release to its driver; anything else stops it, truthfully ----


def test_an_abort_that_fails_on_the_busy_stack_during_a_shift_leaves_the_driver_driving(session: Any) -> None:
    w = world(session)
    failed: list[str] = []

    def bob_aborts() -> None:
        with pytest.raises(StackBusyError):
            abort(_bob(w), records.in_progress(w.stack), "bob aborts", by="bob@desk")
        failed.append("busy")

    _before_update(w, "50% to green", bob_aborts)
    result = release(w, "v2")
    assert failed == ["busy"]
    assert result.outcome is Outcome.PROMOTED, result.why
    assert result.why is None
    assert w.stack.served() == {"blue": 0, "green": 100}
    assert w.stack.release_config().in_progress is None
    assert w.stack.release_config().last_release.outcome is Outcome.PROMOTED


def _mark_then(w: World, put_back_after: float | None) -> list[Any]:
    """20 s into the first bake bob marks the release as being aborted; ``put_back_after`` seconds later his abort fails.

    Returns the list the marked record is put in once written.
    """
    clock = w.clock
    assert isinstance(clock, ScheduledClock)
    marks: list[Any] = []

    def bob_marks() -> None:
        held = records.in_progress(w.stack)
        assert held is not None
        marked = records.commit(w.stack, held, lambda stored: records.ending(stored or held, Outcome.ABORTED, "bob@desk", clock),
                                exact=False)
        assert marked is not None
        marks.append(marked)
        if put_back_after is not None:
            clock.at(clock.monotonic() + put_back_after,
                     lambda: records.commit(w.stack, marked, marked.model_copy(update={"ending": None})))

    _after_update(w, "25% to green", lambda: clock.at(clock.monotonic() + 20, bob_marks))
    return marks


def test_a_mark_put_back_while_the_driver_waits_leaves_the_release_to_the_driver(session: Any) -> None:
    w = world(session, clock=ScheduledClock())
    _mark_then(w, put_back_after=90)
    result = release(w, "v2", poll_seconds=10)
    assert result.outcome is Outcome.PROMOTED, result.why
    assert result.why is None
    assert w.stack.served() == {"blue": 0, "green": 100}


def test_a_mark_that_stays_stops_the_driver_which_says_where_the_release_is_and_gives_up_nothing_it_should_not(
    session: Any,
) -> None:
    w = world(session, clock=ScheduledClock())
    marks = _mark_then(w, put_back_after=None)
    result = release(w, "v2", poll_seconds=10)
    assert result.outcome is Outcome.ABORTED
    assert result.why is not None
    assert "being aborted elsewhere: bob@desk" in result.why
    assert result.why.endswith("stopped; the release is still at 25%")
    assert result.next_command == "python -m release status --stack staging"
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.ending is not None, "bob's mark stays: his abort, run again, finishes it"
    assert held == marks[0], "the driver wrote nothing on the marked record: not even its lease's release"
    assert w.stack.served() == {"blue": 75, "green": 25}
    assert not _updates(w, "50% to green")


def test_a_release_taken_over_elsewhere_stops_the_driver_which_says_where_the_release_is(session: Any) -> None:
    w = world(session, clock=ScheduledClock())
    clock = w.clock
    assert isinstance(clock, ScheduledClock)

    carol_takes_the_lease = lease_taken_by(w, "carol@ci (pid 99)")

    _after_update(w, "25% to green", lambda: clock.at(clock.monotonic() + 20, carol_takes_the_lease))
    result = release(w, "v2", poll_seconds=10)
    assert result.why is not None
    assert "its record was changed by carol@ci (pid 99)" in result.why
    assert result.why.endswith("stopped; the release is still at 25%")
    assert (result.failed_step, result.steps_done) == ("bake", 6), "shift to 25% done, its bake stopped"
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.lease is not None
    assert held.lease.holder == "carol@ci (pid 99)", "the driver left carol's lease alone"


# --- a driver that stops after a failed step or abort releases its lease --------------------------------


def test_a_driver_whose_abort_failed_releases_its_lease_so_resume_can_take_over_at_once(session: Any) -> None:
    w = world(session)
    w.ctx.thresholds = None
    original = w.stack.update

    def fails_from_50(message: str, targets: Any = None) -> Any:
        if "50% to green" in message or "abort" in message:
            w.stack.busy_with = "carol@ci"
        return original(message, targets)

    w.stack.update = fails_from_50  # type: ignore[method-assign]
    result = release(w, "v2")
    assert result.outcome is Outcome.ABORTED
    assert result.why is not None
    assert "then the abort failed" in result.why
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.lease is None, "nobody drives the release, and its record says so"
    w.stack.busy_with = None
    w.stack.update = original  # type: ignore[method-assign]
    assert resume(replace(w.ctx, by="dave@desk")).outcome is Outcome.PROMOTED


def test_a_driver_that_cannot_release_its_lease_says_it_stays_until_it_expires(session: Any) -> None:
    w = world(session)
    w.ctx.thresholds = None
    reporter = Notes()
    w.ctx.reporter = reporter
    original_update, original_write = w.stack.update, w.stack.write_release

    def fails_from_50(message: str, targets: Any = None) -> Any:
        if "50% to green" in message or "abort" in message:
            w.stack.busy_with = "carol@ci"
        return original_update(message, targets)

    def loses_the_lease_write(changes: Any, removals: Any, expect_etag: str) -> str:
        written = records.decode(changes.get(records.IN_PROGRESS))
        if written is not None and written.lease is None:
            msg = "writing the release state"
            raise EngineError(msg, "ESC answered 503", "try again")
        return original_write(changes, removals, expect_etag)

    w.stack.update = fails_from_50  # type: ignore[method-assign]
    w.stack.write_release = loses_the_lease_write  # type: ignore[method-assign]
    result = release(w, "v2")
    assert result.why is not None
    assert "then the abort failed" in result.why
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.lease is not None
    assert reporter.notes[-1] == (
        f"the lease on release {held.id} stays until it expires: writing the release state: ESC answered 503"
    )


# --- abort decides from the state its compare-and-set write is made on -------------------------------


def test_an_abort_that_read_before_the_driver_scaled_the_candidate_scales_it_back_too(session: Any) -> None:
    w = world(session)
    release(w, "v2", until_weight=25)
    original = w.stack.outputs
    scaled: list[bool] = []

    def outputs() -> Any:
        if not scaled:
            # After the abort read the config, the driver scales the candidate for its next share.
            scaled.append(True)
            held = records.in_progress(w.stack)
            records.commit(w.stack, held, held, {CANDIDATE_TASKS: "2"})
        return original()

    w.stack.outputs = outputs  # type: ignore[method-assign]
    abort(_bob(w), records.in_progress(w.stack), "bob aborts", by="bob@desk")
    assert scaled
    assert w.stack.get_config().get(CANDIDATE_TASKS) == "0", "the candidate's extra tasks go with the aborted release"


# --- a shell whose clock runs ahead does not take over a live driver -------------------------------------


class AheadClock(ManualClock):
    """Another shell's clock, ``ahead`` in front of the driver's; while it sleeps, ``meanwhile`` runs (the live driver)."""

    def __init__(self, driver: ManualClock, ahead: timedelta, meanwhile: Callable[[], None]) -> None:
        super().__init__(driver.now() + ahead)
        self.driver, self.meanwhile = driver, meanwhile

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        self.driver.sleep(seconds)
        self.meanwhile()


def _driven_by_alice(w: World) -> Any:
    release(w, "v2", until_weight=25)
    held = records.in_progress(w.stack)
    assert held is not None
    return records.commit(w.stack, held, records.leased(held, "alice@laptop (pid 4242)", w.clock))


def test_a_shell_whose_clock_is_40_minutes_ahead_does_not_take_over_a_driver_that_renews(session: Any) -> None:
    w = world(session)
    held = [_driven_by_alice(w)]

    def alice_renews() -> None:
        # The live driver renews its lease once it is RENEW_AFTER old by its own clock.
        lease = held[0].lease
        if lease is not None and w.clock.now() - lease.renewed_at >= records.RENEW_AFTER:
            held[0] = records.commit(w.stack, held[0], records.leased(held[0], "alice@laptop (pid 4242)", w.clock))

    carol = replace(w.ctx, by="carol@ci", clock=AheadClock(w.clock, timedelta(minutes=40), alice_renews))
    before = w.stack.served()
    with pytest.raises(RollbackRefusedError) as caught:
        resume(carol)
    assert "is being driven by alice@laptop (pid 4242): its record changed while this shell watched it" in caught.value.why
    assert "check this machine's clock" in caught.value.next_command
    assert records.in_progress(w.stack).lease.holder == "alice@laptop (pid 4242)"  # type: ignore[union-attr]
    assert w.stack.served() == before


def test_a_lease_nobody_renews_is_taken_over_after_the_watch(session: Any) -> None:
    w = world(session)
    _driven_by_alice(w)
    carol = replace(w.ctx, by="carol@ci", clock=AheadClock(w.clock, timedelta(minutes=40), lambda: None))
    assert resume(carol).outcome is Outcome.PROMOTED


