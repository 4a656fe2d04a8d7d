"""One writer of the release state: commands from another shell win, and every command keeps old state or new under faults."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from typer.testing import CliRunner

from components.config import Colour
from components.config.release_record import Outcome, Phase
from rehearsal.world.seams import ScheduledClock
from release.aws.ecs import TaskRun, TaskSpec
from release.cli import app
from release.commands import driver
from release.engine import EngineError, StackBusyError, UpdateFailedError
from release.errors import ExitCode
from release.rollback.fast import RollbackRefusedError, fast_rollback
from release.rollback.resume import plan_resume, resume
from release.state import record as records
from release.strategies.executor import abort, promote_now
from release.strategies.failure import StepFailure
from release.strategies.steps import Bake
from tests.stack_world import World, release, world


class Killed(BaseException):
    """The process dropped mid-way, as kill -9 would: no handler of ours runs."""



def _elsewhere(w: World, by: str = "bob@desk") -> Any:
    return replace(w.ctx, by=by)


# --- the running driver stops before its next write and says who ended it ---------------------


def _during_first_bake(w: World, action: Callable[[], object]) -> None:
    """Run ``action`` (another shell) 20 s into the bake after the first shift."""
    clock = w.clock
    assert isinstance(clock, ScheduledClock)
    original = w.stack.update

    def arm(message: str, targets: Any = None) -> Any:
        found = original(message, targets)
        if "25% to green" in message:
            clock.at(clock.monotonic() + 20, action)
        return found

    w.stack.update = arm  # type: ignore[method-assign]


def test_an_abort_from_another_shell_during_a_bake_stops_the_driver_which_says_who(session: Any) -> None:
    w = world(session, clock=ScheduledClock())
    aborted_at: list[float] = []

    def bob_aborts() -> None:
        abort(_elsewhere(w), records.in_progress(w.stack), "bob saw errors", by="bob@desk")
        aborted_at.append(w.clock.monotonic())

    _during_first_bake(w, bob_aborts)
    result = release(w, "v2", poll_seconds=10)
    assert w.clock.monotonic() - aborted_at[0] <= 10, "the driver noticed at its next poll, not at the end of the bake"
    assert result.outcome is Outcome.ABORTED
    assert result.why is not None
    assert "aborted elsewhere: bob@desk" in result.why
    assert "this driver stopped before its next write" in result.why
    assert w.stack.served() == {"blue": 100, "green": 0}
    last = w.stack.release_config().last_release
    assert (last.outcome, last.ended_by) == (Outcome.ABORTED, "bob@desk")
    assert w.stack.release_config().in_progress is None
    assert not [u for u in w.stack.issued if "50% to green" in u["message"] or "promote" in u["message"]]


def test_a_promotion_from_another_shell_during_a_bake_is_reported_as_promoted_elsewhere(session: Any) -> None:
    w = world(session, clock=ScheduledClock())
    _during_first_bake(w, lambda: promote_now(_elsewhere(w), records.in_progress(w.stack)))
    result = release(w, "v2", poll_seconds=10)
    assert result.outcome is Outcome.PROMOTED
    assert result.why is not None
    assert "promoted elsewhere: bob@desk" in result.why
    assert "ended from another shell" not in result.why
    assert w.stack.served() == {"blue": 0, "green": 100}
    assert w.stack.release_config().live is Colour.GREEN
    assert len([u for u in w.stack.issued if "promote" in u["message"]]) == 1, "the driver did not promote again"


def test_an_abort_while_the_migration_runs_holds_and_the_driver_writes_nothing_after(session: Any) -> None:
    w = world(session)

    class AbortedMeanwhile:
        runs: list[TaskSpec] = []  # noqa: RUF012 - one test's runner

        def run(self, spec: TaskSpec, started_by: str, timeout: float, heartbeat: Callable[[], None] | None = None) -> TaskRun:
            abort(_elsewhere(w), records.in_progress(w.stack), "bob aborted during the migration", by="bob@desk")
            if heartbeat is not None:
                heartbeat()  # the driver's renewal meets the ended record: it stops renewing, and writes nothing
            return TaskRun(task_arn="arn:aws:ecs:eu-west-1:123456789012:task/web/9", exit_code=0)

    w.ctx.runner = AbortedMeanwhile()
    result = release(w, "v2")
    assert result.outcome is Outcome.ABORTED
    assert result.why is not None
    assert "aborted elsewhere: bob@desk" in result.why
    last = w.stack.release_config().last_release
    assert last.outcome is Outcome.ABORTED
    assert last.migration is None, "the driver did not write its migration into the aborted record"
    assert w.stack.release_config().in_progress is None
    assert not [u for u in w.stack.issued if "% to green" in u["message"]]
    assert w.stack.served() == {"blue": 100, "green": 0}


# --- abort, promote and rollback under engine failure, lock conflict, kill -9 and Ctrl-C ----------------

FAULTS = ("engine-failure", "lock-conflict", "kill", "ctrl-c")


def _inject(w: World, fault: str) -> None:
    if fault == "lock-conflict":
        w.stack.busy_with = "carol@ci"
        return

    def failing(message: str, targets: Any = None) -> Any:
        if fault == "engine-failure":
            raise UpdateFailedError("update of stack staging", "error: ELBv2 throttled", "retry")
        if fault == "ctrl-c":
            raise KeyboardInterrupt
        raise Killed

    w.stack.update = failing  # type: ignore[method-assign]


def _heal(w: World) -> None:
    w.stack.busy_with = None
    w.stack.update = type(w.stack).update.__get__(w.stack)  # type: ignore[method-assign]


def _release_state(w: World) -> tuple[dict[str, str], dict[str, Any] | None]:
    config = {k: v for k, v in w.stack.get_config().items() if k.startswith("release:") and k != records.IN_PROGRESS}
    running = records.in_progress(w.stack)
    return config, None if running is None else running.model_dump(exclude={"revision"})


def _expect_failure(fault: str) -> type[BaseException]:
    return {"engine-failure": EngineError, "lock-conflict": StackBusyError, "kill": Killed, "ctrl-c": KeyboardInterrupt}[fault]


COMMANDS: dict[str, Callable[[World], object]] = {
    "abort": lambda w: abort(_elsewhere(w), records.in_progress(w.stack), "bob aborts", by="bob@desk"),
    "promote": lambda w: promote_now(_elsewhere(w), records.in_progress(w.stack)),
    "rollback": lambda w: fast_rollback(_elsewhere(w)),
}


def _prepared(session: Any, command: str) -> World:
    w = world(session)
    if command == "rollback":
        assert release(w, "v2").outcome is Outcome.PROMOTED
    else:
        release(w, "v2", until_weight=25)
    w.stack.issued.clear()
    return w


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("fault", FAULTS)
def test_each_command_keeps_the_old_state_or_the_new_one_under_each_fault(session: Any, command: str, fault: str) -> None:
    w = _prepared(session, command)
    served, state = w.stack.served(), _release_state(w)
    _inject(w, fault)
    with pytest.raises(_expect_failure(fault)):
        COMMANDS[command](w)
    _heal(w)
    assert w.stack.served() == served, "no traffic moved"
    if fault != "kill":
        assert _release_state(w) == state, "the release state is as it was, and says what the listener serves"
        return
    # Killed between marking the record and moving it: it is still there, saying who was ending it, and the same command finishes it.
    marked = records.in_progress(w.stack)
    assert marked is not None
    assert marked.ending is not None
    assert marked.ending.by == "bob@desk"
    with pytest.raises(RollbackRefusedError) as refused:
        resume(w.ctx)
    assert "did not finish" in refused.value.why
    COMMANDS[command](w)
    assert records.in_progress(w.stack) is None
    last = w.stack.release_config().last_release
    expected = {"abort": Outcome.ABORTED, "promote": Outcome.PROMOTED, "rollback": Outcome.ROLLED_BACK}[command]
    assert last.outcome is expected
    live = w.stack.release_config().live
    assert w.stack.served() == {live.value: 100, live.other.value: 0}


# --- promote refuses what has not passed its checks; resume keeps the release's own steps and bake ------


def test_kill_during_deploy_then_promote_is_refused(session: Any) -> None:
    w = world(session)
    original = w.stack.update

    def killed_at_deploy(message: str, targets: Any = None) -> Any:
        if "v2 on green" in message:
            raise Killed
        return original(message, targets)

    w.stack.update = killed_at_deploy  # type: ignore[method-assign]
    with pytest.raises(Killed):
        release(w, "v2")
    w.stack.update = original  # type: ignore[method-assign]
    held = records.in_progress(w.stack)
    assert held is not None
    w.stack.issued.clear()
    with pytest.raises(StepFailure) as caught:
        promote_now(_elsewhere(w), held)
    assert "has not passed deploy, the candidate smoke test" in caught.value.why
    assert w.stack.issued == []
    assert w.stack.release_config().live is Colour.BLUE


def test_promote_refuses_a_release_whose_migration_failed(session: Any) -> None:
    w = world(session)
    release(w, "v2", until_weight=25)
    held = records.in_progress(w.stack)
    assert held is not None
    broken = held.model_copy(update={"migration": held.migration.model_copy(update={"exit_code": 1})})
    with pytest.raises(StepFailure) as caught:
        promote_now(w.ctx, broken)
    assert "has not passed the migration" in caught.value.why


def test_a_resumed_release_bakes_as_long_as_it_was_started_with(session: Any) -> None:
    w = world(session)
    release(w, "v2", until_weight=25, bake_minutes=0.5)
    assert records.in_progress(w.stack).bake_minutes == 0.5
    _, steps = plan_resume(w.ctx)
    assert {s.seconds for s in steps if isinstance(s, Bake)} == {30.0}, "the stack's 5 minutes are not used"


def test_resume_refuses_while_the_drivers_lease_is_fresh_and_names_it(session: Any) -> None:
    w = world(session)
    release(w, "v2", until_weight=25)
    held = records.in_progress(w.stack)
    records.commit(w.stack, held, records.leased(held, "carol@ci (pid 4242)", w.clock))
    with pytest.raises(RollbackRefusedError) as caught:
        resume(w.ctx)
    assert "is being driven by carol@ci (pid 4242) (lease renewed 2026-01-01 00:" in caught.value.why
    w.clock.sleep(records.LEASE.total_seconds())
    assert resume(w.ctx).outcome is Outcome.PROMOTED, "an expired lease is taken over"


def test_a_release_in_progress_refuses_a_second_driver_even_if_it_raced_past_preflight(session: Any) -> None:
    w = world(session)
    release(w, "v2", until_weight=25)
    config = w.stack.release_config()
    second = records.new_record(config, "v3", "canary", w.clock, "dave@ci")
    with pytest.raises(records.ReleaseInProgressError) as caught:
        records.commit(w.stack, None, second)
    assert "release r-20260101t000000-v2 of v2 is in progress" in caught.value.why
    assert records.in_progress(w.stack).version == "v2"
    assert records.in_progress(w.stack).phase is Phase.SHIFTING


def test_a_driver_holding_an_older_revision_of_its_record_writes_nothing_and_says_who_wrote(session: Any) -> None:
    w = world(session)
    release(w, "v2", until_weight=25)
    held = records.in_progress(w.stack)
    assert held is not None
    records.commit(w.stack, held, records.leased(held, "carol@ci (pid 7)", w.clock))
    before = w.stack.get_config()
    with pytest.raises(records.ReleaseEndedError) as caught:
        records.commit(w.stack, held, records.advance(held, weight=25))
    expected = f"its record was changed by carol@ci (pid 7) (revision {held.revision + 1}; this driver held {held.revision})"
    assert expected in caught.value.why
    assert w.stack.get_config() == before


# --- the same from the command line: a message and an exit code, never a traceback --------------


@pytest.fixture
def shell(session: Any, monkeypatch: pytest.MonkeyPatch) -> World:
    found = world(session)
    conn = driver.Connection(found.stack, found.ctx.aws, found.clock, found.runner, found.ctx.probe)
    monkeypatch.setattr(driver, "CONNECT", lambda stack: conn)
    return found


def test_ctrl_c_during_an_abort_update_exits_1_with_the_ways_on_and_the_release_still_in_progress(shell: World) -> None:
    release(shell, "v2", until_weight=25)
    _inject(shell, "ctrl-c")
    done = CliRunner().invoke(app, ["abort", "--stack", "staging"], terminal_width=300)
    _heal(shell)
    assert done.exit_code == ExitCode.REFUSED
    assert "Traceback" not in done.output
    assert "python -m release abort --stack staging" in done.output
    assert records.in_progress(shell.stack) is not None
    assert records.in_progress(shell.stack).ending is None


def test_promote_of_a_release_killed_during_deploy_exits_1_saying_what_it_has_not_passed(shell: World) -> None:
    original = shell.stack.update

    def killed_at_deploy(message: str, targets: Any = None) -> Any:
        if "v2 on green" in message:
            raise Killed
        return original(message, targets)

    shell.stack.update = killed_at_deploy  # type: ignore[method-assign]
    with pytest.raises(Killed):
        release(shell, "v2")
    shell.stack.update = original  # type: ignore[method-assign]
    done = CliRunner().invoke(app, ["promote", "--stack", "staging", "-o", "json"])
    assert done.exit_code == ExitCode.REFUSED, done.output
    assert "has not passed deploy, the candidate smoke test" in json.loads(done.output)["error"]["why"]


def test_a_rollback_whose_last_release_changed_since_it_was_read_writes_nothing(session: Any) -> None:
    w = world(session)
    assert release(w, "v2").outcome is Outcome.PROMOTED
    last = w.stack.release_config().last_release
    config = w.stack.release_config()
    mine = records.new_record(config, "3f9c2e1a", "canary", w.clock, "bob@desk")
    before = w.stack.get_config()
    with pytest.raises(records.ReleaseEndedError) as caught:
        records.commit(w.stack, None, mine, {"release:live": "blue"}, expect_last="r-someone-elses")
    assert f"the last release changed since it was read: it is now release {last.id} (promoted)" in caught.value.why
    assert w.stack.get_config() == before
