"""Log lines as a release signal: per colour, error lines counted into a metric, an alarm on their rate, saved queries.

Each colour writes to its own log group (``components/fleet.py``), because a
metric filter reads a whole group. The filter turns every line matching
``monitoring:logs`` (by default a JSON ``level`` of error or fatal) into a 1 of the colour's metric (every other
line into a 0, so a quiet colour reports zeros, not missing data); the alarm
divides that by the colour's requests and joins the colour's release composite,
so a candidate that logs errors aborts its release like one that answers 5xx.
Two saved Logs Insights queries per colour (errors by message, slowest
requests) make "look at the logs" one click during an incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.config.monitoring import LogSignals
from components.config.release import Colour
from components.log_queries import errors_by_message, slowest_requests

METRIC_NAME = "ErrorLogLines"


def metric_namespace(name_prefix: str) -> str:
    """The custom namespace of a stack's log metrics (botocore logs ``MetricNamespace``: no ':', '*' or '$')."""
    return f"{name_prefix}/logs".replace(":", "-")


def metric_name(colour: Colour) -> str:
    """The metric a colour's error lines are counted into."""
    return f"{METRIC_NAME}-{colour.value}"


@dataclass
class ReleaseLogsArgs:
    """What the log signal of each colour reads and where its alarm reports."""

    name_prefix: pulumi.Input[str]
    """Prefix of every physical name, e.g. ``webapp-staging``."""
    signals: LogSignals
    """The error pattern and the fields the queries read."""
    log_group_names: Mapping[Colour, pulumi.Input[str]]
    """Each colour's log group."""
    load_balancer_arn_suffix: pulumi.Input[str]
    """The load balancer's CloudWatch dimension."""
    target_group_arn_suffixes: Mapping[Colour, pulumi.Input[str]]
    """Each colour's target group dimension: its requests are the rate's denominator."""
    threshold_percent: float
    """Error lines per 100 requests above which the colour's alarm fires."""
    min_requests: int
    """Requests a period needs before its rate counts (as the colour's 5xx-rate alarm): fewer is no breach."""
    period_seconds: int
    """One evaluation period."""
    evaluation_periods: int
    """Periods the alarm looks at."""
    datapoints_to_alarm: int
    """Of those, how many must breach."""
    alert_topic_arn: pulumi.Input[str]
    """SNS topic the alarms notify."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for the alarms."""


class ReleaseLogs(pulumi.ComponentResource):
    """Per colour: an error-line metric filter, an alarm on its rate and two saved Logs Insights queries."""

    alarm_names: dict[Colour, pulumi.Output[str]]
    query_names: dict[Colour, list[pulumi.Output[str]]]
    namespace: pulumi.Output[str]

    def __init__(self, name: str, args: ReleaseLogsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:monitoring:ReleaseLogs", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = pulumi.Output.from_input(args.name_prefix)
        self.namespace = prefix.apply(metric_namespace)
        self.alarm_names, self.query_names = {}, {}
        for colour in Colour:
            group = args.log_group_names[colour]
            aws.cloudwatch.LogMetricFilter(
                f"{name}-{colour.value}-errors", name=pulumi.Output.concat(prefix, f"-{colour.value}-error-lines"),
                log_group_name=group, pattern=args.signals.pattern,
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=metric_name(colour), namespace=self.namespace, value="1", default_value="0", unit="Count",
                ),
                opts=child,
            )
            self.alarm_names[colour] = self._alarm(name, colour, args, child)
            self.query_names[colour] = [
                aws.cloudwatch.QueryDefinition(
                    f"{name}-{colour.value}-{suffix}", name=pulumi.Output.concat(prefix, f"/{colour.value}/{suffix}"),
                    log_group_names=[group], query_string=query, opts=child,
                ).name
                for suffix, query in (("errors-by-message", errors_by_message(args.signals)),
                                      ("slowest-requests", slowest_requests(args.signals)))
            ]
        self.register_outputs({"alarm_names": {c.value: n for c, n in self.alarm_names.items()}})

    def _alarm(self, name: str, colour: Colour, args: ReleaseLogsArgs, child: pulumi.ResourceOptions) -> pulumi.Output[str]:
        period = args.period_seconds
        requests = aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id="requests", return_data=False,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace="AWS/ApplicationELB", metric_name="RequestCount", stat="Sum", period=period,
                dimensions={"LoadBalancer": args.load_balancer_arn_suffix, "TargetGroup": args.target_group_arn_suffixes[colour]},
            ),
        )
        lines = aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id="lines", return_data=False,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=self.namespace, metric_name=metric_name(colour), stat="Sum", period=period),
        )
        # Period lives on each metric, never on the alarm beside metricQueries (PutMetricAlarm: Period and Metrics
        # are exclusive; the provider's schema: period conflicts with metric_query). Too few requests is no rate.
        rate = aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id="rate", expression=f"IF(requests >= {args.min_requests}, 100 * FILL(lines, 0) / requests, 0)",
            label=f"{colour} error log lines per 100 requests", return_data=True,
        )
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-{colour.value}-error-lines",
            name=pulumi.Output.concat(args.name_prefix, f"-{colour.value}-error-lines"),
            alarm_description=f"{colour} logs more than {args.threshold_percent:g} error lines per 100 requests",
            comparison_operator="GreaterThanThreshold", threshold=args.threshold_percent,
            evaluation_periods=args.evaluation_periods, datapoints_to_alarm=args.datapoints_to_alarm,
            treat_missing_data="notBreaching", metric_queries=[lines, requests, rate],
            alarm_actions=[args.alert_topic_arn], ok_actions=[args.alert_topic_arn], tags=dict(args.tags), opts=child,
        )
        return alarm.name
