"""The rehearsal's log lines: written per request, shipped to moto's CloudWatch Logs, counted by the stack's filters."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from components.config import Colour
from components.config.monitoring import LogSignals
from offline import Plan
from rehearsal import run
from rehearsal.cli import app
from rehearsal.world.app import TIME_HEADER
from rehearsal.world.evaluator import AlarmEvaluator
from rehearsal.world.fleet import AppBehaviour, AppLog, Fleet
from rehearsal.world.logs import (
    DAY_MS,
    MAX_BATCH_BYTES,
    MAX_EVENTS,
    Emitted,
    LogMetrics,
    LogShipper,
    MetricFilter,
    UnmodelledFilterError,
    batches,
    publish,
    shift_for,
)
from rehearsal.world.metrics import MetricStore
from rehearsal.world.proxy import Sample
from rehearsal.world.servers import Moto
from rehearsal.world.traffic import alarm_source
from release.aws.cloudwatch import Metrics
from release.clock import ManualClock
from release.judgement.analysis import Analysis, Thresholds, with_statistic

BLUE, GREEN = Colour.BLUE, Colour.GREEN
GROUP = "/ecs/webapp-staging/green"
FILTER_INPUTS = {
    "name": "webapp-staging-green-error-lines", "logGroupName": GROUP,
    "pattern": LogSignals().pattern,
    "metricTransformation": {"name": "ErrorLogLines-green", "namespace": "webapp-staging/logs", "value": "1",
                             "defaultValue": "0", "unit": "Count"},
}
MINUTE = int(datetime(2026, 1, 1, 0, 5, tzinfo=UTC).timestamp()) // 60


def _send(port: int, at: float) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/", headers={TIME_HEADER: f"{at:.3f}"})
    status = connection.getresponse().status
    connection.close()
    return status


def test_put_log_events_batches_keep_to_the_count_bytes_and_span_limits() -> None:
    small = [{"timestamp": i, "message": "x"} for i in range(MAX_EVENTS + 1)]
    assert [len(b) for b in batches(small)] == [MAX_EVENTS, 1]
    big = "y" * (MAX_BATCH_BYTES // 3)
    assert [len(b) for b in batches([{"timestamp": i, "message": big} for i in range(3)])] == [2, 1]
    apart = [{"timestamp": 0, "message": "a"}, {"timestamp": DAY_MS + 1, "message": "b"}]
    assert [len(b) for b in batches(apart)] == [1, 1]


def test_the_shift_keeps_minutes_whole_and_puts_the_rehearsal_inside_the_accepted_window() -> None:
    start, now = datetime(2026, 1, 1, 0, 0, 7, tzinfo=UTC), datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
    shift = shift_for(start, now)
    assert shift % 60_000 == 0
    shifted = start + timedelta(milliseconds=shift)
    # PutLogEvents takes events up to 14 days old and at most 2 hours ahead; a rehearsal of days still fits.
    assert now - timedelta(days=14) < shifted < now - timedelta(days=6)


def test_an_event_the_log_store_rejects_is_an_error_not_a_gap(tmp_path: Path) -> None:
    path = tmp_path / "old.log"
    path.write_text(json.dumps({"time": "2000-01-01T00:00:00.000+00:00", "level": "error"}) + "\n")
    with Moto("eu-west-1") as session:
        logs = session.client("logs")
        logs.create_log_group(logGroupName=GROUP)
        shipper = LogShipper(logs, {GREEN: GROUP}, shift_ms=0)
        with pytest.raises(RuntimeError, match="CloudWatch Logs rejected events of /ecs/webapp-staging/green/app/green/1"):
            shipper.ship([AppLog(GREEN, "app/green/1", path)])


def test_each_request_writes_a_line_and_the_stacks_filter_counts_the_error_lines_the_analysis_reads() -> None:
    noisy = AppBehaviour(error_rate=0.2, error_log_rate=0.5)
    with Fleet({"noisy": noisy}) as fleet, Moto("eu-west-1") as session:
        assert fleet.start(GREEN, "noisy")
        port = fleet.port(GREEN)
        assert port is not None
        statuses = [_send(port, MINUTE * 60.0 + i) for i in range(40)]
        lines = [json.loads(line) for line in fleet.logs[0].path.read_text().splitlines()]
        # One line per request, stamped with the request's time; every 5xx is an error line, and so are some 200s.
        assert [line["status"] for line in lines] == statuses
        assert lines[3]["time"] == datetime.fromtimestamp(MINUTE * 60.0 + 3, tz=UTC).isoformat(timespec="milliseconds")
        assert all(line["level"] == "error" for line in lines if line["status"] >= 500)
        assert any(line["level"] == "error" for line in lines if line["status"] == 200)
        errors = sum(line["level"] == "error" for line in lines)
        logs, cloudwatch = session.client("logs"), session.client("cloudwatch")
        logs.create_log_group(logGroupName=GROUP)
        shift = shift_for(datetime.fromtimestamp(MINUTE * 60, tz=UTC), datetime.now(tz=UTC))
        shipper = LogShipper(logs, {GREEN: GROUP}, shift)
        shipper.ship(fleet.logs)
        shipper.ship(fleet.logs)  # nothing new: nothing shipped twice
        assert shipper.shipped[GREEN] == 40
        metrics = LogMetrics(logs, [MetricFilter.from_inputs(FILTER_INPUTS)], shift)
        publish(cloudwatch, metrics.close(MINUTE))
        assert metrics.value("webapp-staging/logs", "ErrorLogLines-green", {}, "Sum", MINUTE) == errors
        assert metrics.value("webapp-staging/logs", "ErrorLogLines-green", {}, "SampleCount", MINUTE) == 40
        assert metrics.totals({GREEN: GROUP})["green"] == {"lines": 40, "error_lines": errors}
        outputs = {"load_balancer_arn_suffix": "app/lb/1", "target_group_arn_suffixes": {"green": "targetgroup/green/1"},
                   "log_signals": {"green": {"namespace": "webapp-staging/logs", "metric": "ErrorLogLines-green"}}}
        analysis = Analysis(Metrics(session, ManualClock()), outputs, with_statistic(Thresholds(), "Maximum"))
        start = datetime.fromtimestamp(MINUTE * 60, tz=UTC)
        assert analysis.figures(start, start + timedelta(minutes=2), GREEN)[GREEN].error_lines == errors


def test_a_failing_request_that_writes_three_error_lines_counts_once() -> None:
    verbose = AppBehaviour(error_rate=0.2, error_lines=3)
    with Fleet({"verbose": verbose}) as fleet, Moto("eu-west-1") as session:
        assert fleet.start(GREEN, "verbose")
        port = fleet.port(GREEN)
        assert port is not None
        statuses = [_send(port, MINUTE * 60.0 + i) for i in range(40)]
        lines = [json.loads(line) for line in fleet.logs[0].path.read_text().splitlines()]
        failed = sum(status >= 500 for status in statuses)
        assert failed > 0
        # One access line per request (the one with its duration), and two more error lines per failing request.
        assert [line["status"] for line in lines if "durationMs" in line] == statuses
        assert sum(line["level"] == "error" for line in lines) == 3 * failed
        logs = session.client("logs")
        logs.create_log_group(logGroupName=GROUP)
        shift = shift_for(datetime.fromtimestamp(MINUTE * 60, tz=UTC), datetime.now(tz=UTC))
        LogShipper(logs, {GREEN: GROUP}, shift).ship(fleet.logs)
        metrics = LogMetrics(logs, [MetricFilter.from_inputs(FILTER_INPUTS)], shift)
        metrics.close(MINUTE)
        # The stack's own filter counts requests with an error: each failing request once.
        assert metrics.value("webapp-staging/logs", "ErrorLogLines-green", {}, "Sum", MINUTE) == failed
        assert metrics.totals({GREEN: GROUP})["green"] == {"lines": 40 + 2 * failed, "error_lines": failed}


def test_a_metric_filter_the_rehearsal_cannot_apply_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"metric filter webapp-staging-green-error-lines \(monitoring:logs.errorPattern\): "
                                         r"filter pattern '\[w1=ERROR, w2\]': space-delimited"):
        MetricFilter.from_inputs({**FILTER_INPUTS, "pattern": "[w1=ERROR, w2]"})
    taken = {**FILTER_INPUTS, "metricTransformation": {**FILTER_INPUTS["metricTransformation"], "value": "$.latency"}}
    with pytest.raises(ValueError, match=r"metric value '\$.latency'.*numeric values only"):
        MetricFilter.from_inputs(taken)


def test_a_rehearsal_of_a_stack_whose_error_pattern_it_cannot_read_is_bad_input() -> None:
    result = CliRunner().invoke(app, ["--stack", "staging", "-c", "monitoring:logs.errorPattern=ERROR", "--json"])
    assert result.exit_code == 2, result.output
    assert re.search(r"metric filter webapp-staging-(blue|green)-error-lines \(monitoring:logs.errorPattern\): "
                     r"filter pattern 'ERROR': term patterns are not modelled", result.output), result.output
    assert "Traceback" not in result.output


def test_the_filters_the_release_would_deploy_are_refused_before_anything_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_moto(region: str) -> None:
        pytest.fail("the rehearsal started moto before refusing the filter")

    monkeypatch.setattr(run, "Moto", no_moto)
    with pytest.raises(UnmodelledFilterError, match=r"filter pattern '%ERROR%': regular expressions are not modelled"):
        run.rehearse("staging", "happy", [("monitoring:logs.errorPattern", "%ERROR%")])


def test_the_stacks_error_line_alarm_fires_on_the_counted_lines(plan_of: Callable[..., Plan]) -> None:
    plan = plan_of("staging")
    name = plan.outputs["log_signals"]["green"]["alarm_name"]
    evaluator = AlarmEvaluator.from_plan(plan, [name], lambda v: v)
    lb, suffix = plan.outputs["load_balancer_arn_suffix"], plan.outputs["target_group_arn_suffixes"]["green"]
    store = MetricStore({GREEN: {"LoadBalancer": lb, "TargetGroup": suffix}})
    metrics = LogMetrics(None, [MetricFilter.from_inputs(FILTER_INPUTS)], 0)
    for minute in range(MINUTE, MINUTE + 3):
        store.add([Sample(minute * 60.0 + i / 2, GREEN, 200, 0.08, by_target=True) for i in range(100)], {}, minute)
        # 10 error lines in 100 requests: above staging's 5 per 100.
        metrics.minutes[minute][("webapp-staging/logs", "ErrorLogLines-green")] = Emitted(100, 10, [1.0] * 10 + [0.0] * 90)
    states: list[tuple[str, str]] = []
    evaluator.evaluate(alarm_source(store, metrics), MINUTE + 3, 0.0, lambda n, s, _: states.append((n, s)))
    assert states == [(name, "ALARM")]
