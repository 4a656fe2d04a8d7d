"""EventBridge patterns and messages for what fails outside a metric: deployments, database events, the health check.

Pure functions returning JSON text, so the patterns are tested as data and the
component only wires them to rules and the alert topic.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

# RDS instance event categories that need a person: a failover happened, storage is
# running out, or the instance failed.
RDS_CATEGORIES = ("failover", "low storage", "failure")

# Services that publish to the alert topic. An encrypted topic's KMS key policy must
# let them use the key (kms:GenerateDataKey*, kms:Decrypt), or their messages are dropped.
TOPIC_PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com")


def ecs_deployment_pattern(region: str, cluster: str, services: Sequence[str]) -> str:
    """Failed ECS deployments, and circuit-breaker rollbacks as they start, for the given services."""
    return json.dumps({
        "source": ["aws.ecs"],
        "detail-type": ["ECS Deployment State Change"],
        # The event's resource is the service ARN; the account is the stack's own, so it is left open.
        "resources": [{"wildcard": f"arn:aws:ecs:{region}:*:service/{cluster}/{service}"} for service in services],
        "detail": {
            "$or": [
                {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]},
                # A rollback is announced as a deployment in progress whose reason names the rollback.
                {"eventName": ["SERVICE_DEPLOYMENT_IN_PROGRESS"], "reason": [{"wildcard": "*rolling back*"}]},
            ],
        },
    }, sort_keys=True)


def rds_event_pattern(database: str) -> str:
    """Failover, low-storage and failure events of one RDS instance."""
    return json.dumps({
        "source": ["aws.rds"],
        "detail-type": ["RDS DB Instance Event"],
        "detail": {"SourceIdentifier": [database], "EventCategories": list(RDS_CATEGORIES)},
    }, sort_keys=True)


def alarm_state_pattern(alarm_names: Sequence[str]) -> str:
    """State changes of the named CloudWatch alarms (used to carry a us-east-1 alarm to the stack's region)."""
    return json.dumps({
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": list(alarm_names)},
    }, sort_keys=True)


def ecs_message() -> dict[str, Any]:
    """Input transformer of the ECS rule: one readable line for the person paged."""
    return {
        "input_paths": {"event": "$.detail.eventName", "service": "$.resources[0]", "reason": "$.detail.reason"},
        "input_template": '"ECS <event> on <service>: <reason>"',
    }


def rds_message() -> dict[str, Any]:
    """Input transformer of the RDS rule."""
    return {
        "input_paths": {"database": "$.detail.SourceIdentifier", "event": "$.detail.EventID", "message": "$.detail.Message"},
        "input_template": '"RDS <event> on <database>: <message>"',
    }


def topic_policy(topic_arn: str, rule_arns: Sequence[str], account: str) -> str:
    """The alert topic's policy: EventBridge may publish from these rules, CloudWatch from this account's alarms."""
    statements = [
        {
            "Sid": "EventBridgeRules",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": list(rule_arns)}},
        },
        {
            "Sid": "CloudWatchAlarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
