"""The driver's rolling releases: the plan, the watch of ECS's rollout, the alarm gate, the timeout and the verified rollback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from components.config import Colour, Strategy, load
from components.config.release_record import Outcome
from release.cli import app
from release.errors import BadInputError, ExitCode
from release.output.status import gather
from release.rollback.fast import RollbackRefusedError
from release.rollback.resume import plan_resume
from release.state import record as records
from release.strategies.executor import Executor, abort
from release.strategies.failure import StepFailure
from release.strategies.planner import ReleaseOptions, check_options, plan_release
from release.strategies.rolling import RolloutFailedError
from release.strategies.steps import Complete, Roll, Settle, Smoke, Stage, Watch
from tests.rolling_support import rolling_world
from tests.stack_world import InterruptingClock, targets_unhealthy
from tests.support import MINIMAL_CONFIG

NEW = "2.0.0"



def _release(w: Any) -> Any:
    config = w.stack.release_config()
    options = ReleaseOptions(version=NEW, bake_minutes=1, poll_seconds=10)
    steps = plan_release(config, w.stack.outputs(), options, "staging")
    record = records.new_record(config, NEW, Strategy.ROLLING.value, w.clock, w.ctx.by)
    return Executor(w.ctx).run(steps, record)


def _live_version(w: Any) -> str:
    config = w.stack.release_config()
    return config.versions.of(config.live)


# --- the plan ------------------------------------------------------------------------------------------------


def test_a_rolling_plan_migrates_before_it_rolls_then_watches_bakes_and_smoke_tests_the_public_endpoint(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    steps = plan_release(w.stack.release_config(), w.stack.outputs(), ReleaseOptions(version=NEW), "staging")
    names = [s.name for s in steps]
    assert names == ["preflight", "backup", "stage", "migrate", "roll", "watch", "settle", "smoke", "complete", "notify"][: len(names)]
    roll = next(s for s in steps if isinstance(s, Roll))
    live = w.stack.release_config().live
    assert roll.colour is live
    assert dict(roll.config_change()) == {f"release:versions.{live}": NEW}
    assert next(s for s in steps if isinstance(s, Smoke)).colour is None
    assert next(s for s in steps if isinstance(s, Settle)).seconds == 600  # release:rolling.bakeMinutes' default
    assert all(isinstance(s, (Stage, Roll, Watch, Settle, Complete)) or s.name in {"preflight", "backup", "migrate", "smoke", "notify"}
               for s in steps)


def test_steps_with_rolling_is_bad_input_naming_the_flag() -> None:
    config = load({**MINIMAL_CONFIG, "release:strategy": "rolling"}, "staging").release
    with pytest.raises(BadInputError) as caught:
        check_options(ReleaseOptions(version="9.9.9", steps=(10, 100)), config, "staging")
    assert str(caught.value).startswith("--steps 10,100: a rolling release shifts no traffic")


def test_a_rolling_release_is_the_stacks_policy_not_a_flag() -> None:
    canary = load(MINIMAL_CONFIG, "staging").release
    with pytest.raises(BadInputError) as caught:
        check_options(ReleaseOptions(version="9.9.9", strategy=Strategy.ROLLING), canary, "staging")
    assert "--strategy rolling: staging's release:strategy is canary" in str(caught.value)
    rolling = load({**MINIMAL_CONFIG, "release:strategy": "rolling"}, "staging").release
    check_options(ReleaseOptions(version="9.9.9"), rolling, "staging")
    check_options(ReleaseOptions(version="9.9.9", strategy=Strategy.ROLLING), rolling, "staging")


def test_deploy_dry_run_with_rolling_prints_the_rolling_steps_and_steps_flag_exits_2() -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["deploy", "--stack", "staging", "--version", NEW, "--dry-run", "-c", "release:strategy=rolling",
                                "-o", "json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert [s["step"] for s in data["steps"]][-6:-1] == ["roll", "watch", "settle", "smoke", "complete"]
    refused = runner.invoke(app, ["deploy", "--stack", "staging", "--version", NEW, "--dry-run", "-c", "release:strategy=rolling",
                                  "--steps", "10,100"])
    assert refused.exit_code == ExitCode.BAD_INPUT
    assert "--steps 10,100" in refused.output
    assert "Traceback" not in refused.output
    outside = runner.invoke(app, ["deploy", "--stack", "staging", "--version", NEW, "-c", "release:strategy=rolling", "--yes"])
    assert outside.exit_code == ExitCode.BAD_INPUT
    assert "goes with --dry-run only" in outside.output


# --- the rollout ----------------------------------------------------------------------------------------------


def test_a_completed_rollout_is_released_with_the_new_version_live(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    result = _release(w)
    assert (result.outcome, result.why, result.exit_code) == (Outcome.PROMOTED, None, ExitCode.OK)
    assert _live_version(w) == NEW
    assert records.in_progress(w.stack) is None
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert last.outcome is Outcome.PROMOTED
    assert last.colour is w.stack.release_config().live
    # Stage (the migration task) and the roll: two updates, no traffic moved.
    assert [u["message"].split(": ", 1)[1] for u in w.stack.issued] == [f"revise the migration task to {NEW}", f"roll {NEW} onto blue"]
    assert {u["weights"]["blue"] for u in w.stack.issued} == {100}


def test_ecs_rolling_back_is_verified_then_the_old_version_goes_back_in_one_update(session: Any) -> None:
    w, ecs = rolling_world(session, "rolls-back")
    old = _live_version(w)
    result = _release(w)
    assert (result.outcome, result.exit_code, result.failed_step) == (Outcome.ROLLED_BACK, ExitCode.REFUSED, "watch")
    assert "ECS is rolling blue back" in (result.why or "")
    assert _live_version(w) == old
    # The restore waited for ECS's rollback to complete (a minute after it began) before it wrote anything.
    restore = w.stack.issued[-1]
    assert restore["message"].startswith(f"release {result.record.id}: blue back to {old}")
    assert len(w.stack.issued) == 3
    assert ecs.rolled_at is not None
    assert w.clock.monotonic() >= ecs.rolled_at + 60
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert last.outcome is Outcome.ROLLED_BACK


def test_a_rollback_ecs_does_not_finish_changes_nothing_and_exits_3_with_what_to_do(session: Any) -> None:
    w, _ = rolling_world(session, "fails-no-rollback")
    result = _release(w)
    assert result.exit_code == ExitCode.INFRASTRUCTURE
    assert "did not reach COMPLETED" in (result.why or "")
    assert "describe-services" in (result.next_command or "")
    assert "release abort" in (result.next_command or "")
    # Nothing was written or updated after the roll: the config still names the new version, the release is in progress.
    assert [u["message"].split(": ", 1)[1] for u in w.stack.issued][-1] == f"roll {NEW} onto blue"
    assert _live_version(w) == NEW
    assert records.in_progress(w.stack) is not None


def test_the_alarm_gate_fails_a_rollout_that_ecs_calls_completed(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    w.stack.set_release(versions={"blue": NEW, "green": w.stack.release_config().versions.green})
    w.ctx.aws.cloudwatch.client.set_alarm_state(AlarmName=f"{w.stack.prefix}-blue-health", StateValue="ALARM", StateReason="test")
    runner = Executor(w.ctx).runner
    record = runner._write({}, records.new_record(w.stack.release_config(), NEW, "rolling", w.clock, "t"), new=True)
    with pytest.raises(RolloutFailedError) as caught:
        runner.run(Watch(Colour.BLUE, NEW, 600, 10), record)
    assert caught.value.ecs_rolls_back
    assert f"{w.stack.prefix}-blue-health" in caught.value.why


def test_a_rollout_that_never_completes_fails_at_its_timeout(session: Any) -> None:
    w, ecs = rolling_world(session, "stuck")
    w.stack.set_release(versions={"blue": NEW, "green": w.stack.release_config().versions.green})
    runner = Executor(w.ctx).runner
    record = runner._write({}, records.new_record(w.stack.release_config(), NEW, "rolling", w.clock, "t"), new=True)
    with pytest.raises(RolloutFailedError) as caught:
        runner.run(Watch(Colour.BLUE, NEW, 300, 10), record)
    assert not caught.value.ecs_rolls_back
    assert "not completed after 300s" in caught.value.why
    assert ecs.polls <= 31


def test_a_stuck_rollout_is_rolled_back_by_the_drivers_own_update(session: Any) -> None:
    w, _ = rolling_world(session, "stuck")
    old = _live_version(w)
    config = w.stack.release_config()
    steps = plan_release(config, w.stack.outputs(), ReleaseOptions(version=NEW, bake_minutes=1), "staging")
    steps = [Watch(s.colour, s.version, 120, 10) if isinstance(s, Watch) else s for s in steps]
    result = Executor(w.ctx).run(steps, records.new_record(config, NEW, "rolling", w.clock, "t"))
    # ECS neither completes nor fails it: the driver's own update puts the old version back, verified once ECS runs it.
    assert (result.outcome, result.exit_code) == (Outcome.ROLLED_BACK, ExitCode.REFUSED)
    assert "not completed after 120s" in (result.why or "")
    assert _live_version(w) == old
    assert w.stack.issued[-1]["message"].split(": ", 1)[1].startswith(f"blue back to {old}")


def test_abort_from_another_shell_rolls_the_live_colour_back(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    old = _live_version(w)
    config = w.stack.release_config()
    steps = plan_release(config, w.stack.outputs(), ReleaseOptions(version=NEW, bake_minutes=1), "staging")
    upto = next(i for i, s in enumerate(steps) if isinstance(s, Watch))
    Executor(w.ctx).run(steps[: upto + 1], records.new_record(config, NEW, "rolling", w.clock, "t"))
    held = records.in_progress(w.stack)
    assert held is not None
    assert _live_version(w) == NEW
    final = abort(w.ctx, held, "aborted by bob")
    assert final.outcome is Outcome.ABORTED
    assert final.reason == "aborted by bob"
    assert w.stack.issued[-1]["message"] == f"release {held.id}: blue back to {old}: aborted by bob"
    assert _live_version(w) == old
    assert records.in_progress(w.stack) is None


def test_the_bake_fails_on_an_alarm_after_the_rollout_completed(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    w.stack.set_release(versions={"blue": NEW, "green": w.stack.release_config().versions.green})
    runner = Executor(w.ctx).runner
    record = runner._write({}, records.new_record(w.stack.release_config(), NEW, "rolling", w.clock, "t"), new=True)
    w.ctx.aws.cloudwatch.client.set_alarm_state(AlarmName=f"{w.stack.prefix}-blue-health", StateValue="ALARM", StateReason="test")
    with pytest.raises(RolloutFailedError) as caught:
        runner.run(Settle(Colour.BLUE, 300, 10), record)
    # ECS's own bake is over once the deployment completed: the driver's update rolls it back.
    assert not caught.value.ecs_rolls_back
    assert f"{w.stack.prefix}-blue-health" in caught.value.why


def test_ctrl_c_during_the_rollback_leaves_the_new_state_whole_and_abort_finishes_it(session: Any) -> None:
    clock = InterruptingClock()
    w, ecs = rolling_world(session, "rolls-back", clock=clock)
    old = _live_version(w)
    # Ctrl-C lands while the driver verifies the update that put the old version back.
    ecs.interrupt_after_restore = 10.0
    with pytest.raises(KeyboardInterrupt):
        _release(w)
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.ending is None
    assert _live_version(w) == NEW  # nothing half-written: the release is still in progress on the new version
    final = abort(w.ctx, held, "aborted after Ctrl-C")
    assert final.outcome is Outcome.ABORTED
    assert _live_version(w) == old


def test_a_rolling_release_is_not_resumed_but_aborted(session: Any) -> None:
    w, _ = rolling_world(session, "stuck")
    config = w.stack.release_config()
    runner = Executor(w.ctx).runner
    runner._write({}, records.new_record(config, NEW, "rolling", w.clock, "t").model_copy(update={"lease": None}), new=True)
    held = records.in_progress(w.stack)
    assert held is not None
    records.commit(w.stack, held, held.model_copy(update={"lease": None}))
    with pytest.raises(RollbackRefusedError) as caught:
        plan_resume(w.ctx)
    assert "release abort" in caught.value.next_command


def test_status_shows_the_live_services_deployments_during_a_rolling_release(session: Any) -> None:
    w, _ = rolling_world(session, "stuck")
    runner = Executor(w.ctx).runner
    runner._write({}, records.new_record(w.stack.release_config(), NEW, "rolling", w.clock, "t"), new=True)
    w.stack.set_release(versions={"blue": NEW, "green": w.stack.release_config().versions.green})
    state = gather(w.stack, w.ctx.aws, "staging")
    assert [(d["status"], d["rolloutState"]) for d in state["deployments"]["blue"]] == [("PRIMARY", "IN_PROGRESS"), ("ACTIVE", "COMPLETED")]
    assert state["deployments"]["blue"][0]["taskDefinition"].endswith(f":{NEW}")


def test_a_failed_migration_ends_the_release_before_the_roll_with_the_live_colour_untouched(session: Any) -> None:
    w, ecs = rolling_world(session, "completes")
    old = _live_version(w)
    w.runner.exit_code = 1
    result = _release(w)
    assert (result.outcome, result.exit_code, result.failed_step) == (Outcome.ABORTED, ExitCode.REFUSED, "migrate")
    assert _live_version(w) == old
    assert ecs.rolled_at is None  # ECS never saw a new version
    # Stage, then the update that ends the release (the migration task back to the live version).
    assert [u["message"].split(": ", 1)[1].split(":")[0] for u in w.stack.issued] == [
        f"revise the migration task to {NEW}", f"blue back to {old}"]
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert last.outcome is Outcome.ABORTED


def test_a_bake_nobody_can_observe_does_not_pass(session: Any) -> None:
    w, ecs = rolling_world(session, "completes")
    w.stack.set_release(versions={"blue": NEW, "green": w.stack.release_config().versions.green})
    runner = Executor(w.ctx).runner
    record = runner._write({}, records.new_record(w.stack.release_config(), NEW, "rolling", w.clock, "t"), new=True)
    ecs.throttled = True
    with pytest.raises(StepFailure) as caught:
        runner.run(Settle(Colour.BLUE, 600, 10), record)
    assert caught.value.infrastructure
    assert "ThrottlingException" in caught.value.why
    assert "cannot be watched" in caught.value.why


# --- what a rollout, a rollback and a bake accept ---------------------------------------------------------------


def test_ecs_rolling_back_onto_the_wrong_image_is_never_accepted_and_the_config_stays(session: Any) -> None:
    w, ecs = rolling_world(session, "rolls-back")
    # ECS's rollback reaches COMPLETED, but its PRIMARY deployment runs an image that is neither version.
    ecs.back_on = "9.9.9"
    result = _release(w)
    assert result.exit_code == ExitCode.INFRASTRUCTURE
    assert "did not reach COMPLETED with" in (result.why or "")
    assert "COMPLETED" in (result.why or "")
    assert "9.9.9" in (result.why or ""), "the last seen deployment is named"
    # Nothing written after the roll: the release stays in progress on the new version for a person to look at.
    assert [u["message"].split(": ", 1)[1] for u in w.stack.issued][-1] == f"roll {NEW} onto blue"
    assert _live_version(w) == NEW
    assert records.in_progress(w.stack) is not None


def test_a_rollout_completed_with_fewer_tasks_running_than_desired_is_not_accepted(session: Any) -> None:
    w, ecs = rolling_world(session, "completes")
    w.stack.set_release(versions={"blue": NEW, "green": w.stack.release_config().versions.green})
    ecs.counts = (1, 2)
    runner = Executor(w.ctx).runner
    record = runner._write({}, records.new_record(w.stack.release_config(), NEW, "rolling", w.clock, "t"), new=True)
    with pytest.raises(RolloutFailedError) as caught:
        runner.run(Watch(Colour.BLUE, NEW, 300, 10), record)
    assert "not completed after 300s" in caught.value.why
    assert "blue service runs 1 of 2 tasks" in caught.value.why


def test_a_rollout_completed_with_unhealthy_targets_is_not_accepted(session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    w, _ = rolling_world(session, "completes")
    w.stack.set_release(versions={"blue": NEW, "green": w.stack.release_config().versions.green})
    w.stack.update("roll")
    targets_unhealthy(w, monkeypatch)
    runner = Executor(w.ctx).runner
    record = runner._write({}, records.new_record(w.stack.release_config(), NEW, "rolling", w.clock, "t"), new=True)
    with pytest.raises(RolloutFailedError) as caught:
        runner.run(Watch(Colour.BLUE, NEW, 300, 10), record)
    assert "not completed after 300s" in caught.value.why
    assert "blue targets not healthy" in caught.value.why
    assert "unhealthy" in caught.value.why


def test_the_bake_fails_when_primary_leaves_the_new_version_with_no_alarm(session: Any) -> None:
    w, ecs = rolling_world(session, "completes")
    old = _live_version(w)
    # Two minutes after the rollout, ECS's PRIMARY deployment runs the old image again, COMPLETED, no alarm firing.
    ecs.leaves_after = 120.0
    config = w.stack.release_config()
    steps = plan_release(config, w.stack.outputs(), ReleaseOptions(version=NEW, bake_minutes=10, poll_seconds=10), "staging")
    result = Executor(w.ctx).run(steps, records.new_record(config, NEW, "rolling", w.clock, "t"))
    assert result.failed_step == "settle"
    assert result.outcome is not Outcome.PROMOTED
    assert f"the service no longer runs {NEW}" in (result.why or "")
    assert _live_version(w) == old
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert last.outcome is not Outcome.PROMOTED
