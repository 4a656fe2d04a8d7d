"""The database migration task: the candidate colour's image, run once by the release driver.

A release snapshots the database, runs this task with the migrate command, and
only then shifts traffic; an aborted release runs it again with the rollback
command (a container override). The task definition follows the candidate's
version, so it changes exactly when the candidate colour's does. Its family
never embeds a version: each release is a new revision of the same family.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

CONTAINER_NAME = "migrate"
LOG_STREAM_PREFIX = "migrate"


@dataclass
class MigrationTaskArgs:
    """What the migration task needs from the fleet, the data tier and the ``data`` config."""

    names_prefix: str
    """Prefix of physical names; the family is ``<prefix>-migrate``."""
    region: str
    """The stack's AWS region, for the awslogs driver."""
    cluster_arn: pulumi.Input[str]
    """The ECS cluster the driver runs the task in."""
    execution_role_arn: pulumi.Input[str]
    """The fleet's execution role: pulls the image, writes logs and reads the ``container_secrets``."""
    task_role_arn: pulumi.Input[str]
    """The role the migration's own code runs as."""
    log_group_name: pulumi.Input[str]
    """The log group; the task writes its own ``migrate/`` streams there."""
    image_repository: pulumi.Input[str]
    """The image repository URL, without a tag."""
    version: pulumi.Input[str]
    """The candidate colour's image tag."""
    container_environment: Mapping[str, pulumi.Input[str]]
    """Plain environment variables (endpoints, never credentials)."""
    container_secrets: Sequence[tuple[str, pulumi.Input[str]]]
    """(name, valueFrom ARN) pairs ECS resolves from Secrets Manager when the task starts."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets the driver starts the task in."""
    security_group_id: pulumi.Input[str]
    """The service security group, which the database and cache admit."""
    migrate_command: Sequence[str]
    """The container's command: the arguments of the migrate command."""
    rollback_command: Sequence[str]
    """The arguments of the rollback command, which the driver passes as a container override."""
    reversible: bool = True
    """Whether the driver may run the rollback command; else it restores the pre-release snapshot."""
    cpu: int = 512
    """Fargate CPU units."""
    memory: int = 1024
    """Fargate memory in MiB."""
    cpu_architecture: str = "X86_64"
    """``X86_64`` or ``ARM64``: the same as the fleet's, since it runs the fleet's image."""


class MigrationTask(pulumi.ComponentResource):
    """A Fargate task definition that runs the candidate's migrations, and what the driver needs to run it."""

    task_definition_arn: pulumi.Output[str]
    """The task definition revision of the current candidate."""
    driver_contract: pulumi.Output[dict[str, Any]]
    """The ``migration`` stack output: cluster, task definition, network, container, commands."""

    def __init__(self, name: str, args: MigrationTaskArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:migration:MigrationTask", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        environment = pulumi.Output.all(**dict(args.container_environment)).apply(
            lambda env: [{"name": k, "value": str(v)} for k, v in sorted(env.items())],
        )
        secret_names = [n for n, _ in args.container_secrets]
        secrets = pulumi.Output.all(*[ref for _, ref in args.container_secrets]).apply(
            lambda refs: [{"name": n, "valueFrom": r} for n, r in zip(secret_names, refs, strict=True)],
        )
        image = pulumi.Output.concat(args.image_repository, ":", args.version)
        definitions = pulumi.Output.all(
            image=image, environment=environment, secrets=secrets, log_group=pulumi.Output.from_input(args.log_group_name),
        ).apply(lambda v: json.dumps([_container(args, v["image"], v["environment"], v["secrets"], v["log_group"])]))

        self.task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=f"{args.names_prefix}-migrate",
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(args.cpu),
            memory=str(args.memory),
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=args.cpu_architecture,
            ),
            execution_role_arn=args.execution_role_arn,
            task_role_arn=args.task_role_arn,
            container_definitions=definitions,
            opts=child,
        )
        self.task_definition_arn = self.task_definition.arn
        self.driver_contract = pulumi.Output.all(
            cluster=args.cluster_arn,
            task_definition_arn=self.task_definition.arn,
            subnets=args.subnet_ids,
            security_group=args.security_group_id,
        ).apply(lambda v: {
            "cluster": v["cluster"],
            "task_definition_arn": v["task_definition_arn"],
            "subnets": list(v["subnets"]),
            "security_groups": [v["security_group"]],
            "container_name": CONTAINER_NAME,
            "migrate_command": list(args.migrate_command),
            "rollback_command": list(args.rollback_command),
            "reversible": args.reversible,
        })
        self.register_outputs({"task_definition_arn": self.task_definition_arn, "migration": self.driver_contract})


def _container(
    args: MigrationTaskArgs, image: str, environment: list[dict[str, str]], secrets: list[dict[str, str]], log_group: str,
) -> dict[str, Any]:
    return {
        "name": CONTAINER_NAME,
        "image": image,
        "essential": True,
        "command": list(args.migrate_command),
        "environment": environment,
        "secrets": secrets,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": args.region,
                "awslogs-stream-prefix": LOG_STREAM_PREFIX,
            },
        },
    }
