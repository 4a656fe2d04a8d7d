"""The canary benchmark's simulator: its draws, its alarm rule and its releases behave as the benchmark says."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from bench.canary import interval, seed_p
from bench.canary_example import example
from bench.canary_sim import BREACHING, MISSING, NOT_BREACHING, Case, Streams, alarm_states, p99, simulate
from components.config.release_analysis import AnalysisConfig
from rehearsal.world.alarms import ALARM, TREATMENTS, MetricAlarm, decide

VALUES = {MISSING: None, NOT_BREACHING: False, BREACHING: True}


@pytest.mark.parametrize("treatment", TREATMENTS)
@pytest.mark.parametrize(("periods", "needed"), [(3, 3), (3, 2), (1, 1)])
def test_the_vectorised_alarm_rule_is_the_evaluators_decide(treatment: str, periods: int, needed: int) -> None:
    alarm = MetricAlarm("a", "GreaterThanThreshold", 1.0, periods, needed, treatment, 60)
    # Every sequence of the evaluation range's datapoints, each breaching, not, or missing.
    rows = np.array(list(itertools.product((MISSING, NOT_BREACHING, BREACHING), repeat=periods + 2)))
    got = alarm_states(rows, alarm)
    # "ignore" keeps the current state when nothing decides: from OK, as the bench's alarms start.
    expected = [decide([VALUES[v] for v in row], needed, periods, treatment, "OK") == ALARM for row in rows.tolist()]
    assert got.tolist() == expected


def test_per_minute_p99_scatters_more_on_fewer_requests() -> None:
    streams = Streams([2], 500)
    few, many = p99(streams, np.full(500, 120.0)), p99(streams, np.full(500, 12_000.0))
    assert np.std(few) > 3 * np.std(many)
    assert abs(np.median(many) - 0.1 * 3.2) < 0.01
    assert np.isnan(p99(streams, np.zeros(500))).all()


def test_each_seeds_releases_are_the_same_whoever_runs_beside_them() -> None:
    alone, pooled = Streams([3], 4), Streams([1, 2, 3], 4)
    assert alone.binomial(1_000, 0.3).tolist() == pooled.binomial(1_000, 0.3)[8:].tolist()


def test_a_tenfold_error_rate_is_aborted_in_the_first_step() -> None:
    outcome = simulate(Case("tenfold", candidate_rate=0.10), AnalysisConfig(), Streams([3], 50))
    assert outcome.aborted.all()
    assert (outcome.aborted_at <= 5).all()


def test_a_healthy_candidate_at_low_traffic_holds_after_its_extension_until_the_tests_judge() -> None:
    outcome = simulate(Case("quiet", rps=2.0), AnalysisConfig(), Streams([4], 20))
    assert not outcome.aborted.any()
    # Undecided at the end of the 5 + 10 minutes: held, never passed; the step ends once every test judges.
    assert outcome.unsettled.all()
    assert outcome.held.all()
    assert (outcome.step_ends[:, 0] > 15).all()


def test_an_undecided_release_is_never_promoted_on_no_evidence() -> None:
    # Too few requests for the count tests' minimum sample, ever: every release holds, then ends, none promoted.
    limits = AnalysisConfig.model_validate({"errors": {"minRequests": 10_000_000}})
    outcome = simulate(Case("starved"), limits, Streams([6], 10))
    assert outcome.ended_held.all()
    assert np.isnan(outcome.step_ends[:, -1]).all()
    assert not outcome.aborted.any()


def test_a_shared_fault_with_a_control_is_not_blamed_on_the_candidate() -> None:
    fault = Case("shared", shared_fault=0.03, control_share=20)
    outcome = simulate(fault, AnalysisConfig(), Streams([5], 40))
    assert not outcome.aborted.any()
    # The candidate's own rate rose at the last step while its earlier steps looked like live's baseline: named.
    assert outcome.environment.mean() > 0.8
    assert not outcome.environment[~outcome.held].any()
    blind = simulate(Case("shared", shared_fault=0.03, control_share=0), AnalysisConfig(), Streams([5], 40))
    assert blind.aborted.mean() > 0.5


def test_the_interval_brackets_the_rate_and_the_seed_check_needs_hits() -> None:
    low, high = interval(4, 500)
    assert low < 4 / 500 < high
    assert interval(0, 500)[0] == 0.0
    assert seed_p(np.zeros(1_000, dtype=bool), 500) is None
    uneven = seed_p(np.array([True] * 50 + [False] * 450 + [False] * 500), 500)
    assert uneven is not None
    assert uneven < 1e-6


def test_the_example_report_is_drawn_by_the_drivers_code(tmp_path: Path) -> None:
    path, text = example(tmp_path)
    assert path.exists()
    assert "5xx" in text
