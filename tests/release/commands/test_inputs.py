"""Bad input to ``deploy`` and ``python -m rehearsal``: each refused with exit 2, naming the flag or key, the value and what is
allowed, before anything changes; and a dry run refuses what the real deploy refuses."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from rehearsal import cli as rehearsal_cli
from release.cli import app
from release.commands import driver
from release.engine.offline import OfflineEngine
from release.errors import ExitCode
from tests.release.commands.test_driver import _offline_connection

RUNNER = CliRunner()
VERSION = "4a5b6c7d"


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch) -> dict[str, OfflineEngine]:
    """Each stack's offline engine, which the deploy connects to (and which must see no update)."""
    found: dict[str, OfflineEngine] = {}

    def connect(stack: str) -> Any:
        found.setdefault(stack, OfflineEngine(stack))
        return _offline_connection(found[stack])

    monkeypatch.setattr(driver, "CONNECT", connect)
    monkeypatch.setenv("COLUMNS", "300")  # one message a line
    return found


def _deploy(*args: str, stack: str = "staging", dry_run: bool = True) -> Any:
    argv = ["deploy", "--stack", stack, "--version", VERSION, *(["--dry-run"] if dry_run else ["--yes"]), *args]
    return RUNNER.invoke(app, argv)


def _refused(result: Any, *says: str) -> None:
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert "Traceback" not in result.output
    assert "TypeError" not in result.output
    for text in says:
        assert text in " ".join(result.output.split()), result.output


def test_a_nested_override_under_a_value_is_bad_input_naming_both_keys(engines: dict[str, OfflineEngine]) -> None:
    result = _deploy("-c", "release:analysis.errors=5", "-c", "release:analysis.errors.confidence=0.9")
    _refused(result, "-c release:analysis.errors.confidence: release:analysis.errors is 5, not an object")


@pytest.mark.parametrize("key", [":x", "release:", "release:analysis..errors"])
def test_an_override_that_is_not_a_config_key_is_bad_input(engines: dict[str, OfflineEngine], key: str) -> None:
    _refused(_deploy("-c", f"{key}=1"), f"-c {key!r}: not a config key; allowed: NAMESPACE:KEY")


# The deploy session (components/config/session.py): staging's 3 default steps and 30-minute backup window fit a deploy
# job's 240 minutes with 49-minute bakes, not with 50.
def test_bake_faces_the_deploy_sessions_length_check_at_its_edge(engines: dict[str, OfflineEngine]) -> None:
    assert _deploy("--bake", "49").exit_code == 0
    _refused(_deploy("--bake", "50"), "--bake 50: a release of this stack (3 steps of 50 min", "at most 240 min")


def test_bake_100_is_refused_as_release_bake_minutes_600_is(engines: dict[str, OfflineEngine]) -> None:
    _refused(_deploy("--bake", "100"), "--bake 100:", "at most 240 min")
    _refused(_deploy("-c", "release:bakeMinutes=600"), "at most 240 min")


def test_more_steps_than_the_session_holds_are_refused_naming_steps(engines: dict[str, OfflineEngine]) -> None:
    steps = ",".join(str(s) for s in range(5, 101, 5))
    _refused(_deploy("--steps", steps, "--bake", "10"), f"--bake 10 --steps {steps}:", "at most 240 min")


@pytest.mark.parametrize("strategy", [("--strategy", "blue-green"), ("-c", "release:strategy=blue-green")], ids=["flag", "stack"])
def test_steps_with_blue_green_are_refused(engines: dict[str, OfflineEngine], strategy: tuple[str, str]) -> None:
    _refused(_deploy(*strategy, "--steps", "10,100"), "--steps 10,100: a blue-green release switches all traffic at once")


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "deploy"])
def test_skip_staging_on_staging_is_refused(engines: dict[str, OfflineEngine], dry_run: bool) -> None:
    result = _deploy("--skip-staging", "--reason", "hotfix", dry_run=dry_run)
    _refused(result, "--skip-staging: staging is not a production stack", "allowed with production stacks only")
    assert all(e.updates == [] for e in engines.values())
    assert all("release:inProgress" not in e.get_config() for e in engines.values())


def test_skip_staging_on_production_is_a_dry_run_like_any_other(engines: dict[str, OfflineEngine]) -> None:
    assert _deploy("--skip-staging", "--reason", "hotfix", stack="production").exit_code == 0


def test_a_production_that_follows_itself_is_refused_by_the_dry_run_and_the_deploy(engines: dict[str, OfflineEngine]) -> None:
    _refused(_deploy("-c", "release:stagingStack=production", stack="production"),
             'release:stagingStack: got "production"; the stack whose releases production follows, not production itself')
    engine = OfflineEngine("production")
    engine.set_config({"release:stagingStack": "production"})
    engines["production"] = engine
    _refused(_deploy(stack="production", dry_run=False), 'release:stagingStack: got "production"')
    assert engine.updates == []


def test_the_rehearsal_refuses_a_bad_version_before_it_builds_the_world(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_world(*args: object, **kwargs: object) -> None:
        raise AssertionError("the world was built for a version the release refuses")

    monkeypatch.setattr(rehearsal_cli, "rehearse", no_world)
    result = RUNNER.invoke(rehearsal_cli.app, ["--version", "bad tag!"])
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert "--version 'bad tag!': not an image tag; allowed: 1-128 letters" in result.output
