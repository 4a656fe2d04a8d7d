"""Checks that protect users when the world changes under a running command.

A release ended from another shell during a bake stops the running driver
before its next write; a standalone migration whose smoke test fails afterwards
is reported as failed with its snapshot. Each test fails when its check is
deleted or made always-true.
"""

from __future__ import annotations

from typing import Any

from release.clock import ManualClock
from release.rollback.migrate import migrate
from release.state import record as records
from tests.stack_world import World, release, world


class EndingClock(ManualClock):
    """A manual clock that runs ``action`` once it has slept past ``at`` seconds, as another shell would."""

    def __init__(self) -> None:
        super().__init__()
        self.at: float | None = None
        self.action: Any = None

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if self.at is not None and self.monotonic() >= self.at:
            self.at = None
            self.action()


def test_a_release_ended_from_another_shell_during_a_bake_stops_the_driver_before_its_next_write(session: Any) -> None:
    clock = EndingClock()
    w: World = world(session, clock=clock)
    seen: dict[str, Any] = {}

    def end_elsewhere() -> None:
        # Another shell's abort: the record is gone and live serves everything again.
        w.stack.remove_config([records.IN_PROGRESS])
        w.stack.set_config({"release:canaryWeight": "0"})
        w.stack.update("abort from another shell")
        seen["issued"] = len(w.stack.issued)

    clock.action = end_elsewhere
    # Into the bake of the first step (10%): deploy, smoke and the shift are behind.
    clock.at = 30.0

    result = release(w, "v2", poll_seconds=10)

    assert seen, "the other shell ended the release"
    assert len(w.stack.issued) == seen["issued"], "the driver issued no update after the release was ended elsewhere"
    assert result.exit_code != 0
    assert result.failed_step == "bake"
    assert w.stack.release_config().in_progress is None
    assert w.stack.served() == {"blue": 100, "green": 0}


def test_a_standalone_migration_followed_by_a_failed_smoke_test_is_a_failure_that_keeps_its_snapshot(session: Any) -> None:
    w = world(session, probe_status=500)
    result = migrate(w.ctx)
    assert not result.ok
    assert result.exit_code == 0, "the migration itself succeeded: the smoke test is what failed"
    assert result.why == "after the migration GET http://live.example/health answered 500"
    assert f"restore from snapshot {result.snapshot} if the data is damaged" in result.next_command
    assert result.to_json()["outcome"] == "failed"
    assert w.probes[-1] == "http://live.example/health"
