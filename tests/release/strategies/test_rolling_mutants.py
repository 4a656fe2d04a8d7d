"""A rolling release's watch under reads AWS refuses, its ending record, and what its rollback writes and says.

Each test here fails on a copy of ``release/strategies/rolling.py`` with one of its checks changed (``make mutate``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from components.config import Colour, Strategy
from components.config.release_record import Outcome, Phase
from release.aws.base import TRANSIENT_GRACE_SECONDS
from release.aws.ecs import Deployment
from release.state import record as records
from release.strategies.executor import Executor, abort
from release.strategies.failure import StepFailure
from release.strategies.planner import ReleaseOptions, plan_release
from release.strategies.rolling import RolloutFailedError, describe
from release.strategies.steps import Settle, Watch
from tests.rolling_support import deployment, rolling_world
from tests.stack_world import Notes, World

NEW = "2.0.0"


def _rolled(w: World) -> Any:
    """The new version rolled onto blue, the release in progress and written by the driver's runner."""
    record = records.new_record(w.stack.release_config(), NEW, "rolling", w.clock, "t")
    w.stack.set_release(versions={"blue": NEW, "green": w.stack.release_config().versions.green})
    runner = Executor(w.ctx).runner
    return runner, runner._write({}, record, new=True)


def _two_alarms_firing(w: World) -> list[str]:
    """Blue's two metric alarms, exported as a stack with no composite alarm exports them, both in ALARM."""
    names = [f"{w.stack.prefix}-blue-health", f"{w.stack.prefix}-blue-latency"]
    exported = w.stack.outputs()
    w.stack.outputs = lambda: {**exported, "composite_alarm_names": {}, "alarm_names": {"blue": names, "green": []}}  # type: ignore[method-assign]
    client = w.ctx.aws.cloudwatch.client
    client.put_metric_alarm(AlarmName=names[1], Namespace="AWS/ApplicationELB", MetricName="TargetResponseTime", Statistic="Average",
                            Period=60, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    for name in names:
        client.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")
    return names


def test_a_watch_whose_reads_are_refused_for_less_than_the_grace_period_goes_on_and_completes(session: Any) -> None:
    w, ecs = rolling_world(session, "completes")
    runner, record = _rolled(w)
    ecs.throttled_until = w.clock.monotonic() + TRANSIENT_GRACE_SECONDS / 2
    done = runner.run(Watch(Colour.BLUE, NEW, 600, 15), record)
    assert done.phase is Phase.DEPLOYED
    assert ecs.polls > 1


def test_a_watch_whose_reads_stay_refused_fails_after_the_grace_period_saying_what_cannot_be_watched(session: Any) -> None:
    w, ecs = rolling_world(session, "completes")
    runner, record = _rolled(w)
    ecs.throttled = True
    began = w.clock.monotonic()
    with pytest.raises(StepFailure) as caught:
        runner.run(Watch(Colour.BLUE, NEW, 1200, 15), record)
    failure = caught.value
    assert (failure.what, failure.next_command, failure.infrastructure) == (
        f"rolling {NEW} out on blue", "python -m release status --stack staging", True)
    assert failure.why == (f"reading the deployments of service {w.stack.prefix}-blue: AWS answered ThrottlingException for "
                           f"{TRANSIENT_GRACE_SECONDS:g}s; blue cannot be watched")
    assert w.clock.monotonic() - began >= TRANSIENT_GRACE_SECONDS


def test_a_completed_rolling_release_is_recorded_promoted_at_100_by_who_ran_it(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    config = w.stack.release_config()
    steps = plan_release(config, w.stack.outputs(), ReleaseOptions(version=NEW, bake_minutes=1, poll_seconds=10), "staging")
    Executor(w.ctx).run(steps, records.new_record(config, NEW, Strategy.ROLLING.value, w.clock, "started-by"))
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert (last.outcome, last.phase, last.weight, last.highest_weight) == (Outcome.PROMOTED, Phase.PROMOTED, 100, 100)
    assert (last.ended_by, last.reason) == (w.ctx.by, None)


def test_a_rolled_back_release_writes_the_versions_compact_and_says_blue_runs_the_old_version(session: Any) -> None:
    w, _ = rolling_world(session, "rolls-back")
    w.ctx = replace(w.ctx, reporter=Notes())
    old = w.stack.release_config().versions.blue
    green = w.stack.release_config().versions.green
    config = w.stack.release_config()
    steps = plan_release(config, w.stack.outputs(), ReleaseOptions(version=NEW, bake_minutes=1, poll_seconds=10), "staging")
    result = Executor(w.ctx).run(steps, records.new_record(config, NEW, Strategy.ROLLING.value, w.clock, "t"))
    assert result.outcome is Outcome.ROLLED_BACK
    # The form every writer of release:versions uses (ConfigWriter, the roll): a diff of the stack file shows one value.
    assert w.stack.get_config()["release:versions"] == json.dumps({"blue": old, "green": green}, separators=(",", ":"))
    assert f"rolled back: blue runs {old}, release:versions.blue is {old}" in w.ctx.reporter.notes  # type: ignore[attr-defined]


def test_a_release_ended_before_its_roll_reads_nothing_from_ecs_and_says_blue_still_runs_the_old_version(session: Any) -> None:
    w, ecs = rolling_world(session, "completes")
    w.ctx = replace(w.ctx, reporter=Notes())
    old = w.stack.release_config().versions.blue
    config = w.stack.release_config()
    steps = plan_release(config, w.stack.outputs(), ReleaseOptions(version=NEW, bake_minutes=1), "staging")
    Executor(w.ctx).run(steps[:1], records.new_record(config, NEW, Strategy.ROLLING.value, w.clock, "t"))
    held = records.in_progress(w.stack)
    assert held is not None
    polls = ecs.polls
    final = abort(w.ctx, held, "aborted by bob")
    assert final.outcome is Outcome.ABORTED
    # Nothing was rolled, so there is no rollback of ECS's to verify: the service is not read at all.
    assert ecs.polls == polls
    assert w.ctx.reporter.notes[-1] == f"ended before the rollout: blue still runs {old}"  # type: ignore[attr-defined]


def test_a_completed_rolling_release_says_which_colour_runs_which_version(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    w.ctx = replace(w.ctx, reporter=Notes())
    config = w.stack.release_config()
    steps = plan_release(config, w.stack.outputs(), ReleaseOptions(version=NEW, bake_minutes=1, poll_seconds=10), "staging")
    Executor(w.ctx).run(steps, records.new_record(config, NEW, Strategy.ROLLING.value, w.clock, "t"))
    assert f"released: blue runs {NEW}" in w.ctx.reporter.notes  # type: ignore[attr-defined]


def test_a_bake_whose_service_no_longer_runs_the_version_names_the_bake_and_the_version(session: Any) -> None:
    w, ecs = rolling_world(session, "completes")
    runner, record = _rolled(w)
    ecs.leaves_after = 30.0
    with pytest.raises(RolloutFailedError) as caught:
        runner.run(Settle(Colour.BLUE, 300, 10), record)
    assert (caught.value.what, caught.value.why, caught.value.ecs_rolls_back) == (
        f"bake of {NEW} on blue", f"the service no longer runs {NEW}", False)


def test_ecs_settled_on_the_old_version_is_verified_and_said(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    w.ctx = replace(w.ctx, reporter=Notes())
    old = w.stack.release_config().versions.blue
    Executor(w.ctx).runner.settled_on(Colour.BLUE, old, 60)
    assert w.ctx.reporter.notes == [f"verified: blue's PRIMARY deployment runs {old} and is COMPLETED"]  # type: ignore[attr-defined]


def test_ecs_never_settling_on_the_old_version_is_read_every_15_s_until_its_timeout_then_says_where_to_look(session: Any) -> None:
    w, ecs = rolling_world(session, "stuck")
    old = w.stack.release_config().versions.blue
    runner, _ = _rolled(w)
    began, polls = w.clock.monotonic(), ecs.polls
    with pytest.raises(StepFailure) as caught:
        runner.settled_on(Colour.BLUE, old, 60)
    # Reads at 0, 15, 30, 45 and 60 s; the next would come after the timeout.
    assert (ecs.polls - polls, w.clock.monotonic() - began) == (5, 60)
    service = f"{w.stack.prefix}-blue"
    failure = caught.value
    assert failure.what == f"verifying that blue runs {old} again"
    assert failure.why == (f"ECS's PRIMARY deployment of {service} did not reach COMPLETED with {old} within 60s "
                           f"(last seen: PRIMARY web-live:{NEW} IN_PROGRESS; ACTIVE web-live:{old} COMPLETED)")
    assert failure.next_command == (
        f"`aws ecs describe-services --cluster web --services {service}` shows its deployments and events; once the PRIMARY "
        f"one runs {old} and is COMPLETED, `python -m release abort --stack staging` puts release:versions.blue back to {old}")
    assert failure.infrastructure is True


def test_ecs_unreadable_while_settling_on_the_old_version_is_named_as_the_last_thing_seen(session: Any) -> None:
    w, ecs = rolling_world(session, "stuck")
    old = w.stack.release_config().versions.blue
    runner, _ = _rolled(w)
    ecs.throttled = True
    with pytest.raises(StepFailure) as caught:
        runner.settled_on(Colour.BLUE, old, 60)
    assert caught.value.why.endswith("(last seen: AWS answered ThrottlingException)")


def test_the_roll_writes_the_versions_in_the_compact_form(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    green = w.stack.release_config().versions.green
    config = w.stack.release_config()
    steps = plan_release(config, w.stack.outputs(), ReleaseOptions(version=NEW, bake_minutes=1), "staging")
    upto = next(i for i, s in enumerate(steps) if isinstance(s, Watch))
    Executor(w.ctx).run(steps[:upto], records.new_record(config, NEW, Strategy.ROLLING.value, w.clock, "t"))
    assert w.stack.get_config()["release:versions"] == json.dumps({"blue": NEW, "green": green}, separators=(",", ":"))


def test_a_bake_whose_reads_stay_refused_names_the_bake_and_the_colour(session: Any) -> None:
    w, ecs = rolling_world(session, "completes")
    runner, record = _rolled(w)
    ecs.throttled = True
    with pytest.raises(StepFailure) as caught:
        runner.run(Settle(Colour.BLUE, 600, 10), record)
    assert caught.value.what == f"bake of {NEW} on blue"
    assert caught.value.why.endswith(f"for {TRANSIENT_GRACE_SECONDS:g}s; blue cannot be watched")


def test_a_bake_with_alarms_in_alarm_names_them_all_and_leaves_the_rollback_to_the_driver(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    names = _two_alarms_firing(w)
    runner, record = _rolled(w)
    with pytest.raises(RolloutFailedError) as caught:
        runner.run(Settle(Colour.BLUE, 300, 10), record)
    assert (caught.value.what, caught.value.why, caught.value.ecs_rolls_back) == (
        f"bake of {NEW} on blue", f"blue's release alarms in ALARM: {', '.join(names)}", False)
    # The driver's timeline (``Timing.events``, which a rehearsal reads) has the alarm at the moment it was seen.
    assert runner.timing.events[-1] == (w.clock.monotonic(), "alarm-during-bake")


def test_a_bake_lasts_its_seconds_to_the_last_fraction_of_a_poll(session: Any) -> None:
    w, ecs = rolling_world(session, "completes")
    runner, record = _rolled(w)
    began, polls = w.clock.monotonic(), ecs.polls
    runner.run(Settle(Colour.BLUE, 20.5, 10), record)
    # Reads at 0, 10, 20 and 20.5 s: the last half second is waited for and read too.
    assert (w.clock.monotonic() - began, ecs.polls - polls) == (20.5, 4)


def test_deployments_are_named_in_one_line_a_missing_rollout_state_as_a_dash_and_none_as_none() -> None:
    raw = [
        {"id": "ecs-svc/2", "status": "PRIMARY", "taskDefinition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web-live:7"},
        {"id": "ecs-svc/1", "status": "ACTIVE", "taskDefinition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web-live:6",
         "rolloutState": "COMPLETED"},
    ]
    # rolloutState is reported only for rolling-update services (botocore ecs shape Deployment); its absence reads "-".
    assert describe([Deployment.of(d) for d in raw]) == "PRIMARY web-live:7 -; ACTIVE web-live:6 COMPLETED"
    assert describe([]) == "none"


def test_ecs_rolling_back_with_no_failed_deployment_gives_the_primary_ones_reason(session: Any) -> None:
    w, ecs = rolling_world(session, "completes")
    old = w.stack.release_config().versions.blue
    runner, record = _rolled(w)
    # A rollback started by a deployment alarm: the old revision PRIMARY again, the new one still ACTIVE, none FAILED.
    ecs.answer = [deployment("ecs-svc/3", old, "PRIMARY", "IN_PROGRESS", "rolling back: alarm web-blue-health in ALARM"),
                  deployment("ecs-svc/2", NEW, "ACTIVE", "IN_PROGRESS")]
    with pytest.raises(RolloutFailedError) as caught:
        runner.run(Watch(Colour.BLUE, NEW, 600, 15), record)
    assert (caught.value.what, caught.value.why, caught.value.ecs_rolls_back) == (
        f"rolling {NEW} out on blue", f"ECS is rolling blue back to {old}: rolling back: alarm web-blue-health in ALARM", True)


def test_a_primary_deployment_of_neither_version_fails_the_rollout_naming_every_deployment(session: Any) -> None:
    w, ecs = rolling_world(session, "completes")
    old = w.stack.release_config().versions.blue
    runner, record = _rolled(w)
    ecs.answer = [deployment("ecs-svc/9", "9.9.9", "PRIMARY", "IN_PROGRESS"), deployment("ecs-svc/2", NEW, "ACTIVE", "COMPLETED")]
    with pytest.raises(RolloutFailedError) as caught:
        runner.run(Watch(Colour.BLUE, NEW, 600, 15), record)
    # Somebody else deployed: ECS is not rolling back, and the driver's own rollback must put the old version back.
    assert (caught.value.what, caught.value.why, caught.value.ecs_rolls_back) == (
        f"rolling {NEW} out on blue",
        f"the service's PRIMARY deployment runs neither {NEW} nor {old}: "
        f"PRIMARY web-live:9.9.9 IN_PROGRESS; ACTIVE web-live:{NEW} COMPLETED",
        False)


@pytest.mark.parametrize("missing", [{"cluster_name": ""}, {"service_names": {"green": "web-green"}}], ids=["cluster", "service"])
def test_a_stack_that_exports_no_cluster_or_no_service_for_the_colour_is_refused_before_ecs_is_read(
    session: Any, missing: dict[str, Any],
) -> None:
    w, ecs = rolling_world(session, "completes")
    exported = w.stack.outputs()
    w.stack.outputs = lambda: {**exported, **missing}  # type: ignore[method-assign]
    runner, record = _rolled(w)
    with pytest.raises(StepFailure) as caught:
        runner.run(Watch(Colour.BLUE, NEW, 600, 15), record)
    failure = caught.value
    assert (failure.what, failure.why, failure.next_command, failure.infrastructure) == (
        "rolling release", "the stack exports no ECS service for blue (cluster_name, service_names)", "pulumi up --stack staging", True)
    assert ecs.polls == 0


def test_a_rollout_that_never_completes_is_read_every_poll_until_its_timeout_and_names_what_it_saw_last(session: Any) -> None:
    w, ecs = rolling_world(session, "stuck")
    old = w.stack.release_config().versions.blue
    runner, record = _rolled(w)
    began, polls = w.clock.monotonic(), ecs.polls
    with pytest.raises(RolloutFailedError) as caught:
        runner.run(Watch(Colour.BLUE, NEW, 60, 15), record)
    # Reads at 0, 15, 30, 45 and 60 s; the next would come after the timeout.
    assert (ecs.polls - polls, w.clock.monotonic() - began) == (5, 60)
    assert (caught.value.what, caught.value.why, caught.value.ecs_rolls_back) == (
        f"rolling {NEW} out on blue",
        f"not completed after 60s (last seen: PRIMARY web-live:{NEW} IN_PROGRESS; ACTIVE web-live:{old} COMPLETED)", False)


def test_alarms_during_the_rollout_fail_it_naming_them_all_and_leave_the_rollback_to_ecs(session: Any) -> None:
    w, _ = rolling_world(session, "stuck")
    names = _two_alarms_firing(w)
    runner, record = _rolled(w)
    with pytest.raises(RolloutFailedError) as caught:
        runner.run(Watch(Colour.BLUE, NEW, 600, 15), record)
    # The same alarms are the service's deployment alarms: ECS rolls the deployment back itself.
    assert (caught.value.what, caught.value.why, caught.value.ecs_rolls_back) == (
        f"rolling {NEW} out on blue", f"blue's release alarms in ALARM during the rollout: {', '.join(names)}", True)
    assert runner.timing.events[-1] == (w.clock.monotonic(), "alarm-during-rollout")


def test_a_completed_rollout_says_so_with_the_colours_health(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    w.ctx = replace(w.ctx, reporter=Notes())
    runner, record = _rolled(w)
    runner.run(Watch(Colour.BLUE, NEW, 600, 15), record)
    assert w.ctx.reporter.notes[-1].startswith(f"rollout of {NEW} on blue completed: ")  # type: ignore[attr-defined]
    assert w.ctx.reporter.notes[-1].endswith("healthy target(s)")  # type: ignore[attr-defined]
