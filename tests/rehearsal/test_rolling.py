"""Rolling releases rehearsed against moto: ECS's rollout played by the rehearsal's seam, alarms set only by real traffic."""

from __future__ import annotations

from typing import Any

import pytest

from release.errors import ExitCode
from tests.rehearsals import summary

pytestmark = pytest.mark.rehearsal

ROLLING = ["-c", "release:strategy=rolling", "-c", "release:rolling.bakeMinutes=1"]
OLD = "3f9c2e1a"  # staging's blue (live) version, environments/staging-release.yaml
NEW = "rehearsal-1"


def _rehearse(scenario: str, *extra: str) -> tuple[int, dict[str, Any]]:
    return summary("--stack", "staging", "--scenario", scenario, *ROLLING, *extra)


def _events(summary: dict[str, Any]) -> list[tuple[float, str, str]]:
    return [(e["at"], e["deployment"], e["state"]) for e in summary["rollout"]]


def test_happy_rolling_release_completes_with_the_new_version_on_the_live_colour() -> None:
    code, summary = _rehearse("happy")
    assert code == ExitCode.OK
    assert summary["outcome"] == "promoted"
    assert summary["live"] == "blue"
    assert summary["versions"]["blue"] == NEW
    assert summary["weights"] == {"blue": 100, "green": 0}
    assert [state for _, _, state in _events(summary)] == ["IN_PROGRESS", "COMPLETED"]
    # The roll touched the live colour's task definition and service only; the migration task went first.
    roll = next(u for u in summary["updates"] if u["message"].endswith(f"roll {NEW} onto blue"))
    assert roll["counts"] == {"replace": 1, "update": 1}
    assert summary["traffic"]["green"]["requests"] == 0


def test_an_alarm_from_real_traffic_fails_the_rollout_ecs_rolls_back_and_the_old_version_is_put_back() -> None:
    code, summary = _rehearse("alarm")
    assert code == ExitCode.REFUSED
    assert summary["outcome"] == "rolled-back"
    # The old version is back in the stack config.
    assert summary["versions"]["blue"] == OLD
    events = _events(summary)
    failed_at = next(at for at, _, state in events if state == "FAILED")
    # The deployment alarm that failed it was set by the evaluator from the traffic's metrics, before ECS acted.
    fired = [a for a in summary["alarms"] if a["state"] == "ALARM" and a["alarm"].startswith("webapp-staging-blue")]
    assert fired
    assert min(a["at"] for a in fired) <= failed_at
    # ECS's rollback completed before the driver's own update put the old version back (a later deployment).
    rollback = next(ident for _, ident, state in events if state == "rolling back")
    rolled_back_at = next(at for at, ident, state in events if ident == rollback and state == "COMPLETED")
    restore_began = next(at for at, ident, state in events if state == "IN_PROGRESS" and at > failed_at)
    assert restore_began >= rolled_back_at
    assert summary["updates"][-1]["message"].split(": ", 1)[1].startswith(f"blue back to {OLD}")
    assert "ALARM during the rollout" in summary["failed"]["why"]


def test_a_version_whose_tasks_never_turn_healthy_is_rolled_back_by_the_circuit_breaker() -> None:
    code, summary = _rehearse("unhealthy")
    assert code == ExitCode.REFUSED
    assert summary["outcome"] == "rolled-back"
    assert summary["versions"]["blue"] == OLD
    assert "circuit breaker" in summary["failed"]["why"]
    # The old tasks kept serving: no request went unanswered by the load balancer.
    assert summary["traffic"]["blue"]["elb_5xx"] == 0
