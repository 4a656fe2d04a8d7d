"""The data tier's footprint per stack: what it adds to a plan and what a release touches.

Counts, not times: resources the tier registers and their share of the stack,
the secrets the execution role may read, credentials found in any container's
plain environment (the target is 0), and what a candidate version change
touches, in total and inside the tier (the target is the migration task only).
"""

from __future__ import annotations

import json
from typing import Any

CREDENTIAL_WORDS = ("PASSWORD", "TOKEN", "SECRET", "USER", "KEY")
DATA_PREFIXES = ("webapp-database", "webapp-cache", "webapp-migration")


def _plain_credentials(plan: Any) -> int:
    found = 0
    for task in plan.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        for container in json.loads(task.inputs["containerDefinitions"]):
            found += sum(1 for e in container["environment"] if any(w in e["name"] for w in CREDENTIAL_WORDS))
    return found


def _readable_secrets(plan: Any) -> int:
    policy = next(r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy") if r.name == "webapp-fleet-roles-execution")
    statements = json.loads(policy.inputs["policy"])["Statement"]
    return sum(len(s["Resource"]) for s in statements if s["Action"] == "secretsmanager:GetSecretValue")


def run() -> list[dict[str, object]]:
    """One row per stack."""
    from offline import evaluate_stack
    from offline.diff import diff
    from offline.stacks import ProjectFiles

    rows: list[dict[str, object]] = []
    for stack in ProjectFiles.here().stacks():
        plan = evaluate_stack(stack)
        candidate = plan.outputs["candidate_colour"]
        changed = evaluate_stack(stack, [(f"release:versions.{candidate}", "bench0001")])
        touched = [d.name for d in diff(plan, changed).touched]
        tier = [r for r in plan.resources if r.name.startswith(DATA_PREFIXES)]
        rows.append({
            "benchmark": "data tier",
            "stack": stack,
            "resources": len(tier),
            "share_of_plan": round(len(tier) / len(plan.resources), 2),
            "readable_secrets": _readable_secrets(plan),
            "plain_env_credentials": _plain_credentials(plan),
            "candidate_change_touched": len(touched),
            "candidate_change_touched_in_tier": sorted({n for n in touched if n.startswith(DATA_PREFIXES)}),
        })
    return rows
