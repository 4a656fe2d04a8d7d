"""Check 1: every resource's create request against AWS's service model (botocore's shapes).

Each resource type's inputs are mapped onto the request of the call that
creates it (``offline.models.knowledge.creates``, registered beside the type's
offline model) and validated there. A type with no mapping is counted and
listed as unchecked, never passed silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from offline.check.findings import Finding, RuleClass, Severity
from offline.check.shapes import operation, validate
from offline.models.knowledge import REQUESTS, SECRET, Call
from offline.plan import Plan, PlannedResource


def physical_name(resource: PlannedResource) -> str:
    """The name AWS sees: the one given, the model's answer, else a stand-in shaped like Pulumi's auto-name."""
    for value in (resource.inputs.get("name"), resource.outputs.get("name")):
        if isinstance(value, str) and value and value != SECRET:
            return value
    # Pulumi's auto-name is the logical name plus a dash and 7 random characters.
    return f"{resource.name}-a1b2c3d"


def checked_types(plan: Plan) -> tuple[int, dict[str, int]]:
    """How many custom resources have a mapping, and the unmapped types with their counts."""
    checked = 0
    unchecked: dict[str, int] = {}
    for resource in plan.resources:
        if not resource.custom:
            continue
        if resource.type in REQUESTS:
            checked += 1
        else:
            unchecked[resource.type] = unchecked.get(resource.type, 0) + 1
    return checked, unchecked


def _input_path(call: Call, member_path: str) -> str:
    head, dot, rest = member_path.partition(".")
    bracket = head.find("[")
    top = head if bracket < 0 else head[:bracket]
    origin = call.origin.get(top)
    if origin is None:
        return f"(request {call.operation}.{member_path})"
    tail = (head[bracket:] if bracket >= 0 else "") + (dot + rest if rest else "")
    return f"{origin} (as {call.operation}.{top}{tail})" if tail or origin != top else origin


def _withheld_only(call: Call, kind: str, path: str, message: str) -> bool:
    # A secret member is left out of the request: its "missing" is not a finding.
    return kind == "missing required field" or any(m in message for m in call.withheld)


def check(plan: Plan) -> Iterator[Finding]:
    """Findings for every mapped resource whose create request breaks its service model."""
    for resource in plan.resources:
        mapping = REQUESTS.get(resource.type) if resource.custom else None
        if mapping is None:
            continue
        for call in mapping.build(dict(resource.inputs), physical_name(resource)):
            yield from _check_call(resource, mapping.service, call)


def _check_call(resource: PlannedResource, service: str, call: Call) -> Iterator[Finding]:
    shape = operation(service, call.operation).input_shape
    source = f"botocore {service} service-2.json, {shape.name if shape else call.operation}"
    for error in validate(service, call.operation, call.params):
        if error.trait == "missing required field" and call.withheld and _withheld_only(call, error.trait, error.path, error.message):
            continue
        value: Any = error.value
        yield Finding(
            resource=resource.name, type=resource.type, path=_input_path(call, error.path), value=value,
            rule=f"aws-{error.trait.replace(' ', '-')}", rule_class=RuleClass.SERVICE_MODEL,
            source=f"{source} ({error.trait})", message=error.message, severity=Severity.ERROR,
        )
