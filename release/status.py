"""The state of a stack's release: what the stack says, what AWS serves, and where they differ."""

from __future__ import annotations

from typing import Any

from components.config import Colour, ConfigError, load
from release import record as records
from release.analysis import alarm_names
from release.context import Aws
from release.engine import StackEngine


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
    return state
