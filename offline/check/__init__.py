"""The offline check: a plan as AWS and the provider see it.

``check_plan`` runs six kinds of rule over a plan (service models, input rules,
IAM, the graph, update hazards, reachability and TLS), applies the stack's
waivers and returns a ``Report``. It needs no credentials and no driver.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from offline.check import graph, hazards, iam, inputs, reach, service_models
from offline.check.findings import Finding, Report, RuleClass, Severity, Waiver
from offline.check.waivers import BadWaiverError
from offline.check.waivers import load as load_waivers
from offline.plan import Plan

__all__ = ["BadWaiverError", "Finding", "Report", "RuleClass", "Severity", "Waiver", "check_plan", "load_waivers"]


def check_plan(plan: Plan, config: Mapping[str, str] | None = None) -> Report:
    """Check every resource of a plan; ``config`` is the stack's flat config (certificate domain, waivers)."""
    import offline.models  # noqa: F401 - registers every type's request mapping and rules

    config = config or {}
    waivers = load_waivers(config)
    found = [
        *service_models.check(plan), *inputs.check(plan), *iam.check(plan), *graph.check(plan), *hazards.check(plan),
        *reach.check(plan, config),
    ]
    by_key = {w.key: w for w in waivers}
    applied = []
    used: set[str] = set()
    for finding in found:
        waiver = by_key.get(finding.key)
        if waiver is not None and finding.severity is Severity.WARNING:
            used.add(waiver.key)
            applied.append(replace(finding, waived_by=waiver.reason))
            continue
        applied.append(finding)
    checked, unchecked = service_models.checked_types(plan)
    return Report(
        project=plan.project, stack=plan.stack, resources=len(plan.resources), checked=checked,
        unchecked_types=unchecked, findings=tuple(applied), waivers=waivers,
        unused_waivers=tuple(w for w in waivers if w.key not in used),
    )
