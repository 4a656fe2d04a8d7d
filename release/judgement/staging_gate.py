"""Staging before production: a production release takes only a version that staging promoted and held.

The gate reads staging's finished releases (its stack history, through the
engine) and allows version V when, newest first:

- staging's newest release of V was promoted;
- its migration ran there and succeeded, when production's release plans one
  (a version whose migration was never run on staging is untested on data);
- at least ``release:stagingSoakMinutes`` have passed since that promotion;
- the backup window after that promotion did not keep the old colour (the
  new version was unhealthy or in alarm there: ``release:backupMinutes``);
- nothing since rolled staging back or promoted another version (an aborted or
  refused release since changed nothing live, and does not count).

``--skip-staging --reason "..."`` overrides the gate; the reason is kept in the
release record and shown by ``history``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from components.config import ReleaseConfig
from components.config.release_record import BackupState, Outcome, ReleaseRecord
from release.engine import StackEngine
from release.errors import BadInputError, RefusedError
from release.state import record as records

# Updates of staging read first: about ten releases' worth.
GATE_WINDOW = 50


@dataclass(frozen=True)
class StagingVerdict:
    """Whether production may take a version, and why (naming staging's release when there is one)."""

    allowed: bool
    why: str
    release_id: str | None = None


def staging_verdict(
    releases: list[ReleaseRecord], version: str, *, soak: timedelta, needs_migration: bool, now: datetime,
) -> StagingVerdict:
    """Judge ``version`` against staging's finished releases (newest first)."""
    for index, found in enumerate(releases):
        if found.version != version:
            continue
        if found.outcome is not Outcome.PROMOTED or found.finished_at is None:
            outcome = found.outcome.value if found.outcome else "unfinished"
            return StagingVerdict(False, f"staging's last release of {version} ({found.id}) was {outcome}, not promoted",
                                  found.id)
        # A later promotion or rollback on staging ended V's time as live there; a later aborted or refused
        # release changed nothing live.
        later = [r for r in releases[:index] if r.outcome in (Outcome.PROMOTED, Outcome.ROLLED_BACK)]
        if later:
            ended = later[-1]
            what = "rolled back" if ended.outcome is Outcome.ROLLED_BACK else f"replaced by {ended.version} ({ended.id})"
            return StagingVerdict(False, f"staging promoted {version} ({found.id}) but it was since {what}", found.id)
        if needs_migration and (found.migration is None or found.migration.exit_code != 0):
            ran = "never ran" if found.migration is None else f"exited {found.migration.exit_code}"
            return StagingVerdict(False, f"the migration of {version} {ran} on staging ({found.id})", found.id)
        if found.backup is not None and found.backup.state is BackupState.KEPT:
            # Promoted, but the backup window on staging saw it unhealthy or in alarm: not held well.
            return StagingVerdict(
                False, f"staging promoted {version} ({found.id}) but kept its backup: {found.backup.why}", found.id,
            )
        held = now - found.finished_at
        if held < soak:
            left = soak - held
            return StagingVerdict(
                False, f"{version} has run on staging for {_minutes(held)} of the {_minutes(soak)} it must soak "
                f"({found.id}); {_minutes(left)} to go", found.id,
            )
        return StagingVerdict(True, f"staging promoted {version} ({found.id}) {_minutes(held)} ago with no rollback",
                              found.id)
    return StagingVerdict(False, f"staging has no release of {version}: release it there first")


def _minutes(span: timedelta) -> str:
    return f"{span // timedelta(minutes=1)} min"


def staging_verdict_of(staging: StackEngine, version: str, *, soak: timedelta, needs_migration: bool,
                       now: datetime) -> StagingVerdict:
    """Judge ``version`` against the finished releases in the staging stack's history, read through its engine.

    The history is read newest first, a window at a time (each four times the last), until it holds a release
    of ``version`` or the stack's first update: the verdict needs that release and everything after it.
    """
    config = staging.get_config()
    limit = GATE_WINDOW
    while True:
        history = staging.history(limit)
        found = records.releases(history, config)
        if len(history) < limit or any(r.version == version for r in found):
            return staging_verdict(found, version, soak=soak, needs_migration=needs_migration, now=now)
        limit *= 4


def needs_migration(outputs: dict[str, Any]) -> bool:
    """Whether a release of the stack with these outputs runs a migration task."""
    migration = outputs.get("migration")
    return isinstance(migration, dict) and bool(migration.get("task_definition_arn"))


def require_staging(
    stack: str, version: str, config: ReleaseConfig, outputs: dict[str, Any], staging: StackEngine, now: datetime,
) -> StagingVerdict:
    """The gate of a production release: the verdict when allowed; RefusedError naming staging's release otherwise."""
    if config.staging_stack == stack:
        message = f"release:stagingStack: got {stack!r}; the stack whose releases production follows cannot be {stack} itself"
        raise BadInputError(message)
    verdict = staging_verdict_of(
        staging, version, soak=timedelta(minutes=config.staging_soak_minutes), needs_migration=needs_migration(outputs), now=now,
    )
    if not verdict.allowed:
        msg = "staging gate"
        raise RefusedError(
            msg, verdict.why,
            f"release it on {config.staging_stack} first (`python -m release deploy --stack {config.staging_stack} --version "
            f"{version}`), or `python -m release deploy --stack {stack} --version {version} --skip-staging --reason \"...\"`",
        )
    return verdict
