"""The data tier of one environment: how the ``data`` config becomes a Database, a Cache and a MigrationTask.

The environment builds the database and the cache after the network (they need
its private subnets and the service security group) and before the fleet (whose
containers get their endpoints and credential references); the migration task
comes after the fleet, since it runs on the fleet's cluster with its roles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from components.cache import Cache, CacheArgs
from components.config.base import Problem
from components.config.data import DataConfig
from components.database import Database, DatabaseArgs
from components.migration import MigrationTask, MigrationTaskArgs

# Every variable the data tier gives a container, plain or by secret reference.
DATA_VARIABLES = (
    "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_USER", "DATABASE_PASSWORD", "DATABASE_AUTH",
    "DATABASE_APP_USER",
    "REDIS_HOST", "REDIS_PORT", "REDIS_AUTH_TOKEN",
)


def reserved_variable_problems(environment: Mapping[str, str], key: str = "fleet:environment") -> list[Problem]:
    """Variables a stack sets by hand that the data tier owns; the value is not shown, it may be a credential."""
    return [
        Problem(f"{key}.{name}", "(not shown)",
                "the data tier sets this variable (endpoints as plain values, credentials from Secrets Manager): remove it")
        for name in DATA_VARIABLES if name in environment
    ]


@dataclass(frozen=True)
class DataTierArgs:
    """What the data tier needs from the stack: its config, the network and the auth token."""

    config: DataConfig
    """The validated ``data`` namespace."""
    names_prefix: str
    """Prefix of physical names, e.g. ``webapp-staging``."""
    is_production: bool
    """Whether production's stricter settings apply."""
    vpc_id: pulumi.Input[str]
    """The environment's VPC."""
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The private subnets the database, the cache and the migration task run in."""
    service_security_group_id: pulumi.Input[str]
    """The service's security group: the only source the database and the cache admit."""
    cache_auth_token: pulumi.Input[str]
    """The Redis AUTH token, from the secret config key ``data:cacheAuthToken``."""
    tags: Mapping[str, pulumi.Input[str]]
    """Tags for every resource."""


class DataTier:
    """The database and cache of an environment, and what a container needs to reach them."""

    def __init__(self, name: str, args: DataTierArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        cfg = args.config
        self.args = args
        self.database = Database(f"{name}-database", DatabaseArgs(
            vpc_id=args.vpc_id, subnet_ids=args.private_subnet_ids, service_security_group_id=args.service_security_group_id,
            names_prefix=args.names_prefix, is_production=args.is_production, engine_version=cfg.engine_version,
            instance_class=cfg.instance_class, allocated_storage=cfg.allocated_storage,
            max_allocated_storage=cfg.max_allocated_storage, backup_retention_days=cfg.backup_retention_days,
            multi_az=cfg.multi_az, deletion_protection=cfg.deletion_protection, performance_insights=cfg.performance_insights,
            database_name=cfg.database_name, master_username=cfg.master_username, app_username=cfg.app_username,
            tags=args.tags,
        ), opts)
        self.cache = Cache(f"{name}-cache", CacheArgs(
            vpc_id=args.vpc_id, subnet_ids=args.private_subnet_ids, service_security_group_id=args.service_security_group_id,
            names_prefix=args.names_prefix, is_production=args.is_production, node_type=cfg.cache_node_type,
            engine_version=cfg.cache_engine_version, auth_token=args.cache_auth_token, replicas=cfg.cache_replicas,
            snapshot_retention_days=cfg.cache_snapshot_retention_days, tags=args.tags,
        ), opts)

    @property
    def container_environment(self) -> dict[str, pulumi.Output[str]]:
        """Endpoints for a container's plain environment."""
        return {**self.database.container_environment, **self.cache.container_environment}

    @property
    def container_secrets(self) -> list[tuple[str, pulumi.Output[str]]]:
        """The application's credentials as (name, valueFrom) references: the cache's; the database needs none."""
        return list(self.cache.container_secrets)

    @property
    def migration_secrets(self) -> list[tuple[str, pulumi.Output[str]]]:
        """The migration's credentials: the database's master user, and the cache's."""
        return [*self.database.migration_secrets, *self.cache.container_secrets]

    @property
    def readable_secret_arns(self) -> list[pulumi.Output[str]]:
        """Exactly the secrets the (shared) execution role must read for both containers' ``secrets``."""
        return [*self.database.readable_secret_arns, *self.cache.readable_secret_arns]

    @property
    def database_user_arns(self) -> list[pulumi.Output[str]]:
        """What the application's task role may ``rds-db:connect`` as."""
        return [self.database.app_user_arn]

    def migration(
        self,
        name: str,
        fleet: MigrationFleet,
        opts: pulumi.ResourceOptions | None = None,
    ) -> MigrationTask:
        """The migration task of the candidate's version, on the fleet's cluster with its roles and environment."""
        cfg = self.args.config
        return MigrationTask(name, MigrationTaskArgs(
            names_prefix=self.args.names_prefix, region=fleet.region, cluster_arn=fleet.cluster_arn,
            execution_role_arn=fleet.execution_role_arn, task_role_arn=fleet.task_role_arn,
            log_group_name=fleet.log_group_name, image_repository=fleet.image_repository, version=fleet.candidate_version,
            container_environment=self._migration_environment(fleet.container_environment),
            container_secrets=self.migration_secrets,
            subnet_ids=self.args.private_subnet_ids, security_group_id=self.args.service_security_group_id,
            migrate_command=cfg.migrate_args, rollback_command=cfg.rollback_args, reversible=cfg.migration_reversible,
            cpu=fleet.cpu, memory=fleet.memory,
        ), opts)


    def _migration_environment(self, environment: Mapping[str, pulumi.Input[str]]) -> dict[str, pulumi.Input[str]]:
        # The application's user and auth mode give way to the master's secrets: one DATABASE_USER per container.
        plain = {k: v for k, v in environment.items() if k not in self.database.container_environment}
        return {**plain, **self.database.migration_environment}


@dataclass(frozen=True)
class MigrationFleet:
    """What the migration task takes from the fleet: where and as whom it runs, and which image."""

    region: str
    """The stack's region."""
    cluster_arn: pulumi.Input[str]
    """The fleet's ECS cluster."""
    execution_role_arn: pulumi.Input[str]
    """The fleet's execution role, which may read the data tier's secrets."""
    task_role_arn: pulumi.Input[str]
    """The fleet's task role."""
    log_group_name: pulumi.Input[str]
    """The fleet's log group."""
    image_repository: str
    """The application's image repository."""
    candidate_version: str
    """The candidate colour's image tag."""
    container_environment: Mapping[str, pulumi.Input[str]]
    """The same plain environment the fleet's containers get."""
    cpu: int
    """Fargate CPU units of the fleet's tasks; migrations get the same size."""
    memory: int
    """Fargate memory in MiB of the fleet's tasks."""
