"""``rollback --to-version N``: replay a recorded stack version's release inputs through a normal release.

Pulumi keeps the config of every update. The version that stack version N
served, with N's strategy, steps and bake time, is released again onto the
candidate colour with the usual health checks, smoke test and analysis: old
*inputs* replayed with today's code, never old state. Other namespaces keep
today's values (they are shown, not restored), and ``[secret]`` values in the
history keep their current values.

On a rolling stack the version is rolled out again on the live colour (a
rolling release, watched, baked and rolled back like any other); a strategy
switch to or from rolling is never replayed (``replayed_inputs``).

Refused, with the reason and the way forward: a stack version that is unknown
or failed, config that today's validation rejects, a release in progress, a
version already live, or a release since N whose migration was recorded as
irreversible (its snapshot is the way back for the data).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.config import ConfigError, ReleaseConfig, Strategy, load
from offline.diff import PlanDiff
from offline.plan import SECRET
from release.context import Context
from release.engine import HistoryEntry
from release.errors import BadInputError
from release.output.history import irreversible_since
from release.rollback.common import is_rollback
from release.rollback.fast import RollbackRefusedError, current_release
from release.state import record as records
from release.strategies.executor import Executor, Result
from release.strategies.planner import ReleaseOptions, plan_release
from release.strategies.steps import Step

RECORD_KEYS = (records.IN_PROGRESS, records.LAST_RELEASE)
# The release inputs a version rollback replays; everything else keeps today's value.
RELEASE_INPUTS = ("release:strategy", "release:steps", "release:bakeMinutes")

Differ = Callable[[Mapping[str, str], Mapping[str, str]], PlanDiff | None]


@dataclass(frozen=True)
class VersionRollback:
    """What ``--to-version N`` would do, shown before it is confirmed."""

    stack_version: int
    version: str
    options: ReleaseOptions
    steps: list[Step]
    changes: list[str]
    """``key: now -> after`` for each release key the rollback's release will have set once promoted."""
    kept: list[str]
    """Keys that differ but keep today's value (other namespaces)."""
    diff: PlanDiff | None
    target_config: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The preview as plain data."""
        return {
            "stack_version": self.stack_version, "version": self.version,
            "strategy": self.options.strategy.value if self.options.strategy else None,
            "steps": [s.describe() for s in self.steps], "config_changes": self.changes, "kept": self.kept,
            "diff": self.diff.to_json() if self.diff else None,
        }


def _entry(history: list[HistoryEntry], stack_version: int, stack: str) -> HistoryEntry:
    known = sorted(h.version for h in history)
    found = next((h for h in history if h.version == stack_version), None)
    if found is None:
        shown = ", ".join(str(v) for v in known[-20:]) or "(none)"
        message = f"--to-version {stack_version}: stack {stack} has no such version; recorded versions: {shown}"
        raise BadInputError(message)
    if found.result != "succeeded":
        message = (
            f"--to-version {stack_version}: that update of {stack} {found.result}, so its config never ran; "
            f"pick a succeeded version from `python -m release history --stack {stack}`"
        )
        raise BadInputError(message)
    return found


def then_config(entry: HistoryEntry, now: Mapping[str, str]) -> dict[str, str]:
    """The recorded config with secrets kept at today's values and the release records dropped."""
    config: dict[str, str] = {}
    for key, value in entry.config.items():
        if key in RECORD_KEYS:
            continue
        config[key] = now.get(key, value) if value == SECRET else value
    return config


def prepare(ctx: Context, stack_version: int, differ: Differ | None = None) -> VersionRollback:
    """Everything ``--to-version`` will do, after every check; nothing is changed."""
    stack = ctx.stack
    history = ctx.engine.history()
    entry = _entry(history, stack_version, stack)
    now = ctx.engine.get_config()
    then = then_config(entry, now)
    history_hint = f"pick another version from `python -m release history --stack {stack}`"
    try:
        then_release = load(then, stack).release
    except ConfigError as exc:
        msg = f"rollback to stack version {stack_version}"
        raise RollbackRefusedError(
            msg, "its config fails today's validation: " + "; ".join(exc.problems),
            f"{history_hint}, or release the version you want with `python -m release deploy --stack {stack} --version V`",
        ) from exc
    release = current_release(ctx)
    version = then_release.versions.of(then_release.live)
    _refuse_if_busy(release, stack, stack_version)
    if version == release.versions.of(release.live):
        msg = f"rollback to stack version {stack_version}"
        raise RollbackRefusedError(msg, f"{version} (what it served) is already live on {release.live}",
                                   f"python -m release status --stack {stack}")
    _refuse_if_irreversible(history, stack_version, stack)
    strategy, replayed = replayed_inputs(release.strategy, then_release.strategy)
    options = ReleaseOptions(
        version=version, strategy=strategy,
        steps=then_release.steps if strategy is Strategy.CANARY and "release:steps" in replayed else None,
        # A rolling release bakes for today's release:rolling.bakeMinutes (not a replayed input).
        bake_minutes=float(then_release.bake_minutes) if "release:bakeMinutes" in replayed else None,
    )
    steps = plan_release(release, ctx.engine.outputs(), options, stack)
    target = _end_state(now, then, release, version, replayed)
    # What will be set is the promoted end state (live may stay on either colour); what differs elsewhere is kept.
    changes, _ = compare(now, target)
    _, kept = compare(now, then)
    if then_release.strategy is not strategy:
        kept.append(f"release:strategy: {strategy} -> {then_release.strategy} (kept: a switch to or from rolling is not replayed)")
    return VersionRollback(stack_version, version, options, steps, changes, kept, differ(now, target) if differ else None, target)


def replayed_inputs(today: Strategy, then: Strategy) -> tuple[Strategy, tuple[str, ...]]:
    """The strategy a version rollback releases with, and the release inputs it replays from the recorded config.

    Whether a stack is rolling is its policy, not a per-release choice: the
    target colour follows from it (``ReleaseConfig.target``) and the planner
    refuses to switch to or from rolling per run (``release/strategies/planner.py``
    ``check_options``). So a rollback never replays a switch across it: on a
    rolling stack the version is rolled out again on the live colour, with
    today's ``release:rolling`` (the canary inputs would be inert there), and on
    a canary or blue-green stack a version recorded under rolling is released
    with today's strategy.
    """
    if today is Strategy.ROLLING:
        return today, ()
    if then is Strategy.ROLLING:
        return today, tuple(k for k in RELEASE_INPUTS if k != "release:strategy")
    return then, RELEASE_INPUTS


def _refuse_if_busy(release: ReleaseConfig, stack: str, stack_version: int) -> None:
    running = release.in_progress
    if running is None:
        return
    msg = f"rollback to stack version {stack_version}"
    way = f"python -m release rollback --stack {stack} (aborts it), or `python -m release resume --stack {stack}`"
    if release.strategy is Strategy.ROLLING:
        # A rolling release is ended by abort, never resumed; a rollback's own record is finished by rollback.
        way = (f"python -m release rollback --stack {stack} (finishes it)" if is_rollback(running)
               else f"python -m release abort --stack {stack}")
    raise RollbackRefusedError(msg, f"release {running.id} of {running.version} is in progress, held by {running.started_by}", way)


def _refuse_if_irreversible(history: list[HistoryEntry], stack_version: int, stack: str) -> None:
    crossed = irreversible_since(history, stack_version)
    if not crossed:
        return
    version, record = crossed[0]
    snapshot = record.snapshot or "(no snapshot was recorded)"
    msg = f"rollback to stack version {stack_version}"
    raise RollbackRefusedError(
        msg,
        f"release {record.id} of {record.version} (stack version {version}) ran a migration recorded as irreversible "
        f"({record.migration.task if record.migration else ''}); the code of stack version {stack_version} may not run "
        "on the migrated schema",
        f"restore the database from snapshot {snapshot}, taken before that release "
        f"(aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier {snapshot} ...), "
        "then release the old version with `python -m release deploy`; see docs/runbook.md, Database rollback",
    )


def compare(now: Mapping[str, str], then: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Config keys that differ: release inputs (applied) and the others (kept as they are today)."""
    applied: list[str] = []
    kept: list[str] = []
    for key in sorted(set(now) | set(then)):
        if key in RECORD_KEYS or now.get(key) == then.get(key):
            continue
        line = f"{key}: {now.get(key, '(unset)')} -> {then.get(key, '(unset)')}"
        (applied if key.startswith("release:") else kept).append(line)
    return applied, kept


def _end_state(
    now: Mapping[str, str], then: Mapping[str, str], release: ReleaseConfig, version: str, replayed: tuple[str, ...],
) -> dict[str, str]:
    """Today's config as it stands once the release of ``version`` is promoted (rolling: on the live colour, which stays live)."""
    end = {k: v for k, v in now.items() if k not in RECORD_KEYS}
    for key in replayed:
        if key in then:
            end[key] = then[key]
    versions = {"blue": release.versions.blue, "green": release.versions.green, release.target.value: version}
    end["release:versions"] = json.dumps(versions, separators=(",", ":"))
    end["release:live"] = release.live.value if release.strategy is Strategy.ROLLING else release.candidate.value
    end["release:canaryWeight"] = "0"
    return end


def run(ctx: Context, preview: VersionRollback) -> Result:
    """Release the recorded version through the normal release, recording which stack version it restores."""
    release = current_release(ctx)
    strategy = (preview.options.strategy or release.strategy).value
    record = records.new_record(release, preview.version, strategy, ctx.clock, ctx.by)
    record = record.model_copy(update={"rollback_to": preview.stack_version})
    return Executor(ctx).run(preview.steps, record)
