"""Release alarms per colour and the encrypted alert topic."""

from __future__ import annotations

import json

import pytest

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def alarms(plan) -> dict[str, dict]:
    # The environment's release alarms only; monitoring adds its own beside them.
    return {r.name.removeprefix("webapp-alerts-"): r.inputs for r in plan.of_type(ALARM) if r.name.startswith("webapp-alerts-")}


def test_each_colour_has_three_alarms_on_its_own_target_group(plan_of) -> None:
    plan = plan_of("production")
    found = alarms(plan)
    assert set(found) == {f"{c}-{s}" for c in ("blue", "green") for s in ("unhealthy-hosts", "5xx-rate", "p99-latency")}
    outputs, topic = plan.outputs, plan.outputs["alert_topic_arn"]
    for colour in ("blue", "green"):
        dims = {"LoadBalancer": outputs["load_balancer_arn_suffix"], "TargetGroup": outputs["target_group_arn_suffixes"][colour]}
        unhealthy = found[f"{colour}-unhealthy-hosts"]
        assert (unhealthy["metricName"], unhealthy["statistic"], unhealthy["threshold"]) == ("UnHealthyHostCount", "Maximum", 1)
        assert unhealthy["dimensions"] == dims
        latency = found[f"{colour}-p99-latency"]
        assert (latency["metricName"], latency["extendedStatistic"], latency["threshold"]) == ("TargetResponseTime", "p99", 1.5)
        assert latency["dimensions"] == dims
        for alarm in (unhealthy, latency, found[f"{colour}-5xx-rate"]):
            assert alarm["alarmActions"] == [topic]
            assert alarm["treatMissingData"] == "notBreaching"
            assert alarm["evaluationPeriods"] == 3
        assert [found[f"{colour}-{s}"]["name"] for s in ("unhealthy-hosts", "5xx-rate", "p99-latency")] == outputs["alarm_names"][colour]


def test_the_error_rate_counts_only_periods_with_enough_requests(plan_of) -> None:
    rate = alarms(plan_of("production"))["green-5xx-rate"]
    queries = {q["id"]: q for q in rate["metricQueries"]}
    assert queries["errors"]["metric"]["metricName"] == "HTTPCode_Target_5XX_Count"
    assert queries["requests"]["metric"]["metricName"] == "RequestCount"
    # Production sets alerts:minRequests 100: a 2% rate on the 5% step's ~60 requests a minute is chance (bench).
    assert queries["rate"]["expression"] == "IF(requests >= 100, 100 * FILL(errors, 0) / requests, 0)"
    assert queries["rate"]["returnData"] is True
    assert rate["threshold"] == 2
    staging = alarms(plan_of("staging", "alerts:minRequests=200", "alerts:emails=[]"))["green-5xx-rate"]
    assert staging["threshold"] == 5
    assert "requests >= 200" in next(q["expression"] for q in staging["metricQueries"] if q["id"] == "rate")


def test_the_topic_is_encrypted_with_a_key_cloudwatch_may_use(plan_of) -> None:
    plan = plan_of("production")
    key = next(r for r in plan.of_type("aws:kms/key:Key") if r.name == "webapp-alerts-key")
    topic = plan.named("webapp-alerts-topic")
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    # Both stacks share an account and region: the alias names the stack.
    alias = next(r for r in plan.of_type("aws:kms/alias:Alias") if r.name == "webapp-alerts-key")
    assert alias.inputs == {"name": "alias/webapp-production-alerts", "targetKeyId": key.outputs["keyId"]}
    statements = json.loads(key.inputs["policy"])["Statement"]
    cloudwatch = next(s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"})
    assert cloudwatch["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_subscriptions_come_from_config(plan_of) -> None:
    subscriptions = plan_of("production").of_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted((s.inputs["protocol"], s.inputs["endpoint"]) for s in subscriptions) == [
        ("email", "platform-team@example.com"),
        ("https", "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue"),
    ]
    quiet = plan_of("staging", "alerts:minRequests=200", "alerts:emails=[]")
    assert not quiet.of_type("aws:sns/topicSubscription:TopicSubscription")


@pytest.mark.parametrize(("override", "expected"), [
    ('alerts:emails=["oncall"]', 'alerts:emails[0]: got "oncall"; an email address such as oncall@example.com'),
    ('alerts:httpsEndpoints=["http://hooks.example.com/x"]', 'alerts:httpsEndpoints[0]: got "http://hooks.example.com/x"; an https:// URL'),
    ("alerts:periodSeconds=45", "alerts:periodSeconds: got 45; an alarm period of 10, 30 or a multiple of 60 seconds"),
    ("alerts:errorRatePercent=0", "alerts:errorRatePercent: got 0; input should be greater than 0"),
    ("alerts:evaluationPeriods=0", "alerts:evaluationPeriods: got 0; input should be greater than or equal to 1"),
])
def test_bad_alert_values_are_config_errors(config_problems, override: str, expected: str) -> None:
    problems = config_problems("staging", override)
    assert any(p.startswith(expected) for p in problems), problems


# PutMetricAlarm refuses these beside a Metrics array (botocore cloudwatch PutMetricAlarmInput.Metrics;
# the provider's schema marks them as conflicting with metric_query).
_NOT_WITH_QUERIES = ("period", "namespace", "metricName", "dimensions", "statistic", "extendedStatistic", "unit")


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_no_metric_math_alarm_sets_a_single_metrics_inputs(plan_of, stack: str) -> None:
    math = [r for r in plan_of(stack).of_type(ALARM) if r.inputs.get("metricQueries")]
    assert {"webapp-alerts-blue-5xx-rate", "webapp-alerts-green-5xx-rate"} <= {r.name for r in math}
    clashes = {r.name: [k for k in _NOT_WITH_QUERIES if r.inputs.get(k) is not None] for r in math}
    assert not {name: keys for name, keys in clashes.items() if keys}, clashes
    for alarm in math:
        assert all(q["metric"].get("period") for q in alarm.inputs["metricQueries"] if q.get("metric")), alarm.name
