"""Production's staging gate and the backup window, rehearsed: the real driver, moto, and a staging stack's history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from components.config.release_record import BackupState
from rehearsal.cli import app
from rehearsal.run import Rehearsal
from rehearsal.scenarios.staging import staging_with
from release.state import record as records
from tests.rehearsals import rehearsed

# The backup window is a subject here (a scale-down after it): two minutes, whole.
FAST = (("release:bakeMinutes", 1), ("release:backupMinutes", 2))


@pytest.fixture(scope="module")
def run() -> Callable[..., Rehearsal]:
    def get(scenario: str, skip: str | None = None) -> Rehearsal:
        return rehearsed("production", scenario, FAST, skip_staging=skip)

    return get


@pytest.mark.rehearsal
def test_a_version_staging_never_released_is_refused_before_production_changes(run: Callable[..., Rehearsal]) -> None:
    done = run("staging-gate")
    assert done.result.exit_code == 1
    assert done.summary["outcome"] == "refused"
    assert done.summary["failed"]["step"] == "staging gate"
    assert done.summary["failed"]["why"] == "staging has no release of rehearsal-1: release it there first"
    assert '--skip-staging --reason "..."' in done.summary["failed"]["next"]
    assert done.updates == [], "nothing changed on production"
    assert done.summary["weights"] == {"blue": 0, "green": 100}
    assert done.summary["history"] == []


@pytest.mark.rehearsal
def test_skipping_the_gate_with_a_reason_releases_and_history_shows_the_reason(run: Callable[..., Rehearsal]) -> None:
    done = run("staging-gate", "security fix, staging down")
    assert done.result.exit_code == 0, done.summary["failed"]
    assert done.summary["staging"]["skipped"] == "security fix, staging down"
    (row,) = done.summary["history"]
    assert row["staging_skipped"] == "security fix, staging down"
    assert row["outcome"] == "promoted"
    assert row["backup"] == "scaled-down", "after the 2-minute window, with live healthy and no alarm"


@pytest.mark.rehearsal
def test_a_version_staging_promoted_and_held_goes_through_the_gate(run: Callable[..., Rehearsal]) -> None:
    done = run("staging-held")
    assert done.result.exit_code == 0, done.summary["failed"]
    assert done.summary["staging"]["allowed"] is True
    assert "staging promoted rehearsal-1" in done.summary["staging"]["why"]
    assert "90 min ago with no rollback" in done.summary["staging"]["why"]
    assert done.summary["history"][0]["staging_skipped"] is None


@pytest.mark.rehearsal
@pytest.mark.parametrize(("scenario", "says"), [
    ("staging-recent", "rehearsal-1 has run on staging for 10 min of the 60 min it must soak"),
    ("staging-rolled-back", "staging promoted rehearsal-1 (r-20251231t210507-staging) but it was since rolled back"),
])
def test_a_promotion_too_recent_or_rolled_back_on_staging_is_refused_with_the_reason(
    run: Callable[..., Rehearsal], scenario: str, says: str,
) -> None:
    done = run(scenario)
    assert done.result.exit_code == 1
    assert says in done.summary["failed"]["why"]
    assert done.updates == []


def test_the_staging_history_is_written_the_way_the_driver_writes_it() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    engine, _ = staging_with("staging", "v9", "rolled-back", soak_minutes=60, now=now)
    # Each release ended in its own recorded update, and the finished records are where the driver keeps them.
    assert [h.message.split(":")[0] for h in engine.history()] == ["rollback", "release r-20251231t210500-staging"]
    found = records.releases(engine.history(), engine.get_config())
    assert [(r.version, r.outcome.value if r.outcome else None) for r in found] == [
        (found[0].version, "rolled-back"), ("v9", "promoted"),
    ]
    assert found[1].finished_at == now - timedelta(minutes=150)


@pytest.mark.parametrize(("args", "says"), [
    (["--skip-staging"], "--skip-staging: give --reason"),
    (["--reason", "x"], "goes with --skip-staging only"),
    (["--stack", "staging", "--scenario", "staging-gate"], "rehearses production's staging gate; use --stack production"),
])
def test_rehearse_refuses_bad_gate_flags_with_exit_2(args: list[str], says: str) -> None:
    result = CliRunner().invoke(app, ["--scenario", "staging-gate", *args], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert says in result.output


@pytest.mark.rehearsal
def test_live_going_bad_in_the_backup_window_keeps_the_old_colour_running() -> None:
    # Production's alarms need 4 of 5 bad minutes; the window is long enough for them, and the old colour's
    # standby count is lowered to 1 so a scale-down would show.
    done = rehearsed("production", "backup-alarm", (("release:bakeMinutes", 1), ("release:backupMinutes", 15),
                                                    ("fleet:candidateCount", 1)))
    assert done.result.exit_code == 1
    assert done.summary["outcome"] == "promoted"
    assert done.summary["failed"]["step"] == "retire"
    assert "release alarms of blue in ALARM" in done.summary["failed"]["why"]
    assert "python -m release rollback --stack production" in done.summary["failed"]["next"]
    assert done.summary["backup"]["state"] == BackupState.KEPT.value
    assert "during the backup window" in done.summary["backup"]["why"]
    assert done.summary["tasks"]["green"] == {"running": 3, "desired": 3}, "the backup still runs what it ran as live"
    assert not any("scale green down" in u["message"] for u in done.updates)
    assert done.summary["history"][0]["backup"].startswith("kept: release alarms of blue in ALARM")
