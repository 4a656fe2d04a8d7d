"""The import steps in docs/github.md name resources exactly as the program registers them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from offline import Plan

DOC = Path(__file__).resolve().parent.parent / "docs" / "github.md"


def test_the_documented_import_file_matches_the_production_plan(plan_of: Callable[..., Plan]) -> None:
    match = re.search(r"```json\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert match, "docs/github.md has no import.json block"
    entries = json.loads(match.group(1))["resources"]
    plan = plan_of("production")
    by_name = {r.name: r for r in plan.resources}
    for entry in entries:
        planned = by_name.get(entry["name"])
        assert planned is not None, f"{entry['name']} is not in the plan"
        assert planned.type == entry["type"]
        assert planned.custom == ("id" in entry)
        parent = by_name[entry["parent"]].urn if "parent" in entry else None
        assert planned.parent == parent, entry["name"]
    # Every branch and the repository itself are covered: they exist before the first `pulumi up`.
    imported = {e["type"] for e in entries if "id" in e}
    assert imported == {"github:index/repository:Repository", "github:index/branchDefault:BranchDefault", "github:index/branch:Branch"}
