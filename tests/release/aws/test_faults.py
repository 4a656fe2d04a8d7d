"""Transient AWS errors are asked again on the injected clock, within bounds; every release takes a snapshot of its own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from release.aws.base import ATTEMPTS, MAX_DELAY, TransientAwsError, TransientGrace, is_transient, wait_until, with_retries
from release.aws.rds import SNAPSHOT_ID_MAX, Databases, fresh_snapshot_id, snapshot_identifier
from release.clock import ManualClock
from release.strategies.planner import snapshot_id

# DBSnapshotIdentifier (botocore rds 2014-10-31 CreateDBSnapshotMessage): letters, digits, hyphens; a letter
# first; no "--"; no trailing hyphen.
RDS_ID = re.compile(r"^[A-Za-z](?:-?[A-Za-z0-9])*$")
WHEN = datetime(2026, 11, 27, 10, 0, 5, tzinfo=UTC)


def _error(code: str, status: int = 400) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": "busy"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "DescribeAlarms")


def _failing(errors: list[ClientError], answer: str = "ok") -> Any:
    def call() -> str:
        if errors:
            raise errors.pop(0)
        return answer

    return call


@pytest.mark.parametrize(("code", "status"), [
    ("Throttling", 400), ("ThrottlingException", 400), ("RequestLimitExceeded", 503), ("ServiceUnavailable", 503),
    ("InternalFailure", 500), ("Anything", 502), ("Anything", 504), ("TooManyRequestsException", 429),
])
def test_botocores_transient_codes_and_statuses_are_retried(code: str, status: int) -> None:
    clock = ManualClock()
    assert with_retries(_failing([_error(code, status)] * 3), clock, what="reading alarm states") == "ok"
    assert clock.slept == 0.5 + 1.0 + 2.0


@pytest.mark.parametrize(("code", "status"), [("AccessDenied", 403), ("ValidationError", 400), ("ResourceNotFound", 404)])
def test_answers_that_are_not_transient_are_not_retried(code: str, status: int) -> None:
    assert not is_transient(_error(code, status))
    with pytest.raises(ClientError):
        with_retries(_failing([_error(code, status)]), ManualClock(), what="x")


def test_retries_are_bounded_and_the_message_names_the_aws_code() -> None:
    clock = ManualClock()
    with pytest.raises(TransientAwsError) as caught:
        with_retries(_failing([_error("Throttling")] * 50), clock, what="reading alarm states")
    assert caught.value.code == "Throttling"
    assert str(caught.value) == f"reading alarm states: AWS answered Throttling {ATTEMPTS} times in a row"
    # Backoff doubles from 0.5 s and is capped: the whole wait is bounded.
    assert clock.slept == sum(min(0.5 * 2**n, MAX_DELAY) for n in range(ATTEMPTS - 1))


def test_a_wait_polls_again_through_transient_errors() -> None:
    clock = ManualClock()
    answers: list[Any] = [TransientAwsError("x", "y", "", "Throttling")] * 2 + [(True, "healthy")]

    def check() -> tuple[bool, str]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_until(check, clock, what="green", timeout=60, interval=15) == "healthy"
    assert clock.slept == 30


def test_the_grace_of_a_bake_runs_from_the_first_failure_and_ends_with_a_success() -> None:
    clock = ManualClock()
    grace = TransientGrace(clock, 120)
    assert grace.tolerate()
    clock.sleep(119)
    assert grace.tolerate()
    clock.sleep(1)
    assert not grace.tolerate()
    grace.clear()
    assert grace.tolerate()


@pytest.mark.parametrize("text", ["staging-release-v2", "1.4.0_rc1", "--x--", "ré-lease", "a" * 400, "9" * 300, "x-" * 200])
def test_fresh_snapshot_ids_follow_the_rds_identifier_rules(text: str) -> None:
    for attempt in (1, 2, 5):
        name = fresh_snapshot_id(snapshot_identifier(text), WHEN, attempt)
        assert RDS_ID.match(name), name
        assert 1 <= len(name) <= SNAPSHOT_ID_MAX
        assert name.endswith("-20261127100005" + (f"-{attempt}" if attempt > 1 else ""))


def test_the_planned_name_start_is_a_valid_identifier() -> None:
    assert snapshot_id("staging", "1.4.0_rc1") == "staging-release-1-4-0-rc1"
    assert RDS_ID.match(snapshot_id("staging", "_" * 10))


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.Session(region_name="eu-west-1")
        client.client("rds").create_db_instance(
            DBInstanceIdentifier="db", DBInstanceClass="db.t4g.micro", Engine="postgres",
            MasterUsername="app", MasterUserPassword="password1", AllocatedStorage=20,  # noqa: S106 - moto's
        )
        yield client


def test_releasing_the_same_version_again_takes_a_new_snapshot_even_within_the_second(session: Any) -> None:
    clock = ManualClock()
    rds = Databases(session, clock)
    first = rds.fresh_snapshot("db", "staging-release-v2")
    again = rds.fresh_snapshot("db", "staging-release-v2")
    clock.sleep(3600)
    later = rds.fresh_snapshot("db", "staging-release-v2")
    assert len({first, again, later}) == 3
    assert again == f"{first}-2"
    listed = {s["DBSnapshotIdentifier"] for s in session.client("rds").describe_db_snapshots()["DBSnapshots"]}
    assert {first, again, later} <= listed
