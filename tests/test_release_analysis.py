"""The analysis: which alarms judge the candidate, and when its figures are worse than live's."""

from __future__ import annotations

from components.config import Colour
from release.analysis import Figures, Thresholds, alarm_names, decide

LIMITS = Thresholds()
LIVE = Figures(requests=1000, errors=2, p99=0.120)


def test_a_quiet_healthy_candidate_passes() -> None:
    verdict = decide({"green-5xx": "OK"}, Figures(requests=100, errors=0, p99=0.110), LIVE, LIMITS)
    assert verdict.ok
    assert verdict.reasons == ()


def test_an_alarm_in_alarm_fails_and_is_named() -> None:
    verdict = decide({"green-5xx": "ALARM", "green-latency": "OK"}, Figures(), LIVE, LIMITS)
    assert not verdict.ok
    assert verdict.reasons == ("alarm green-5xx is ALARM",)


def test_a_missing_alarm_fails_rather_than_passing_unwatched() -> None:
    verdict = decide({"green-health": "MISSING"}, Figures(), LIVE, LIMITS)
    assert verdict.reasons == ("alarm green-health is MISSING",)


def test_insufficient_data_is_not_a_failure() -> None:
    assert decide({"green-5xx": "INSUFFICIENT_DATA"}, Figures(), LIVE, LIMITS).ok


def test_a_higher_5xx_rate_than_live_fails() -> None:
    verdict = decide({}, Figures(requests=100, errors=5, p99=0.1), LIVE, LIMITS)
    assert verdict.reasons == ("5xx rate 5.00% against live 0.20% (allowed +1.00%)",)


def test_a_small_5xx_increase_within_the_allowance_passes() -> None:
    assert decide({}, Figures(requests=1000, errors=10, p99=0.1), LIVE, LIMITS).ok


def test_too_few_requests_are_not_compared() -> None:
    assert decide({}, Figures(requests=10, errors=10, p99=5.0), LIVE, LIMITS).ok


def test_a_p99_much_slower_than_live_fails() -> None:
    verdict = decide({}, Figures(requests=100, errors=0, p99=0.400), LIVE, LIMITS)
    assert verdict.reasons == ("p99 latency 400 ms against live 120 ms (allowed x1.5)",)


def test_a_p99_under_the_floor_passes_whatever_the_ratio() -> None:
    assert decide({}, Figures(requests=100, errors=0, p99=0.150), Figures(requests=100, p99=0.010), LIMITS).ok


def test_the_composite_alarm_is_preferred_over_the_metric_alarms() -> None:
    outputs = {"composite_alarm_names": {"green": "green-health"}, "alarm_names": {"green": ["green-5xx", "green-p99"]}}
    assert alarm_names(outputs, Colour.GREEN) == ["green-health"]


def test_metric_alarms_are_used_when_there_is_no_composite() -> None:
    outputs = {"alarm_names": {"green": ["green-5xx", "green-p99"], "blue": ["blue-5xx"]}}
    assert alarm_names(outputs, Colour.GREEN) == ["green-5xx", "green-p99"]
    assert alarm_names({}, Colour.GREEN) == []
