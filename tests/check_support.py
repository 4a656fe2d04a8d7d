"""Small plans built by hand, so each check test plants exactly one bad input."""

from __future__ import annotations

import json
from typing import Any

from offline.check import Report, check_plan
from offline.plan import Plan, PlannedResource

STACK = "urn:pulumi:test::release-platform::"


def urn(type_: str, name: str) -> str:
    """The URN of a top-level resource of the test stack."""
    return f"{STACK}{type_}::{name}"


def res(type_: str, name: str, inputs: dict[str, Any], *, deps: dict[str, list[str]] | None = None,
        also: tuple[str, ...] = (), ignore: tuple[str, ...] = ()) -> PlannedResource:
    """A resource; ``deps`` maps an input to the URNs it refers to, ``also`` adds depends_on URNs."""
    deps = deps or {}
    every = sorted({u for us in deps.values() for u in us} | set(also))
    return PlannedResource(urn=urn(type_, name), type=type_, name=name, parent=None, custom=True, inputs=inputs,
                           dependencies=tuple(every), property_dependencies={k: tuple(v) for k, v in deps.items()},
                           ignore_changes=ignore)


def plan(*resources: PlannedResource, outputs: dict[str, Any] | None = None) -> Plan:
    """A plan of the test stack."""
    return Plan(project="release-platform", stack="test", resources=tuple(resources), outputs=outputs or {})


def rules_of(report: Report) -> set[str]:
    """The rule ids of every finding."""
    return {f.rule for f in report.findings}


def check(*resources: PlannedResource, outputs: dict[str, Any] | None = None, **config: str) -> Report:
    """Check a hand-built plan with a flat config (``traffic__domainName="app.example.com"``)."""
    return check_plan(plan(*resources, outputs=outputs), {k.replace("__", ":"): v for k, v in config.items()})


def policy(*statements: dict[str, Any]) -> str:
    """An IAM policy document."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
