"""The durable release record: validated with the stack config, written and read back, found in history."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from components.config import Colour
from components.config.release_record import Outcome, Phase
from release.clock import ManualClock
from release.engine import HistoryEntry
from release.state import record as records

RECORD: dict[str, Any] = {
    "id": "r-1", "version": "4a5b6c7d", "colour": "green", "previous": "3f9c2e1a", "strategy": "canary",
    "startedAt": "2026-11-26T06:00:00Z", "startedBy": "alice@laptop",
}


def test_a_release_in_progress_must_target_the_candidate(config_problems: Callable[..., list[str]]) -> None:
    problems = config_problems("staging", ("release:inProgress", {**RECORD, "colour": "blue"}))
    assert problems == [
        'release:inProgress.colour: got "blue"; the release in progress must target green: the candidate colour, not the live one',
    ]


def test_a_release_in_progress_has_no_outcome(config_problems: Callable[..., list[str]]) -> None:
    problems = config_problems("staging", ("release:inProgress", {**RECORD, "outcome": "promoted", "finishedAt": "2026-11-26T07:00:00Z"}))
    assert problems == ['release:inProgress.outcome: got "promoted"; a release in progress has no outcome yet']


def test_a_last_release_records_its_outcome(config_problems: Callable[..., list[str]]) -> None:
    problems = config_problems("staging", ("release:lastRelease", RECORD))
    assert problems == ["release:lastRelease.outcome: got null; a finished release records its outcome: promoted, aborted or refused"]


def test_the_highest_weight_is_never_below_the_weight(config_problems: Callable[..., list[str]]) -> None:
    problems = config_problems("staging", ("release:inProgress", {**RECORD, "weight": 25, "highestWeight": 10}))
    assert problems == ["release:inProgress.highestWeight: got 10; must be at least weight (25)"]


def test_an_unknown_phase_names_the_allowed_ones(config_problems: Callable[..., list[str]]) -> None:
    problems = config_problems("staging", ("release:inProgress", {**RECORD, "phase": "baking"}))
    assert len(problems) == 1
    assert problems[0].startswith('release:inProgress.phase: got "baking"; input should be ')
    assert "'shifting'" in problems[0]


def test_a_record_round_trips_through_its_config_value() -> None:
    record = records.decode(json.dumps(RECORD))
    assert record is not None
    moved = records.advance(record, Phase.SHIFTING, weight=25, snapshot="s-1")
    again = records.decode(records.encode(moved))
    assert again == moved
    assert again is not None
    assert (again.weight, again.highest_weight, again.snapshot, again.colour) == (25, 25, "s-1", Colour.GREEN)
    assert records.advance(again, weight=10).highest_weight == 25


def test_an_unreadable_record_reads_as_none() -> None:
    assert records.decode("{not json") is None
    assert records.decode(json.dumps({"id": "r-1"})) is None
    assert records.decode(None) is None


def test_finished_releases_are_found_in_the_stack_history_once_each() -> None:
    record = records.decode(json.dumps(RECORD))
    assert record is not None
    first = records.finished(record, Outcome.ABORTED, ManualClock(), "alarm")
    second = records.finished(record.model_copy(update={"id": "r-2"}), Outcome.PROMOTED, ManualClock())
    history = [
        HistoryEntry(9, "after r-2", {records.LAST_RELEASE: records.encode(second)}, "succeeded"),
        HistoryEntry(8, "r-2 promote", {records.LAST_RELEASE: records.encode(second)}, "succeeded"),
        HistoryEntry(7, "r-1 abort", {records.LAST_RELEASE: records.encode(first)}, "succeeded"),
        HistoryEntry(6, "before", {}, "succeeded"),
    ]
    found = records.releases(history)
    assert [(r.id, r.outcome) for r in found] == [("r-2", Outcome.PROMOTED), ("r-1", Outcome.ABORTED)]
    assert found[1].reason == "alarm"
