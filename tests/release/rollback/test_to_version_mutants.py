"""``--to-version``'s details a user reads or a release runs with: the preview's JSON, the strategy it replays, the record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from components.config import Colour, ConfigError, Strategy, load
from components.config.release_record import Outcome
from offline.diff import PlanDiff
from offline.plan import SECRET
from release.engine import HistoryEntry
from release.errors import BadInputError
from release.output.history import irreversible_since
from release.rollback import to_version as rollback_version
from release.rollback.fast import RollbackRefusedError
from release.state import record as records
from release.strategies.planner import ReleaseOptions
from release.strategies.steps import Backup, Shift
from tests.release.rollback.test_rolling import _released
from tests.rolling_support import rollback_killed_after_its_write
from tests.stack_world import World, release


def _version_after(w: World, version: str) -> int:
    """The stack version of the update that promoted ``version``."""
    return next(h.version for h in reversed(w.stack.history()) if f"({version}) to live" in h.message)


SHIFT = Shift(Colour.GREEN, 25, 1, 3)


def test_the_previews_json_names_every_part() -> None:
    options = ReleaseOptions(version="v2", strategy=Strategy.BLUE_GREEN)
    preview = rollback_version.VersionRollback(
        7, "v2", options, [SHIFT], ["release:live: blue -> green"], ["app:x: a -> b"], PlanDiff(()),
    )
    assert preview.to_json() == {
        "stack_version": 7, "version": "v2", "strategy": "blue-green", "steps": [SHIFT.describe()],
        "config_changes": ["release:live: blue -> green"], "kept": ["app:x: a -> b"], "diff": PlanDiff(()).to_json(),
    }
    bare = rollback_version.VersionRollback(7, "v2", ReleaseOptions(version="v2"), [], [], [], None)
    assert bare.to_json()["strategy"] is None
    assert bare.to_json()["diff"] is None


@pytest.mark.parametrize(("today", "then", "replayed"), [
    (Strategy.CANARY, Strategy.BLUE_GREEN, (Strategy.BLUE_GREEN, rollback_version.RELEASE_INPUTS)),
    (Strategy.CANARY, Strategy.CANARY, (Strategy.CANARY, rollback_version.RELEASE_INPUTS)),
    (Strategy.BLUE_GREEN, Strategy.ROLLING, (Strategy.BLUE_GREEN, ("release:steps", "release:bakeMinutes"))),
    (Strategy.ROLLING, Strategy.CANARY, (Strategy.ROLLING, ())),
])
def test_the_strategy_and_inputs_replayed(today: Strategy, then: Strategy, replayed: Any) -> None:
    assert rollback_version.replayed_inputs(today, then) == replayed


def test_a_version_recorded_under_another_strategy_is_released_and_recorded_with_it(w: World) -> None:
    w.stack.set_release(strategy="blue-green")
    release(w, "v2")
    w.stack.set_release(strategy="canary")
    release(w, "v3")
    preview = rollback_version.prepare(w.ctx, _version_after(w, "v2"))
    assert preview.options.strategy is Strategy.BLUE_GREEN
    result = rollback_version.run(w.ctx, preview)
    assert result.outcome is Outcome.PROMOTED, result.why
    last = w.stack.release_config().last_release
    assert last is not None
    assert (last.version, last.strategy) == ("v2", Strategy.BLUE_GREEN)


def test_the_end_state_is_todays_config_with_the_replayed_inputs_the_version_on_the_candidate_and_no_records(w: World) -> None:
    w.stack.set_release(bakeMinutes="7")
    release(w, "v2")
    w.stack.set_release(bakeMinutes="5")
    release(w, "v3")
    now = w.stack.get_config()
    assert (now["release:live"], now["release:versions"]) == ("blue", '{"blue":"v3","green":"v2"}')
    preview = rollback_version.prepare(w.ctx, _version_after(w, "v2"))
    kept = {k: v for k, v in now.items() if k not in ("release:inProgress", "release:lastRelease")}
    assert preview.target_config == {
        **kept, "release:live": "green", "release:versions": '{"blue":"v3","green":"v2"}', "release:canaryWeight": "0",
        "release:bakeMinutes": "7",
    }
    assert preview.changes == ["release:bakeMinutes: 5 -> 7", "release:live: blue -> green"]


def test_compare_shows_a_key_set_on_one_side_only_as_unset_on_the_other() -> None:
    applied, kept = rollback_version.compare({"release:a": "1", "app:x": "2"}, {"release:b": "3"})
    assert applied == ["release:a: 1 -> (unset)", "release:b: (unset) -> 3"]
    assert kept == ["app:x: 2 -> (unset)"]


def _irreversible_then_v3(w: World) -> int:
    start = w.stack.history()[0].version
    w.stack.set_config({"data:migrationReversible": "false"})
    release(w, "v2")
    w.stack.set_config({"data:migrationReversible": "true"})
    release(w, "v3")
    return start


def _refused(w: World, stack_version: int) -> Any:
    with pytest.raises(RollbackRefusedError) as caught:
        rollback_version.prepare(w.ctx, stack_version)
    return caught.value


def test_the_irreversible_migrations_refusal_names_the_release_its_task_and_its_snapshot(w: World) -> None:
    start = _irreversible_then_v3(w)
    crossed = irreversible_since(w.stack.history(), start)
    assert len(crossed) == 1
    version, record = crossed[0]
    assert record.migration is not None
    assert record.snapshot is not None
    refused = _refused(w, start)
    assert refused.what == f"rollback to stack version {start}"
    assert refused.why == (
        f"release {record.id} of v2 (stack version {version}) ran a migration recorded as irreversible "
        f"({record.migration.task}); the code of stack version {start} may not run on the migrated schema"
    )
    assert refused.next_command == (
        f"restore the database from snapshot {record.snapshot}, taken before that release "
        f"(aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier {record.snapshot} ...), "
        "then release the old version with `python -m release deploy`; see docs/runbook.md, Database rollback"
    )


def test_an_irreversible_release_with_no_snapshot_says_none_was_recorded(w: World) -> None:
    start = _irreversible_then_v3(w)

    def unsnapshotted(config: Mapping[str, str]) -> dict[str, str]:
        found = records.last_release(config)
        if found is None:
            return dict(config)
        return {**config, records.LAST_RELEASE: records.encode(found.model_copy(update={"snapshot": None}))}

    w.stack.entries = [replace(h, config=unsnapshotted(h.config)) for h in w.stack.entries]
    w.stack.config.update(unsnapshotted(w.stack.config))
    refused = _refused(w, start)
    assert refused.next_command.startswith("restore the database from snapshot (no snapshot was recorded), taken before")


def test_the_records_are_dropped_wherever_they_stand_and_a_secret_unknown_today_keeps_its_mask() -> None:
    entry = HistoryEntry(3, "m", {"release:inProgress": "{}", "app:x": "1", "app:gone": "[secret]"}, "succeeded")
    assert rollback_version.then_config(entry, {}) == {"app:x": "1", "app:gone": "[secret]"}


def test_a_release_in_progress_on_a_canary_stack_is_refused_naming_rollback_and_resume(w: World) -> None:
    release(w, "v2")
    stack_version = w.stack.history()[-1].version
    release(w, "v3", until_weight=25)
    held = records.in_progress(w.stack)
    assert held is not None
    refused = _refused(w, stack_version)
    assert (refused.what, refused.why, refused.next_command) == (
        f"rollback to stack version {stack_version}", f"release {held.id} of v3 is in progress, held by alice@laptop",
        "python -m release rollback --stack staging (aborts it), or `python -m release resume --stack staging`",
    )


def test_a_rollback_in_progress_on_a_rolling_stack_is_refused_naming_rollback_to_finish_it(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w, _, _ = _released(session)
    rollback_killed_after_its_write(w, monkeypatch)
    refused = _refused(w, 1)
    assert refused.next_command == "python -m release rollback --stack staging (finishes it)"


def test_an_unknown_stack_version_lists_the_last_twenty_known(w: World) -> None:
    first = w.stack.entries[-1]
    w.stack.entries = [replace(first, version=v) for v in range(30, 0, -1)]
    with pytest.raises(BadInputError) as caught:
        rollback_version.prepare(w.ctx, 99)
    shown = ", ".join(str(v) for v in range(11, 31))
    assert str(caught.value) == f"--to-version 99: stack staging has no such version; recorded versions: {shown}"
    w.stack.entries = []
    with pytest.raises(BadInputError) as caught:
        rollback_version.prepare(w.ctx, 1)
    assert str(caught.value) == "--to-version 1: stack staging has no such version; recorded versions: (none)"


def test_a_failed_stack_version_is_refused_naming_where_to_pick_another(w: World) -> None:
    w.stack.entries.insert(0, replace(w.stack.entries[0], version=2, result="failed"))
    with pytest.raises(BadInputError) as caught:
        rollback_version.prepare(w.ctx, 2)
    assert str(caught.value) == (
        "--to-version 2: that update of staging failed, so its config never ran; "
        "pick a succeeded version from `python -m release history --stack staging`"
    )


def test_a_recorded_config_failing_validation_is_refused_with_every_problem(w: World) -> None:
    release(w, "v2")
    config = {**w.stack.history()[0].config, "release:canaryWeight": "150", "release:live": "purple"}
    w.stack.entries.append(HistoryEntry(0, "an old update", config, "succeeded"))
    with pytest.raises(ConfigError) as invalid:
        load(config, "staging")
    problems = invalid.value.problems
    assert len(problems) >= 2, "two problems, each said"
    refused = _refused(w, 0)
    assert refused.what == "rollback to stack version 0"
    assert refused.why == "its config fails today's validation: " + "; ".join(problems)
    assert refused.next_command == (
        "pick another version from `python -m release history --stack staging`, or release the version you want with "
        "`python -m release deploy --stack staging --version V`"
    )


def test_the_live_version_is_refused_whole(w: World) -> None:
    release(w, "v2")
    stack_version = _version_after(w, "v2")
    refused = _refused(w, stack_version)
    assert (refused.what, refused.why, refused.next_command) == (
        f"rollback to stack version {stack_version}", "v2 (what it served) is already live on green",
        "python -m release status --stack staging",
    )


def test_the_version_replayed_is_what_the_live_colour_then_served_whichever_colour_it_was(w: World) -> None:
    for version in ("v2", "v3", "v4"):
        release(w, version)
    # After v3's promotion blue was live (v2 had gone to green, v3 to blue), and green still ran v2.
    then = next(h.config for h in w.stack.entries if h.version == _version_after(w, "v3"))
    assert (then["release:live"], then["release:versions"]) == ("blue", '{"blue":"v3","green":"v2"}')
    preview = rollback_version.prepare(w.ctx, _version_after(w, "v3"))
    assert preview.version == "v3"


def test_the_steps_and_bake_the_version_was_released_with_are_replayed(w: World) -> None:
    w.stack.set_release(steps=[50, 100], bakeMinutes="7")
    release(w, "v2")
    w.stack.set_release(steps=[25, 50, 100], bakeMinutes="5")
    release(w, "v3")
    preview = rollback_version.prepare(w.ctx, _version_after(w, "v2"))
    assert (preview.options.steps, preview.options.bake_minutes) == ((50, 100), 7.0)


def test_a_recorded_secret_takes_todays_value_before_the_config_is_validated(w: World) -> None:
    release(w, "v2")
    release(w, "v3")
    stack_version = _version_after(w, "v2")
    entry = next(h for h in w.stack.entries if h.version == stack_version)
    masked = replace(entry, config={**entry.config, "traffic:releaseToken": SECRET})
    w.stack.entries = [masked if h.version == stack_version else h for h in w.stack.entries]
    preview = rollback_version.prepare(w.ctx, stack_version)
    assert preview.target_config["traffic:releaseToken"] == w.stack.get_config()["traffic:releaseToken"]


def test_a_recorded_config_that_leaves_the_environment_to_the_stacks_name_is_read_as_this_stacks(w: World) -> None:
    release(w, "v2")
    release(w, "v3")
    stack_version = _version_after(w, "v2")
    entry = next(h for h in w.stack.entries if h.version == stack_version)
    unnamed = replace(entry, config={k: v for k, v in entry.config.items() if k != "platform:environment"})
    w.stack.entries = [unnamed if h.version == stack_version else h for h in w.stack.entries]
    assert rollback_version.prepare(w.ctx, stack_version).version == "v2"


def test_the_preview_is_planned_for_this_stack_and_diffed_from_today_to_its_end_state(w: World) -> None:
    release(w, "v2")
    release(w, "v3")
    seen: list[tuple[dict[str, str], dict[str, str]]] = []
    shown = PlanDiff(())

    def differ(now: Any, target: Any) -> PlanDiff:
        seen.append((dict(now), dict(target)))
        return shown

    preview = rollback_version.prepare(w.ctx, _version_after(w, "v2"), differ)
    assert preview.diff is shown
    assert seen == [(w.stack.get_config(), preview.target_config)]
    backups = [s for s in preview.steps if isinstance(s, Backup)]
    assert [b.snapshot_id for b in backups] == ["staging-release-v2"]


def test_a_rolling_stack_bakes_for_todays_rolling_bake_not_a_recorded_one(session: Any) -> None:
    w, _, _ = _released(session)
    assert rollback_version.prepare(w.ctx, 1).options.bake_minutes is None
