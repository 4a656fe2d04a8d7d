"""What the delivery declares per stack, and how tightly the workflow's rights are drawn.

Counts, not timings: resources each stack manages for delivery (the owner stack holds
the repository-wide ones), and per workflow the share of jobs that may request an OIDC
token, the share that write anything with GITHUB_TOKEN, and the longest job timeout.
"""

from __future__ import annotations

import yaml


def run() -> list[dict[str, object]]:
    """One row per stack: delivery resources, and for the owner stack the workflow's figures."""
    from offline import evaluate_stack
    from offline.stacks import ProjectFiles

    rows: list[dict[str, object]] = []
    for stack in ProjectFiles.here().stacks():
        plan = evaluate_stack(stack)
        delivery = [r for r in plan.resources if r.custom and r.name.startswith("delivery-")]
        row: dict[str, object] = {
            "bench": "delivery",
            "stack": stack,
            "resources": len(delivery),
            "github_resources": sum(r.type.startswith("github:") for r in delivery),
            "aws_resources": sum(r.type.startswith("aws:") for r in delivery),
        }
        files = [r for r in plan.of_type("github:index/repositoryFile:RepositoryFile") if r.inputs.get("branch") == "main"]
        if files:
            jobs = yaml.safe_load(files[0].inputs["content"])["jobs"]
            row["jobs"] = len(jobs)
            row["jobs_with_oidc_token"] = sum(j["permissions"].get("id-token") == "write" for j in jobs.values())
            writes = [any(v == "write" for k, v in j["permissions"].items() if k != "id-token") for j in jobs.values()]
            row["jobs_writing_with_github_token"] = sum(writes)
            row["max_timeout_minutes"] = max(j["timeout-minutes"] for j in jobs.values())
            row["workflow_lines"] = len(str(files[0].inputs["content"]).splitlines())
        rows.append(row)
    return rows
