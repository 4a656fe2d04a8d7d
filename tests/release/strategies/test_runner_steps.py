"""The steps every plan shares, as the step runner runs them (release/strategies/runner.py): here, the notification.

Each test here fails on a copy of the runner with one of its checks changed (``make mutate``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from components.config import Colour
from components.config.release_record import MigrationRun, Outcome, Phase
from release.aws.base import ATTEMPTS
from release.aws.ecs import TaskSpec
from release.engine import StackBusyError, UpdateFailedError
from release.state import StateStoreError
from release.state import record as records
from release.strategies.executor import Executor, abort
from release.strategies.failure import StepFailure, UnknownStateError
from release.strategies.steps import Backup, Migrate, Notify, Preflight, Smoke
from tests.rolling_support import rolling_world
from tests.stack_world import Notes, World, lease_taken_by, release, targets_unhealthy, world


def _alert_topic(session: Any, w: World) -> tuple[str, Callable[[], list[dict[str, Any]]]]:
    """The stack's alert topic, exported, and what was published to it (a queue subscribed, as SNS delivers)."""
    sns, sqs = session.client("sns"), session.client("sqs")
    topic = sns.create_topic(Name=f"{w.stack.prefix}-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"{w.stack.prefix}-alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    exported = w.stack.outputs()
    w.stack.outputs = lambda: {**exported, "alert_topic_arn": topic}  # type: ignore[method-assign]
    return topic, lambda: [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])]


def test_the_notification_tells_the_alert_topic_which_version_went_live_and_how_the_release_ended(session: Any) -> None:
    w = world(session)
    topic, published = _alert_topic(session, w)
    config = w.stack.release_config()
    record = records.new_record(config, "v2", "canary", w.clock, "alice@laptop").model_copy(
        update={"outcome": Outcome.PROMOTED, "snapshot": "staging-release-v2-20261207"})
    runner = Executor(w.ctx).runner
    assert runner.run(Notify("alert_topic_arn"), record) is record
    messages = published()
    assert len(messages) == 1
    envelope = messages[0]
    assert envelope["TopicArn"] == topic
    assert envelope["Subject"] == f"staging: v2 released to {config.candidate}"
    summary = {
        "stack": "staging", "release": record.id, "version": "v2", "live": config.candidate.value, "previous": record.previous,
        "outcome": "promoted", "snapshot": "staging-release-v2-20261207", "by": "alice@laptop",
    }
    # Read by people in their mail: indented, one field a line, in this order.
    assert envelope["Message"] == json.dumps(summary, indent=2)



def test_a_whole_release_notifies_once_at_its_end_that_it_was_promoted(session: Any) -> None:
    # The notification is the plan's last step: every step before it that ends the release (the promotion, the end of
    # the control share) hands on the finished record, so the message always has its outcome.
    w = world(session)
    _, published = _alert_topic(session, w)
    result = release(w, "v2")
    assert result.outcome is Outcome.PROMOTED
    assert result.record is not None
    # The bake's holds are published to the topic too; the release summary is the one "released" message.
    released = [m for m in published() if m["Subject"] == f"staging: v2 released to {result.record.colour}"]
    assert [json.loads(m["Message"])["outcome"] for m in released] == ["promoted"]

def test_a_driver_whose_name_is_longer_than_a_lease_holder_still_knows_its_own_lease(session: Any) -> None:
    # The lease keeps 160 characters of the holder (``Lease.holder``): "<user>@<host> (pid N)" of a shell on a host with
    # a long name (a fully qualified one may have 253) is longer. Such a shell resuming a release takes its lease.
    w = world(session)
    started = Executor(w.ctx).runner._write({}, records.new_record(w.stack.release_config(), "v2", "canary", w.clock, w.ctx.by), new=True)
    taking = replace(w.ctx, by="carol@" + "build-agent-17." * 11 + "eu-west-1.compute.internal")
    runner = Executor(taking).runner
    assert len(runner.holder) > 160
    runner._write({}, started)
    stored = records.in_progress(w.stack)
    assert stored is not None
    assert stored.lease is not None
    assert len(stored.lease.holder) == 160
    assert runner.owns(stored)


def test_an_ending_whose_update_and_restore_both_fail_raises_the_first_and_notes_the_second(session: Any) -> None:
    w = world(session)
    release(w, "v2", until_weight=25)
    held = records.in_progress(w.stack)
    assert held is not None
    notes = Notes()
    original_write, writes = w.stack.write_release, [0]

    def update(message: str, targets: Any = None) -> Any:
        msg = "pulumi up"
        raise UpdateFailedError(msg, "the listener update failed", "pulumi up --stack staging")

    def write_release(changes: Any, removals: Any, expect_etag: str) -> str:
        writes[0] += 1
        if writes[0] > 1:  # the mark is written; putting the release back is not
            msg = "writing the release state"
            raise StateStoreError(msg, "ESC answered 503", "retry")
        return original_write(changes, removals, expect_etag)

    w.stack.update = update  # type: ignore[method-assign]
    w.stack.write_release = write_release  # type: ignore[method-assign]
    with pytest.raises(UpdateFailedError):
        abort(replace(w.ctx, reporter=notes), held, "aborted by bob")
    assert notes.notes == ["could not put the release state back after UpdateFailedError: writing the release state: ESC answered 503"]


@pytest.mark.parametrize("exported", [
    {"cluster_name": "", "service_names": {"blue": "web-blue", "green": "web-green"}},
    {"cluster_name": "web", "service_names": {}},
], ids=["no-cluster", "no-services"])
def test_a_stack_that_exports_no_cluster_or_no_services_has_no_task_count_to_read(session: Any, exported: dict[str, Any]) -> None:
    # A stack without ECS services (the stack world's, or a program that exports none): nothing to scale or count.
    w = world(session)
    outputs = w.stack.outputs()
    w.stack.outputs = lambda: {**outputs, **exported}  # type: ignore[method-assign]
    runner = Executor(w.ctx).runner
    assert runner.running(Colour.BLUE) is None
    assert runner.runs(Colour.BLUE, 5) == runner.healthy(Colour.BLUE)


# --- the smoke test ------------------------------------------------------------------------------------------------


def _smoke_world(session: Any, status: int, endpoint: str = "https://app.example.com/") -> tuple[World, Any]:
    w = world(session, probe_status=status)
    outputs = w.stack.outputs()
    w.stack.outputs = lambda: {**outputs, "endpoint_url": endpoint}  # type: ignore[method-assign]
    w.ctx = replace(w.ctx, reporter=Notes())
    runner = Executor(w.ctx).runner
    record = runner._write({}, records.new_record(w.stack.release_config(), "v2", "canary", w.clock, w.ctx.by), new=True)
    return w, (runner, record)


@pytest.mark.parametrize("status", [200, 204, 299])
def test_a_smoke_test_that_passes_is_noted_and_recorded_at_the_url_joined_without_a_double_slash(session: Any, status: int) -> None:
    # Any 2xx passes (RFC 9110 section 15.3); 199 and 300 are the first answers on either side that do not.
    w, (runner, record) = _smoke_world(session, status)
    done = runner.run(Smoke("endpoint_url", "/healthz"), record)
    assert w.probes == ["https://app.example.com/healthz"]
    assert done.phase is Phase.SMOKE_TESTED
    assert records.in_progress(w.stack) == done
    assert w.ctx.reporter.notes == [f"smoke test https://app.example.com/healthz: {status}"]  # type: ignore[attr-defined]


def test_a_smoke_test_after_the_promotion_leaves_the_promoted_record_as_it_is(session: Any) -> None:
    w, (runner, record) = _smoke_world(session, 200)
    promoted = runner._write({}, records.advance(record, Phase.PROMOTED))
    assert runner.run(Smoke("endpoint_url", "/healthz"), promoted) is promoted
    assert records.in_progress(w.stack) == promoted


@pytest.mark.parametrize(("status", "answered"), [(503, "503"), (300, "300"), (199, "199"), (0, "nothing")])
def test_a_smoke_test_that_keeps_failing_tries_every_5_s_then_names_the_answer_and_the_curl_to_repeat_it(
    session: Any, status: int, answered: str,
) -> None:
    w, (runner, record) = _smoke_world(session, status)
    began = w.clock.monotonic()
    with pytest.raises(StepFailure) as caught:
        runner.run(Smoke("endpoint_url", "/healthz", attempts=3), record)
    assert (len(w.probes), w.clock.monotonic() - began) == (3, 10)
    url = "https://app.example.com/healthz"
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "smoke test", f"GET {url} answered {answered} after 3 attempts", f"curl -i {url}; check the candidate's logs")
    assert records.in_progress(w.stack) == record, "nothing recorded"


def test_a_smoke_test_of_a_colour_without_its_route_is_refused_naming_the_update_to_run(session: Any) -> None:
    w, (runner, record) = _smoke_world(session, 200)
    outputs = w.stack.outputs()
    w.stack.outputs = lambda: {k: v for k, v in outputs.items() if k != "candidate_route"}  # type: ignore[method-assign]
    with pytest.raises(StepFailure) as caught:
        runner.run(Smoke("endpoint_url", "/healthz", colour=Colour.GREEN), record)
    assert caught.value.what == "smoke test"
    assert caught.value.why.startswith("the stack exports no candidate_route")
    assert caught.value.next_command == "pulumi up --stack staging"
    assert w.probes == []


# --- the preflight -------------------------------------------------------------------------------------------------


def _preflight(w: World) -> Any:
    runner = Executor(w.ctx).runner
    record = records.new_record(w.stack.release_config(), "v2", "canary", w.clock, w.ctx.by)
    live = w.stack.release_config().live
    return runner, record, lambda: runner.run(Preflight(live), record)


def _refused(run: Any) -> tuple[str, str, str]:
    with pytest.raises(StepFailure) as caught:
        run()
    return caught.value.what, caught.value.why, caught.value.next_command


def test_a_preflight_that_passes_writes_the_new_record_with_this_drivers_lease(session: Any) -> None:
    w = world(session)
    runner, record, run = _preflight(w)
    written = run()
    assert records.in_progress(w.stack) == written
    assert (written.id, written.version) == (record.id, "v2")
    assert runner.owns(written)


def test_a_preflight_refuses_a_config_that_does_not_load_naming_the_problem(session: Any) -> None:
    w = world(session)
    _, _, run = _preflight(w)
    w.stack.set_release(canaryWeight=101)
    what, why, then = _refused(run)
    assert (what, then) == ("preflight", "fix the config of staging")
    assert why.startswith("the stack config is invalid: ")
    assert "canaryWeight" in why


def test_a_preflight_names_every_problem_of_a_config_that_does_not_load_one_after_another(session: Any) -> None:
    w = world(session)
    _, _, run = _preflight(w)
    w.stack.set_release(canaryWeight=101, candidateTasks=101)
    _, why, _ = _refused(run)
    assert why == (
        "the stack config is invalid: release:canaryWeight: got 101; input should be less than or equal to 100; "
        "release:candidateTasks: got 101; input should be less than or equal to 100")


def test_a_preflight_refuses_while_another_release_is_in_progress_naming_it_and_both_ways_out(session: Any) -> None:
    w = world(session)
    release(w, "v2", until_weight=25)
    held = records.in_progress(w.stack)
    assert held is not None
    _, _, run = _preflight(w)
    assert _refused(run) == (
        "preflight", f"release {held.id} of v2 is in progress, held by {held.started_by} since {held.started_at:%Y-%m-%d %H:%M} UTC",
        "`python -m release abort --stack staging` or `python -m release promote --stack staging`")


@pytest.mark.parametrize("live", ["blue", "green"])
def test_a_preflight_refuses_a_candidate_that_serves_traffic_with_no_release_in_progress(session: Any, live: str) -> None:
    w = world(session)
    w.stack.set_release(live=live)
    config = w.stack.release_config()
    candidate = config.candidate
    # An earlier version left on the candidate with a share of the traffic (a manual `pulumi config set`).
    w.stack.set_release(versions={config.live.value: config.versions.of(config.live), candidate.value: "1.9.0"}, canaryWeight=25)
    _, _, run = _preflight(w)
    assert _refused(run) == (
        "preflight", f"the candidate {candidate} (1.9.0) serves 25% with no release in progress; "
        "deploying v2 onto it would send that traffic to a version nothing has checked",
        "send its traffic back first: `pulumi config set release:canaryWeight 0 -s staging` and `pulumi up -s staging`, "
        "then release again")
    assert records.in_progress(w.stack) is None


def test_a_preflight_refuses_while_a_live_alarm_fires_naming_it(session: Any) -> None:
    w = world(session)
    live = w.stack.release_config().live
    alarm = f"{w.stack.prefix}-{live}-health"
    w.ctx.aws.cloudwatch.client.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test")
    _, _, run = _preflight(w)
    assert _refused(run) == ("preflight", f"live alarms in ALARM: {alarm}", "python -m release status --stack staging")
    assert records.in_progress(w.stack) is None


def test_a_preflight_names_every_live_alarm_in_alarm_one_after_another(session: Any) -> None:
    w = world(session)
    live = w.stack.release_config().live
    cloudwatch = w.ctx.aws.cloudwatch.client
    names = [f"{w.stack.prefix}-{live}-5xx", f"{w.stack.prefix}-{live}-latency"]
    for name in names:
        cloudwatch.put_metric_alarm(AlarmName=name, Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count",
                                    Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=10,
                                    ComparisonOperator="GreaterThanThreshold")
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")
    exported = w.stack.outputs()
    # A stack that exports its metric alarms, not a composite one.
    w.stack.outputs = lambda: {  # type: ignore[method-assign]
        **{k: v for k, v in exported.items() if k != "composite_alarm_names"}, "alarm_names": {live.value: names}}
    _, _, run = _preflight(w)
    assert _refused(run) == ("preflight", f"live alarms in ALARM: {names[0]}, {names[1]}", "python -m release status --stack staging")


def test_a_release_started_elsewhere_between_the_preflights_read_and_its_write_is_named_with_both_ways_out(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = world(session)
    _, _, run = _preflight(w)
    read = w.stack.get_config()  # as the preflight reads it: no release in progress
    other = records.new_record(w.stack.release_config(), "v3", "canary", w.clock, "bob@desk")
    records.commit(w.stack, None, other)  # another shell's release, written after that read
    monkeypatch.setattr(w.stack, "get_config", lambda: dict(read))
    assert _refused(run) == (
        "preflight", f"release {other.id} of v3 is in progress, started by bob@desk at {other.started_at:%Y-%m-%d %H:%M} UTC",
        "`python -m release abort --stack staging` or `python -m release promote --stack staging`")
    stored = records.in_progress(w.stack)
    assert stored is not None
    assert stored.id == other.id, "the other shell's release stays as it was"


def test_a_preflight_refuses_an_unhealthy_live_colour_naming_its_targets(session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    w = world(session)
    targets_unhealthy(w, monkeypatch)
    live = w.stack.release_config().live
    _, _, run = _preflight(w)
    what, why, then = _refused(run)
    assert (what, then) == ("preflight", "python -m release status --stack staging")
    assert why.startswith(f"the live colour is not healthy: {live} targets not healthy: ")
    assert why.endswith(":unhealthy")


# --- the backup and the migration ------------------------------------------------------------------------------------


def _started(w: World, **update: Any) -> Any:
    runner = Executor(w.ctx).runner
    record = records.new_record(w.stack.release_config(), "v2", "canary", w.clock, w.ctx.by).model_copy(update=update)
    return runner, runner._write({}, record, new=True)


def test_the_backup_takes_a_new_snapshot_records_it_and_says_it_is_available(session: Any) -> None:
    w = world(session)
    w.ctx = replace(w.ctx, reporter=Notes())
    runner, record = _started(w)
    done = runner.run(Backup(f"{w.stack.prefix}-db", "staging-release-v2"), record)
    assert done.phase is Phase.BACKED_UP
    assert done.snapshot is not None
    assert done.snapshot.startswith("staging-release-v2-")
    assert records.in_progress(w.stack) == done
    assert w.ctx.reporter.notes == [f"snapshot {done.snapshot} available"]  # type: ignore[attr-defined]


def test_the_migration_runs_the_exported_task_with_the_steps_command_and_records_its_run(session: Any) -> None:
    w = world(session)
    runner, record = _started(w)
    done = runner.run(Migrate(("npm", "run", "migrate")), record)
    migration = w.stack.outputs()["migration"]
    assert w.runner.runs == [TaskSpec(
        cluster="web", task_definition_arn=migration["task_definition_arn"], subnets=("subnet-a",), security_groups=("sg-a",),
        container_name="migrate", command=("npm", "run", "migrate"),
    )]
    assert w.runner.started == [(f"release {record.id}", 1800.0)], "named for the release, waited on for the step's timeout"
    assert done.phase is Phase.MIGRATED
    assert done.migration == MigrationRun(task="arn:aws:ecs:eu-west-1:123456789012:task/web/1", exit_code=0, reversible=True)
    assert records.in_progress(w.stack) == done


@pytest.mark.parametrize(("exported", "config", "reversible"), [
    (False, None, False),  # the program's output, from data:migrationReversible at the last update, wins over the default
    (True, "false", True),  # ... and over the config as it is now
    (None, "false", False),  # no output: the config
    (None, None, True),  # neither: reversible, the documented default
])
def test_the_migration_is_recorded_reversible_as_the_stack_exports_it_before_its_config(
    session: Any, exported: bool | None, config: str | None, reversible: bool,
) -> None:
    w = world(session)
    if config is not None:
        w.stack.config["data:migrationReversible"] = config
    outputs = w.stack.outputs()
    if exported is not None:
        w.stack.outputs = lambda: {**outputs, "migration": {**outputs["migration"], "reversible": exported}}  # type: ignore[method-assign]
    runner, record = _started(w)
    done = runner.run(Migrate(("npm", "run", "migrate")), record)
    assert done.migration is not None
    assert done.migration.reversible is reversible


def test_a_renewal_that_fails_during_the_migration_is_said_once_and_the_run_is_written_on_the_last_renewed_record(
    session: Any,
) -> None:
    w = world(session)
    w.ctx = replace(w.ctx, reporter=Notes())
    runner, record = _started(w)
    # An 11-minute migration: the lease is renewed at 5 minutes; at 10 the store fails that one write.
    w.ctx.runner = replace(w.runner, clock=w.clock, seconds=660.0)
    real, writes = w.stack.write_release, []

    def second_fails(changes: Any, removals: Any, expect_etag: str) -> str:
        writes.append(1)
        if len(writes) == 2:
            raise StateStoreError("writing the release state", "the store answered 503", "try again")
        return real(changes, removals, expect_etag)

    w.stack.write_release = second_fails  # type: ignore[method-assign]
    done = runner.run(Migrate(("npm", "run", "migrate"), timeout_seconds=900), record)
    assert w.ctx.reporter.notes == [  # type: ignore[attr-defined]
        "the lease was not renewed during the migration: writing the release state: the store answered 503"]
    assert w.runner.started == [(f"release {record.id}", 900.0)]
    # No renewal after the failed one; then the run and the phase, written on the record as last renewed.
    assert len(writes) == 4
    assert (done.phase, done.revision) == (Phase.MIGRATED, record.revision + 3)


@pytest.mark.parametrize("snapshot", ["staging-release-v2-20261207t120000", None], ids=["with-snapshot", "without"])
def test_a_migration_that_exits_non_zero_is_recorded_then_fails_naming_the_task_and_the_snapshot_kept(
    session: Any, snapshot: str | None,
) -> None:
    w = world(session)
    w.runner.exit_code = 3
    runner, record = _started(w, snapshot=snapshot)
    with pytest.raises(StepFailure) as caught:
        runner.run(Migrate(("npm", "run", "migrate"), reversible=False), record)
    task = "arn:aws:ecs:eu-west-1:123456789012:task/web/1"
    if snapshot:
        expected = (f"task {task} exited with 3; snapshot {snapshot} is kept",
                    f"read the task's logs; restore from snapshot {snapshot} if the data is damaged")
    else:
        expected = (f"task {task} exited with 3", "read the task's logs")
    assert (caught.value.what, caught.value.why, caught.value.next_command) == ("migration", *expected)
    held = records.in_progress(w.stack)
    assert held is not None
    # The run is recorded before the failure, so a rollback knows the schema may have changed and what the release chose.
    assert held.migration == MigrationRun(task=task, exit_code=3, reversible=False)
    assert held.phase is not Phase.MIGRATED


# --- what the listener serves, and how healthy a colour is -----------------------------------------------------------


def test_verifying_weights_the_listener_serves_returns_them_and_says_so(session: Any) -> None:
    w = world(session)
    w.ctx = replace(w.ctx, reporter=Notes())
    runner = Executor(w.ctx).runner
    live = w.stack.release_config().live
    assert runner.verify(live.other, 0) == {live.value: 100, live.other.value: 0}
    assert w.ctx.reporter.notes == [f'verified: the listener serves {{"{Colour.BLUE}": 100, "{Colour.GREEN}": 0}}']  # type: ignore[attr-defined]


def test_what_the_listener_serves_is_said_by_colour_in_order_whatever_order_its_groups_are_listed_in(session: Any) -> None:
    w = world(session)
    w.ctx = replace(w.ctx, reporter=Notes())
    runner = Executor(w.ctx).runner
    # The forward action as a console edit could leave it: green's group listed first.
    groups = [{"TargetGroupArn": w.stack.groups[Colour.GREEN], "Weight": 25},
              {"TargetGroupArn": w.stack.groups[Colour.BLUE], "Weight": 75}]
    w.stack.elb.modify_listener(ListenerArn=w.stack.listener,
                                DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}])
    assert runner.verify(Colour.GREEN, 25) == {"green": 25, "blue": 75}
    assert w.ctx.reporter.notes == ['verified: the listener serves {"blue": 75, "green": 25}']  # type: ignore[attr-defined]


def test_weights_the_listener_never_serves_fail_after_the_timeout_naming_both_and_how_to_look(session: Any) -> None:
    w = world(session)
    runner = Executor(w.ctx).runner
    listener = w.stack.outputs()["listener_arn"]
    began = w.clock.monotonic()
    with pytest.raises(StepFailure) as caught:
        runner.verify(Colour.GREEN, 25)
    failure = caught.value
    assert not isinstance(failure, UnknownStateError)
    assert (failure.what, failure.infrastructure) == ("verifying the listener", True)
    assert failure.why == ('the load balancer did not take the new weights: it should serve {"blue": 75, "green": 25} '
                           'but after 10s still serves {"blue": 100, "green": 0}')
    assert failure.next_command == (f"`aws elbv2 describe-listeners --listener-arns {listener}` shows what it serves; "
                                    "python -m release status --stack staging")
    assert w.clock.monotonic() - began >= 10


def test_a_listener_aws_will_not_describe_is_unknown_never_the_old_weights(session: Any) -> None:
    w = world(session)
    runner = Executor(w.ctx).runner
    listener = w.stack.outputs()["listener_arn"]

    def throttled(model: Any, **kwargs: Any) -> None:
        if model.name == "DescribeListeners":
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "DescribeListeners")

    w.ctx.aws.elbv2.client.meta.events.register("before-call", throttled)
    with pytest.raises(UnknownStateError) as caught:
        runner.verify(Colour.GREEN, 25)
    failure = caught.value
    assert (failure.what, failure.infrastructure) == ("verifying the listener", True)
    assert failure.why.startswith("the update was applied, but what the load balancer serves is unknown: AWS answered "
                                  "ThrottlingException to the last ")
    assert failure.why.endswith(' reads of the listener over 10s; it should serve {"blue": 75, "green": 25}')
    assert failure.next_command == (
        f"`aws elbv2 describe-listeners --listener-arns {listener}` shows what it serves; the release stays marked: run the "
        "same command again once AWS answers, and it verifies and finishes; python -m release status --stack staging")


def test_a_listener_read_refused_once_then_answered_is_judged_on_what_it_answered(session: Any) -> None:
    w = world(session)
    w.ctx = replace(w.ctx, verify_timeout=120)  # longer than the first read's retries
    runner = Executor(w.ctx).runner
    calls = [0]

    def refused_at_first(model: Any, **kwargs: Any) -> None:
        # Every retry of the first read refused (``with_retries`` gives up after ATTEMPTS), then AWS answers again.
        if model.name == "DescribeListeners":
            calls[0] += 1
            if calls[0] <= ATTEMPTS:
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "DescribeListeners")

    w.ctx.aws.elbv2.client.meta.events.register("before-call", refused_at_first)
    with pytest.raises(StepFailure) as caught:
        runner.verify(Colour.GREEN, 25)
    assert calls[0] > ATTEMPTS
    # The listener was read after the refusal: what it serves is known, and it is not what it should be.
    assert not isinstance(caught.value, UnknownStateError)
    assert caught.value.why.endswith('still serves {"blue": 100, "green": 0}')


# --- the driver's compare-and-set writes ------------------------------------------------------------------------------


def _put_back(w: World) -> None:
    """Another shell's ending that failed and put the record back as it was: same release, no mark, a new revision."""
    held = records.in_progress(w.stack)
    assert held is not None
    records.commit(w.stack, held, held)


def test_a_drivers_write_that_would_leave_the_config_invalid_is_refused_and_writes_nothing(session: Any) -> None:
    w = world(session)
    runner, record = _started(w)
    with pytest.raises(StepFailure) as caught:
        runner._write({"release:canaryWeight": "101"}, record)
    assert (caught.value.what, caught.value.next_command) == ("stack config", "fix the config of staging")
    assert "release:canaryWeight" in caught.value.why
    assert records.in_progress(w.stack) == record
    assert w.stack.read_release()[0]["release:canaryWeight"] == "0"


def test_a_record_replaced_by_another_release_being_ended_stops_the_write_at_once_without_waiting(session: Any) -> None:
    w = world(session)
    runner, record = _started(w)
    other = records.ending(records.new_record(w.stack.release_config(), "v3", "canary", w.clock, "bob@desk"),
                           Outcome.ABORTED, "carol@ci", w.clock)
    records.commit(w.stack, record, None, {records.IN_PROGRESS: records.encode(other.model_copy(update={"revision": 9}))})
    began = w.clock.monotonic()
    with pytest.raises(records.ReleaseEndedError):
        runner._write({}, record)
    assert w.clock.monotonic() == began, "another release's ending is not this driver's to wait on"


def test_a_record_put_back_elsewhere_with_this_drivers_lease_is_still_the_drivers_and_the_write_goes_on(session: Any) -> None:
    w = world(session)
    w.ctx = replace(w.ctx, reporter=Notes())
    runner, record = _started(w)
    _put_back(w)
    written = runner._write({}, records.advance(record, Phase.DEPLOYED))
    stored = records.in_progress(w.stack)
    assert stored == written
    assert (written.phase, written.revision) == (Phase.DEPLOYED, record.revision + 2)
    assert w.ctx.reporter.notes == [  # type: ignore[attr-defined]
        f"release {record.id} was marked elsewhere and put back; it is still this driver's"]


def test_a_record_put_back_before_every_write_is_adopted_8_times_then_the_driver_stops(session: Any) -> None:
    w = world(session)
    w.ctx = replace(w.ctx, reporter=Notes())
    runner, record = _started(w)
    original, inside, put_back = w.stack.write_release, [False], [0]

    def put_back_first(changes: Any, removals: Any, expect_etag: str) -> str:
        if not inside[0]:
            # A driver that adopted without a bound would write here for ever: fail it instead.
            put_back[0] += 1
            assert put_back[0] <= 20, "the driver adopted the record put back again and again, with no bound"
            inside[0] = True
            try:
                _put_back(w)
            finally:
                inside[0] = False
        return original(changes, removals, expect_etag)

    w.stack.write_release = put_back_first  # type: ignore[method-assign]
    with pytest.raises(records.ReleaseEndedError):
        runner._write({}, records.advance(record, Phase.DEPLOYED))
    assert len(w.ctx.reporter.notes) == 8  # type: ignore[attr-defined]


def test_a_record_another_shell_took_the_lease_of_is_not_adopted(session: Any) -> None:
    w = world(session)
    w.ctx = replace(w.ctx, reporter=Notes())
    runner, record = _started(w)
    lease_taken_by(w, "carol@ci (pid 7)")()
    with pytest.raises(records.ReleaseEndedError):
        runner._write({}, records.advance(record, Phase.DEPLOYED))
    assert w.ctx.reporter.notes == []  # type: ignore[attr-defined]
    stored = records.in_progress(w.stack)
    assert stored is not None
    assert stored.lease is not None
    assert (stored.phase, stored.lease.holder) == (record.phase, "carol@ci (pid 7)")


def test_a_mark_that_stays_is_waited_on_for_10_minutes_read_every_5_s_then_the_driver_stops(session: Any) -> None:
    w = world(session)
    runner, record = _started(w)
    held = records.in_progress(w.stack)
    assert held is not None
    # Another shell marks the release for its abort and is never heard of again (killed before its update).
    records.commit(w.stack, held, records.ending(held, Outcome.ABORTED, "bob@desk", w.clock), exact=False)
    reads, original = [0], w.stack.read_release

    def counted() -> Any:
        reads[0] += 1
        return original()

    w.stack.read_release = counted  # type: ignore[method-assign]
    began = w.clock.monotonic()
    with pytest.raises(records.ReleaseEndedError):
        runner._write({}, records.advance(record, Phase.DEPLOYED))
    assert w.clock.monotonic() - began == records.ENDING_WAIT.total_seconds() == 600
    assert reads[0] == 600 / 5 + 1


@pytest.mark.parametrize(("counts", "healthy", "runs_3"), [
    ((2, 2), (True, "1 healthy target(s)"), (False, "blue runs 2 of the 3 tasks it needs")),
    ((3, 2), (True, "1 healthy target(s)"), (True, "1 healthy target(s)")),
    ((1, 2), (False, "blue service runs 1 of 2 tasks"), (False, "blue runs 1 of the 3 tasks it needs")),
    # A service scaled to nothing is not healthy, though it runs all it should.
    ((0, 0), (False, "blue service runs 0 of 0 tasks"), (False, "blue runs 0 of the 3 tasks it needs")),
], ids=["as-desired", "above", "below", "scaled-to-zero"])
def test_a_colour_is_healthy_only_with_healthy_targets_and_every_task_its_service_wants(
    session: Any, counts: tuple[int, int], healthy: tuple[bool, str], runs_3: tuple[bool, str],
) -> None:
    w, ecs = rolling_world(session, "completes")
    ecs.counts = counts
    runner = Executor(w.ctx).runner
    assert runner.healthy(Colour.BLUE) == healthy
    assert runner.running(Colour.BLUE) == counts[0]
    assert runner.runs(Colour.BLUE, 3) == runs_3


def test_a_colour_with_no_targets_registered_is_not_healthy(session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    w = world(session)
    client = w.ctx.aws.elbv2.client
    monkeypatch.setattr(client, "describe_target_health", lambda **_: {"TargetHealthDescriptions": []})
    assert Executor(w.ctx).runner.healthy(Colour.GREEN) == (False, "no targets registered in green's target group")


def test_a_colour_with_several_sick_targets_names_each_with_its_state(session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    w = world(session)
    live = w.stack.release_config().live
    w.stack.elb.register_targets(TargetGroupArn=w.stack.groups[live], Targets=[{"Id": "10.0.2.99", "Port": 8080}])
    targets_unhealthy(w, monkeypatch)
    healthy, why = Executor(w.ctx).runner.healthy(live)
    assert not healthy
    sick = why.removeprefix(f"{live} targets not healthy: ").split(", ")
    assert len(sick) == 2, why
    assert all(t.endswith(":unhealthy") for t in sick), why
    assert "10.0.2.99:unhealthy" in sick


def _forward(w: World, groups: list[tuple[str, int]]) -> None:
    """The listener's default action changed by hand (outside the stack): forward to these groups at these weights."""
    w.stack.elb.modify_listener(ListenerArn=w.stack.listener, DefaultActions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in groups]}}])


def test_a_listener_forwarding_to_a_group_of_no_colour_names_that_group_in_what_it_serves(session: Any) -> None:
    w = world(session)
    vpc = w.stack.elb.describe_target_groups(TargetGroupArns=[w.stack.groups[Colour.BLUE]])["TargetGroups"][0]["VpcId"]
    foreign = w.stack.elb.create_target_group(Name=f"{w.stack.prefix}-other", Protocol="HTTP", Port=8080, VpcId=vpc,
                                              TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    _forward(w, [(w.stack.groups[Colour.BLUE], 50), (foreign, 50)])
    with pytest.raises(StepFailure) as caught:
        Executor(w.ctx).runner.verify(Colour.GREEN, 0)
    assert caught.value.why.endswith(f"still serves {json.dumps({'blue': 50, foreign: 50}, sort_keys=True)}")


def test_a_listener_whose_weights_are_all_zero_serves_no_colour_anything(session: Any) -> None:
    w = world(session)
    _forward(w, [(w.stack.groups[Colour.BLUE], 0), (w.stack.groups[Colour.GREEN], 0)])
    with pytest.raises(StepFailure) as caught:
        Executor(w.ctx).runner.verify(Colour.GREEN, 0)
    assert caught.value.why.endswith('still serves {"blue": 0, "green": 0}')


# --- an ending: old state or new, never half ------------------------------------------------------------------------


def _ending(runner: Any, record: Any, changes: Any, **options: Any) -> Any:
    return runner.end(record, Outcome.ABORTED, changes, options.pop("message", f"release {record.id}: abort"), None,
                      options.pop("verify", lambda: None), by="alice@laptop", exact=True, **options)


def test_an_ending_that_would_leave_the_config_invalid_is_refused_before_anything_is_marked_or_updated(session: Any) -> None:
    w = world(session)
    runner, record = _started(w)
    issued = len(w.stack.issued)
    with pytest.raises(StepFailure) as caught:
        _ending(runner, record, {"release:canaryWeight": "101", "release:candidateTasks": "101"})
    assert (caught.value.what, caught.value.next_command) == ("stack config", "fix the config of staging")
    assert caught.value.why == ("release:canaryWeight: got 101; input should be less than or equal to 100; "
                                "release:candidateTasks: got 101; input should be less than or equal to 100")
    assert records.in_progress(w.stack) == record, "not marked"
    assert len(w.stack.issued) == issued


def test_an_endings_update_message_is_cut_to_the_first_1000_characters(session: Any) -> None:
    w = world(session)
    runner, record = _started(w)
    _ending(runner, record, {}, message="m" * 999 + "Xyz")
    assert w.stack.issued[-1]["message"] == "m" * 999 + "X"


def test_an_ending_whose_update_fails_puts_back_the_keys_it_changed_and_unmarks_the_record(session: Any) -> None:
    w = world(session)
    runner, record = _started(w)
    before = w.stack.get_config()
    assert "release:candidateTasks" not in before, "set by the ending, so putting it back removes it"
    w.stack.busy_with = "bob's update"
    with pytest.raises(StackBusyError):
        _ending(runner, record, {"release:bakeMinutes": "7", "release:candidateTasks": "2"})
    w.stack.busy_with = None
    after = w.stack.get_config()
    assert (after.get("release:bakeMinutes"), after.get("release:candidateTasks")) == (
        before.get("release:bakeMinutes"), before.get("release:candidateTasks"))
    held = records.in_progress(w.stack)
    assert held is not None
    assert (held.id, held.ending, held.outcome) == (record.id, None, None)
    assert runner.last == held, "what the driver last wrote is the record put back"


def test_a_new_records_ending_whose_update_fails_leaves_no_record_in_progress(session: Any) -> None:
    w = world(session)
    runner = Executor(w.ctx).runner
    record = records.new_record(w.stack.release_config(), "v2", "canary", w.clock, w.ctx.by)
    before = w.stack.get_config()
    assert "release:candidateTasks" not in before
    w.stack.busy_with = "bob's update"
    with pytest.raises(StackBusyError):
        _ending(runner, record, {"release:bakeMinutes": "7", "release:candidateTasks": "2"}, new=True)
    w.stack.busy_with = None
    assert records.in_progress(w.stack) is None
    after = w.stack.get_config()
    assert (after.get("release:bakeMinutes"), "release:candidateTasks" in after) == (before["release:bakeMinutes"], False)


def test_an_ending_records_its_phase_and_verified_weight_on_the_finished_record(session: Any) -> None:
    w = world(session)
    runner, record = _started(w)
    final = runner.end(record, Outcome.PROMOTED, {}, "promote", None, lambda: None, by="alice@laptop", exact=True,
                       phase=Phase.PROMOTED, weight=100)
    assert (final.phase, final.weight, final.highest_weight, final.outcome) == (Phase.PROMOTED, 100, 100, Outcome.PROMOTED)
    last = records.last_release(w.stack.get_config())
    assert last == final
    assert runner.last == final


def test_an_ending_applied_but_unread_leaves_the_record_marked_as_what_the_driver_last_wrote(session: Any) -> None:
    w = world(session)
    runner, record = _started(w)

    def unread() -> None:
        raise UnknownStateError("verifying the listener", "AWS answered Throttling", "python -m release abort --stack staging")

    with pytest.raises(UnknownStateError):
        _ending(runner, record, {}, verify=unread)
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.ending is not None
    assert held.ending.outcome is Outcome.ABORTED
    assert runner.last == held


# --- the lease: renewed when due, and the record checked at every renewal ------------------------------------------


def _writes(w: World) -> list[int]:
    """Counts the release-state writes the stack takes from here on."""
    counted: list[int] = []
    real = w.stack.write_release

    def counting(changes: Any, removals: Any, expect_etag: str) -> str:
        counted.append(1)
        return real(changes, removals, expect_etag)

    w.stack.write_release = counting  # type: ignore[method-assign]
    return counted


def test_a_lease_renewed_less_than_5_minutes_ago_is_only_read_then_renewed_once_5_minutes_have_passed(session: Any) -> None:
    w = world(session)
    runner, record = _started(w)
    writes = _writes(w)
    w.clock.sleep(records.RENEW_AFTER.total_seconds() - 1)
    assert runner._renew(record) is record
    assert writes == [], "a fresh lease is not written again at every poll"
    w.clock.sleep(1)  # 5 minutes to the second: due
    renewed = runner._renew(record)
    assert writes == [1]
    assert renewed.revision == record.revision + 1
    assert renewed.lease is not None
    assert renewed.lease.renewed_at == w.clock.now()
    assert records.in_progress(w.stack) == renewed


def test_a_fresh_lease_still_finds_a_record_another_shell_moved_on_and_stops(session: Any) -> None:
    w = world(session)
    runner, record = _started(w)
    lease_taken_by(w, "bob@desk (pid 7)")()
    w.clock.sleep(60)
    with pytest.raises(records.ReleaseEndedError) as caught:
        runner._renew(record)
    assert "bob@desk (pid 7)" in caught.value.why
