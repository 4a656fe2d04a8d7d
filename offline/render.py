"""Human output of a plan and a diff: a resource tree with what a reviewer cares about.

Weighted forwards are drawn as bars, so a 90/10 split is seen at a glance.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from offline import render_deployments, render_monitoring
from offline.diff import PlanDiff
from offline.plan import Plan, PlannedResource
from offline.workflow_summary import summarise_workflow, text_change

BAR_WIDTH = 40

# Per type, the input paths worth showing beside the resource in the tree.
REVIEW_KEYS: dict[str, tuple[str, ...]] = {
    "aws:lb/targetGroup:TargetGroup": ("namePrefix", "port", "healthCheck.path"),
    "aws:lb/listener:Listener": ("port", "protocol", "sslPolicy"),
    "aws:lb/loadBalancer:LoadBalancer": ("name", "enableDeletionProtection"),
    "aws:ecs/service:Service": ("desiredCount",),
    "aws:appautoscaling/target:Target": ("minCapacity", "maxCapacity"),
    "pulumiservice:index:DeploymentSettings": ("sourceContext.git.branch",),
    "pulumiservice:index:DriftSchedule": ("scheduleCron", "autoRemediate"),
    "pulumiservice:index:Webhook": ("format", "filters"),
    "pulumiservice:index:StackTag": ("name", "value"),
    "pulumiservice:index:PolicyPack": ("name", "versionTag"),
    "pulumiservice:index:PolicyGroup": ("mode", "policyPacks"),
    "aws:ecr/repository:Repository": ("name", "imageTagMutability", "imageScanningConfiguration.scanOnPush"),
    "aws:iam/role:Role": ("name",),
    "github:index/repositoryEnvironment:RepositoryEnvironment": ("environment", "waitTimer", "preventSelfReview", "canAdminsBypass"),
    "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy": ("environment", "branchPattern"),
    "github:index/repositoryRuleset:RepositoryRuleset": ("name", "conditions.refName.includes"),
    "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable": ("variableName", "value"),
    "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret": ("secretName",),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("cidrBlock",),
    "aws:ecs/cluster:Cluster": ("name",),
    "aws:cloudwatch/logGroup:LogGroup": ("retentionInDays",),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", "threshold"),
    "aws:rds/instance:Instance": (
        "identifier", "engineVersion", "instanceClass", "multiAz", "backupRetentionPeriod", "deletionProtection",
    ),
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "replicationGroupId", "nodeType", "numCacheClusters", "automaticFailoverEnabled", "snapshotRetentionLimit",
    ),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": ("alarmRule",),
    "aws:route53/healthCheck:HealthCheck": ("fqdn", "resourcePath"),
}

Summariser = Callable[[PlannedResource, Plan], list[str]]
# Per type, a function giving extra lines (e.g. a workflow file's jobs).
SUMMARISERS: dict[str, Summariser] = {
    "pulumiservice:index:DeploymentSettings": render_deployments.settings_lines,
    "pulumiservice:index:DriftSchedule": render_deployments.drift_lines,
    "github:index/repositoryFile:RepositoryFile": summarise_workflow,
    "aws:cloudwatch/metricAlarm:MetricAlarm": render_monitoring.alarm_lines,
    "aws:cloudwatch/eventRule:EventRule": render_monitoring.rule_lines,
    "aws:cloudwatch/dashboard:Dashboard": render_monitoring.dashboard_lines,
}


def listener_route(resource: PlannedResource, plan: Plan) -> list[str]:
    """Where a listener sends traffic when it is not a weighted forward: one target group, or a redirect."""
    names = _target_group_names(plan)
    lines = []
    for action in resource.inputs.get("defaultActions") or []:
        if not isinstance(action, dict):
            continue
        if action.get("targetGroupArn"):
            lines.append(f"forwards to {names.get(str(action['targetGroupArn']), action['targetGroupArn'])}")
        redirect = action.get("redirect")
        if isinstance(redirect, dict):
            lines.append(f"redirects to {redirect.get('protocol')}:{redirect.get('port')} ({redirect.get('statusCode')})")
    return lines


def listener_rule_route(resource: PlannedResource, plan: Plan) -> list[str]:
    """Where a listener rule sends the requests it matches (its conditions may be secret: the token is one)."""
    names = _target_group_names(plan)
    targets = [names.get(str(a.get("targetGroupArn")), a.get("targetGroupArn"))
               for a in resource.inputs.get("actions") or [] if isinstance(a, dict) and a.get("targetGroupArn")]
    return [f"priority {resource.inputs.get('priority')}: matching requests forward to {', '.join(map(str, targets))}"]


def security_group_rules(resource: PlannedResource, _: Plan) -> list[str]:
    """A security group's rules, one line each."""
    lines = []
    for direction, key in (("in", "ingress"), ("out", "egress")):
        for rule in resource.inputs.get(key) or []:
            peers = [*(rule.get("cidrBlocks") or []), *(f"group {g}" for g in rule.get("securityGroups") or [])]
            ports = rule.get("fromPort") if rule.get("fromPort") == rule.get("toPort") else f"{rule.get('fromPort')}-{rule.get('toPort')}"
            lines.append(f"{direction} {rule.get('protocol')} {ports} {'from' if direction == 'in' else 'to'} {', '.join(peers)}")
    return lines


SUMMARISERS["aws:lb/listener:Listener"] = listener_route
SUMMARISERS["aws:lb/listenerRule:ListenerRule"] = listener_rule_route
SUMMARISERS["aws:ec2/securityGroup:SecurityGroup"] = security_group_rules


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def bar(label: str, weight: int, total: int, label_width: int = 14) -> str:
    """One weight as a bar of ``BAR_WIDTH`` cells, after its label padded to ``label_width``."""
    share = weight / total if total else 0.0
    filled = round(share * BAR_WIDTH)
    return f"{label:<{label_width}} {'█' * filled}{'░' * (BAR_WIDTH - filled)} {weight:>3} ({share:.0%})"


def forwards(value: Any) -> Iterator[list[dict[str, Any]]]:
    """Every weighted forward's target-group list inside an input value."""
    if isinstance(value, dict):
        forward = value.get("forward")
        if isinstance(forward, dict) and isinstance(forward.get("targetGroups"), list):
            yield forward["targetGroups"]
        for key, sub in value.items():
            if key != "forward":
                yield from forwards(sub)
    elif isinstance(value, list):
        for item in value:
            yield from forwards(item)


def _target_group_names(plan: Plan) -> dict[str, str]:
    return {
        str(r.outputs.get("arn")): r.name
        for r in plan.of_type("aws:lb/targetGroup:TargetGroup")
        if r.outputs.get("arn")
    }


def weight_bars(resource: PlannedResource, plan: Plan) -> list[str]:
    """Bars for every weighted forward the resource holds."""
    names = _target_group_names(plan)
    lines: list[str] = []
    for groups in forwards(resource.inputs):
        weights = [(names.get(str(g.get("arn")), str(g.get("arn"))), int(g.get("weight", 1))) for g in groups]
        total = sum(w for _, w in weights)
        lines.append("weighted forward:")
        width = max([14, *(len(name) for name, _ in weights)])
        lines.extend(f"  {bar(name, w, total, width)}" for name, w in weights)
    return lines


def images(resource: PlannedResource) -> list[str]:
    """The container images of an ECS task definition."""
    raw = resource.inputs.get("containerDefinitions")
    try:
        containers = json.loads(raw) if isinstance(raw, str) else []
    except json.JSONDecodeError:
        return []
    return [f"image {c.get('name')}: {c.get('image')}" for c in containers if isinstance(c, dict)]


def details(resource: PlannedResource, plan: Plan) -> list[str]:
    """The lines shown under a resource in the tree."""
    lines = []
    for path in REVIEW_KEYS.get(resource.type, ()):
        value = _get(resource.inputs, path)
        if value is not None:
            lines.append(f"{path}: {value}")
    if resource.type == "aws:ecs/taskDefinition:TaskDefinition":
        lines.extend(images(resource))
    lines.extend(weight_bars(resource, plan))
    summarise = SUMMARISERS.get(resource.type)
    if summarise:
        lines.extend(summarise(resource, plan))
    if resource.protect:
        lines.append("protected")
    return lines


def _short_type(type_: str) -> str:
    package, _, rest = type_.partition(":")
    module, _, name = rest.partition(":")
    return f"{package}:{module.split('/')[0]}:{name}" if name else type_


def render_plan(plan: Plan) -> str:
    """The plan as an indented tree, then the outputs."""
    out = [f"Plan of {plan.project}/{plan.stack}: {len(plan.resources)} resources"]

    def walk(parent: str | None, depth: int) -> None:
        for res in plan.children(parent):
            pad = "  " * depth
            out.append(f"{pad}{'+' if res.custom else '▸'} {_short_type(res.type)} {res.name}")
            out.extend(f"{pad}    {line}" for line in details(res, plan))
            walk(res.urn, depth + 1)

    walk(None, 1)
    for warning in plan.warnings:
        out.append(f"warning: {warning}")
    out.append("Outputs:")
    for key, value in plan.outputs.items():
        out.append(f"  {key}: {json.dumps(value)}")
    return "\n".join(out)


SYMBOLS = {"add": "+", "remove": "-", "replace": "+-", "update": "~"}
# Per type, an input holding a whole file: a change to it is shown as a line diff.
TEXT_INPUTS: dict[str, str] = {"github:index/repositoryFile:RepositoryFile": "content"}


def render_diff(result: PlanDiff, new: Plan) -> str:
    """The diff: one block a resource, each changed input as ``path: old -> new``."""
    counts = {kind: len(result.of_kind(kind)) for kind in SYMBOLS}
    out = [
        f"Diff of {new.project}/{new.stack}: {counts['add']} to add, {counts['update']} to change, "
        f"{counts['replace']} to replace, {counts['remove']} to delete"
    ]
    by_urn = new.by_urn()
    for item in result.resources:
        out.append(f"{SYMBOLS[item.kind]:>2} {_short_type(item.type)} {item.name} ({item.kind})")
        if item.reason:
            out.append(f"     {item.reason}")
        for change in item.changes:
            if item.type in TEXT_INPUTS and change.path == TEXT_INPUTS[item.type] and isinstance(change.new, str):
                out.append(f"     {change.path}:")
                out.extend(f"       {line}" for line in text_change(change.old, change.new))
            else:
                out.append(f"     {change}")
        if item.urn in by_urn and item.kind != "remove":
            out.extend(f"     {line}" for line in weight_bars(by_urn[item.urn], new))
    if result.outputs:
        out.append("Outputs:")
        out.extend(f"  ~ {change}" for change in result.outputs)
    if not result.resources and not result.outputs:
        out.append("  no changes")
    return "\n".join(out)
