"""The fleet: per-colour task definitions and services, roles, logs, autoscaling, bad input."""

from __future__ import annotations

import json

import pytest

from components.data_tier import DATA_VARIABLES
from components.fleet_iam import repository_arn
from tests.support import MINIMAL_CONFIG

REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/webapp"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:webapp/db-AbCdEf"
CACHE = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:webapp/cache-GhIjKl"


def one(plan, type_: str, name: str):
    (found,) = [r for r in plan.of_type(type_) if r.name == name]
    return found


def container(plan, colour: str, prefix: str = "webapp-fleet") -> dict:
    task = one(plan, "aws:ecs/taskDefinition:TaskDefinition", f"{prefix}-{colour}")
    (only,) = json.loads(task.inputs["containerDefinitions"])
    return only


def service(plan, colour: str, prefix: str = "webapp-fleet"):
    return one(plan, "aws:ecs/service:Service", f"{prefix}-{colour}")


def test_each_colour_runs_its_own_version_on_its_own_target_group(plan_of) -> None:
    plan = plan_of("production")
    groups = {r.name.rsplit("-", 1)[-1]: r.outputs["arn"] for r in plan.of_type("aws:lb/targetGroup:TargetGroup")}
    for colour, version in (("blue", "8d41b07c"), ("green", "3f9c2e1a")):
        app = container(plan, colour)
        assert app["image"] == f"{REPOSITORY}:{version}"
        assert app["portMappings"] == [{"containerPort": 8080, "protocol": "tcp"}]
        # The data tier's variables are tested with the data tier (test_data_stack.py).
        env = {e["name"]: e["value"] for e in app["environment"] if e["name"] not in DATA_VARIABLES}
        assert env == {"APP_COLOUR": colour, "APP_VERSION": version, "LOG_LEVEL": "info"}
        assert [s["name"] for s in app["secrets"]] == ["REDIS_AUTH_TOKEN"]
        assert app["healthCheck"]["command"] == ["CMD-SHELL", "curl -fsS http://localhost:8080/healthz || exit 1"]
        # Each colour logs to its own group: a metric filter reads a whole group (the release's log signal).
        assert app["logConfiguration"]["options"]["awslogs-group"] == f"/ecs/webapp-production/{colour}"
        svc = service(plan, colour)
        assert svc.inputs["loadBalancers"] == [{"targetGroupArn": groups[colour], "containerName": "app", "containerPort": 8080}]
        task = next(r for r in plan.of_type("aws:ecs/taskDefinition:TaskDefinition") if r.name.endswith(colour))
        assert (task.inputs["family"], task.inputs["cpu"], task.inputs["memory"]) == (f"webapp-production-{colour}", "512", "1024")
        assert svc.inputs["taskDefinition"] == task.outputs["arn"]


def test_services_deploy_safely_in_private_subnets(plan_of) -> None:
    plan = plan_of("production")
    private = sorted(r.outputs["id"] for r in plan.of_type("aws:ec2/subnet:Subnet") if "private" in r.name)
    group = plan.named("webapp-network-service").outputs["id"]
    for colour in ("blue", "green"):
        svc = service(plan, colour).inputs
        assert svc["name"] == f"webapp-production-{colour}"
        assert svc["launchType"] == "FARGATE"
        assert sorted(svc["networkConfiguration"]["subnets"]) == private
        assert svc["networkConfiguration"]["securityGroups"] == [group]
        assert svc["networkConfiguration"]["assignPublicIp"] is False
        assert svc["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        assert (svc["deploymentMinimumHealthyPercent"], svc["deploymentMaximumPercent"]) == (100, 200)
        assert svc["healthCheckGracePeriodSeconds"] == 60


def test_container_insights_and_log_retention_per_stack(plan_of) -> None:
    for stack, days in (("staging", 14), ("production", 90)):
        plan = plan_of(stack)
        (cluster,) = plan.of_type("aws:ecs/cluster:Cluster")
        assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": "enabled"}]
        assert plan.named("webapp-fleet-logs").inputs["retentionInDays"] == days


def test_the_live_colour_autoscales_in_production_and_the_backup_is_held(plan_of) -> None:
    plan = plan_of("production")
    targets = {r.name: r.inputs for r in plan.of_type("aws:appautoscaling/target:Target")}
    assert (targets["webapp-fleet-green-scaling"]["minCapacity"], targets["webapp-fleet-green-scaling"]["maxCapacity"]) == (3, 12)
    assert (targets["webapp-fleet-blue-scaling"]["minCapacity"], targets["webapp-fleet-blue-scaling"]["maxCapacity"]) == (3, 3)
    assert targets["webapp-fleet-green-scaling"]["resourceId"] == "service/webapp-production/webapp-production-green"
    policies = {r.name: r.inputs["targetTrackingScalingPolicyConfiguration"] for r in plan.of_type("aws:appautoscaling/policy:Policy")}
    assert policies["webapp-fleet-green-cpu"]["targetValue"] == 60
    assert policies["webapp-fleet-green-cpu"]["predefinedMetricSpecification"]["predefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    requests = policies["webapp-fleet-green-requests"]
    outputs = plan.outputs
    label = f"{outputs['load_balancer_arn_suffix']}/{outputs['target_group_arn_suffixes']['green']}"
    assert requests["predefinedMetricSpecification"] == {"predefinedMetricType": "ALBRequestCountPerTarget", "resourceLabel": label}
    assert requests["targetValue"] == 1000
    assert not plan_of("staging").of_type("aws:appautoscaling/target:Target")


def test_after_a_promotion_the_old_colour_stays_as_backup_until_scaled_down(plan_of) -> None:
    from offline.diff import diff

    plan = plan_of("staging")
    assert [service(plan, c).inputs["desiredCount"] for c in ("blue", "green")] == [1, 1]
    scaled_down = plan_of("staging", "fleet:candidateCount=0")
    assert [service(scaled_down, c).inputs["desiredCount"] for c in ("blue", "green")] == [1, 0]
    result = diff(plan, scaled_down)
    assert [(d.kind, d.name, [str(c) for c in d.changes]) for d in result.resources] == [
        ("update", "webapp-fleet-green", ["desiredCount: 1 -> 0"]),
    ]


def test_the_execution_role_reads_only_its_image_logs_and_secrets(fixture_plan) -> None:
    plan = fixture_plan("fleet")
    policy = json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", "app-roles-execution").inputs["policy"])
    by_action = {json.dumps(s["Action"]): s["Resource"] for s in policy["Statement"]}
    logs = [plan.named(name).outputs["arn"] for name in ("app-logs", "app-blue-logs", "app-green-logs")]
    assert by_action == {
        '"ecr:GetAuthorizationToken"': "*",
        '["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]':
            "arn:aws:ecr:eu-west-1:123456789012:repository/app",
        '["logs:CreateLogStream", "logs:PutLogEvents"]': [f"{arn}:*" for arn in logs],
        '"secretsmanager:GetSecretValue"': sorted([SECRET, CACHE]),
    }
    without = json.loads(one(fixture_plan("fleet", "withSecrets=false"), "aws:iam/rolePolicy:RolePolicy", "app-roles-execution")
                         .inputs["policy"])
    assert not any("secretsmanager" in json.dumps(s) for s in without["Statement"])


def test_extra_environment_and_secrets_reach_every_colour_by_reference(fixture_plan) -> None:
    plan = fixture_plan("fleet")
    endpoint = plan.named("endpoint-stand-in").outputs["arn"]
    for colour in ("blue", "green"):
        app = container(plan, colour, prefix="app")
        env = {e["name"]: e["value"] for e in app["environment"]}
        assert env["DATABASE_HOST"] == endpoint
        assert app["secrets"] == [
            {"name": "DATABASE_PASSWORD", "valueFrom": f"{SECRET}:password::"},
            {"name": "REDIS_AUTH", "valueFrom": CACHE},
        ]


def test_repository_arn_from_url() -> None:
    assert repository_arn(f"{REPOSITORY}") == "arn:aws:ecr:eu-west-1:123456789012:repository/webapp"
    with pytest.raises(ValueError, match="not an ECR repository URL: 'ghcr.io/acme/webapp'"):
        repository_arn("ghcr.io/acme/webapp")


@pytest.mark.parametrize(("overrides", "expected"), [
    (("fleet:cpu=300",), "fleet:cpu: got 300; Fargate CPU units are one of 256, 512, 1024, 2048, 4096, 8192, 16384"),
    (("fleet:cpu=1024", "fleet:memory=1024"),
     "fleet:memory: got 1024; with cpu 1024 Fargate accepts 2048-8192 MiB in steps of 1024"),
    (("fleet:cpu=256", "fleet:memory=4096"), "fleet:memory: got 4096; with cpu 256 Fargate accepts 512-2048 MiB"),
    (("fleet:logRetentionDays=45",), "fleet:logRetentionDays: got 45; a CloudWatch Logs retention in days: one of 1, 3"),
    (("fleet:imageRepository=ghcr.io/acme/webapp",),
     'fleet:imageRepository: got "ghcr.io/acme/webapp"; an ECR repository URL: <account>.dkr.ecr.<region>.amazonaws.com/<name>'),
    (("fleet:desiredCount=20",), "fleet:desiredCount: got 20; with autoscaling on, between autoscaling.minCapacity (3) and"),
    (("fleet:autoscaling.maxCapacity=2",), "fleet:autoscaling.maxCapacity: got 2; at least minCapacity (3)"),
    (("fleet:candidateCount=0", "release:canaryWeight=25"),
     "fleet:candidateCount: got 0; release:canaryWeight is 25, so the candidate (blue) needs tasks"),
    (("fleet:environment.bad-name=1",), 'fleet:environment.bad-name.[key]: got "bad-name"; an environment variable name'),
])
def test_bad_fleet_values_are_config_errors(config_problems, overrides: tuple[str, ...], expected: str) -> None:
    problems = config_problems("production", *overrides)
    assert any(p.startswith(expected) for p in problems), problems


def test_the_environment_exposes_what_the_data_tier_and_monitoring_consume(fixture_plan) -> None:
    plan = fixture_plan("environment")
    out = plan.outputs
    assert out["vpc_id"].startswith("vpc-")
    assert [len(out[k]) for k in ("private_subnet_ids", "public_subnet_ids")] == [2, 2]
    assert out["service_security_group_id"].startswith("sg-")
    assert out["alb_security_group_id"].startswith("sg-")
    assert out["cluster_arn"] == "arn:aws:ecs:eu-west-1:123456789012:cluster/webapp-staging"
    assert out["execution_role_arn"].startswith("arn:aws:iam::123456789012:role/")
    assert out["log_group_name"] == "/ecs/webapp-staging"
    assert out["image_repository"] == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"
    assert (out["container_name"], out["container_port"]) == ("app", 8080)
    assert out["service_names"] == {"blue": "webapp-staging-blue", "green": "webapp-staging-green"}
    assert [len(out["alarm_arns"][c]) for c in ("blue", "green")] == [3, 3]
    assert out["alert_topic_arn"].startswith("arn:aws:sns:eu-west-1:123456789012:")
    app = container(plan, "green", prefix="app-fleet")
    assert {"name": "SEARCH_HOST", "value": "search.internal"} in app["environment"]
    assert app["secrets"][0] == {"name": "SEARCH_API_KEY", "valueFrom": f"{SECRET_EXTRA}:key::"}
    assert [s["name"] for s in app["secrets"][1:]] == ["REDIS_AUTH_TOKEN"]


SECRET_EXTRA = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/search-AbCdEf"


def test_an_environment_without_an_image_repository_is_a_config_error() -> None:
    from components.config import ConfigError, load
    from components.environment import environment_args

    config = load(MINIMAL_CONFIG, "staging")
    with pytest.raises(ConfigError) as caught:
        environment_args(config, cache_auth_token="fixture-token-0123456789abcdef", release_token="fixture-release-token-0123456789abcdef")
    assert caught.value.problems == [
        "fleet:imageRepository: got (missing); set the ECR repository URL, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/webapp",
    ]


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_each_service_waits_for_the_listener_and_rule_that_forward_to_its_target_group(plan_of, stack: str) -> None:
    # CreateService fails with "target group does not have an associated load balancer" when the service
    # comes first on a new stack; the dependency orders the listener and the colour's rule before it.
    plan = plan_of(stack)
    for colour in ("blue", "green"):
        group = plan.named(f"webapp-traffic-{colour}").outputs["arn"]
        (attached,) = service(plan, colour).inputs["loadBalancers"]
        assert attached["targetGroupArn"] == group
        forwarding = {r.urn for r in plan.of_type("aws:lb/listener:Listener") if group in json.dumps(r.inputs)}
        forwarding |= {plan.named(f"webapp-traffic-{colour}-candidate").urn}
        assert plan.named("webapp-traffic-https").urn in forwarding
        assert forwarding <= set(service(plan, colour).dependencies), service(plan, colour).dependencies


def test_an_autoscaled_count_is_left_to_application_auto_scaling(plan_of) -> None:
    from offline.diff import diff

    # pulumi-aws ecs.Service docs: with autoscaling, ignore desired_count, or every update resets the scaled count.
    production = plan_of("production")
    assert production.of_type("aws:appautoscaling/target:Target")
    for colour in ("blue", "green"):
        assert service(production, colour).ignore_changes == ("desiredCount",)
    # Without autoscaling the program owns the count.
    staging = plan_of("staging")
    assert all(service(staging, c).ignore_changes == () for c in ("blue", "green"))
    # The program still moves an autoscaled count, through the target's bounds, which RegisterScalableTarget applies.
    held = plan_of("production", "fleet:candidateCount=1")
    changed = {(d.name, str(c)) for d in diff(production, held).resources for c in d.changes}
    assert changed == {("webapp-fleet-blue-scaling", "minCapacity: 3 -> 1"), ("webapp-fleet-blue-scaling", "maxCapacity: 3 -> 1")}
