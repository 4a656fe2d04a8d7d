"""Every way the executor stops a release after a failed step, each result whole: what the driver prints, its
exit code and the next command all come from these fields.

A step of a real canary release on the stack world raises the failure instead of running: refused before anything
changed, reported once the release is live, aborted, aborted with its record unfinished, an abort that fails too,
and a release another shell took over meanwhile.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.config.release_record import Outcome, ReleaseRecord
from release.aws.base import AwsError
from release.engine import EngineError, StackBusyError
from release.state import record as records
from release.strategies import executor
from release.strategies.executor import Executor, Result
from release.strategies.failure import StepFailure
from release.strategies.planner import ReleaseOptions, plan_release
from tests.stack_world import POLL_SECONDS, World, final_write_fails, lease_taken_by, world

STATUS = "python -m release status --stack staging"
# The canary release's steps on staging: preflight, backup, deploy, migrate, smoke, then shift and bake three times,
# promote, the live smoke test and the end of the control share.
BAKE_AT_25, LIVE_SMOKE = 7, 13



def _stopped(w: World, at: int, failure: Exception | None = None, before: Any = None) -> tuple[Result, Executor]:
    """Release v2 on the world; step number ``at`` (from 1) runs ``before`` and then raises ``failure`` instead of running."""
    config = w.stack.release_config()
    options = ReleaseOptions(version="v2", bake_minutes=1, poll_seconds=POLL_SECONDS)
    steps = plan_release(config, w.stack.outputs(), options, "staging")
    record = records.new_record(config, "v2", config.strategy.value, w.clock, w.ctx.by)
    executor = Executor(w.ctx)
    real, count = executor.runner.run, [0]

    def run(step: Any, held: ReleaseRecord) -> ReleaseRecord:
        count[0] += 1
        if count[0] == at:
            if before is not None:
                before()
            if failure is not None:
                raise failure
        return real(step, held)

    executor.runner.run = run  # type: ignore[method-assign]
    return executor.run(steps, record), executor


@pytest.mark.parametrize(("failure", "said", "infrastructure"), [
    (StepFailure("preflight", "blue is not healthy", "fix blue"), ("preflight: blue is not healthy", "fix blue"), False),
    (StepFailure("preflight", "ECS did not answer", infrastructure=True), ("preflight: ECS did not answer", STATUS), True),
    (AwsError("reading the listener", "access denied", "check the role"), ("reading the listener: access denied", "check the role"), True),
    (StackBusyError("updating staging", "held by carol@ci", "wait for carol"),
     ("updating staging: held by carol@ci", "wait for carol"), False),
])
def test_a_first_step_that_fails_refuses_the_release_having_changed_nothing(
    session: Any, failure: Exception, said: tuple[str, str], infrastructure: bool,
) -> None:
    w = world(session)
    before = dict(w.stack.get_config())
    result, _ = _stopped(w, 1, failure)
    assert result == Result(Outcome.REFUSED, None, "preflight", *said, infrastructure, 0)
    assert w.stack.get_config() == before


def test_a_check_that_fails_once_the_release_is_live_is_reported_with_the_way_back(session: Any) -> None:
    w = world(session)
    result, _ = _stopped(w, LIVE_SMOKE, StepFailure("smoke test of live", "/health answered 500", "look at the logs"))
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert last.outcome is Outcome.PROMOTED
    assert result == Result(Outcome.PROMOTED, last, "smoke", "smoke test of live: /health answered 500",
                            f"{STATUS}, then roll back to blue if needed", False, LIVE_SMOKE - 1)
    assert result.exit_code != 0, "a live release whose check failed is not a clean release"


def test_a_bake_that_fails_aborts_the_release_verified_and_says_why(session: Any) -> None:
    w = world(session)
    result, executor = _stopped(w, BAKE_AT_25, StepFailure("bake at 25%", "errors 4.1% > 1%", "look at the candidate's logs"))
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert (last.outcome, last.reason) == (Outcome.ABORTED, "bake at 25%: errors 4.1% > 1%")
    assert result == Result(Outcome.ABORTED, last, "bake", "bake at 25%: errors 4.1% > 1%", "look at the candidate's logs",
                            False, BAKE_AT_25 - 1)
    assert w.stack.served() == {"blue": 100, "green": 0}
    assert "abort-update" in [event for _, event in executor.timing.events], "the abort's update is timed with the release"


def test_an_abort_whose_final_write_fails_is_aborted_and_names_the_command_that_finishes_the_record(session: Any) -> None:
    w = world(session)
    final_write_fails(w, EngineError("writing the release state", "ESC answered 503", "try again"))
    result, _ = _stopped(w, BAKE_AT_25, StepFailure("bake at 25%", "errors 4.1% > 1%", "look at the candidate's logs"))
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.ending is not None, "the marked record stays for the abort run again to finish"
    assert result.record is not None
    assert (result.record.id, result.record.ending) == (held.id, held.ending)
    assert result == Result(
        Outcome.ABORTED, result.record, "bake",
        "bake at 25%: errors 4.1% > 1%; aborted; the record is not finished: writing the release state: ESC answered 503",
        "python -m release abort --stack staging  (finishes the record)", True, BAKE_AT_25 - 1,
    )
    assert w.stack.served() == {"blue": 100, "green": 0}


def test_an_abort_that_fails_too_names_both_failures_and_the_command_of_the_second(session: Any) -> None:
    w = world(session)
    original = w.stack.update

    def busy_for_the_abort(message: str, targets: Any = None) -> Any:
        if message.startswith("abort"):
            w.stack.busy_with = "carol@ci"
        return original(message, targets)

    w.stack.update = busy_for_the_abort  # type: ignore[method-assign]
    result, _ = _stopped(w, BAKE_AT_25, StepFailure("bake at 25%", "errors 4.1% > 1%", "look at the candidate's logs"))
    held = records.in_progress(w.stack)
    assert held is not None
    assert result.record is not None
    assert (result.record.id, result.record.weight, result.record.ending) == (held.id, 25, None)
    assert result.why is not None
    assert result.why.startswith("bake at 25%: errors 4.1% > 1%; then the abort failed: ")
    assert "carol@ci" in result.why
    assert result.next_command is not None
    assert result.next_command != "look at the candidate's logs", "the command is the second failure's"
    assert (result.outcome, result.failed_step, result.infrastructure, result.steps_done) == (
        Outcome.ABORTED, "bake", True, BAKE_AT_25 - 1)
    assert w.stack.served() == {"blue": 75, "green": 25}


def test_a_failed_step_of_a_release_another_shell_took_over_aborts_nothing_and_says_where_it_is(session: Any) -> None:
    w = world(session)

    carol_takes_the_lease = lease_taken_by(w, "carol@ci (pid 99)")

    result, _ = _stopped(w, BAKE_AT_25, StepFailure("bake at 25%", "errors 4.1% > 1%", "look at the candidate's logs"),
                         carol_takes_the_lease)
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.lease is not None
    assert held.lease.holder == "carol@ci (pid 99)"
    assert result.record == held
    assert (result.outcome, result.failed_step, result.infrastructure, result.steps_done) == (
        Outcome.ABORTED, "bake", False, BAKE_AT_25 - 1)
    assert result.why is not None
    assert "carol@ci (pid 99)" in result.why
    assert result.why.endswith("stopped; the release is still at 25%")
    assert w.stack.served() == {"blue": 75, "green": 25}, "carol's release goes on where it was"


def test_an_abort_that_fails_without_a_command_names_status_on_this_stack(session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    w = world(session)

    def unreadable(*args: Any, **kwargs: Any) -> Any:
        msg = "reading the listener"
        raise AwsError(msg, "ELB did not answer")

    monkeypatch.setattr(executor, "abort", unreadable)
    result, _ = _stopped(w, BAKE_AT_25, StepFailure("bake at 25%", "errors 4.1% > 1%", "look at the candidate's logs"))
    assert result.why == "bake at 25%: errors 4.1% > 1%; then the abort failed: reading the listener: ELB did not answer"
    assert result.next_command == STATUS
