"""The record's words and its history, exactly: who releases, why a driver stopped, and which update ended a release.

Each test here was written against a mutant of `release/state/record.py` that the rest of this folder let live
(`make mutate MODULE=release/state/record.py`): a message that names the wrong person or command, a finished
record that never replaces the mark that announced it, a release found only in the current config dated to the
wrong update.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from components.config import ReleaseConfig
from components.config.release_record import Backup, BackupState, Ending, Lease, Outcome, Phase, ReleaseRecord
from release.clock import ManualClock
from release.engine import HistoryEntry
from release.state import record as records

AT = datetime(2026, 11, 26, 7, 0, 5, tzinfo=UTC)
RECORD: dict[str, Any] = {
    "id": "r-1", "version": "4a5b6c7d", "colour": "green", "previous": "3f9c2e1a", "strategy": "canary",
    "startedAt": "2026-11-26T06:00:00Z", "startedBy": "alice@laptop",
}
STATUS = "python -m release status --stack staging"


def record(**changes: Any) -> ReleaseRecord:
    """A record of release r-1 with some fields changed (by their Python names)."""
    return ReleaseRecord.model_validate(RECORD).model_copy(update=changes)


def values(in_progress: ReleaseRecord | None = None, last: ReleaseRecord | None = None) -> dict[str, str]:
    """A release state holding these records."""
    state = {}
    if in_progress is not None:
        state[records.IN_PROGRESS] = records.encode(in_progress)
    if last is not None:
        state[records.LAST_RELEASE] = records.encode(last)
    return state


def explained(state: dict[str, str], held: ReleaseRecord) -> tuple[str, str, str, Outcome | None, ReleaseRecord | None]:
    error = records._explain(state, held, "staging")
    assert str(error) == f"{error.what}: {error.why}"
    assert error.elsewhere is True
    return error.what, error.why, error.next_command, error.outcome, error.stored


# who


def test_a_ci_run_is_named_by_its_run_id_and_actor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    assert records.who() == "github-actions run 4242 (octocat)"
    monkeypatch.delenv("GITHUB_ACTOR")
    assert records.who() == "github-actions run 4242 (unknown)"


def test_outside_ci_it_is_user_at_host_and_an_unknown_user_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_RUN_ID", raising=False)
    monkeypatch.setattr(records.socket, "gethostname", lambda: "laptop")
    monkeypatch.setattr(records.getpass, "getuser", lambda: "bob")
    assert records.who() == "bob@laptop"

    def no_user() -> str:
        raise OSError("no user name")

    monkeypatch.setattr(records.getpass, "getuser", no_user)
    assert records.who() == "unknown@laptop"


def test_a_name_longer_than_a_record_holds_is_cut_to_its_128_characters_so_the_release_still_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GITHUB_RUN_ID", raising=False)
    monkeypatch.setattr(records.getpass, "getuser", lambda: "bob")
    host = "build-" + "x" * 120 + ".example.internal"  # host names run to 253 characters
    monkeypatch.setattr(records.socket, "gethostname", lambda: host)
    name = records.who()
    assert name == ("bob@" + host)[:128]
    assert ReleaseRecord.model_validate({**RECORD, "startedBy": name}).started_by == name
    monkeypatch.setattr(records.socket, "gethostname", lambda: "x" * 124)
    assert records.who() == "bob@" + "x" * 124, "128 characters: kept whole"
    monkeypatch.setenv("GITHUB_RUN_ID", "9" * 20)
    monkeypatch.setenv("GITHUB_ACTOR", "a" * 120)
    assert len(records.who()) == 128


# _explain: why a write found the record no longer the one held


def test_a_record_finished_elsewhere_names_how_who_and_when() -> None:
    last = record(outcome=Outcome.PROMOTED, finished_at=AT, ended_by="carol@desk")
    assert explained(values(last=last), record()) == (
        "release r-1",
        "promoted elsewhere: carol@desk at 2026-11-26 07:00:05 UTC; this driver stopped before its next write",
        STATUS, Outcome.PROMOTED, last,
    )
    aborted = record(outcome=Outcome.ABORTED, finished_at=AT, ended_by=None)
    assert explained(values(last=aborted), record())[1:4] == (
        "aborted elsewhere: another shell at 2026-11-26 07:00:05 UTC; this driver stopped before its next write", STATUS, Outcome.ABORTED,
    )
    # a record the stack's config would refuse as a last release (no outcome, so no finish time) still reads
    unknown = record(outcome=None, finished_at=None, ended_by=None)
    assert explained(values(last=unknown), record())[1:4] == (
        "ended elsewhere: another shell; this driver stopped before its next write", STATUS, None,
    )


@pytest.mark.parametrize("last", [None, "other"])
def test_a_record_gone_without_its_finished_copy_says_it_is_gone(last: str | None) -> None:
    other = record(id="r-0", outcome=Outcome.PROMOTED, finished_at=AT) if last else None
    assert explained(values(last=other), record()) == (
        "release r-1", "its record is gone from the release state (ended elsewhere)", STATUS, None, None,
    )


def test_a_record_replaced_by_another_release_names_it_and_who_started_it() -> None:
    stored = record(id="r-2", version="5e6f7a8b", started_by="dave@ci")
    assert explained(values(in_progress=stored), record()) == (
        "release r-1", "replaced by release r-2 of 5e6f7a8b, started by dave@ci", STATUS, None, stored,
    )


@pytest.mark.parametrize(("outcome", "label"), [
    (Outcome.PROMOTED, "promoted elsewhere"),
    (Outcome.ABORTED, "being aborted elsewhere"),
    (Outcome.ROLLED_BACK, "being rolled-back elsewhere"),
])
def test_a_record_marked_for_ending_names_the_ending_who_and_since_when(outcome: Outcome, label: str) -> None:
    stored = record(ending=Ending(outcome=outcome, by="erin@desk", at=AT))
    assert explained(values(in_progress=stored), record()) == (
        "release r-1",
        f"{label}: erin@desk since 2026-11-26 07:00:05 UTC; this driver stopped before its next write",
        STATUS, outcome, stored,
    )


def test_a_record_changed_by_another_writer_names_the_holder_both_revisions_and_resume() -> None:
    stored = record(revision=3, lease=Lease(holder="frank@desk pid 7", renewed_at=AT))
    resume = f"{STATUS}, then `python -m release resume --stack staging`"
    assert explained(values(in_progress=stored), record(revision=2)) == (
        "release r-1",
        "its record was changed by frank@desk pid 7 (revision 3; this driver held 2); this driver stopped before its next write",
        resume, None, stored,
    )
    unleased = record(revision=3)
    assert explained(values(in_progress=unleased), record(revision=2))[1].startswith("its record was changed by another shell (revision 3;")


# ended_in and releases: which update ended each release


def entry(version: int, state: dict[str, str], result: str = "succeeded") -> HistoryEntry:
    return HistoryEntry(version, f"update {version}", state, result)


def test_a_release_marked_for_ending_counts_as_ended_by_that_update_until_its_finished_record_replaces_it() -> None:
    marked = record(ending=Ending(outcome=Outcome.ABORTED, by="erin@desk", at=AT))
    done = record(outcome=Outcome.ABORTED, finished_at=AT, reason="alarm", ended_by="erin@desk")
    history = [entry(5, values(in_progress=marked)), entry(4, {})]
    found = records.ended_in(history)
    assert list(found) == ["r-1"]
    version, provisional = found["r-1"]
    assert version == 5
    assert (provisional.outcome, provisional.finished_at, provisional.ending) == (Outcome.ABORTED, AT, None)
    assert provisional.id == "r-1"

    # the finished record, in the next update, replaces the mark; the update that ended it stays 5
    history.insert(0, entry(6, values(last=done)))
    assert records.ended_in(history) == {"r-1": (5, done)}
    # an update that failed is no part of the history of releases
    assert records.ended_in([entry(5, values(in_progress=marked), "failed")]) == {}


def test_a_release_found_only_in_the_current_config_was_ended_by_the_newest_update() -> None:
    done = record(outcome=Outcome.PROMOTED, finished_at=AT)
    history = [entry(4, {}), entry(7, {}), entry(3, {}), entry(9, {}, "failed")]
    assert records.ended_in(history, values(last=done)) == {"r-1": (7, done)}
    assert records.ended_in([], values(last=done)) == {}
    assert records.releases(history, values(last=done)) == [done]


def test_releases_ended_by_the_same_update_are_listed_once_each_newest_update_first() -> None:
    first = record(outcome=Outcome.PROMOTED, finished_at=AT)
    second = record(id="r-2", ending=Ending(outcome=Outcome.ABORTED, by="erin@desk", at=AT))
    third = record(id="r-3", outcome=Outcome.REFUSED, finished_at=AT)
    history = [
        entry(5, {**values(in_progress=second), **values(last=first)}),
        entry(8, values(last=third)),
        entry(2, {}),
    ]
    assert [(r.id, r.outcome) for r in records.releases(history)] == [
        ("r-3", Outcome.REFUSED), ("r-2", Outcome.ABORTED), ("r-1", Outcome.PROMOTED),
    ]
    assert json.loads(records.encode(records.releases(history)[1]))["outcome"] == "aborted"


def test_a_later_finished_copy_in_the_current_config_replaces_the_one_history_holds() -> None:
    promoted = record(outcome=Outcome.PROMOTED, finished_at=AT)
    after_window = promoted.model_copy(update={"backup": Backup(
        colour="blue", until=AT, state=BackupState.SCALED_DOWN, at=AT, why="live stayed healthy for 30 minutes",
    )})
    history = [entry(5, values(last=promoted)), entry(6, values(last=promoted))]
    # the copy the window wrote is in the current config only; the update that ended the release stays 5
    assert records.ended_in(history, values(last=after_window)) == {"r-1": (5, after_window)}


# finished and reached


def test_a_finished_record_drops_its_lease_and_mark_and_keeps_a_reason_the_config_accepts() -> None:
    held = record(lease=Lease(holder="frank@desk pid 7", renewed_at=AT), ending=Ending(outcome=Outcome.ABORTED, by="erin", at=AT))
    done = records.finished(held, Outcome.ABORTED, ManualClock(AT), reason="x" * 600, by="e" * 200)
    assert (done.lease, done.ending, done.outcome, done.finished_at) == (None, None, Outcome.ABORTED, AT)
    # the record's own limits (reason 500, endedBy 160): a longer one would make the record unreadable
    assert (len(done.reason or ""), len(done.ended_by or "")) == (500, 160)
    assert records.decode(records.encode(done)) == done
    kept = records.finished(record(ended_by="erin"), Outcome.PROMOTED, ManualClock(AT))
    assert (kept.reason, kept.ended_by) == (None, "erin")


def test_a_record_has_reached_its_own_phase_and_those_before_it_not_those_after() -> None:
    shifting = record(phase=Phase.SHIFTING)
    assert records.reached(shifting, Phase.SHIFTING)
    assert records.reached(shifting, Phase.DEPLOYED)
    assert not records.reached(shifting, Phase.PROMOTED)


def test_a_mark_and_a_lease_cut_who_to_the_records_limit_of_160() -> None:
    marked = records.ending(record(), Outcome.ABORTED, "e" * 200, ManualClock(AT))
    assert marked.ending == Ending(outcome=Outcome.ABORTED, by="e" * 160, at=AT)
    held = records.leased(record(), "h" * 200, ManualClock(AT))
    assert held.lease == Lease(holder="h" * 160, renewed_at=AT)
    assert records.decode(records.encode(marked)) == marked
    assert records.decode(records.encode(held)) == held


@pytest.mark.parametrize(("strategy", "colour"), [("rolling", "blue"), ("canary", "green"), ("blue-green", "green")])
def test_a_new_record_puts_a_rolling_release_on_live_and_the_others_on_the_candidate(strategy: str, colour: str) -> None:
    config = ReleaseConfig.model_validate({"live": "blue", "versions": {"blue": "1.0.0", "green": "0.9.0"}})
    fresh = records.new_record(config, "v2.0.0-rc.1_build.77", strategy, ManualClock(AT), "alice@laptop")
    assert (fresh.colour.value, fresh.previous, fresh.version, fresh.strategy.value) == (colour, "1.0.0", "v2.0.0-rc.1_build.77", strategy)
    # the id: the start to the second, then the version's first 12 letters and digits
    assert fresh.id == "r-20261126t070005-v200rc1build"
    assert (fresh.started_at, fresh.started_by, fresh.revision) == (AT, "alice@laptop", 0)


def test_a_record_is_stored_with_the_configs_camel_case_names_and_no_nulls() -> None:
    stored = json.loads(records.encode(record(weight=25, highest_weight=25)))
    assert stored == {**RECORD, "phase": "started", "weight": 25, "highestWeight": 25, "revision": 0}


def test_advance_sets_the_phase_only_when_given() -> None:
    deployed = records.advance(record(), Phase.DEPLOYED)
    assert deployed.phase is Phase.DEPLOYED
    assert records.advance(deployed, weight=5).phase is Phase.DEPLOYED


def test_in_progress_reads_the_record_from_the_release_state() -> None:
    class Engine:
        def __init__(self, state: dict[str, str]) -> None:
            self.state = state

        def read_release(self) -> tuple[dict[str, str], str]:
            return self.state, "1"

    assert records.in_progress(Engine(values(in_progress=record(revision=2)))) == record(revision=2)  # type: ignore[arg-type]
    assert records.in_progress(Engine({})) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("outcome", "command"), [
    (Outcome.ABORTED, "abort"), (Outcome.PROMOTED, "promote"), (Outcome.ROLLED_BACK, "rollback"),
])
def test_the_command_that_finishes_each_ending(outcome: Outcome, command: str) -> None:
    assert records.finishing_command(outcome) == command


def test_an_unfinished_ending_is_said_whole_and_carries_the_stored_record() -> None:
    marked = record(ending=Ending(outcome=Outcome.ROLLED_BACK, by="bob@ci", at=AT))
    error = records.EndingUnfinishedError.of(marked, "staging")
    assert (error.what, error.why, error.next_command) == (
        "release r-1", "release r-1 is being rolled-back by bob@ci since 2026-11-26 07:00:05 UTC and did not finish",
        "python -m release rollback --stack staging  (finishes it)",
    )
    assert error.outcome is None
    assert error.stored is marked


def test_a_release_marked_in_two_updates_and_never_finished_is_dated_by_the_first() -> None:
    # Killed after its update applied, the ending is run again: a second update carries a fresh mark. The first
    # update that carried the mark ended the release; a later mark does not move its end.
    first = record(ending=Ending(outcome=Outcome.ROLLED_BACK, by="erin@desk", at=AT))
    again = record(ending=Ending(outcome=Outcome.ROLLED_BACK, by="erin@desk", at=datetime(2026, 11, 26, 7, 9, tzinfo=UTC)))
    found = records.ended_in([entry(6, values(in_progress=again)), entry(5, values(in_progress=first))])
    version, provisional = found["r-1"]
    assert (version, provisional.finished_at) == (5, AT)
