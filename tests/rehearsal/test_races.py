"""Rehearsals of races: another shell ends the release mid-step, and a push after a release from CI changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from release.errors import ExitCode
from tests.rehearsals import QUICK_FLAGS, summary

pytestmark = pytest.mark.rehearsal


def rehearse(stack: str, scenario: str, *extra: str) -> tuple[int, dict[str, Any]]:
    # The other shell acts 20 s into the first bake: a one-minute bake still holds it; no backup window is a subject.
    return summary("--stack", stack, "--scenario", scenario, *QUICK_FLAGS, *extra)


def rehearse_as_committed(stack: str, scenario: str) -> tuple[int, dict[str, Any]]:
    # A push resolves the committed stack file: an override the push does not have would be a change it reverts.
    return summary("--stack", stack, "--scenario", scenario)


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
    code, data = rehearse_as_committed("production", "ci-then-push")
    assert code == ExitCode.OK
    assert data["outcome"] == "promoted"
    assert data["released"]["live_version"] == "rehearsal-1"
    assert data["push"] == {
        "live": data["released"]["live"], "live_version": "rehearsal-1", "changed": [], "reverted_keys": [], "stack_file_unchanged": True,
    }
    assert data["without_the_environment"]["changed"] > 0, "from the committed file alone the push would put the old release back"


def test_a_deployments_run_holding_the_stack_is_waited_out_and_the_release_goes_on() -> None:
    code, data = rehearse("staging", "deployments-lock")
    assert code == ExitCode.OK
    assert (data["outcome"], data["weights"]) == ("promoted", {"blue": 0, "green": 100})
    lock = data["lock"]
    assert lock["held_seconds"] == 240.0
    assert lock["held_seconds"] <= lock["driver_waited_seconds"] < lock["held_seconds"] + 15, "the driver went on once the lock was free"
    assert sum("% to " in u["message"] for u in data["updates"]) == 2, "every shift ran once, after the wait"


def test_a_lock_held_past_the_bound_fails_the_step_naming_the_holder_and_the_wait() -> None:
    code, data = rehearse("staging", "deployments-lock", "-c", "release:lockWaitMinutes=2")
    assert code == ExitCode.REFUSED
    assert data["outcome"] == "aborted", "the abort waited for the lock too, and found it free"
    why = data["failed"]["why"]
    assert "pulumi-deployments (push to main, deployment 17)" in why
    assert "waited 2 min" in why
    assert "release:lockWaitMinutes (2)" in why
