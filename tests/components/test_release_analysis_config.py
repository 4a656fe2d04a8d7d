"""``release:analysis``: defaults, overrides, and every bad value named with its full key and what is allowed."""

from __future__ import annotations

import json

import pytest

from components.config import load
from tests.support import MINIMAL_CONFIG, load_problems


def test_defaults() -> None:
    analysis = load(MINIMAL_CONFIG, "staging").release.analysis
    assert analysis.errors.confidence == 0.995
    assert analysis.errors.min_relative_increase == 0.05
    assert analysis.error_lines.min_relative_increase == 0.1
    assert analysis.errors.min_requests == 500
    assert analysis.latency.statistic == "p99"
    assert analysis.low_traffic.extend_minutes == 10
    assert analysis.baseline_minutes == 15
    assert analysis.error_lines.confidence == 0.998
    assert analysis.latency.confidence == 0.998
    # The tests' alphas sum to the release's bound on aborting a healthy candidate (Bonferroni).
    assert analysis.alpha == pytest.approx(0.009)


def test_one_setting_keeps_the_other_defaults() -> None:
    raw = {**MINIMAL_CONFIG, "release:analysis": json.dumps({"errors": {"confidence": 0.999}, "latency": {"statistic": "p95.5"}})}
    analysis = load(raw, "staging").release.analysis
    assert analysis.errors.confidence == 0.999
    assert analysis.errors.min_requests == 500
    assert analysis.latency.statistic == "p95.5"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"errors": {"confidence": 1}}, "release:analysis.errors.confidence: got 1; input should be less than 1"),
        ({"errors": {"confidence": 0.5}}, "release:analysis.errors.confidence: got 0.5; input should be greater than 0.5"),
        ({"latency": {"confidence": "sure"}}, 'release:analysis.latency.confidence: got "sure"; input should be a valid number'),
        ({"errors": {"minRequests": 0}}, "release:analysis.errors.minRequests: got 0; input should be greater than or equal to 1"),
        ({"errors": {"minRelativeIncrease": -0.1}},
         "release:analysis.errors.minRelativeIncrease: got -0.1; input should be greater than or equal to 0"),
        ({"latency": {"statistic": "p999"}}, 'release:analysis.latency.statistic: got "p999"; string should match pattern'),
        ({"latency": {"minSamples": 1}}, "release:analysis.latency.minSamples: got 1; input should be greater than or equal to 2"),
        ({"lowTraffic": {"extendMinutes": 2000}},
         "release:analysis.lowTraffic.extendMinutes: got 2000; input should be less than or equal to 1440"),
        ({"baselineMinutes": -1}, "release:analysis.baselineMinutes: got -1; input should be greater than or equal to 0"),
        ({"errors": {"alpha": 0.01}}, "release:analysis.errors.alpha: got 0.01; unknown key"),
        ({"errorLines": {"confidence": 0.4}}, "release:analysis.errorLines.confidence: got 0.4; input should be greater than 0.5"),
        ({"errorLines": {"minRequests": 0}},
         "release:analysis.errorLines.minRequests: got 0; input should be greater than or equal to 1"),
    ],
)
def test_bad_values_are_named(value: dict[str, object], expected: str) -> None:
    problems = load_problems(MINIMAL_CONFIG, release__analysis=value)
    assert any(p.startswith(expected) for p in problems), problems
