"""`commit`, the record's compare-and-set, against a store that other writers change between a read and a write.

Written against the mutants of `release/state/record.py` that the rest of this folder let live (`make mutate
MODULE=release/state/record.py`): a revision not counted from the stored one, a conflict not retried or retried
without reading again, a `check` that does not see the config as it would be, a refusal that names the wrong
release or command.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from components.config.release_record import Outcome, ReleaseRecord
from release.clock import ManualClock
from release.state import MemoryStateStore, StateConflictError
from release.state import record as records

AT = datetime(2026, 11, 26, 7, 0, 5, tzinfo=UTC)
RECORD: dict[str, Any] = {
    "id": "r-1", "version": "4a5b6c7d", "colour": "green", "previous": "3f9c2e1a", "strategy": "canary",
    "startedAt": "2026-11-26T06:00:00Z", "startedBy": "alice@laptop",
}


def record(**changes: Any) -> ReleaseRecord:
    return ReleaseRecord.model_validate(RECORD).model_copy(update=changes)


class Engine:
    """The release-state half of a StackEngine over the in-memory store, with writers that get in first."""

    stack = "staging"

    def __init__(self, values: Mapping[str, str] | None = None, stack_config: Mapping[str, str] | None = None) -> None:
        self.store = MemoryStateStore(values)
        self.stack_config = dict(stack_config or {})
        self.reads = 0
        self.before_write: list[Callable[[], None]] = []

    def read_release(self) -> tuple[dict[str, str], str]:
        self.reads += 1
        return self.store.read()

    def write_release(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        if self.before_write:
            self.before_write.pop(0)()
        return self.store.write(changes, removals, expect_etag)

    def get_config(self) -> dict[str, str]:
        return {**self.stack_config, **self.store.read()[0]}

    def stored(self) -> ReleaseRecord | None:
        return records.decode(self.store.read()[0].get(records.IN_PROGRESS))


def test_a_new_release_is_written_at_revision_one_with_its_changes() -> None:
    engine = Engine({"release:canaryWeight": "0"})
    written = records.commit(engine, None, record(revision=0), {"release:candidateTasks": "2"})
    assert written == record(revision=1)
    assert engine.stored() == written
    assert engine.store.read()[0]["release:candidateTasks"] == "2"
    assert engine.store.read()[0]["release:canaryWeight"] == "0"


def test_a_new_release_over_one_in_progress_is_refused_naming_it_and_writes_nothing() -> None:
    engine = Engine({records.IN_PROGRESS: records.encode(record(revision=4))})
    before = engine.store.read()
    with pytest.raises(records.ReleaseInProgressError) as refused:
        records.commit(engine, None, record(id="r-2"))
    error = refused.value
    assert (error.what, error.why, error.next_command) == (
        "new release",
        "release r-1 of 4a5b6c7d is in progress, started by alice@laptop at 2026-11-26 06:00 UTC",
        "`python -m release status --stack staging`",
    )
    assert error.stored == record(revision=4)
    assert engine.store.read() == before


def test_the_holder_of_the_stored_revision_writes_the_next_one() -> None:
    engine = Engine({records.IN_PROGRESS: records.encode(record(revision=4))})
    written = records.commit(engine, record(revision=4), record(revision=4, weight=25, highest_weight=25))
    assert written is not None
    assert (written.revision, written.weight) == (5, 25)
    assert engine.stored() == written


def test_an_older_revision_writes_nothing_when_exact_and_writes_on_the_stored_revision_when_not() -> None:
    engine = Engine({records.IN_PROGRESS: records.encode(record(revision=4))})
    with pytest.raises(records.ReleaseEndedError) as stopped:
        records.commit(engine, record(revision=3), record(revision=3, weight=25, highest_weight=25))
    assert "revision 4; this driver held 3" in stopped.value.why
    assert stopped.value.next_command == "python -m release status --stack staging, then `python -m release resume --stack staging`"
    assert engine.stored() == record(revision=4)

    # another shell's command wins over the driver: the id is enough, and the revision counts on from the stored one
    written = records.commit(engine, record(revision=3), record(revision=3, weight=0), exact=False)
    assert written is not None
    assert written.revision == 5
    assert engine.stored() == written


def test_a_record_of_another_release_is_never_written_over_even_when_not_exact() -> None:
    other = record(id="r-2", revision=4)
    engine = Engine({records.IN_PROGRESS: records.encode(other)})
    with pytest.raises(records.ReleaseEndedError) as stopped:
        records.commit(engine, record(revision=4), record(revision=4, weight=25, highest_weight=25), exact=False)
    assert stopped.value.why.startswith("replaced by release r-2")
    assert engine.stored() == other


def test_finishing_moves_the_record_out_of_progress_and_returns_none() -> None:
    engine = Engine({records.IN_PROGRESS: records.encode(record(revision=2))})
    done = records.finished(record(revision=2), Outcome.PROMOTED, ManualClock(AT))
    assert records.commit(engine, record(revision=2), done, {records.LAST_RELEASE: records.encode(done)}, finish=True) is None
    values = engine.store.read()[0]
    assert records.IN_PROGRESS not in values
    assert records.last_release(values) == done


def test_keys_to_remove_are_taken_away_with_the_write_unless_it_sets_them_and_check_sees_them_gone() -> None:
    engine = Engine({records.IN_PROGRESS: records.encode(record(revision=2)), "release:candidateTasks": "3",
                     "release:canaryWeight": "25"})
    seen: list[dict[str, str]] = []
    records.commit(engine, record(revision=2), record(revision=2), {"release:canaryWeight": "0"},
                   remove=["release:candidateTasks", "release:canaryWeight"], check=seen.append)
    values = engine.store.read()[0]
    assert "release:candidateTasks" not in values
    assert values["release:canaryWeight"] == "0", "a key the write sets stays set"
    assert "release:candidateTasks" not in seen[0]
    assert records.decode(values[records.IN_PROGRESS]) == record(revision=3)


def test_a_finishing_write_removes_its_keys_with_the_record() -> None:
    engine = Engine({records.IN_PROGRESS: records.encode(record(revision=2)), "release:candidateTasks": "3"})
    assert records.commit(engine, record(revision=2), None, {}, finish=True, remove=["release:candidateTasks"]) is None
    assert engine.store.read()[0] == {}


def test_check_sees_the_whole_config_as_it_would_be_and_its_refusal_writes_nothing() -> None:
    engine = Engine({records.IN_PROGRESS: records.encode(record(revision=2)), "release:canaryWeight": "25"},
                    {"release:bakeMinutes": "5"})
    seen: list[dict[str, str]] = []
    records.commit(engine, record(revision=2), record(revision=2), {"release:canaryWeight": "50"}, check=seen.append)
    assert seen[0]["release:bakeMinutes"] == "5"
    assert seen[0]["release:canaryWeight"] == "50"
    assert records.decode(seen[0][records.IN_PROGRESS]) == record(revision=3)

    done = records.finished(record(revision=3), Outcome.ABORTED, ManualClock(AT))
    records.commit(engine, record(revision=3), done, {records.LAST_RELEASE: records.encode(done)}, finish=True, check=seen.append)
    assert records.IN_PROGRESS not in seen[1]
    assert records.LAST_RELEASE in seen[1]

    def refuse(config: dict[str, str]) -> None:
        raise ValueError("refused")

    engine = Engine({records.IN_PROGRESS: records.encode(record(revision=2))})
    before = engine.store.read()
    with pytest.raises(ValueError, match="refused"):
        records.commit(engine, record(revision=2), record(revision=2, weight=25, highest_weight=25), check=refuse)
    assert engine.store.read() == before


def test_expect_last_refuses_when_the_last_release_changed_naming_what_it_is_now() -> None:
    last = records.finished(record(id="r-0"), Outcome.PROMOTED, ManualClock(AT))
    engine = Engine({records.LAST_RELEASE: records.encode(last)})
    with pytest.raises(records.ReleaseEndedError) as changed:
        records.commit(engine, None, record(), expect_last="r-9")
    error = changed.value
    assert (error.what, error.why, error.next_command, error.outcome, error.stored) == (
        "release r-9", "the last release changed since it was read: it is now release r-0 (promoted)",
        "python -m release status --stack staging", None, last,
    )
    empty = Engine()
    with pytest.raises(records.ReleaseEndedError, match="it is now none"):
        records.commit(empty, None, record(), expect_last="r-0")
    assert records.commit(engine, None, record(), expect_last="r-0") == record(revision=1)


def test_a_writer_getting_in_first_is_read_again_and_both_writes_stand() -> None:
    engine = Engine({records.IN_PROGRESS: records.encode(record(revision=2))})
    engine.before_write.append(lambda: engine.store.write({"release:canaryWeight": "0"}, [], engine.store.read()[1]))
    written = records.commit(engine, record(revision=2), record(revision=2, weight=25, highest_weight=25), {"release:live": "blue"})
    assert written is not None
    assert written.revision == 3
    assert engine.reads == 2
    values = engine.store.read()[0]
    assert (values["release:canaryWeight"], values["release:live"]) == ("0", "blue")
    assert engine.stored() == written


def test_a_writer_that_moved_the_record_in_between_stops_the_commit_at_its_second_read() -> None:
    engine = Engine({records.IN_PROGRESS: records.encode(record(revision=2))})
    marked = records.encode(record(revision=3))
    engine.before_write.append(lambda: engine.store.write({records.IN_PROGRESS: marked}, [], engine.store.read()[1]))
    with pytest.raises(records.ReleaseEndedError, match="revision 3; this driver held 2"):
        records.commit(engine, record(revision=2), record(revision=2, weight=25, highest_weight=25))
    assert engine.stored() == record(revision=3)


def test_eight_writers_in_a_row_getting_in_first_is_a_conflict_that_names_the_status_command() -> None:
    engine = Engine({records.IN_PROGRESS: records.encode(record(revision=2))})
    for _ in range(8):
        engine.before_write.append(lambda: engine.store.write({"release:canaryWeight": "0"}, [], engine.store.read()[1]))
    with pytest.raises(StateConflictError) as conflict:
        records.commit(engine, record(revision=2), record(revision=2, weight=25, highest_weight=25))
    error = conflict.value
    assert (error.what, error.why, error.next_command) == (
        "writing the release record", "8 other writers got there first in a row", "python -m release status --stack staging",
    )
    assert engine.reads == 8
    assert engine.stored() == record(revision=2)
    # seven in a row still write on the eighth attempt
    for _ in range(7):
        engine.before_write.append(lambda: engine.store.write({"release:canaryWeight": "0"}, [], engine.store.read()[1]))
    assert records.commit(engine, record(revision=2), record(revision=2)) == record(revision=3)

