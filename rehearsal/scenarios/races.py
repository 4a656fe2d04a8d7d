"""Rehearsals of another process ending a release mid-step, and of a release from CI followed by a push.

``abort-race`` and ``promote-race``: while the driver bakes its first step,
another shell (its own context, ``by`` another person) aborts or promotes the
release. The driver stops before its next write and says who ended it and how;
the summary shows the other shell's outcome. Exit code 1 for both: the driver's
own run did not finish the release.

``ci-then-push``: the release state lives in the stack's ESC environment (here
a file store standing in for it). A release runs through the CI path (the
driver on a throw-away checkout of the branch); then a Deployments-style update
runs from a fresh checkout of the same branch, whose committed stack file is
unchanged. It resolves the same release state, so its update changes nothing:
the released version stays live and no weight or version is put back.

``deployments-lock``: a push-triggered Pulumi Deployments update holds the
stack for four minutes from just before the driver's next update after its
first shift. The
driver's update waits it out (``release:lockWaitMinutes``), saying who holds
the stack, then goes on; the release is promoted. Exit code 0.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from components.config import Strategy, load
from offline.diff import diff
from offline.stacks import ProjectFiles
from rehearsal.run import Rehearsal
from rehearsal.scenarios.rollbacks import Stage, stage, summarise
from release.context import Reporter
from release.engine.offline import OfflineEngine
from release.engine.waiting import WaitingEngine
from release.state import RELEASE_KEYS, FileStateStore, MemoryStateStore
from release.state import record as records
from release.strategies.executor import Result, abort, promote_now

SCENARIOS = ("abort-race", "promote-race", "ci-then-push", "deployments-lock")
OTHER_SHELL = "other-shell"
ENDED_AFTER = 20.0  # seconds into the first bake: between two polls
# A push-triggered Deployments update that holds the stack for four minutes, from just before the driver's
# first update after its first shift.
DEPLOYMENTS = "pulumi-deployments (push to main, deployment 17)"
HELD_SECONDS = 240.0


def _release_with(st: Stage, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> tuple[Result, list[Any]]:
    """The driver's release of ``rehearsal-1``, with the offline engine's updates passed through ``wrap`` meanwhile."""
    original = st.offline.update
    st.offline.update = wrap(original)  # type: ignore[method-assign]
    try:
        return st.release("rehearsal-1", by="driver")
    finally:
        st.offline.update = original  # type: ignore[method-assign]


def _ended_by_another_shell(st: Stage, scenario: str, end: Callable[[Any], object]) -> tuple[Result, dict[str, Any]]:
    other = replace(st.ctx, by=OTHER_SHELL)
    seen: dict[str, Any] = {}

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def arm(message: str, targets: Any = None) -> Any:
            found = original(message, targets)
            if "% to " in message and not seen:
                def from_another_shell() -> None:
                    seen["record"] = records.in_progress(st.engine)
                    seen["final"] = end(other)
                seen["armed"] = True
                st.clock.at(st.clock.monotonic() + ENDED_AFTER, from_another_shell)
            return found
        return arm

    result, steps = _release_with(st, wrap)
    final = load(st.offline.get_config(), st.stack).release.last_release
    extra = {
        "driver": {"outcome": result.outcome.value, "why": result.why, "steps_done": result.steps_done},
        "other_shell": {"by": OTHER_SHELL, "outcome": final.outcome.value if final and final.outcome else None,
                        "ended_by": final.ended_by if final else None},
    }
    return result, summarise(st, scenario, result.outcome.value, result, steps, **extra)


def abort_race(st: Stage) -> tuple[Result, dict[str, Any]]:
    """Another shell aborts during the first bake: the driver stops and says it was aborted elsewhere, and by whom."""
    return _ended_by_another_shell(
        st, "abort-race",
        lambda ctx: abort(ctx, records.in_progress(st.engine), f"aborted by {OTHER_SHELL}", by=OTHER_SHELL),  # type: ignore[arg-type]
    )


def promote_race(st: Stage) -> tuple[Result, dict[str, Any]]:
    """Another shell promotes during the first bake: the driver stops and says it was promoted elsewhere, and by whom."""
    return _ended_by_another_shell(st, "promote-race", lambda ctx: promote_now(ctx, records.in_progress(st.engine)))  # type: ignore[arg-type]


def _digest(files: ProjectFiles, stack: str) -> str:
    return hashlib.sha256(files.stack_file(stack).read_bytes()).hexdigest()


def ci_then_push(st: Stage) -> tuple[Result, dict[str, Any]]:
    """A release from CI, then an update from a fresh checkout of the branch: it resolves the same state and changes nothing."""
    files = st.offline.files
    before = _digest(files, st.stack)
    result, steps = st.release("rehearsal-1", by="github-actions run 1")
    released = load(st.offline.get_config(), st.stack).release
    # A fresh checkout of the branch: the committed files, and the stack's environment for the release keys.
    push = OfflineEngine(st.stack, ProjectFiles(files.root), program_dir=st.offline.program_dir, clock=st.clock, store=st.offline.store)
    found = diff(st.offline.plan(), push.plan())
    # The same checkout with the state as committed (what a stack file holding the release keys gave): it would revert.
    committed = {k: v for k, v in files.stack_config(st.stack)[0].items() if k in RELEASE_KEYS}
    file_only = OfflineEngine(st.stack, ProjectFiles(files.root), program_dir=st.offline.program_dir, clock=st.clock,
                              store=MemoryStateStore(committed))
    would_revert = diff(st.offline.plan(), file_only.plan())
    resolved = load(push.get_config(), st.stack).release
    reverted = [k for k in RELEASE_KEYS if k not in (records.IN_PROGRESS, records.LAST_RELEASE)
                and push.get_config().get(k) != st.offline.get_config().get(k)]
    extra = {
        "released": {"version": "rehearsal-1", "live": released.live.value, "live_version": released.versions.of(released.live)},
        "push": {
            "live": resolved.live.value, "live_version": resolved.versions.of(resolved.live),
            "changed": [f"{d.kind} {d.name}" for d in found.resources], "reverted_keys": reverted,
            "stack_file_unchanged": _digest(files, st.stack) == before,
        },
        "without_the_environment": {"changed": len(would_revert.resources)},
        "release_state": f"{files.release_environment(st.stack)} (offline: a file store with the same compare-and-set)",
    }
    return result, summarise(st, "ci-then-push", result.outcome.value, result, steps, **extra)


def deployments_lock(st: Stage) -> tuple[Result, dict[str, Any]]:
    """Deployments takes the stack just before the driver's first update after its first shift: the driver waits it out."""
    held: dict[str, Any] = {"shifted": False}

    def release_the_lock() -> None:
        st.offline.busy_with = None
        held["until"] = st.clock.monotonic()

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def arm(message: str, targets: Any = None) -> Any:
            if held["shifted"] and "from" not in held:
                st.offline.busy_with = DEPLOYMENTS
                held["from"] = st.clock.monotonic()
                st.clock.at(held["from"] + HELD_SECONDS, release_the_lock)
            found = original(message, targets)
            held["shifted"] = held["shifted"] or "% to " in message
            return found
        return arm

    result, steps = _release_with(st, wrap)
    waiting = st.ctx.engine
    waited = waiting.waited_seconds if isinstance(waiting, WaitingEngine) else 0.0
    extra = {
        "lock": {"holder": DEPLOYMENTS, "held_seconds": held.get("until", 0.0) - held.get("from", 0.0),
                 "driver_waited_seconds": waited, "bound_minutes": load(st.offline.get_config(), st.stack).release.lock_wait_minutes},
    }
    return result, summarise(st, "deployments-lock", result.outcome.value, result, steps, **extra)


RUNS: dict[str, Callable[[Stage], tuple[Result, dict[str, Any]]]] = {
    "abort-race": abort_race,
    "promote-race": promote_race,
    "ci-then-push": ci_then_push,
    "deployments-lock": deployments_lock,
}


def rehearse_race(
    stack: str, scenario: str, overrides: Sequence[tuple[str, Any]] = (), *,
    strategy: Strategy | None = None, reporter: Reporter | None = None,
) -> Rehearsal:
    """Run one race scenario; the same ``Rehearsal`` (summary, exit code) as the other scenarios."""
    with tempfile.TemporaryDirectory(prefix="release-state-") as folder:
        files = ProjectFiles.here()
        initial = {k: v for k, v in files.stack_config(stack)[0].items() if k in RELEASE_KEYS}
        # The stack's ESC environment, as a file: what every runner of an update resolves.
        store = FileStateStore(Path(folder) / f"{stack}-release.json", initial)
        with stage(stack, overrides, strategy, reporter, store=store) as st:
            result, summary = RUNS[scenario](st)
    return Rehearsal(scenario, result, summary, summary["updates"])
