"""The canary benchmark's simulator: its draws and its two judges behave as the benchmark says."""

from __future__ import annotations

import random
import statistics

from bench.canary import wilson
from bench.canary_sim import Case, analysis_judge, binomial, fixed_judge, p99_of, simulate
from components.config.release_analysis import AnalysisConfig


def _rng(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - seeded draws for a simulation, not secrets


def test_binomial_draws_have_the_binomial_mean_and_variance() -> None:
    rng = _rng(1)
    draws = [binomial(rng, 600, 0.02) for _ in range(4000)]
    assert abs(statistics.mean(draws) - 12) < 0.3
    assert abs(statistics.variance(draws) - 600 * 0.02 * 0.98) < 1.0
    assert binomial(rng, 100, 0.0) == 0
    assert binomial(rng, 100, 1.0) == 100
    assert 85 <= binomial(rng, 100, 0.9) <= 100


def test_per_minute_p99_scatters_more_on_fewer_requests() -> None:
    rng = _rng(2)
    few = [p99_of(rng, 120) for _ in range(500)]
    many = [p99_of(rng, 12_000) for _ in range(500)]
    assert statistics.stdev(few) > 3 * statistics.stdev(many)
    assert abs(statistics.median(many) - 0.1 * 3.2) < 0.01


def test_a_tenfold_error_rate_is_aborted_in_the_first_step_by_both_judges() -> None:
    case = Case(rps=20.0, live_rate=0.01, candidate_rate=0.10)
    for judge in (analysis_judge(AnalysisConfig()), fixed_judge):
        outcome = simulate(case, judge, _rng(3))
        assert outcome.aborted_at is not None
        assert outcome.aborted_at <= 5


def test_the_low_traffic_rule_extends_the_first_bake() -> None:
    outcome = simulate(Case(rps=2.0, live_rate=0.01, candidate_rate=0.01), analysis_judge(AnalysisConfig()), _rng(4))
    assert outcome.step_ends[0] == 15


def test_the_wilson_interval_brackets_the_rate() -> None:
    low, high = wilson(4, 500)
    assert low < 4 / 500 < high
    assert wilson(0, 500)[0] == 0.0
