"""Reading and writing a release's durable record in the release state, compare-and-set.

``release:inProgress`` holds the release being driven (written before its first
change, updated at each verified step); ``release:lastRelease`` holds the last
finished one with its outcome. Both are validated by the stack's own config
model, so a record the program would refuse is never written.

Every write goes through ``commit``: re-read the release state with its tag,
check that the record there is the one the writer holds, write on that tag. A
tag that moved in between (somebody else wrote) means read again and re-check;
a record that is no longer the one held means the release was ended or changed
elsewhere, and ``ReleaseEndedError`` says by whom and how. Nothing is written
then.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta

from pydantic import ValidationError

from components.config import ReleaseConfig
from components.config.release_record import STARTED_BY_LENGTH, Ending, Lease, Outcome, Phase, ReleaseRecord
from release.clock import Clock
from release.engine import HistoryEntry, StackEngine
from release.state import StateConflictError

IN_PROGRESS = "release:inProgress"
LAST_RELEASE = "release:lastRelease"
# The longest a driver goes without writing its record is the migration step (its task may run
# 30 minutes, release/strategies/steps.py Migrate.timeout_seconds); the lease outlasts that. Bakes renew it.
LEASE = timedelta(minutes=35)
RENEW_AFTER = timedelta(minutes=5)
# A driver that finds its record marked by another shell waits this long for that shell's ending (one stack update
# and its verification) to finish or be put back, before it stops.
ENDING_WAIT = timedelta(minutes=10)
# A lease is judged by the driver's clock; before another shell takes one over it watches the record this long on its
# own clock: a live driver renews within RENEW_AFTER plus one poll of its bake (release/strategies/steps.py Bake).
WATCH = RENEW_AFTER + timedelta(minutes=2)
_ATTEMPTS = 8


def who() -> str:
    """Who is releasing: the CI run when there is one, else user@host; cut to what a record's ``startedBy`` holds."""
    run = os.environ.get("GITHUB_RUN_ID")
    if run:
        return f"github-actions run {run} ({os.environ.get('GITHUB_ACTOR', 'unknown')})"[:STARTED_BY_LENGTH]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    # A host name may be up to 253 characters (a fully qualified name): the driver still starts, named by its start.
    return f"{user}@{socket.gethostname()}"[:STARTED_BY_LENGTH]


class ReleaseEndedError(Exception):
    """The record is no longer the one this writer holds: ended, being ended or changed from another shell."""

    def __init__(self, what: str, why: str, next_command: str, outcome: Outcome | None = None,
                 stored: ReleaseRecord | None = None) -> None:
        super().__init__(f"{what}: {why}")
        self.what = what
        self.why = why
        self.next_command = next_command
        self.outcome = outcome
        self.stored = stored
        self.elsewhere = True


class ReleaseInProgressError(ReleaseEndedError):
    """A new release found another one in progress."""


def finishing_command(outcome: Outcome) -> str:
    """The command that marks a record for ``outcome``, and so finishes it when run again."""
    return {Outcome.ABORTED: "abort", Outcome.PROMOTED: "promote"}.get(outcome, "rollback")


class EndingUnfinishedError(ReleaseEndedError):
    """The record is marked for one ending that did not finish: only the command that marked it finishes it."""

    @classmethod
    def of(cls, record: ReleaseRecord, stack: str) -> EndingUnfinishedError:
        """What every command says of a record marked and not finished (the same as ``resume``)."""
        assert record.ending is not None  # noqa: S101 - only marked records are unfinished
        ending = record.ending
        return cls(
            f"release {record.id}", f"release {record.id} is being {ending.outcome} by {ending.by} since "
            f"{ending.at:%Y-%m-%d %H:%M:%S} UTC and did not finish",
            f"python -m release {finishing_command(ending.outcome)} --stack {stack}  (finishes it)", None, record,
        )


def new_record(config: ReleaseConfig, version: str, strategy: str, clock: Clock, by: str) -> ReleaseRecord:
    """The record of a release about to start."""
    started = clock.now()
    ident = f"r-{started:%Y%m%dt%H%M%S}-{''.join(c for c in version if c.isalnum())[:12]}"
    # A rolling release puts its version on the live colour itself; the others on the candidate.
    colour = config.live if strategy == "rolling" else config.candidate
    return ReleaseRecord.model_validate({
        "id": ident, "version": version, "colour": colour, "previous": config.versions.of(config.live),
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
    """The release in progress on the stack, if any, as the release state holds it now."""
    return decode(engine.read_release()[0].get(IN_PROGRESS))


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


def finished(record: ReleaseRecord, outcome: Outcome, clock: Clock, reason: str | None = None, by: str | None = None) -> ReleaseRecord:
    """The record of a release that has ended (no lease, no ending mark)."""
    return record.model_copy(update={
        "outcome": outcome, "finished_at": clock.now(), "reason": reason[:500] if reason else None,
        "lease": None, "ending": None, "ended_by": by[:160] if by else record.ended_by,
    })


def leased(record: ReleaseRecord, holder: str, clock: Clock) -> ReleaseRecord:
    """The record with its lease renewed by ``holder`` now."""
    return record.model_copy(update={"lease": Lease(holder=holder[:160], renewed_at=clock.now())})


def ending(record: ReleaseRecord, outcome: Outcome, by: str, clock: Clock) -> ReleaseRecord:
    """The record marked as being ended from this shell (the running driver stops before its next write)."""
    return record.model_copy(update={"ending": Ending(outcome=outcome, by=by[:160], at=clock.now())})


def reached(record: ReleaseRecord, phase: Phase) -> bool:
    """Whether the record's last verified phase is ``phase`` or later."""
    order = list(Phase)
    return order.index(record.phase) >= order.index(phase)


def lease_fresh(record: ReleaseRecord, clock: Clock) -> bool:
    """Whether a driver renewed the record's lease recently enough to be presumed alive."""
    return record.lease is not None and clock.now() - record.lease.renewed_at < LEASE


def _explain(values: Mapping[str, str], held: ReleaseRecord, stack: str) -> ReleaseEndedError:
    stored = decode(values.get(IN_PROGRESS))
    last = decode(values.get(LAST_RELEASE))
    status = f"python -m release status --stack {stack}"
    what = f"release {held.id}"
    if stored is None and last is not None and last.id == held.id:
        outcome = last.outcome
        by = last.ended_by or "another shell"
        when = f" at {last.finished_at:%Y-%m-%d %H:%M:%S} UTC" if last.finished_at else ""
        label = "promoted elsewhere" if outcome is Outcome.PROMOTED else f"{outcome} elsewhere" if outcome else "ended elsewhere"
        return ReleaseEndedError(what, f"{label}: {by}{when}; this driver stopped before its next write", status, outcome, last)
    if stored is None:
        return ReleaseEndedError(what, "its record is gone from the release state (ended elsewhere)", status, None, None)
    if stored.id != held.id:
        return ReleaseEndedError(
            what, f"replaced by release {stored.id} of {stored.version}, started by {stored.started_by}", status, None, stored,
        )
    if stored.ending is not None:
        label = "promoted elsewhere" if stored.ending.outcome is Outcome.PROMOTED else f"being {stored.ending.outcome} elsewhere"
        return ReleaseEndedError(
            what, f"{label}: {stored.ending.by} since {stored.ending.at:%Y-%m-%d %H:%M:%S} UTC; this driver stopped before its next write",
            status, stored.ending.outcome, stored,
        )
    holder = stored.lease.holder if stored.lease else "another shell"
    return ReleaseEndedError(
        what, f"its record was changed by {holder} (revision {stored.revision}; this driver held {held.revision}); "
        "this driver stopped before its next write", f"{status}, then `python -m release resume --stack {stack}`", None, stored,
    )


Build = ReleaseRecord | Callable[[ReleaseRecord | None], ReleaseRecord] | None
"""A record to write, or how to make it from the record stored at the moment of the write."""
Changes = Mapping[str, str] | Callable[[Mapping[str, str]], Mapping[str, str]] | None
"""Config changes, or how to decide them from the release state read at the moment of the write."""


def commit(
    engine: StackEngine,
    held: ReleaseRecord | None,
    record: Build,
    changes: Changes = None,
    *,
    finish: bool = False,
    exact: bool = True,
    check: Callable[[dict[str, str]], None] | None = None,
    expect_last: str | None = None,
    remove: Sequence[str] = (),
) -> ReleaseRecord | None:
    """Write ``record`` (and ``changes``) only if the stored record is still ``held``; the record as written.

    ``held`` None: no release may be in progress (a new release). ``exact``: the
    revision must match too (the driver: any other writer, such as a command
    marking the release as being ended, moved it on); otherwise the id is
    enough (a command from another shell wins over the driver).
    ``finish``: the record leaves ``inProgress`` (it is in ``changes`` as
    ``lastRelease``). ``check`` sees the whole config that would result.
    ``expect_last``: the last finished release must still be this one.
    ``remove``: release keys the write takes away (an ending put back removes the keys it had set).

    ``record`` and ``changes`` may be functions of what is stored at the write
    (the stored record; the release keys): a command from another shell marks
    the record as it is now, never a copy it read earlier, so a step the driver
    verified in between is not written over; and it decides its changes from
    the same read its write is compared with. A record marked for one ending
    refuses every other (``EndingUnfinishedError``): the command that marked
    it finishes it.
    """
    for _ in range(_ATTEMPTS):
        values, etag = engine.read_release()
        stored = decode(values.get(IN_PROGRESS))
        if held is None and stored is not None:
            msg = "new release"
            raise ReleaseInProgressError(
                msg, f"release {stored.id} of {stored.version} is in progress, started by {stored.started_by} "
                f"at {stored.started_at:%Y-%m-%d %H:%M} UTC", f"`python -m release status --stack {engine.stack}`", None, stored,
            )
        last = decode(values.get(LAST_RELEASE))
        if expect_last is not None and (last is None or last.id != expect_last):
            msg = f"release {expect_last}"
            now = f"release {last.id} ({last.outcome})" if last else "none"
            raise ReleaseEndedError(msg, f"the last release changed since it was read: it is now {now}",
                                    f"python -m release status --stack {engine.stack}", None, last)
        if held is not None and (
            stored is None or stored.id != held.id or (exact and stored.revision != held.revision)
        ):
            raise _explain(values, held, engine.stack)
        built = record(stored) if callable(record) else record
        if held is not None and stored is not None and stored.ending is not None and built is not None and (
            built.ending is None or built.ending.outcome is not stored.ending.outcome
        ) and not exact:
            raise EndingUnfinishedError.of(stored, engine.stack)
        written = dict((changes(values) if callable(changes) else changes) or {})
        removals: list[str] = []
        result = None
        if built is not None and not finish:
            result = built.model_copy(update={"revision": (stored.revision if stored else built.revision) + 1})
            written[IN_PROGRESS] = encode(result)
        if finish:
            removals.append(IN_PROGRESS)
        removals.extend(key for key in remove if key not in written)
        if check is not None:
            merged = {k: v for k, v in {**engine.get_config(), **written}.items() if k not in removals}
            check(merged)
        try:
            engine.write_release(written, removals, etag)
        except StateConflictError:
            continue
        return result
    msg = "writing the release record"
    raise StateConflictError(msg, f"{_ATTEMPTS} other writers got there first in a row", f"python -m release status --stack {engine.stack}")


def ended_in(history: Sequence[HistoryEntry], current: Mapping[str, str] | None = None) -> dict[str, tuple[int, ReleaseRecord]]:
    """Release id -> (stack version of the update that ended it, its record).

    The update that ends a release runs with the record still in progress,
    marked with how it is being ended; the finished record is written to
    ``lastRelease`` once that update is verified, so it appears in the next
    update's config or, until then, only in the current config.
    """
    found: dict[str, tuple[int, ReleaseRecord]] = {}

    def add(version: int, record: ReleaseRecord, final: bool) -> None:
        if record.id not in found:
            found[record.id] = (version, record)
        elif final:
            # The finished record replaces the provisional one; a later finished copy (what became of the
            # backup after the window) replaces an earlier one. The stack version stays the one that ended it.
            found[record.id] = (found[record.id][0], record)

    ordered = sorted((h for h in history if h.result == "succeeded"), key=lambda h: h.version)
    # Oldest first, so the first update carrying a record is the one that wrote it.
    for entry in ordered:
        marked = decode(entry.config.get(IN_PROGRESS))
        if marked is not None and marked.ending is not None:
            ending = marked.ending
            add(entry.version, marked.model_copy(update={"outcome": ending.outcome, "finished_at": ending.at, "ending": None}), False)
        record = last_release(entry.config)
        if record is not None:
            add(entry.version, record, True)
    last = last_release(current or {})
    if last is not None and ordered:
        add(ordered[-1].version, last, True)
    return found


def releases(history: Sequence[HistoryEntry], current: Mapping[str, str] | None = None) -> list[ReleaseRecord]:
    """Every finished release recorded in the stack history (and the current config), newest first, each once."""
    found = sorted(ended_in(history, current).values(), key=lambda item: item[0], reverse=True)
    return [record for _, record in found]
