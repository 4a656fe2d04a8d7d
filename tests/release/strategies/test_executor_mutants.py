"""The executor's endings a user reads: a rolling release ECS rolled back, one whose rollback failed too, and a
release another shell ended or changed, each result whole."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from components.config import ConfigError, load
from components.config.release_record import Outcome, ReleaseRecord
from offline.stacks import ProjectFiles
from release.aws.base import AwsError
from release.state import record as records
from release.strategies import executor
from release.strategies.executor import Result, _ended_elsewhere, _explain, promote_now, release_config
from release.strategies.failure import StepFailure
from release.strategies.rolling import RolloutFailedError
from tests.release.strategies.test_rolling import NEW, _release
from tests.release.strategies.test_stopped_results import _stopped
from tests.rolling_support import rolling_world
from tests.stack_world import lease_taken_by, release, world


def test_a_rolling_release_ecs_rolled_back_ends_rolled_back_naming_what_to_fix(session: Any) -> None:
    w, _ = rolling_world(session, "rolls-back")
    old = w.stack.release_config().versions.blue
    result = _release(w)
    assert result.record == records.last_release(w.stack.get_config())
    assert result.record is not None
    assert result.record.outcome is Outcome.ROLLED_BACK
    assert (result.outcome, result.failed_step, result.steps_done) == (Outcome.ROLLED_BACK, "watch", 5)
    assert result.why == (
        f"rolling {NEW} out on blue: ECS is rolling blue back to {old}: ECS deployment circuit breaker: 3 tasks failed to start"
    )
    assert result.next_command == f"python -m release status --stack staging; fix {NEW} and release again"
    assert result.infrastructure is False


def test_a_rolling_release_whose_rollback_fails_too_is_aborted_naming_both_and_where_to_look(session: Any) -> None:
    w, _ = rolling_world(session, "fails-no-rollback")
    old = w.stack.release_config().versions.blue
    result = _release(w)
    held = records.in_progress(w.stack)
    assert held is not None, "the release stays in progress for abort to finish"
    assert result.record is not None
    assert (result.record.id, result.record.phase, result.record.weight) == (held.id, held.phase, held.weight)
    # The record as the failed rollback put it back (its mark gone), the last write before the lease went.
    assert result.record.ending is None
    assert held.revision is not None
    assert result.record.revision == held.revision - 1
    assert (result.outcome, result.failed_step, result.steps_done) == (Outcome.ABORTED, "watch", 5)
    assert result.why == (
        f"rolling {NEW} out on blue: ECS failed the deployment: ECS deployment circuit breaker: 3 tasks failed to start; "
        f"then the rollback failed: verifying that blue runs {old} again: ECS's PRIMARY deployment of {w.stack.prefix}-blue "
        f"did not reach COMPLETED with {old} within 1200s (last seen: PRIMARY web-live:{NEW} FAILED)"
    )
    assert result.next_command == (
        f"`aws ecs describe-services --cluster web --services {w.stack.prefix}-blue` shows its deployments and events; once "
        f"the PRIMARY one runs {old} and is COMPLETED, `python -m release abort --stack staging` puts release:versions.blue "
        f"back to {old}"
    )
    assert result.infrastructure is True


RECORD = ReleaseRecord.model_validate({
    "id": "r-1", "version": "v2", "colour": "green", "previous": "v1", "strategy": "canary",
    "startedAt": "2026-11-26T06:00:00Z", "startedBy": "alice@laptop", "weight": 25, "highestWeight": 25,
})


def _ended(outcome: Outcome | None, stored: ReleaseRecord | None) -> records.ReleaseEndedError:
    return records.ReleaseEndedError("release r-1", "it was changed elsewhere", "python -m release status --stack staging",
                                     outcome, stored)


def test_a_release_still_in_progress_elsewhere_is_left_where_its_record_says() -> None:
    stored = RECORD.model_copy(update={"revision": 4, "weight": 50, "highest_weight": 50})
    result = _ended(None, stored)
    ended = _ended_elsewhere(result, RECORD, "bake", 3)
    assert ended.record is stored
    assert (ended.outcome, ended.failed_step, ended.steps_done) == (Outcome.ABORTED, "bake", 3)
    assert ended.why == "release r-1: it was changed elsewhere; stopped; the release is still at 50%"
    assert ended.next_command == "python -m release status --stack staging"
    assert ended.infrastructure is False


@pytest.mark.parametrize(("told", "said"), [
    (Outcome.PROMOTED, Outcome.PROMOTED), (Outcome.ROLLED_BACK, Outcome.ROLLED_BACK),
    (Outcome.ABORTED, Outcome.ABORTED), (Outcome.REFUSED, Outcome.ABORTED), (None, Outcome.ABORTED),
])
def test_a_release_ended_elsewhere_is_reported_as_it_ended_there(told: Outcome | None, said: Outcome) -> None:
    finished = RECORD.model_copy(update={"outcome": told or Outcome.ABORTED})
    ended = _ended_elsewhere(_ended(told, finished), RECORD, "shift", 2)
    assert ended.outcome is said
    assert ended.record is finished
    assert ended.why == "release r-1: it was changed elsewhere"


def test_another_release_in_the_store_leaves_this_ones_own_record() -> None:
    other = RECORD.model_copy(update={"id": "r-2"})
    ended = _ended_elsewhere(_ended(None, other), RECORD, "shift", 2)
    assert ended.record is RECORD
    assert ended.why == "release r-1: it was changed elsewhere"
    gone = _ended_elsewhere(_ended(None, None), RECORD, "shift", 2)
    assert gone.record is RECORD
    assert gone.why == "release r-1: it was changed elsewhere"


def test_promote_of_a_release_that_has_not_earned_traffic_is_refused_whole(session: Any) -> None:
    w = world(session)
    config = w.stack.release_config()
    record = records.new_record(config, "v2", "canary", w.clock, "alice@laptop")
    with pytest.raises(StepFailure) as caught:
        promote_now(w.ctx, record)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "promote", f"release {record.id} of v2 has not passed deploy, the candidate smoke test (last verified phase: started)",
        "`python -m release resume --stack staging` runs what is left; `python -m release abort --stack staging` ends it",
    )


def test_promote_from_another_shell_records_who_promoted(session: Any) -> None:
    w = world(session)
    release(w, "v2", until_weight=25)
    held = records.in_progress(w.stack)
    assert held is not None
    final = promote_now(replace(w.ctx, by="bob@desk"), held)
    assert final.ended_by == "bob@desk"
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert last.ended_by == "bob@desk"


def _production_config(**changes: str) -> dict[str, str]:
    config, _ = ProjectFiles.here().stack_config("production")
    return {**config, **changes}


def test_a_release_config_with_problems_is_a_step_failure_naming_each_and_the_stack_to_fix() -> None:
    bad = _production_config(**{"release:canaryWeight": "abc", "release:bakeMinutes": "soon"})
    with pytest.raises(ConfigError) as problems:
        load(bad, "production")
    assert len(problems.value.problems) == 2
    with pytest.raises(StepFailure) as caught:
        release_config(bad, "production")
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "stack config", "; ".join(problems.value.problems), "fix the config of production",
    )


def test_a_release_config_is_read_as_the_named_stacks() -> None:
    # Production gated by its own releases is a problem only when the config is read as production's.
    own = _production_config(**{"release:stagingStack": "production"})
    assert release_config(own, "staging").staging_stack == "production"
    with pytest.raises(StepFailure) as caught:
        release_config(own, "production")
    assert caught.value.why.startswith('release:stagingStack: got "production"; the stack whose releases production follows')


def test_an_aws_error_is_explained_by_its_operation_and_message() -> None:
    throttled = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "DescribeListeners")
    assert _explain(throttled, "staging") == (
        "AWS DescribeListeners", str(throttled), "retry, or check AWS; then python -m release status --stack staging",
    )
    assert "Rate exceeded" in str(throttled)


def test_a_connection_failure_is_explained_by_its_kind_and_message() -> None:
    lost = EndpointConnectionError(endpoint_url="https://elasticloadbalancing.eu-west-1.amazonaws.com/")
    assert _explain(lost, "production") == (
        "EndpointConnectionError",
        'Could not connect to the endpoint URL: "https://elasticloadbalancing.eu-west-1.amazonaws.com/"',
        "python -m release status --stack production",
    )


# --- a rolling release that stops: before its roll, taken over meanwhile, or with a rollback that cannot be read ----


def test_a_rolling_release_that_fails_before_its_roll_is_aborted_with_nothing_to_roll_back(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    live = w.stack.release_config().versions.blue
    result, _ = _stopped(w, 2, StepFailure("backup", "the snapshot failed", "look at RDS events"))
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert (last.outcome, last.reason) == (Outcome.ABORTED, "backup: the snapshot failed")
    assert w.stack.issued[-1]["message"] == f"release {last.id}: blue back to {live}: backup: the snapshot failed"
    assert result == Result(Outcome.ABORTED, last, "backup", "backup: the snapshot failed", "look at RDS events", False, 1)
    assert w.stack.release_config().versions.blue == live


def test_a_rolling_release_another_shell_took_over_is_not_rolled_back_from_here(session: Any) -> None:
    w, _ = rolling_world(session, "completes")

    carol_takes_the_lease = lease_taken_by(w, "carol@ci (pid 99)")

    failure = RolloutFailedError("rolling v2 out on blue", "the service no longer runs v2", ecs_rolls_back=False)
    result, _ = _stopped(w, 6, failure, carol_takes_the_lease)
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.lease is not None
    assert held.lease.holder == "carol@ci (pid 99)"
    assert result.record == held
    assert (result.outcome, result.failed_step, result.infrastructure, result.steps_done) == (Outcome.ABORTED, "watch", False, 5)
    assert result.why is not None
    assert "carol@ci (pid 99)" in result.why
    assert w.stack.release_config().versions.blue == "v2", "carol's release is where it was: not rolled back from here"


def test_a_rolling_rollback_that_fails_without_a_command_names_status_and_keeps_the_record_as_stored(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w, _ = rolling_world(session, "completes")

    def unreadable(*args: Any, **kwargs: Any) -> Any:
        msg = "reading the service"
        raise AwsError(msg, "ECS did not answer")

    monkeypatch.setattr(executor, "roll_back", unreadable)
    failure = RolloutFailedError("rolling v2 out on blue", "the service no longer runs v2", ecs_rolls_back=False)
    result, _ = _stopped(w, 6, failure)
    stored = records.in_progress(w.stack)
    assert stored is not None
    assert result.record is not None
    assert (result.record.id, result.record.weight, result.record.ending) == (stored.id, stored.weight, None)
    assert result == Result(
        Outcome.ABORTED, result.record, "watch",
        "rolling v2 out on blue: the service no longer runs v2; then the rollback failed: reading the service: ECS did not answer",
        "python -m release status --stack staging", True, 5,
    )


def test_a_rolling_rollback_whose_update_is_not_followed_keeps_the_record_as_it_put_it_back(session: Any) -> None:
    # The driver's own rollback (ECS does not roll back by itself): marked, updated, then the old version's
    # deployment completes on another image, so it is never verified.
    w, ecs = rolling_world(session, "completes")
    ecs.back_on = "v7"
    failure = RolloutFailedError("rolling v2 out on blue", "the service no longer runs v2", ecs_rolls_back=False)
    result, _ = _stopped(w, 7, failure)  # the settle, after the watch saw the rollout
    held = records.in_progress(w.stack)
    assert held is not None
    assert result.why is not None
    assert "then the rollback failed" in result.why
    assert result.record is not None
    assert result.record.ending is None
    assert held.revision is not None
    assert result.record.revision == held.revision - 1, "the record as put back, one write before the lease went"
