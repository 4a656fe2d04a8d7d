"""The network: zones, subnets, NAT, routes, flow logs, least-privilege security groups, bad input."""

from __future__ import annotations

import json

import pytest

from components.ec2_text import description_problem, sg_description

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"
GROUP = "aws:ec2/securityGroup:SecurityGroup"


def subnets(plan, kind: str):
    # Registration order follows input resolution, not program order: sort by name.
    return sorted((r for r in plan.of_type(SUBNET) if f"-{kind}-" in r.name), key=lambda r: r.name)


def test_staging_spreads_over_two_zones_with_one_shared_nat(plan_of) -> None:
    plan = plan_of("staging")
    public, private = subnets(plan, "public"), subnets(plan, "private")
    assert [s.inputs["cidrBlock"] for s in public] == ["10.20.0.0/19", "10.20.32.0/19"]
    assert [s.inputs["cidrBlock"] for s in private] == ["10.20.128.0/19", "10.20.160.0/19"]
    assert [s.inputs["availabilityZone"] for s in private] == ["eu-west-1a", "eu-west-1b"]
    (nat,) = plan.of_type(NAT)
    private_routes = sorted((r for r in plan.of_type(ROUTE) if "private" in r.name), key=lambda r: r.name)
    assert [r.inputs["natGatewayId"] for r in private_routes] == [nat.outputs["id"]] * 2


def test_production_has_a_nat_gateway_per_zone(plan_of) -> None:
    plan = plan_of("production")
    assert len(subnets(plan, "public")) == len(subnets(plan, "private")) == 3
    nats = sorted(plan.of_type(NAT), key=lambda n: n.name)
    assert len(nats) == 3
    public_ids = [s.outputs["id"] for s in sorted(subnets(plan, "public"), key=lambda s: s.name)]
    assert [n.inputs["subnetId"] for n in nats] == public_ids
    routes = sorted((r.name, r.inputs["natGatewayId"]) for r in plan.of_type(ROUTE) if "private" in r.name)
    by_zone = {n.name[-1]: n.outputs["id"] for n in nats}
    assert routes == [(f"webapp-network-private-{i}-default", by_zone[str(i)]) for i in range(3)]


def test_only_the_public_route_table_reaches_the_internet_gateway(plan_of) -> None:
    plan = plan_of("production")
    gateway = plan.named("webapp-network-igw").outputs["id"]
    to_gateway = [r.name for r in plan.of_type(ROUTE) if r.inputs.get("gatewayId") == gateway]
    assert to_gateway == ["webapp-network-public-default"]
    assert not any(s.inputs.get("mapPublicIpOnLaunch") for s in plan.of_type(SUBNET))


def test_flow_logs_capture_all_traffic_for_the_configured_retention(plan_of) -> None:
    for stack, days in (("staging", 14), ("production", 90)):
        plan = plan_of(stack)
        flow_log = next(r for r in plan.of_type("aws:ec2/flowLog:FlowLog"))
        group = next(r for r in plan.of_type("aws:cloudwatch/logGroup:LogGroup") if r.name == "webapp-network-flow-logs")
        assert flow_log.inputs["trafficType"] == "ALL"
        assert flow_log.inputs["logDestination"] == group.outputs["arn"]
        assert group.inputs["retentionInDays"] == days
        policy = json.loads(next(r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy") if r.name == "webapp-network-flow-logs")
                            .inputs["policy"])
        assert policy["Statement"][0]["Resource"] == [group.outputs["arn"], f"{group.outputs['arn']}:*"]


def test_security_groups_allow_only_the_traffic_path(plan_of) -> None:
    plan = plan_of("production")
    alb, service = plan.named("webapp-network-alb"), plan.named("webapp-network-service")
    ingress = {(r["fromPort"], tuple(r.get("cidrBlocks") or ())) for r in alb.inputs["ingress"]}
    # Only 80 and 443, open to users: the candidate's smoke test comes in on 443 too, from wherever the runner is.
    assert ingress == {(80, ("0.0.0.0/0",)), (443, ("0.0.0.0/0",))}
    assert [(r["fromPort"], r["toPort"], r["cidrBlocks"]) for r in alb.inputs["egress"]] == [(8080, 8080, ["10.30.0.0/16"])]
    (from_alb,) = service.inputs["ingress"]
    assert (from_alb["fromPort"], from_alb["toPort"], from_alb["securityGroups"]) == (8080, 8080, [alb.outputs["id"]])
    assert not from_alb.get("cidrBlocks")


def test_an_existing_vpc_is_used_instead_of_creating_one(plan_of) -> None:
    existing = {
        "vpcId": "vpc-0a1b2c3d4e5f60718", "cidrBlock": "172.31.0.0/16",
        "publicSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
        "privateSubnetIds": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
    }
    plan = plan_of("staging", ("network:existingVpc", existing))
    assert not plan.of_type("aws:ec2/vpc:Vpc")
    assert not plan.of_type(SUBNET)
    assert not plan.of_type(NAT)
    assert plan.named("webapp-network-alb").inputs["vpcId"] == existing["vpcId"]
    assert plan.named("webapp-traffic-alb").inputs["subnets"] == existing["publicSubnetIds"]
    for service in plan.of_type("aws:ecs/service:Service"):
        assert service.inputs["networkConfiguration"]["subnets"] == existing["privateSubnetIds"]
    assert plan.outputs["endpoint_url"].startswith("https://")


@pytest.mark.parametrize(("override", "expected"), [
    ("network:cidr=10.0.0.0/33", "network:cidr: got \"10.0.0.0/33\"; an IPv4 CIDR block such as 10.0.0.0/16"),
    ("network:cidr=10.0.0.0/12", "network:cidr: got \"10.0.0.0/12\"; a VPC block from /16 to /24"),
    ("network:azCount=4", "network:azCount: got 4; region eu-west-1 has 3 zones: use 2 to 3"),
    ("network:azCount=7", "network:azCount: got 7; input should be less than or equal to 4"),
    ("network:nat=always", "network:nat: got \"always\"; input should be 'single' or 'perZone'"),
    ("network:flowLogRetentionDays=10", "network:flowLogRetentionDays: got 10; a CloudWatch Logs retention in days: one of 1, 3, 5,"),
])
def test_bad_network_values_are_config_errors(config_problems, override: str, expected: str) -> None:
    problems = config_problems("staging", override)
    assert any(p.startswith(expected) for p in problems), problems


def test_overlapping_and_unparsable_subnet_blocks_are_each_named(config_problems) -> None:
    problems = config_problems(
        "staging",
        ("network:publicSubnetCidrs", ["10.20.0.0/20", "10.20.16.0/20"]),
        ("network:privateSubnetCidrs", ["10.20.8.0/24", "10.20.300.0/24"]),
    )
    assert 'network:privateSubnetCidrs[0]: got "10.20.8.0/24"; subnet blocks must not overlap: it overlaps ' \
           "network:publicSubnetCidrs[0]" in problems
    assert any(p.startswith('network:privateSubnetCidrs[1]: got "10.20.300.0/24"; an IPv4 CIDR block') for p in problems)


def test_subnet_blocks_outside_the_vpc_or_miscounted_are_refused(config_problems) -> None:
    problems = config_problems("staging", ("network:publicSubnetCidrs", ["10.99.0.0/24"]))
    assert 'network:publicSubnetCidrs: got ["10.99.0.0/24"]; one block per zone: 2 blocks (azCount)' in problems
    assert 'network:publicSubnetCidrs[0]: got "10.99.0.0/24"; a block inside the VPC\'s 10.20.0.0/16' in problems


def test_a_malformed_existing_vpc_is_refused_key_by_key(config_problems) -> None:
    problems = config_problems("staging", ("network:existingVpc", {
        "vpcId": "default", "cidrBlock": "172.31.0.0/16", "publicSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1"],
        "privateSubnetIds": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
    }))
    assert 'network:existingVpc.vpcId: got "default"; a VPC id such as vpc-0a1b2c3d4e5f60718' in problems
    assert any(p.startswith('network:existingVpc.publicSubnetIds: got ["subnet-0aaaaaaaaaaaaaaa1"]; tuple should have at least 2')
               for p in problems), problems


# Every place a security group or rule carries a description, by resource type.
_DESCRIBED = {
    GROUP: ("description", "ingress", "egress"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("description",),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("description",),
    "aws:ec2/securityGroupRule:SecurityGroupRule": ("description",),
}


def _descriptions(plan) -> list[tuple[str, str]]:
    found = []
    for type_, keys in _DESCRIBED.items():
        for resource in plan.of_type(type_):
            for key in keys:
                value = resource.inputs.get(key)
                rules = value if isinstance(value, list) else [{"description": value}]
                found.extend((f"{resource.name}.{key}", rule["description"]) for rule in rules if rule.get("description"))
    return found


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_every_security_group_and_rule_description_is_one_ec2_accepts(plan_of, stack: str) -> None:
    found = _descriptions(plan_of(stack))
    # The data tier's rules were once refused for an apostrophe: they must be among those checked.
    assert {"webapp-database-from-service.description", "webapp-cache-from-service.description"} <= {w for w, _ in found}
    assert len(found) >= 10
    refused = {where: description_problem(text) for where, text in found if description_problem(text)}
    assert not refused, refused


def test_a_description_ec2_would_refuse_stops_the_program() -> None:
    # botocore ec2 IpRange.Description: a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* only, up to 255.
    assert sg_description("PostgreSQL from the application tasks") == "PostgreSQL from the application tasks"
    with pytest.raises(ValueError, match="\"'\"") as caught:
        sg_description("PostgreSQL from the application's tasks")
    assert "outside EC2's set" in str(caught.value)
    assert description_problem("x" * 256) == "256 characters; EC2 allows at most 255"
    assert description_problem("caf\u00e9 <tasks>") is not None


def test_the_allowed_characters_are_the_ones_botocore_documents() -> None:
    import gzip
    import json as json_
    from pathlib import Path

    import botocore

    model = Path(botocore.__file__).parent / "data" / "ec2" / "2016-11-15" / "service-2.json.gz"
    shapes = json_.loads(gzip.decompress(model.read_bytes()))["shapes"]
    documented = shapes["UserIdGroupPair"]["members"]["Description"]["documentation"]
    listed = documented.split("spaces, and ", 1)[1].split("<", 1)[0]
    for character in listed:
        assert description_problem(f"a{character}b") is None, character
    for character in "'\"<>%^`~|?\\":
        assert character not in listed
        assert description_problem(f"a{character}b") is not None, character
