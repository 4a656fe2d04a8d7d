"""Release alarms per colour and the alert topic they notify.

Each colour has three alarms a release watches while it shifts traffic:
unhealthy tasks, the share of requests the application answers with 5xx (only
counted once a period has enough requests, so one failure in two requests is
not an outage), and the 99th percentile response time. They notify one SNS
topic, encrypted with its own KMS key that CloudWatch may use.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config.release import Colour

ELB = "AWS/ApplicationELB"
SIGNALS = ("unhealthy-hosts", "5xx-rate", "p99-latency")


@dataclass
class AlertsArgs:
    """Inputs of ``Alerts``."""

    alarm_name: Callable[[Colour, str], str]
    """Physical name of a colour's alarm for a signal."""
    load_balancer_arn_suffix: pulumi.Input[str]
    """The load balancer's ARN suffix (metric dimension)."""
    target_group_arn_suffixes: Mapping[Colour, pulumi.Input[str]]
    """Each colour's target group ARN suffix (metric dimension)."""
    key_alias: str = "alias/release-alerts"
    """Alias of the topic's KMS key; unique per account and region, so it names the stack."""
    emails: Sequence[str] = ()
    """Addresses subscribed to the topic."""
    https_endpoints: Sequence[str] = ()
    """HTTPS URLs subscribed to the topic."""
    unhealthy_hosts: int = 1
    """Unhealthy tasks that raise a colour's alarm."""
    error_rate_percent: float = 5.0
    """5xx share (percent) that raises a colour's alarm."""
    min_requests: int = 50
    """Requests a period needs before its error rate counts."""
    p99_latency_seconds: float = 1.5
    """p99 response time that raises a colour's alarm."""
    period_seconds: int = 60
    """Length of one alarm period."""
    evaluation_periods: int = 3
    """Periods over the threshold before an alarm fires."""
    protect_key: bool = False
    """Protect the topic's KMS key from deletion by an update (production)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every resource."""


def _key_policy(account: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
             "Action": "kms:*", "Resource": "*"},
            # CloudWatch publishes alarm notifications to the encrypted topic.
            {"Sid": "CloudWatchPublishes", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
            # EventBridge publishes deployment, database and health-check events (components/monitoring.py).
            {"Sid": "EventBridgePublishes", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
        ],
    })


def _subscription_suffix(endpoint: str) -> str:
    # Stable per address, so adding or removing one address leaves the others untouched.
    return hashlib.sha256(endpoint.encode()).hexdigest()[:8]


class Alerts(pulumi.ComponentResource):
    """The alert topic with its subscriptions, and three release alarms per colour."""

    topic_arn: pulumi.Output[str]
    alarm_names: dict[Colour, list[pulumi.Output[str]]]
    alarm_arns: dict[Colour, list[pulumi.Output[str]]]

    def __init__(self, name: str, args: AlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:alerts:Alerts", name, None, opts)
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        account = aws.get_caller_identity_output().account_id
        key = aws.kms.Key(f"{name}-key", description="Encrypts the release alert topic", enable_key_rotation=True,
                          deletion_window_in_days=30, policy=account.apply(_key_policy), tags=tags,
                          # A deleted key cannot be recovered after its window; production keeps it.
                          opts=pulumi.ResourceOptions(parent=self, protect=args.protect_key))
        aws.kms.Alias(f"{name}-key", name=args.key_alias, target_key_id=key.key_id, opts=child)
        topic = aws.sns.Topic(f"{name}-topic", kms_master_key_id=key.arn, tags=tags, opts=child)
        endpoints = [("email", e) for e in args.emails] + [("https", u) for u in args.https_endpoints]
        for protocol, endpoint in endpoints:
            aws.sns.TopicSubscription(f"{name}-{protocol}-{_subscription_suffix(endpoint)}", topic=topic.arn, protocol=protocol,
                                      endpoint=endpoint, opts=child)
        self.alarm_names = {}
        self.alarm_arns = {}
        for colour in Colour:
            alarms = self._colour_alarms(name, args, colour, topic.arn, tags)
            self.alarm_names[colour] = [a.name for a in alarms]
            self.alarm_arns[colour] = [a.arn for a in alarms]
        self.topic_arn = topic.arn
        self.register_outputs({
            "topic_arn": self.topic_arn,
            "alarm_names": {c.value: names for c, names in self.alarm_names.items()},
        })

    def _colour_alarms(self, name: str, args: AlertsArgs, colour: Colour, topic: pulumi.Output[str],
                       tags: dict[str, str]) -> list[aws.cloudwatch.MetricAlarm]:
        dimensions = {"LoadBalancer": args.load_balancer_arn_suffix, "TargetGroup": args.target_group_arn_suffixes[colour]}
        # No `period` here: PutMetricAlarm refuses Period beside a Metrics array (botocore cloudwatch
        # PutMetricAlarmInput.Metrics; the provider's schema: period conflicts with metric_query).
        common: dict[str, Any] = {
            "evaluation_periods": args.evaluation_periods,
            "comparison_operator": "GreaterThanOrEqualToThreshold",
            # No data means no traffic (a standby colour at weight 0), which is not a failure.
            "treat_missing_data": "notBreaching",
            "alarm_actions": [topic], "ok_actions": [topic],
            "tags": {**tags, "Colour": colour.value},
            "opts": pulumi.ResourceOptions(parent=self),
        }
        prefix = f"{name}-{colour.value}"
        unhealthy = aws.cloudwatch.MetricAlarm(
            f"{prefix}-unhealthy-hosts", name=args.alarm_name(colour, SIGNALS[0]),
            alarm_description=f"{colour.value}: {args.unhealthy_hosts}+ tasks failing load balancer health checks",
            namespace=ELB, metric_name="UnHealthyHostCount", statistic="Maximum", dimensions=dimensions,
            period=args.period_seconds, threshold=float(args.unhealthy_hosts), **common,
        )

        def metric(id_: str, metric_name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            summed = aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=ELB, metric_name=metric_name, dimensions=dimensions, stat="Sum", period=args.period_seconds)
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(id=id_, return_data=False, metric=summed)

        errors = aws.cloudwatch.MetricAlarm(
            f"{prefix}-5xx-rate", name=args.alarm_name(colour, SIGNALS[1]),
            alarm_description=f"{colour.value}: {args.error_rate_percent}%+ of requests answered 5xx by the application "
                              f"(periods with at least {args.min_requests} requests)",
            threshold=float(args.error_rate_percent),
            metric_queries=[
                metric("errors", "HTTPCode_Target_5XX_Count"),
                metric("requests", "RequestCount"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="rate", label="5xx percent", return_data=True,
                    expression=f"IF(requests >= {args.min_requests}, 100 * FILL(errors, 0) / requests, 0)"),
            ],
            **common,
        )
        latency = aws.cloudwatch.MetricAlarm(
            f"{prefix}-p99-latency", name=args.alarm_name(colour, SIGNALS[2]),
            alarm_description=f"{colour.value}: p99 response time at or over {args.p99_latency_seconds} s",
            namespace=ELB, metric_name="TargetResponseTime", extended_statistic="p99", dimensions=dimensions,
            period=args.period_seconds, threshold=float(args.p99_latency_seconds), **common,
        )
        return [unhealthy, errors, latency]
