"""A rolling rollback's details a user reads: the result, the record, the update's message, and each failure's words."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import Colour
from components.config.release_record import Outcome
from release.errors import RefusedError
from release.rollback import rolling
from release.rollback.fast import RollbackRefusedError, fast_rollback
from release.state import record as records
from release.strategies.executor import abort
from release.strategies.failure import StepFailure
from tests.release.rollback.test_rolling import _released
from tests.release.strategies.test_rolling import NEW
from tests.rolling_support import rollback_killed_after_its_write, rolling_world


def test_the_result_and_the_record_say_what_was_rolled_back_and_why(session: Any) -> None:
    w, _, old = _released(session)
    undone = records.last_release(w.stack.get_config())
    assert undone is not None
    done = fast_rollback(w.ctx, "bad build")
    last = records.last_release(w.stack.get_config())
    assert done.record == last
    assert last is not None
    assert (last.outcome, last.ended_by) == (Outcome.ROLLED_BACK, "alice@laptop")
    assert last.reason == f"bad build: undid release {undone.id} of {NEW}"
    assert (done.updates, done.touched) == (1, 1)
    assert done.notes == (
        f"blue runs {old} again, rolled out by ECS in place; the listener was not touched",
        "green (the standby) was left as it was",
    )
    assert w.stack.issued[-1]["message"] == f"rollback: {old} back on blue, undoing release {undone.id}"


def test_the_versions_are_written_in_the_compact_form_every_writer_uses(session: Any) -> None:
    w, _, old = _released(session)
    fast_rollback(w.ctx)
    written = w.stack.get_config()["release:versions"]
    assert written == json.dumps(json.loads(written), separators=(",", ":"))
    assert json.loads(written)["blue"] == old


def test_a_rollback_killed_after_its_write_is_finished_with_its_own_reason_and_message(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w, _, old = _released(session)
    rollback_killed_after_its_write(w, monkeypatch, "first shell")
    held = records.in_progress(w.stack)
    assert held is not None
    done = fast_rollback(w.ctx, "second shell")
    assert done.record is not None
    assert done.record.reason == held.reason, "the killed rollback's reason, not the finishing shell's"
    assert held.reason is not None
    assert held.reason.startswith("first shell: undid release ")
    # No last release to name while it is finished: the message names the release it undoes by its version.
    assert w.stack.issued[-1]["message"] == f"rollback: {old} back on blue, undoing release {NEW}"
    assert (done.updates, done.touched) == (1, 1)


def test_abort_of_a_rollback_killed_after_its_write_is_refused_naming_the_rollback_that_finishes_it(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w, _, old = _released(session)
    rollback_killed_after_its_write(w, monkeypatch)
    held = records.in_progress(w.stack)
    assert held is not None
    with pytest.raises(RefusedError) as caught:
        abort(w.ctx, held, "bob aborts")
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "abort", f"{held.id} is a rollback to {old} on blue that did not finish; aborting it would put {NEW} back",
        "python -m release rollback --stack staging",
    )
    assert records.in_progress(w.stack) == held


def test_ecs_not_completing_says_where_to_look_then_how_to_finish(session: Any) -> None:
    w, ecs, old = _released(session)
    ecs.restored_at = 1e12
    with pytest.raises(StepFailure) as caught:
        fast_rollback(w.ctx)
    failure = caught.value
    assert failure.what == f"verifying that blue runs {old} again"
    assert failure.next_command == (
        f"`aws ecs describe-services --cluster web --services {w.stack.prefix}-blue` shows its deployments and events; "
        f"once the PRIMARY one runs {old} and is COMPLETED, `python -m release rollback --stack staging` again records "
        f"the rollback (its update finds the service already on {old}); if ECS cannot run {old}, see docs/runbook.md, "
        "Rolling stacks"
    )


def test_targets_that_stay_unhealthy_are_polled_every_15_s_for_600_s_and_named(session: Any) -> None:
    w, _, old = _released(session)
    w.stack.scale_down(Colour.BLUE)
    reads: list[float] = []
    health = w.ctx.aws.elbv2.target_health

    def counted(arn: str) -> Any:
        reads.append(w.clock.monotonic())
        return health(arn)

    w.ctx.aws.elbv2.target_health = counted  # type: ignore[method-assign]
    with pytest.raises(StepFailure) as caught:
        fast_rollback(w.ctx)
    failure = caught.value
    assert failure.what == f"verifying that blue serves {old} again"
    assert failure.why == (
        f"ECS completed the deployment of {old} but blue's targets are not healthy after 600s "
        "(not done after 600s (last seen: no targets registered in blue's target group))"
    )
    assert failure.next_command == (
        "`python -m release status --stack staging` shows the targets; once they are healthy, "
        "`python -m release rollback --stack staging` again records the rollback"
    )
    gaps = {round(b - a) for a, b in zip(reads, reads[1:], strict=False)}
    assert gaps == {15}
    assert 600 <= reads[-1] - reads[0] <= 615


def test_a_killed_rollback_is_finished_even_when_its_record_moved_on_after_this_shell_read_it(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w, _, old = _released(session)
    rollback_killed_after_its_write(w, monkeypatch, "first shell")
    check = rolling.check_config

    def another_shell_writes_first(ctx: Any, changes: Any) -> None:
        # After this shell read the marked record, another command rewrites it (same ending): its revision moves on.
        held = records.in_progress(w.stack)
        assert held is not None
        def same(stored: Any) -> Any:
            return stored

        records.commit(w.stack, held, same, exact=False)
        check(ctx, changes)

    monkeypatch.setattr(rolling, "check_config", another_shell_writes_first)
    done = fast_rollback(w.ctx, "second shell")
    assert (done.live, done.version) == (Colour.BLUE, old)
    assert records.in_progress(w.stack) is None
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert last.outcome is Outcome.ROLLED_BACK


def _refused(w: Any) -> RollbackRefusedError:
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(w.ctx)
    assert w.stack.issued == []
    return caught.value


HISTORY = "python -m release history --stack staging, then `python -m release deploy --stack staging --version V`"


def test_each_refusal_of_a_rolling_rollback_whole(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    refused = _refused(w)
    assert (refused.what, refused.next_command) == ("rollback", f"{HISTORY} to release the version you want")

    w, _, old = _released(session)
    last = records.last_release(w.stack.get_config())
    assert last is not None
    w.stack.set_release(versions={"blue": "2.0.1-hotfix", "green": old})
    refused = _refused(w)
    assert (refused.what, refused.why, refused.next_command) == (
        "rollback", f"the last release, {last.id}, put {NEW} on blue, but blue (live) runs 2.0.1-hotfix: the stack changed "
        "since, so it is not undone blindly", f"{HISTORY} to release the version you want",
    )

    w, _, _ = _released(session)
    last = records.last_release(w.stack.get_config())
    assert last is not None
    w.stack.set_config({records.LAST_RELEASE: records.encode(last.model_copy(update={"previous": NEW}))})
    refused = _refused(w)
    assert (refused.what, refused.next_command) == ("rollback", HISTORY)


@pytest.mark.parametrize("marked", [None, Outcome.ABORTED])
def test_a_rolling_release_in_progress_is_refused_naming_abort_even_when_marked_for_its_abort(session: Any, marked: Any) -> None:
    w, _, _ = _released(session)
    held = records.new_record(w.stack.release_config(), "3.0.0", "rolling", w.clock, "bob@ci")
    records.commit(w.stack, None, held)
    if marked is not None:
        stored = records.in_progress(w.stack)
        assert stored is not None
        records.commit(w.stack, stored, records.ending(stored, marked, "carol@laptop", w.clock), exact=False)
    refused = _refused(w)
    assert (refused.what, refused.why, refused.next_command) == (
        "rollback", f"release {held.id} of 3.0.0 is in progress on staging, held by bob@ci; a rolling release in progress "
        f"is ended by abort, which waits for ECS and puts release:versions.blue back to {NEW}, verified",
        "python -m release abort --stack staging",
    )
    assert records.in_progress(w.stack) is not None


def test_a_health_read_that_fails_outright_is_named_in_the_failure(session: Any) -> None:
    w, _, old = _released(session)

    def unreadable(arn: str) -> Any:
        msg = "DescribeTargetHealth: AccessDenied"
        raise RuntimeError(msg)

    w.ctx.aws.elbv2.target_health = unreadable  # type: ignore[method-assign]
    with pytest.raises(StepFailure) as caught:
        fast_rollback(w.ctx)
    assert caught.value.why == (
        f"ECS completed the deployment of {old} but blue's targets are not healthy after 600s (DescribeTargetHealth: AccessDenied)"
    )


def test_an_update_by_someone_else_during_the_rollback_is_counted(session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    w, _, _ = _released(session)
    verify = rolling._verify

    def meanwhile(runner: Any, record: Any) -> None:
        # A drift remediation (or any other update) lands while the rollback waits for ECS: the stack took two updates.
        w.stack.update("refresh by deployments")
        verify(runner, record)

    monkeypatch.setattr(rolling, "_verify", meanwhile)
    done = fast_rollback(w.ctx)
    assert done.updates == 2
