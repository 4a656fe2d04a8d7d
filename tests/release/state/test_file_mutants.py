"""The file store's own words and its file, exactly: what a person reads in its errors, and what a killed write leaves.

Each test here was written against a mutant of `release/state/file.py` that the rest of this folder let live
(`make mutate MODULE=release/state/file.py`).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from release.state import FileStateStore, StateConflictError, StateStoreError


def said(error: StateStoreError) -> tuple[str, str, str]:
    """What an error tells a person: what failed, why, and what to do."""
    return error.what, error.why, error.next_command


def test_the_store_is_named_by_its_file_in_every_message(tmp_path: Path) -> None:
    path = tmp_path / "staging-release.json"
    store = FileStateStore(path)
    assert store.name == str(path)
    with pytest.raises(StateStoreError) as caught:
        store.write({"fleet:cpu": "512"}, (), "0")
    assert caught.value.what == f"writing the release state ({path})"


def test_an_unreadable_file_is_refused_saying_how_to_start_again(tmp_path: Path) -> None:
    path = tmp_path / "staging-release.json"
    path.write_text('{"revision": 3}')
    with pytest.raises(StateStoreError) as caught:
        FileStateStore(path).read()
    assert said(caught.value) == (
        f"reading the release state ({path})",
        "the file is unreadable: 'values'",
        f"restore {path} or remove it to start from the committed definition",
    )


def test_a_write_on_a_moved_revision_says_which_revision_holds_and_which_was_read(tmp_path: Path) -> None:
    path = tmp_path / "staging-release.json"
    store = FileStateStore(path, {"release:live": "blue"})
    store.write({"release:canaryWeight": "5"}, (), "0")
    with pytest.raises(StateConflictError) as caught:
        store.write({"release:canaryWeight": "9"}, (), "0")
    assert said(caught.value) == (
        f"writing the release state ({path})",
        "it changed since it was read (revision 1, read at 0)",
        "read it again",
    )


def test_the_file_is_indented_json_with_sorted_keys_for_a_person_to_read_and_diff(tmp_path: Path) -> None:
    path = tmp_path / "staging-release.json"
    store = FileStateStore(path)
    store.write({"release:live": "green", "release:canaryWeight": "0"}, (), "0")
    data = {"revision": 1, "values": {"release:canaryWeight": "0", "release:live": "green"}}
    assert path.read_text() == json.dumps(data, indent=2, sort_keys=True)


def test_a_write_that_cannot_make_its_temporary_file_says_where_and_writes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "staging-release.json"
    store = FileStateStore(path, {"release:live": "blue"})

    def full(**_: Any) -> tuple[int, str]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "mkstemp", full)
    with pytest.raises(StateStoreError) as caught:
        store.write({"release:canaryWeight": "5"}, (), "0")
    assert said(caught.value) == (
        f"writing the release state ({path})",
        "[Errno 28] No space left on device",
        f"check that {tmp_path} is writable",
    )
    assert store.read() == ({"release:live": "blue"}, "0")


def test_a_write_killed_before_its_rename_leaves_the_old_file_and_a_hidden_temporary_one_beside_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The temporary file is made in the file's own folder, so the rename is atomic (POSIX rename(2) within one
    filesystem), and named after it, so a person finding one after a killed write knows what it was."""
    path = tmp_path / "staging-release.json"
    store = FileStateStore(path)
    store.write({"release:live": "blue"}, (), "0")
    before = path.read_text()

    def killed(self: Path, target: Path) -> Path:
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        store.write({"release:live": "green"}, (), "1")
    monkeypatch.undo()
    assert path.read_text() == before
    left = [p.name for p in tmp_path.iterdir() if p.name not in {path.name, path.name + ".lock"}]
    assert len(left) == 1
    assert left[0].startswith(".staging-release.json."), left
