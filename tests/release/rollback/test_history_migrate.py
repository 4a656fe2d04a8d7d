"""The release history table, and the standalone migration with its checks."""

from __future__ import annotations

from typing import Any

import pytest

from release.errors import BadInputError
from release.output import history
from release.rollback.fast import RollbackRefusedError, fast_rollback
from release.rollback.migrate import migrate
from tests.stack_world import World, release, world


def test_history_lists_every_release_with_its_outcome_weight_duration_and_author(session: Any) -> None:
    # The stack's own bakes, low-traffic extension and all: the duration shown is the release's whole length.
    w = world(session)
    release(w, "v2")
    w.ctx.probe = lambda url, headers=None: 500
    release(w, "v3", by="bob@desk")  # its smoke test fails: refused before any traffic moves, after the deploy
    w.ctx.probe = lambda url, headers=None: 200
    release(w, "v4")
    fast_rollback(w.ctx)
    release(w, "v5", until_weight=25)

    rows = history.rows(w.stack.history(), w.stack.get_config())

    shown = [(r.version, r.outcome, r.highest_weight, r.started_by) for r in rows]
    assert shown == [
        ("v5", "in progress", 25, "alice@laptop"),
        ("v2", "rolled-back", 100, "alice@laptop"),
        ("v4", "promoted", 100, "alice@laptop"),
        ("v3", "aborted", 0, "bob@desk"),
        ("v2", "promoted", 100, "alice@laptop"),
    ]
    assert rows[0].stack_version is None
    ended = [r.stack_version for r in rows[1:]]
    assert ended == sorted(ended, reverse=True)
    assert all(isinstance(v, int) for v in ended)
    promoted = rows[-1]
    # Four one-minute bakes on the injected clock, plus the smoke tests' waits: minutes, not zero.
    assert promoted.duration_seconds is not None
    assert promoted.duration_seconds >= 240
    assert str(promoted.snapshot).startswith("staging-release-v2-2026"), "a snapshot of its own, named for when it was taken"
    assert promoted.reversible is True
    assert promoted.to_json()["previous"] == "3f9c2e1a"


def test_history_stack_version_is_the_update_that_ended_the_release(w: World) -> None:
    release(w, "v2")
    promoted_at = next(h.version for h in w.stack.history() if "promote green (v2)" in h.message)
    w.stack.update("an unrelated update")
    assert history.rows(w.stack.history(), w.stack.get_config())[0].stack_version == promoted_at


def test_durations_read_as_minutes_and_seconds() -> None:
    assert [history.duration(s) for s in (None, 42, 750, 4000)] == ["-", "42s", "12m 30s", "1h 06m"]


def test_migrate_snapshots_first_then_runs_the_migration_and_smoke_tests(w: World) -> None:
    result = migrate(w.ctx)

    assert result.ok, result.why
    assert result.snapshot.startswith("staging-migrate-")
    snapshots = w.ctx.aws.rds.client.describe_db_snapshots(DBSnapshotIdentifier=result.snapshot)["DBSnapshots"]
    assert snapshots[0]["Status"] == "available"
    assert [r.command for r in w.runner.runs] == [("npm", "run", "migrate")]
    assert w.probes == ["http://live.example/health"]


def test_migrate_rollback_runs_the_rollback_command(w: World) -> None:
    result = migrate(w.ctx, rollback=True)
    assert result.ok
    assert result.snapshot.startswith("staging-rollback-")
    assert [r.command for r in w.runner.runs] == [("npm", "run", "migrate:rollback")]


def test_migrate_rollback_of_an_irreversible_migration_is_refused_before_anything_runs(w: World) -> None:
    w.stack.set_config({"data:migrationReversible": "false"})
    release(w, "v2")
    runs = len(w.runner.runs)
    with pytest.raises(RollbackRefusedError) as caught:
        migrate(w.ctx, rollback=True)
    assert "recorded as irreversible" in caught.value.why
    assert "restore the database from snapshot staging-release-v2" in caught.value.next_command
    assert len(w.runner.runs) == runs


def test_migrate_during_a_release_is_refused_naming_who_holds_it(w: World) -> None:
    release(w, "v2", until_weight=25)
    with pytest.raises(RollbackRefusedError) as caught:
        migrate(w.ctx)
    assert "held by alice@laptop" in caught.value.why
    assert w.runner.runs[-1].command == ("npm", "run", "migrate"), "only the release's own migration ran"
    assert len(w.runner.runs) == 1


def test_a_failed_migration_keeps_its_snapshot_and_says_so(w: World) -> None:
    w.runner.exit_code = 3
    result = migrate(w.ctx)
    assert not result.ok
    assert "exited with 3" in result.why
    assert f"restore from snapshot {result.snapshot}" in result.next_command
    assert w.probes == [], "no smoke test after a failed migration"


def test_migrate_on_a_stack_without_a_database_is_bad_input(w: World) -> None:
    real = w.stack.outputs

    def no_database() -> dict[str, Any]:
        return {k: v for k, v in real().items() if k not in ("database_identifier", "migration")}

    w.stack.outputs = no_database  # type: ignore[method-assign]
    with pytest.raises(BadInputError) as caught:
        migrate(w.ctx)
    assert str(caught.value) == "stack staging exports no database_identifier and migration task: it has no database to migrate"


def test_reversibility_the_release_then_the_export_then_the_stack_key_then_true() -> None:
    from release.strategies.reversibility import migration_reversible

    key = {"data:migrationReversible": "false"}
    assert migration_reversible({}) is True
    assert migration_reversible(key) is False
    assert migration_reversible(key, exported=True) is True
    assert migration_reversible({}, exported=False) is False
    assert migration_reversible({}, override=False, exported=True) is False
    assert migration_reversible(key, override=True) is True
