"""Run the whole pack over an offline plan, the way the engine would during ``pulumi preview``.

Each planned resource becomes the ``ResourceValidationArgs`` the engine builds
(its type, registered inputs, URN, name and ``protect``); stack policies see
every resource with its planned outputs. Enforcement comes from the stack's
policy config file, exactly as ``--policy-pack-config`` gives it to the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from offline.plan import Plan, PlannedResource
from policy.enforcement import level_of, load_config
from policy.policies import POLICIES, PackPolicy, ResourcePolicy


@dataclass(frozen=True)
class Finding:
    """One violation: which policy, how strictly it is enforced here, which resource, and what is wrong."""

    policy: str
    enforcement: str
    urn: str
    message: str

    @property
    def mandatory(self) -> bool:
        """Whether this finding would stop ``pulumi up``."""
        return self.enforcement == EnforcementLevel.MANDATORY.value

    def to_json(self) -> dict[str, str]:
        """The finding as ``plan --policy --json`` shows it."""
        return {"policy": self.policy, "enforcement": self.enforcement, "urn": self.urn, "message": self.message}


def options(resource: PlannedResource) -> PolicyResourceOptions:
    """The resource options the engine reports for a planned resource."""
    return PolicyResourceOptions(
        protect=resource.protect, ignore_changes=[], delete_before_replace=None, aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[], parent=resource.parent,
    )


def resource_args(resource: PlannedResource) -> ResourceValidationArgs:
    """What a resource policy receives for a planned resource: its inputs, as the engine analyzes them."""
    return ResourceValidationArgs(resource.type, resource.inputs, resource.urn, resource.name, options(resource), None)


def stack_resources(plan: Plan) -> list[PolicyResource]:
    """What a stack policy receives: every custom resource with its planned outputs."""
    return [
        PolicyResource(r.type, {**r.inputs, **r.outputs}, r.urn, r.name, options(r), None, None, [], {})
        for r in plan.resources if r.custom
    ]


def _run(policy: PackPolicy, plan: Plan, resources: Sequence[PolicyResource]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(policy, ResourcePolicy):
        for res in plan.resources:
            if res.custom and res.type in policy.types:
                policy.validate(resource_args(res), _collect(found, res.urn))
    else:
        policy.validate(StackValidationArgs(list(resources)), _collect(found, ""))
    return found


def _collect(found: list[tuple[str, str]], default_urn: str) -> ReportViolation:
    # A resource policy's reports are about the resource it was given, whatever urn it passes.
    def report(message: str, urn: str | None = None) -> None:
        found.append((default_urn or urn or "", message))

    return report


def evaluate_policies(
    plan: Plan, config: Mapping[str, Any] | None = None, policies: Sequence[PackPolicy] = POLICIES,
) -> list[Finding]:
    """Every finding of the pack over a plan; ``config`` defaults to the plan's stack's policy config file."""
    config = load_config(plan.stack) if config is None else config
    resources = stack_resources(plan)
    findings: list[Finding] = []
    for policy in policies:
        level = level_of(policy, config)
        if level is EnforcementLevel.DISABLED:
            continue
        findings.extend(Finding(policy.name, level.value, urn, message) for urn, message in _run(policy, plan, resources))
    return findings


def render_findings(findings: Sequence[Finding], plan: Plan) -> str:
    """The findings as a reviewer reads them under the plan."""
    mandatory = sum(f.mandatory for f in findings)
    out = [f"Policy findings for {plan.project}/{plan.stack}: {mandatory} mandatory, {len(findings) - mandatory} advisory"]
    names = {r.urn: r.name for r in plan.resources}
    for finding in sorted(findings, key=lambda f: (not f.mandatory, f.policy, f.urn)):
        target = names.get(finding.urn, finding.urn or "(stack)")
        out.append(f"  [{finding.enforcement}] {finding.policy} {target}: {finding.message}")
    if not findings:
        out.append("  no violations")
    return "\n".join(out)
