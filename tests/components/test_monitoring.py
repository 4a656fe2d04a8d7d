"""The Monitoring component over literal identifiers (tests/fixtures/monitoring): alarms, composites, events, dashboard."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from components.config import ConfigError
from components.dashboard import named_dimensions
from offline import Plan, PlannedResource

TOPIC = "arn:aws:sns:eu-west-1:123456789012:webapp-staging-alerts"
LB = "app/webapp-staging/50dc6c495c0c9188"
GROUPS = {"blue": "targetgroup/webapp-staging-blue/6d0ecf831eec9f09",
          "green": "targetgroup/webapp-staging-green/73e2d6bc24d8a067"}
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"


@pytest.fixture(scope="module")
def plan(fixture_plan: Callable[..., Plan]) -> Plan:
    return fixture_plan("monitoring")


def alarm(plan: Plan, suffix: str) -> dict[str, Any]:
    return plan.named(f"monitoring-{suffix}").inputs


def queries(inputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["id"]: q for q in inputs["metricQueries"]}


def test_every_alarm_notifies_the_topic_on_alarm_and_on_ok(plan: Plan) -> None:
    alarms = plan.of_type(ALARM) + plan.of_type(COMPOSITE)
    assert len(alarms) == 12  # alb, 2x2 ecs, 3 rds, 2 redis, 2 composites
    for resource in alarms:
        assert resource.inputs["alarmActions"] == [TOPIC], resource.name
        assert resource.inputs["okActions"] == [TOPIC], resource.name


def test_every_alarm_is_a_child_of_the_component(plan: Plan) -> None:
    component = plan.named("monitoring")
    assert component.type == "release:monitoring:Monitoring"
    assert all(r.parent == component.urn for r in plan.resources if r is not component)


@pytest.mark.parametrize("colour", ["blue", "green"])
def test_service_alarms_watch_their_own_colours_service(plan: Plan, colour: str) -> None:
    for suffix, metric, threshold in (("ecs-cpu", "CPUUtilization", 85), ("ecs-memory", "MemoryUtilization", 90)):
        inputs = alarm(plan, f"{colour}-{suffix}")
        assert (inputs["namespace"], inputs["metricName"], inputs["statistic"]) == ("AWS/ECS", metric, "Average")
        assert inputs["dimensions"] == {"ClusterName": "webapp-staging", "ServiceName": f"webapp-staging-{colour}"}
        assert inputs["threshold"] == threshold
        assert inputs["comparisonOperator"] == "GreaterThanThreshold"
        assert inputs["name"] == f"webapp-staging-{colour}-{suffix}"
        # A colour scaled to zero sends no data: that must not page anyone.
        assert inputs["treatMissingData"] == "notBreaching"
        assert (inputs["evaluationPeriods"], inputs["datapointsToAlarm"], inputs["period"]) == (3, 3, 60)


def test_load_balancer_alarm_is_a_rate_of_its_own_5xx(plan: Plan) -> None:
    inputs = alarm(plan, "alb-5xx")
    by_id = queries(inputs)
    assert by_id["errors"]["metric"]["metricName"] == "HTTPCode_ELB_5XX_Count"
    assert by_id["requests"]["metric"]["metricName"] == "RequestCount"
    for id_ in ("errors", "requests"):
        assert by_id[id_]["metric"]["dimensions"] == {"LoadBalancer": LB}
        assert by_id[id_]["metric"]["stat"] == "Sum"
        assert by_id[id_]["returnData"] is False
    assert by_id["result"]["expression"] == "100 * FILL(errors, 0) / FILL(requests, 1)"
    assert by_id["result"]["returnData"] is True
    assert inputs["threshold"] == 5


def test_database_alarms(plan: Plan) -> None:
    expected = {
        "rds-cpu": ("CPUUtilization", "Average", 85, "GreaterThanThreshold"),
        "rds-free-storage": ("FreeStorageSpace", "Minimum", 2 * 1024**3, "LessThanThreshold"),
        "rds-connections": ("DatabaseConnections", "Maximum", 80, "GreaterThanThreshold"),
    }
    for suffix, (metric, stat, threshold, comparison) in expected.items():
        inputs = alarm(plan, suffix)
        assert (inputs["namespace"], inputs["metricName"], inputs["statistic"]) == ("AWS/RDS", metric, stat)
        assert inputs["dimensions"] == {"DBInstanceIdentifier": "webapp-staging-db"}
        assert (inputs["threshold"], inputs["comparisonOperator"]) == (threshold, comparison)


def test_redis_alarms_take_the_fullest_of_every_node(plan: Plan) -> None:
    for suffix, metric, stat, threshold in (("redis-memory", "DatabaseMemoryUsagePercentage", "Maximum", 80),
                                            ("redis-evictions", "Evictions", "Sum", 1000)):
        inputs = alarm(plan, suffix)
        by_id = queries(inputs)
        nodes = {q["metric"]["dimensions"]["CacheClusterId"] for q in by_id.values() if "metric" in q}
        assert nodes == {"webapp-staging-redis-001", "webapp-staging-redis-002"}
        assert {q["metric"]["metricName"] for q in by_id.values() if "metric" in q} == {metric}
        assert {q["metric"]["stat"] for q in by_id.values() if "metric" in q} == {stat}
        assert by_id["result"]["expression"] == "MAX([node1, node2])"
        assert inputs["threshold"] == threshold


@pytest.mark.parametrize("colour", ["blue", "green"])
def test_the_composite_fires_when_any_of_its_colours_release_alarms_does(plan: Plan, colour: str) -> None:
    inputs = plan.named(f"monitoring-{colour}-release").inputs
    names = [f"webapp-staging-{colour}-{kind}" for kind in ("target-5xx", "latency", "unhealthy")]
    assert inputs["alarmRule"] == " OR ".join(f'ALARM("{n}")' for n in names)
    assert inputs["alarmName"] == f"webapp-staging-{colour}-release"
    assert plan.outputs["composite_alarm_names"][colour] == f"webapp-staging-{colour}-release"


def test_event_rules_send_a_readable_line_to_the_topic(plan: Plan) -> None:
    rules = {r.inputs["name"]: r for r in plan.of_type(RULE)}
    assert set(rules) == {"webapp-staging-ecs-deployments", "webapp-staging-rds-events"}
    ecs = json.loads(rules["webapp-staging-ecs-deployments"].inputs["eventPattern"])
    assert ecs["resources"] == [{"wildcard": f"arn:aws:ecs:eu-west-1:*:service/webapp-staging/webapp-staging-{c}"}
                                for c in ("blue", "green")]
    rds = json.loads(rules["webapp-staging-rds-events"].inputs["eventPattern"])
    assert rds["detail"]["SourceIdentifier"] == ["webapp-staging-db"]
    targets = {t.inputs["rule"]: t.inputs for t in plan.of_type(TARGET)}
    assert set(targets) == set(rules)
    for target in targets.values():
        assert target["arn"] == TOPIC
        assert target["inputTransformer"]["inputTemplate"].startswith('"')


def test_the_topic_policy_names_every_rule(plan: Plan) -> None:
    policy = json.loads(plan.of_type("aws:sns/topicPolicy:TopicPolicy")[0].inputs["policy"])
    allowed = policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(allowed) == sorted(r.outputs["arn"] for r in plan.of_type(RULE))


def test_a_topic_whose_policy_is_owned_elsewhere_gets_none_from_monitoring(fixture_plan: Callable[..., Plan]) -> None:
    assert fixture_plan("monitoring").of_type("aws:sns/topicPolicy:TopicPolicy")
    assert not fixture_plan("monitoring", "topicPolicy=false").of_type("aws:sns/topicPolicy:TopicPolicy")


def test_the_dashboard_names_only_the_stacks_own_resources(plan: Plan) -> None:
    dashboard = plan.of_type("aws:cloudwatch/dashboard:Dashboard")[0]
    assert dashboard.inputs["dashboardName"] == plan.outputs["dashboard_name"] == "webapp-staging"
    body = dashboard.inputs["dashboardBody"]
    named = set(named_dimensions(body))
    allowed = {
        "LoadBalancer": {LB}, "TargetGroup": set(GROUPS.values()), "ClusterName": {"webapp-staging"},
        "ServiceName": {"webapp-staging-blue", "webapp-staging-green"}, "DBInstanceIdentifier": {"webapp-staging-db"},
        "CacheClusterId": {"webapp-staging-redis-001", "webapp-staging-redis-002"},
    }
    assert named
    for metric, key, value in named:
        assert value in allowed[key], (metric, key, value)
    assert {key for _, key, _ in named} == set(allowed)
    alarm_widget = next(w for w in json.loads(body)["widgets"] if w["type"] == "alarm")
    assert alarm_widget["properties"]["alarms"] == [r.outputs["arn"] for r in plan.of_type(COMPOSITE)
                                                    if r.name.endswith("blue-release")] + \
        [r.outputs["arn"] for r in plan.of_type(COMPOSITE) if r.name.endswith("green-release")]


@pytest.mark.parametrize("colour", ["blue", "green"])
def test_each_colours_dashboard_series_use_that_colours_target_group(plan: Plan, colour: str) -> None:
    body = json.loads(plan.of_type("aws:cloudwatch/dashboard:Dashboard")[0].inputs["dashboardBody"])
    for widget in body["widgets"]:
        for row in widget["properties"].get("metrics", []):
            label = row[-1].get("label", "") if isinstance(row[-1], dict) else ""
            if label.startswith(f"{colour} ") and "TargetGroup" in row:
                assert row[row.index("TargetGroup") + 1] == GROUPS[colour], row


def test_without_database_and_cache_only_fleet_alarms_remain(fixture_plan: Callable[..., Plan]) -> None:
    plan = fixture_plan("monitoring", "database=false", "cacheNodes=0")
    names = sorted(r.inputs["name"] for r in plan.of_type(ALARM))
    assert names == sorted(["webapp-staging-alb-5xx"] + [f"webapp-staging-{c}-ecs-{m}" for c in ("blue", "green")
                                                            for m in ("cpu", "memory")])
    assert [r.inputs["name"] for r in plan.of_type(RULE)] == ["webapp-staging-ecs-deployments"]


def test_thresholds_and_periods_come_from_config(fixture_plan: Callable[..., Plan]) -> None:
    plan = fixture_plan("monitoring", ("monitoring:thresholds", {"ecsCpuPercent": 60}), "monitoring:evaluationPeriods=4",
                        "monitoring:datapointsToAlarm=2", "monitoring:periodSeconds=300")
    inputs = alarm(plan, "green-ecs-cpu")
    assert (inputs["threshold"], inputs["evaluationPeriods"], inputs["datapointsToAlarm"], inputs["period"]) == (60, 4, 2, 300)


def test_bad_config_stops_the_program_before_any_resource(fixture_plan: Callable[..., Plan]) -> None:
    with pytest.raises(ConfigError) as caught:
        fixture_plan("monitoring", ("monitoring:thresholds", {"rdsCpuPercent": -5}))
    assert caught.value.problems == [
        "monitoring:thresholds.rdsCpuPercent: got -5; input should be greater than or equal to 0"]
    assert caught.value.registered_before_error == 0  # type: ignore[attr-defined]


def test_empty_release_alarms_are_refused(fixture_plan: Callable[..., Plan]) -> None:
    from components.config import Colour
    from components.monitoring import composite_rule

    with pytest.raises(ValueError, match="the green composite alarm needs at least one release alarm name"):
        composite_rule(Colour.GREEN, [])


def _health(plan: Plan) -> list[PlannedResource]:
    return [r for r in plan.resources if r.name.startswith("monitoring-health")]


def test_a_domain_adds_an_https_health_check_with_its_alarm_in_us_east_1(fixture_plan: Callable[..., Plan]) -> None:
    plan = fixture_plan("monitoring", "monitoring:healthCheck=true", "traffic:domainName=app.example.com", "monitoring:healthPath=/healthz")
    check = plan.of_type("aws:route53/healthCheck:HealthCheck")[0]
    assert (check.inputs["type"], check.inputs["fqdn"], check.inputs["port"], check.inputs["resourcePath"]) == (
        "HTTPS", "app.example.com", 443, "/healthz")
    assert check.inputs["failureThreshold"] == 3
    inputs = plan.named("monitoring-health-alarm").inputs
    assert (inputs["namespace"], inputs["metricName"], inputs["region"]) == ("AWS/Route53", "HealthCheckStatus", "us-east-1")
    assert inputs["dimensions"] == {"HealthCheckId": check.outputs["arn"].rsplit("/", 1)[1]}
    assert (inputs["comparisonOperator"], inputs["threshold"], inputs["statistic"]) == ("LessThanThreshold", 1, "Minimum")
    assert inputs["treatMissingData"] == "breaching"
    assert plan.named("monitoring-health").parent == plan.named("monitoring").urn


def test_outside_us_east_1_the_health_alarm_is_relayed_to_the_stacks_topic(fixture_plan: Callable[..., Plan]) -> None:
    plan = fixture_plan("monitoring", "monitoring:healthCheck=true", "traffic:domainName=app.example.com")
    # An alarm cannot notify a topic in another region: it has no actions of its own here.
    assert plan.named("monitoring-health-alarm").inputs.get("alarmActions", []) == []
    relay = plan.named("monitoring-health-relay")
    assert relay.inputs["region"] == "us-east-1"
    bus_target = plan.named("monitoring-health-relay-bus").inputs
    assert bus_target["region"] == "us-east-1"
    assert bus_target["arn"] == "arn:aws:events:eu-west-1:123456789012:event-bus/default"
    role = plan.named("monitoring-health-relay-role")
    grant = json.loads(plan.named("monitoring-health-relay-policy").inputs["policy"])["Statement"]
    assert grant == [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus_target["arn"]}]
    assert bus_target["roleArn"] == role.outputs["arn"]
    alert = next(r for r in plan.of_type(RULE) if r.name == "monitoring-health-alert")
    alert_target = next(r for r in plan.of_type(TARGET) if r.name == "monitoring-health-alert")
    assert alert_target.inputs["arn"] == TOPIC
    assert "region" not in alert.inputs
    pattern = json.loads(alert.inputs["eventPattern"])
    assert pattern["detail"]["alarmName"] == ["webapp-staging-health-check"]
    policy = json.loads(plan.of_type("aws:sns/topicPolicy:TopicPolicy")[0].inputs["policy"])
    assert alert.outputs["arn"] in policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]


def test_in_us_east_1_the_health_alarm_notifies_the_topic_directly(fixture_plan: Callable[..., Plan]) -> None:
    plan = fixture_plan("monitoring", "monitoring:healthCheck=true", "traffic:domainName=app.example.com", "aws:region=us-east-1")
    inputs = plan.named("monitoring-health-alarm").inputs
    assert inputs["alarmActions"] == inputs["okActions"] == [TOPIC]
    assert not [r for r in _health(plan) if "relay" in r.name]
