"""Offline models of composite alarms, dashboards, EventBridge rules and targets, Route 53 health checks.

Metric alarms and topic policies are modelled in ``aws_cloudwatch``.

A resource may name its own ``region`` (pulumi-aws 7): its ARN then carries that
region, as AWS's would.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, autoname, resource
from offline.models.knowledge import (
    REGION,
    REGION_SDKV2,
    TF,
    Call,
    PlanView,
    Violation,
    creates,
    input_rule,
    pick,
    replaced_on,
    review,
)
from offline.render_monitoring import dashboard_lines, rule_lines


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


# --- create requests, validated by the offline check against botocore's service models ---------


@creates("cloudwatch", "aws:cloudwatch/compositeAlarm:CompositeAlarm")
def _composite_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"alarmName": "AlarmName", "alarmRule": "AlarmRule", "alarmDescription": "AlarmDescription",
                         "actionsEnabled": "ActionsEnabled", "alarmActions": "AlarmActions", "okActions": "OKActions",
                         "insufficientDataActions": "InsufficientDataActions"}, "PutCompositeAlarm")
    call.params.setdefault("AlarmName", name)
    return [call]


@creates("cloudwatch", "aws:cloudwatch/dashboard:Dashboard")
def _dashboard_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"dashboardName": "DashboardName", "dashboardBody": "DashboardBody"}, "PutDashboard")
    call.params.setdefault("DashboardName", name)
    return [call]


@creates("events", "aws:cloudwatch/eventRule:EventRule")
def _event_rule_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"scheduleExpression": "ScheduleExpression", "eventPattern": "EventPattern", "state": "State",
                         "description": "Description", "roleArn": "RoleArn", "eventBusName": "EventBusName"}, "PutRule")
    call.params["Name"] = name
    call.origin["Name"] = "name"
    return [call]


@creates("events", "aws:cloudwatch/eventTarget:EventTarget")
def _event_target_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"rule": "Rule", "eventBusName": "EventBusName"}, "PutTargets")
    target = {member: inputs[key] for key, member in (("targetId", "Id"), ("arn", "Arn"), ("roleArn", "RoleArn"),
                                                      ("input", "Input"), ("inputPath", "InputPath")) if inputs.get(key)}
    target.setdefault("Id", name)
    call.params["Targets"] = [target]
    call.origin["Targets"] = "(target)"
    return [call]


@creates("route53", "aws:route53/healthCheck:HealthCheck")
def _health_check_request(inputs: dict[str, Any], name: str) -> list[Call]:
    config = pick(inputs, {"type": "Type", "fqdn": "FullyQualifiedDomainName", "port": "Port", "resourcePath": "ResourcePath",
                           "requestInterval": "RequestInterval", "failureThreshold": "FailureThreshold",
                           "measureLatency": "MeasureLatency", "enableSni": "EnableSNI", "ipAddress": "IPAddress",
                           "searchString": "SearchString", "regions": "Regions", "invertHealthcheck": "Inverted"}, "")
    return [Call("CreateHealthCheck", {"CallerReference": name, "HealthCheckConfig": config.params},
                 {"HealthCheckConfig": "(health check)"})]


# --- rules CloudWatch and EventBridge state outside the shapes ------------------------------------

# PutCompositeAlarm AlarmRule: ALARM("name"), OK("name"), INSUFFICIENT_DATA("name") name other alarms.
_RULE_REFERENCE = re.compile(r"\b(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*\"?([^\")]+?)\"?\s*\)")


@input_rule(
    "aws:cloudwatch/compositeAlarm:CompositeAlarm", "composite-alarm-references",
    "botocore cloudwatch service-2.json, PutCompositeAlarmInput.AlarmRule (ALARM(\"alarm-name or alarm-ARN\"), OK(...), "
    "INSUFFICIENT_DATA(...) name the other alarms whose state the composite evaluates)",
)
def _composite_references(inputs: dict[str, Any], plan: PlanView) -> Iterator[Violation]:
    known = plan.values_of("aws:cloudwatch/metricAlarm:MetricAlarm", "name") | plan.values_of(
        "aws:cloudwatch/compositeAlarm:CompositeAlarm", "alarmName")
    for name in _RULE_REFERENCE.findall(str(inputs.get("alarmRule", ""))):
        short = name.rsplit(":alarm:", 1)[-1]
        if short not in known:
            yield Violation("alarmRule", name, "names an alarm this stack does not create")


# CloudWatch API Reference, "Dashboard Body Structure and Syntax": widget types and the 24-column grid.
_WIDGET_TYPES = {"metric", "text", "log", "alarm", "explorer", "custom"}


@input_rule(
    "aws:cloudwatch/dashboard:Dashboard", "dashboard-body",
    "Amazon CloudWatch API Reference, 'Dashboard Body Structure and Syntax' (widgets: type, properties required; "
    "width 1-24, x 0-23)",
)
def _dashboard_body(inputs: dict[str, Any], _: PlanView) -> Iterator[Violation]:
    try:
        body = json.loads(str(inputs.get("dashboardBody", "")))
    except json.JSONDecodeError as exc:
        yield Violation("dashboardBody", str(inputs.get("dashboardBody", ""))[:60], f"not JSON: {exc}")
        return
    widgets = body.get("widgets") if isinstance(body, dict) else None
    if not isinstance(widgets, list):
        yield Violation("dashboardBody.widgets", widgets, "the body needs a widgets array")
        return
    for index, widget in enumerate(widgets):
        path = f"dashboardBody.widgets[{index}]"
        if not isinstance(widget, dict) or widget.get("type") not in _WIDGET_TYPES or not isinstance(widget.get("properties"), dict):
            yield Violation(path, widget if not isinstance(widget, dict) else widget.get("type"),
                            f"a widget has a type ({', '.join(sorted(_WIDGET_TYPES))}) and properties")
            continue
        if not 1 <= int(widget.get("width", 6)) <= 24 or not 0 <= int(widget.get("x", 0)) <= 23:
            yield Violation(f"{path}.width", widget.get("width"), "width is 1-24 and x 0-23 on the 24-column grid")


def _pattern_leaves(value: Any, path: str) -> Iterator[Violation]:
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _pattern_leaves(sub, f"{path}.{key}")
    elif not isinstance(value, list):
        yield Violation(path, value, "match values are given in an array")


@input_rule(
    "aws:cloudwatch/eventRule:EventRule", "event-pattern",
    "Amazon EventBridge User Guide, 'Creating Amazon EventBridge event patterns' (a JSON object; the values to match "
    "are in arrays)",
)
def _event_pattern(inputs: dict[str, Any], _: PlanView) -> Iterator[Violation]:
    raw = inputs.get("eventPattern")
    if raw is None:
        return
    try:
        pattern = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        yield Violation("eventPattern", raw, f"not JSON: {exc}")
        return
    if not isinstance(pattern, dict) or not pattern:
        yield Violation("eventPattern", raw, "a pattern is a non-empty JSON object")
        return
    yield from _pattern_leaves(pattern, "eventPattern")


# What a change to an input replaces (the provider's schema rule, cited) and what a reviewer sees.
replaced_on("aws:cloudwatch/compositeAlarm:CompositeAlarm",
    "actionsEnabled", "alarmName", REGION,
    source=f"{TF}cloudwatch/composite_alarm.go: actions_enabled, alarm_name ForceNew; {REGION_SDKV2}")
replaced_on("aws:cloudwatch/dashboard:Dashboard",
    "dashboardName", REGION, source=f"{TF}cloudwatch/dashboard.go: dashboard_name ForceNew; {REGION_SDKV2}")
replaced_on("aws:cloudwatch/eventRule:EventRule",
    "eventBusName", "name", "namePrefix", REGION,
    source=f"{TF}events/rule.go: event_bus_name, name, name_prefix ForceNew (description, event_pattern, role_arn,"
           f" schedule_expression and state update through PutRule); {REGION_SDKV2}")
replaced_on("aws:cloudwatch/eventTarget:EventTarget",
    "eventBusName", "rule", "targetId", REGION,
    source=f"{TF}events/target.go: event_bus_name, rule, target_id ForceNew; {REGION_SDKV2}")
replaced_on("aws:route53/healthCheck:HealthCheck",
    "measureLatency", "referenceName", "requestInterval", "routingControlArn", "type",
    source=f"{TF}route53/health_check.go: measure_latency, reference_name, request_interval, routing_control_arn,"
           " type ForceNew (the rest update through UpdateHealthCheck; its CustomizeDiff only clears removed"
           " triggers); Route 53 is global: no region input")
review("aws:cloudwatch/compositeAlarm:CompositeAlarm", "alarmRule")
review("aws:route53/healthCheck:HealthCheck", "fqdn", "resourcePath")
review("aws:cloudwatch/eventRule:EventRule", summary=rule_lines)
review("aws:cloudwatch/dashboard:Dashboard", summary=dashboard_lines)
