"""Monitoring in the real stacks: every dimension it names is a resource the same plan creates."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from components.dashboard import named_dimensions
from offline import Plan, PlannedResource

STACKS = ("staging", "production")
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"


def one(plan: Plan, type_: str) -> PlannedResource:
    found = plan.of_type(type_)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def monitoring_children(plan: Plan) -> list[PlannedResource]:
    root = plan.named("webapp-monitoring").urn
    return [r for r in plan.resources if r.parent == root]


def real_dimensions(plan: Plan) -> dict[str, dict[str, str]]:
    """Per colour (and "any"), the dimension values the plan's own resources have."""
    groups = {r.name.rsplit("-", 1)[1]: r.outputs["arnSuffix"] for r in plan.of_type("aws:lb/targetGroup:TargetGroup")}
    services = {r.inputs["name"].rsplit("-", 1)[1]: r.inputs["name"] for r in plan.of_type("aws:ecs/service:Service")}
    return {
        colour: {"TargetGroup": groups[colour], "ServiceName": services[colour]} for colour in ("blue", "green")
    } | {"any": {
        "LoadBalancer": one(plan, "aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"],
        "ClusterName": one(plan, "aws:ecs/cluster:Cluster").outputs["name"],
        "DBInstanceIdentifier": one(plan, "aws:rds/instance:Instance").inputs["identifier"],
    }}


def cache_nodes(plan: Plan) -> list[str]:
    return one(plan, "aws:elasticache/replicationGroup:ReplicationGroup").outputs["memberClusters"]


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_plans_the_dashboard_alarms_by_colour_and_composites(plan_of: Callable[..., Plan], stack: str) -> None:
    plan = plan_of(stack)
    names = {r.inputs.get("name") or r.inputs.get("alarmName") for r in monitoring_children(plan)
             if r.type in (ALARM, COMPOSITE)}
    prefix = f"webapp-{stack}"
    for colour in ("blue", "green"):
        assert {f"{prefix}-{colour}-ecs-cpu", f"{prefix}-{colour}-ecs-memory", f"{prefix}-{colour}-release"} <= names
    assert f"{prefix}-alb-5xx" in names
    assert one(plan, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardName"] == prefix
    assert plan.outputs["composite_alarm_names"] == {c: f"{prefix}-{c}-release" for c in ("blue", "green")}


@pytest.mark.parametrize("stack", STACKS)
def test_composites_watch_exactly_the_environments_release_alarms(plan_of: Callable[..., Plan], stack: str) -> None:
    plan = plan_of(stack)
    registered = {r.inputs["name"] for r in plan.of_type(ALARM)}
    for colour in ("blue", "green"):
        release_alarms = plan.outputs["alarm_names"][colour]
        assert release_alarms
        assert set(release_alarms) <= registered
        rule = plan.named(f"webapp-monitoring-{colour}-release").inputs["alarmRule"]
        # The environment's release alarms, then the colour's error-log-line alarm.
        watched = [*release_alarms, plan.outputs["log_signals"][colour]["alarm_name"]]
        assert watched[-1] in registered
        assert rule == " OR ".join(f'ALARM("{n}")' for n in watched)


@pytest.mark.parametrize("stack", STACKS)
def test_the_dashboard_names_only_this_plans_load_balancer_groups_cluster_and_services(
    plan_of: Callable[..., Plan], stack: str,
) -> None:
    plan = plan_of(stack)
    real = real_dimensions(plan)
    allowed: dict[str, set[str]] = {"CacheClusterId": set(cache_nodes(plan))}
    for values in real.values():
        for key, value in values.items():
            allowed.setdefault(key, set()).add(value)
    body = one(plan, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"]
    named = list(named_dimensions(body))
    assert {key for _, key, _ in named} == set(allowed)
    # Every Redis node is drawn, not only the first.
    assert {value for _, key, value in named if key == "CacheClusterId"} == set(cache_nodes(plan))
    for metric, key, value in named:
        assert value in allowed[key], (metric, key, value)
    # A series labelled with a colour draws that colour's target group or service, never the other's.
    for widget in json.loads(body)["widgets"]:
        for row in widget["properties"].get("metrics", []):
            label = row[-1].get("label", "") if isinstance(row[-1], dict) else ""
            colour = label.split(" ")[0]
            for key in ("TargetGroup", "ServiceName"):
                if colour in ("blue", "green") and key in row:
                    assert row[row.index(key) + 1] == real[colour][key], (widget["properties"]["title"], row)


@pytest.mark.parametrize("stack", STACKS)
def test_resource_alarms_watch_this_plans_services_and_load_balancer(plan_of: Callable[..., Plan], stack: str) -> None:
    plan = plan_of(stack)
    real = real_dimensions(plan)
    for colour in ("blue", "green"):
        for metric in ("cpu", "memory"):
            dims = plan.named(f"webapp-monitoring-{colour}-ecs-{metric}").inputs["dimensions"]
            assert dims == {"ClusterName": real["any"]["ClusterName"], "ServiceName": real[colour]["ServiceName"]}
    lb_queries = plan.named("webapp-monitoring-alb-5xx").inputs["metricQueries"]
    assert {json.dumps(q["metric"]["dimensions"]) for q in lb_queries if "metric" in q} == {
        json.dumps({"LoadBalancer": real["any"]["LoadBalancer"]})}


@pytest.mark.parametrize("stack", STACKS)
def test_data_alarms_watch_this_plans_database_and_every_redis_node(plan_of: Callable[..., Plan], stack: str) -> None:
    plan = plan_of(stack)
    database = real_dimensions(plan)["any"]["DBInstanceIdentifier"]
    for suffix in ("rds-cpu", "rds-free-storage", "rds-connections"):
        assert plan.named(f"webapp-monitoring-{suffix}").inputs["dimensions"] == {"DBInstanceIdentifier": database}
    rds_rule = json.loads(plan.named("webapp-monitoring-rds-events").inputs["eventPattern"])
    assert rds_rule["detail"]["SourceIdentifier"] == [database]
    for suffix in ("redis-memory", "redis-evictions"):
        queries = plan.named(f"webapp-monitoring-{suffix}").inputs["metricQueries"]
        nodes = [q["metric"]["dimensions"]["CacheClusterId"] for q in queries if "metric" in q]
        assert nodes == cache_nodes(plan)


@pytest.mark.parametrize("stack", STACKS)
def test_alarms_and_events_reach_the_environments_alert_topic(plan_of: Callable[..., Plan], stack: str) -> None:
    plan = plan_of(stack)
    topic = plan.outputs["alert_topic_arn"]
    for resource in monitoring_children(plan):
        if resource.type in (ALARM, COMPOSITE):
            assert resource.inputs["alarmActions"] == resource.inputs["okActions"] == [topic], resource.name
    policy = one(plan, "aws:sns/topicPolicy:TopicPolicy")
    assert policy.inputs["arn"] == topic
    statements = json.loads(policy.inputs["policy"])["Statement"]
    # Exactly the rules whose target is the topic may publish to it.
    publishing = {t.inputs["rule"] for t in plan.of_type("aws:cloudwatch/eventTarget:EventTarget") if t.inputs["arn"] == topic}
    rules = sorted(r.outputs["arn"] for r in plan.of_type("aws:cloudwatch/eventRule:EventRule") if r.inputs["name"] in publishing)
    assert rules
    assert sorted(statements[0]["Condition"]["ArnEquals"]["aws:SourceArn"]) == rules
    # The topic is encrypted: the services that publish to it must be allowed to use its key.
    topic_key = next(r.inputs["kmsMasterKeyId"] for r in plan.of_type("aws:sns/topic:Topic") if r.outputs["arn"] == topic)
    key = next(k for k in plan.of_type("aws:kms/key:Key") if k.outputs["arn"] == topic_key)
    users: set[str] = set()
    for statement in json.loads(key.inputs["policy"])["Statement"]:
        if "kms:GenerateDataKey*" in statement["Action"]:
            service = statement["Principal"].get("Service", [])
            users |= {service} if isinstance(service, str) else set(service)
    assert {"cloudwatch.amazonaws.com", "events.amazonaws.com"} <= users


def test_production_probes_the_load_balancers_health_path_from_route_53(plan_of: Callable[..., Plan]) -> None:
    plan = plan_of("production")
    check = one(plan, "aws:route53/healthCheck:HealthCheck")
    assert check.inputs["resourcePath"] == plan.outputs["health_check_path"]
    assert not plan_of("staging").of_type("aws:route53/healthCheck:HealthCheck")


def test_route_53_probes_the_name_the_stack_serves_aliases_and_certifies(plan_of: Callable[..., Plan]) -> None:
    served = yaml.safe_load(Path("Pulumi.production.yaml").read_text())["config"]["traffic:domainName"]
    plan = plan_of("production")
    assert one(plan, "aws:route53/healthCheck:HealthCheck").inputs["fqdn"] == served
    assert one(plan, "aws:route53/record:Record").inputs["name"] == served
    assert plan.outputs["endpoint_url"] == f"https://{served}"


def test_production_alarms_wait_for_four_breaching_periods_of_five(plan_of: Callable[..., Plan]) -> None:
    inputs = plan_of("production").named("webapp-monitoring-blue-ecs-cpu").inputs
    assert (inputs["threshold"], inputs["evaluationPeriods"], inputs["datapointsToAlarm"]) == (80, 5, 4)


def test_a_bad_monitoring_value_in_a_stack_is_refused_before_anything_is_registered(
    config_problems: Callable[..., list[str]],
) -> None:
    found = config_problems("staging", "monitoring:evaluationPeriods=0", "monitoring:percentiles=[50, 100]")
    assert found == [
        "monitoring:evaluationPeriods: got 0; input should be greater than or equal to 1",
        "monitoring:percentiles[1]: got 100; input should be less than 100",
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_every_service_the_deployment_rule_watches_has_a_circuit_breaker(plan_of: Callable[..., Plan], stack: str) -> None:
    # ECS only reports a failed deployment (and rolls it back) when the circuit breaker is on.
    plan = plan_of(stack)
    pattern = json.loads(plan.named("webapp-monitoring-ecs-deployments").inputs["eventPattern"])
    watched = {entry["wildcard"].rsplit("/", 1)[1] for entry in pattern["resources"]}
    services = {r.inputs["name"]: r.inputs for r in plan.of_type("aws:ecs/service:Service")}
    assert watched == set(services)
    for name in watched:
        assert services[name]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}, name
