"""Rehearsals of faults the driver must ride out or refuse: throttled reads during bakes, a candidate already carrying weight."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from components.config import Strategy
from rehearsal.run import Rehearsal
from rehearsal.world.faults import PER_BAKE
from release.aws.base import ATTEMPTS
from release.errors import ExitCode
from tests.rehearsals import rehearsed

pytestmark = pytest.mark.rehearsal

STRATEGIES = (Strategy.CANARY, Strategy.BLUE_GREEN)


@pytest.fixture(scope="module")
def run() -> Callable[[str, Strategy], Rehearsal]:
    def get(scenario: str, strategy: Strategy) -> Rehearsal:
        return rehearsed("staging", scenario, strategy=strategy)

    return get


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_healthy_release_throttled_during_every_bake_is_still_promoted(run: Callable[..., Rehearsal], strategy: Strategy) -> None:
    done = run("throttled", strategy)
    assert PER_BAKE > ATTEMPTS, "more failures than one read retries: the bake itself must poll again"
    # Each step's shift is followed by its bake (the control share's end, after the backup window, has none).
    shifts = sum(s["step"].startswith("step ") and "send" in s["step"] for s in done.summary["steps"])
    assert done.summary["throttled_calls"] == PER_BAKE * shifts
    assert (done.summary["outcome"], done.result.exit_code) == ("promoted", ExitCode.OK)
    assert done.summary["weights"] == {"blue": 0, "green": 100}
    assert all(step["done"] for step in done.summary["steps"])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_candidate_carrying_weight_with_no_release_in_progress_is_refused(run: Callable[..., Rehearsal], strategy: Strategy) -> None:
    done = run("weighted-candidate", strategy)
    assert (done.summary["outcome"], done.result.exit_code) == ("refused", ExitCode.REFUSED)
    assert done.summary["failed"]["step"] == "preflight"
    assert "the candidate green (rehearsal-0) serves 25% with no release in progress" in done.summary["failed"]["why"]
    assert "release:canaryWeight 0" in done.summary["failed"]["next"]
    # The one update is the scenario's own setup: nothing was deployed onto the weighted colour.
    assert [u["weights"] for u in done.summary["updates"]] == [{"blue": 75, "green": 25}]
    assert done.summary["weights"] == {"blue": 75, "green": 25}
