"""The releases of a stack, from its update history and the release records kept in its config.

Every update records the config it ran with, and a finished release's record
(``release:lastRelease``) stays in the config until the next release ends. So
the update that first carries a record is the one that ended that release: its
stack version is the release's. The release in progress, if any, comes first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from components.config.release_record import ReleaseRecord
from release.engine import HistoryEntry
from release.state import record as records

IN_PROGRESS = "in progress"


@dataclass(frozen=True)
class Row:
    """One release as the ``history`` table shows it."""

    stack_version: int | None
    """The stack version of the update that ended the release; None while it runs."""
    release: str
    version: str
    previous: str
    colour: str
    strategy: str
    highest_weight: int
    outcome: str
    duration_seconds: float | None
    started_by: str
    started_at: str
    snapshot: str | None
    migration: str | None
    reversible: bool | None
    rollback_to: int | None
    reason: str | None
    staging_skipped: str | None = None
    """Why a production release skipped the staging gate, when it did."""
    backup: str | None = None
    """What became of the old colour after the backup window: ``scaled-down`` or ``kept: <why>``."""

    def to_json(self) -> dict[str, Any]:
        """The row as plain data."""
        return asdict(self)


def ended_at(history: Sequence[HistoryEntry], current: Mapping[str, str] | None = None) -> dict[str, tuple[int, ReleaseRecord]]:
    """Release id -> (stack version of the update that ended it, its record); see ``record.ended_in``."""
    return records.ended_in(history, current)


def _row(stack_version: int | None, record: ReleaseRecord) -> Row:
    duration = (record.finished_at - record.started_at).total_seconds() if record.finished_at else None
    run = record.migration
    return Row(
        stack_version=stack_version,
        release=record.id,
        version=record.version,
        previous=record.previous,
        colour=record.colour.value,
        strategy=record.strategy.value,
        highest_weight=record.highest_weight,
        outcome=record.outcome.value if record.outcome else IN_PROGRESS,
        duration_seconds=duration,
        started_by=record.started_by,
        started_at=record.started_at.isoformat(),
        snapshot=record.snapshot,
        migration=None if run is None else f"{run.task} (exit {run.exit_code})",
        reversible=None if run is None else run.reversible,
        rollback_to=record.rollback_to,
        reason=record.reason,
        staging_skipped=record.staging_skipped,
        backup=None if record.backup is None else (
            record.backup.state.value if record.backup.state.value == "scaled-down" else f"kept: {record.backup.why}"),
    )


def rows(history: Sequence[HistoryEntry], config: Mapping[str, str]) -> list[Row]:
    """Every release, newest first; the one in progress (from the current config) on top."""
    table = [_row(version, record) for version, record in ended_at(history, config).values()]
    table.sort(key=lambda r: r.stack_version or 0, reverse=True)
    running = records.decode(config.get(records.IN_PROGRESS))
    if running is not None and running.id not in {r.release for r in table}:
        table.insert(0, _row(None, running))
    return table


def irreversible_since(
    history: Sequence[HistoryEntry], stack_version: int, current: Mapping[str, str] | None = None,
) -> list[tuple[int, ReleaseRecord]]:
    """Releases ended after ``stack_version`` whose migration ran and is recorded as irreversible, oldest first."""
    found = [
        (version, record) for version, record in ended_at(history, current).values()
        if version > stack_version and record.migration is not None
        and record.migration.exit_code == 0 and not record.migration.reversible
    ]
    return sorted(found, key=lambda item: item[0])


def duration(seconds: float | None) -> str:
    """A duration for the table: ``12m 30s``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
