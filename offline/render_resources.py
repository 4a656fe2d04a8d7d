"""Review lines for single resource types: where traffic goes, a security group's rules, a task's images.

The model module of each type declares which one it shows (``offline.models.knowledge.review``).
"""

from __future__ import annotations

import json

from offline.plan import Plan, PlannedResource

TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"


def target_group_names(plan: Plan) -> dict[str, str]:
    """The logical name of every target group, by its ARN."""
    return {str(r.outputs.get("arn")): r.name for r in plan.of_type(TARGET_GROUP) if r.outputs.get("arn")}


def listener_route(resource: PlannedResource, plan: Plan) -> list[str]:
    """Where a listener sends traffic when it is not a weighted forward: one target group, or a redirect."""
    names = target_group_names(plan)
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
    names = target_group_names(plan)
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


def images(resource: PlannedResource, _: Plan | None = None) -> list[str]:
    """The container images of an ECS task definition."""
    raw = resource.inputs.get("containerDefinitions")
    try:
        containers = json.loads(raw) if isinstance(raw, str) else []
    except json.JSONDecodeError:
        return []
    return [f"image {c.get('name')}: {c.get('image')}" for c in containers if isinstance(c, dict)]
