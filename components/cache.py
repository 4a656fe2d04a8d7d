"""The application's Redis: an ElastiCache replication group reachable from the service only.

Traffic is TLS and clients authenticate with a token. The token comes from the
stack's secret config (``data:cacheAuthToken``), is given to ElastiCache, and is
stored in a Secrets Manager secret that the fleet's tasks read through their
``secrets``; it never appears in a container's plain environment. Production has a
replica in another zone with automatic failover, keeps daily snapshots and is
``protect``-ed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.service_access import service_only_group

REDIS_PORT = 6379
# Apart from the database's backup (02:00-03:00) and maintenance (sun 03:30-04:30) windows.
SNAPSHOT_WINDOW = "00:30-01:30"
MAINTENANCE_WINDOW = "sun:05:00-sun:06:00"


@dataclass
class CacheArgs:
    """What the cache needs from the network, the ``data`` config and the secret config."""

    vpc_id: pulumi.Input[str]
    """The VPC of the private subnets."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets; replicas are placed in other zones than the primary."""
    service_security_group_id: pulumi.Input[str]
    """The service's security group: the only source admitted to 6379."""
    names_prefix: str
    """Prefix of physical names, e.g. ``webapp-staging``; the group is ``<prefix>-redis``."""
    is_production: bool
    """Production: automatic failover, Multi-AZ, a final snapshot on delete, ``protect``."""
    node_type: pulumi.Input[str]
    """ElastiCache node type, e.g. ``cache.t4g.small``."""
    engine_version: str
    """Redis version: ``6.2``, ``7.0`` or ``7.1``."""
    auth_token: pulumi.Input[str]
    """The AUTH token clients present (a secret: 16-128 printable characters, no ``@``, ``"`` or ``/``)."""
    replicas: int = 0
    """Read replicas beside the primary; production needs at least one for failover."""
    snapshot_retention_days: pulumi.Input[int] = 0
    """Days of daily snapshots; 0 takes none."""
    tags: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Tags for every resource."""


class Cache(pulumi.ComponentResource):
    """ElastiCache Redis with encryption in transit and at rest and an auth token in Secrets Manager."""

    auth_token_secret_arn: pulumi.Output[str]
    """The secret holding the auth token (a plain string, not JSON)."""
    container_environment: dict[str, pulumi.Output[str]]
    """``REDIS_HOST`` and ``REDIS_PORT`` for a container's plain environment."""
    container_secrets: list[tuple[str, pulumi.Output[str]]]
    """``REDIS_AUTH_TOKEN`` as (name, valueFrom) for a container's ``secrets``."""
    readable_secret_arns: list[pulumi.Output[str]]
    """The secrets a task's execution role must be allowed to read for ``container_secrets``."""

    def __init__(self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:cache:Cache", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Sessions live here: production's group cannot be deleted or replaced by an update.
        kept = pulumi.ResourceOptions(parent=self, protect=args.is_production)
        tags = dict(args.tags)
        major = args.engine_version.split(".")[0]

        self.security_group, self.ingress = service_only_group(
            name,
            vpc_id=args.vpc_id,
            service_security_group_id=args.service_security_group_id,
            port=REDIS_PORT,
            label=f"{args.names_prefix} Redis",
            tags=tags,
            opts=child,
        )
        self.subnet_group = aws.elasticache.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=args.subnet_ids,
            description=f"{args.names_prefix} Redis private subnets",
            tags=tags,
            opts=child,
        )
        # The AWS-managed key: the fleet's execution role then needs secretsmanager:GetSecretValue
        # on this secret and nothing on KMS.
        self.secret = aws.secretsmanager.Secret(
            f"{name}-auth-token",
            description=f"{args.names_prefix} Redis AUTH token (set from data:cacheAuthToken)",
            recovery_window_in_days=30 if args.is_production else 7,
            tags=tags,
            opts=child,
        )
        self.secret_version = aws.secretsmanager.SecretVersion(
            f"{name}-auth-token-value",
            secret_id=self.secret.id,
            secret_string=pulumi.Output.secret(args.auth_token),
            opts=child,
        )
        self.replication_group = aws.elasticache.ReplicationGroup(
            f"{name}-redis",
            replication_group_id=f"{args.names_prefix}-redis",
            description=f"{args.names_prefix} Redis for cache and sessions",
            engine="redis",
            engine_version=args.engine_version,
            parameter_group_name="default.redis6.x" if major == "6" else f"default.redis{major}",
            node_type=args.node_type,
            num_cache_clusters=1 + args.replicas,
            port=REDIS_PORT,
            subnet_group_name=self.subnet_group.name,
            security_group_ids=[self.security_group.id],
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=True,
            auth_token=pulumi.Output.secret(args.auth_token),
            # A new token is added beside the old one, so running tasks keep their connections
            # until they restart with the new secret value.
            auth_token_update_strategy="ROTATE",  # noqa: S106 - a strategy name, not a token
            automatic_failover_enabled=args.is_production,
            multi_az_enabled=args.is_production,
            snapshot_retention_limit=args.snapshot_retention_days,
            snapshot_window=SNAPSHOT_WINDOW,
            maintenance_window=MAINTENANCE_WINDOW,
            final_snapshot_identifier=f"{args.names_prefix}-redis-final" if args.is_production else None,
            auto_minor_version_upgrade=True,
            apply_immediately=not args.is_production,
            tags=tags,
            opts=kept,
        )

        # The secret's ARN, resolved only once the version exists, so no task starts before the secret has a
        # value. (SecretVersion.secret_arn would do both, but pulumi-aws 7.0 has no such output.)
        self.auth_token_secret_arn = pulumi.Output.all(self.secret.arn, self.secret_version.id).apply(lambda values: str(values[0]))
        self.container_environment = {
            "REDIS_HOST": self.replication_group.primary_endpoint_address,
            "REDIS_PORT": self.replication_group.port.apply(lambda port: str(port or REDIS_PORT)),
        }
        self.container_secrets = [("REDIS_AUTH_TOKEN", self.auth_token_secret_arn)]
        self.readable_secret_arns = [self.auth_token_secret_arn]
        self.register_outputs({
            "primary_endpoint": self.replication_group.primary_endpoint_address,
            "auth_token_secret_arn": self.auth_token_secret_arn,
            "security_group_id": self.security_group.id,
        })
