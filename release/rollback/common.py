"""What every rollback shares: its refusal, its result, the stack's release config and the figures it reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.config import Colour, ConfigError, ReleaseConfig, load
from components.config.release_record import Outcome, Phase, ReleaseRecord
from release.context import Context
from release.errors import BadInputError


class RollbackRefusedError(Exception):
    """A rollback that was not done: what, why, and the command to run instead."""

    def __init__(self, what: str, why: str, next_command: str) -> None:
        super().__init__(f"{what}: {why}")
        self.what = what
        self.why = why
        self.next_command = next_command


@dataclass(frozen=True)
class RollbackResult:
    """What a fast rollback did."""

    action: str
    """``aborted`` (a canary's candidate back to 0), ``flipped`` (live back to the previous colour) or ``rolled``
    (a rolling stack's live colour back to the previous version)."""
    live: Colour
    version: str
    """The version live serves now."""
    weights: dict[str, int]
    """What the listener serves, read back after the update."""
    record: ReleaseRecord
    updates: int = 1
    touched: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


def current_release(ctx: Context) -> ReleaseConfig:
    """The stack's release config; a refusal naming every problem when it is invalid."""
    try:
        return load(ctx.engine.get_config(), ctx.stack).release
    except ConfigError as exc:
        # Invalid config is bad input (exit 2) wherever it is met, as for every other command.
        message = f"the stack config of {ctx.stack} is invalid: " + "; ".join(exc.problems) + f"; fix the config of {ctx.stack}"
        raise BadInputError(message) from exc


def check_config(ctx: Context, changes: dict[str, str]) -> None:
    """Refuse, before anything changes, a rollback whose config today's validation rejects."""
    merged = {**ctx.engine.get_config(), **changes}
    try:
        load(merged, ctx.stack)
    except ConfigError as exc:
        msg = "rollback"
        raise RollbackRefusedError(msg, "the rolled-back config would be invalid: " + "; ".join(exc.problems),
                                   f"fix the config of {ctx.stack}") from exc


def updates(ctx: Context) -> int:
    """How many updates the stack has had: its newest update's version (every update, refresh or destroy takes the next)."""
    latest = ctx.engine.history(1)
    return latest[0].version if latest else 0


def touched(ctx: Context) -> int:
    """How many resources the latest update changed."""
    latest = ctx.engine.history(1)
    if not latest:
        return 0
    return sum(n for op, n in latest[0].counts.items() if op != "same")


def served(ctx: Context) -> dict[str, int]:
    """What the listener serves, per colour, in percent (read back from AWS)."""
    outputs: dict[str, Any] = ctx.engine.outputs()
    raw = ctx.aws.elbv2.forward_weights(str(outputs.get("listener_arn", "")))
    by_arn = {str(arn): colour for colour, arn in (outputs.get("target_group_arns") or {}).items()}
    total = sum(raw.values()) or 1
    return {by_arn.get(arn, arn): round(100 * w / total) for arn, w in raw.items()}


def last_promoted(release: ReleaseConfig, stack: str, next_command: str) -> ReleaseRecord:
    """The last release, which a rollback undoes; refused with ``next_command`` when none ran or it did not promote."""
    last = release.last_release
    if last is None or last.outcome is not Outcome.PROMOTED:
        state = "no release has run" if last is None else f"the last release, {last.id} of {last.version}, ended {last.outcome}"
        msg = "rollback"
        raise RollbackRefusedError(msg, f"nothing to roll back on {stack}: no release is in progress and {state}", next_command)
    return last


ROLLBACK_PREFIX = "rb-"
"""The id of every rollback's own record starts with this."""


def is_rollback(record: ReleaseRecord) -> bool:
    """Whether a record is a rollback's own (its ``previous`` is the version rolled away from, not one to go back to)."""
    return record.id.startswith(ROLLBACK_PREFIX)


def rollback_record(ctx: Context, last: ReleaseRecord, colour: Colour, why: str) -> ReleaseRecord:
    """The rollback's own record: ``last.previous`` served by ``colour`` at 100%, undoing ``last``."""
    started = ctx.clock.now()
    return ReleaseRecord.model_validate({
        "id": f"{ROLLBACK_PREFIX}{started:%Y%m%dt%H%M%S}-{''.join(c for c in last.previous if c.isalnum())[:12]}",
        "version": last.previous, "colour": colour, "previous": last.version, "strategy": last.strategy,
        "startedAt": started, "startedBy": ctx.by, "phase": Phase.PROMOTED, "weight": 100, "highestWeight": 100,
        "reason": f"{why}: undid release {last.id} of {last.version}"[:500],
    })
