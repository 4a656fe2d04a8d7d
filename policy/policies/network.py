"""Network: nothing but the load balancer's web ports is open to the internet, and SSH is open to no one."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs

from policy.policies.base import PackPolicy, ResourcePolicy, Scope, StackPolicy, as_int, as_strings, get, items, walk
from policy.policies.load_balancing import LOAD_BALANCERS

SECURITY_GROUPS = ("aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
INGRESS_TYPES = (*SECURITY_GROUPS, SG_RULE, INGRESS_RULE)

PUBLIC_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
WEB_PORTS = frozenset({80, 443})
SSH_PORT = 22
ALL_PROTOCOLS = frozenset({"-1", "all"})
TCP = frozenset({"tcp", "6"})

# Properties through which a resource puts itself behind security groups.
ATTACHMENT_KEYS = frozenset({"securityGroups", "vpcSecurityGroupIds", "securityGroupIds"})


@dataclass(frozen=True)
class Ingress:
    """One ingress permission, whichever of the three AWS resource shapes declared it."""

    path: str
    protocol: str
    from_port: int | None
    to_port: int | None
    cidrs: tuple[str, ...]

    @property
    def all_traffic(self) -> bool:
        """Whether the rule opens every protocol and port (ports are ignored then)."""
        return self.protocol in ALL_PROTOCOLS

    def covers(self, port: int) -> bool:
        """Whether the rule admits TCP traffic to ``port``."""
        if self.all_traffic:
            return True
        if self.protocol not in TCP or self.from_port is None or self.to_port is None:
            return False
        return self.from_port <= port <= self.to_port

    @property
    def public(self) -> list[str]:
        """The sources that mean "the whole internet"."""
        return [c for c in self.cidrs if c in PUBLIC_CIDRS]

    def describe(self) -> str:
        """The rule as a message names it."""
        ports = "all ports" if self.all_traffic else f"{self.protocol} {self.from_port}-{self.to_port}"
        return f"{ports} from {', '.join(self.cidrs) or 'other security groups'}"


def ingresses(resource_type: str, props: Mapping[str, Any]) -> Iterator[Ingress]:
    """The ingress permissions a security group, group rule or ingress rule resource declares."""
    if resource_type in SECURITY_GROUPS:
        for i, rule in enumerate(items(get(props, "ingress"))):
            yield Ingress(
                f"ingress[{i}]", str(get(rule, "protocol", "")).lower(),
                as_int(get(rule, "fromPort")), as_int(get(rule, "toPort")),
                (*as_strings(get(rule, "cidrBlocks")), *as_strings(get(rule, "ipv6CidrBlocks"))),
            )
    elif resource_type == SG_RULE and get(props, "type") == "ingress":
        yield Ingress(
            "", str(get(props, "protocol", "")).lower(), as_int(get(props, "fromPort")), as_int(get(props, "toPort")),
            (*as_strings(get(props, "cidrBlocks")), *as_strings(get(props, "ipv6CidrBlocks"))),
        )
    elif resource_type == INGRESS_RULE:
        yield Ingress(
            "", str(get(props, "ipProtocol", "")).lower(), as_int(get(props, "fromPort")), as_int(get(props, "toPort")),
            tuple(c for c in (get(props, "cidrIpv4"), get(props, "cidrIpv6")) if c),
        )


def _where(rule: Ingress) -> str:
    return f"{rule.path}: " if rule.path else ""


def _public_web_only(props: Mapping[str, Any], args: ResourceValidationArgs) -> Iterator[str]:
    for rule in ingresses(args.resource_type, props):
        if not rule.public:
            continue
        web = rule.protocol in TCP and rule.from_port == rule.to_port and rule.from_port in WEB_PORTS
        if not web:
            yield (f"{_where(rule)}got {rule.describe()}; the internet may reach only the load balancer on "
                   "tcp 80 or 443, one port per rule: give other sources a security group or a private CIDR")


def _no_ssh(props: Mapping[str, Any], args: ResourceValidationArgs) -> Iterator[str]:
    for rule in ingresses(args.resource_type, props):
        if rule.covers(SSH_PORT):
            yield (f"{_where(rule)}got {rule.describe()}, which admits port {SSH_PORT}; no rule may open SSH: "
                   "reach tasks with ECS Exec, and name the ports a rule opens")


def _public_group_ids(resources: Sequence[PolicyResource]) -> dict[str, str]:
    """Security group id -> URN of the resource that opened it to the internet."""
    public: dict[str, str] = {}
    for res in resources:
        if not any(rule.public for rule in ingresses(res.resource_type, res.props)):
            continue
        group_id = get(res.props, "id") if res.resource_type in SECURITY_GROUPS else get(res.props, "securityGroupId")
        if isinstance(group_id, str) and group_id:
            public[group_id] = res.urn
    return public


def _public_groups_on_load_balancers(resources: Sequence[PolicyResource]) -> Iterator[tuple[str, str | None]]:
    public = _public_group_ids(resources)
    if not public:
        return
    for res in resources:
        # A group rule naming another group as its source is not an attachment.
        if res.resource_type in LOAD_BALANCERS or res.resource_type in INGRESS_TYPES:
            continue
        attached = {v for key, value in walk(res.props) if key in ATTACHMENT_KEYS for v in as_strings(value)}
        for group_id in sorted(attached & public.keys()):
            yield (f"{res.resource_type} {res.name} is in security group {group_id}, which is open to the internet "
                   f"({public[group_id]}); only load balancers may use such a group: give the resource its own group "
                   "that admits the load balancer's group", res.urn)


POLICIES: list[PackPolicy] = [
    ResourcePolicy(
        "no-public-ingress-except-web",
        "No ingress from 0.0.0.0/0 or ::/0 except tcp 80 and 443.",
        types=INGRESS_TYPES, check=_public_web_only, scope=Scope.BOTH,
        remediation="Admit the internet only on tcp 80/443 to the load balancer; other sources by security group.",
    ),
    ResourcePolicy(
        "no-ssh-ingress", "No ingress rule admits port 22, from anywhere.",
        types=INGRESS_TYPES, check=_no_ssh, scope=Scope.BOTH,
        remediation="Remove the rule; use ECS Exec or SSM Session Manager, and give rules explicit port ranges.",
    ),
    StackPolicy(
        "public-ingress-only-on-load-balancers",
        "Security groups open to the internet are used only by load balancers.",
        check=_public_groups_on_load_balancers, scope=Scope.BOTH,
        remediation="Give the service its own security group that admits only the load balancer's group.",
    ),
]
