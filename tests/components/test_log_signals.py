"""Logs that judge a release: per colour, a metric filter, an error-line alarm in the composite, saved queries, a widget."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from components.config import ConfigError, load
from components.config.monitoring import LogSignals
from components.log_queries import errors_by_message, slowest_requests, with_source
from offline import Plan
from tests.support import MINIMAL_CONFIG

STACKS = ("staging", "production")
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
QUERY = "aws:cloudwatch/queryDefinition:QueryDefinition"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


@pytest.mark.parametrize("stack", STACKS)
def test_each_colour_counts_its_own_error_lines(plan_of: Callable[..., Plan], stack: str) -> None:
    plan = plan_of(stack)
    groups = {r.outputs["name"] for r in plan.of_type(LOG_GROUP)}
    filters = {f.inputs["logGroupName"]: f for f in plan.of_type(FILTER)}
    assert set(filters) == {f"/ecs/webapp-{stack}/blue", f"/ecs/webapp-{stack}/green"}
    assert set(filters) <= groups
    signals = plan.outputs["log_signals"]
    for colour in ("blue", "green"):
        found = filters[f"/ecs/webapp-{stack}/{colour}"]
        # A request's access line (the one with its duration) at an error level: requests with an error, not lines.
        assert found.inputs["pattern"] == '{ ($.durationMs >= 0) && (($.level = "error") || ($.level = "fatal")) }'
        transform = found.inputs["metricTransformation"]
        # Every other line counts 0, so a quiet colour reports zeros rather than missing data.
        assert (transform["value"], transform["defaultValue"]) == ("1", "0")
        assert (transform["namespace"], transform["name"]) == (signals[colour]["namespace"], signals[colour]["metric"])
        # The colour's container writes to the group its filter reads.
        (task,) = [t for t in plan.of_type("aws:ecs/taskDefinition:TaskDefinition") if t.name == f"webapp-fleet-{colour}"]
        (container,) = json.loads(task.inputs["containerDefinitions"])
        assert container["logConfiguration"]["options"]["awslogs-group"] == found.inputs["logGroupName"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_error_line_alarm_divides_the_colours_lines_by_its_requests_and_joins_its_composite(
    plan_of: Callable[..., Plan], stack: str,
) -> None:
    plan = plan_of(stack)
    suffixes = {r.name.rsplit("-", 1)[-1]: r.outputs["arnSuffix"] for r in plan.of_type("aws:lb/targetGroup:TargetGroup")}
    threshold = 5 if stack == "staging" else 2
    # Production counts a period from 100 requests (Pulumi.production.yaml alerts:minRequests), staging from 50.
    min_requests = 50 if stack == "staging" else 100
    for colour in ("blue", "green"):
        name = plan.outputs["log_signals"][colour]["alarm_name"]
        (alarm,) = [a for a in plan.of_type(ALARM) if a.inputs["name"] == name]
        assert alarm.inputs["threshold"] == threshold
        # PutMetricAlarm: Period is exclusive with Metrics; each metric carries its own period.
        assert "period" not in alarm.inputs
        queries = {q["id"]: q for q in alarm.inputs["metricQueries"]}
        assert queries["requests"]["metric"]["dimensions"]["TargetGroup"] == suffixes[colour]
        assert queries["lines"]["metric"]["metricName"] == plan.outputs["log_signals"][colour]["metric"]
        assert [q["id"] for q in alarm.inputs["metricQueries"] if q.get("returnData")] == ["rate"]
        assert f"requests >= {min_requests}" in queries["rate"]["expression"]
        rule = plan.named(f"webapp-monitoring-{colour}-release").inputs["alarmRule"]
        assert f'ALARM("{name}")' in rule


@pytest.mark.parametrize("stack", STACKS)
def test_two_saved_queries_per_colour_and_a_logs_widget(plan_of: Callable[..., Plan], stack: str) -> None:
    plan = plan_of(stack)
    queries = {q.inputs["name"]: q for q in plan.of_type(QUERY)}
    assert set(queries) == {f"webapp-{stack}/{c}/{s}" for c in ("blue", "green")
                            for s in ("errors-by-message", "slowest-requests")}
    for name, query in queries.items():
        colour = name.split("/")[1]
        assert query.inputs["logGroupNames"] == [f"/ecs/webapp-{stack}/{colour}"]
    body = json.loads(plan.of_type("aws:cloudwatch/dashboard:Dashboard")[0].inputs["dashboardBody"])
    logs = [w for w in body["widgets"] if w["type"] == "log"]
    assert [w["properties"]["title"] for w in logs] == ["blue errors by message", "green errors by message"]
    for widget, colour in zip(logs, ("blue", "green"), strict=True):
        assert widget["properties"]["query"].startswith(f"SOURCE '/ecs/webapp-{stack}/{colour}' | fields")


def test_queries_read_the_configured_fields() -> None:
    fields = LogSignals.model_validate({"levelField": "severity", "errorLevels": ["ERROR"], "messageField": "msg",
                                        "durationField": "latency_ms"})
    assert fields.pattern == '{ ($.latency_ms >= 0) && (($.severity = "ERROR")) }'
    assert 'filter severity in ["ERROR"]' in errors_by_message(fields)
    assert "by msg" in errors_by_message(fields)
    assert "sort latency_ms desc" in slowest_requests(fields)
    assert with_source("fields a\n| limit 1", ["/g"]) == "SOURCE '/g' | fields a | limit 1"
    given = LogSignals.model_validate({"errorPattern": "[ts, level=ERROR, ...]"})
    assert given.pattern == "[ts, level=ERROR, ...]"


def _problems(**values: object) -> list[str]:
    raw = {**MINIMAL_CONFIG, "monitoring:logs": json.dumps(values)}
    with pytest.raises(ConfigError) as caught:
        load(raw, "staging")
    return caught.value.problems


@pytest.mark.parametrize(("values", "key", "allowed"), [
    ({"messageField": "message | stats"}, "monitoring:logs.messageField", "a JSON field name"),
    ({"durationField": ""}, "monitoring:logs.durationField", "a JSON field name"),
    ({"errorLevels": []}, "monitoring:logs.errorLevels", "one or more levels"),
    ({"errorLevels": ["error\"]"]}, "monitoring:logs.errorLevels", "letters only"),
    ({"errorPattern": '{ $.level = "error" '}, "monitoring:logs.errorPattern", "balanced braces"),
    ({"errorPattern": "x" * 1025}, "monitoring:logs.errorPattern", "1024"),
    ({"levels": ["error"]}, "monitoring:logs.levels", ""),
])
def test_bad_log_settings_are_named_with_their_key(values: dict[str, object], key: str, allowed: str) -> None:
    found = _problems(**values)
    assert any(p.startswith(f"{key}:") and allowed in p for p in found), found
