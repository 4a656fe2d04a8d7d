"""``resume``'s watch of a lease that looks expired: what it says, how long it watches, and who it names when the record moved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from components.config.release_record import Outcome
from release.rollback.fast import RollbackRefusedError
from release.rollback.resume import plan_resume, refuse_if_driven, resume
from release.state import record as records
from release.strategies.executor import Executor
from release.strategies.planner import ReleaseOptions, plan_release, snapshot_id
from release.strategies.steps import Backup, Shift
from tests.release.rollback.test_resume import _interrupted
from tests.release.state.test_driver_races import AheadClock
from tests.rolling_support import rolling_world
from tests.stack_world import POLL_SECONDS, Notes, World, release, world

ALICE = "alice@laptop (pid 4242)"
# What the failed smoke test of the candidate says to do next (release/strategies/runner.py, _smoke).
NEXT = (
    "curl -i -H 'X-Release-Token: <token from release_token_secret_arn>' -H 'X-Release-Colour: green' "
    "http://live.example/health; check the candidate's logs"
)



def _leased(w: World) -> Any:
    release(w, "v2", until_weight=25)
    held = records.in_progress(w.stack)
    assert held is not None
    leased = records.commit(w.stack, held, records.leased(held, ALICE, w.clock))
    assert leased is not None
    return leased


def _carol(w: World, meanwhile: Callable[[], None]) -> Any:
    """Another shell, its clock 40 minutes ahead of the driver's and already running for 100 s."""
    clock = AheadClock(w.clock, timedelta(minutes=40), lambda: None)
    clock.sleep(100)
    clock.meanwhile = meanwhile
    return replace(w.ctx, by="carol@ci", clock=clock, reporter=Notes())


def test_a_lease_that_looks_expired_is_announced_then_watched_for_exactly_the_watch(session: Any) -> None:
    w = world(session)
    held = _leased(w)
    carol = _carol(w, lambda: None)
    start = carol.clock.monotonic()
    refuse_if_driven(carol, held)
    # RENEW_AFTER (5 min) plus two polls' worth: 7 minutes, read every 15 s
    assert carol.clock.monotonic() - start == records.WATCH.total_seconds() == 420
    assert held.lease is not None
    assert carol.reporter.notes == [
        f"the lease of {ALICE} on release {held.id} looks expired by this clock "
        f"({held.lease.renewed_at:%Y-%m-%d %H:%M:%S} UTC); watching the record for 7 min before taking it over",
    ]


def _refused(carol: Any, held: Any) -> RollbackRefusedError:
    with pytest.raises(RollbackRefusedError) as caught:
        refuse_if_driven(carol, held)
    assert caught.value.what == "resume"
    assert caught.value.next_command == (
        "let it finish, or end it: python -m release abort --stack staging; check this machine's clock"
    )
    return caught.value


def test_a_record_gone_while_watched_names_another_shell_and_says_gone(session: Any) -> None:
    w = world(session)
    held = _leased(w)

    def ended_elsewhere() -> None:
        stored = records.in_progress(w.stack)
        if stored is not None:
            done = records.finished(stored, Outcome.ABORTED, w.clock, "aborted elsewhere", "bob@desk")
            records.commit(w.stack, stored, None, {records.LAST_RELEASE: records.encode(done)}, finish=True)

    refused = _refused(_carol(w, ended_elsewhere), held)
    assert refused.why == (
        f"release {held.id} is being driven by another shell: its record changed while this shell watched it "
        f"(revision {held.revision} to gone), although its lease looked expired by this shell's clock"
    )


def test_a_record_rewritten_without_a_lease_while_watched_names_another_shell_and_its_revision(session: Any) -> None:
    w = world(session)
    held = _leased(w)

    def rewritten() -> None:
        stored = records.in_progress(w.stack)
        if stored is not None and stored.lease is not None:
            records.commit(w.stack, stored, stored.model_copy(update={"lease": None}))

    refused = _refused(_carol(w, rewritten), held)
    assert refused.why == (
        f"release {held.id} is being driven by another shell: its record changed while this shell watched it "
        f"(revision {held.revision} to {held.revision + 1}), although its lease looked expired by this shell's clock"
    )


def test_resume_takes_the_lease_before_it_says_it_resumes_and_drives_on_from_its_own_write(session: Any) -> None:
    w = _interrupted(session)
    held = records.in_progress(w.stack)
    assert held is not None
    seen: list[tuple[str, Any]] = []

    class Watching(Notes):
        def note(self, text: str) -> None:
            super().note(text)
            stored = records.in_progress(w.stack)
            seen.append((text, stored.lease.holder if stored is not None and stored.lease is not None else None))

    ctx = replace(w.ctx, by="carol@ci", reporter=Watching())
    result = resume(ctx)
    assert result.outcome is Outcome.PROMOTED, result.why
    text, holder = seen[0]
    assert text == f"resuming release {held.id} of v2 at phase shifting, 25% verified"
    assert holder is not None
    assert holder.startswith("carol@ci"), "the lease is this shell's when it says it resumes"
    # It drives on from the record its lease wrote: its next write finds no stranger's revision to adopt.
    assert not [t for t, _ in seen if "marked elsewhere" in t]


def _failing_smoke(w: World, meanwhile: Callable[[], None] = lambda: None) -> None:
    """The resumed release's first step, the candidate's smoke test, answers 500; ``meanwhile`` runs at its first try."""
    tries: list[str] = []

    def probe(url: str, headers: Any = None) -> int:
        tries.append(url)
        if len(tries) == 1:
            meanwhile()
        return 500

    w.ctx.probe = probe  # type: ignore[misc]
    w.stack.set_config({"release:inProgress": w.stack.config["release:inProgress"].replace('"phase":"shifting"', '"phase":"migrated"')})


def test_a_failed_resume_is_aborted_with_the_failure_as_its_reason(session: Any) -> None:
    w = _interrupted(session)
    _failing_smoke(w)
    result = resume(w.ctx)
    assert result.outcome is Outcome.ABORTED
    assert result.why is not None
    assert "answered 500" in result.why
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert last.reason == result.why
    assert result.record == last
    assert (result.failed_step, result.steps_done) == ("smoke", 0)
    assert result.infrastructure is False
    assert result.next_command == NEXT


def test_a_failed_resume_does_not_abort_a_release_another_shell_took_over_meanwhile(session: Any) -> None:
    w = _interrupted(session)

    def dave_takes_over() -> None:
        stored = records.in_progress(w.stack)
        assert stored is not None
        records.commit(w.stack, stored, records.leased(stored, "dave@ci (pid 7)", w.clock), exact=False)

    _failing_smoke(w, dave_takes_over)
    before = w.stack.served()
    with pytest.raises(records.ReleaseEndedError):
        resume(w.ctx)
    stored = records.in_progress(w.stack)
    assert stored is not None
    assert stored.lease is not None
    assert stored.lease.holder == "dave@ci (pid 7)"
    assert w.stack.served() == before



def test_each_refusal_of_resume_whole(w: World) -> None:
    with pytest.raises(RollbackRefusedError) as caught:
        resume(w.ctx)
    assert (caught.value.what, caught.value.next_command) == ("resume", "python -m release status --stack staging")

    held = _leased(w)
    assert held.lease is not None
    renewed, expires = held.lease.renewed_at, held.lease.renewed_at + records.LEASE
    assert expires - renewed == timedelta(minutes=35)
    with pytest.raises(RollbackRefusedError) as caught:
        resume(w.ctx)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "resume", f"release {held.id} is being driven by {ALICE} (lease renewed {renewed:%Y-%m-%d %H:%M:%S} UTC, fresh until "
        f"{expires:%H:%M:%S} UTC)",
        f"let it finish, or end it: python -m release abort --stack staging; if that driver is gone, resume after {expires:%H:%M:%S} UTC",
    )

    marked = records.commit(w.stack, held, records.ending(held, Outcome.ABORTED, "bob@desk", w.clock))
    assert marked is not None
    with pytest.raises(RollbackRefusedError) as caught:
        resume(w.ctx)
    unfinished = records.EndingUnfinishedError.of(marked, "staging")
    assert (caught.value.what, caught.value.why, caught.value.next_command) == ("resume", unfinished.why, unfinished.next_command)


def test_a_rolling_release_is_not_resumed_and_abort_is_named(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    held = records.new_record(w.stack.release_config(), "3.0.0", "rolling", w.clock, "bob@ci")
    records.commit(w.stack, None, held)
    with pytest.raises(RollbackRefusedError) as caught:
        resume(w.ctx)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "resume", f"release {held.id} is a rolling release of 3.0.0 on blue; it is not resumed",
        f"`python -m release abort --stack staging` puts blue back to {held.previous}, verified; then release again",
    )


# Blue-green's switch keeps live's 5% control share (release:controlWeight), then promotion, then the control ends.
WEIGHTS = [95, 95, 100]


def test_an_interrupted_blue_green_release_resumes_with_its_own_strategy(w: World) -> None:
    w.stack.set_release(strategy="blue-green")
    release(w, "v2", until_weight=100)
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.strategy.value == "blue-green"
    # The stack's strategy changed meanwhile: the release goes on as it started, one switch, no canary steps.
    w.stack.set_release(strategy="canary")
    w.stack.issued.clear()
    result = resume(w.ctx)
    assert result.outcome is Outcome.PROMOTED, result.why
    assert [u["weights"]["green"] for u in w.stack.issued] == WEIGHTS


def test_a_release_stopped_before_its_backup_resumes_with_the_backup_named_for_its_own_stack(session: Any) -> None:
    w = world(session)
    config = w.stack.release_config()
    started = records.new_record(config, "v2", "canary", w.clock, "alice@laptop")
    written = Executor(w.ctx).runner._write({}, started, new=True)  # noqa: SLF001 - the first write of a driver, killed next
    records.commit(w.stack, written, written.model_copy(update={"lease": None}))  # its lease let go, as at exit
    _, steps = plan_resume(w.ctx)
    assert isinstance(steps[0], Backup)
    assert steps[0].snapshot_id == snapshot_id("staging", "v2") == "staging-release-v2"


def test_a_blue_green_release_stopped_before_its_switch_resumes_as_one_switch_though_the_stack_says_canary(w: World) -> None:
    w.stack.set_release(strategy="blue-green")
    config = w.stack.release_config()
    options = ReleaseOptions(version="v2", bake_minutes=1, poll_seconds=POLL_SECONDS)
    steps = plan_release(config, w.stack.outputs(), options, "staging")
    first_shift = next(i for i, step in enumerate(steps) if isinstance(step, Shift))
    Executor(w.ctx).run(steps[:first_shift], records.new_record(config, "v2", "blue-green", w.clock, w.ctx.by))
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.strategy.value == "blue-green"
    records.commit(w.stack, held, held.model_copy(update={"lease": None}))  # the driver stopped before its switch
    w.stack.set_release(strategy="canary")
    w.stack.issued.clear()
    result = resume(w.ctx)
    assert result.outcome is Outcome.PROMOTED, result.why
    shifts = [u["weights"]["green"] for u in w.stack.issued if u["weights"]["green"]]
    assert shifts == WEIGHTS, "one switch keeping live's control share, as the release started: no canary steps"
