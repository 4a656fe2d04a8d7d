"""The rehearsal's default load: enough for each stack's smallest step to reach the tests' minimum sample in time."""

from __future__ import annotations

import pytest

from components.config import load
from components.config.release import ReleaseConfig
from offline.stacks import ProjectFiles
from rehearsal.scenarios.releases import BY_NAME, default_load
from rehearsal.world.traffic import Load


def _release(stack: str) -> ReleaseConfig:
    return load(ProjectFiles.here().stack_config(stack)[0], stack).release


@pytest.mark.parametrize(("stack", "rate"), [("staging", 3.0), ("production", 9.0)])
def test_the_smallest_step_reaches_the_minimum_sample_within_its_bake_and_extension(stack: str, rate: float) -> None:
    release = _release(stack)
    found = default_load(release)
    assert found.rate == rate
    share = min(release.step_weight(s) for s in release.steps) / 100
    minutes = release.bake_minutes + release.analysis.low_traffic.extend_minutes
    sample = release.analysis.errors.min_requests
    assert found.rate * share * minutes * 60 >= sample
    if found.rate > Load().rate:
        assert (found.rate - 1) * share * minutes * 60 < sample, "the least whole rate that does"


def test_the_happy_scenario_takes_the_stack_s_default() -> None:
    assert BY_NAME["happy"].load is None
