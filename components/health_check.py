"""A Route 53 health check on the application's public health endpoint, and its alarm.

Route 53 publishes health-check metrics only in us-east-1, so the alarm lives
there. An alarm can only notify a topic in its own region; for a stack elsewhere
the alarm's state changes are relayed to the stack region's default event bus,
where a rule sends them to the alert topic like every other alert.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import deployment_events as events

METRICS_REGION = "us-east-1"  # where AWS/Route53 health-check metrics exist


@dataclass
class HealthCheckArgs:
    """Where the endpoint is and whom to tell."""

    name_prefix: pulumi.Input[str]
    """Prefix of every physical name, e.g. ``webapp-production``."""
    domain: pulumi.Input[str]
    """Public hostname probed over HTTPS on port 443."""
    path: pulumi.Input[str]
    """Path of the health endpoint, e.g. ``/health``."""
    failure_threshold: pulumi.Input[int]
    """Consecutive failed probes before the check is unhealthy."""
    region: str
    """The stack's region: where the alert topic is."""
    alert_topic_arn: pulumi.Input[str]
    """SNS topic told when the endpoint goes down and comes back."""
    permissions_boundary: pulumi.Input[str] | None = None
    """Permissions boundary of every role created here (the stack's boundary policy); None: unbounded."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every resource that takes them."""


class HealthCheck(pulumi.ComponentResource):
    """The probe, its alarm, and (outside us-east-1) the relay of the alarm to the stack's region."""

    alarm_name: pulumi.Output[str]
    event_rule_arns: list[pulumi.Output[str]]

    def __init__(self, name: str, args: HealthCheckArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:monitoring:HealthCheck", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        check = aws.route53.HealthCheck(
            f"{name}-check",
            type="HTTPS",
            fqdn=args.domain,
            port=443,
            resource_path=args.path,
            failure_threshold=args.failure_threshold,
            request_interval=30,
            enable_sni=True,
            measure_latency=True,
            reference_name=pulumi.Output.from_input(args.name_prefix).apply(lambda p: p[:28]),
            tags={**tags, "Name": pulumi.Output.concat(args.name_prefix, "-health")},
            opts=child,
        )
        local = args.region == METRICS_REGION
        topic = [args.alert_topic_arn] if local else []
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-alarm",
            name=pulumi.Output.concat(args.name_prefix, "-health-check"),
            alarm_description=pulumi.Output.concat("The public health endpoint https://", args.domain, args.path,
                                                   " fails from Route 53's checkers"),
            region=METRICS_REGION,
            namespace="AWS/Route53",
            metric_name="HealthCheckStatus",
            dimensions={"HealthCheckId": check.id},
            statistic="Minimum",
            period=60,
            evaluation_periods=1,
            comparison_operator="LessThanThreshold",
            threshold=1,
            # No data from the checkers means nobody can reach the endpoint.
            treat_missing_data="breaching",
            alarm_actions=topic,
            ok_actions=topic,
            tags=tags,
            opts=child,
        )
        self.alarm_name = alarm.name
        self.event_rule_arns = []
        if not local:
            self.event_rule_arns.append(self._relay(name, args, alarm, child))
        self.register_outputs({"alarm_name": self.alarm_name, "health_check_id": check.id})

    def _relay(self, name: str, args: HealthCheckArgs, alarm: aws.cloudwatch.MetricAlarm,
               child: pulumi.ResourceOptions) -> pulumi.Output[str]:
        pattern = alarm.name.apply(lambda n: events.alarm_state_pattern([n]))
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        bus = pulumi.Output.concat("arn:aws:events:", args.region, ":", account, ":event-bus/default")
        role = aws.iam.Role(
            f"{name}-relay-role",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole",
            }]}),
            permissions_boundary=args.permissions_boundary,
            tags=dict(args.tags),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-relay-policy",
            role=role.id,
            policy=bus.apply(lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "events:PutEvents", "Resource": arn,
            }]})),
            opts=child,
        )
        relay = aws.cloudwatch.EventRule(
            f"{name}-relay", region=METRICS_REGION, name=pulumi.Output.concat(args.name_prefix, "-health-relay"),
            description="Carries the health-check alarm's state changes to the stack's region",
            event_pattern=pattern, tags=dict(args.tags), opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-relay-bus", region=METRICS_REGION, rule=relay.name, arn=bus, role_arn=role.arn,
            target_id="stack-region-bus", opts=child,
        )
        alert = aws.cloudwatch.EventRule(
            f"{name}-alert", name=pulumi.Output.concat(args.name_prefix, "-health-alert"),
            description="The health-check alarm's state changes, relayed from us-east-1",
            event_pattern=pattern, tags=dict(args.tags), opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-alert", rule=alert.name, arn=args.alert_topic_arn, target_id="alert-topic",
            input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                input_paths={"alarm": "$.detail.alarmName", "state": "$.detail.state.value", "reason": "$.detail.state.reason"},
                input_template='"<alarm> is <state>: <reason>"',
            ),
            opts=child,
        )
        return alert.arn
