"""The state of a stack's release: what the stack says, what AWS serves, and where they differ."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from rich.console import Console

from components.config import Colour, ConfigError, Strategy, load
from components.config.release_record import BackupState, Outcome, ReleaseRecord
from release.aws.ecs import Rollouts
from release.context import Aws
from release.engine import StackEngine
from release.judgement.analysis import alarm_names
from release.state import record as records
from release.strategies.capacity import CANDIDATE_TASKS


def gather(engine: StackEngine, aws: Aws, stack: str) -> dict[str, Any]:
    """Stack outputs, AWS's answers and drift, as plain data."""
    outputs = engine.outputs()
    config = engine.get_config()
    state: dict[str, Any] = {
        "stack": stack,
        "live": outputs.get("live_colour"),
        "versions": outputs.get("versions"),
        "weights": outputs.get("weights"),
        "in_progress": None,
        "last_release": None,
        "drift": [],
    }
    problem = unreadable_record(config)
    if problem:
        state["in_progress_problem"] = problem
    try:
        release = load(config, stack).release
    except ConfigError as exc:
        state["config_problems"] = exc.problems
    else:
        current, last = release.in_progress, records.last_release(config)
        state["in_progress"] = current.model_dump(mode="json", by_alias=True, exclude_none=True) if current else None
        state["last_release"] = last.model_dump(mode="json", by_alias=True, exclude_none=True) if last else None
        expected = {c.value: release.weight_of(c) for c in Colour}
        if outputs.get("weights") and outputs["weights"] != expected:
            state["drift"].append(f"config asks for {expected} but the last update exported {outputs['weights']}: run an update")
    groups = outputs.get("target_group_arns") or {}
    if outputs.get("listener_arn"):
        raw = aws.elbv2.forward_weights(str(outputs["listener_arn"]))
        total = sum(raw.values()) or 1
        by_arn = {str(arn): colour for colour, arn in groups.items()}
        served = {by_arn.get(arn, arn): round(100 * w / total) for arn, w in raw.items()}
        state["served"] = served
        if outputs.get("weights") and served != outputs["weights"]:
            state["drift"].append(f"the stack exports weights {outputs['weights']} but the listener serves {served}")
    state["targets"] = {
        colour: [f"{t.id}:{t.state}" for t in aws.elbv2.target_health(str(arn))] for colour, arn in groups.items()
    }
    state["alarms"] = {
        c.value: aws.cloudwatch.alarm_states(alarm_names(outputs, c)) if alarm_names(outputs, c) else {} for c in Colour
    }
    services = outputs.get("service_names")
    if outputs.get("cluster_name") and isinstance(services, Mapping) and services:
        counts = {str(c): aws.ecs.running_count(str(outputs["cluster_name"]), str(n)) for c, n in services.items()}
        state["tasks"] = {c: {"running": r, "desired": d} for c, (r, d) in counts.items()}
    backup = _backup(config, stack, state.get("tasks") or {})
    if backup:
        state["backup"] = backup
    rolling = state["in_progress"] is not None and state["in_progress"].get("strategy") == Strategy.ROLLING.value
    if rolling and outputs.get("cluster_name") and isinstance(outputs.get("service_names"), Mapping):
        # A rolling release's truth is ECS's: which deployment is PRIMARY, with which task definition, in which state.
        colour = str(state["in_progress"]["colour"])
        service = str(outputs["service_names"].get(colour, ""))
        found = Rollouts(aws.ecs).deployments(str(outputs["cluster_name"]), service)
        state["deployments"] = {colour: [{"status": d.status, "taskDefinition": d.task_definition,
                                          "rolloutState": d.rollout_state, "reason": d.reason} for d in found]}
    return state


def _backup(config: Mapping[str, str], stack: str, tasks: Mapping[str, Mapping[str, int]]) -> dict[str, Any] | None:
    """The last release's backup window when it is not finished: a driver stopped in it, or killed in its scale-down.

    After a promotion the old colour keeps its tasks (``release:candidateTasks``) until the window's end decides
    (docs/releasing.md, "The backup window"): a promoted release with no decision while that count stands, or one
    whose scale-down was written (``scaling-down``) but not confirmed, is unfinished, and the old colour's tasks say
    what it really runs.
    """
    try:
        last = records.last_release(config)
    except ValueError:
        return None
    if last is None or last.outcome is not Outcome.PROMOTED or last.strategy is Strategy.ROLLING:
        return None
    old, live = last.colour.other, last.colour
    kept = config.get(CANDIDATE_TASKS, "0")
    runs = tasks.get(old.value)
    running = f"{old} runs {runs['running']} of {runs['desired']} task(s)" if runs else f"{old}'s tasks are not exported"
    rollback = f"python -m release rollback --stack {stack}"
    retire = (f"`pulumi env set <org>/release-platform/{stack}-release 'pulumiConfig[\"{CANDIDATE_TASKS}\"]' 0` and "
              f"`pulumi up -s {stack}`")
    if last.backup is None and kept != "0":
        return {
            "state": "unfinished", "colour": old.value, "release": last.id,
            "why": f"the backup window after release {last.id} did not finish: no decision is recorded, {running} as the "
                   f"backup ({CANDIDATE_TASKS} {kept}) and {live} is live",
            "next": f"{rollback} puts {old} live again; once {live} is trusted, retire the backup: {retire} "
                    "(docs/runbook.md, Post-deployment)",
        }
    if last.backup is not None and last.backup.state is BackupState.SCALING_DOWN:
        return {
            "state": "scaling-down", "colour": old.value, "release": last.id,
            "why": f"the scale-down of {old} after release {last.id} was written at {last.backup.at:%Y-%m-%d %H:%M:%S} UTC "
                   f"but its update was not confirmed: {running}",
            "next": f"`pulumi up -s {stack}` applies {CANDIDATE_TASKS} {kept}; {rollback} puts {old} live again instead",
        }
    return None


def unreadable_record(config: Mapping[str, str]) -> str | None:
    """What is wrong with ``release:inProgress`` when it is set but is no release record; None when absent or sound."""
    raw = config.get(records.IN_PROGRESS)
    if not raw:
        return None
    try:
        ReleaseRecord.model_validate(json.loads(raw))
    except ValueError as exc:
        # ValidationError is a ValueError; both name what is wrong.
        first = exc.errors()[0] if isinstance(exc, ValidationError) else {"loc": (), "msg": str(exc)}
        where = ".".join(str(part) for part in first["loc"]) or "the value"
        return (
            f"{records.IN_PROGRESS} is corrupt ({where}: {first['msg']}): a release may be in progress but its record "
            f"cannot be read; check what the listener serves, then fix or remove the key "
            f"(`pulumi config rm {records.IN_PROGRESS}`)"
        )
    return None


def show_status(console: Console, stack: str, state: Mapping[str, Any]) -> None:
    """The state for people; a corrupt record or invalid config is shown as such, never as "none"."""
    say = lambda text: console.print(text, markup=False)  # noqa: E731 - values may hold brackets
    say(f"{stack}: live {state['live']}, versions {state['versions']}, weights {state['weights']}")
    say(f"  listener serves: {state.get('served')}")
    for colour, targets in state["targets"].items():
        say(f"  {colour} targets: {', '.join(targets) or 'none registered'}")
    for colour, alarms in state["alarms"].items():
        say(f"  {colour} alarms: {', '.join(f'{n}={s}' for n, s in alarms.items()) or 'none'}")
    progress = state["in_progress"]
    if state.get("in_progress_problem"):
        shown = f"UNREADABLE: {state['in_progress_problem']}"
    elif progress:
        shown = f"{progress['id']} {progress['version']} at {progress['weight']}%"
    elif state.get("config_problems"):
        shown = "unknown: the stack config is invalid (below)"
    else:
        shown = "none"
    say(f"  in progress: {shown}")
    if progress and progress.get("ending"):
        ending = progress["ending"]
        say(f"  being {ending['outcome']} by {ending['by']} since {ending['at']}: run the same command again to finish it")
    elif progress and progress.get("lease"):
        say(f"  driven by {progress['lease']['holder']}, lease renewed {progress['lease']['renewedAt']}")
    for colour, counts in (state.get("tasks") or {}).items():
        say(f"  {colour} tasks: {counts['running']} running of {counts['desired']} desired")
    if state.get("backup"):
        say(f"  backup window {state['backup']['state']}: {state['backup']['why']}")
        say(f"  next: {state['backup']['next']}")
    for colour, found in (state.get("deployments") or {}).items():
        for d in found:
            say(f"  {colour} deployment: {d['status']} {d['taskDefinition']} {d['rolloutState'] or '-'} {d['reason']}".rstrip())
    for problem in state.get("config_problems") or []:
        say(f"  config problem: {problem}")
    for line in state["drift"]:
        say(f"  drift: {line}")
