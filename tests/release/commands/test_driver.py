"""The driver's commands: dry run, bad input, and status/abort/promote from another shell, against moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rehearsal.cli import app as rehearsal_app
from rehearsal.world.engine import RehearsalEngine
from rehearsal.world.seams import RehearsalTaskRunner
from rehearsal.world.servers import Behaviour, HealthServer, Moto, MotoSession
from rehearsal.world.stack import World
from release.cli import app
from release.clock import ManualClock
from release.commands import driver
from release.context import Aws
from release.engine.offline import OfflineEngine
from release.state import record as records

RUNNER = CliRunner()
CANDIDATE_VERSIONS = '{"blue":"3f9c2e1a","green":"4a5b6c7d"}'
RECORD = {
    "id": "r-1", "version": "4a5b6c7d", "colour": "green", "previous": "3f9c2e1a", "strategy": "canary",
    "startedAt": "2026-11-26T06:00:00Z", "startedBy": "alice@laptop", "phase": "shifting", "weight": 25, "highestWeight": 25,
}


def _offline_connection(engine: OfflineEngine) -> driver.Connection:
    # Nothing listens on port 9: any AWS call would fail loudly, and a dry run must make none.
    session = MotoSession("http://127.0.0.1:9", "eu-west-1")
    clock = ManualClock()
    return driver.Connection(engine, Aws.from_session(session, clock), clock, RehearsalTaskRunner(session))


def test_a_dry_run_prints_the_steps_and_issues_no_update(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = OfflineEngine("staging")
    monkeypatch.setattr(driver, "CONNECT", lambda stack: _offline_connection(engine))
    monkeypatch.setenv("COLUMNS", "200")  # one table row a line
    result = RUNNER.invoke(app, ["deploy", "--stack", "staging", "--version", "4a5b6c7d", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "send 25% to green, verify the listener" in result.output
    assert "release:canaryWeight=25" in result.output
    assert "dry run: nothing was changed" in result.output
    assert engine.updates == []
    assert engine.history() == []
    assert "release:inProgress" not in engine.get_config()


def test_a_dry_run_as_json_gives_each_step_its_config_change_and_duration(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = OfflineEngine("staging")
    monkeypatch.setattr(driver, "CONNECT", lambda stack: _offline_connection(engine))
    result = RUNNER.invoke(app, ["deploy", "-s", "staging", "-v", "4a5b6c7d", "--strategy", "blue-green", "--dry-run", "-o", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    shifts = [s for s in data["steps"] if s["step"] == "shift"]
    # All but the 5% control share live keeps (release:controlWeight) until the backup window ends it.
    assert [s["config"] for s in shifts] == [{"release:canaryWeight": 95}]
    assert data["expected_seconds"] > 300
    assert engine.updates == []


@pytest.mark.parametrize(("args", "message"), [
    (["--stack", "qa", "--version", "v2"], "unknown stack 'qa'; the stacks are: production, staging"),
    (["--stack", "staging", "--version", "bad tag!"], "--version 'bad tag!': not an image tag"),
    (["--stack", "staging", "--version", "v2", "--steps", "10,50,25,100"], "--steps 10,50,25,100: steps must be strictly increasing"),
    (["--stack", "staging", "--version", "v2", "--steps", "ten"], "--steps 'ten': a comma-separated list of whole percents"),
])
def test_bad_input_exits_2_with_the_flag_and_what_is_allowed(monkeypatch: pytest.MonkeyPatch, args: list[str], message: str) -> None:
    engine = OfflineEngine("staging")
    monkeypatch.setattr(driver, "CONNECT", lambda stack: _offline_connection(engine))
    result = RUNNER.invoke(app, ["deploy", *args, "--dry-run"], terminal_width=400)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert engine.updates == []


def test_a_release_already_in_progress_is_refused_with_the_way_out(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = OfflineEngine("staging")
    engine.set_config({"release:versions": CANDIDATE_VERSIONS, records.IN_PROGRESS: json.dumps(RECORD)})
    monkeypatch.setattr(driver, "CONNECT", lambda stack: _offline_connection(engine))
    result = RUNNER.invoke(app, ["deploy", "--stack", "staging", "--version", "5e6f7a8b", "--yes", "-o", "json"])
    assert result.exit_code == 1, result.output
    error = json.loads(result.output)["error"]
    assert "release r-1 of 4a5b6c7d is in progress on staging, held by alice@laptop" in error["why"]
    assert "python -m release abort --stack staging" in error["next"]
    assert engine.updates == []


# --- against moto: a release left at 25% by one shell, handled from another ---------------


@dataclass
class Shell:
    world: World
    state: Path
    clock: ManualClock
    session: MotoSession

    def connect(self, stack: str) -> driver.Connection:
        offline = OfflineEngine(stack, state_path=self.state, clock=self.clock)
        offline.hooks.append(self.world.apply)
        self.engines.append(offline)
        return driver.Connection(RehearsalEngine(offline, self.world), Aws.from_session(self.session, self.clock),
                                 self.clock, RehearsalTaskRunner(self.session))

    @property
    def engines(self) -> list[OfflineEngine]:
        if not hasattr(self, "_engines"):
            self._engines: list[OfflineEngine] = []
        return self._engines


@pytest.fixture
def halfway(tmp_path: Path) -> Iterator[Shell]:
    clock = ManualClock()
    with Moto("eu-west-1") as session, HealthServer(Behaviour()) as health:
        first = OfflineEngine("staging", state_path=tmp_path / "staging.json", clock=clock)
        world = World(session, clock, health.base_url)
        world.build(first.plan())
        first.hooks.append(world.apply)
        first.set_config({"release:versions": CANDIDATE_VERSIONS})
        first.update("deploy")
        first.set_config({"release:canaryWeight": "25", records.IN_PROGRESS: json.dumps(RECORD)})
        first.update("25% to green")
        assert world.served_weights(first.outputs()) == {"blue": 75, "green": 25}
        yield Shell(world, tmp_path / "staging.json", clock, session)


def _served(shell: Shell, engine: OfflineEngine) -> dict[str, Any]:
    return shell.world.served_weights(engine.outputs())


def test_status_from_another_shell_shows_the_release_in_progress_and_drift(monkeypatch: pytest.MonkeyPatch, halfway: Shell) -> None:
    monkeypatch.setattr(driver, "CONNECT", halfway.connect)
    engine_view = halfway.connect("staging").engine
    groups = engine_view.outputs()["target_group_arns"]
    halfway.world.elbv2.set_forward_weights(engine_view.outputs()["listener_arn"], {groups["blue"]: 50, groups["green"]: 50})
    result = RUNNER.invoke(app, ["status", "--stack", "staging", "--output", "json"])
    assert result.exit_code == 0, result.output
    state = json.loads(result.output)
    assert state["in_progress"]["id"] == "r-1"
    assert state["weights"] == {"blue": 75, "green": 25}
    assert state["served"] == {"blue": 50, "green": 50}
    assert state["drift"] == ["the stack exports weights {'blue': 75, 'green': 25} but the listener serves {'blue': 50, 'green': 50}"]
    assert set(state["alarms"]["green"].values()) == {"OK"}


def test_abort_from_another_shell_returns_traffic_to_live_in_one_update(monkeypatch: pytest.MonkeyPatch, halfway: Shell) -> None:
    monkeypatch.setattr(driver, "CONNECT", halfway.connect)
    result = RUNNER.invoke(app, ["abort", "--stack", "staging", "-o", "json"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.output) == {"stack": "staging", "outcome": "aborted", "release": "r-1", "live": "blue"}
    engine = halfway.engines[-1]
    assert [u.touched for u in engine.updates] == [1]
    assert _served(halfway, engine) == {"blue": 100, "green": 0}
    config = engine.get_config()
    assert records.IN_PROGRESS not in config
    last = records.last_release(config)
    assert last is not None
    assert last.outcome is not None
    assert last.outcome.value == "aborted"


def test_promote_from_another_shell_makes_the_candidate_live(monkeypatch: pytest.MonkeyPatch, halfway: Shell) -> None:
    monkeypatch.setattr(driver, "CONNECT", halfway.connect)
    result = RUNNER.invoke(app, ["promote", "--stack", "staging", "-o", "json"])
    assert result.exit_code == 0, result.output
    engine = halfway.engines[-1]
    assert engine.outputs()["live_colour"] == "green"
    assert _served(halfway, engine) == {"blue": 0, "green": 100}


def test_abort_with_nothing_in_progress_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = OfflineEngine("staging")
    monkeypatch.setattr(driver, "CONNECT", lambda stack: _offline_connection(engine))
    result = RUNNER.invoke(app, ["abort", "--stack", "staging"], terminal_width=300)
    assert result.exit_code == 1
    assert "no release is in progress on staging" in result.output


def test_rehearse_refuses_an_unknown_scenario() -> None:
    result = RUNNER.invoke(rehearsal_app, ["--scenario", "meteor"])
    assert result.exit_code == 2
    assert "--scenario 'meteor': allowed happy, alarm, unhealthy, smoke-fails, migration-fails, bad-candidate" in result.output
    assert "throttled" in result.output
    assert "rollback-after-promote" in result.output


def test_an_interrupted_deploy_leaves_the_verified_weight_and_prints_both_ways_out(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = OfflineEngine("staging")

    class Interrupted:
        def __init__(self, ctx: Any) -> None:
            self.ctx = ctx

        def run(self, steps: Any, record: Any) -> Any:
            engine.set_config({"release:versions": CANDIDATE_VERSIONS, records.IN_PROGRESS: json.dumps(RECORD)})
            raise KeyboardInterrupt

    monkeypatch.setattr(driver, "CONNECT", lambda stack: _offline_connection(engine))
    monkeypatch.setattr(driver, "Executor", Interrupted)
    result = RUNNER.invoke(app, ["deploy", "--stack", "staging", "--version", "4a5b6c7d", "--yes", "-o", "json"])
    assert result.exit_code == 1, result.output
    error = json.loads(result.output)["error"]
    assert error["why"] == "interrupted; the candidate stays at its last verified weight (25%)"
    assert error["next"] == "python -m release resume --stack staging  (or: python -m release abort --stack staging)"
    assert records.in_progress(engine) is not None


def test_an_interrupted_rolling_deploy_names_abort_not_resume(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = OfflineEngine("staging")
    engine.set_config({"release:strategy": "rolling"})
    rolling = {**RECORD, "colour": "blue", "strategy": "rolling", "phase": "migrated", "weight": 0, "highestWeight": 0}

    class Interrupted:
        def __init__(self, ctx: Any) -> None:
            self.ctx = ctx

        def run(self, steps: Any, record: Any) -> Any:
            engine.set_config({"release:versions": '{"blue":"4a5b6c7d","green":"3f9c2e1a"}', records.IN_PROGRESS: json.dumps(rolling)})
            raise KeyboardInterrupt

    monkeypatch.setattr(driver, "CONNECT", lambda stack: _offline_connection(engine))
    monkeypatch.setattr(driver, "Executor", Interrupted)
    result = RUNNER.invoke(app, ["deploy", "--stack", "staging", "--version", "4a5b6c7d", "--yes", "-o", "json"])
    assert result.exit_code == 1, result.output
    error = json.loads(result.output)["error"]
    assert error["why"].startswith("interrupted; blue keeps what the stack last set")
    assert error["next"] == "python -m release abort --stack staging  (puts blue back to 3f9c2e1a, verified)"


def test_rehearse_names_the_command_it_moved_to_with_the_same_arguments() -> None:
    result = RUNNER.invoke(app, ["rehearse", "--stack", "production", "--scenario", "staging-gate", "--json"])
    assert result.exit_code == 2
    assert "run `python -m rehearsal --stack production --scenario staging-gate --json`" in result.output
