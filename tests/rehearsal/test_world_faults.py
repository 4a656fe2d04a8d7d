"""Faults of the world the driver must notice: a listener that ignores weights, a sick live colour, tasks that never run.

Each test fails when the check it names is deleted or made always-true in the
driver: set-then-verify after a shift, a promotion and an abort; preflight's
live-alarm and live-health checks; ECS running versus desired tasks.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from components.config import Strategy
from rehearsal.run import Rehearsal
from rehearsal.world.seams import Faults
from tests.rehearsals import QUICK, QUICK_BACKUP, rehearsed

pytestmark = pytest.mark.rehearsal

STRATEGIES = (Strategy.CANARY, Strategy.BLUE_GREEN)



@pytest.fixture(scope="module")
def run() -> Callable[..., Rehearsal]:
    def get(scenario: str, strategy: Strategy, faults: Faults | None = None,
            overrides: tuple[tuple[str, int], ...] = QUICK) -> Rehearsal:
        return rehearsed("staging", scenario, overrides, strategy=strategy, faults=faults)

    return get


# --- the listener keeps its old weights: verified after a shift -----------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_listener_that_ignores_the_shift_stops_the_release_which_aborts_and_says_so(
    run: Callable[..., Rehearsal], strategy: Strategy,
) -> None:
    done = run("lb-ignores-weights", strategy)
    assert done.summary["outcome"] == "aborted"
    assert done.result.exit_code == 3, "the load balancer disobeying its configuration is an infrastructure fault"
    failed = done.summary["failed"]
    assert failed["step"] == "shift"
    assert "did not take the new weights" in failed["why"]
    assert 'still serves {"blue": 100, "green": 0}' in failed["why"]
    assert "describe-listeners" in failed["next"]
    # Stopped at the first shift: nothing after it ran, and the abort left live serving everything.
    shifts = [s for s in done.summary["steps"] if s["step"].startswith("step ")]
    assert not any(s["done"] for s in shifts)
    assert done.updates[-1]["message"].startswith("abort release")
    assert done.summary["weights"] == {"blue": 100, "green": 0}
    assert done.summary["live"] == "blue"


# --- the listener goes back after the promotion: verified after a promotion ----------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_promotion_the_listener_does_not_serve_is_reported_not_claimed(run: Callable[..., Rehearsal], strategy: Strategy) -> None:
    done = run("happy", strategy, Faults(listener_ignores=frozenset({"promote"}), listener_reverts=True))
    assert done.result.exit_code == 3
    failed = done.summary["failed"]
    assert failed["step"] == "promote"
    assert "the load balancer did not take the new weights" in failed["why"]
    assert "aws elbv2 describe-listeners" in failed["next"]
    # Old state or new, never half: the promotion's keys are put back, the candidate goes back to 0, and what the
    # load balancer serves (blue) is what the stack says.
    assert done.summary["live"] == "blue"
    assert done.summary["outcome"] == "aborted"
    assert done.summary["weights"] == {"blue": 100, "green": 0}


# --- the listener ignores the abort: verified after an abort -------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_an_abort_the_listener_ignores_is_reported_as_failed(run: Callable[..., Rehearsal], strategy: Strategy) -> None:
    # The alarm scenario bakes the default five minutes (QUICK_BACKUP shortens only the window): the stack's
    # unhealthy-hosts alarm needs three breaching minutes after the candidate dies in the second step.
    done = run("alarm", strategy, Faults(listener_ignores=frozenset({"abort"})), QUICK_BACKUP)
    assert done.result.exit_code == 3
    assert "ALARM" in done.summary["failed"]["why"]
    assert "then the abort failed" in done.summary["failed"]["why"]
    assert done.summary["weights"]["green"] > 0, "the fault holds: the candidate still takes traffic"


# --- preflight refuses a sick live colour, before anything changes ---------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize(("scenario", "why"), [
    ("live-alarm", "live alarms in ALARM: webapp-staging-blue-release"),
    ("live-unhealthy", "the live colour is not healthy: blue service runs 0 of 1 tasks"),
])
def test_preflight_refuses_a_live_colour_in_alarm_or_unhealthy_and_changes_nothing(
    run: Callable[..., Rehearsal], strategy: Strategy, scenario: str, why: str,
) -> None:
    done = run(scenario, strategy)
    assert done.summary["outcome"] == "refused"
    assert done.result.exit_code == 1
    assert done.summary["failed"]["step"] == "preflight"
    assert why in done.summary["failed"]["why"]
    assert done.updates == [], "a refused release issues no update"
    assert done.result.record is None
    assert not any(s["done"] for s in done.summary["steps"])
    assert done.summary["weights"] == {"blue": 100, "green": 0}


# --- ECS running versus desired: healthy targets are not enough --------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_candidate_whose_tasks_never_all_run_is_not_healthy_and_gets_no_traffic(
    run: Callable[..., Rehearsal], strategy: Strategy,
) -> None:
    done = run("happy", strategy, Faults(running_caps=(("green", 0),)))
    assert done.summary["outcome"] == "aborted"
    assert done.result.exit_code == 1
    assert done.summary["failed"]["step"] == "deploy"
    assert "green service runs 0 of 1 tasks" in done.summary["failed"]["why"]
    assert all(u["weights"] == {"blue": 100, "green": 0} for u in done.updates)
