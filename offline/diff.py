"""Compare two offline plans: resources added, removed, replaced and changed, by input path.

A changed URN is a delete-and-replace for the engine, so a resource that
disappears under one URN and appears under another with the same type and
parent is reported as replaced. Inputs that the provider can only set at
creation (``REPLACE_ON``, declared beside each type's offline model) are also
reported as replacements.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from offline.models import knowledge
from offline.plan import Plan, PlannedResource

# Inputs whose change makes the provider replace a resource, per type: declared beside each type's offline model
# (``offline.models.knowledge.replaced_on``, with the provider schema rule it comes from). "*" means every input.
REPLACE_ON: Mapping[str, frozenset[str]] = MappingProxyType(knowledge.REPLACE_ON)

_ABSENT = object()


@dataclass(frozen=True)
class Change:
    """One input that differs: its path, the old and the new value."""

    path: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.path}: {_show(self.old)} -> {_show(self.new)}"


@dataclass(frozen=True)
class ResourceDiff:
    """What happens to one resource."""

    kind: str  # "add", "remove", "replace", "update"
    urn: str
    type: str
    name: str
    changes: tuple[Change, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class PlanDiff:
    """Everything that differs between two plans of one stack."""

    resources: tuple[ResourceDiff, ...]
    outputs: tuple[Change, ...] = field(default=())

    def of_kind(self, kind: str) -> list[ResourceDiff]:
        """The resource diffs of one kind."""
        return [d for d in self.resources if d.kind == kind]

    @property
    def touched(self) -> list[ResourceDiff]:
        """Every resource that the update would create, delete, replace or change."""
        return list(self.resources)

    def to_json(self) -> dict[str, Any]:
        """The ``diff --json`` document."""
        return {
            "resources": [
                {
                    "kind": d.kind,
                    "urn": d.urn,
                    "type": d.type,
                    "name": d.name,
                    "reason": d.reason,
                    "changes": [{"path": c.path, "old": _plain(c.old), "new": _plain(c.new)} for c in d.changes],
                }
                for d in self.resources
            ],
            "outputs": [{"path": c.path, "old": _plain(c.old), "new": _plain(c.new)} for c in self.outputs],
        }


def _plain(value: Any) -> Any:
    return None if value is _ABSENT else value


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "(none)"
    if isinstance(value, str):
        return repr(value) if len(value) <= 80 else repr(value[:77] + "...")
    return repr(value)


def changes(old: Any, new: Any, path: str = "") -> Iterator[Change]:
    """Every leaf path at which two values differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            yield from changes(old.get(key, _ABSENT), new.get(key, _ABSENT), sub)
        return
    if isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            yield from changes(old[i] if i < len(old) else _ABSENT, new[i] if i < len(new) else _ABSENT, f"{path}[{i}]")
        return
    if old != new or type(old) is not type(new):
        yield Change(path or "(value)", old, new)


def _replacement_reason(resource: PlannedResource, found: list[Change]) -> str:
    keys = REPLACE_ON.get(resource.type, frozenset())
    every = knowledge.EVERY_INPUT in keys
    forcing = sorted({c.path.split(".")[0].split("[")[0] for c in found} & keys) if not every else []
    if every and found:
        return f"{resource.type} cannot be updated in place"
    if forcing:
        return f"changing {', '.join(forcing)} forces replacement"
    return ""


def _ignored(path: str, ignore_changes: tuple[str, ...]) -> bool:
    return any(path == key or path.startswith((f"{key}.", f"{key}[")) for key in ignore_changes)


def diff(old: Plan, new: Plan) -> PlanDiff:
    """Compare two plans of the same stack."""
    before, after = old.by_urn(), new.by_urn()
    removed = [before[u] for u in before if u not in after]
    added = [after[u] for u in after if u not in before]
    result: list[ResourceDiff] = []
    for res in added:
        twins = [r for r in removed if r.type == res.type and r.parent == res.parent]
        if len(twins) == 1 and len([a for a in added if a.type == res.type and a.parent == res.parent]) == 1:
            gone = twins[0]
            removed.remove(gone)
            found = tuple(changes(gone.inputs, res.inputs))
            result.append(ResourceDiff("replace", res.urn, res.type, res.name, found,
                                       f"URN changed from {gone.urn}: a rename deletes and recreates"))
        else:
            result.append(ResourceDiff("add", res.urn, res.type, res.name))
    result.extend(ResourceDiff("remove", r.urn, r.type, r.name) for r in removed)
    for urn, res in after.items():
        if urn not in before:
            continue
        # An ignored input keeps its old value on update (Pulumi's ignoreChanges resource option), so it is no change.
        updated = [c for c in changes(before[urn].inputs, res.inputs) if not _ignored(c.path, res.ignore_changes)]
        if not updated:
            continue
        reason = _replacement_reason(res, updated)
        result.append(ResourceDiff("replace" if reason else "update", urn, res.type, res.name, tuple(updated), reason))
    order = {r.urn: i for i, r in enumerate(new.resources)} | {r.urn: -1 for r in old.resources if r.urn not in after}
    result.sort(key=lambda d: order.get(d.urn, 0))
    return PlanDiff(tuple(result), tuple(changes(old.outputs, new.outputs)))
