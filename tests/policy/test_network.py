"""Network policies over the three shapes AWS ingress takes: inline, group rule and VPC ingress rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy_support import resource, stack_violations, urn, violations

SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LB = "aws:lb/loadBalancer:LoadBalancer"
SERVICE = "aws:ecs/service:Service"


def inline(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"ingress": list(rules), "egress": []}


def web(port: int, cidr: str = "0.0.0.0/0") -> dict[str, Any]:
    return {"protocol": "tcp", "fromPort": port, "toPort": port, "cidrBlocks": [cidr]}


def test_load_balancer_group_open_on_80_and_443_passes() -> None:
    props = inline(web(80), web(443), {"protocol": "tcp", "fromPort": 443, "toPort": 443, "ipv6CidrBlocks": ["::/0"]})
    assert violations("no-public-ingress-except-web", SG, props) == []


@pytest.mark.parametrize(("rule", "shown"), [
    ({"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrBlocks": ["0.0.0.0/0"]}, "tcp 8080-8080 from 0.0.0.0/0"),
    ({"protocol": "tcp", "fromPort": 80, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}, "tcp 80-443 from 0.0.0.0/0"),
    ({"protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"]}, "all ports from ::/0"),
    ({"protocol": "udp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}, "udp 443-443 from 0.0.0.0/0"),
])
def test_public_ingress_beyond_web_ports_is_caught(rule: dict[str, Any], shown: str) -> None:
    found = violations("no-public-ingress-except-web", SG, inline(web(443), rule))
    assert found == [f"ingress[1]: got {shown}; the internet may reach only the load balancer on tcp 80 or 443, "
                     "one port per rule: give other sources a security group or a private CIDR"]


def test_public_ingress_rule_resources_are_caught_and_private_ones_pass() -> None:
    public_rule = {"type": "ingress", "protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["0.0.0.0/0"]}
    assert violations("no-public-ingress-except-web", SG_RULE, public_rule)
    assert violations("no-public-ingress-except-web", SG_RULE, {**public_rule, "cidrBlocks": ["10.0.0.0/16"]}) == []
    assert violations("no-public-ingress-except-web", SG_RULE, {**public_rule, "type": "egress"}) == []
    vpc_rule = {"ipProtocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrIpv6": "::/0"}
    assert violations("no-public-ingress-except-web", INGRESS, vpc_rule) == [
        "got tcp 5432-5432 from ::/0; the internet may reach only the load balancer on tcp 80 or 443, "
        "one port per rule: give other sources a security group or a private CIDR",
    ]
    assert violations("no-public-ingress-except-web", INGRESS, {**vpc_rule, "fromPort": 443, "toPort": 443}) == []


def test_ssh_is_caught_from_any_source_and_in_ranges() -> None:
    ssh = {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/8"]}
    assert violations("no-ssh-ingress", SG, inline(ssh)) == [
        "ingress[0]: got tcp 22-22 from 10.0.0.0/8, which admits port 22; no rule may open SSH: "
        "reach tasks with ECS Exec, and name the ports a rule opens",
    ]
    assert violations("no-ssh-ingress", SG, inline({"protocol": "tcp", "fromPort": 0, "toPort": 1024, "securityGroups": ["sg-1"]}))
    assert violations("no-ssh-ingress", SG, inline({"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}))
    assert violations("no-ssh-ingress", INGRESS, {"ipProtocol": "6", "fromPort": 20, "toPort": 30, "cidrIpv4": "10.0.0.0/8"})


def test_rules_that_do_not_reach_port_22_pass_the_ssh_policy() -> None:
    assert violations("no-ssh-ingress", SG, inline(web(443), {"protocol": "udp", "fromPort": 22, "toPort": 22})) == []
    assert violations("no-ssh-ingress", SG_RULE, {"type": "ingress", "protocol": "tcp", "fromPort": 8080, "toPort": 8080}) == []


def public_lb_group() -> Any:
    return resource(SG, "lb-sg", {"id": "sg-lb", **inline(web(443))})


def test_public_group_used_only_by_the_load_balancer_passes() -> None:
    service_group = resource(SG, "svc-sg", {"id": "sg-svc", **inline(
        {"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "securityGroups": ["sg-lb"]})})
    lb = resource(LB, "alb", {"securityGroups": ["sg-lb"]})
    service = resource(SERVICE, "blue", {"networkConfiguration": {"securityGroups": ["sg-svc"]}})
    assert stack_violations("public-ingress-only-on-load-balancers", public_lb_group(), service_group, lb, service) == []


def test_service_in_a_public_group_is_caught() -> None:
    service = resource(SERVICE, "blue", {"networkConfiguration": {"securityGroups": ["sg-lb"]}})
    found = stack_violations("public-ingress-only-on-load-balancers", public_lb_group(), service)
    assert found == [(
        f"{SERVICE} blue is in security group sg-lb, which is open to the internet ({urn(SG, 'lb-sg')}); only load "
        "balancers may use such a group: give the resource its own group that admits the load balancer's group",
        urn(SERVICE, "blue"),
    )]


def test_group_opened_by_a_separate_rule_counts_as_public() -> None:
    rule = resource(INGRESS, "open", {"securityGroupId": "sg-db", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                                      "cidrIpv4": "0.0.0.0/0"})
    database = resource("aws:rds/instance:Instance", "db", {"vpcSecurityGroupIds": ["sg-db"]})
    found = stack_violations("public-ingress-only-on-load-balancers", rule, database)
    assert [u for _, u in found] == [urn("aws:rds/instance:Instance", "db")]
