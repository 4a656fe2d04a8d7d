"""``rollback`` on a stack whose ``release:strategy`` is rolling: the previous version back on the live colour.

A rolling stack has one serving colour; the other is a standby that may run an
old or unrelated version, possibly with no tasks at all. Flipping traffic to it
(the fast rollback of a canary or blue-green stack) would serve whatever it
happens to run, so a rolling rollback never moves the listener. Instead it
releases the last release's ``previous`` version onto the live colour again, in
one update: the rollback's record and ``release:versions.<live>`` are written in
one compare-and-set (``StepRunner.end``), the stack is updated, and ECS's
rolling deployment of the old version is verified the way
``release/strategies/rolling.py`` verifies ECS's own rollback: the service's PRIMARY
deployment runs the old image and is COMPLETED, and the live colour's targets
are healthy. A deployment that cannot be verified in time puts the config back
(old state or new, never half) and exits 3 naming what to look at.

Refused, with nothing changed: a release in progress (``abort`` ends that one,
with ECS's rollback verified), no promoted release to undo, no previous version
recorded, or a live colour that no longer runs the last release's version.
"""

from __future__ import annotations

import json

from components.config import ReleaseConfig
from components.config.release_record import Outcome, ReleaseRecord
from release.aws.base import wait_until
from release.context import Context
from release.rollback.common import (
    RollbackRefusedError,
    RollbackResult,
    check_config,
    is_rollback,
    last_promoted,
    rollback_record,
    served,
    touched,
    updates,
)
from release.strategies.failure import StepFailure
from release.strategies.rolling import ROLLBACK_TIMEOUT, RollingRunner
from release.strategies.timing import Timing

HEALTH_TIMEOUT = 600.0
"""Seconds the live colour's targets may take to pass health checks once ECS completed the deployment (a deploy's timeout)."""


def rolling_rollback(ctx: Context, release: ReleaseConfig, why: str) -> RollbackResult:
    """Put the last release's previous version back on the live colour in one verified update."""
    stack, live = ctx.stack, release.live
    running = release.in_progress
    if running is not None:
        if is_rollback(running) and running.ending is not None:
            # A rollback killed between its write and its verification: finishing it is idempotent.
            return _finish(ctx, running, why, last=None)
        msg = "rollback"
        raise RollbackRefusedError(
            msg, f"release {running.id} of {running.version} is in progress on {stack}, held by {running.started_by}; a rolling "
            f"release in progress is ended by abort, which waits for ECS and puts release:versions.{live} back to "
            f"{running.previous}, verified",
            f"python -m release abort --stack {stack}",
        )
    history = f"python -m release history --stack {stack}"
    last = last_promoted(
        release, stack, f"{history}, then `python -m release deploy --stack {stack} --version V` to release the version you want",
    )
    now = release.versions.of(live)
    if last.colour is not live or now != last.version:
        msg = "rollback"
        raise RollbackRefusedError(
            msg, f"the last release, {last.id}, put {last.version} on {last.colour}, but {live} (live) runs {now}: the stack "
            "changed since, so it is not undone blindly",
            f"{history}, then `python -m release deploy --stack {stack} --version V` to release the version you want",
        )
    if not last.previous or last.previous == last.version:
        msg = "rollback"
        raise RollbackRefusedError(
            msg, f"release {last.id} recorded no earlier version than {last.version} on {live}: there is nothing to go back to",
            f"{history}, then `python -m release deploy --stack {stack} --version V`",
        )
    return _finish(ctx, rollback_record(ctx, last, live, why), why, last=last)


def _finish(ctx: Context, record: ReleaseRecord, why: str, *, last: ReleaseRecord | None) -> RollbackResult:
    """One compare-and-set write of the record and ``release:versions``, one update, then ECS's deployment verified."""
    colour, version = record.colour, record.version
    versions = json.loads(ctx.engine.get_config().get("release:versions") or "{}")
    versions[colour.value] = version
    changes = {"release:versions": json.dumps(versions, separators=(",", ":"))}
    check_config(ctx, changes)
    before = updates(ctx)
    runner = RollingRunner(ctx, Timing())
    undoing = last.id if last is not None else record.previous
    final = runner.end(
        record, Outcome.ROLLED_BACK, changes, f"rollback: {version} back on {colour}, undoing release {undoing}", None,
        lambda: _verify(runner, record), by=ctx.by, exact=False, reason=record.reason or why, new=last is not None,
        expect_last=last.id if last is not None else None,
    )
    notes = (f"{colour} runs {version} again, rolled out by ECS in place; the listener was not touched",
             f"{colour.other} (the standby) was left as it was")
    return RollbackResult("rolled", colour, version, served(ctx), final, updates=updates(ctx) - before, touched=touched(ctx), notes=notes)


def _verify(runner: RollingRunner, record: ReleaseRecord) -> None:
    """ECS's deployment of the old version: PRIMARY runs its image and is COMPLETED, then the colour's targets are healthy."""
    colour, version = record.colour, record.version
    try:
        runner.settled_on(colour, version, ROLLBACK_TIMEOUT)
    except StepFailure as exc:
        # The config goes back to what it was (StepRunner.end); rollback run again once ECS completed records it.
        raise StepFailure(
            exc.what, exc.why, f"{exc.next_command.split('; once', 1)[0]}; once the PRIMARY one runs {version} and is COMPLETED, "
            f"`python -m release rollback --stack {runner.ctx.stack}` again records the rollback (its update finds the service "
            f"already on {version}); if ECS cannot run {version}, see docs/runbook.md, Rolling stacks",
            infrastructure=True,
        ) from exc
    try:
        wait_until(lambda: runner.healthy(colour), runner.ctx.clock, what=f"{colour}'s targets healthy on {version}",
                   timeout=HEALTH_TIMEOUT, interval=15)
    except Exception as exc:
        msg = f"verifying that {colour} serves {version} again"
        raise StepFailure(
            msg, f"ECS completed the deployment of {version} but {colour}'s targets are not healthy after {HEALTH_TIMEOUT:g}s "
            f"({getattr(exc, 'why', exc)})",
            f"`python -m release status --stack {runner.ctx.stack}` shows the targets; once they are healthy, "
            f"`python -m release rollback --stack {runner.ctx.stack}` again records the rollback",
            infrastructure=True,
        ) from exc
