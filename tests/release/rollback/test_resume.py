"""Interrupted releases: what an interrupt leaves, resuming from the last verified step, aborting, two drivers on one stack."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import Colour
from components.config.release_record import MigrationRun, Outcome, Phase
from release.engine import StackBusyError
from release.errors import ExitCode
from release.rollback.fast import RollbackRefusedError, fast_rollback
from release.rollback.resume import interrupted_message, interruptible, plan_resume, remaining, resume
from release.state.record import in_progress
from release.strategies.executor import abort
from release.strategies.steps import Backup, Bake, Deploy, Migrate, Preflight, Promote, Shift, Smoke
from tests.stack_world import InterruptingClock, World, release, world


def _interrupted(session: Any) -> World:
    """A release of v2 stopped by Ctrl-C 30 s into the bake of its second step (25%)."""
    clock = InterruptingClock()
    # A bake ends at its minute: how the low-traffic rule extends a bake is not the subject here (tests/stack_world.py).
    w = world(session, clock=clock, extend_minutes=0)
    original = w.stack.update

    def arm_on_second_shift(message: str, targets: Any = None) -> Any:
        result = original(message, targets)
        if "25% to green" in message:
            clock.at = clock.monotonic() + 30
        return result

    w.stack.update = arm_on_second_shift  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        release(w, "v2", poll_seconds=10)
    w.stack.update = original  # type: ignore[method-assign]
    return w


def test_an_interrupt_mid_bake_leaves_the_last_verified_weights_and_the_record(session: Any) -> None:
    w = _interrupted(session)
    assert w.stack.served() == {"blue": 75, "green": 25}
    running = w.stack.release_config().in_progress
    assert running is not None
    assert (running.phase, running.weight, running.highest_weight) == (Phase.SHIFTING, 25, 25)


def test_resume_continues_from_the_last_verified_step_without_repeating_earlier_ones(session: Any) -> None:
    w = _interrupted(session)
    w.stack.issued.clear()
    runs_before = len(w.runner.runs)

    result = resume(w.ctx)

    assert result.outcome is Outcome.PROMOTED, result.why
    # The last step and the promotion leave blue its 5% control (release:controlWeight); then the control ends.
    assert [u["weights"]["green"] for u in w.stack.issued] == [25, 50, 95, 95, 100]
    assert not any("on green" in u["message"] for u in w.stack.issued), "the deploy is not repeated"
    assert len(w.runner.runs) == runs_before, "the migration is not repeated"
    assert w.stack.served() == {"blue": 0, "green": 100}
    assert w.stack.release_config().live is Colour.GREEN


def test_abort_after_an_interrupt_restores_live_at_100(session: Any) -> None:
    w = _interrupted(session)
    running = w.stack.release_config().in_progress
    w.stack.issued.clear()

    final = abort(w.ctx, running, "aborted after an interrupt")

    assert final.outcome is Outcome.ABORTED
    assert len(w.stack.issued) == 1
    assert w.stack.served() == {"blue": 100, "green": 0}


def test_resume_walks_the_weights_the_release_started_with_not_the_stacks(session: Any) -> None:
    w = world(session, extend_minutes=0)
    release(w, "v2", until_weight=50, steps=(50, 100))
    assert w.stack.release_config().in_progress.steps == (50, 100)
    w.stack.issued.clear()
    assert resume(w.ctx).outcome is Outcome.PROMOTED
    assert [u["message"].split(": ", 1)[1] for u in w.stack.issued] == [
        "50% to green (step 1/2)", "95% to green, blue keeps 5% as the control (step 2/2)", "promote green (v2) to live",
        "blue's 5% control share to green",
    ]


def test_resume_with_no_release_in_progress_is_refused(session: Any) -> None:
    w = world(session, extend_minutes=0)
    with pytest.raises(RollbackRefusedError) as caught:
        plan_resume(w.ctx)
    assert str(caught.value) == "resume: no release is in progress on staging"


def test_a_failure_while_resuming_aborts_the_release(session: Any) -> None:
    w = _interrupted(session)
    w.ctx.probe = lambda url, headers=None: 500
    w.stack.issued.clear()
    w.stack.set_config({"release:inProgress": w.stack.config["release:inProgress"].replace('"phase":"shifting"', '"phase":"migrated"')})

    result = resume(w.ctx)

    assert result.outcome is Outcome.ABORTED
    assert "answered 500" in (result.why or "")
    assert w.stack.served() == {"blue": 100, "green": 0}


def test_remaining_skips_what_the_record_verified() -> None:
    from components.config.release_record import ReleaseRecord

    steps = [
        Preflight(Colour.BLUE), Backup("db", "snap"), Deploy(Colour.GREEN, "v2"), Migrate(("m",)),
        Smoke("endpoint_url", "/h", colour=Colour.GREEN),
        Shift(Colour.GREEN, 10, 1, 3), Bake(10, 60), Shift(Colour.GREEN, 50, 2, 3), Bake(50, 60),
        Shift(Colour.GREEN, 100, 3, 3), Bake(100, 60), Promote(Colour.GREEN), Smoke("endpoint_url", "/h"),
    ]
    record = ReleaseRecord.model_validate({
        "id": "r-1", "version": "v2", "colour": "green", "previous": "v1", "strategy": "canary", "startedAt": "2026-01-01T00:00:00Z",
        "startedBy": "a", "phase": "shifting", "weight": 50, "highestWeight": 50, "snapshot": "snap",
        "migration": MigrationRun(task="t", exit_code=0).model_dump(by_alias=True),
    })
    assert [s.describe() for s in remaining(steps, record)] == [s.describe() for s in steps[7:]]
    early = record.model_copy(update={"phase": Phase.DEPLOYED, "weight": 0, "highest_weight": 0, "migration": None})
    assert remaining(steps, early)[0] == Migrate(("m",))


def test_interruptible_prints_both_commands_and_lets_the_interrupt_through() -> None:
    said: list[str] = []
    with pytest.raises(KeyboardInterrupt), interruptible("staging", said.append):
        raise KeyboardInterrupt
    assert said == [interrupted_message("staging")]
    assert "python -m release resume --stack staging" in said[0]
    assert "python -m release abort --stack staging" in said[0]


def test_a_second_driver_is_refused_at_once_naming_who_holds_the_release(session: Any) -> None:
    w = world(session, extend_minutes=0)
    release(w, "v2", until_weight=25, by="alice@laptop")
    w.stack.issued.clear()
    slept = w.clock.slept

    second = release(w, "v3", by="bob@desk")

    assert second.outcome is Outcome.REFUSED
    assert second.exit_code is ExitCode.REFUSED
    assert "held by alice@laptop" in (second.why or "")
    assert w.stack.issued == [], "the second driver issued no update"
    assert w.clock.slept == slept, "it refused at once, without waiting"
    assert w.stack.release_config().in_progress.version == "v2"


def test_a_busy_stack_refuses_a_rollback_naming_the_holder_and_changes_nothing(session: Any) -> None:
    w = world(session, extend_minutes=0)
    release(w, "v2", until_weight=25)
    w.stack.busy_with = "carol@ci"
    before = (w.stack.served(), _state(w))
    with pytest.raises(StackBusyError) as caught:
        fast_rollback(w.ctx)
    assert "another update holds stack staging (carol@ci)" in caught.value.why
    assert (w.stack.served(), _state(w)) == before, "the record still says what the listener serves"


def _state(w: World) -> tuple[dict[str, str], dict[str, Any]]:
    """The config and the record in progress, but for the record's write counter."""
    config = w.stack.get_config()
    record = in_progress(w.stack)
    assert record is not None
    return {k: v for k, v in config.items() if k != "release:inProgress"}, record.model_dump(exclude={"revision"})


def test_pulumis_lock_message_is_mapped_to_the_user_who_holds_the_stack(tmp_path: Any) -> None:
    from types import SimpleNamespace

    from pulumi import automation as auto
    from pulumi.automation._cmd import CommandResult

    from release.engine.automation import AutomationEngine

    text = (
        "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock "
        "file with `pulumi cancel`.\n  s3://state/.pulumi/locks/release-platform/staging/5d1c.json: "
        "created by alice@laptop (pid 4242) at 2026-11-26T03:12:00Z"
    )

    class Locked:
        def up(self, **kwargs: Any) -> Any:
            raise auto.ConcurrentUpdateError(CommandResult(stdout="", stderr=text, code=255))

    module = SimpleNamespace(
        create_or_select_stack=lambda stack_name, work_dir: Locked(), ConcurrentUpdateError=auto.ConcurrentUpdateError,
        StackNotFoundError=auto.StackNotFoundError, CommandError=auto.CommandError, ConfigValue=auto.ConfigValue,
    )
    engine = AutomationEngine("staging", tmp_path, automation=module, qualified="acme-platform/release-platform/staging")  # type: ignore[arg-type]
    with pytest.raises(StackBusyError) as caught:
        engine.update("rollback")
    assert caught.value.why == "another update holds stack staging (alice@laptop)"
    assert engine.holder() == "alice@laptop"
