"""Today's escaping IAM configuration: what both stacks created before delegation was bounded.

``tests/fixtures/iam/escaping_today.json`` holds every IAM resource of both stacks' plans as they were
(the GitHub deploy roles able to create roles under a boundary without the environment deny, the Pulumi
Deployments roles with IAMFullAccess), so the analysers are shown finding what they must find.
"""

from __future__ import annotations

import json
from pathlib import Path

from offline import Plan
from offline.plan import PlannedResource

FIXTURE = Path(__file__).parent / "fixtures" / "iam" / "escaping_today.json"


def plans_of_today() -> dict[str, Plan]:
    """Each stack's IAM resources as today's code planned them."""
    data = json.loads(FIXTURE.read_text())
    return {
        stack: Plan("release-platform", stack, tuple(
            PlannedResource(urn=f"urn:pulumi:{stack}::release-platform::{row['type']}::{row['name']}", type=row["type"],
                            name=row["name"], parent=None, custom=True, inputs=row["inputs"], outputs=row["outputs"])
            for row in rows), {})
        for stack, rows in data.items()
    }


def iam_resources(*plans: Plan) -> list[PlannedResource]:
    """The IAM resources of one account holding these stacks."""
    return [r for plan in plans for r in plan.resources if r.type.startswith("aws:iam/")]
