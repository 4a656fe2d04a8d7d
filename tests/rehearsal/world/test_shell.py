"""The two-shell seam's pause points (``rehearsal/world/shell.py``): where a process stops, and what resumes it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rehearsal.world import shell


def test_pause_points_are_read_in_order() -> None:
    assert shell._points("minute:12.5;minute:13.5") == [("minute", "12.5"), ("minute", "13.5")]
    assert shell._points("before:95% to green, blue keeps 5%;write:1") == [("before", "95% to green, blue keeps 5%"), ("write", "1")]
    assert shell._points("") == []


@pytest.mark.parametrize("given", ["write:0", "write:two", "minute:", "later:3", "before:", "minute:1;"])
def test_a_bad_pause_point_is_one_line_naming_the_variable_the_value_and_what_is_allowed(given: str) -> None:
    with pytest.raises(SystemExit) as caught:
        shell._points(given)
    assert str(caught.value) == (
        f"RELEASE_WORLD_PAUSE={given!r}: allowed before:TEXT, after:TEXT, minute:N (minutes) or write:N (N from 1), "
        "several separated by ';'"
    )


def test_each_point_stops_the_process_once_in_turn_and_a_write_point_at_exactly_its_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    stops: list[str] = []
    monkeypatch.setenv(shell.PAUSE, "write:2;minute:3;write:4")
    pauses = shell._Pauses(tmp_path)
    monkeypatch.setattr(shell, "pause", lambda directory: stops.append(f"write {pauses.writes}, points left {len(pauses.points)}"))
    pauses.at_write()
    pauses.at_minute(5)  # not yet: the write comes first
    pauses.at_write()
    pauses.at_write()  # the third write: the minute point is next
    pauses.at_minute(2)
    pauses.at_minute(3)
    pauses.at_write()
    pauses.at_write()
    assert stops == ["write 2, points left 2", "write 3, points left 1", "write 4, points left 0"]


def test_a_resume_of_its_own_is_used_up_and_the_resume_of_all_stays(tmp_path: Path) -> None:
    mine = tmp_path / f"resume-{os.getpid()}"
    mine.write_text("go")
    shell.pause(tmp_path)
    assert (tmp_path / "paused").read_text() == str(os.getpid())
    assert not mine.exists(), "its own resume goes with the point it ended"
    (tmp_path / "resume").write_text("go")
    shell.pause(tmp_path)
    assert (tmp_path / "resume").exists(), "every paused shell, for good"


def test_a_write_point_whose_write_went_by_before_it_was_next_never_stops_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    stops: list[int] = []
    monkeypatch.setenv(shell.PAUSE, "minute:1;write:1")
    pauses = shell._Pauses(tmp_path)
    monkeypatch.setattr(shell, "pause", lambda directory: stops.append(pauses.writes))
    pauses.at_write()
    pauses.at_minute(1)
    pauses.at_write()
    # The test that waits for it fails ("the shell ended before its pause point") instead of stopping it elsewhere.
    assert stops == [1]
