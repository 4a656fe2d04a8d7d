"""The analysis: which alarms judge the candidate, and when its figures are significantly worse than live's."""

from __future__ import annotations

from components.config import Colour
from components.config.release_analysis import AnalysisConfig
from release.judgement.analysis import FAIL, PASS, UNDECIDED, Figures, alarm_names, decide, error_line_check

LIMITS = AnalysisConfig()
FAST = (0.12, 0.11, 0.13, 0.12, 0.12, 0.11, 0.13, 0.12, 0.125, 0.115)
LIVE = Figures(requests=54_000, errors=540, latencies=FAST)
HEALTHY = Figures(requests=6_000, errors=61, latencies=(0.118, 0.121, 0.119, 0.122, 0.124))


def test_a_healthy_candidate_passes_both_tests() -> None:
    verdict = decide({"green-5xx": "OK"}, HEALTHY, LIVE, LIMITS)
    assert verdict.ok
    assert [c.state for c in verdict.checks] == [PASS, PASS]


def test_an_alarm_in_alarm_fails_and_is_named() -> None:
    verdict = decide({"green-5xx": "ALARM", "green-latency": "OK"}, HEALTHY, LIVE, LIMITS)
    assert not verdict.ok
    assert verdict.reasons == ("alarm green-5xx is ALARM",)


def test_a_missing_alarm_fails_rather_than_passing_unwatched() -> None:
    verdict = decide({"green-health": "MISSING"}, HEALTHY, LIVE, LIMITS)
    assert verdict.reasons == ("alarm green-health is MISSING",)


def test_insufficient_data_is_not_a_failure() -> None:
    assert decide({"green-5xx": "INSUFFICIENT_DATA"}, HEALTHY, LIVE, LIMITS).ok


def test_a_significantly_higher_5xx_rate_fails_naming_the_test_and_p() -> None:
    verdict = decide({}, Figures(requests=6_000, errors=130, latencies=HEALTHY.latencies), LIVE, LIMITS)
    assert not verdict.ok
    (reason,) = verdict.reasons
    assert reason.startswith("5xx 130/6000 (2.17%) against live 540/54000 (1.00%): Fisher's exact test, one-sided")
    assert "p=" in reason
    assert "below 0.005" in reason


def test_a_small_increase_is_noise_not_a_failure() -> None:
    # 1.2% against 1.0% on 6000 requests is within chance at 99.5% confidence.
    assert decide({}, Figures(requests=6_000, errors=72, latencies=HEALTHY.latencies), LIVE, LIMITS).ok


def test_one_error_in_twenty_requests_is_not_judged() -> None:
    verdict = decide({}, Figures(requests=20, errors=1, latencies=HEALTHY.latencies), LIVE, LIMITS)
    assert verdict.ok
    assert verdict.checks[0].state == UNDECIDED
    assert "not judged below 500 candidate requests" in verdict.checks[0].summary
    assert verdict.undecided == (verdict.checks[0],)


def test_without_live_traffic_the_5xx_test_is_undecided() -> None:
    verdict = decide({}, HEALTHY, Figures(latencies=FAST), LIMITS)
    assert verdict.checks[0].state == UNDECIDED


def test_a_much_slower_candidate_fails_on_latency() -> None:
    slow = Figures(requests=6_000, errors=60, latencies=(0.41, 0.39, 0.44, 0.40, 0.42))
    verdict = decide({}, slow, LIVE, LIMITS)
    assert [c.state for c in verdict.checks] == [PASS, FAIL]
    (reason,) = verdict.reasons
    assert reason.startswith("p99 latency median 410 ms over 5 min against live 120 ms over 10 min: Mann-Whitney U test")


def test_a_candidate_under_the_latency_floor_passes_whatever_the_ratio() -> None:
    quick = Figures(requests=6_000, errors=60, latencies=(0.15, 0.16, 0.15, 0.17, 0.16))
    live = Figures(requests=54_000, errors=540, latencies=(0.01,) * 10)
    assert decide({}, quick, live, LIMITS).checks[1].state == PASS


def test_too_few_latency_minutes_are_not_judged() -> None:
    verdict = decide({}, Figures(requests=6_000, errors=60, latencies=(0.9, 0.9)), LIVE, LIMITS)
    assert verdict.ok
    assert verdict.checks[1].state == UNDECIDED


def test_the_composite_alarm_is_preferred_over_the_metric_alarms() -> None:
    outputs = {"composite_alarm_names": {"green": "green-health"}, "alarm_names": {"green": ["green-5xx", "green-p99"]}}
    assert alarm_names(outputs, Colour.GREEN) == ["green-health"]


def test_metric_alarms_are_used_when_there_is_no_composite() -> None:
    outputs = {"alarm_names": {"green": ["green-5xx", "green-p99"], "blue": ["blue-5xx"]}}
    assert alarm_names(outputs, Colour.GREEN) == ["green-5xx", "green-p99"]
    assert alarm_names({}, Colour.GREEN) == []


def test_without_log_figures_there_is_no_error_line_test() -> None:
    # A stack that exports no log signal: the two tests only, and nothing waits for log data.
    assert [c.name for c in decide({}, HEALTHY, LIVE, LIMITS).checks] == ["5xx", "latency"]


def test_a_candidate_logging_errors_at_four_times_lives_rate_fails_naming_the_error_line_test() -> None:
    # No 5xx at all: only the logs tell.
    live = Figures(requests=3_600, errors=0, latencies=FAST, error_lines=43)
    noisy = Figures(requests=550, errors=0, latencies=HEALTHY.latencies, error_lines=27)
    verdict = decide({}, noisy, live, LIMITS)
    assert not verdict.ok
    assert [c.state for c in verdict.checks] == [PASS, PASS, FAIL]
    (reason,) = verdict.reasons
    assert reason.startswith("error lines 27/550 requests (4.91%) against live 43/3600 (1.19%): error-line test, "
                             "Fisher's exact test, one-sided")
    assert verdict.checks[2].p_value is not None
    assert verdict.checks[2].p_value < 1 - LIMITS.error_lines.confidence


def test_error_lines_at_lives_rate_pass_and_too_few_requests_are_not_judged() -> None:
    live = Figures(requests=3_600, errors=0, error_lines=40)
    assert error_line_check(Figures(requests=600, error_lines=7), live, LIMITS).state == PASS
    few = error_line_check(Figures(requests=40, error_lines=30), live, LIMITS)
    assert few.state == UNDECIDED
    assert "not judged below 500 candidate requests" in few.summary


def test_the_error_line_test_has_its_own_settings() -> None:
    live = Figures(requests=3_600, error_lines=43)
    noisy = Figures(requests=550, error_lines=27)
    trusting = LIMITS.model_copy(update={"error_lines": LIMITS.error_lines.model_copy(update={"min_relative_increase": 5.0})})
    assert error_line_check(noisy, live, LIMITS).state == FAIL
    assert error_line_check(noisy, live, trusting).state == PASS


def test_several_error_lines_per_request_count_once() -> None:
    # More error lines than requests (an application that logs a stack trace line by line) is every request.
    check = error_line_check(Figures(requests=600, error_lines=1_800), Figures(requests=3_600, error_lines=36), LIMITS)
    assert check.summary.startswith("error lines 600/600 requests (100.00%)")
    assert check.state == FAIL
