"""A release's durable record, kept in the release state: ``release:inProgress`` and ``release:lastRelease``.

The driver writes the record of the release in progress before its first change
and updates it at every verified step, so ``status`` and ``abort`` work from
another shell and an interrupted release can be resumed. When the release ends,
the record moves to ``release:lastRelease`` with its outcome. Each update's
recorded config is in the stack history, so the history of releases is the
history of these two keys.

Every write is a compare-and-set: the writer re-reads the record and writes only
if it is still the one it holds (same ``id`` and ``revision``; each write counts
one more). A running driver also holds a ``lease`` (who, renewed when), so
``resume`` from another shell knows the release is being driven. A command from
another shell that ends the release (abort, promote, rollback) first marks it
with ``ending``, which stops the driver before its next write.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from components.config.base import ConfigModel, Problem, cross_field
from components.config.release_terms import Colour, ImageTag, Strategy

ReleaseId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]


class Phase(StrEnum):
    """How far a release has got; each is recorded once it is verified."""

    STARTED = "started"
    BACKED_UP = "backed-up"
    DEPLOYED = "deployed"
    MIGRATED = "migrated"
    SMOKE_TESTED = "smoke-tested"
    SHIFTING = "shifting"
    PROMOTED = "promoted"


class Outcome(StrEnum):
    """How a release ended."""

    PROMOTED = "promoted"
    ABORTED = "aborted"
    REFUSED = "refused"
    ROLLED_BACK = "rolled-back"


class Lease(ConfigModel):
    """Who is driving a release, renewed while they do."""

    holder: str = Field(min_length=1, max_length=160)
    """The driver: who ran it (user@host or the CI run) and its process id. Required."""
    renewed_at: datetime
    """When the holder last renewed the lease (UTC). Required."""


class Ending(ConfigModel):
    """A release being ended by a command from another shell, recorded before that command changes anything."""

    outcome: Outcome
    """How it is being ended: ``aborted``, ``promoted`` or ``rolled-back``. Required."""
    by: str = Field(min_length=1, max_length=160)
    """Who ended it. Required."""
    at: datetime
    """When they started to (UTC). Required."""


class MigrationRun(ConfigModel):
    """The migration task a release ran."""

    task: str = Field(min_length=1)
    """ARN of the ECS task. Required."""
    exit_code: int | None = None
    """The container's exit code; None when it never stopped. Default None."""
    reversible: bool = True
    """Whether its rollback command undoes it. Default true."""


class BackupState(StrEnum):
    """What became of the previous live colour after the backup window."""

    SCALING_DOWN = "scaling-down"
    """The scale-down is written (``release:candidateTasks`` back to standby) but its stack update is not known to have
    applied: a driver killed there leaves the old colour running its tasks, and ``status`` says so."""
    SCALED_DOWN = "scaled-down"
    KEPT = "kept"


class Backup(ConfigModel):
    """The previous live colour after a promotion: kept running as the backup, then scaled down or kept."""

    colour: Colour
    """The previous live colour. Required."""
    until: datetime
    """When the backup window ended or was to end (UTC). Required."""
    state: BackupState
    """``scaled-down`` (the new live stayed healthy with no alarm), ``kept`` (it did not), or ``scaling-down`` (the
    scale-down was written and its update had not applied when the record was last written). Required."""
    at: datetime
    """When the driver decided (UTC). Required."""
    why: str = Field(min_length=1, max_length=500)
    """What the driver saw. Required."""


STARTED_BY_LENGTH = 128
"""The longest ``startedBy`` a record holds: who started a release, as people read it in ``status``."""


class ReleaseRecord(ConfigModel):
    """One release: what it shipped where, how far it got and how it ended."""

    id: ReleaseId
    """Unique id of the release, e.g. ``r-20261126t061500-3f9c2e1a``. Required."""
    version: ImageTag
    """The image tag being released. Required."""
    colour: Colour
    """The candidate colour the version is put on. Required."""
    previous: ImageTag
    """The version the live colour ran when the release started. Required."""
    strategy: Strategy
    """The strategy the release follows. Required."""
    started_at: datetime
    """When the release started (UTC). Required."""
    started_by: str = Field(min_length=1, max_length=STARTED_BY_LENGTH)
    """Who started it (user@host, or the CI run). Required."""
    phase: Phase = Phase.STARTED
    """The last verified phase. Default ``started``."""
    weight: int = Field(default=0, ge=0, le=100)
    """The candidate's last verified weight. Default 0."""
    highest_weight: int = Field(default=0, ge=0, le=100)
    """The highest candidate weight verified during the release. Default 0."""
    snapshot: str | None = None
    """The database snapshot taken before the release. Default none."""
    migration: MigrationRun | None = None
    """The migration task run, if any. Default none."""
    outcome: Outcome | None = None
    """How the release ended; only in ``lastRelease``. Default none."""
    finished_at: datetime | None = None
    """When the release ended. Default none."""
    reason: str | None = Field(default=None, max_length=500)
    """Why it was aborted or refused. Default none."""
    staging_skipped: str | None = Field(default=None, max_length=500)
    """Production only: why this release skipped the staging gate (``--skip-staging --reason``). Default none."""
    steps: tuple[int, ...] | None = None
    """The candidate weights the release walks through, so a resumed release keeps them. Default none (the stack's steps)."""
    rollback_to: int | None = Field(default=None, ge=1)
    """The stack version whose release inputs this release restores (``rollback --to-version``). Default none."""
    bake_minutes: float | None = Field(default=None, ge=0, le=1440)
    """Minutes each step is observed, as the release was started with, so a resumed release keeps them. Default none (the stack's)."""
    backup: Backup | None = None
    """After a promotion: what became of the previous live colour at the end of ``release:backupMinutes``. Default none."""
    revision: int = Field(default=0, ge=0)
    """How many times the record was written; a writer writes only over the revision it read. Default 0."""
    lease: Lease | None = None
    """The driver running the release now, if any. Default none."""
    ending: Ending | None = None
    """Set by a command from another shell that is ending the release. Default none."""
    ended_by: str | None = Field(default=None, max_length=160)
    """Who ended the release (the driver itself or another shell). Default none."""

    @model_validator(mode="after")
    def _check(self) -> ReleaseRecord:
        problems: list[Problem] = []
        if self.weight > self.highest_weight:
            problems.append(Problem("highestWeight", self.highest_weight, f"must be at least weight ({self.weight})"))
        if (self.outcome is None) != (self.finished_at is None):
            problems.append(Problem(
                "finishedAt", self.finished_at, "a finished release has both outcome and finishedAt; one in progress neither",
            ))
        cross_field(problems)
        return self
