"""Committed files for a reviewer: a workflow as its path and one line per job, a changed file as a line diff.

The plan shows what the program will commit to the application repository; a
reviewer wants to see which jobs run when, in which environment and with what rights,
without reading the YAML.
"""

from __future__ import annotations

from typing import Any

import yaml

from offline.plan import Plan, PlannedResource


def _job_line(job_id: str, job: dict[str, Any]) -> str:
    parts = [f"job {job_id}"]
    if job.get("needs"):
        needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
        parts.append(f"needs {', '.join(map(str, needs))}")
    if job.get("environment"):
        parts.append(f"environment {job['environment']}")
    if job.get("if"):
        parts.append(f"if {job['if']}")
    permissions = job.get("permissions")
    if isinstance(permissions, dict):
        parts.append("permissions " + (", ".join(f"{k}: {v}" for k, v in permissions.items()) or "none"))
    if job.get("timeout-minutes") is not None:
        parts.append(f"timeout {job['timeout-minutes']} min")
    return "; ".join(parts)


def summarise_workflow(resource: PlannedResource, plan: Plan) -> list[str]:
    """Lines for a ``RepositoryFile``: its path and branch, and for a workflow file one line per job."""
    path = str(resource.inputs.get("file", ""))
    branch = resource.inputs.get("branch") or "(default branch)"
    lines = [f"file {path} on {branch}"]
    if not path.startswith(".github/workflows/"):
        return lines
    try:
        workflow = yaml.safe_load(str(resource.inputs.get("content", "")))
    except yaml.YAMLError as exc:
        return [*lines, f"content is not valid YAML: {exc}"]
    jobs = workflow.get("jobs") if isinstance(workflow, dict) else None
    if not isinstance(jobs, dict):
        return [*lines, "no jobs"]
    lines.extend(_job_line(str(job_id), job) for job_id, job in jobs.items() if isinstance(job, dict))
    return lines


def text_change(old: Any, new: Any, limit: int = 40) -> list[str]:
    """A changed multi-line text (a committed file's content) as the unified diff of its lines."""
    import difflib

    lines = list(difflib.unified_diff(str(old).splitlines(), str(new).splitlines(), "before", "after", lineterm="", n=1))
    shown = lines[2:limit + 2]
    if len(lines) - 2 > limit:
        shown.append(f"... {len(lines) - 2 - limit} more line(s)")
    return shown
