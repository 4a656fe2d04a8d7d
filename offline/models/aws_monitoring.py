"""Offline models of composite alarms, dashboards, EventBridge rules and targets, Route 53 health checks.

Metric alarms and topic policies are modelled in ``aws_cloudwatch``.

A resource may name its own ``region`` (pulumi-aws 7): its ARN then carries that
region, as AWS's would.
"""

from __future__ import annotations

import uuid
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, autoname, resource


def _region(args: MockResourceArgs, ctx: MockContext) -> str:
    given = args.inputs.get("region")
    return given if isinstance(given, str) and given else ctx.region


@resource("aws:cloudwatch/compositeAlarm:CompositeAlarm")
def _composite_alarm(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx, "alarmName")
    arn = f"arn:aws:cloudwatch:{_region(args, ctx)}:{ctx.account}:alarm:{name}"
    return {"id": name, "alarmName": name, "arn": arn, "region": _region(args, ctx)}


@resource("aws:cloudwatch/dashboard:Dashboard")
def _dashboard(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx, "dashboardName")
    # Dashboards are global: their ARN has no region.
    return {"id": name, "dashboardName": name, "dashboardArn": f"arn:aws:cloudwatch::{ctx.account}:dashboard/{name}"}


@resource("aws:cloudwatch/eventRule:EventRule")
def _event_rule(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    bus = str(args.inputs.get("eventBusName") or "default")
    path = f"rule/{name}" if bus == "default" else f"rule/{bus}/{name}"
    return {
        "id": name if bus == "default" else f"{bus}/{name}",
        "name": name,
        "arn": f"arn:aws:events:{_region(args, ctx)}:{ctx.account}:{path}",
        "eventBusName": bus,
        "state": args.inputs.get("state") or "ENABLED",
        "region": _region(args, ctx),
    }


@resource("aws:cloudwatch/eventTarget:EventTarget")
def _event_target(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    rule = str(args.inputs.get("rule", ""))
    target = str(args.inputs.get("targetId") or f"terraform-{ctx.digest(args.name, length=20)}")
    return {"id": f"{rule}-{target}", "targetId": target, "eventBusName": "default", "region": _region(args, ctx)}


@resource("aws:route53/healthCheck:HealthCheck")
def _health_check(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    # Route 53 health check ids are UUIDs; derive one from the name so evaluations agree.
    check_id = str(uuid.UUID(ctx.digest(args.typ, args.name, length=32)))
    return {"id": check_id, "arn": f"arn:aws:route53:::healthcheck/{check_id}"}
