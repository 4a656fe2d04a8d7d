"""Offline models of CloudWatch and SNS subscriptions: log groups, metric alarms, topic subscriptions."""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, autoname, resource


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
