"""Check 4: the graph. Ordering rules the engine can only follow if the program states them.

The evaluator records each resource's dependencies (``depends_on`` and input
references, per input), so the order ``pulumi up`` creates things in is known
offline.
"""

from __future__ import annotations

from collections.abc import Iterator

from offline.check.findings import Finding, RuleClass, Severity
from offline.models.knowledge import FORWARD_INPUTS
from offline.plan import Plan, PlannedResource

SERVICE = "aws:ecs/service:Service"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"

LISTENER_FIRST = (
    "Amazon ECS Developer Guide, 'Use load balancing to distribute Amazon ECS service traffic' (the target group must "
    "be attached to the load balancer, through a listener or rule, before CreateService: otherwise "
    "InvalidParameterException 'The target group ... does not have an associated load balancer')"
)
IP_TARGETS = ("botocore ecs service-2.json, LoadBalancer.targetGroupArn ('If your service's task definition uses the "
              "awsvpc network mode, you must choose ip as the target type')")


def closure(plan: Plan, urn: str) -> set[str]:
    """Every resource a resource waits for, directly or through others."""
    by_urn = plan.by_urn()
    seen: set[str] = set()
    stack = [urn]
    while stack:
        current = by_urn.get(stack.pop())
        if current is None:
            continue
        for dep in current.dependencies:
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


def _target_groups(resource: PlannedResource, key: str, plan: Plan) -> set[str]:
    groups = {r.urn for r in plan.of_type(TARGET_GROUP)}
    return set(resource.property_dependencies.get(key, ())) & groups


def check(plan: Plan) -> Iterator[Finding]:
    """Findings for services that can be created before their target group is attached, and mismatched target types."""
    by_urn = plan.by_urn()
    forwarders: dict[str, list[str]] = {}
    for type_, key in FORWARD_INPUTS.items():
        for resource in plan.of_type(type_):
            for group in _target_groups(resource, key, plan):
                forwarders.setdefault(group, []).append(resource.urn)
    for service in plan.of_type(SERVICE):
        waits_for = closure(plan, service.urn)
        for group in sorted(_target_groups(service, "loadBalancers", plan)):
            name = by_urn[group].name
            if not set(forwarders.get(group, ())) & waits_for:
                yield Finding(service.name, service.type, "loadBalancers", name, "service-after-listener", RuleClass.GRAPH,
                              LISTENER_FIRST, f"depends on no listener or rule forwarding to {name}: on a new stack "
                              "CreateService can run first and fail", Severity.ERROR)
            target_type = by_urn[group].inputs.get("targetType", "instance")
            task = _task_definition(service, plan)
            if task is not None and task.inputs.get("networkMode") == "awsvpc" and target_type != "ip":
                yield Finding(service.name, service.type, "loadBalancers", target_type, "awsvpc-ip-targets",
                              RuleClass.GRAPH, IP_TARGETS, f"{name} has target type {target_type}; awsvpc tasks need ip")


def _task_definition(service: PlannedResource, plan: Plan) -> PlannedResource | None:
    urns = set(service.property_dependencies.get("taskDefinition", ()))
    found = [r for r in plan.of_type("aws:ecs/taskDefinition:TaskDefinition") if r.urn in urns]
    return found[0] if found else None
