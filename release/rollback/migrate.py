"""``migrate [--rollback]``: the database migration on its own, with a release's checks around it.

Before: the config is valid, no release is in progress (a release runs its own
migration), the live colour is healthy, and, for ``--rollback``, the last
migration is not recorded as irreversible. Then a snapshot named for the stack
and the time, waited on until available; then the migration task (or its
rollback command), which must exit 0; then the public endpoint's smoke test,
since the live colour now runs against the changed schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from release.aws.ecs import TaskSpec
from release.context import Context
from release.errors import BadInputError
from release.rollback.fast import RollbackRefusedError, current_release
from release.strategies.planner import _command
from release.strategies.reversibility import REVERSIBLE_KEY, migration_reversible
from release.strategies.runner import StepRunner
from release.strategies.timing import Timing


@dataclass(frozen=True)
class MigrationResult:
    """How a standalone migration ended."""

    direction: str
    snapshot: str
    task: str
    exit_code: int | None
    ok: bool
    why: str = ""
    next_command: str = ""

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--output json``."""
        return {
            "direction": self.direction, "snapshot": self.snapshot, "task": self.task, "exit_code": self.exit_code,
            "outcome": "migrated" if self.ok else "failed", "why": self.why or None, "next": self.next_command or None,
        }


def _spec(outputs: Mapping[str, Any], rollback: bool, stack: str) -> TaskSpec:
    found = outputs.get("migration")
    if not isinstance(found, Mapping) or not found.get("task_definition_arn") or not outputs.get("database_identifier"):
        message = f"stack {stack} exports no database_identifier and migration task: it has no database to migrate"
        raise BadInputError(message)
    key = "rollback_command" if rollback else "migrate_command"
    command = _command(found.get(key))
    if not command:
        message = f"stack {stack}: the migration output has no {key}"
        raise BadInputError(message)
    return TaskSpec(
        cluster=str(found.get("cluster", "")), task_definition_arn=str(found["task_definition_arn"]),
        subnets=tuple(found.get("subnets") or ()), security_groups=tuple(found.get("security_groups") or ()),
        container_name=str(found.get("container_name", "")), command=command,
    )


def check(ctx: Context, rollback: bool) -> TaskSpec:
    """Every check before a standalone migration; the task to run."""
    release = current_release(ctx)
    what = "migration rollback" if rollback else "migration"
    if release.in_progress is not None:
        running = release.in_progress
        raise RollbackRefusedError(
            what, f"release {running.id} of {running.version} is in progress, held by {running.started_by}; it runs its own migration",
            f"python -m release status --stack {ctx.stack}",
        )
    spec = _spec(ctx.engine.outputs(), rollback, ctx.stack)
    config = ctx.engine.get_config()
    last = release.last_release
    if rollback:
        recorded = last.migration if last is not None else None
        exported = (ctx.engine.outputs().get("migration") or {}).get("reversible")
        if not migration_reversible(config, exported=exported) or (recorded is not None and not recorded.reversible):
            snapshot = (last.snapshot if last is not None else None) or "the last release's snapshot"
            raise RollbackRefusedError(
                what, f"the last migration is recorded as irreversible ({REVERSIBLE_KEY} or the release's own flag)",
                f"restore the database from snapshot {snapshot}; see docs/runbook.md, Database rollback",
            )
    healthy, state = StepRunner(ctx, Timing()).healthy(release.live)
    if not healthy:
        raise RollbackRefusedError(what, f"the live colour {release.live} is not healthy: {state}",
                                   f"python -m release status --stack {ctx.stack}")
    return spec


def migrate(ctx: Context, rollback: bool = False, timeout: float = 1800.0) -> MigrationResult:
    """Snapshot, run the migration (or its rollback), then smoke-test the public endpoint."""
    direction = "rollback" if rollback else "migrate"
    spec = check(ctx, rollback)
    outputs = ctx.engine.outputs()
    snapshot = ctx.aws.rds.fresh_snapshot(str(outputs["database_identifier"]), f"{ctx.stack}-{direction}")
    ctx.reporter.note(f"snapshot {snapshot} available")
    run = ctx.runner.run(spec, f"{direction} by {ctx.by}", timeout)
    if run.exit_code != 0:
        return MigrationResult(
            direction, snapshot, run.task_arn, run.exit_code, ok=False,
            why=f"task {run.task_arn or '(none)'} exited with {run.exit_code} {run.reason}".strip(),
            next_command=f"read the task's logs; restore from snapshot {snapshot} if the data is damaged",
        )
    url = str(outputs.get("endpoint_url", "")).rstrip("/") + str(outputs.get("health_check_path") or "/health")
    status = smoke(ctx, url)
    if not 200 <= status < 300:
        return MigrationResult(
            direction, snapshot, run.task_arn, run.exit_code, ok=False,
            why=f"after the migration GET {url} answered {status or 'nothing'}",
            next_command=f"curl -i {url}; restore from snapshot {snapshot} if the data is damaged",
        )
    return MigrationResult(direction, snapshot, run.task_arn, run.exit_code, ok=True)


def smoke(ctx: Context, url: str, attempts: int = 5) -> int:
    """GET ``url`` until it answers 2xx, a few times; the last status."""
    status = 0
    for attempt in range(attempts):
        status = ctx.probe(url)
        if 200 <= status < 300 or attempt == attempts - 1:
            break
        ctx.clock.sleep(5)
    return status
