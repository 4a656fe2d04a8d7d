"""Plan lines for Pulumi Deployments resources: what triggers an update, and when drift is checked."""

from __future__ import annotations

from typing import Any

from offline.plan import Plan, PlannedResource

_WEEKDAYS = {"*": "every day", "1-5": "Monday to Friday", "0,6": "weekends", "6,0": "weekends"}


def _dig(data: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def settings_lines(resource: PlannedResource, plan: Plan) -> list[str]:
    """Where a deployment's source comes from and what triggers one."""
    inputs = resource.inputs
    vcs = _dig(inputs, "vcs") or {}
    branch = _dig(inputs, "sourceContext", "git", "branch")
    folder = _dig(inputs, "sourceContext", "git", "repoDir") or "(repository root)"
    triggers = []
    if vcs.get("deployCommits"):
        triggers.append(f"update on push to {branch}")
    if vcs.get("previewPullRequests"):
        triggers.append("preview pull requests")
    lines = [
        f"source: {vcs.get('repository')} @ {branch}, folder {folder}",
        f"triggers: {', '.join(triggers) or 'none (manual only)'}",
    ]
    paths = vcs.get("paths") or []
    if paths:
        lines.append(f"path filters: {' '.join(paths)}")
    role = _dig(inputs, "operationContext", "oidc", "aws", "roleARN")
    if role:
        lines.append(f"AWS credentials: OIDC role {role}")
    return lines


def drift_lines(resource: PlannedResource, plan: Plan) -> list[str]:
    """The drift schedule in words, next to its cron."""
    cron = str(resource.inputs.get("scheduleCron", ""))
    fields = cron.split()
    when = cron
    if len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit() and fields[2] == fields[3] == "*":
        days = _WEEKDAYS.get(fields[4], f"days {fields[4]}")
        when = f"{days} at {int(fields[1]):02d}:{int(fields[0]):02d} UTC"
    action = "remediated (reverted by an update)" if resource.inputs.get("autoRemediate") else "reported only"
    return [f"drift detection: {when}; drift is {action}"]
