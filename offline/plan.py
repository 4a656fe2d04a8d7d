"""What an offline evaluation produces: the registered resources and the stack outputs.

Every value here is plain data (str, int, float, bool, None, list, dict) with secrets
already replaced by ``SECRET``, so a plan can be printed, diffed or serialised
without leaking anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

SECRET = "[secret]"  # noqa: S105 - the marker shown in place of a secret, not a secret


@dataclass(frozen=True)
class PlannedResource:
    """One resource as the program registered it."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    protect: bool = False
    outputs: dict[str, Any] = field(default_factory=dict, compare=False)
    dependencies: tuple[str, ...] = field(default=(), compare=False)
    """URNs this resource waits for: its ``depends_on`` and the resources its inputs refer to."""
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    """The same, per input: which resources each input refers to."""
    ignore_changes: tuple[str, ...] = field(default=(), compare=False)
    """Inputs a later update leaves alone (``ignore_changes``), as registered (camelCase)."""
    delete_before_replace: bool = field(default=False, compare=False)
    """Whether a replacement deletes the old resource first (Pulumi's default creates the new one first)."""

    def to_json(self) -> dict[str, Any]:
        """The resource as the ``plan --json`` document shows it (the original keys, then the ordering options)."""
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "protect": self.protect,
            "inputs": self.inputs,
            "dependencies": list(self.dependencies),
            "propertyDependencies": {k: list(v) for k, v in self.property_dependencies.items()},
            "ignoreChanges": list(self.ignore_changes),
            "deleteBeforeReplace": self.delete_before_replace,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlannedResource:
        """A resource from a ``plan --json`` document; documents written before the ordering keys load too."""
        return cls(
            urn=str(data["urn"]),
            type=str(data["type"]),
            name=str(data["name"]),
            parent=data.get("parent"),
            custom=bool(data.get("custom", True)),
            inputs=dict(data.get("inputs") or {}),
            protect=bool(data.get("protect", False)),
            dependencies=tuple(data.get("dependencies") or ()),
            property_dependencies={str(k): tuple(v) for k, v in (data.get("propertyDependencies") or {}).items()},
            ignore_changes=tuple(data.get("ignoreChanges") or ()),
            delete_before_replace=bool(data.get("deleteBeforeReplace", False)),
        )


@dataclass(frozen=True)
class Plan:
    """The resources and outputs of one stack evaluated with one config."""

    project: str
    stack: str
    resources: tuple[PlannedResource, ...]
    outputs: dict[str, Any]
    warnings: tuple[str, ...] = ()
    invokes: tuple[tuple[str, dict[str, Any]], ...] = field(default=(), compare=False)
    """The lookups the program made, in order: each invoke's token and arguments (secrets redacted)."""

    def by_urn(self) -> dict[str, PlannedResource]:
        """The resources keyed by URN."""
        return {r.urn: r for r in self.resources}

    def of_type(self, type_: str) -> list[PlannedResource]:
        """The resources of one type token, in registration order."""
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> PlannedResource:
        """The one resource with this logical name; KeyError when there is none."""
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            message = f"{len(found)} resources named {name!r}"
            raise KeyError(message)
        return found[0]

    def children(self, parent_urn: str | None) -> Iterator[PlannedResource]:
        """The resources directly under a parent (None: top level)."""
        return (r for r in self.resources if r.parent == parent_urn)

    def to_json(self) -> dict[str, Any]:
        """The ``plan --json`` document."""
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        """A plan from its ``plan --json`` document (KeyError/TypeError/ValueError when it is not one)."""
        resources = data["resources"]
        if not isinstance(resources, list):
            message = "resources is not a list"
            raise TypeError(message)
        return cls(
            project=str(data["project"]),
            stack=str(data["stack"]),
            resources=tuple(PlannedResource.from_json(r) for r in resources),
            outputs=dict(data.get("outputs") or {}),
        )
