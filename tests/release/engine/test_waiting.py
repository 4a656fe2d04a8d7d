"""An update waits out another update's lock, up to ``release:lockWaitMinutes``, and says who holds the stack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from offline.stacks import ProjectFiles
from release.clock import ManualClock
from release.engine import HistoryEntry, StackBusyError, UpdateResult
from release.engine.waiting import POLL_SECONDS, WaitingEngine

HOLDER = "pulumi-deployments (deployment 17)"


class _Held:
    """A stack that another update holds until ``free_at`` (monotonic seconds of the clock)."""

    def __init__(self, clock: ManualClock, free_at: float, config: Mapping[str, str] | None = None) -> None:
        self.stack = "staging"
        self.clock = clock
        self.free_at = free_at
        self.tries = 0
        self.config = dict(ProjectFiles.here().stack_config("staging")[0] if config is None else config)

    def update(self, message: str, targets: Sequence[str] | None = None) -> UpdateResult:
        self.tries += 1
        if self.clock.monotonic() < self.free_at:
            raise StackBusyError(f"update of stack {self.stack}", f"another update is in progress ({HOLDER})", "wait")
        return UpdateResult(version=7, changed=("urn:x",))

    def holder(self) -> str | None:
        return HOLDER if self.clock.monotonic() < self.free_at else None

    def get_config(self) -> dict[str, str]:
        return dict(self.config)

    def set_config(self, values: Mapping[str, str]) -> None:
        self.config.update(values)

    def remove_config(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.config.pop(key, None)

    def read_release(self) -> tuple[dict[str, str], str]:
        return {}, "1"

    def write_release(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        return "2"

    def outputs(self) -> dict[str, Any]:
        return {}

    def history(self, limit: int | None = None) -> list[HistoryEntry]:
        return []


def _waiting(free_at: float, **config: str) -> tuple[WaitingEngine, _Held, ManualClock, list[str]]:
    clock = ManualClock()
    inner = _Held(clock, free_at)
    inner.config.update(config)
    notes: list[str] = []
    return WaitingEngine(inner, clock, notes.append), inner, clock, notes


def test_an_update_waits_until_the_holder_is_done_then_runs_once() -> None:
    engine, inner, clock, notes = _waiting(free_at=200.0)
    result = engine.update("release r-1: 50% to green")
    assert result.version == 7
    assert 200.0 <= clock.monotonic() < 200.0 + POLL_SECONDS
    assert engine.waited_seconds == clock.monotonic()
    assert HOLDER in notes[0]
    assert "up to 15 min (release:lockWaitMinutes)" in notes[0]
    assert [n for n in notes[1:] if "still held" in n] == [f"stack staging is still held by {HOLDER} after {m} min" for m in (1, 2, 3)]


def test_a_lock_held_past_the_bound_fails_naming_the_holder_and_the_wait() -> None:
    engine, inner, clock, _ = _waiting(free_at=3600.0, **{"release:lockWaitMinutes": "2"})
    with pytest.raises(StackBusyError) as caught:
        engine.update("release r-1: 50% to green")
    assert HOLDER in caught.value.why
    assert "waited 2 min for it, the bound of release:lockWaitMinutes (2)" in caught.value.why
    assert clock.monotonic() == 120.0, "it stopped at the bound, not a poll later"


def test_a_bound_of_zero_fails_at_once_without_waiting() -> None:
    engine, inner, clock, notes = _waiting(free_at=10.0, **{"release:lockWaitMinutes": "0"})
    with pytest.raises(StackBusyError):
        engine.update("release r-1: 50% to green")
    assert (inner.tries, clock.monotonic(), notes) == (1, 0.0, [])


def test_an_unreadable_config_waits_the_default_bound() -> None:
    engine, inner, clock, _ = _waiting(free_at=3600.0, **{"release:lockWaitMinutes": "soon"})
    with pytest.raises(StackBusyError) as caught:
        engine.update("release r-1: 50% to green")
    assert "(15)" in caught.value.why
    assert clock.monotonic() == 15 * 60


def test_a_free_stack_is_updated_without_a_pause() -> None:
    engine, inner, clock, notes = _waiting(free_at=0.0)
    engine.update("anything")
    assert (inner.tries, clock.monotonic(), notes) == (1, 0.0, [])


def test_other_calls_go_straight_to_the_inner_engine() -> None:
    engine, inner, _, _ = _waiting(free_at=0.0)
    engine.set_config({"release:canaryWeight": "25"})
    assert engine.get_config()["release:canaryWeight"] == "25"
    engine.remove_config(["release:canaryWeight"])
    assert "release:canaryWeight" not in engine.get_config()
    assert (engine.read_release(), engine.write_release({}, [], "1"), engine.outputs(), engine.history(3)) == (({}, "1"), "2", {}, [])
    assert engine.holder() is None
