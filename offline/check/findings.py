"""What the check reports: findings, waivers, and the report of one plan."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """``error``: AWS or the provider would reject it. ``warning``: accepted, but wrong, unsafe or drifting."""

    ERROR = "error"
    WARNING = "warning"


class RuleClass(StrEnum):
    """The kinds of rule the check runs (issue 13, 'What it checks' 1-6)."""

    SERVICE_MODEL = "service-model"
    INPUT_RULE = "input-rule"
    IAM = "iam"
    GRAPH = "graph"
    UPDATE_HAZARD = "update-hazard"
    REACHABILITY = "reachability"


@dataclass(frozen=True)
class Finding:
    """One problem: the resource, the input path, the value, the rule, the rule's source and a severity."""

    resource: str
    type: str
    path: str
    value: Any
    rule: str
    rule_class: RuleClass
    source: str
    message: str
    severity: Severity = Severity.ERROR
    waived_by: str = ""

    @property
    def key(self) -> str:
        """What a waiver names: ``<resource>:<rule>``."""
        return f"{self.resource}:{self.rule}"

    def to_json(self) -> dict[str, Any]:
        """The finding in ``check --json``."""
        return {
            "resource": self.resource, "type": self.type, "path": self.path, "value": _plain(self.value),
            "rule": self.rule, "class": str(self.rule_class), "severity": str(self.severity),
            "message": self.message, "source": self.source, "waived": self.waived_by or None,
        }

    def line(self) -> str:
        """The finding as one line of text (and its source on the next)."""
        shown = json.dumps(_plain(self.value))
        shown = shown if len(shown) <= 100 else shown[:97] + "..."
        waived = f" [waived: {self.waived_by}]" if self.waived_by else ""
        return (f"{self.severity}: {self.resource} {self.path} = {shown}: {self.message} ({self.rule}){waived}\n"
                f"    source: {self.source}")


def _plain(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


@dataclass(frozen=True)
class Waiver:
    """A finding accepted on purpose: ``<resource>:<rule>`` and the reason, kept in the stack config."""

    resource: str
    rule: str
    reason: str

    @property
    def key(self) -> str:
        """The finding key it waives."""
        return f"{self.resource}:{self.rule}"


@dataclass(frozen=True)
class Report:
    """Everything the check found in one plan, and what it could and could not check."""

    project: str
    stack: str
    resources: int
    checked: int
    unchecked_types: dict[str, int]
    findings: tuple[Finding, ...]
    waivers: tuple[Waiver, ...] = ()
    unused_waivers: tuple[Waiver, ...] = field(default=())

    def count(self, severity: Severity, *, waived: bool = False) -> int:
        """How many findings of a severity are (or are not) waived."""
        return sum(1 for f in self.findings if f.severity is severity and bool(f.waived_by) == waived)

    @property
    def failed(self) -> bool:
        """Any error, or any warning not waived (an error cannot be waived: AWS would still refuse it)."""
        return any(f.severity is Severity.ERROR or not f.waived_by for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """The ``check --json`` document."""
        return {
            "project": self.project, "stack": self.stack, "resources": self.resources, "checked": self.checked,
            "uncheckedTypes": self.unchecked_types,
            "counts": {s.value: self.count(s) for s in Severity} | {"waived": sum(1 for f in self.findings if f.waived_by)},
            "findings": [f.to_json() for f in self.findings],
            "waivers": [{"finding": w.key, "reason": w.reason} for w in self.waivers],
            "unusedWaivers": [w.key for w in self.unused_waivers],
            "failed": self.failed,
        }

    def render(self) -> str:
        """The report as text: counts, unchecked types, findings, waivers."""
        out = [f"Check of {self.project}/{self.stack}: {self.resources} resources, {self.checked} checked against "
               f"AWS's service models"]
        if self.unchecked_types:
            out.append(f"unchecked types ({sum(self.unchecked_types.values())} resources, no create-call mapping):")
            out.extend(f"  {t} ({n})" for t, n in sorted(self.unchecked_types.items()))
        out.append(f"findings: {self.count(Severity.ERROR)} error(s), {self.count(Severity.WARNING)} warning(s) "
                   f"not waived, {self.count(Severity.WARNING, waived=True)} waived")
        out.extend(f.line() for f in self.findings)
        if self.waivers:
            out.append("waivers (check:waivers in the stack config):")
            out.extend(f"  {w.key}: {w.reason}" for w in self.waivers)
        out.extend(f"  unused waiver (nothing matches it): {w.key}" for w in self.unused_waivers)
        out.append("result: " + ("FAILED" if self.failed else "clean"))
        return "\n".join(out)
