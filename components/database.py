"""The application's PostgreSQL database: RDS in the private subnets, reachable from the service only.

The master password is generated and kept by RDS in Secrets Manager, so it never
appears in config or in the stack's state. Only the migration task receives it, and
each migration is a new task, so RDS's rotation of it (every 7 days by default)
never meets a running container. The application connects as its own user with
IAM database authentication: a token its task role signs per connection, with no
password to rotate under running tasks (docs/data.md, "Credentials and rotation"). Production's instance is Multi-AZ, refuses
deletion, takes a final snapshot on delete and is ``protect``-ed in the stack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.service_access import service_only_group

POSTGRES_PORT = 5432
# Daily backups, then weekly maintenance, outside European working hours and apart from each other.
BACKUP_WINDOW = "02:00-03:00"
MAINTENANCE_WINDOW = "sun:03:30-sun:04:30"
# The free tier of Performance Insights; longer history is billed per vCPU.
INSIGHTS_RETENTION_DAYS = 7


@dataclass
class DatabaseArgs:
    """What the database needs from the network and from the ``data`` config."""

    vpc_id: pulumi.Input[str]
    """The VPC of the private subnets."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets, in at least two zones (RDS requires two even for a single-zone instance)."""
    service_security_group_id: pulumi.Input[str]
    """The service's security group: the only source admitted to 5432."""
    names_prefix: str
    """Prefix of physical names, e.g. ``webapp-staging``; the instance is ``<prefix>-postgres``."""
    is_production: bool
    """Production: final snapshot on delete, automated backups kept after delete, ``protect``."""
    engine_version: str
    """PostgreSQL version, ``16`` (minor upgrades by RDS) or ``16.4`` (pinned)."""
    instance_class: pulumi.Input[str]
    """RDS instance class, e.g. ``db.t4g.medium``."""
    allocated_storage: pulumi.Input[int]
    """Initial gp3 storage in GiB."""
    max_allocated_storage: pulumi.Input[int]
    """Ceiling of storage autoscaling in GiB."""
    backup_retention_days: pulumi.Input[int]
    """Days of automated backups."""
    multi_az: pulumi.Input[bool]
    """A synchronous standby in a second zone."""
    deletion_protection: pulumi.Input[bool]
    """RDS refuses to delete the instance while set."""
    performance_insights: bool = True
    """Performance Insights, encrypted with the database's key."""
    database_name: pulumi.Input[str] = "app"
    """Name of the database the application uses."""
    master_username: pulumi.Input[str] = "app_admin"
    """Master user; RDS generates and keeps its password. The migration connects as it, never the application."""
    app_username: str = "app"
    """The application's user: IAM database authentication, created by the migration (docs/data.md)."""
    tags: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Tags for every resource."""


class Database(pulumi.ComponentResource):
    """RDS PostgreSQL with its key, network access, TLS-only parameters and RDS-managed credentials."""

    identifier: pulumi.Output[str]
    """The instance identifier: what the release driver snapshots before a migration."""
    master_secret_arn: pulumi.Output[str]
    """The Secrets Manager secret RDS keeps the master credentials in (JSON: username, password)."""
    container_environment: dict[str, pulumi.Output[str]]
    """``DATABASE_HOST``, ``DATABASE_PORT``, ``DATABASE_NAME``, ``DATABASE_USER`` (the application's) and
    ``DATABASE_AUTH`` (``iam``) for the application's plain environment."""
    migration_environment: dict[str, pulumi.Output[str]]
    """The migration's plain environment: the endpoint, and ``DATABASE_APP_USER``, the user it must keep."""
    migration_secrets: list[tuple[str, pulumi.Output[str]]]
    """The master ``DATABASE_USER`` and ``DATABASE_PASSWORD`` as (name, valueFrom): the migration's only."""
    readable_secret_arns: list[pulumi.Output[str]]
    """The secrets a task's execution role must be allowed to read for ``migration_secrets``."""
    app_user_arn: pulumi.Output[str]
    """The ``rds-db:connect`` resource of the application's user, for its task role."""

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:database:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Losing the key makes every snapshot unreadable: production protects it with the instance.
        kept = pulumi.ResourceOptions(parent=self, protect=args.is_production)
        tags = dict(args.tags)
        major = args.engine_version.split(".")[0]

        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{args.names_prefix} PostgreSQL storage, snapshots and Performance Insights",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags,
            opts=kept,
        )
        self.security_group, self.ingress = service_only_group(
            name,
            vpc_id=args.vpc_id,
            service_security_group_id=args.service_security_group_id,
            port=POSTGRES_PORT,
            label=f"{args.names_prefix} PostgreSQL",
            tags=tags,
            opts=child,
        )
        self.subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=args.subnet_ids,
            description=f"{args.names_prefix} PostgreSQL private subnets",
            tags=tags,
            opts=child,
        )
        # Auto-named, so a major upgrade creates the new family's group before the old one goes.
        self.parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            family=f"postgres{major}",
            description=f"{args.names_prefix} PostgreSQL {major}: TLS required",
            parameters=[aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1", apply_method="immediate")],
            tags=tags,
            opts=child,
        )
        self.instance = aws.rds.Instance(
            f"{name}-postgres",
            identifier=f"{args.names_prefix}-postgres",
            engine="postgres",
            engine_version=args.engine_version,
            # A pinned minor is a decision; a major alone lets RDS apply minors in the window.
            auto_minor_version_upgrade="." not in args.engine_version,
            allow_major_version_upgrade=True,
            instance_class=args.instance_class,
            allocated_storage=args.allocated_storage,
            max_allocated_storage=args.max_allocated_storage,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=self.key.arn,
            db_name=args.database_name,
            username=args.master_username,
            manage_master_user_password=True,
            # The application signs a token per connection with its task role instead of holding a password.
            iam_database_authentication_enabled=True,
            port=POSTGRES_PORT,
            db_subnet_group_name=self.subnet_group.name,
            vpc_security_group_ids=[self.security_group.id],
            parameter_group_name=self.parameter_group.name,
            publicly_accessible=False,
            multi_az=args.multi_az,
            backup_retention_period=args.backup_retention_days,
            backup_window=BACKUP_WINDOW,
            maintenance_window=MAINTENANCE_WINDOW,
            copy_tags_to_snapshot=True,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=not args.is_production,
            final_snapshot_identifier=f"{args.names_prefix}-postgres-final" if args.is_production else None,
            delete_automated_backups=not args.is_production,
            performance_insights_enabled=args.performance_insights,
            performance_insights_kms_key_id=self.key.arn if args.performance_insights else None,
            performance_insights_retention_period=INSIGHTS_RETENTION_DAYS if args.performance_insights else None,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            # Staging applies changes now; production waits for its maintenance window.
            apply_immediately=not args.is_production,
            tags=tags,
            opts=kept,
        )

        self.identifier = self.instance.identifier
        self.master_secret_arn = self.instance.master_user_secrets.apply(_first_secret_arn)
        endpoint = {
            "DATABASE_HOST": self.instance.address,
            "DATABASE_PORT": self.instance.port.apply(str),
            "DATABASE_NAME": self.instance.db_name.apply(str),
        }
        app_user = pulumi.Output.from_input(args.app_username)
        self.container_environment = {**endpoint, "DATABASE_USER": app_user, "DATABASE_AUTH": pulumi.Output.from_input("iam")}
        self.migration_environment = {**endpoint, "DATABASE_APP_USER": app_user}
        # ECS reads one JSON key of the secret with the `<arn>:<key>::` form of valueFrom.
        self.migration_secrets = [
            ("DATABASE_USER", self.master_secret_arn.apply(lambda arn: f"{arn}:username::")),
            ("DATABASE_PASSWORD", self.master_secret_arn.apply(lambda arn: f"{arn}:password::")),
        ]
        self.readable_secret_arns = [self.master_secret_arn]
        self.app_user_arn = pulumi.Output.all(self.instance.arn, self.instance.resource_id).apply(
            lambda v: db_user_arn(v[0], v[1], args.app_username))
        self.register_outputs({
            "identifier": self.identifier,
            "address": self.instance.address,
            "port": self.instance.port,
            "master_secret_arn": self.master_secret_arn,
            "security_group_id": self.security_group.id,
        })


def db_user_arn(instance_arn: str, resource_id: str, user: str) -> str:
    """The resource ``rds-db:connect`` names for ``user``: ``arn:aws:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<user>``.

    Source: the RDS User Guide, "Creating and using an IAM policy for IAM database access".
    """
    parts = instance_arn.split(":")
    return f"arn:{parts[1]}:rds-db:{parts[3]}:{parts[4]}:dbuser:{resource_id}/{user}"


def _first_secret_arn(secrets: Sequence[aws.rds.outputs.InstanceMasterUserSecret] | None) -> str:
    arn = secrets[0].secret_arn if secrets else None
    if not arn:
        message = "RDS returned no master user secret although manage_master_user_password is set"
        raise ValueError(message)
    return arn
