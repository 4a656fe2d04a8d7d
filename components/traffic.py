"""The traffic router: one load balancer, a target group per colour, and the weighted forward.

A canary shift or a blue-green switch is an update of one resource: the
listener whose default action forwards to both target groups with weights (the
live colour gets ``100 - canaryWeight``, the candidate ``canaryWeight``). Both
groups are always in the forward, in a fixed order, so a shift changes weights
only. At a release's last step and through the backup window after it, the
old colour keeps ``release:controlWeight`` percent as a concurrent control, so
the candidate's weight there is ``100 - controlWeight``; the driver sets it as
``canaryWeight`` like any other step, and the listener forwards what it is given.

The candidate is smoke-tested through the same listener and the same name the
certificate covers: one rule per colour forwards a request to that colour when it
carries that colour's token and the colour's name in two headers. A colour's token
is derived from the stack's release token (kept in Secrets Manager) and the version
the colour runs (``colour_token``), so it changes exactly when a release deploys a
new candidate, with that colour's task definition; a promotion or a shift changes
no rule. A request without the token falls to the weighted default, so the
candidate stays closed to the public.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.access_logs import AccessLogBucket, AccessLogBucketArgs
from components.config.release import Colour, ReleaseConfig
from components.config.traffic import colour_token

TOKEN_HEADER = "X-Release-Token"  # noqa: S105 - a header name, not its value
"""The header that carries the release token to the candidate's listener rule."""
COLOUR_HEADER = "X-Release-Colour"
"""The header that names the colour a smoke test wants."""
# Rules are evaluated lowest priority first (botocore elbv2 CreateRuleInput.Priority, RulePriority 1-50000);
# the two never overlap (the colour header differs), so the values only need to be fixed.
RULE_PRIORITIES = {Colour.BLUE: 10, Colour.GREEN: 20}


# A target group's weight in a forward action is 0 to 999 (botocore elbv2 TargetGroupTuple.Weight, shape
# TargetGroupWeight: "The range is 0 to 999"); ALB divides each by their sum, so percents 0-100 are weights as they are.
MAX_TARGET_GROUP_WEIGHT = 999


def _token_of(release_token: pulumi.Input[str], version: str) -> pulumi.Output[str]:
    return pulumi.Output.secret(release_token).apply(lambda master: colour_token(master, version))


def forward_weights(release: ReleaseConfig) -> dict[Colour, int]:
    """The weight of each colour in the forward, in the fixed order blue, green: live gets the rest of the canary's share.

    The control share needs nothing of its own here: at the last step ``canaryWeight`` is ``100 - controlWeight``.
    """
    return {colour: release.weight_of(colour) for colour in Colour}


@dataclass
class TrafficRouterArgs:
    """Inputs of a ``TrafficRouter``."""

    load_balancer_name: str
    """Physical name of the load balancer (at most 32 characters)."""
    target_group_prefixes: Mapping[Colour, str]
    """Name prefix of each colour's target group (at most 6 characters; AWS completes it to a unique name)."""
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
    release_token: pulumi.Input[str]
    """The secret each colour's ``X-Release-Token`` value is derived from (``colour_token``)."""
    region: str
    """The stack's region (decides who delivers access logs)."""
    domain_name: str | None = None
    """The host name the certificate covers; None: the load balancer's own DNS name."""
    hosted_zone_id: str | None = None
    """Route 53 zone for an alias record from ``domain_name`` to the load balancer; None: no record."""
    certificate_arn: str | None = None
    """ACM certificate; without one the load balancer serves HTTP only."""
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """TLS policy of the HTTPS listener."""
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
    versions: Mapping[Colour, str] = field(default_factory=dict)
    """The version each colour runs: its token changes with it. Default: none (the token of an empty version)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every resource."""


class TrafficRouter(pulumi.ComponentResource):
    """An ALB with blue and green target groups, a weighted listener and a header-matched rule per colour."""

    load_balancer_arn: pulumi.Output[str]
    load_balancer_arn_suffix: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    listener_arn: pulumi.Output[str]
    listener_urn: pulumi.Output[str]
    target_group_arns: dict[Colour, pulumi.Output[str]]
    target_group_arn_suffixes: dict[Colour, pulumi.Output[str]]
    target_group_names: dict[Colour, pulumi.Output[str]]
    routes: dict[Colour, list[pulumi.Resource]]
    """What forwards to each colour's target group: an ECS service waits for these."""
    candidate_rule_arns: dict[Colour, pulumi.Output[str]]
    release_token_secret_arn: pulumi.Output[str]
    candidate_tokens: dict[Colour, pulumi.Output[str]]
    """Each colour's rule token (secret): ``colour_token`` of the release token and the colour's version."""
    endpoint_url: pulumi.Output[str]

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
                # No fixed name: a replacement (port, protocol, VPC) creates the new group before it deletes the old one,
                # which listeners and services still use. name_prefix is at most 6 characters (the provider's schema).
                f"{name}-{colour.value}", name_prefix=args.target_group_prefixes[colour], port=args.app_port,
                protocol="HTTP", target_type="ip", vpc_id=args.vpc_id, deregistration_delay=args.deregistration_delay,
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
        protocol = "HTTPS" if https else "HTTP"
        main = aws.lb.Listener(
            f"{name}-{protocol.lower()}", load_balancer_arn=balancer.arn, port=443 if https else 80, protocol=protocol,
            default_actions=[forward], certificate_arn=args.certificate_arn, ssl_policy=args.ssl_policy if https else None,
            tags=tags, opts=pulumi.ResourceOptions(parent=self),
        )
        if https:
            aws.lb.Listener(f"{name}-http-redirect", load_balancer_arn=balancer.arn, port=80, protocol="HTTP", default_actions=[
                aws.lb.ListenerDefaultActionArgs(type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    port="443", protocol="HTTPS", status_code="HTTP_301")),
            ], tags=tags, opts=pulumi.ResourceOptions(parent=self))
        # DescribeRules shows these to any reader of the account: each opens one colour at one version, and reveals
        # nothing of the release token it is derived from. Kept secret in the state all the same.
        self.candidate_tokens = {colour: _token_of(args.release_token, args.versions.get(colour, "")) for colour in Colour}
        rules = {colour: self._candidate_rule(name, args, colour, main, groups[colour], tags) for colour in Colour}
        # The driver reads the token here (GetSecretValue) to smoke-test a colour; the AWS-managed key suffices.
        secret = aws.secretsmanager.Secret(
            f"{name}-release-token",
            description=f"{args.load_balancer_name} release token (set from traffic:releaseToken), sent in {TOKEN_HEADER}",
            recovery_window_in_days=30 if args.deletion_protection else 7, tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.secretsmanager.SecretVersion(f"{name}-release-token-value", secret_id=secret.id,
                                         secret_string=pulumi.Output.secret(args.release_token),
                                         opts=pulumi.ResourceOptions(parent=self))
        if args.domain_name and args.hosted_zone_id:
            aws.route53.Record(
                f"{name}-domain", zone_id=args.hosted_zone_id, name=args.domain_name, type="A",
                aliases=[aws.route53.RecordAliasArgs(name=balancer.dns_name, zone_id=balancer.zone_id,
                                                     evaluate_target_health=True)],
                opts=pulumi.ResourceOptions(parent=self),
            )
        scheme = "https" if https else "http"
        self.load_balancer_arn = balancer.arn
        self.load_balancer_arn_suffix = balancer.arn_suffix
        self.dns_name = balancer.dns_name
        self.listener_arn = main.arn
        self.listener_urn = main.urn
        self.target_group_arns = {c: g.arn for c, g in groups.items()}
        self.target_group_arn_suffixes = {c: g.arn_suffix for c, g in groups.items()}
        self.target_group_names = {c: g.name for c, g in groups.items()}
        self.routes = {c: [main, rules[c]] for c in Colour}
        self.candidate_rule_arns = {c: r.arn for c, r in rules.items()}
        self.release_token_secret_arn = secret.arn
        # Probes and users go to the name the certificate covers; the ALB's own name fails hostname verification.
        host = pulumi.Output.from_input(args.domain_name) if args.domain_name else balancer.dns_name
        self.endpoint_url = pulumi.Output.concat(scheme, "://", host)
        self.register_outputs({
            "load_balancer_arn": self.load_balancer_arn,
            "listener_arn": self.listener_arn,
            "endpoint_url": self.endpoint_url,
            "release_token_secret_arn": self.release_token_secret_arn,
        })

    def _candidate_rule(self, name: str, args: TrafficRouterArgs, colour: Colour, listener: aws.lb.Listener,
                        group: aws.lb.TargetGroup, tags: Mapping[str, str]) -> aws.lb.ListenerRule:
        """Forward a request carrying the release token and this colour's name to this colour, whatever the weights."""

        def header(name_: str, value: pulumi.Input[str]) -> aws.lb.ListenerRuleConditionArgs:
            # One condition per header: all must match (botocore elbv2 HttpHeaderConditionConfig.Values).
            return aws.lb.ListenerRuleConditionArgs(
                http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(http_header_name=name_, values=[value]))

        return aws.lb.ListenerRule(
            f"{name}-{colour.value}-candidate", listener_arn=listener.arn, priority=RULE_PRIORITIES[colour],
            conditions=[header(TOKEN_HEADER, self.candidate_tokens[colour]), header(COLOUR_HEADER, colour.value)],
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=group.arn)],
            tags={**tags, "Colour": colour.value}, opts=pulumi.ResourceOptions(parent=self),
        )
