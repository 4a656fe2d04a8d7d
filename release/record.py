"""Reading and writing a release's durable record in the stack config.

``release:inProgress`` holds the release being driven (written before its first
change, updated at each verified step); ``release:lastRelease`` holds the last
finished one with its outcome. Both are validated by the stack's own config
model, so a record the program would refuse is never written.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Mapping

from pydantic import ValidationError

from components.config import ReleaseConfig
from components.config.release_record import Outcome, Phase, ReleaseRecord
from release.clock import Clock
from release.engine import HistoryEntry, StackEngine

IN_PROGRESS = "release:inProgress"
LAST_RELEASE = "release:lastRelease"


def who() -> str:
    """Who is releasing: the CI run when there is one, else user@host."""
    run = os.environ.get("GITHUB_RUN_ID")
    if run:
        return f"github-actions run {run} ({os.environ.get('GITHUB_ACTOR', 'unknown')})"
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def new_record(config: ReleaseConfig, version: str, strategy: str, clock: Clock, by: str) -> ReleaseRecord:
    """The record of a release about to start."""
    started = clock.now()
    ident = f"r-{started:%Y%m%dt%H%M%S}-{''.join(c for c in version if c.isalnum())[:12]}"
    return ReleaseRecord.model_validate({
        "id": ident, "version": version, "colour": config.candidate, "previous": config.versions.of(config.live),
        "strategy": strategy, "startedAt": started, "startedBy": by,
    })


def encode(record: ReleaseRecord) -> str:
    """The record as the JSON value stored in config."""
    return record.model_dump_json(by_alias=True, exclude_none=True)


def decode(value: str | None) -> ReleaseRecord | None:
    """A record from its config value; None when absent or unreadable."""
    if not value:
        return None
    try:
        return ReleaseRecord.model_validate(json.loads(value))
    except (ValueError, ValidationError):
        return None


def in_progress(engine: StackEngine) -> ReleaseRecord | None:
    """The release in progress on the stack, if any."""
    return decode(engine.get_config().get(IN_PROGRESS))


def last_release(config: Mapping[str, str]) -> ReleaseRecord | None:
    """The last finished release in a config map."""
    return decode(config.get(LAST_RELEASE))


def advance(record: ReleaseRecord, phase: Phase | None = None, weight: int | None = None, **changes: object) -> ReleaseRecord:
    """A copy of the record with a new phase, verified weight or other fields."""
    update: dict[str, object] = dict(changes)
    if phase is not None:
        update["phase"] = phase
    if weight is not None:
        update["weight"] = weight
        update["highest_weight"] = max(record.highest_weight, weight)
    return record.model_copy(update=update)


def finished(record: ReleaseRecord, outcome: Outcome, clock: Clock, reason: str | None = None) -> ReleaseRecord:
    """The record of a release that has ended."""
    return record.model_copy(update={"outcome": outcome, "finished_at": clock.now(), "reason": reason[:500] if reason else None})


def releases(history: list[HistoryEntry]) -> list[ReleaseRecord]:
    """Every finished release recorded in the stack history, newest first, each once."""
    seen: set[str] = set()
    found: list[ReleaseRecord] = []
    for entry in history:
        record = last_release(entry.config)
        if record is not None and record.id not in seen:
            seen.add(record.id)
            found.append(record)
    return found
