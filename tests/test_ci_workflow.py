"""This repository's own CI workflow: every action pinned to a commit, the same commit the program pins."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from components import pipeline
from components.workflows import Action

ROOT = Path(__file__).resolve().parent.parent
SHA = re.compile(r"^[0-9a-f]{40}$")
PINNED = {a.repository: a for a in vars(pipeline).values() if isinstance(a, Action)}


def _uses(path: Path) -> list[str]:
    workflow = yaml.safe_load(path.read_text())
    return [step["uses"] for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step]


def test_every_action_of_our_own_workflows_is_pinned_to_the_programs_commit() -> None:
    files = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert files
    for path in files:
        for uses in _uses(path):
            name, _, ref = uses.partition("@")
            assert SHA.match(ref), f"{path.name}: {uses} is pinned by a tag or branch, not a commit"
            assert name in PINNED, f"{path.name}: {name} is not among the program's pinned actions"
            assert ref == PINNED[name].sha, f"{path.name}: {name}@{ref} differs from the program's {PINNED[name].sha}"
