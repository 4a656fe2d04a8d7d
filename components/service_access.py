"""A security group that admits one TCP port from the application's tasks and nothing else.

The database and the cache each get one: no inline rules, so the provider
removes AWS's default allow-all egress, and the only ingress is a rule that
references the service's security group, never a CIDR.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from components.ec2_text import sg_description


def service_only_group(
    name: str,
    *,
    vpc_id: pulumi.Input[str],
    service_security_group_id: pulumi.Input[str],
    port: int,
    label: str,
    tags: Mapping[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
) -> tuple[aws.ec2.SecurityGroup, aws.vpc.SecurityGroupIngressRule]:
    """The group ``{name}-sg`` and its one rule ``{name}-from-service`` admitting ``port`` from the service."""
    group = aws.ec2.SecurityGroup(
        f"{name}-sg",
        vpc_id=vpc_id,
        description=sg_description(f"{label}: {port} from the service only"),
        tags=dict(tags),
        opts=opts,
    )
    rule = aws.vpc.SecurityGroupIngressRule(
        f"{name}-from-service",
        security_group_id=group.id,
        referenced_security_group_id=service_security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=sg_description(f"{label.split(' ', 1)[-1]} from the application tasks"),
        tags=dict(tags),
        opts=opts,
    )
    return group, rule
