"""The AWS wrappers against moto (in process), and their retries, waits and refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from release.aws.base import AwsError, WaitTimeoutError, wait_until, with_retries
from release.aws.cloudwatch import MetricQuery, Metrics
from release.aws.ecs import Containers, TaskSpec
from release.aws.elbv2 import LoadBalancing, check_weights
from release.aws.rds import Databases, SnapshotExistsError
from release.aws.sns import Notifications
from release.clock import ManualClock

REGION = "eu-west-1"


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def _listener(session: Any) -> tuple[str, list[str]]:
    ec2, elb = session.client("ec2"), session.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    lb = elb.create_load_balancer(Name="app", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    groups = [elb.create_target_group(Name=n, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
              for n in ("blue", "green")]
    action = {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": groups[0], "Weight": 100},
                                                                    {"TargetGroupArn": groups[1], "Weight": 0}]}}
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[action])["Listeners"][0]["ListenerArn"]
    return listener, groups


def test_forward_weights_are_set_and_read_back(session: Any) -> None:
    listener, (blue, green) = _listener(session)
    elb = LoadBalancing(session, ManualClock())
    assert elb.forward_weights(listener) == {blue: 100, green: 0}
    elb.set_forward_weights(listener, {blue: 75, green: 25})
    assert elb.forward_weights(listener) == {blue: 75, green: 25}


@pytest.mark.parametrize(("weights", "message"), [
    ({"a": 1000, "b": 0}, "weight of a is 1000; allowed 0 to 999"),
    ({"a": 100}, "a weighted forward needs 2 to 5 target groups, got 1"),
    ({str(i): 1 for i in range(6)}, "a weighted forward needs 2 to 5 target groups, got 6"),
    ({"a": 0, "b": 0}, "the weights add up to 0"),
    ({"a": -1, "b": 5}, "weight of a is -1; allowed 0 to 999"),
])
def test_invalid_weights_are_refused_before_moto_would_accept_them(weights: dict[str, int], message: str) -> None:
    with pytest.raises(AwsError) as caught:
        check_weights(weights)
    assert message in caught.value.why


def test_a_missing_listener_is_named(session: Any) -> None:
    _listener(session)
    elb = LoadBalancing(session, ManualClock())
    missing = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/app/0123456789abcdef/0123456789abcdef"
    with pytest.raises(AwsError) as caught:
        elb.forward_weights(missing)
    assert caught.value.why == "the listener does not exist"


def test_target_health_lists_registered_targets(session: Any) -> None:
    _, (blue, green) = _listener(session)
    session.client("elbv2").register_targets(TargetGroupArn=blue, Targets=[{"Id": "10.0.1.10", "Port": 8080}])
    elb = LoadBalancing(session, ManualClock())
    assert [(t.id, t.state) for t in elb.target_health(blue)] == [("10.0.1.10", "healthy")]
    assert elb.target_health(green) == []


def test_alarm_states_include_missing_alarms(session: Any) -> None:
    cw = session.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="green-5xx", Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count",
                        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="green-5xx", StateValue="ALARM", StateReason="test")
    states = Metrics(session, ManualClock()).alarm_states(["green-5xx", "green-gone"])
    assert states == {"green-5xx": "ALARM", "green-gone": "MISSING"}


def test_metric_data_returns_values_per_query(session: Any) -> None:
    now = datetime.now(UTC)
    cw = session.client("cloudwatch")
    dims = [{"Name": "TargetGroup", "Value": "targetgroup/green/1"}]
    for value in (3.0, 4.0):
        cw.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=[
            {"MetricName": "RequestCount", "Dimensions": dims, "Value": value, "Timestamp": now}])
    query = MetricQuery("requests", "AWS/ApplicationELB", "RequestCount", (("TargetGroup", "targetgroup/green/1"),), "Sum")
    found = Metrics(session, ManualClock()).metric_data([query], now - timedelta(minutes=5), now + timedelta(minutes=5))
    assert sum(found["requests"]) == 7.0


def test_snapshot_waits_until_available_and_never_takes_an_existing_one(session: Any) -> None:
    session.client("rds").create_db_instance(DBInstanceIdentifier="db", DBInstanceClass="db.t4g.micro", Engine="postgres",
                                             MasterUsername="app", MasterUserPassword="password1", AllocatedStorage=20)
    rds = Databases(session, ManualClock())
    arn = rds.snapshot("db", "staging-release-v2")
    assert arn.endswith(":snapshot:staging-release-v2")
    with pytest.raises(SnapshotExistsError) as caught:
        rds.snapshot("db", "staging-release-v2")
    assert caught.value.why == "a snapshot of that name exists already"


def test_snapshot_of_a_missing_database_says_which(session: Any) -> None:
    with pytest.raises(AwsError) as caught:
        Databases(session, ManualClock()).snapshot("nope", "s-1")
    assert caught.value.why == "database nope does not exist"


def test_publish_returns_the_message_id(session: Any) -> None:
    topic = session.client("sns").create_topic(Name="alerts")["TopicArn"]
    assert Notifications(session, ManualClock()).publish(topic, "released", "{}")


def test_running_count_of_a_missing_service_is_named(session: Any) -> None:
    session.client("ecs").create_cluster(clusterName="app")
    with pytest.raises(AwsError) as caught:
        Containers(session, ManualClock()).running_count("app", "app-green")
    assert caught.value.why == "no service app-green in cluster app"


def test_a_migration_task_is_started_and_its_exit_code_read() -> None:
    # moto cannot run a Fargate task with a network configuration, so the calls are checked against botocore's stubber.
    session = boto3.Session(region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    ecs = Containers(session, ManualClock())
    definition = "arn:aws:ecs:eu-west-1:123456789012:task-definition/migrate:3"
    spec = TaskSpec("app", definition, ("subnet-1",), ("sg-1",), "migrate", ("migrate",))
    task = "arn:aws:ecs:eu-west-1:123456789012:task/app/abc"
    with Stubber(ecs.client) as stub:
        stub.add_response("run_task", {"tasks": [{"taskArn": task}], "failures": []}, {
            "cluster": "app", "taskDefinition": spec.task_definition_arn, "launchType": "FARGATE", "startedBy": "release r-1",
            "networkConfiguration": {"awsvpcConfiguration": {
                "subnets": ["subnet-1"], "securityGroups": ["sg-1"], "assignPublicIp": "DISABLED"}},
            "overrides": {"containerOverrides": [{"name": "migrate", "command": ["migrate"]}]},
        })
        stub.add_response("describe_tasks", {"tasks": [{"taskArn": task, "lastStatus": "RUNNING", "containers": []}]})
        stub.add_response("describe_tasks", {"tasks": [{"taskArn": task, "lastStatus": "STOPPED", "stoppedReason": "done",
                                                        "containers": [{"name": "migrate", "exitCode": 3}]}]})
        arn = ecs.start_task(spec, "release r-1")
        beats: list[float] = []
        run = ecs.wait_stopped("app", arn, "migrate", timeout=60, heartbeat=lambda: beats.append(ecs.clock.monotonic()))
    assert run.exit_code == 3
    assert run.reason == "done"
    assert beats == [0.0, 10.0], "the driver's heartbeat (its lease's renewal) runs before each read of the task"


def _throttled() -> ClientError:
    return ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "DescribeListeners")


def test_throttling_is_retried_with_backoff_then_succeeds() -> None:
    clock = ManualClock()
    answers: list[Any] = [_throttled(), _throttled(), "ok"]

    def call() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    assert with_retries(call, clock, what="x") == "ok"
    assert clock.slept == 0.5 + 1.0


def test_throttling_gives_up_after_the_attempts_with_a_message() -> None:
    def call() -> None:
        raise _throttled()

    with pytest.raises(AwsError) as caught:
        with_retries(call, ManualClock(), what="reading listener", attempts=3)
    assert caught.value.why == "AWS answered Throttling 3 times in a row"


def test_other_client_errors_are_not_retried() -> None:
    calls: list[int] = []

    def call() -> None:
        calls.append(1)
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeListeners")

    with pytest.raises(ClientError):
        with_retries(call, ManualClock(), what="x")
    assert len(calls) == 1


def test_a_wait_times_out_with_the_last_state_seen() -> None:
    clock = ManualClock()
    with pytest.raises(WaitTimeoutError) as caught:
        wait_until(lambda: (False, "2 of 3 running"), clock, what="green", timeout=60, interval=15)
    assert caught.value.why == "not done after 60s (last seen: 2 of 3 running)"
    assert clock.slept <= 60


def test_the_ecs_task_runner_hands_the_drivers_heartbeat_to_the_wait() -> None:
    from release.context import EcsTaskRunner

    seen: dict[str, Any] = {}

    class Waits:
        def start_task(self, spec: TaskSpec, started_by: str) -> str:
            return "arn:task"

        def wait_stopped(self, cluster: str, task_arn: str, container: str, *, timeout: float, heartbeat: Any = None) -> Any:
            seen.update(timeout=timeout, heartbeat=heartbeat)
            return None

    def beat() -> None:
        """The driver's renewal."""

    spec = TaskSpec("app", "arn:td", (), (), "migrate", ("migrate",))
    EcsTaskRunner(Waits()).run(spec, "release r-1", 1800.0, beat)  # type: ignore[arg-type]
    assert seen == {"timeout": 1800.0, "heartbeat": beat}
