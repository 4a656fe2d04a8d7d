"""The ``data`` namespace: environment defaults, production's rules, and clear errors for bad values."""

from __future__ import annotations

import pytest

from components.config import ConfigError, DataConfig, load
from tests.support import MINIMAL_CONFIG

BASE = MINIMAL_CONFIG


def data_of(stack: str, **values: str) -> DataConfig:
    return load({**BASE, **{f"data:{k}": v for k, v in values.items()}}, stack).data


def problems(stack: str, **values: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        data_of(stack, **values)
    return caught.value.problems


def test_staging_defaults_are_small_and_single_zone() -> None:
    data = data_of("staging")
    assert (data.instance_class, data.allocated_storage, data.max_allocated_storage) == ("db.t4g.medium", 20, 100)
    assert (data.backup_retention_days, data.multi_az, data.deletion_protection) == (1, False, False)
    assert (data.cache_node_type, data.cache_replicas, data.cache_snapshot_retention_days) == ("cache.t4g.small", 0, 0)


def test_production_defaults_are_multi_az_protected_and_keep_backups() -> None:
    data = data_of("production")
    assert (data.instance_class, data.allocated_storage, data.max_allocated_storage) == ("db.r7g.large", 100, 1000)
    assert (data.backup_retention_days, data.multi_az, data.deletion_protection) == (14, True, True)
    assert (data.cache_node_type, data.cache_replicas, data.cache_snapshot_retention_days) == ("cache.r7g.large", 1, 7)


def test_defaults_follow_the_platform_environment_not_the_stack_name() -> None:
    raw = {**BASE, "platform:environment": "production"}
    assert load(raw, "eu-prod").data.multi_az is True
    assert load({**BASE, "platform:environment": "staging"}, "eu-prod").data.multi_az is False


def test_commands_default_to_npm_and_split_into_container_arguments() -> None:
    data = data_of("staging", migrateCommand="node scripts/migrate.js --to 'latest stable'")
    assert data.migrate_args == ["node", "scripts/migrate.js", "--to", "latest stable"]
    assert data_of("staging").rollback_args == ["npm", "run", "migrate:rollback"]
    assert data_of("staging").migration_reversible is True


def test_versions_written_as_yaml_numbers_are_versions() -> None:
    assert data_of("staging", engineVersion="15").engine_major == "15"
    assert data_of("staging", engineVersion="17.2", cacheEngineVersion="7.0").engine_version == "17.2"


@pytest.mark.parametrize(
    ("stack", "values", "key", "fragment"),
    [
        ("production", {"backupRetentionDays": "3"}, "data:backupRetentionDays: got 3", "at least 7 days"),
        ("production", {"multiAz": "false"}, "data:multiAz: got false", "production runs Multi-AZ"),
        ("production", {"deletionProtection": "false"}, "data:deletionProtection: got false", "deletion protection on"),
        ("production", {"cacheReplicas": "0"}, "data:cacheReplicas: got 0", "at least 1 replica"),
        ("production", {"cacheSnapshotRetentionDays": "3"}, "data:cacheSnapshotRetentionDays: got 3", "at least 7 days"),
        ("staging", {"engineVersion": "9.6"}, "data:engineVersion: got 9.6", "major 12-17"),
        ("staging", {"engineVersion": "8.0.35"}, 'data:engineVersion: got "8.0.35"', "PostgreSQL version"),
        ("staging", {"engineVersion": "latest"}, 'data:engineVersion: got "latest"', "e.g. 16 or 16.4"),
        ("staging", {"instanceClass": "m5.large"}, 'data:instanceClass: got "m5.large"', "db.<family>.<size>"),
        ("staging", {"instanceClass": "db.m5"}, 'data:instanceClass: got "db.m5"', "RDS instance class"),
        ("staging", {"instanceClass": "cache.t4g.small"}, 'data:instanceClass: got "cache.t4g.small"', "RDS instance class"),
        ("staging", {"cacheNodeType": "db.t4g.small"}, 'data:cacheNodeType: got "db.t4g.small"', "cache.<family>.<size>"),
        ("staging", {"cacheEngineVersion": "5.0.6"}, 'data:cacheEngineVersion: got "5.0.6"', "6.2, 7.0, 7.1"),
        ("staging", {"publiclyAccessible": "true"}, "data:publiclyAccessible: got true", "never publicly accessible"),
        ("staging", {"publiclyAccessible": "maybe"}, 'data:publiclyAccessible: got "maybe"', "only false"),
        ("staging", {"allocatedStorage": "10"}, "data:allocatedStorage: got 10", "greater than or equal to 20"),
        ("staging", {"maxAllocatedStorage": "105", "allocatedStorage": "100"}, "data:maxAllocatedStorage: got 105", "110 or more"),
        ("staging", {"backupRetentionDays": "40"}, "data:backupRetentionDays: got 40", "less than or equal to 35"),
        ("staging", {"migrateCommand": "npm 'run"}, "data:migrateCommand: got", "balanced quotes"),
        ("staging", {"rollbackCommand": "  "}, 'data:rollbackCommand: got "  "', "non-empty command"),
        ("staging", {"databaseName": "App-DB"}, 'data:databaseName: got "App-DB"', "pattern"),
        ("staging", {"masterPassword": "hunter2"}, "data:masterPassword", "unknown key"),
        ("staging", {"appUsername": "app_admin"}, 'data:appUsername: got "app_admin"', "apart from masterUsername"),
    ],
)
def test_bad_data_config_names_key_value_and_what_is_allowed(stack: str, values: dict[str, str], key: str, fragment: str) -> None:
    found = problems(stack, **values)
    assert any(p.startswith(key) and fragment in p for p in found), found


def test_every_production_problem_is_reported_at_once() -> None:
    found = problems(
        "production", backupRetentionDays="1", multiAz="false", engineVersion="9.6", instanceClass="big", publiclyAccessible="true",
    )
    keys = sorted(p.split(":")[1] for p in found)
    assert keys == ["backupRetentionDays", "engineVersion", "instanceClass", "multiAz", "publiclyAccessible"]


def test_staging_may_run_single_zone_without_backups_or_protection() -> None:
    data = data_of("staging", backupRetentionDays="0", multiAz="false", deletionProtection="false", cacheReplicas="0")
    assert (data.backup_retention_days, data.multi_az, data.cache_replicas) == (0, False, 0)


def test_the_auth_token_is_never_part_of_the_model() -> None:
    data = data_of("staging", cacheAuthToken="not-in-the-model-0123456789")
    assert "not-in-the-model" not in data.model_dump_json()


@pytest.mark.parametrize("token", ["too-short", "has space in the middle!", "has@at-sign-0123456789", "x" * 129])
def test_a_bad_auth_token_is_refused_without_showing_it(token: str) -> None:
    found = problems("staging", cacheAuthToken=token)
    assert len(found) == 1
    assert found[0].startswith("data:cacheAuthToken: got \"[secret]\"; ElastiCache accepts 16-128")
    assert token not in found[0]


def test_a_good_auth_token_passes_and_an_absent_one_is_left_to_require_secret() -> None:
    assert data_of("staging", cacheAuthToken="Good-token_0123456789").multi_az is False
    assert data_of("staging").multi_az is False
