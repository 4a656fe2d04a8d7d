"""The analysis: which alarms judge the candidate, and the verdict on its minutes against the control and the baseline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from components.config import Colour
from components.config.release_analysis import AnalysisConfig, ErrorTest
from release.judgement.analysis import (
    CANDIDATE,
    ENVIRONMENT,
    FAIL,
    LIVE_DEGRADED,
    PASS,
    UNDECIDED,
    Analysis,
    Figures,
    Minute,
    alarm_names,
    decide,
    judge_samples,
)
from release.judgement.checks import CHANGE_ALPHA, HOLD, CountEvidence, change_alphas

LIMITS = AnalysisConfig()


def minutes(count: int, requests: float, rate: float, latency: float, *, start: int = 0,
            error_rate: float | None = None) -> Figures:
    """``count`` minutes of ``requests`` with ``rate`` of them 5xx (exactly) and the latency statistic."""
    logs = error_rate is not None
    return Figures.of([Minute(at=start + i, requests=requests, errors=round(requests * rate), latency=latency,
                              error_requests=round(requests * (error_rate or 0.0)) if logs else None)
                       for i in range(count)], logs=logs)


BASELINE = minutes(15, 1_200, 0.01, 0.120, start=-15, error_rate=0.01)


def test_a_healthy_candidate_against_a_healthy_control_passes_every_test() -> None:
    verdict = judge_samples(minutes(15, 300, 0.01, 0.121), minutes(15, 900, 0.01, 0.120), BASELINE, LIMITS, {"g": "OK"})
    assert verdict.state == PASS
    assert verdict.ok
    assert [c.state for c in verdict.checks] == [PASS, PASS]


def test_a_doubled_5xx_rate_against_the_control_aborts_naming_the_e_process() -> None:
    verdict = judge_samples(minutes(15, 300, 0.02, 0.12), minutes(15, 900, 0.01, 0.12), BASELINE, LIMITS)
    assert verdict.state == CANDIDATE
    assert not verdict.ok
    (reason,) = verdict.reasons
    assert reason.startswith("5xx 90/4500 (2.00%) against control 135/13500 (1.00%)")
    assert "e-process over every look" in reason
    assert "1/alpha = 222" in reason


def test_a_small_increase_is_noise_not_a_failure() -> None:
    verdict = judge_samples(minutes(15, 300, 0.0125, 0.12), minutes(15, 900, 0.01, 0.12), BASELINE, LIMITS)
    assert verdict.checks[0].state == PASS


def test_the_latency_test_is_undecided_while_it_cannot_fail_however_slow_the_candidate() -> None:
    # Five slow minutes against two of live's: the sample is short on live's side, and five bits cannot reach 1/alpha.
    slow = Figures(requests=6_000, errors=60, latencies=(1.0, 1.1, 1.2, 1.3, 1.4))
    verdict = decide({}, slow, Figures(requests=1_000, errors=10, latencies=(0.10, 0.11)), LIMITS)
    assert verdict.checks[-1].state == UNDECIDED
    assert "not judged below 5 live minutes" in verdict.checks[-1].summary
    assert verdict.state == UNDECIDED
    concurrent = judge_samples(minutes(5, 300, 0.01, 1.2), minutes(5, 900, 0.01, 0.1), BASELINE, LIMITS)
    assert concurrent.checks[-1].state == UNDECIDED
    assert "the test cannot fail before 12" in concurrent.checks[-1].summary
    assert concurrent.state != PASS


def test_a_slower_candidate_fails_on_latency_once_the_minutes_can_tell() -> None:
    verdict = judge_samples(minutes(12, 300, 0.01, 0.41), minutes(12, 900, 0.01, 0.12), BASELINE, LIMITS)
    assert verdict.state == CANDIDATE
    assert verdict.checks[-1].state == FAIL
    assert "sign test over every look, 12 of 12 minutes above 1.2x live and 200 ms" in verdict.reasons[0]


def test_a_candidate_under_the_latency_floor_is_never_worse() -> None:
    verdict = judge_samples(minutes(15, 300, 0.01, 0.15), minutes(15, 900, 0.01, 0.01), BASELINE, LIMITS)
    assert verdict.checks[-1].state == PASS


@pytest.mark.parametrize(("candidate", "live"), [(20, 54_000), (6_000, 0)])
def test_either_side_below_its_minimum_sample_is_undecided_never_a_pass(candidate: float, live: float) -> None:
    verdict = decide({}, Figures(requests=candidate, errors=1), Figures(requests=live, errors=live / 100), LIMITS)
    assert verdict.checks[0].state == UNDECIDED
    assert "not judged" in verdict.checks[0].summary
    assert verdict.state == UNDECIDED
    assert verdict.undecided


def test_both_colours_worse_than_the_baseline_is_the_environment_not_the_candidate() -> None:
    verdict = judge_samples(minutes(10, 600, 0.03, 0.12), minutes(10, 600, 0.03, 0.12), BASELINE, LIMITS)
    assert verdict.state == ENVIRONMENT
    assert verdict.ok
    assert verdict.hold
    assert "the environment is unhealthy, not the candidate" in verdict.undecided[-1].summary


def test_live_worse_than_its_baseline_alone_holds() -> None:
    verdict = judge_samples(minutes(10, 600, 0.01, 0.12), minutes(10, 600, 0.03, 0.12), BASELINE, LIMITS)
    assert verdict.state == LIVE_DEGRADED
    assert verdict.hold
    assert "live degraded alone" in verdict.undecided[-1].summary


def test_a_candidate_above_the_baseline_that_the_control_cannot_tell_is_undecided() -> None:
    verdict = judge_samples(minutes(10, 1_140, 0.03, 0.12), minutes(10, 60, 0.03, 0.12), BASELINE, LIMITS)
    assert verdict.state == UNDECIDED
    assert "but not against the control" in verdict.undecided[-1].summary


def _joined(*parts: Figures) -> Figures:
    return Figures.of([m for f in parts for m in f.minutes], logs=False)


def test_a_candidate_whose_own_rate_rose_at_this_step_while_no_worse_than_the_control_names_the_environment() -> None:
    # Two earlier steps at live's 1%, then the last step (95%, a 5% control): every colour at 2%.
    earlier_c, earlier_l = minutes(17, 400, 0.01, 0.12), minutes(17, 800, 0.01, 0.12)
    now_c, now_l = minutes(5, 1_140, 0.02, 0.12, start=17), minutes(5, 60, 0.02, 0.12, start=17)
    candidate, control = _joined(earlier_c, now_c), _joined(earlier_l, now_l)
    verdict = judge_samples(candidate, control, BASELINE, LIMITS, step=17, controlled=True)
    assert verdict.state == ENVIRONMENT
    assert verdict.hold
    assert verdict.undecided[-1].summary.startswith("the environment changed at this step, not the candidate: the "
                                                    "candidate's 5xx of this step 115/5700 above live's baseline")
    # Without the step's shift the change is diluted in the whole release's minutes: not against the control either.
    assert judge_samples(candidate, control, BASELINE, LIMITS).state == PASS


def test_a_step_whose_own_rate_leans_above_the_baseline_does_not_pass_before_its_evidence_is_in() -> None:
    # A shared fault of 18 of 1,140 requests a minute (1.58%) at the step where live keeps a 5% control: after 5
    # minutes the step's e-process is 21.9, above 1 and below 1/0.01, so the step waits (undecided: the bake's
    # extension) instead of passing; by minute 10 it names the environment. Against the abort test's own bound
    # (1.27%, alpha 0.0005) and its 1.6x alternative, the step would lean only above 1.69%: these minutes would pass,
    # as they do at a step where live keeps its own traffic (whose drift names a shared fault there).
    earlier_c, earlier_l = minutes(17, 400, 0.01, 0.12), minutes(17, 800, 0.01, 0.12)
    rate = 18 / 1_140

    def at(count: int, controlled: bool = True) -> Any:
        now_c, now_l = minutes(count, 1_140, rate, 0.12, start=17), minutes(count, 60, rate, 0.12, start=17)
        return judge_samples(_joined(earlier_c, now_c), _joined(earlier_l, now_l), BASELINE, LIMITS, step=17,
                             controlled=controlled)

    five = at(5)
    assert five.state == UNDECIDED
    assert "not passed yet, the candidate's 5xx of this step 90/5700 lean above live's baseline (e=21.9, a change at " \
           "1/alpha = 100)" in five.checks[0].summary
    assert at(10).state == ENVIRONMENT
    assert at(5, controlled=False).state == PASS
    # A step at live's own rate neither leans nor names anything.
    steady_c, steady_l = minutes(5, 1_140, 0.01, 0.12, start=17), minutes(5, 60, 0.01, 0.12, start=17)
    assert judge_samples(_joined(earlier_c, steady_c), _joined(earlier_l, steady_l), BASELINE, LIMITS,
                         step=17, controlled=True).state == PASS


def test_a_step_baked_again_after_the_environment_recovered_is_judged_on_its_minutes_since() -> None:
    # Eight minutes of a shared fault (every colour at 2%), then five of live's own 1%: counted from the shift, the
    # fault's minutes still name the environment; counted from the end of the hold (the bake starts again), the
    # step passes.
    earlier_c, earlier_l = minutes(17, 400, 0.01, 0.12), minutes(17, 800, 0.01, 0.12)
    fault_c, fault_l = minutes(8, 1_140, 0.02, 0.12, start=17), minutes(8, 60, 0.02, 0.12, start=17)
    well_c, well_l = minutes(5, 1_140, 0.01, 0.12, start=25), minutes(5, 60, 0.01, 0.12, start=25)
    candidate, control = _joined(earlier_c, fault_c, well_c), _joined(earlier_l, fault_l, well_l)
    assert judge_samples(candidate, control, BASELINE, LIMITS, step=17, controlled=True).state == ENVIRONMENT
    assert judge_samples(candidate, control, BASELINE, LIMITS, step=17, controlled=True, rebaked=25).state == PASS


def test_the_steps_own_test_names_an_unchanged_environment_at_most_its_alpha_of_the_time() -> None:
    # At a step where live keeps a control share, its bound and its e-process share CHANGE_ALPHA (Clopper-Pearson,
    # Ville, the union bound), seen: 4,000 releases, 60 minutes of a step at live's own 1% against 18,000 baseline
    # requests, no margin: the nearest healthy case.
    rng = np.random.default_rng(7)
    releases = 4_000
    spent, bounded = change_alphas()
    assert bounded + spent == pytest.approx(CHANGE_ALPHA)
    evidence = CountEvidence(np.full(releases, 18_000.0), rng.binomial(18_000, 0.01, releases),
                             ErrorTest(min_relative_increase=0.0))
    evidence.new_step(True, controlled=True)
    for _ in range(60):
        none = np.zeros(releases)
        evidence.update(np.full(releases, 1_140.0), rng.binomial(1_140, 0.01, releases), none, none)
    assert 0 < np.mean(evidence.best["shared"] >= evidence.change_threshold) <= CHANGE_ALPHA


def test_a_candidate_worse_since_its_first_step_is_not_named_the_environment() -> None:
    # The candidate at 2% from its first minute: its earlier steps look like this step, not like live's baseline.
    earlier_c, earlier_l = minutes(17, 400, 0.02, 0.12), minutes(17, 800, 0.01, 0.12)
    now_c, now_l = minutes(5, 1_140, 0.02, 0.12, start=17), minutes(5, 60, 0.01, 0.12, start=17)
    verdict = judge_samples(_joined(earlier_c, now_c), _joined(earlier_l, now_l), BASELINE, LIMITS, step=17)
    assert verdict.state == CANDIDATE


def test_the_candidates_alarm_alone_aborts_and_both_colours_alarms_name_the_environment() -> None:
    healthy, control = minutes(15, 300, 0.01, 0.12), minutes(15, 900, 0.01, 0.12)
    alone = judge_samples(healthy, control, BASELINE, LIMITS, {"green-release": "ALARM"}, {"blue-release": "OK"})
    assert alone.state == CANDIDATE
    assert alone.reasons == ("alarm green-release is ALARM",)
    both = judge_samples(healthy, control, BASELINE, LIMITS, {"green-release": "ALARM"}, {"blue-release": "ALARM"})
    assert both.state == ENVIRONMENT
    assert decide({"green-health": "MISSING"}, healthy, BASELINE, LIMITS).reasons == ("alarm green-health is MISSING",)
    assert decide({"green-5xx": "INSUFFICIENT_DATA"}, healthy, BASELINE, LIMITS).ok


def test_requests_with_an_error_are_judged_per_request_and_capped_at_the_requests() -> None:
    control = minutes(15, 900, 0.01, 0.12, error_rate=0.01)
    same = judge_samples(minutes(15, 300, 0.01, 0.12, error_rate=0.01), control, BASELINE, LIMITS)
    assert [c.name for c in same.checks] == ["5xx", "error-requests", "latency"]
    assert same.checks[1].state == PASS
    worse = judge_samples(minutes(15, 300, 0.01, 0.12, error_rate=0.03), control, BASELINE, LIMITS)
    assert worse.checks[1].state == FAIL
    assert "requests with an error 135/4500" in worse.reasons[0]
    flood = Figures.of([Minute(at=i, requests=300, errors=3, error_requests=900, latency=0.12) for i in range(15)], logs=True)
    assert "requests with an error 4500/4500" in judge_samples(flood, control, BASELINE, LIMITS).checks[1].summary


def test_alarm_names_prefer_the_composite() -> None:
    outputs = {"composite_alarm_names": {"green": "g-release"}, "alarm_names": {"green": ["g-5xx", "g-latency"]}}
    assert alarm_names(outputs, Colour.GREEN) == ["g-release"]
    assert alarm_names({"alarm_names": {"green": ["g-5xx"]}}, Colour.GREEN) == ["g-5xx"]
    assert alarm_names({}, Colour.GREEN) == []
    # One alarm exported as a string, not a list of one: the name, not its letters.
    assert alarm_names({"alarm_names": {"green": "g-5xx"}}, Colour.GREEN) == ["g-5xx"]


SINCE = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class Series:
    """CloudWatch's per-minute answers: live served 1,200 requests a minute before ``SINCE``, nothing after (a
    blue-green switch); the candidate everything after, at twice live's 5xx rate."""

    def __init__(self) -> None:
        self.windows: list[tuple[datetime, datetime]] = []

    def alarm_states(self, names: Sequence[str]) -> dict[str, str]:
        return dict.fromkeys(names, "OK")

    def metric_series(self, queries: Sequence[Any], start: datetime, end: datetime) -> dict[str, dict[datetime, float]]:
        self.windows.append((start, end))
        found: dict[str, dict[datetime, float]] = {q.id: {} for q in queries}
        at = start.replace(second=0, microsecond=0)
        while at < end:
            colour = "blue" if at < SINCE else "green"
            if f"{colour}_requests" in found:
                found[f"{colour}_requests"][at] = 1_200.0
                found[f"{colour}_errors"][at] = 12.0 if colour == "blue" else 24.0
                found[f"{colour}_latency"][at] = 0.12
            at += timedelta(minutes=1)
        return found


OUTPUTS = {"load_balancer_arn_suffix": "app/lb/1", "target_group_arn_suffixes": {"blue": "tg/b/1", "green": "tg/g/1"}}


def test_after_a_blue_green_switch_live_s_baseline_minutes_judge_the_candidate() -> None:
    metrics = Series()
    verdict = Analysis(metrics, OUTPUTS, LIMITS).judge(Colour.GREEN, SINCE, SINCE + timedelta(minutes=10))  # type: ignore[arg-type]
    assert metrics.windows == [(SINCE - timedelta(minutes=15), SINCE + timedelta(minutes=10))]
    assert verdict.checks[0].summary.startswith("5xx 240/12000 (2.00%) against control 0/0 (0.00%) and live's baseline "
                                                "180/18000 (1.00%)")
    assert verdict.state == CANDIDATE


def test_without_a_baseline_a_blue_green_switch_is_undecided_and_says_so() -> None:
    limits = AnalysisConfig.model_validate({"baselineMinutes": 0})
    verdict = Analysis(Series(), OUTPUTS, limits).judge(Colour.GREEN, SINCE, SINCE + timedelta(minutes=5))  # type: ignore[arg-type]
    assert verdict.checks[0].state == UNDECIDED
    assert "live has 0 requests to compare with" in verdict.checks[0].summary


def test_only_a_failure_against_the_control_in_the_same_minutes_is_against_the_control() -> None:
    # Twice the control's rate in the same minutes: a failure that no environment explains.
    worse = judge_samples(minutes(15, 300, 0.02, 0.12), minutes(15, 900, 0.01, 0.12), BASELINE, LIMITS)
    assert worse.state == CANDIDATE
    assert worse.against_control
    # The same candidate minutes with no control traffic (the 100% step without a control share) fail against
    # live's baseline alone: a fault both colours share would read the same, so not against the control.
    alone = judge_samples(minutes(15, 300, 0.02, 0.12), Figures(), BASELINE, LIMITS)
    assert alone.state == CANDIDATE
    assert not alone.against_control
    # The candidate's alarm alone fails it, and is no comparison with the control either.
    alarm = judge_samples(minutes(15, 300, 0.01, 0.12), minutes(15, 900, 0.01, 0.12), BASELINE, LIMITS, {"g": "ALARM"})
    assert alarm.state == CANDIDATE
    assert not alarm.against_control


def test_the_drifts_count_from_fresh_on_while_the_test_keeps_every_minute() -> None:
    # Minutes 0-9 both colours at 3% (a shared fault), minutes 10-14 both at 1% again.
    candidate, live = (Figures.of([Minute(at=i, requests=requests, errors=round(requests * (0.03 if i < 10 else 0.01)),
                                          latency=0.12) for i in range(15)], logs=False) for requests in (300.0, 900.0))
    kept = judge_samples(candidate, live, BASELINE, LIMITS)
    assert kept.state == ENVIRONMENT, "summed over every minute, the fault still shows"
    fresh = judge_samples(candidate, live, BASELINE, LIMITS, fresh=10)
    assert fresh.state == PASS
    assert fresh.checks[0].summary == kept.checks[0].summary, "the test against the control read the same minutes"


# --- each hold's check: its name, its state, and every reason in order, joined --------------------------------


def _drifts(verdict: Any) -> tuple[list[str], list[str], list[str]]:
    """Live's drifts, the candidate's and the step's changes, as the tests before the hold found them."""
    tests = verdict.checks[:-1]
    return ([c.drift_live for c in tests if c.drift_live], [c.drift_candidate for c in tests if c.drift_candidate],
            [c.changed for c in tests if c.changed])


def test_both_colours_alarmed_and_worse_hold_naming_every_alarm_and_drift_in_order() -> None:
    verdict = judge_samples(minutes(10, 600, 0.03, 0.12), minutes(10, 600, 0.03, 0.12), BASELINE, LIMITS,
                            {"g-5xx": "ALARM"}, {"b-5xx": "ALARM"})
    live, candidate, _ = _drifts(verdict)
    assert live
    assert candidate
    hold = verdict.checks[-1]
    assert (verdict.state, hold.name, hold.state) == (ENVIRONMENT, "environment", HOLD)
    assert hold.summary == ("the environment is unhealthy, not the candidate: alarm g-5xx is ALARM; alarm b-5xx is ALARM; "
                            f"{'; '.join([*live, *candidate])}; hold and alert")


def test_live_alarmed_and_worse_alone_holds_naming_both() -> None:
    verdict = judge_samples(minutes(10, 600, 0.01, 0.12), minutes(10, 600, 0.03, 0.12), BASELINE, LIMITS, {},
                            {"b-5xx": "ALARM"})
    live, _, _ = _drifts(verdict)
    hold = verdict.checks[-1]
    assert (verdict.state, hold.name, hold.state) == (LIVE_DEGRADED, "live", HOLD)
    assert hold.summary == (f"live degraded alone, the comparison is broken: alarm b-5xx is ALARM; {'; '.join(live)}; "
                            "hold rather than promote")


def test_a_candidate_worse_than_the_baseline_on_two_counts_the_control_cannot_tell_names_both() -> None:
    verdict = judge_samples(minutes(10, 1_140, 0.03, 0.12, error_rate=0.03), minutes(10, 60, 0.03, 0.12, error_rate=0.03),
                            BASELINE, LIMITS)
    _, candidate, _ = _drifts(verdict)
    assert len(candidate) == 2
    check = verdict.checks[-1]
    assert (verdict.state, check.name, check.state) == (UNDECIDED, "baseline", UNDECIDED)
    assert check.summary == f"{'; '.join(candidate)}, but not against the control: the candidate or the environment"


@pytest.mark.parametrize("live_alarms", [{}, {"b-5xx": "ALARM"}], ids=["quiet", "live-alarmed"])
def test_a_step_that_changed_two_counts_holds_for_the_environment_naming_both(live_alarms: dict[str, str]) -> None:
    # Live's alarm alone does not make it "unhealthy": the candidate's change at this step is what the hold names.
    earlier_c, earlier_l = minutes(17, 400, 0.01, 0.12, error_rate=0.01), minutes(17, 800, 0.01, 0.12, error_rate=0.01)
    now_c = minutes(5, 1_140, 0.02, 0.12, start=17, error_rate=0.03)
    now_l = minutes(5, 60, 0.02, 0.12, start=17, error_rate=0.03)
    candidate = Figures.of([*earlier_c.minutes, *now_c.minutes], logs=True)
    control = Figures.of([*earlier_l.minutes, *now_l.minutes], logs=True)
    verdict = judge_samples(candidate, control, BASELINE, LIMITS, {}, live_alarms, step=17, controlled=True)
    _, _, changed = _drifts(verdict)
    assert len(changed) == 2
    hold = verdict.checks[-1]
    assert (verdict.state, hold.name, hold.state) == (ENVIRONMENT, "environment", HOLD)
    assert hold.summary == (f"the environment changed at this step, not the candidate: {'; '.join(changed)}, while no "
                            "worse than live's control in the same minutes; hold and alert")


def test_the_drifts_of_the_requests_with_an_error_count_from_fresh_on_too() -> None:
    # Minutes 0-9 both colours at 3% 5xx and 3% requests with an error: a shared fault; 1% and 1% after.
    def colour(requests: float) -> Figures:
        return Figures.of([Minute(at=i, requests=requests, errors=round(requests * (0.03 if i < 10 else 0.01)),
                                  error_requests=round(requests * (0.03 if i < 10 else 0.01)), latency=0.12)
                           for i in range(15)], logs=True)

    candidate, live = colour(300.0), colour(900.0)
    kept = judge_samples(candidate, live, BASELINE, LIMITS)
    fresh = judge_samples(candidate, live, BASELINE, LIMITS, fresh=10)
    assert [c.name for c in kept.checks[:2]] == ["5xx", "error-requests"]
    assert all(c.drift_live and c.drift_candidate for c in kept.checks[:2]), "summed over every minute, both drift"
    assert not any(c.drift_live or c.drift_candidate for c in fresh.checks), "from minute 10 on, none does"
    assert fresh.state == PASS


def test_the_verdict_shows_live_as_the_control_when_it_has_minutes_else_as_its_baseline() -> None:
    candidate, control = minutes(5, 300, 0.01, 0.12), minutes(5, 900, 0.01, 0.12)
    assert judge_samples(candidate, control, BASELINE, LIMITS).live == control
    assert judge_samples(candidate, Figures(), BASELINE, LIMITS).live == BASELINE


def test_requests_with_an_error_are_tested_when_live_has_them_in_the_control_or_the_baseline() -> None:
    candidate = minutes(10, 300, 0.01, 0.12, error_rate=0.0)
    control = minutes(10, 900, 0.01, 0.12, error_rate=0.0)
    baseline = minutes(15, 1_200, 0.01, 0.12, start=-15)  # before live exported its log signal
    tested = judge_samples(candidate, control, baseline, LIMITS)
    assert [c.name for c in tested.checks] == ["5xx", "error-requests", "latency"]
    # A minute without a request with an error counts none, not one.
    assert tested.checks[1].summary.startswith("requests with an error 0/3000 (0.00%) against control 0/9000 (0.00%)")
    without = judge_samples(candidate, minutes(10, 900, 0.01, 0.12), baseline, LIMITS)
    assert [c.name for c in without.checks] == ["5xx", "latency"], "live has none to compare with"


def _last_step_at(rate: float) -> tuple[Figures, Figures]:
    """Candidate and control: 17 minutes of earlier steps at live's 1% (5xx and requests with an error), then 5 of the
    last step (95%: 1,140 candidate requests a minute against a 60-request control share) at ``rate``, from minute 17."""
    earlier_c, earlier_l = minutes(17, 400, 0.01, 0.12, error_rate=0.01), minutes(17, 800, 0.01, 0.12, error_rate=0.01)
    now_c = minutes(5, 1_140, rate, 0.12, start=17, error_rate=rate)
    now_l = minutes(5, 60, rate, 0.12, start=17, error_rate=rate)
    return (Figures.of([*earlier_c.minutes, *now_c.minutes], logs=True),
            Figures.of([*earlier_l.minutes, *now_l.minutes], logs=True))


def test_a_step_that_keeps_only_a_control_share_waits_for_more_evidence_on_every_count_and_only_when_said() -> None:
    # The last step's minutes at 1.5%, the earlier ones at live's 1%: with only a control share left on live the
    # change test needs more evidence before it passes; a step that keeps live's whole share does not.
    candidate, control = _last_step_at(0.015)
    controlled = judge_samples(candidate, control, BASELINE, LIMITS, step=17, controlled=True)
    assert [(c.name, c.state) for c in controlled.checks] == [
        ("5xx", UNDECIDED), ("error-requests", UNDECIDED), ("latency", PASS)]
    unsaid = judge_samples(candidate, control, BASELINE, LIMITS, step=17)
    assert [c.state for c in unsaid.checks] == [PASS, PASS, PASS], "not controlled unless said"


def test_a_step_baking_again_after_a_hold_reads_its_change_afresh_on_every_count() -> None:
    # The step's change held the release at minute 20; baking again from there, its two minutes since are too few to
    # name the environment again on either count.
    candidate, control = _last_step_at(0.02)
    held = judge_samples(candidate, control, BASELINE, LIMITS, step=17, controlled=True)
    assert [bool(c.changed) for c in held.checks[:2]] == [True, True]
    again = judge_samples(candidate, control, BASELINE, LIMITS, step=17, controlled=True, rebaked=20)
    assert [(c.name, c.state, c.changed) for c in again.checks] == [
        ("5xx", UNDECIDED, ""), ("error-requests", UNDECIDED, ""), ("latency", PASS, "")]


def test_the_latency_drifts_count_from_fresh_on_too() -> None:
    # 30 minutes of both colours at 600 ms (a shared slowdown), then 5 at live's 120 ms.
    def colour(requests: float) -> Figures:
        return Figures.of([Minute(at=i, requests=requests, errors=round(requests * 0.01), latency=0.6 if i < 30 else 0.12)
                           for i in range(35)], logs=False)

    kept = judge_samples(colour(300.0), colour(900.0), BASELINE, LIMITS)
    latency = kept.checks[1]
    assert (kept.state, latency.name, bool(latency.drift_live), bool(latency.drift_candidate)) == (
        ENVIRONMENT, "latency", True, True)
    fresh = judge_samples(colour(300.0), colour(900.0), BASELINE, LIMITS, fresh=30)
    assert fresh.state == PASS
    assert not fresh.checks[1].drift_live
    assert not fresh.checks[1].drift_candidate


def test_a_step_that_changed_is_named_as_such_though_the_candidates_whole_release_drifted_with_it() -> None:
    # The last step at 3%, the earlier ones at live's 1%: over the whole release the candidate is above the baseline
    # too, while live is not; the hold still names the step's change, not an unhealthy environment.
    earlier_c, earlier_l = minutes(17, 400, 0.01, 0.12), minutes(17, 800, 0.01, 0.12)
    now_c, now_l = minutes(5, 1_140, 0.03, 0.12, start=17), minutes(5, 60, 0.03, 0.12, start=17)
    candidate, control = _joined(earlier_c, now_c), _joined(earlier_l, now_l)
    verdict = judge_samples(candidate, control, BASELINE, LIMITS, step=17, controlled=True)
    five = verdict.checks[0]
    assert (bool(five.changed), bool(five.drift_candidate), bool(five.drift_live)) == (True, True, False)
    assert verdict.state == ENVIRONMENT
    assert verdict.checks[-1].summary.startswith("the environment changed at this step, not the candidate: ")
