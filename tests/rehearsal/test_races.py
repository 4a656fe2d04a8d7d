"""Rehearsals of races: another shell ends the release mid-step, and a push after a release from CI changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from rehearsal.cli import app
from release.errors import ExitCode

runner = CliRunner()


def rehearse(stack: str, scenario: str, *extra: str) -> tuple[int, dict[str, Any]]:
    done = runner.invoke(app, ["--stack", stack, "--scenario", scenario, "--json", *extra])
    assert done.stdout.strip().startswith("{"), done.output
    return done.exit_code, json.loads(done.stdout)


def _done(data: dict[str, Any]) -> list[str]:
    return [s["step"].split(":")[0] for s in data["steps"] if s["done"]]


@pytest.mark.parametrize("strategy", ["canary", "blue-green"])
def test_abort_race_stops_the_driver_which_says_it_was_aborted_elsewhere_and_by_whom(strategy: str) -> None:
    code, data = rehearse("staging", "abort-race", "--strategy", strategy)
    assert code == ExitCode.REFUSED
    assert (data["outcome"], data["live"], data["weights"]) == ("aborted", "blue", {"blue": 100, "green": 0})
    assert "aborted elsewhere: other-shell" in data["driver"]["why"]
    assert data["other_shell"] == {"by": "other-shell", "outcome": "aborted", "ended_by": "other-shell"}
    assert not any("promote" in u["message"] for u in data["updates"]), "the driver did not go on"
    assert _done(data)[-1].startswith("step 1/"), "the driver stopped in the bake after its first shift"
    after = data["after"]["colours"]
    assert after["blue"]["requests"] > 0, "after the abort the requests reach live"
    assert after["green"]["requests"] == 0
    assert data["traffic"]["green"]["requests"] > 0, "the candidate served its step before the other shell aborted"


@pytest.mark.parametrize("strategy", ["canary", "blue-green"])
def test_promote_race_is_reported_as_promoted_elsewhere(strategy: str) -> None:
    code, data = rehearse("staging", "promote-race", "--strategy", strategy)
    assert code == ExitCode.REFUSED
    assert (data["outcome"], data["live"], data["weights"]) == ("promoted", "green", {"blue": 0, "green": 100})
    assert "promoted elsewhere: other-shell" in data["driver"]["why"]
    assert "aborted" not in data["driver"]["why"]
    assert sum("promote" in u["message"] for u in data["updates"]) == 1, "promoted once, by the other shell"
    after = data["after"]["colours"]
    assert (after["green"]["requests"] > 0, after["green"]["version"]) == (True, "rehearsal-1")
    assert after["blue"]["requests"] == 0


def test_ci_then_push_keeps_the_released_version_live_and_reverts_nothing() -> None:
    code, data = rehearse("production", "ci-then-push")
    assert code == ExitCode.OK
    assert data["outcome"] == "promoted"
    assert data["released"]["live_version"] == "rehearsal-1"
    assert data["push"] == {
        "live": data["released"]["live"], "live_version": "rehearsal-1", "changed": [], "reverted_keys": [], "stack_file_unchanged": True,
    }
    assert data["without_the_environment"]["changed"] > 0, "from the committed file alone the push would put the old release back"


def test_the_interrupted_summary_lists_the_resumed_release_steps_all_done() -> None:
    _, data = rehearse("staging", "interrupted")
    assert data["steps"], "the summary lists the steps of the resumed release"
    assert all(s["done"] for s in data["steps"])
    assert data["resumed_from"].startswith("step 1/"), "resuming sets the last verified weight again, then bakes it"


def test_the_concurrent_summary_lists_the_first_drivers_steps_done_and_the_second_drivers_refusal() -> None:
    _, data = rehearse("staging", "concurrent")
    assert data["outcome"] == "refused"
    assert all(s["done"] for s in data["steps"]), "the first driver promoted: every step of its release is done"
    assert data["second"]["outcome"] == "refused"
    assert "held by first-driver" in data["failed"]["why"]
