"""The stores' own words, exactly: what was refused, why, and the next step a person reads in the error.

Each test here was written against a mutant of `release/state/store.py` that the rest of this folder let live
(`make mutate MODULE=release/state/store.py`): a message with no subject, a wrong next step, a store not named,
a default number of attempts changed without a word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from release.state import MemoryStateStore, StateConflictError, StateStoreError, write_latest
from release.state.store import RELEASE_KEYS

KEYS = ", ".join(RELEASE_KEYS)


def said(error: StateStoreError) -> tuple[str, str, str]:
    """What an error tells a person: what failed, why, and what to do."""
    return error.what, error.why, error.next_command


def test_a_key_that_is_not_release_state_is_refused_naming_the_keys_the_store_and_where_they_belong() -> None:
    store = MemoryStateStore(name="acme/release-platform/staging-release")
    with pytest.raises(StateStoreError) as caught:
        store.write({"fleet:cpu": "512", "app:port": "80"}, ("release:live",), store.read()[1])
    assert said(caught.value) == (
        "writing the release state (acme/release-platform/staging-release)",
        f"app:port, fleet:cpu are not release keys ({KEYS})",
        "set other keys in Pulumi.<stack>.yaml",
    )


def test_a_store_built_without_a_name_calls_itself_memory() -> None:
    store = MemoryStateStore()
    assert store.name == "memory"
    with pytest.raises(StateStoreError) as caught:
        store.write({}, ("fleet:cpu",), store.read()[1])
    assert caught.value.what == "writing the release state (memory)"


def test_a_write_on_a_moved_tag_says_which_revision_holds_and_which_was_read() -> None:
    store = MemoryStateStore({"release:live": "blue"}, name="staging-release")
    _, stale = store.read()
    store.write({"release:canaryWeight": "5"}, (), stale)
    with pytest.raises(StateConflictError) as caught:
        store.write({"release:canaryWeight": "9"}, (), stale)
    current = store.read()[1]
    assert said(caught.value) == (
        "writing the release state (staging-release)",
        f"it changed since it was read (revision {current}, read at {stale})",
        "read it again",
    )


class AlwaysOvertaken(MemoryStateStore):
    """A store some other writer writes to between every read and write."""

    def __init__(self) -> None:
        super().__init__({"release:live": "blue"}, name="staging-release")
        self.writes = 0

    def write(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        self.writes += 1
        super().write({"release:canaryWeight": str(self.writes)}, (), self.read()[1])
        return super().write(changes, removals, expect_etag)


def test_write_latest_gives_up_after_eight_lost_races_and_says_so() -> None:
    store = AlwaysOvertaken()
    with pytest.raises(StateConflictError) as caught:
        write_latest(store, {"release:live": "green"}, (), "staging")
    assert store.writes == 8, "eight attempts by default"
    assert said(caught.value) == ("writing the release state of staging", "8 writers in a row got there first", "retry")
    assert store.read()[0] == {"release:live": "blue", "release:canaryWeight": "8"}
