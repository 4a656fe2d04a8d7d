"""The fleet's two roles, each allowed only what it needs.

The execution role is what ECS uses to start a task: pull this repository's
image, write to this log group, read exactly the secrets the task is given.
The task role is what the application runs as; it starts with no permissions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

_ECR_URL = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<repository>.+)$")


def repository_arn(url: str) -> str:
    """The ARN of an ECR repository given its URL."""
    match = _ECR_URL.match(url)
    if not match:
        message = f"not an ECR repository URL: {url!r}"
        raise ValueError(message)
    return f"arn:aws:ecr:{match['region']}:{match['account']}:repository/{match['repository']}"


def _trust() -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    })


def execution_policy(repository: str, log_group_arns: Sequence[str], secret_arns: Sequence[str]) -> str:
    """The execution role's policy document."""
    statements: list[dict[str, Any]] = [
        # GetAuthorizationToken has no resource-level permissions.
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Effect": "Allow", "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
         "Resource": repository},
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": [f"{arn}:*" for arn in log_group_arns]},
    ]
    if secret_arns:
        statements.append({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": sorted(set(secret_arns))})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def connect_policy(user_arns: Sequence[str]) -> str:
    """The task role's policy: connect to the database as these users, nothing else.

    Source: the RDS User Guide, "Creating and using an IAM policy for IAM database access".
    """
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "rds-db:connect", "Resource": sorted(set(user_arns))},
    ]})


@dataclass
class FleetRolesArgs:
    """Inputs of ``FleetRoles``."""

    image_repository: str
    """ECR repository URL the tasks pull from."""
    log_group_arns: Sequence[pulumi.Input[str]]
    """Log groups the containers write to (each colour's, and the shared one of one-off tasks)."""
    readable_secret_arns: Sequence[pulumi.Input[str]] = ()
    """Secrets the execution role may read."""
    database_user_arns: Sequence[pulumi.Input[str]] = ()
    """Database users the task role may connect as with IAM authentication (``rds-db:connect``)."""
    permissions_boundary: pulumi.Input[str] | None = None
    """Permissions boundary of every role created here (the stack's boundary policy); None: unbounded."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for the roles."""


class FleetRoles(pulumi.ComponentResource):
    """The execution role and the task role of the fleet."""

    execution_role_arn: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: FleetRolesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:fleet:FleetRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        execution = aws.iam.Role(f"{name}-execution", assume_role_policy=_trust(), permissions_boundary=args.permissions_boundary,
                                 tags=dict(args.tags), opts=child)
        repository = repository_arn(args.image_repository)
        document = pulumi.Output.all(pulumi.Output.all(*args.log_group_arns), pulumi.Output.all(*args.readable_secret_arns)).apply(
            lambda values: execution_policy(repository, values[0], values[1]))
        aws.iam.RolePolicy(f"{name}-execution", role=execution.id, policy=document, opts=child)
        task = aws.iam.Role(f"{name}-task", assume_role_policy=_trust(), permissions_boundary=args.permissions_boundary,
                            tags=dict(args.tags), opts=child)
        if args.database_user_arns:
            aws.iam.RolePolicy(f"{name}-task-database", role=task.id, opts=child,
                               policy=pulumi.Output.all(*args.database_user_arns).apply(connect_policy))
        self.execution_role_arn = execution.arn
        self.task_role_arn = task.arn
        self.register_outputs({"execution_role_arn": self.execution_role_arn, "task_role_arn": self.task_role_arn})
