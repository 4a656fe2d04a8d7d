"""Human output of a plan and a diff: a resource tree with what a reviewer cares about.

Weighted forwards are drawn as bars, so a 90/10 split is seen at a glance. What
else is shown of a type (its review keys, summary lines, an input holding a whole
file) is declared beside the type's offline model (``offline.models.knowledge.review``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from offline.diff import PlanDiff
from offline.models.knowledge import REVIEW_KEYS, SUMMARIES, TEXT_INPUTS
from offline.plan import Plan, PlannedResource
from offline.render_resources import target_group_names
from offline.workflow_summary import text_change

BAR_WIDTH = 40


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


def weight_bars(resource: PlannedResource, plan: Plan) -> list[str]:
    """Bars for every weighted forward the resource holds."""
    names = target_group_names(plan)
    lines: list[str] = []
    for groups in forwards(resource.inputs):
        weights = [(names.get(str(g.get("arn")), str(g.get("arn"))), int(g.get("weight", 1))) for g in groups]
        total = sum(w for _, w in weights)
        lines.append("weighted forward:")
        width = max([14, *(len(name) for name, _ in weights)])
        lines.extend(f"  {bar(name, w, total, width)}" for name, w in weights)
    return lines


def details(resource: PlannedResource, plan: Plan) -> list[str]:
    """The lines shown under a resource in the tree."""
    lines = []
    for path in REVIEW_KEYS.get(resource.type, ()):
        value = _get(resource.inputs, path)
        if value is not None:
            lines.append(f"{path}: {value}")
    lines.extend(weight_bars(resource, plan))
    summarise = SUMMARIES.get(resource.type)
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
