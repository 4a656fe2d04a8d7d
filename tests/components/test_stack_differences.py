"""Staging and production differ as configured; each difference is stated here."""

from __future__ import annotations

from tests.support import MINIMAL_CONFIG


def count(plan, type_: str) -> int:
    return len(plan.of_type(type_))


def test_zones_and_nat(plan_of) -> None:
    staging, production = plan_of("staging"), plan_of("production")
    assert count(staging, "aws:ec2/subnet:Subnet") == 4
    assert count(production, "aws:ec2/subnet:Subnet") == 6
    assert count(staging, "aws:ec2/natGateway:NatGateway") == 1
    assert count(production, "aws:ec2/natGateway:NatGateway") == 3


def test_deletion_protection_and_protect(plan_of) -> None:
    protected = {stack: sorted(r.name for r in plan_of(stack).resources if r.protect) for stack in ("staging", "production")}
    assert protected == {"staging": [], "production": [
        "delivery-images-repository", "delivery-repository-repository", "delivery-repository-staging-branch",
        "webapp-alerts-key", "webapp-cache-redis", "webapp-database-key", "webapp-database-postgres", "webapp-traffic-access-logs-bucket",
        "webapp-traffic-alb",
    ]}


def test_autoscaling_and_task_counts(plan_of) -> None:
    staging, production = plan_of("staging"), plan_of("production")
    assert count(staging, "aws:appautoscaling/target:Target") == 0
    assert count(production, "aws:appautoscaling/target:Target") == 2
    assert count(production, "aws:appautoscaling/policy:Policy") == 4

    def desired(plan) -> list[int]:
        return sorted(r.inputs["desiredCount"] for r in plan.of_type("aws:ecs/service:Service"))

    assert desired(staging) == [1, 1]
    assert desired(production) == [3, 3]


def test_log_retention(plan_of) -> None:
    def retention(plan) -> dict[str, int]:
        return {r.name: r.inputs["retentionInDays"] for r in plan.of_type("aws:cloudwatch/logGroup:LogGroup")}

    for stack, days in (("staging", 14), ("production", 90)):
        groups = ("webapp-network-flow-logs", "webapp-fleet-logs", "webapp-fleet-blue-logs", "webapp-fleet-green-logs")
        assert retention(plan_of(stack)) == dict.fromkeys(groups, days)


def test_https_and_task_size(plan_of) -> None:
    staging, production = plan_of("staging"), plan_of("production")
    # Both serve HTTPS, each with its own certificate.
    assert staging.outputs["endpoint_url"].startswith("https://")
    assert production.outputs["endpoint_url"].startswith("https://")
    certificates = {s: plan_of(s).named("webapp-traffic-https").inputs["certificateArn"] for s in ("staging", "production")}
    assert certificates["staging"] != certificates["production"]
    sizes = {
        stack: {(r.inputs["cpu"], r.inputs["memory"]) for r in plan_of(stack).of_type("aws:ecs/taskDefinition:TaskDefinition")}
        for stack in ("staging", "production")
    }
    assert sizes == {"staging": {("256", "512")}, "production": {("512", "1024")}}


def test_defaults_alone_give_production_its_stricter_settings() -> None:
    import json

    from components.config import load

    raw = {**MINIMAL_CONFIG, "release:versions": json.dumps({"blue": "a", "green": "b"})}
    staging, production = load(raw, "staging"), load(raw, "production")
    assert (staging.network.az_count, production.network.az_count) == (2, 3)
    assert (staging.network.nat.value, production.network.nat.value) == ("single", "perZone")
    assert (staging.traffic.deletion_protection, production.traffic.deletion_protection) == (False, True)
    assert (staging.fleet.autoscaling.enabled, production.fleet.autoscaling.enabled) == (False, True)
    assert (staging.fleet.log_retention_days, production.fleet.log_retention_days) == (14, 90)
    assert (staging.fleet.desired_count, production.fleet.desired_count) == (1, 2)


def test_the_stacks_can_share_an_account_and_region(plan_of) -> None:
    # Both stacks deploy to one account in eu-west-1: every name they set themselves must differ.
    # Only AWS names share the account: Pulumi stack tags and GitHub objects live elsewhere, and a
    # parameter group's "family" is its engine, not a name.
    def given_names(stack: str) -> set[str]:
        names = set()
        for r in plan_of(stack).resources:
            if not r.type.startswith("aws:"):
                continue
            keys = ("name", "family") if r.type == "aws:ecs/taskDefinition:TaskDefinition" else ("name",)
            names.update(str(r.inputs[k]) for k in keys if k in r.inputs)
        return names

    staging, production = given_names("staging"), given_names("production")
    assert len(staging) >= 10
    assert staging.isdisjoint(production), staging & production
