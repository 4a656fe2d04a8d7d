"""What ``Analysis`` hands the verdict: which of CloudWatch's minutes are the candidate's, the control's and live's
baseline, the step's and the fresh minute, each alarm's state, and whether a colour's error lines are known.

CloudWatch answers whole minutes: a window that starts at 11:57:30 gets the datapoint of 11:57:00 (GetMetricData
rounds its StartTime down to the period). The times handed in carry seconds and microseconds, as the driver's
clock does, so every minute boundary is taken at its minute, never at the second it was asked at.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from components.config import Colour
from components.config.release_analysis import AnalysisConfig
from release.judgement import analysis
from release.judgement.analysis import Analysis, Figures, Minute, with_statistic

SINCE = datetime(2026, 1, 1, 12, 0, 30, 250_000, tzinfo=UTC)
END = datetime(2026, 1, 1, 12, 5, tzinfo=UTC)
LIMITS = AnalysisConfig.model_validate({"baselineMinutes": 3})
LOGS = {"namespace": "web/release", "metric": "RequestsWithErrors"}
BASE = {
    "load_balancer_arn_suffix": "app/lb/1", "target_group_arn_suffixes": {"blue": "tg/b/1", "green": "tg/g/1"},
    "alarm_names": {"green": ["g-5xx", "g-latency"], "blue": ["b-5xx", "b-latency"]},
}


def _minute(hour: int, minute: int) -> datetime:
    return datetime(2026, 1, 1, hour, minute, tzinfo=UTC)


class Minutes:
    """CloudWatch: every minute of every query from the start's minute to the end; a minute's requests name it.

    Keeps what it was asked: the alarm names of each read, and each metric read's queries and window.
    """

    def __init__(self, states: dict[str, str]) -> None:
        self.states = states
        self.asked: list[list[str]] = []
        self.queries: list[Any] = []
        self.windows: list[tuple[datetime, datetime]] = []

    def alarm_states(self, names: Sequence[str]) -> dict[str, str]:
        self.asked.append(list(names))
        return {name: self.states[name] for name in names if name in self.states}

    def metric_series(self, queries: Sequence[Any], start: datetime, end: datetime) -> dict[str, dict[datetime, float]]:
        self.queries.extend(queries)
        self.windows.append((start, end))
        found: dict[str, dict[datetime, float]] = {}
        for query in queries:
            at, series = start.replace(second=0, microsecond=0), {}
            while at < end:
                series[at] = {"requests": 100.0 + at.minute, "errors": 1.0, "latency": 0.1, "error_lines": 2.0}[
                    query.id.split("_", 1)[1]]
                at += timedelta(minutes=1)
            found[query.id] = series
        return found


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Each call of the verdict, its arguments by name."""
    calls: list[dict[str, Any]] = []

    def record(candidate: Figures, control: Figures, baseline: Figures, limits: AnalysisConfig, alarms: Any = None,
               control_alarms: Any = None, step: Any = None, fresh: Any = None, controlled: bool = False,
               rebaked: Any = None) -> str:
        calls.append({"candidate": candidate, "control": control, "baseline": baseline, "alarms": alarms,
                      "control_alarms": control_alarms, "step": step, "fresh": fresh, "controlled": controlled,
                      "rebaked": rebaked})
        return "verdict"

    monkeypatch.setattr(analysis, "judge_samples", record)
    return calls


def _at(figures: Figures) -> list[datetime]:
    return [m.at for m in figures.minutes]  # type: ignore[misc]


def test_the_candidate_and_the_control_count_from_the_first_shifts_minute_and_the_baseline_is_the_minutes_before(
    judged: list[dict[str, Any]],
) -> None:
    Analysis(Minutes({}), BASE, LIMITS).judge(Colour.GREEN, SINCE, END)  # type: ignore[arg-type]
    (call,) = judged
    after = [_minute(12, m) for m in range(5)]
    assert _at(call["candidate"]) == after
    assert _at(call["control"]) == after
    assert _at(call["baseline"]) == [_minute(11, 57), _minute(11, 58), _minute(11, 59)]
    assert call["candidate"].requests == sum(100.0 + m for m in range(5))
    assert call["baseline"].requests == sum(100.0 + m for m in (57, 58, 59))


def test_the_steps_the_fresh_and_the_rebake_minutes_are_the_minutes_they_fall_in(judged: list[dict[str, Any]]) -> None:
    judge = Analysis(Minutes({}), BASE, LIMITS).judge
    judge(Colour.GREEN, SINCE, END, step=SINCE + timedelta(minutes=2, seconds=15), fresh=SINCE + timedelta(minutes=3),
          rebaked=SINCE + timedelta(minutes=1, seconds=40), controlled=True)
    # A step or fresh time no later than the first shift is no narrower window: the verdict gets none.
    judge(Colour.GREEN, SINCE, END, step=SINCE, fresh=SINCE)
    first, second = judged
    assert (first["step"], first["fresh"], first["rebaked"], first["controlled"]) == (
        _minute(12, 2), _minute(12, 3), _minute(12, 2), True)
    assert (second["step"], second["fresh"], second["rebaked"], second["controlled"]) == (None, None, None, False)


def test_each_colours_alarms_are_read_once_and_an_alarm_cloudwatch_does_not_know_is_missing(
    judged: list[dict[str, Any]],
) -> None:
    metrics = Minutes({"g-5xx": "ALARM", "b-5xx": "OK"})
    Analysis(metrics, BASE, LIMITS).judge(Colour.GREEN, SINCE, END)  # type: ignore[arg-type]
    (call,) = judged
    assert metrics.asked == [["g-5xx", "g-latency", "b-5xx", "b-latency"]]
    assert call["alarms"] == {"g-5xx": "ALARM", "g-latency": "MISSING"}
    assert call["control_alarms"] == {"b-5xx": "OK", "b-latency": "MISSING"}


@pytest.mark.parametrize(("signals", "candidate_lines", "live_lines"), [
    ({"green": LOGS}, 10.0, None),
    ({"blue": LOGS}, None, 10.0),
    ({"green": LOGS, "blue": LOGS}, 10.0, 10.0),
])
def test_a_colours_error_lines_are_known_only_where_its_log_signal_is_exported(
    judged: list[dict[str, Any]], signals: dict[str, Any], candidate_lines: float | None, live_lines: float | None,
) -> None:
    outputs = {**BASE, "log_signals": signals}
    Analysis(Minutes({}), outputs, LIMITS).judge(Colour.GREEN, SINCE, END)  # type: ignore[arg-type]
    (call,) = judged
    assert call["candidate"].error_lines == candidate_lines
    assert call["control"].error_lines == live_lines
    assert call["baseline"].error_lines == (None if live_lines is None else 6.0)
    figures = Analysis(Minutes({}), outputs, LIMITS).figures(SINCE, END, Colour.GREEN, Colour.BLUE)  # type: ignore[arg-type]
    assert (figures[Colour.GREEN].error_lines, figures[Colour.BLUE].error_lines) == (candidate_lines, live_lines)


def test_the_latency_is_read_with_the_statistic_asked_for_and_nothing_else_changes() -> None:
    maximum = with_statistic(LIMITS, "Maximum")
    assert maximum.latency.statistic == "Maximum"
    assert LIMITS.latency.statistic != "Maximum", "the settings it was made from are left as they were"
    assert maximum.model_dump(exclude={"latency"}) == LIMITS.model_dump(exclude={"latency"})
    assert maximum.latency.model_dump(exclude={"statistic"}) == LIMITS.latency.model_dump(exclude={"statistic"})
    metrics = Minutes({})
    Analysis(metrics, BASE, maximum).minutes(SINCE, END, Colour.GREEN)  # type: ignore[arg-type]
    assert [(q.id, q.stat) for q in metrics.queries if q.id.endswith("latency")] == [("green_latency", "Maximum")]


def test_a_window_shorter_than_a_minute_is_read_as_the_last_minute() -> None:
    # The first poll of a bake, 20 s after the shift: CloudWatch refuses an empty window.
    metrics = Minutes({})
    end = SINCE + timedelta(seconds=20)
    found = Analysis(metrics, BASE, LIMITS).minutes(SINCE, end, Colour.GREEN)  # type: ignore[arg-type]
    assert metrics.windows == [(end - timedelta(seconds=60), end)]
    assert [m.at for m in found[Colour.GREEN]] == [_minute(11, 59), _minute(12, 0)]


@pytest.mark.parametrize("outputs", [
    {},
    {"target_group_arn_suffixes": BASE["target_group_arn_suffixes"]},
    {"load_balancer_arn_suffix": "app/lb/1"},
    {"load_balancer_arn_suffix": "app/lb/1", "target_group_arn_suffixes": {"blue": "tg/b/1"}},
], ids=["nothing", "no-load-balancer", "no-target-groups", "no-green-target-group"])
def test_a_colour_without_its_load_balancer_and_target_group_is_not_read_and_has_no_minutes(outputs: dict[str, Any]) -> None:
    metrics = Minutes({})
    found = Analysis(metrics, outputs, LIMITS).minutes(SINCE, END, Colour.GREEN)  # type: ignore[arg-type]
    assert metrics.windows == [], "nothing to ask: CloudWatch is not called"
    assert found == {Colour.GREEN: []}


class Indexed(Minutes):
    """A stand-in that keys its minutes by index, as the simulations do, where CloudWatch keys them by time."""

    def metric_series(self, queries: Sequence[Any], start: datetime, end: datetime) -> dict[str, dict[Any, float]]:
        return {q.id: {0: 1.0} for q in queries}


def test_minutes_without_their_time_are_refused_by_name() -> None:
    with pytest.raises(TypeError, match="^CloudWatch minutes carry their timestamp$"):
        Analysis(Indexed({}), BASE, LIMITS).judge(Colour.GREEN, SINCE, END)  # type: ignore[arg-type]


def test_each_colour_is_read_from_its_target_groups_metrics_and_its_log_signal() -> None:
    # The load balancer's per-target-group metrics (AWS/ApplicationELB: RequestCount and HTTPCode_Target_5XX_Count
    # summed, TargetResponseTime at the configured statistic), and the log signal's metric, summed, when exported.
    metrics = Minutes({})
    outputs = {**BASE, "log_signals": {"green": LOGS, "blue": {"namespace": "web/release"}}}
    Analysis(metrics, outputs, LIMITS).minutes(SINCE, END, Colour.GREEN, Colour.BLUE)  # type: ignore[arg-type]
    green = (("LoadBalancer", "app/lb/1"), ("TargetGroup", "tg/g/1"))
    blue = (("LoadBalancer", "app/lb/1"), ("TargetGroup", "tg/b/1"))
    elb = "AWS/ApplicationELB"
    statistic = LIMITS.latency.statistic
    assert [(q.id, q.namespace, q.metric, q.dimensions, q.stat) for q in metrics.queries] == [
        ("green_requests", elb, "RequestCount", green, "Sum"),
        ("green_errors", elb, "HTTPCode_Target_5XX_Count", green, "Sum"),
        ("green_latency", elb, "TargetResponseTime", green, statistic),
        ("green_error_lines", "web/release", "RequestsWithErrors", (), "Sum"),
        # Blue's signal names no metric: no error lines are read for it.
        ("blue_requests", elb, "RequestCount", blue, "Sum"),
        ("blue_errors", elb, "HTTPCode_Target_5XX_Count", blue, "Sum"),
        ("blue_latency", elb, "TargetResponseTime", blue, statistic),
    ]


class Sparse(Minutes):
    """A minute with a latency datapoint only: the load balancer publishes no count for a minute that has none."""

    def metric_series(self, queries: Sequence[Any], start: datetime, end: datetime) -> dict[str, dict[datetime, float]]:
        return {q.id: ({_minute(12, 1): 0.25} if q.id.endswith("latency") else {}) for q in queries}


@pytest.mark.parametrize(("signals", "error_requests"), [({"green": LOGS}, 0.0), ({}, None)])
def test_a_minute_with_no_count_counts_zero_and_its_error_lines_are_known_only_with_a_log_signal(
    signals: dict[str, Any], error_requests: float | None,
) -> None:
    outputs = {**BASE, "log_signals": signals}
    found = Analysis(Sparse({}), outputs, LIMITS).minutes(SINCE, END, Colour.GREEN)  # type: ignore[arg-type]
    assert found[Colour.GREEN] == [
        Minute(at=_minute(12, 1), requests=0.0, errors=0.0, error_requests=error_requests, latency=0.25),
    ]
