"""The traffic router: one load balancer, a target group per colour, and the weighted forward.

A canary shift or a blue-green switch is an update of one resource: the
listener whose default action forwards to both target groups with weights (the
live colour gets ``100 - canaryWeight``, the candidate ``canaryWeight``). Both
groups are always in the forward, in a fixed order, so a shift changes weights
only. A separate test listener always forwards to the candidate, so a new
version can be smoke-tested before it takes user traffic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.access_logs import AccessLogBucket, AccessLogBucketArgs
from components.config.release import Colour, ReleaseConfig


def forward_weights(release: ReleaseConfig) -> dict[Colour, int]:
    """The weight of each colour in the forward, in the fixed order blue, green: live gets the rest of the canary's share."""
    return {colour: release.weight_of(colour) for colour in Colour}


@dataclass
class TrafficRouterArgs:
    """Inputs of a ``TrafficRouter``."""

    load_balancer_name: str
    """Physical name of the load balancer (at most 32 characters)."""
    target_group_names: Mapping[Colour, str]
    """Physical name of each colour's target group (at most 32 characters)."""
    vpc_id: pulumi.Input[str]
    """The VPC of the target groups."""
    public_subnet_ids: pulumi.Input[Sequence[str]]
    """Subnets the load balancer lives in."""
    security_group_id: pulumi.Input[str]
    """The load balancer's security group."""
    app_port: int
    """Port the tasks listen on."""
    health_check: aws.lb.TargetGroupHealthCheckArgs
    """Health check of both target groups."""
    weights: Mapping[Colour, int]
    """Percent of user traffic per colour; sums to 100."""
    candidate: Colour
    """The colour the test listener serves."""
    region: str
    """The stack's region (decides who delivers access logs)."""
    test_port: int
    """Port of the test listener."""
    certificate_arn: str | None = None
    """ACM certificate; without one the load balancer serves HTTP only."""
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """TLS policy of the HTTPS listeners."""
    deregistration_delay: int = 30
    """Seconds a deregistered task keeps draining."""
    stickiness_seconds: int | None = None
    """Pin clients to a colour for this long; None turns stickiness off."""
    idle_timeout: int = 60
    """Seconds an idle connection stays open."""
    access_log_days: int = 30
    """Days access logs are kept."""
    deletion_protection: bool = False
    """AWS-side deletion protection, plus Pulumi's ``protect`` on the load balancer and log bucket."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every resource."""


class TrafficRouter(pulumi.ComponentResource):
    """An ALB with blue and green target groups, a weighted listener and a candidate-only test listener."""

    load_balancer_arn: pulumi.Output[str]
    load_balancer_arn_suffix: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    listener_arn: pulumi.Output[str]
    listener_urn: pulumi.Output[str]
    test_listener_arn: pulumi.Output[str]
    target_group_arns: dict[Colour, pulumi.Output[str]]
    target_group_arn_suffixes: dict[Colour, pulumi.Output[str]]
    target_group_names: dict[Colour, pulumi.Output[str]]
    endpoint_url: pulumi.Output[str]
    test_endpoint_url: pulumi.Output[str]

    def __init__(self, name: str, args: TrafficRouterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:traffic:TrafficRouter", name, None, opts)
        tags = dict(args.tags)
        https = args.certificate_arn is not None
        if not https:
            pulumi.log.warn(f"{name}: no traffic:certificateArn, so the load balancer serves plain HTTP only", self)
        logs = AccessLogBucket(f"{name}-access-logs", AccessLogBucketArgs(
            region=args.region, retention_days=args.access_log_days, protect=args.deletion_protection, tags=tags,
        ), pulumi.ResourceOptions(parent=self))
        balancer = aws.lb.LoadBalancer(
            f"{name}-alb", name=args.load_balancer_name, load_balancer_type="application", internal=False,
            subnets=args.public_subnet_ids, security_groups=[args.security_group_id],
            drop_invalid_header_fields=True, enable_deletion_protection=args.deletion_protection,
            idle_timeout=args.idle_timeout,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=logs.bucket_name, prefix=logs.prefix, enabled=True),
            tags=tags, opts=pulumi.ResourceOptions(parent=self, protect=args.deletion_protection, depends_on=logs.ready),
        )
        groups = {
            colour: aws.lb.TargetGroup(
                f"{name}-{colour.value}", name=args.target_group_names[colour], port=args.app_port, protocol="HTTP",
                target_type="ip", vpc_id=args.vpc_id, deregistration_delay=args.deregistration_delay,
                health_check=args.health_check, tags={**tags, "Colour": colour.value},
                opts=pulumi.ResourceOptions(parent=self),
            )
            for colour in Colour
        }
        forward = aws.lb.ListenerDefaultActionArgs(type="forward", forward=aws.lb.ListenerDefaultActionForwardArgs(
            # Fixed order, both always present: a shift or a switch changes only the weights.
            target_groups=[
                aws.lb.ListenerDefaultActionForwardTargetGroupArgs(arn=groups[c].arn, weight=args.weights[c]) for c in Colour
            ],
            stickiness=aws.lb.ListenerDefaultActionForwardStickinessArgs(enabled=True, duration=args.stickiness_seconds)
            if args.stickiness_seconds is not None else None,
        ))
        ssl_policy = args.ssl_policy if https else None
        protocol = "HTTPS" if https else "HTTP"
        main = aws.lb.Listener(
            f"{name}-{protocol.lower()}", load_balancer_arn=balancer.arn, port=443 if https else 80, protocol=protocol,
            default_actions=[forward], certificate_arn=args.certificate_arn, ssl_policy=ssl_policy, tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        if https:
            aws.lb.Listener(f"{name}-http-redirect", load_balancer_arn=balancer.arn, port=80, protocol="HTTP", default_actions=[
                aws.lb.ListenerDefaultActionArgs(type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    port="443", protocol="HTTPS", status_code="HTTP_301")),
            ], tags=tags, opts=pulumi.ResourceOptions(parent=self))
        test = aws.lb.Listener(
            f"{name}-test", load_balancer_arn=balancer.arn, port=args.test_port, protocol=protocol,
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=groups[args.candidate].arn)],
            tags=tags, certificate_arn=args.certificate_arn, ssl_policy=ssl_policy, opts=pulumi.ResourceOptions(parent=self),
        )
        scheme = "https" if https else "http"
        self.load_balancer_arn = balancer.arn
        self.load_balancer_arn_suffix = balancer.arn_suffix
        self.dns_name = balancer.dns_name
        self.listener_arn = main.arn
        self.listener_urn = main.urn
        self.test_listener_arn = test.arn
        self.target_group_arns = {c: g.arn for c, g in groups.items()}
        self.target_group_arn_suffixes = {c: g.arn_suffix for c, g in groups.items()}
        self.target_group_names = {c: g.name for c, g in groups.items()}
        self.endpoint_url = pulumi.Output.concat(scheme, "://", balancer.dns_name)
        self.test_endpoint_url = pulumi.Output.concat(scheme, "://", balancer.dns_name, f":{args.test_port}")
        self.register_outputs({
            "load_balancer_arn": self.load_balancer_arn,
            "listener_arn": self.listener_arn,
            "test_listener_arn": self.test_listener_arn,
            "endpoint_url": self.endpoint_url,
            "test_endpoint_url": self.test_endpoint_url,
        })
