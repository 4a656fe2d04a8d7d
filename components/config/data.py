"""The ``data`` namespace: the PostgreSQL database, the Redis cache and the migration task.

Defaults depend on the environment (validation context ``environment``): staging
is small and single-zone, production is Multi-AZ, protected and keeps backups
for at least a week. Production's safety settings cannot be turned off here;
a stack that tries gets a config error naming the key.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from components.config.base import ConfigModel, Problem, cross_field
from components.config.by_environment import fill_defaults

# Major versions RDS for PostgreSQL offers today; 11 and older are past end of support.
POSTGRES_MAJORS = range(12, 18)
_POSTGRES_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?$")
# db.<family>.<size>: family letters and digits (t4g, m6gd, r7i, x2iedn), size nano to 48xlarge.
_RDS_CLASS = re.compile(r"^db\.[a-z][a-z0-9-]*\.(?:nano|micro|small|medium|large|xlarge|[1-9][0-9]?xlarge|metal)$")
_CACHE_NODE = re.compile(r"^cache\.[a-z][a-z0-9-]*\.(?:micro|small|medium|large|xlarge|[1-9][0-9]?xlarge)$")
# Redis versions ElastiCache offers with in-transit encryption and auth tokens on one primary endpoint.
REDIS_VERSIONS = ("6.2", "7.0", "7.1")

# Where production's defaults differ from the declared (staging) ones.
BY_ENVIRONMENT: dict[str, dict[str, Any]] = {
    "production": {
        "instanceClass": "db.r7g.large",
        "allocatedStorage": 100,
        "maxAllocatedStorage": 1000,
        "backupRetentionDays": 14,
        "multiAz": True,
        "deletionProtection": True,
        "cacheNodeType": "cache.r7g.large",
        "cacheReplicas": 1,
        "cacheSnapshotRetentionDays": 7,
    },
}

# Production keeps a week of database backups and cache snapshots (the policy pack checks the same).
PRODUCTION_MIN_BACKUP_DAYS = 7


def _production(info: ValidationInfo) -> bool:
    return (info.context or {}).get("environment") == "production"


# ElastiCache's rule for AUTH tokens.
_AUTH_TOKEN = re.compile(r"^[\x21-\x7e]{16,128}$")
_AUTH_TOKEN_FORBIDDEN = set('@"/')


def check_auth_token(token: str) -> str | None:
    """What is wrong with a Redis AUTH token, or None; the token itself is never part of the answer."""
    if _AUTH_TOKEN.match(token) and not _AUTH_TOKEN_FORBIDDEN & set(token):
        return None
    return (
        f"ElastiCache accepts 16-128 printable ASCII characters without spaces, '@', '\"' or '/' "
        f"(this one has {len(token)} characters); set it with `pulumi config set --secret data:cacheAuthToken <token>`"
    )


def _version_text(value: Any) -> Any:
    # Pulumi passes config as strings, but inside a JSON object 16 is a number: both mean a version.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _check_command(value: str) -> str:
    try:
        words = shlex.split(value)
    except ValueError as exc:
        message = f"a shell-style command with balanced quotes, e.g. 'npm run migrate' ({exc})"
        raise ValueError(message) from exc
    if not words:
        message = "a non-empty command, e.g. 'npm run migrate'"
        raise ValueError(message)
    return value


Command = Annotated[str, BeforeValidator(lambda v: _check_command(v) if isinstance(v, str) else v)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]


class DataConfig(ConfigModel):
    """The ``data`` namespace."""

    engine_version: Annotated[str, BeforeValidator(_version_text)] = "16"
    """PostgreSQL version, major 12-17: ``16`` takes RDS's minor upgrades, ``16.4`` pins the minor. Default ``16``."""
    instance_class: str = "db.t4g.medium"
    """RDS instance class ``db.<family>.<size>``. Default ``db.t4g.medium`` (staging), ``db.r7g.large`` (production)."""
    allocated_storage: int = Field(default=20, ge=20, le=65536)
    """Initial gp3 storage in GiB, 20-65536. Default 20 (staging), 100 (production)."""
    max_allocated_storage: int = Field(default=100, ge=22, le=65536)
    """Ceiling of storage autoscaling in GiB, at least 10% above ``allocatedStorage``. Default 100 (staging), 1000 (production)."""
    backup_retention_days: int = Field(default=1, ge=0, le=35)
    """Days of automated backups, 0-35; production needs at least 7. Default 1 (staging), 14 (production)."""
    multi_az: bool = False
    """A standby in a second zone; production must keep it on. Default off (staging), on (production)."""
    deletion_protection: bool = False
    """Refuse to delete the instance; production must keep it on. Default off (staging), on (production)."""
    performance_insights: bool = True
    """Performance Insights with 7 days of history, encrypted with the database key. Default on."""
    publicly_accessible: Literal[False] = False
    """Accepted only as ``false``: the database is reachable from the service security group alone. Default false."""
    database_name: Identifier = "app"
    """Name of the application's database: lowercase letters, digits, underscores. Default ``app``."""
    master_username: Identifier = "app_admin"
    """Master user; its password is generated and rotated by RDS in Secrets Manager, and only the migration
    task receives it. Default ``app_admin``."""
    app_username: Identifier = "app"
    """The application's database user, apart from the master: it connects with IAM database authentication,
    and the migration creates it (docs/data.md). Default ``app``."""
    cache_node_type: str = "cache.t4g.small"
    """ElastiCache node type ``cache.<family>.<size>``. Default ``cache.t4g.small`` (staging), ``cache.r7g.large`` (production)."""
    cache_engine_version: Annotated[str, BeforeValidator(_version_text)] = "7.1"
    """Redis version: 6.2, 7.0 or 7.1. Default ``7.1``."""
    cache_replicas: int = Field(default=0, ge=0, le=5)
    """Read replicas beside the primary, 0-5; production needs at least 1 for failover. Default 0 (staging), 1 (production)."""
    cache_snapshot_retention_days: int = Field(default=0, ge=0, le=35)
    """Days of daily Redis snapshots, 0-35; production needs at least 7. Default 0 (staging), 7 (production)."""
    migrate_command: Command = "npm run migrate"
    """Command the migration task runs in the candidate's image, shell-style words. Default ``npm run migrate``."""
    rollback_command: Command = "npm run migrate:rollback"
    """Command that undoes the last migration, shell-style words. Default ``npm run migrate:rollback``."""
    migration_reversible: bool = True
    """Whether a release may roll its migration back; when false the driver restores the snapshot instead. Default true."""

    @model_validator(mode="before")
    @classmethod
    def _environment_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        return fill_defaults(data, info, BY_ENVIRONMENT)

    @field_validator("engine_version")
    @classmethod
    def _check_engine_version(cls, value: str) -> str:
        match = _POSTGRES_VERSION.match(value)
        if not match or int(match.group(1)) not in POSTGRES_MAJORS:
            message = (
                f"a PostgreSQL version RDS offers: <major> or <major>.<minor> with major "
                f"{POSTGRES_MAJORS.start}-{POSTGRES_MAJORS.stop - 1}, e.g. 16 or 16.4"
            )
            raise ValueError(message)
        return value

    @field_validator("instance_class")
    @classmethod
    def _check_instance_class(cls, value: str) -> str:
        if not _RDS_CLASS.match(value):
            message = "an RDS instance class db.<family>.<size>, e.g. db.t4g.medium or db.r7g.large"
            raise ValueError(message)
        return value

    @field_validator("cache_node_type")
    @classmethod
    def _check_cache_node_type(cls, value: str) -> str:
        if not _CACHE_NODE.match(value):
            message = "an ElastiCache node type cache.<family>.<size>, e.g. cache.t4g.small or cache.r7g.large"
            raise ValueError(message)
        return value

    @field_validator("cache_engine_version")
    @classmethod
    def _check_cache_engine_version(cls, value: str) -> str:
        if value not in REDIS_VERSIONS:
            message = f"one of the Redis versions {', '.join(REDIS_VERSIONS)}"
            raise ValueError(message)
        return value

    @field_validator("publicly_accessible", mode="before")
    @classmethod
    def _refuse_public(cls, value: Any) -> Any:
        try:
            public = TypeAdapter(bool).validate_python(value)
        except ValidationError:
            public = True
        if public:
            message = (
                "only false: the database is never publicly accessible; reach it from the service "
                "security group, or through a bastion or SSM session for maintenance"
            )
            raise ValueError(message)
        return False

    # Production's rules are field validators, not one model validator, so they are
    # reported together with every other problem rather than only once the rest is valid.
    @field_validator("max_allocated_storage")
    @classmethod
    def _check_storage_ceiling(cls, value: int, info: ValidationInfo) -> int:
        allocated = info.data.get("allocated_storage")
        if allocated is not None and value * 10 < allocated * 11:
            message = (
                f"storage autoscaling needs a ceiling at least 10% above allocatedStorage ({allocated} GiB): "
                f"{-(-allocated * 11 // 10)} or more"
            )
            raise ValueError(message)
        return value

    @field_validator("backup_retention_days")
    @classmethod
    def _check_backups(cls, value: int, info: ValidationInfo) -> int:
        if _production(info) and value < PRODUCTION_MIN_BACKUP_DAYS:
            message = f"production keeps at least {PRODUCTION_MIN_BACKUP_DAYS} days of backups (7-35)"
            raise ValueError(message)
        return value

    @field_validator("multi_az", "deletion_protection")
    @classmethod
    def _check_production_switch(cls, value: bool, info: ValidationInfo) -> bool:
        if _production(info) and not value:
            what = "runs Multi-AZ" if info.field_name == "multi_az" else "keeps deletion protection on"
            message = f"production {what}: only true is allowed"
            raise ValueError(message)
        return value

    @field_validator("cache_replicas")
    @classmethod
    def _check_replicas(cls, value: int, info: ValidationInfo) -> int:
        if _production(info) and value < 1:
            message = "production needs at least 1 replica for automatic failover and Multi-AZ (1-5)"
            raise ValueError(message)
        return value

    @field_validator("cache_snapshot_retention_days")
    @classmethod
    def _check_cache_snapshots(cls, value: int, info: ValidationInfo) -> int:
        if _production(info) and value < PRODUCTION_MIN_BACKUP_DAYS:
            message = f"production keeps at least {PRODUCTION_MIN_BACKUP_DAYS} days of Redis snapshots (7-35)"
            raise ValueError(message)
        return value

    @model_validator(mode="after")
    def _check_users(self) -> DataConfig:
        if self.app_username == self.master_username:
            problems = [Problem("appUsername", self.app_username,
                                f"a user apart from masterUsername ({self.master_username}): the application never "
                                "connects as the master user, whose password RDS rotates")]
            cross_field(problems)
        return self

    @property
    def minor_pinned(self) -> bool:
        """Whether the version names a minor; RDS then must not upgrade it behind the program's back."""
        return "." in self.engine_version

    @property
    def engine_major(self) -> str:
        """The PostgreSQL major version, which names the parameter group family."""
        return self.engine_version.split(".")[0]

    @property
    def migrate_args(self) -> list[str]:
        """The migrate command as the container's argument list."""
        return shlex.split(self.migrate_command)

    @property
    def rollback_args(self) -> list[str]:
        """The rollback command as the container's argument list."""
        return shlex.split(self.rollback_command)


AUTH_TOKEN_KEY = "data:cacheAuthToken"  # noqa: S105 - the key's name, not its value


def auth_token_problems(raw: Mapping[str, str], models: Mapping[str, Any]) -> list[Problem]:
    """Check the secret Redis token where its plaintext is available: the program's config map."""
    token = raw.get(AUTH_TOKEN_KEY)
    allowed = check_auth_token(token) if token is not None else None
    return [Problem(AUTH_TOKEN_KEY, "[secret]", allowed)] if allowed else []
