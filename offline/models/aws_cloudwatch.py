"""Offline models of CloudWatch and SNS subscriptions: log groups, metric alarms, topic subscriptions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, autoname, resource
from offline.models.knowledge import (
    REGION,
    REGION_SDKV2,
    TF,
    Call,
    Violation,
    creates,
    input_rule,
    pick,
    policy_inputs,
    replaced_on,
    review,
)
from offline.render_monitoring import alarm_lines


@resource("aws:cloudwatch/logGroup:LogGroup")
def _log_group(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    return {"id": name, "name": name, "arn": ctx.arn("logs", f"log-group:{name}")}


@resource("aws:cloudwatch/metricAlarm:MetricAlarm")
def _metric_alarm(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    # An alarm may be placed in another region (pulumi-aws 7's `region`); its ARN says where.
    region = str(args.inputs.get("region") or ctx.region)
    return {"id": name, "name": name, "arn": f"arn:aws:cloudwatch:{region}:{ctx.account}:alarm:{name}"}


@resource("aws:sns/topicSubscription:TopicSubscription")
def _subscription(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    topic = str(args.inputs.get("topic", ""))
    arn = f"{topic}:{ctx.digest(args.name, length=8)}-{ctx.digest(topic, args.name, length=4)}-{ctx.digest(args.name, 'x', length=12)}"
    # Email and HTTPS endpoints stay pending until someone confirms the subscription.
    pending = args.inputs.get("protocol") in ("email", "email-json", "http", "https")
    return {"id": arn, "arn": arn, "ownerId": ctx.account, "pendingConfirmation": pending}


@resource("aws:sns/topicPolicy:TopicPolicy")
def _topic_policy(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    return {"id": str(args.inputs.get("arn", "")), "owner": ctx.account}


# --- create requests, validated by the offline check against botocore's service models ---------


def _dimensions(value: Any) -> list[dict[str, Any]]:
    return [{"Name": k, "Value": v} for k, v in value.items()] if isinstance(value, dict) else []


def _query(query: dict[str, Any]) -> dict[str, Any]:
    """One provider ``metricQueries`` entry as CloudWatch's ``MetricDataQuery``."""
    out = {member: query[key] for key, member in (("id", "Id"), ("expression", "Expression"), ("label", "Label"),
                                                   ("returnData", "ReturnData"), ("period", "Period"),
                                                   ("accountId", "AccountId")) if query.get(key) is not None}
    metric = query.get("metric")
    if isinstance(metric, dict):
        stat: dict[str, Any] = {"Metric": {"Namespace": metric.get("namespace"), "MetricName": metric.get("metricName"),
                                           "Dimensions": _dimensions(metric.get("dimensions"))},
                                "Period": metric.get("period"), "Stat": metric.get("stat")}
        if metric.get("unit") is not None:
            stat["Unit"] = metric["unit"]
        out["MetricStat"] = stat
    return out


_ALARM_MEMBERS = {
    "alarmDescription": "AlarmDescription", "actionsEnabled": "ActionsEnabled", "okActions": "OKActions",
    "alarmActions": "AlarmActions", "insufficientDataActions": "InsufficientDataActions", "metricName": "MetricName",
    "namespace": "Namespace", "statistic": "Statistic", "extendedStatistic": "ExtendedStatistic", "period": "Period",
    "unit": "Unit", "evaluationPeriods": "EvaluationPeriods", "datapointsToAlarm": "DatapointsToAlarm",
    "threshold": "Threshold", "comparisonOperator": "ComparisonOperator", "treatMissingData": "TreatMissingData",
    "evaluateLowSampleCountPercentiles": "EvaluateLowSampleCountPercentile", "thresholdMetricId": "ThresholdMetricId",
}


@creates("cloudwatch", "aws:cloudwatch/metricAlarm:MetricAlarm")
def _alarm_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, _ALARM_MEMBERS, "PutMetricAlarm")
    call.params["AlarmName"] = name
    call.origin["AlarmName"] = "name"
    if inputs.get("dimensions"):
        call.params["Dimensions"] = _dimensions(inputs["dimensions"])
        call.origin["Dimensions"] = "dimensions"
    if inputs.get("metricQueries"):
        call.params["Metrics"] = [_query(q) for q in inputs["metricQueries"] if isinstance(q, dict)]
        call.origin["Metrics"] = "metricQueries"
    return [call]


@creates("logs", "aws:cloudwatch/logGroup:LogGroup")
def _log_group_request(inputs: dict[str, Any], name: str) -> list[Call]:
    create = pick(inputs, {"kmsKeyId": "kmsKeyId", "logGroupClass": "logGroupClass"}, "CreateLogGroup")
    create.params["logGroupName"] = name
    create.origin["logGroupName"] = "name"
    calls = [create]
    if inputs.get("retentionInDays"):
        calls.append(Call("PutRetentionPolicy", {"logGroupName": name, "retentionInDays": inputs["retentionInDays"]},
                          {"retentionInDays": "retentionInDays", "logGroupName": "name"}))
    return calls


@creates("sns", "aws:sns/topicSubscription:TopicSubscription")
def _subscription_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"topic": "TopicArn", "protocol": "Protocol", "endpoint": "Endpoint"}, "Subscribe")]


@creates("sns", "aws:sns/topicPolicy:TopicPolicy")
def _topic_policy_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"arn": "TopicArn", "policy": "AttributeValue"}, "SetTopicAttributes")
    call.params["AttributeName"] = "Policy"
    return [call]


# --- rules CloudWatch and the provider state outside the shapes ----------------------------------

_METRICS_EXCLUDE = ("namespace", "metricName", "dimensions", "period", "unit", "statistic", "extendedStatistic")


@input_rule(
    "aws:cloudwatch/metricAlarm:MetricAlarm", "alarm-metrics-exclusive",
    "botocore cloudwatch service-2.json, PutMetricAlarmInput.Metrics: 'If you use the Metrics parameter, you cannot "
    "include the Namespace, MetricName, Dimensions, Period, Unit, Statistic, or ExtendedStatistic'; terraform-provider-aws "
    "internal/service/cloudwatch/metric_alarm.go: metric_query ConflictsWith metric_name",
)
def _metrics_exclusive(inputs: dict[str, Any], _: Any) -> Iterator[Violation]:
    if inputs.get("metricQueries"):
        for key in _METRICS_EXCLUDE:
            if inputs.get(key) not in (None, {}, []):
                yield Violation(key, inputs[key], f"{key} cannot be set together with metricQueries")


# MetricDataQuery.Id: "The valid characters are letters, numbers, and underscore. The first character must be a lowercase letter."
_QUERY_ID = re.compile(r"[a-z][A-Za-z0-9_]*")


@input_rule(
    "aws:cloudwatch/metricAlarm:MetricAlarm", "alarm-metric-math",
    "botocore cloudwatch service-2.json, MetricDataQuery.Id (letters, numbers, underscore; first a lowercase letter) and "
    "PutMetricAlarmInput.Metrics ('One item in the Metrics array is the expression that the alarm watches ... ReturnData true')",
)
def _metric_math(inputs: dict[str, Any], _: Any) -> Iterator[Violation]:
    queries = [q for q in inputs.get("metricQueries") or [] if isinstance(q, dict)]
    if not queries:
        return
    seen: set[str] = set()
    for index, query in enumerate(queries):
        query_id = str(query.get("id", ""))
        if not _QUERY_ID.fullmatch(query_id):
            yield Violation(f"metricQueries[{index}].id", query_id, "not a valid metric-math id")
        if query_id in seen:
            yield Violation(f"metricQueries[{index}].id", query_id, "ids must be unique")
        seen.add(query_id)
    returned = [q.get("id") for q in queries if q.get("returnData")]
    if len(returned) != 1:
        yield Violation("metricQueries[].returnData", returned, f"exactly one query returns data; {len(returned)} do")


policy_inputs("aws:sns/topicPolicy:TopicPolicy", policy="resource")


# What a change to an input replaces (the provider's schema rule, cited) and what a reviewer sees.
replaced_on("aws:cloudwatch/logGroup:LogGroup",
    "logGroupClass", "name", "namePrefix", REGION,
    source=f"{TF}logs/group.go: name, name_prefix, log_group_class ForceNew; {REGION_SDKV2}")
replaced_on("aws:cloudwatch/metricAlarm:MetricAlarm",
    "name", REGION, source=f"{TF}cloudwatch/metric_alarm.go: alarm_name ForceNew; {REGION_SDKV2}")
replaced_on("aws:sns/topicSubscription:TopicSubscription",
    "endpoint", "protocol", "topic", REGION,
    source=f"{TF}sns/topic_subscription.go: topic_arn (the topic input), protocol, endpoint ForceNew (the other"
           " attributes update through SetSubscriptionAttributes; its CustomizeDiff only settles filter_policy_scope);"
           f" {REGION_SDKV2}")
replaced_on("aws:sns/topicPolicy:TopicPolicy",
    "arn", REGION,
    source=f"{TF}sns/topic_policy.go: arn ForceNew (policy updates through SetTopicAttributes); {REGION_SDKV2}")
review("aws:cloudwatch/logGroup:LogGroup", "retentionInDays")
review("aws:cloudwatch/metricAlarm:MetricAlarm", "name", "threshold", summary=alarm_lines)
