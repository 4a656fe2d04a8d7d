"""EventBridge patterns, matched against events shaped like the ones AWS sends, with moto's pattern engine."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from components import deployment_events as events

REGION = "eu-west-1"
SERVICE = f"arn:aws:ecs:{REGION}:123456789012:service/web/web-green"


def ecs_event(name: str, reason: str, service: str = SERVICE) -> dict[str, Any]:
    return {
        "source": "aws.ecs",
        "detail-type": "ECS Deployment State Change",
        "region": REGION,
        "resources": [service],
        "detail": {"eventType": "ERROR" if name.endswith("FAILED") else "INFO", "eventName": name,
                   "deploymentId": "ecs-svc/1234", "reason": reason},
    }


def rds_event(identifier: str, categories: list[str], event_id: str) -> dict[str, Any]:
    return {
        "source": "aws.rds",
        "detail-type": "RDS DB Instance Event",
        "region": REGION,
        "resources": [f"arn:aws:rds:{REGION}:123456789012:db:{identifier}"],
        "detail": {"EventCategories": categories, "SourceType": "DB_INSTANCE", "SourceIdentifier": identifier,
                   "EventID": event_id, "Message": "something happened"},
    }


def matches(pattern: str, event: dict[str, Any]) -> bool:
    return EventPattern.load(pattern).matches_event(event)


ECS = events.ecs_deployment_pattern(REGION, "web", ["web-blue", "web-green"])


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (ecs_event("SERVICE_DEPLOYMENT_FAILED", "ECS deployment circuit breaker: tasks failed to start."), True),
        (ecs_event("SERVICE_DEPLOYMENT_IN_PROGRESS",
                   "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1111."), True),
        (ecs_event("SERVICE_DEPLOYMENT_IN_PROGRESS", "ECS deployment ecs-svc/1234 in progress."), False),
        (ecs_event("SERVICE_DEPLOYMENT_COMPLETED", "ECS deployment ecs-svc/1234 completed."), False),
        (ecs_event("SERVICE_DEPLOYMENT_FAILED", "failed",
                   service=f"arn:aws:ecs:{REGION}:123456789012:service/other/web-green"), False),
        (ecs_event("SERVICE_DEPLOYMENT_FAILED", "failed",
                   service="arn:aws:ecs:us-east-1:123456789012:service/web/web-green"), False),
    ],
    ids=["failed", "rollback-starts", "ordinary-deploy", "completed", "other-cluster", "other-region"],
)
def test_ecs_rule_pages_on_failures_and_rollbacks_of_our_services_only(event: dict[str, Any], expected: bool) -> None:
    assert matches(ECS, event) is expected


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (rds_event("web-db", ["failover"], "RDS-EVENT-0013"), True),
        (rds_event("web-db", ["low storage"], "RDS-EVENT-0007"), True),
        (rds_event("web-db", ["failure"], "RDS-EVENT-0031"), True),
        (rds_event("web-db", ["backup"], "RDS-EVENT-0001"), False),
        (rds_event("other-db", ["failover"], "RDS-EVENT-0013"), False),
    ],
    ids=["failover", "low-storage", "failure", "backup", "other-database"],
)
def test_rds_rule_pages_on_failover_storage_and_failure_of_our_database(event: dict[str, Any], expected: bool) -> None:
    assert matches(events.rds_event_pattern("web-db"), event) is expected


def test_alarm_state_pattern_matches_only_the_named_alarm() -> None:
    pattern = events.alarm_state_pattern(["web-health-check"])
    event = {"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change",
             "detail": {"alarmName": "web-health-check", "state": {"value": "ALARM"}}}
    assert matches(pattern, event)
    assert not matches(pattern, {**event, "detail": {"alarmName": "other", "state": {"value": "ALARM"}}})


def test_topic_policy_lets_only_our_rules_and_our_account_publish() -> None:
    policy = json.loads(events.topic_policy("arn:aws:sns:eu-west-1:1:t", ["arn:rule/a", "arn:rule/b"], "123456789012"))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    rules = by_sid["EventBridgeRules"]
    assert rules["Principal"] == {"Service": "events.amazonaws.com"}
    assert rules["Condition"] == {"ArnEquals": {"aws:SourceArn": ["arn:rule/a", "arn:rule/b"]}}
    alarms = by_sid["CloudWatchAlarms"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert {s["Action"] for s in policy["Statement"]} == {"sns:Publish"}
    assert {s["Resource"] for s in policy["Statement"]} == {"arn:aws:sns:eu-west-1:1:t"}
