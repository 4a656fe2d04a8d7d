"""The compare-and-set contract, run over every store the project has.

The stores are found, not listed: every class in ``release/`` that names ``ReleaseStateStore`` as its base is
collected, and a store this file cannot build fails ``test_every_store_of_the_project_is_under_the_contract``,
so a new store cannot skip the contract. The contract is ESC's (pulumi/esc ``cmd/esc/cli/client/client.go``,
``UpdateEnvironmentWithRevision``: an update whose etag no longer matches fails with 409 and changes nothing).

Each store is given as two handles on the same state, "mine" and "theirs" (two processes for the file and the
ESC store; the memory store serves one process, so both are the same object).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

import release
from components.config.release_record import Outcome
from release.clock import ManualClock
from release.state import (
    EscStateStore,
    FileStateStore,
    MemoryStateStore,
    ReleaseStateStore,
    StateConflictError,
    StateStoreError,
    write_latest,
)
from release.state import record as records
from tests.release.state.esc_server import TOKEN, serve_esc

INITIAL = {"release:live": "blue", "release:canaryWeight": "0"}
Handles = tuple[ReleaseStateStore, ReleaseStateStore]


@contextmanager
def _memory(_: Path) -> Iterator[Handles]:
    store = MemoryStateStore(INITIAL)
    yield store, store


@contextmanager
def _file(folder: Path) -> Iterator[Handles]:
    path = folder / "staging-release.json"
    yield FileStateStore(path, INITIAL), FileStateStore(path, INITIAL)


@contextmanager
def _esc(_: Path) -> Iterator[Handles]:
    with serve_esc({"values": {"pulumiConfig": {"release:live": "blue", "release:canaryWeight": 0}}}) as (_env, url):
        def handle() -> EscStateStore:
            return EscStateStore("acme", "release-platform", "staging-release", token=TOKEN, base_url=url)
        yield handle(), handle()


STORES: dict[type, Callable[[Path], AbstractContextManager[Handles]]] = {
    MemoryStateStore: _memory,
    FileStateStore: _file,
    EscStateStore: _esc,
}


def project_stores() -> set[type]:
    """Every store class in ``release/``: each module imported (not ``__main__``, which runs the CLI), then the seam's subclasses."""
    for module in pkgutil.walk_packages(release.__path__, "release."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)

    def below(cls: type) -> set[type]:
        found = set(cls.__subclasses__())
        return found.union(*(below(c) for c in found)) if found else found

    return {cls for cls in below(ReleaseStateStore) if cls.__module__.startswith("release.")}


def test_every_store_of_the_project_is_under_the_contract() -> None:
    found = project_stores()
    assert found >= {MemoryStateStore, FileStateStore, EscStateStore}, "the three stores are found by their base"
    missing = sorted(cls.__qualname__ for cls in found - set(STORES))
    assert not missing, f"add a way to build {', '.join(missing)} to STORES: every store runs this contract"


@pytest.fixture(params=sorted(STORES, key=lambda c: c.__name__), ids=lambda c: c.__name__)
def handles(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Handles]:
    with STORES[request.param](tmp_path) as found:
        yield found


def test_a_write_on_the_tag_read_applies_and_answers_the_tag_of_what_it_wrote(handles: Handles) -> None:
    mine, theirs = handles
    values, tag = mine.read()
    assert values == INITIAL
    new_tag = mine.write({"release:canaryWeight": "25"}, ("release:live",), tag)
    assert new_tag != tag
    assert theirs.read() == ({"release:canaryWeight": "25"}, new_tag), "the other handle sees the write and its tag"
    assert mine.write({"release:canaryWeight": "50"}, (), new_tag) != new_tag, "the answered tag is good for the next write"
    assert theirs.read()[0] == {"release:canaryWeight": "50"}


def test_a_write_on_a_tag_that_moved_conflicts_and_changes_nothing(handles: Handles) -> None:
    mine, theirs = handles
    _, stale = mine.read()
    _, current = theirs.read()
    theirs_tag = theirs.write({"release:canaryWeight": "10"}, (), current)
    with pytest.raises(StateConflictError):
        mine.write({"release:canaryWeight": "90", "release:live": "green"}, (), stale)
    assert theirs.read() == ({"release:live": "blue", "release:canaryWeight": "10"}, theirs_tag), "the lost write left no trace"
    assert mine.read() == ({"release:live": "blue", "release:canaryWeight": "10"}, theirs_tag)


def test_a_tag_a_write_answered_is_stale_once_another_writer_wrote(handles: Handles) -> None:
    mine, theirs = handles
    answered = mine.write({"release:canaryWeight": "5"}, (), mine.read()[1])
    theirs.write({"release:canaryWeight": "6"}, (), theirs.read()[1])
    with pytest.raises(StateConflictError):
        mine.write({"release:canaryWeight": "7"}, (), answered)
    assert mine.read()[0]["release:canaryWeight"] == "6"


def test_a_write_with_no_tag_or_a_key_that_is_not_release_state_is_refused_and_changes_nothing(handles: Handles) -> None:
    mine, _ = handles
    mine.write({"release:canaryWeight": "1"}, (), mine.read()[1])
    before = mine.read()
    with pytest.raises(StateStoreError):
        mine.write({"release:canaryWeight": "2"}, (), "")
    with pytest.raises(StateStoreError) as caught:
        mine.write({"fleet:cpu": "512"}, (), before[1])
    assert "fleet:cpu are not release keys" in caught.value.why
    assert mine.read() == before


# --- write_latest: last writer wins, and no write is lost on the way --------------------------------


class Overtaken(ReleaseStateStore):
    """A handle on a store whose next ``times`` writes are each preceded by another writer's (as between two shells)."""

    def __init__(self, store: ReleaseStateStore, theirs: ReleaseStateStore, other: Callable[[ReleaseStateStore], None],
                 times: int = 1) -> None:
        self.store, self.theirs, self.other, self.times = store, theirs, other, times
        self.name = store.name
        self.conflicts = 0

    def read(self) -> tuple[dict[str, str], str]:
        return self.store.read()

    def write(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        if self.times > 0:
            self.times -= 1
            self.other(self.theirs)
        try:
            return self.store.write(changes, removals, expect_etag)
        except StateConflictError:
            self.conflicts += 1
            raise


def _set(key: str, value: str) -> Callable[[ReleaseStateStore], None]:
    def write(store: ReleaseStateStore) -> None:
        store.write({key: value}, (), store.read()[1])
    return write


def test_write_latest_overtaken_once_writes_again_and_keeps_the_other_writers_key(handles: Handles) -> None:
    mine, theirs = handles
    overtaken = Overtaken(mine, theirs, _set("release:canaryWeight", "40"))
    write_latest(overtaken, {"release:live": "green"}, (), "staging")
    assert overtaken.conflicts == 1, "the first attempt lost to the other writer"
    assert theirs.read()[0] == {"release:live": "green", "release:canaryWeight": "40"}, "both writes are there"


def test_write_latest_overtaken_every_time_says_so_instead_of_passing_for_written(handles: Handles) -> None:
    mine, theirs = handles
    overtaken = Overtaken(mine, theirs, _set("release:canaryWeight", "40"), times=100)
    with pytest.raises(StateConflictError) as caught:
        write_latest(overtaken, {"release:live": "green"}, (), "staging", attempts=3)
    assert "3 writers in a row got there first" in caught.value.why
    assert overtaken.conflicts == 3
    assert theirs.read()[0]["release:live"] == "blue"


# --- commit: a record whose write was lost is never reported as written -----------------------------

RECORD = {
    "id": "r-1", "version": "4a5b6c7d", "colour": "green", "previous": "3f9c2e1a", "strategy": "canary",
    "startedAt": "2026-11-26T06:00:00Z", "startedBy": "alice@laptop", "phase": "shifting", "weight": 25, "highestWeight": 25,
}


class StoreEngine:
    """The part of a stack engine that ``commit`` uses, over a store."""

    stack = "staging"

    def __init__(self, store: ReleaseStateStore) -> None:
        self.store = store

    def get_config(self) -> dict[str, str]:
        return self.store.read()[0]

    def read_release(self) -> tuple[dict[str, str], str]:
        return self.store.read()

    def write_release(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        return self.store.write(changes, removals, expect_etag)


def _held(store: ReleaseStateStore) -> Any:
    store.write({records.IN_PROGRESS: json.dumps(RECORD)}, (), store.read()[1])
    held = records.decode(store.read()[0][records.IN_PROGRESS])
    assert held is not None
    return held


def test_a_record_write_that_lost_to_another_shells_mark_is_not_reported_as_written(handles: Handles) -> None:
    mine, theirs = handles
    held = _held(mine)
    clock = ManualClock()

    def bob_aborts(store: ReleaseStateStore) -> None:
        records.commit(StoreEngine(store), held, records.ending(held, Outcome.ABORTED, "bob@desk", clock), exact=False)

    overtaken = Overtaken(mine, theirs, bob_aborts)
    with pytest.raises(records.ReleaseEndedError) as caught:
        records.commit(StoreEngine(overtaken), held, records.advance(held, weight=50), {"release:canaryWeight": "50"})
    assert overtaken.conflicts == 1
    assert "being aborted elsewhere: bob@desk" in caught.value.why
    values = theirs.read()[0]
    assert "release:canaryWeight" not in values or values["release:canaryWeight"] == "0", "the driver's config change was not written"
    stored = records.decode(values[records.IN_PROGRESS])
    assert stored is not None
    assert (stored.weight, stored.ending is not None) == (25, True), "the store holds bob's mark, not the driver's step"


def test_a_record_write_overtaken_by_an_unrelated_key_is_written_on_the_new_tag(handles: Handles) -> None:
    mine, theirs = handles
    held = _held(mine)
    overtaken = Overtaken(mine, theirs, _set("release:live", "blue"))
    written = records.commit(StoreEngine(overtaken), held, records.advance(held, weight=50), {"release:canaryWeight": "50"})
    assert overtaken.conflicts == 1
    assert written is not None
    stored = records.decode(theirs.read()[0][records.IN_PROGRESS])
    assert stored == written
    assert (stored.weight, stored.revision) == (50, held.revision + 1)
    assert theirs.read()[0]["release:canaryWeight"] == "50"


# --- what is written is read back as written, and removing a key the state lacks is no error ----------

# Each value as the store must give it back: the driver's own (a weight, a colour, a compact JSON object and
# list), and strings a definition could take for something else (a float's digits, a JSON string, null).
AS_WRITTEN = {
    "release:canaryWeight": "25",
    "release:live": "green",
    "release:versions": '{"blue":"3f9c2e1a","green":"4a5b6c7d"}',
    "release:candidateTasks": "1.50",
    "release:lastRelease": '"quoted"',
    "release:inProgress": "null",
}


def test_every_value_is_read_back_exactly_as_it_was_written(handles: Handles) -> None:
    mine, theirs = handles
    mine.write(AS_WRITTEN, (), mine.read()[1])
    assert theirs.read()[0] == {**INITIAL, **AS_WRITTEN}


def test_removing_a_key_the_state_does_not_hold_removes_nothing_else_and_moves_the_tag(handles: Handles) -> None:
    mine, theirs = handles
    _, tag = mine.read()
    moved = mine.write({}, ("release:inProgress",), tag)
    assert moved != tag
    assert theirs.read() == (INITIAL, moved)
