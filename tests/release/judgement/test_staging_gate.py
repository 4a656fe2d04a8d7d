"""Staging before production: which of staging's finished releases let production take a version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from components.config import load
from components.config.release_record import Backup, BackupState, Outcome, ReleaseRecord
from offline.stacks import ProjectFiles
from release.judgement.staging_gate import staging_verdict

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


def test_a_promotion_whose_backup_staging_had_to_keep_is_refused() -> None:
    found = finished("1.2.3", Outcome.PROMOTED, 120)
    kept = found.model_copy(update={"backup": Backup(
        colour="blue", until=NOW, state=BackupState.KEPT, at=NOW - timedelta(minutes=100),
        why="release alarms of green in ALARM: web-staging-green-release during the backup window",
    )})
    verdict = judge([kept])
    assert not verdict.allowed
    assert "kept its backup: release alarms of green in ALARM" in verdict.why
    scaled = kept.model_copy(update={"backup": kept.backup.model_copy(update={"state": BackupState.SCALED_DOWN})})  # type: ignore[union-attr]
    assert judge([scaled]).allowed


def test_production_cannot_follow_itself() -> None:
    from release.engine.offline import OfflineEngine
    from release.errors import BadInputError
    from release.judgement.staging_gate import require_staging

    config, _ = ProjectFiles.here().stack_config("production")
    # The config refuses it when it loads (components/config load); the gate keeps its own check for a config built otherwise.
    release = load(config, "production").release.model_copy(update={"staging_stack": "production"})
    with pytest.raises(BadInputError, match="release:stagingStack: got 'production'"):
        require_staging("production", "1.2.3", release, {}, OfflineEngine("staging"), NOW)


# --- the gate in `deploy` ---------------------------------------------------------------------------------------

from typer.testing import CliRunner  # noqa: E402

from rehearsal.world.seams import RehearsalTaskRunner  # noqa: E402
from rehearsal.world.servers import MotoSession  # noqa: E402
from release.cli import app  # noqa: E402
from release.clock import ManualClock  # noqa: E402
from release.commands import driver  # noqa: E402
from release.context import Aws  # noqa: E402
from release.engine.offline import OfflineEngine  # noqa: E402
from release.state import record as records  # noqa: E402

RUNNER = CliRunner()


def _connections(monkeypatch: pytest.MonkeyPatch, staging_last: ReleaseRecord | None) -> dict[str, OfflineEngine]:
    engines = {"production": OfflineEngine("production"), "staging": OfflineEngine("staging")}
    if staging_last is not None:
        engines["staging"].set_config({records.LAST_RELEASE: records.encode(staging_last)})
        # The update that ended staging's release: its history now carries the record.
        engines["staging"].update("release on staging")

    def connect(stack: str) -> driver.Connection:
        # Nothing listens on port 9: the gate must decide before any AWS call.
        session = MotoSession("http://127.0.0.1:9", "eu-west-1")
        clock = ManualClock(NOW)
        return driver.Connection(engines[stack], Aws.from_session(session, clock), clock, RehearsalTaskRunner(session))

    monkeypatch.setattr(driver, "CONNECT", connect)
    monkeypatch.setattr(driver, "require_pulumi", lambda: None)
    return engines


def test_production_refuses_a_version_staging_never_released_and_says_both_ways_on(monkeypatch: pytest.MonkeyPatch) -> None:
    engines = _connections(monkeypatch, finished("1.2.2", Outcome.PROMOTED, 300))
    result = RUNNER.invoke(app, ["deploy", "--stack", "production", "--version", "1.2.3", "--yes"])
    assert result.exit_code == 1, result.output
    assert "staging has no release of 1.2.3" in result.output
    assert "--skip-staging --reason" in result.output
    assert engines["production"].updates == []
    assert records.IN_PROGRESS not in engines["production"].get_config()


def test_a_version_staging_promoted_and_held_passes_the_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    engines = _connections(monkeypatch, finished("1.2.3", Outcome.PROMOTED, 120))
    result = RUNNER.invoke(app, ["deploy", "--stack", "production", "--version", "1.2.3", "--yes"])
    # Past the gate the release goes on to AWS, which is unreachable here: anything but the gate's refusal.
    assert "staging gate" not in result.output
    assert "staging has no release" not in result.output
    assert len(engines["staging"].updates) == 1  # the set-up's own: the gate only reads staging


@pytest.mark.parametrize(("args", "says"), [
    (["--skip-staging"], "--skip-staging: give --reason"),
    (["--skip-staging", "--reason", "  "], "--skip-staging: give --reason"),
    (["--reason", "hotfix"], "goes with --skip-staging only"),
    (["--skip-staging", "--reason", "x" * 501], "at most 500"),
])
def test_skip_staging_needs_a_reason_checked_before_connecting(monkeypatch: pytest.MonkeyPatch, args: list[str], says: str) -> None:
    def refuse(stack: str) -> driver.Connection:
        raise AssertionError("connected")

    monkeypatch.setattr(driver, "CONNECT", refuse)
    result = RUNNER.invoke(app, ["deploy", "--stack", "production", "--version", "1.2.3", "--yes", *args])
    assert result.exit_code == 2, result.output
    assert says in result.output


def test_skipping_the_gate_keeps_the_reason_in_the_record(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[ReleaseRecord] = []

    class Stop(Exception):
        pass

    def capture(self: object, steps: object, record: ReleaseRecord) -> None:
        seen.append(record)
        raise KeyboardInterrupt

    _connections(monkeypatch, None)
    monkeypatch.setattr(driver.Executor, "run", capture)
    RUNNER.invoke(app, ["deploy", "--stack", "production", "--version", "1.2.3", "--yes", "--skip-staging",
                        "--reason", "security fix, staging down"])
    assert [r.staging_skipped for r in seen] == ["security fix, staging down"]
