"""The rollback rehearsals from the command line: each scenario's JSON summary (weights read back from moto) and exit code."""

from __future__ import annotations

from typing import Any

import pytest

from rehearsal.scenarios.rollbacks import stage
from release.errors import ExitCode
from release.rollback.fast import fast_rollback
from tests.rehearsals import QUICK_FLAGS, summary

pytestmark = pytest.mark.rehearsal

SUMMARY_KEYS = {"scenario", "outcome", "live", "weights", "steps", "snapshot", "migration", "after", "traffic", "alarms"}
STAGING_VERSION = "3f9c2e1a"  # environments/staging-release.yaml: what both colours run before the rehearsal


def served_only_by(window: dict[str, Any], colour: str, version: str) -> None:
    """Every request of the window went to ``colour``, whose process runs ``version``; none failed."""
    colours = window["colours"]
    other = "green" if colour == "blue" else "blue"
    assert colours[colour]["requests"] > 0, f"no request reached {colour}"
    assert colours[colour]["version"] == version
    assert colours[other]["requests"] == 0, f"{other} still served requests"
    assert colours[colour]["5xx"] == 0


def rehearse(scenario: str, *extra: str) -> tuple[int, dict[str, Any]]:
    # Bakes and backup windows are not what these scenarios are about: a minute each (tests/rehearsals.py).
    return summary("--stack", "staging", "--scenario", scenario, *QUICK_FLAGS, *extra)


def test_rollback_after_promote_flips_back_in_one_listener_update() -> None:
    code, data = rehearse("rollback-after-promote")
    assert code == ExitCode.REFUSED, "rolled back exits 1"
    assert set(data) >= SUMMARY_KEYS
    assert (data["outcome"], data["release"], data["live"]) == ("rolled-back", "promoted", "blue")
    assert data["weights"] == {"blue": 100, "green": 0}
    assert data["rollback"]["action"] == "flipped"
    assert (data["rollback"]["updates"], data["rollback"]["touched"]) == (1, 1)
    assert data["updates"][-1]["message"].startswith("rollback: blue (3f9c2e1a) live again")


@pytest.mark.parametrize(("live", "standby"), [(2, 1), (1, 0)])
def test_a_rollback_after_the_backup_window_scales_the_old_colour_back_up_before_it_flips(live: int, standby: int) -> None:
    # After the window blue runs its standby count (0 allowed); the rollback must bring it to live's count first.
    overrides = [("fleet:desiredCount", live), ("fleet:candidateCount", standby), ("release:backupMinutes", 1)]
    with stage("staging", overrides, None, None) as st:
        st.clock.sleep(60)  # the override raised live's count: its second task starts 30 s later
        result, _ = st.release("rehearsal-1")
        assert result.exit_code == ExitCode.OK, result.why
        assert st.world.services.counts()["blue"] == (standby, standby), "scaled down to the standby count after the window"
        done = fast_rollback(st.ctx, "rehearsal: bad after the window")
        messages = [h.message for h in reversed(st.offline.history())]
        served = st.served()
        counts = st.world.services.counts()
    assert messages[-2] == f"rollback: scale blue back to {live} tasks before it takes traffic again"
    assert messages[-1].startswith("rollback: blue (3f9c2e1a) live again")
    assert done.updates == 2
    assert served == {"blue": 100, "green": 0}
    assert counts["blue"] == (live, live)


def test_after_the_rollback_the_requests_reach_the_restored_colour_and_its_old_version() -> None:
    _, data = rehearse("rollback-after-promote")
    served_only_by(data["before_rollback"], "green", "rehearsal-1")
    served_only_by(data["after"], "blue", STAGING_VERSION)
    assert data["traffic"]["blue"]["requests"] > 0
    assert data["traffic"]["green"]["requests"] > 0, "the release's traffic reached the candidate before it was live"
    assert data["alarms"] == [], "a healthy release on real traffic fires no alarm"


def test_rollback_to_version_makes_the_first_releases_version_live_again() -> None:
    code, data = rehearse("rollback-to-version")
    assert code == ExitCode.OK
    assert (data["outcome"], data["live_version"]) == ("promoted", "rehearsal-1")
    assert data["weights"][data["live"]] == 100
    assert any(line.startswith("release:versions:") for line in data["preview"]["config_changes"])
    assert data["preview"]["diff"] is not None
    messages = [u["message"] for u in data["updates"]]
    assert sum("promote" in m for m in messages) == 4, "three releases, then the rollback's own release"
    served_only_by(data["after"], data["live"], "rehearsal-1")


def test_rollback_to_version_takes_a_fresh_snapshot_not_the_first_releases() -> None:
    code, data = rehearse("rollback-to-version")
    assert code == ExitCode.OK
    first, *_ = data["release_snapshots"]
    assert str(first).startswith("staging-release-rehearsal-1-")
    assert data["snapshot"].startswith("staging-release-rehearsal-1-")
    assert data["snapshot"] not in data["release_snapshots"], "the backup of the re-release is its own snapshot"


def test_irreversible_is_refused_with_the_snapshot_and_nothing_changes() -> None:
    code, data = rehearse("irreversible")
    assert code == ExitCode.REFUSED
    assert data["outcome"] == "refused"
    assert data["nothing_changed"] is True
    assert data["migration"]["reversible"] is False
    assert "recorded as irreversible" in data["failed"]["why"]
    assert f"restore the database from snapshot {data['snapshot']}" in data["failed"]["next"]
    assert data["weights"] == {"blue": 0, "green": 100}
    served_only_by(data["after"], "green", "rehearsal-1")


@pytest.mark.parametrize("strategy", ["canary", "blue-green"])
def test_interrupted_is_aborted_to_100_0_then_a_second_release_is_resumed(strategy: str) -> None:
    code, data = rehearse("interrupted", "--strategy", strategy)
    assert code == ExitCode.OK
    assert data["interrupted"]["in_progress"] is True
    assert data["interrupted"]["weights"]["green"] > 0, "the interrupt left the last verified weight"
    assert data["after_abort"] == {"blue": 100, "green": 0}
    assert (data["outcome"], data["live"], data["weights"]) == ("promoted", "green", {"blue": 0, "green": 100})
    resumed = [u["message"] for u in data["updates"] if "rehearsal2" in u["message"]]
    assert sum(" on green" in m for m in resumed) == 1, "resuming does not deploy again"
    served_only_by(data["after_abort_traffic"], "blue", STAGING_VERSION)
    served_only_by(data["after"], "green", "rehearsal-2")


def test_concurrent_refuses_the_second_driver_naming_the_first() -> None:
    code, data = rehearse("concurrent")
    assert code == ExitCode.REFUSED
    assert data["outcome"] == "refused"
    assert "held by first-driver" in data["failed"]["why"]
    assert data["first"]["outcome"] == "promoted"
    assert not any("rehearsal-2" in u["message"] for u in data["updates"]), "the second driver issued no update"
    served_only_by(data["after"], "green", "rehearsal-1")


def test_rollback_on_a_rolling_stack_rolls_the_previous_version_back_onto_live_and_leaves_the_standby() -> None:
    code, data = rehearse("rollback-rolling", "-c", "release:rolling.bakeMinutes=1")
    assert code == ExitCode.REFUSED, "rolled back exits 1"
    assert set(data) >= SUMMARY_KEYS
    assert (data["outcome"], data["release"], data["live"]) == ("rolled-back", "promoted", "blue")
    assert data["rollback"]["action"] == "rolled"
    # Real traffic: blue served the release, then the previous version again; green (a standby running another
    # version) served nothing before or after, and still runs it.
    served_only_by(data["before_rollback"], "blue", "rehearsal-1")
    served_only_by(data["after"], "blue", STAGING_VERSION)
    assert data["after"]["colours"]["green"]["version"] == "rehearsal-standby"
    assert data["versions_after"] == {"blue": STAGING_VERSION, "green": "rehearsal-standby"}
    # ECS rolled the old version out (a new PRIMARY deployment, COMPLETED) before the rollback was recorded.
    assert [e["state"] for e in data["rollout"][-2:]] == ["IN_PROGRESS", "COMPLETED"]
    assert data["updates"][-1]["message"].startswith(f"rollback: {STAGING_VERSION} back on blue")


def test_the_interrupted_summary_lists_the_resumed_release_steps_all_done() -> None:
    # The same rehearsal as test_interrupted_is_aborted_to_100_0_then_a_second_release_is_resumed[canary].
    _, data = rehearse("interrupted", "--strategy", "canary")
    assert data["steps"], "the summary lists the steps of the resumed release"
    assert all(s["done"] for s in data["steps"])
    assert data["resumed_from"].startswith("step 1/"), "resuming sets the last verified weight again, then bakes it"


def test_the_concurrent_summary_lists_the_first_drivers_steps_done_and_the_second_drivers_refusal() -> None:
    _, data = rehearse("concurrent")
    assert data["outcome"] == "refused"
    assert all(s["done"] for s in data["steps"]), "the first driver promoted: every step of its release is done"
    assert data["second"]["outcome"] == "refused"
    assert "held by first-driver" in data["failed"]["why"]
