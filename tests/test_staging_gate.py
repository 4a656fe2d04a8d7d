"""Staging before production: which of staging's finished releases let production take a version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from components.config.release_record import Outcome, ReleaseRecord
from release.staging_gate import staging_verdict

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SOAK = timedelta(minutes=60)


def finished(version: str, outcome: Outcome, minutes_ago: int, *, migration_exit: int | None = 0) -> ReleaseRecord:
    ended = NOW - timedelta(minutes=minutes_ago)
    data: dict[str, object] = {
        "id": f"r-{version.replace('.', '')}-{minutes_ago}", "version": version, "colour": "green", "previous": "1.0.0",
        "strategy": "canary", "startedAt": ended - timedelta(minutes=30), "startedBy": "ci",
        "outcome": outcome.value, "finishedAt": ended,
    }
    if migration_exit is not None:
        data["migration"] = {"task": "arn:aws:ecs:eu-west-1:123456789012:task/c/abc", "exitCode": migration_exit}
    return ReleaseRecord.model_validate(data)


def judge(releases: list[ReleaseRecord], version: str = "1.2.3", *, needs_migration: bool = True):  # noqa: ANN201
    return staging_verdict(releases, version, soak=SOAK, needs_migration=needs_migration, now=NOW)


def test_a_version_promoted_and_held_past_the_soak_is_allowed() -> None:
    verdict = judge([finished("1.2.3", Outcome.PROMOTED, 90)])
    assert verdict.allowed
    assert verdict.release_id == "r-123-90"
    assert "90 min ago" in verdict.why


def test_a_version_staging_never_released_is_refused() -> None:
    verdict = judge([finished("1.2.2", Outcome.PROMOTED, 300)])
    assert not verdict.allowed
    assert verdict.why == "staging has no release of 1.2.3: release it there first"


def test_the_soak_must_have_passed() -> None:
    verdict = judge([finished("1.2.3", Outcome.PROMOTED, 59)])
    assert not verdict.allowed
    assert "59 min of the 60 min" in verdict.why
    assert judge([finished("1.2.3", Outcome.PROMOTED, 60)]).allowed


@pytest.mark.parametrize("outcome", [Outcome.ABORTED, Outcome.REFUSED, Outcome.ROLLED_BACK])
def test_the_newest_release_of_the_version_must_have_been_promoted(outcome: Outcome) -> None:
    # An earlier promotion does not count once a newer release of the same version failed.
    verdict = judge([finished("1.2.3", outcome, 70), finished("1.2.3", Outcome.PROMOTED, 200)])
    assert not verdict.allowed
    assert f"was {outcome.value}, not promoted" in verdict.why


def test_a_later_promotion_or_rollback_ends_the_versions_time_on_staging() -> None:
    replaced = judge([finished("1.2.4", Outcome.PROMOTED, 10), finished("1.2.3", Outcome.PROMOTED, 120)])
    assert not replaced.allowed
    assert "replaced by 1.2.4" in replaced.why
    rolled = judge([finished("1.2.2", Outcome.ROLLED_BACK, 10), finished("1.2.3", Outcome.PROMOTED, 120)])
    assert not rolled.allowed
    assert "rolled back" in rolled.why


def test_a_later_aborted_release_of_another_version_changes_nothing_live() -> None:
    assert judge([finished("1.2.4", Outcome.ABORTED, 10), finished("1.2.3", Outcome.PROMOTED, 120)]).allowed


def test_the_migration_must_have_run_and_succeeded_on_staging_when_production_plans_one() -> None:
    never = judge([finished("1.2.3", Outcome.PROMOTED, 120, migration_exit=None)])
    assert not never.allowed
    assert "migration of 1.2.3 never ran on staging" in never.why
    failed = judge([finished("1.2.3", Outcome.PROMOTED, 120, migration_exit=1)])
    assert "exited 1" in failed.why
    assert judge([finished("1.2.3", Outcome.PROMOTED, 120, migration_exit=None)], needs_migration=False).allowed
