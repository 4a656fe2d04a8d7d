"""The standalone migration's details a user reads or AWS receives: the task it runs, each refusal, the smoke test's tries, its JSON."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from components.config import Colour
from release.aws.ecs import TaskRun, TaskSpec
from release.context import SilentReporter
from release.errors import BadInputError
from release.rollback.fast import RollbackRefusedError
from release.rollback.migrate import MigrationResult, migrate, smoke
from tests.stack_world import World, release, world

MIGRATE_TASK = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web-migrate:1"




def _outputs(w: World, **migration: Any) -> None:
    """The stack's outputs with the migration output's keys replaced (a value of None drops the key)."""
    real = w.stack.outputs

    def changed() -> dict[str, Any]:
        outputs = real()
        merged = {**outputs["migration"], **migration}
        return {**outputs, "migration": {k: v for k, v in merged.items() if v is not None}}

    w.stack.outputs = changed  # type: ignore[method-assign]


def _refusal(w: World, rollback: bool) -> RollbackRefusedError:
    runs = len(w.runner.runs)
    with pytest.raises(RollbackRefusedError) as caught:
        migrate(w.ctx, rollback=rollback)
    assert len(w.runner.runs) == runs, "nothing ran"
    return caught.value


# --- the task AWS is asked to run -----------------------------------------------------------------------------------


def test_the_task_runs_in_the_exported_cluster_network_and_container(w: World) -> None:
    assert migrate(w.ctx).ok
    assert w.runner.runs == [TaskSpec(
        cluster="web", task_definition_arn=MIGRATE_TASK, subnets=("subnet-a",), security_groups=("sg-a",),
        container_name="migrate", command=("npm", "run", "migrate"),
    )]


def test_keys_the_migration_output_leaves_out_are_empty_not_invented(w: World) -> None:
    _outputs(w, cluster=None, subnets=None, security_groups=None, container_name=None)
    assert migrate(w.ctx).ok
    spec = w.runner.runs[0]
    assert (spec.cluster, spec.subnets, spec.security_groups, spec.container_name) == ("", (), (), "")
    assert spec.task_definition_arn == MIGRATE_TASK


@pytest.mark.parametrize("missing", ["database", "task"])
def test_a_stack_missing_either_its_database_or_its_migration_task_has_nothing_to_migrate(w: World, missing: str) -> None:
    real = w.stack.outputs

    def without() -> dict[str, Any]:
        outputs = real()
        if missing == "database":
            return {k: v for k, v in outputs.items() if k != "database_identifier"}
        return {**outputs, "migration": {k: v for k, v in outputs["migration"].items() if k != "task_definition_arn"}}

    w.stack.outputs = without  # type: ignore[method-assign]
    with pytest.raises(BadInputError) as caught:
        migrate(w.ctx)
    assert str(caught.value) == "stack staging exports no database_identifier and migration task: it has no database to migrate"


def test_a_migration_output_without_the_rollback_command_names_the_key(w: World) -> None:
    _outputs(w, rollback_command=None)
    with pytest.raises(BadInputError) as caught:
        migrate(w.ctx, rollback=True)
    assert str(caught.value) == "stack staging: the migration output has no rollback_command"
    assert w.runner.runs == []


def test_the_task_is_started_by_the_direction_and_the_operator_within_the_timeout(w: World) -> None:
    seen: list[tuple[str, float]] = []
    run = w.runner.run

    def recording(spec: TaskSpec, started_by: str, timeout: float, heartbeat: Any = None) -> Any:
        seen.append((started_by, timeout))
        return run(spec, started_by, timeout, heartbeat)

    w.runner.run = recording  # type: ignore[method-assign]
    migrate(w.ctx)
    migrate(w.ctx, rollback=True, timeout=90.0)
    # migrate()'s own default when the command passes none
    assert seen == [("migrate by alice@laptop", 1800.0), ("rollback by alice@laptop", 90.0)]


def test_the_snapshot_is_announced_before_the_task_runs(w: World) -> None:
    said: list[str] = []

    class Notes(SilentReporter):
        def note(self, text: str) -> None:
            said.append(text)

    result = migrate(replace(w.ctx, reporter=Notes()))
    assert said == [f"snapshot {result.snapshot} available"]


def test_a_failed_task_is_reported_whole(w: World) -> None:
    w.runner.exit_code = 3
    result = migrate(w.ctx, rollback=True)
    assert result == MigrationResult(
        "rollback", result.snapshot, "arn:aws:ecs:eu-west-1:123456789012:task/web/1", 3, ok=False,
        why="task arn:aws:ecs:eu-west-1:123456789012:task/web/1 exited with 3",
        next_command=f"read the task's logs; restore from snapshot {result.snapshot} if the data is damaged",
    )
    assert result.ok is False


def test_a_task_ecs_never_started_is_named_as_none_with_its_reason(w: World) -> None:
    def never_started(spec: TaskSpec, started_by: str, timeout: float, heartbeat: Any = None) -> TaskRun:
        return TaskRun(task_arn="", exit_code=None, reason="RESOURCE:MEMORY")

    w.runner.run = never_started  # type: ignore[method-assign]
    result = migrate(w.ctx)
    assert result.why == "task (none) exited with None RESOURCE:MEMORY"
    assert (result.task, result.exit_code, result.ok) == ("", None, False)


# --- the refusals -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rollback", "what"), [(False, "migration"), (True, "migration rollback")])
def test_a_refusal_during_a_release_names_the_command_and_where_to_look(w: World, rollback: bool, what: str) -> None:
    release(w, "v2", until_weight=25)
    refused = _refusal(w, rollback)
    assert refused.what == what
    assert str(refused).startswith(f"{what}: release ")
    assert refused.next_command == "python -m release status --stack staging"


def test_a_release_recorded_irreversible_refuses_the_rollback_though_the_stack_key_says_reversible(w: World) -> None:
    release(w, "v2", migration_reversible=False)
    assert w.stack.get_config().get("data:migrationReversible", "true") == "true"
    snapshot = w.ctx.engine.get_config()["release:lastRelease"]
    refused = _refusal(w, rollback=True)
    assert refused.what == "migration rollback"
    assert refused.why == "the last migration is recorded as irreversible (data:migrationReversible or the release's own flag)"
    recorded = json.loads(snapshot)["snapshot"]
    assert recorded.startswith("staging-release-v2-")
    assert refused.next_command == f"restore the database from snapshot {recorded}; see docs/runbook.md, Database rollback"


def test_a_release_recorded_reversible_lets_the_rollback_run(w: World) -> None:
    release(w, "v2", migration_reversible=True)
    assert migrate(w.ctx, rollback=True).ok
    assert w.runner.runs[-1].command == ("npm", "run", "migrate:rollback")


def test_the_stacks_exported_irreversibility_refuses_the_rollback(w: World) -> None:
    _outputs(w, reversible=False)
    refused = _refusal(w, rollback=True)
    assert "recorded as irreversible" in refused.why


def test_the_stacks_exported_reversibility_overrules_the_stack_key(w: World) -> None:
    w.stack.set_config({"data:migrationReversible": "false"})
    _outputs(w, reversible=True)
    assert migrate(w.ctx, rollback=True).ok


def test_an_irreversible_stack_with_no_release_yet_points_to_the_last_releases_snapshot(w: World) -> None:
    w.stack.set_config({"data:migrationReversible": "false"})
    refused = _refusal(w, rollback=True)
    assert refused.next_command == (
        "restore the database from snapshot the last release's snapshot; see docs/runbook.md, Database rollback"
    )


def test_an_unhealthy_live_colour_refuses_before_anything_runs(w: World) -> None:
    w.stack.scale_down(Colour.BLUE)
    refused = _refusal(w, rollback=False)
    assert (refused.what, refused.why, refused.next_command) == (
        "migration", "the live colour blue is not healthy: no targets registered in blue's target group",
        "python -m release status --stack staging",
    )


def test_an_irreversible_migration_refuses_only_its_rollback(w: World) -> None:
    w.stack.set_config({"data:migrationReversible": "false"})
    assert migrate(w.ctx).ok


# --- the smoke test after it ------------------------------------------------------------------------------------------


def test_an_endpoint_that_never_answers_2xx_is_tried_five_times_five_seconds_apart(session: Any) -> None:
    w = world(session, probe_status=503, extend_minutes=0)
    start = w.clock.now()
    assert smoke(w.ctx, "http://live.example/health") == 503
    assert w.probes == ["http://live.example/health"] * 5
    assert w.clock.now() - start == timedelta(seconds=20), "four waits of 5 s between five tries"


def test_a_redirect_is_not_a_passing_smoke_test(session: Any) -> None:
    w = world(session, probe_status=300, extend_minutes=0)
    result = migrate(w.ctx)
    assert len(w.probes) == 5
    assert result == MigrationResult(
        "migrate", result.snapshot, "arn:aws:ecs:eu-west-1:123456789012:task/web/1", 0, ok=False,
        why="after the migration GET http://live.example/health answered 300",
        next_command=f"curl -i http://live.example/health; restore from snapshot {result.snapshot} if the data is damaged",
    )
    assert result.ok is False


@pytest.mark.parametrize(("endpoint", "path", "probed"), [
    ("http://live.example/", "/ready", "http://live.example/ready"),
    ("http://live.example/PREFIX/", None, "http://live.example/PREFIX/health"),
    ("http://live.example", None, "http://live.example/health"),
    (None, None, "/health"),
])
def test_the_smoke_test_reads_the_exported_endpoint_and_health_path(w: World, endpoint: Any, path: Any, probed: str) -> None:
    real = w.stack.outputs

    def exported() -> dict[str, Any]:
        outputs = {k: v for k, v in real().items() if k not in ("endpoint_url", "health_check_path")}
        return {**outputs, **({"endpoint_url": endpoint} if endpoint else {}), **({"health_check_path": path} if path else {})}

    w.stack.outputs = exported  # type: ignore[method-assign]
    migrate(w.ctx)
    assert w.probes == [probed]


def test_an_endpoint_that_never_answers_is_said_to_have_answered_nothing(session: Any) -> None:
    w = world(session, probe_status=0, extend_minutes=0)
    assert migrate(w.ctx).why == "after the migration GET http://live.example/health answered nothing"


def test_a_migration_that_passed_names_its_task(w: World) -> None:
    result = migrate(w.ctx)
    assert result == MigrationResult("migrate", result.snapshot, "arn:aws:ecs:eu-west-1:123456789012:task/web/1", 0, ok=True)


def test_a_smoke_test_of_no_tries_says_nothing_answered(w: World) -> None:
    assert smoke(w.ctx, "http://live.example/health", attempts=0) == 0
    assert w.probes == []


def test_the_first_2xx_ends_the_smoke_test(w: World) -> None:
    assert smoke(w.ctx, "http://live.example/health") == 200
    assert w.probes == ["http://live.example/health"]


# --- what --output json prints --------------------------------------------------------------------------------------


def test_the_json_of_a_migration_and_of_a_failed_one() -> None:
    done = MigrationResult("migrate", "staging-migrate-1", "arn:task/1", 0, ok=True)
    assert done.to_json() == {
        "direction": "migrate", "snapshot": "staging-migrate-1", "task": "arn:task/1", "exit_code": 0,
        "outcome": "migrated", "why": None, "next": None,
    }
    failed = MigrationResult("rollback", "staging-rollback-1", "arn:task/2", 3, ok=False, why="exited with 3", next_command="read")
    assert failed.to_json() == {
        "direction": "rollback", "snapshot": "staging-rollback-1", "task": "arn:task/2", "exit_code": 3,
        "outcome": "failed", "why": "exited with 3", "next": "read",
    }
