"""The staging stack a production rehearsal's gate reads: its release history, written the way the driver writes it.

The staging engine is an offline engine of the staging stack with its own
release state store. Its history is made by the same calls the driver makes when
it ends a release (``StepRunner.end``): the record marked as being ended and
written compare-and-set with the config change, one stack update, then the
finished record moved to ``release:lastRelease``. So the gate reads staging
through the same engine methods (``history``, ``get_config``) and the same
record parsing (``record.releases``) as it does for a real staging stack.

What staging holds, per scenario (``Scenario.staging``):

- ``held``: the version promoted, its migration run, ``soak + 30`` minutes ago;
- ``missing``: staging never released the version;
- ``recent``: promoted 10 minutes ago, under the soak;
- ``rolled-back``: promoted ``soak + 90`` minutes ago, then rolled back 30 minutes ago.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from components.config import StackConfig, load
from components.config.release_record import MigrationRun, Outcome, Phase, ReleaseRecord
from offline.stacks import ProjectFiles
from rehearsal.scenarios.releases import Scenario
from release.clock import ManualClock
from release.engine.offline import OfflineEngine
from release.errors import BadInputError, RefusedError
from release.judgement.staging_gate import require_staging
from release.state import record as records
from release.strategies.executor import Result

STATES = ("held", "missing", "recent", "rolled-back")
BY = "rehearsal (staging)"


def staging_with(stack: str, version: str, state: str, *, soak_minutes: int, now: datetime) -> tuple[OfflineEngine, str]:
    """The staging stack's engine holding ``state`` for ``version`` as of ``now``; and one line saying what it holds."""
    if state not in STATES:
        message = f"staging state {state!r}: allowed {', '.join(STATES)}"
        raise ValueError(message)
    clock = ManualClock(now - timedelta(minutes=soak_minutes + 120))
    engine = OfflineEngine(stack, ProjectFiles.here(), clock=clock)
    if state == "missing":
        return engine, f"{stack} never released {version}"
    ago = {"held": soak_minutes + 30, "recent": 10, "rolled-back": soak_minutes + 90}[state]
    clock.sleep((now - timedelta(minutes=ago) - clock.now()).total_seconds())
    promoted = _promote(engine, clock, version)
    if state != "rolled-back":
        return engine, f"{stack} promoted {version} ({promoted.id}) {ago} min ago, its migration ran there"
    clock.sleep((now - timedelta(minutes=30) - clock.now()).total_seconds())
    rolled = _roll_back(engine, clock, promoted)
    return engine, f"{stack} promoted {version} ({promoted.id}) {ago} min ago, then rolled it back ({rolled.id}) 30 min ago"


def _end(engine: OfflineEngine, clock: ManualClock, record: ReleaseRecord, outcome: Outcome, changes: Mapping[str, str],
         message: str, expect_last: str | None = None) -> ReleaseRecord:
    """End a release as ``StepRunner.end`` does: mark it (compare-and-set), update the stack, move it to lastRelease."""
    marked = records.commit(engine, None, records.ending(record, outcome, BY, clock), changes, exact=False,
                            expect_last=expect_last)
    assert marked is not None  # noqa: S101 - commit returns the record it was given
    engine.update(message)
    final = records.finished(records.advance(marked, Phase.PROMOTED, weight=100), outcome, clock, None, BY)
    records.commit(engine, marked, None, {records.LAST_RELEASE: records.encode(final)}, finish=True)
    return final


def _promote(engine: OfflineEngine, clock: ManualClock, version: str) -> ReleaseRecord:
    release = load(engine.get_config(), engine.stack).release
    candidate = release.candidate
    started = clock.now() - timedelta(minutes=25)
    record = ReleaseRecord.model_validate({
        "id": f"r-{started:%Y%m%dt%H%M%S}-staging", "version": version, "colour": candidate,
        "previous": release.versions.of(release.live), "strategy": release.strategy, "startedAt": started, "startedBy": BY,
        "phase": Phase.SMOKE_TESTED, "weight": 100, "highestWeight": 100,
        "migration": MigrationRun(task=f"arn:aws:ecs:eu-west-1:123456789012:task/{engine.stack}/migrate", exit_code=0),
    })
    versions = {"blue": release.versions.blue, "green": release.versions.green, candidate.value: version}
    changes = {"release:versions": _json(versions), "release:live": candidate.value, "release:canaryWeight": "0"}
    return _end(engine, clock, record, Outcome.PROMOTED, changes, f"release {record.id}: promote {candidate} ({version}) to live")


def _roll_back(engine: OfflineEngine, clock: ManualClock, last: ReleaseRecord) -> ReleaseRecord:
    now = clock.now()
    record = ReleaseRecord.model_validate({
        "id": f"rb-{now:%Y%m%dt%H%M%S}-staging", "version": last.previous, "colour": last.colour.other,
        "previous": last.version, "strategy": last.strategy, "startedAt": now, "startedBy": BY, "phase": Phase.PROMOTED,
        "weight": 100, "highestWeight": 100, "reason": f"rolled back on staging: undid release {last.id} of {last.version}",
    })
    changes = {"release:live": last.colour.other.value, "release:canaryWeight": "0"}
    return _end(engine, clock, record, Outcome.ROLLED_BACK, changes,
                f"rollback: {record.colour} ({record.version}) live again, undoing release {last.id}", expect_last=last.id)


def _json(values: Mapping[str, str]) -> str:
    return json.dumps(dict(values), separators=(",", ":"))


class StagingGate:
    """Production's staging gate in a rehearsal: the staging stack seeded as the scenario says, then ``require_staging``."""

    def __init__(self, stack: str, version: str, config: StackConfig, settings: Scenario, skip: str | None) -> None:
        if settings.staging_only and not config.is_production:
            message = f"--scenario {settings.name}: rehearses production's staging gate; use --stack production"
            raise BadInputError(message)
        self.stack, self.version, self.config, self.skip = stack, version, config, skip
        self.state = settings.staging
        self.holds: str | None = None
        self.why: str | None = None
        self.allowed: bool | None = None

    def refusal(self, outputs: dict[str, Any], now: datetime) -> Result | None:
        """None when the release may go on (not production, skipped, or staging held the version); else the refusal."""
        if not self.config.is_production or self.skip is not None:
            return None
        release = self.config.release
        staging, self.holds = staging_with(release.staging_stack, self.version, self.state,
                                           soak_minutes=release.staging_soak_minutes, now=now)
        try:
            verdict = require_staging(self.stack, self.version, release, outputs, staging, now)
        except RefusedError as exc:
            self.allowed, self.why = False, exc.why
            return Result(Outcome.REFUSED, None, exc.what, exc.why, exc.next_command)
        self.allowed, self.why = True, verdict.why
        return None

    def summary(self) -> dict[str, Any] | None:
        """What staging held, what the gate said, and the reason it was skipped."""
        if not self.config.is_production:
            return None
        return {"stack": self.config.release.staging_stack, "holds": self.holds, "allowed": self.allowed, "why": self.why,
                "skipped": self.skip}
