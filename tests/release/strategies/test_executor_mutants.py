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
from release.state import record as records
from release.strategies.executor import _ended_elsewhere, _explain, promote_now, release_config
from release.strategies.failure import StepFailure
from tests.release.strategies.test_rolling import NEW, _release
from tests.rolling_support import rolling_world
from tests.stack_world import release, world


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
