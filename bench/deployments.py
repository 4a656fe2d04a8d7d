"""What push-to-deploy would do with this repository's own history, and what each stack declares for it.

Counts, not timings: for every non-merge commit reachable from HEAD, whether its
changed files would start a deployment under the stack's path filters, so the
share of pushes the documentation filter saves is measured on real history.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commit_files() -> list[list[str]]:
    """The files changed by each non-merge commit reachable from HEAD."""
    out = subprocess.run(  # noqa: S603
        ["git", "log", "--no-merges", "--name-only", "--format=%x00"],  # noqa: S607
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return [[line for line in chunk.splitlines() if line] for chunk in out.split("\x00")[1:]]


def run() -> list[dict[str, object]]:
    """One row a stack: deployments resources, and commits that would deploy versus be skipped."""
    from offline import evaluate_stack
    from offline.path_filters import push_deploys
    from offline.stacks import ProjectFiles

    commits = [files for files in commit_files() if files]
    rows: list[dict[str, object]] = []
    for stack in ProjectFiles.here().stacks():
        plan = evaluate_stack(stack)
        ours = [r for r in plan.resources if r.custom and r.name.startswith("deployments-")]
        settings = plan.of_type("pulumiservice:index:DeploymentSettings")
        filters = list(settings[0].inputs["vcs"].get("paths") or []) if settings else []
        deploying = sum(push_deploys(filters, files) for files in commits)
        rows.append({
            "bench": "deployments",
            "stack": stack,
            "resources": len(ours),
            "pulumiservice_resources": sum(r.type.startswith("pulumiservice:") for r in ours),
            "path_filters": len(filters),
            "commits": len(commits),
            "commits_deploying": deploying,
            "commits_skipped": len(commits) - deploying,
        })
    return rows
