"""Check 5: update hazards. Inputs that fight with something else, and names that make a replacement fail."""

from __future__ import annotations

from collections.abc import Iterator

from offline.check.findings import Finding, RuleClass, Severity
from offline.models.knowledge import LIFECYCLES, REPLACE_ON, SCALED_INPUTS
from offline.plan import Plan, PlannedResource

AUTOSCALED = (
    "terraform-provider-aws docs, aws_ecs_service, 'Ignoring Changes to Desired Count' (with Application Auto Scaling, "
    "ignore changes to desired_count, or every apply resets the scaled count); Pulumi docs, resource option ignoreChanges"
)
FIXED_NAME = (
    "pulumi-terraform-bridge pkg/tfbridge/provider.go, nameRequiresDeleteBeforeReplace (a name not set by the "
    "auto-namer makes a replacement delete first)"
)


def _scaled(plan: Plan) -> Iterator[Finding]:
    for target in plan.of_type("aws:appautoscaling/target:Target"):
        scaled = SCALED_INPUTS.get(str(target.inputs.get("scalableDimension")))
        if scaled is None:
            continue
        type_, key = scaled
        resource_id = str(target.inputs.get("resourceId", ""))
        for resource in plan.of_type(type_):
            named = resource_id.endswith(f"/{resource.inputs.get('name')}") if resource.inputs.get("name") else False
            if (resource.urn in target.dependencies or named) and key in resource.inputs and key not in resource.ignore_changes:
                yield Finding(resource.name, resource.type, key, resource.inputs[key], "autoscaled-input-not-ignored",
                              RuleClass.UPDATE_HAZARD, AUTOSCALED,
                              f"{target.name} scales {key}, and {key} is not in ignoreChanges: every update resets it "
                              "and drift detection reports it", Severity.WARNING)


def _users(plan: Plan, resource: PlannedResource) -> list[str]:
    # Alarms and dashboards name a resource without holding it; they never block its deletion.
    return [r.name for r in plan.resources if resource.urn in r.dependencies and not r.type.startswith("aws:cloudwatch/")]


def _fixed_names(plan: Plan) -> Iterator[Finding]:
    for resource in plan.resources:
        life = LIFECYCLES.get(resource.type)
        if life is None or not life.delete_fails_while_used:
            continue
        fixed = [k for k in life.name_keys if resource.inputs.get(k)]
        forcing = sorted((REPLACE_ON.get(resource.type, frozenset()) - set(life.name_keys) - {"namePrefix"})
                         & set(resource.inputs))
        users = _users(plan, resource)
        if fixed and forcing and users:
            yield Finding(resource.name, resource.type, fixed[0], resource.inputs[fixed[0]], "fixed-name-in-use",
                          RuleClass.UPDATE_HAZARD, f"{FIXED_NAME}; {life.source}",
                          f"a change to {', '.join(forcing)} replaces it, delete first because the name is fixed, "
                          f"and the delete fails while {', '.join(users[:3])} use it", Severity.WARNING)


def check(plan: Plan) -> Iterator[Finding]:
    """Findings for autoscaled inputs without ignoreChanges and fixed names on replaceable resources in use."""
    yield from _scaled(plan)
    yield from _fixed_names(plan)
