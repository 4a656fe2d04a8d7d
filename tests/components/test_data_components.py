"""Database, Cache and MigrationTask, planned through a small fixture program with literal network ids."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from components.data_tier import DATA_VARIABLES
from offline import Plan
from offline.diff import diff

FixturePlan = Callable[..., Plan]
PRODUCTION = "data-fixture:environment=production"
SERVICE_SG = "sg-0service"
TOKEN = "fixture-token-0123456789abcdef"


@pytest.fixture(scope="module")
def staging(fixture_plan: FixturePlan) -> Plan:
    return fixture_plan("data", secret=("cacheAuthToken",))


@pytest.fixture(scope="module")
def production(fixture_plan: FixturePlan) -> Plan:
    return fixture_plan("data", PRODUCTION, secret=("cacheAuthToken",))


def containers(plan: Plan) -> list[dict[str, Any]]:
    raw = plan.named("migration-task").inputs["containerDefinitions"]
    assert raw != "[secret]", "a secret in the plain environment would make the whole definition secret"
    return json.loads(raw)


# --- database -------------------------------------------------------------------


def test_database_is_private_encrypted_postgres_with_an_rds_managed_password(staging: Plan) -> None:
    db = staging.named("db-postgres").inputs
    assert (db["engine"], db["engineVersion"], db["identifier"]) == ("postgres", "16", "shop-staging-postgres")
    assert db["publiclyAccessible"] is False
    assert db["storageEncrypted"] is True
    assert db["kmsKeyId"] == staging.named("db-key").outputs["arn"]
    assert db["manageMasterUserPassword"] is True
    assert "password" not in db
    assert db["dbSubnetGroupName"] == staging.named("db-subnets").outputs["name"]
    assert staging.named("db-subnets").inputs["subnetIds"] == ["subnet-0a1", "subnet-0b2", "subnet-0c3"]


def test_database_storage_autoscales_and_insights_use_the_database_key(staging: Plan) -> None:
    db = staging.named("db-postgres").inputs
    assert (db["storageType"], db["allocatedStorage"], db["maxAllocatedStorage"]) == ("gp3", 20, 100)
    assert db["performanceInsightsEnabled"] is True
    assert db["performanceInsightsKmsKeyId"] == db["kmsKeyId"]
    assert staging.named("db-key").inputs["enableKeyRotation"] is True


def test_parameter_group_forces_tls_for_the_engine_major(fixture_plan: FixturePlan) -> None:
    plan = fixture_plan("data", ("data-fixture:data.engineVersion", "15.7"))
    params = plan.named("db-params").inputs
    assert params["family"] == "postgres15"
    assert {"name": "rds.force_ssl", "value": "1", "applyMethod": "immediate"} in params["parameters"]
    db = plan.named("db-postgres").inputs
    assert db["parameterGroupName"] == plan.named("db-params").outputs["name"]
    assert (db["engineVersion"], db["autoMinorVersionUpgrade"]) == ("15.7", False)


def test_staging_database_is_single_zone_and_disposable(staging: Plan) -> None:
    db = staging.named("db-postgres")
    assert (db.inputs["multiAz"], db.inputs["deletionProtection"], db.inputs["skipFinalSnapshot"]) == (False, False, True)
    assert db.inputs["backupRetentionPeriod"] == 1
    assert "finalSnapshotIdentifier" not in db.inputs
    assert not db.protect


def test_production_database_is_multi_az_protected_and_snapshots_on_delete(production: Plan) -> None:
    db = production.named("db-postgres")
    assert (db.inputs["multiAz"], db.inputs["deletionProtection"], db.inputs["skipFinalSnapshot"]) == (True, True, False)
    assert db.inputs["finalSnapshotIdentifier"] == "shop-production-postgres-final"
    assert db.inputs["backupRetentionPeriod"] == 14
    assert db.inputs["deleteAutomatedBackups"] is False
    assert db.inputs["applyImmediately"] is False
    assert db.protect
    assert production.named("db-key").protect


@pytest.mark.parametrize(("consumer", "groups_key", "port"), [("db-postgres", "vpcSecurityGroupIds", 5432),
                                                               ("cache-redis", "securityGroupIds", 6379)])
def test_only_the_service_security_group_is_admitted(staging: Plan, consumer: str, groups_key: str, port: int) -> None:
    (group_id,) = staging.named(consumer).inputs[groups_key]
    group = staging.named(f"{consumer.split('-')[0]}-sg")
    assert group_id.startswith("sg-")
    assert "ingress" not in group.inputs
    assert "egress" not in group.inputs
    rules = [r for r in staging.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if r.inputs["securityGroupId"] == group_id]
    assert [(r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["ipProtocol"])
            for r in rules] == [(SERVICE_SG, port, port, "tcp")]
    assert not any(k in rules[0].inputs for k in ("cidrIpv4", "cidrIpv6", "prefixListId"))


# --- cache ----------------------------------------------------------------------


def test_cache_encrypts_in_transit_and_at_rest_with_a_secret_auth_token(staging: Plan) -> None:
    redis = staging.named("cache-redis").inputs
    assert (redis["engine"], redis["engineVersion"], redis["parameterGroupName"]) == ("redis", "7.1", "default.redis7")
    assert redis["transitEncryptionEnabled"] is True
    assert redis["atRestEncryptionEnabled"] is True
    assert redis["authToken"] == "[secret]"
    assert staging.named("cache-auth-token-value").inputs["secretString"] == "[secret]"
    assert redis["subnetGroupName"] == staging.named("cache-subnets").outputs["name"]


def test_staging_cache_is_one_node_without_failover_or_snapshots(staging: Plan) -> None:
    redis = staging.named("cache-redis").inputs
    assert (redis["numCacheClusters"], redis["automaticFailoverEnabled"], redis["multiAzEnabled"]) == (1, False, False)
    assert redis["snapshotRetentionLimit"] == 0
    assert not staging.named("cache-redis").protect


def test_production_cache_fails_over_across_zones_and_keeps_snapshots(production: Plan) -> None:
    redis = production.named("cache-redis").inputs
    assert (redis["numCacheClusters"], redis["automaticFailoverEnabled"], redis["multiAzEnabled"]) == (2, True, True)
    assert redis["snapshotRetentionLimit"] == 7
    assert redis["finalSnapshotIdentifier"] == "shop-production-redis-final"
    assert production.named("cache-redis").protect


def test_redis_six_uses_its_default_parameter_group(fixture_plan: FixturePlan) -> None:
    plan = fixture_plan("data", ("data-fixture:data.cacheEngineVersion", "6.2"))
    assert plan.named("cache-redis").inputs["parameterGroupName"] == "default.redis6.x"


# --- wiring into the fleet --------------------------------------------------------


def test_endpoints_are_plain_environment_and_credentials_are_secret_references(staging: Plan) -> None:
    env = staging.outputs["container_environment"]
    assert env == {
        "DATABASE_HOST": staging.named("db-postgres").outputs["address"],
        "DATABASE_PORT": "5432",
        "DATABASE_NAME": "app",
        # The application's own user, with IAM authentication: a name, no password.
        "DATABASE_USER": "app",
        "DATABASE_AUTH": "iam",
        "REDIS_HOST": staging.named("cache-redis").outputs["primaryEndpointAddress"],
        "REDIS_PORT": "6379",
    }
    master = staging.named("db-postgres").outputs["masterUserSecrets"][0]["secretArn"]
    token = staging.named("cache-auth-token").outputs["arn"]
    assert staging.outputs["container_secrets"] == [["REDIS_AUTH_TOKEN", token]]
    # The master's credentials reach the migration alone.
    assert staging.outputs["migration_secrets"] == [
        ["DATABASE_USER", f"{master}:username::"],
        ["DATABASE_PASSWORD", f"{master}:password::"],
        ["REDIS_AUTH_TOKEN", token],
    ]
    assert staging.outputs["migration_environment"]["DATABASE_APP_USER"] == "app"
    assert staging.outputs["readable_secret_arns"] == [master, token]


def test_no_credential_is_in_the_migration_containers_plain_environment(staging: Plan) -> None:
    (container,) = containers(staging)
    plain = {e["name"]: e["value"] for e in container["environment"]}
    # The application's user name is no credential: the migration creates that user and grants it rds_iam.
    assert plain.pop("DATABASE_APP_USER") == "app"
    assert not [n for n in plain if any(w in n for w in ("PASSWORD", "TOKEN", "SECRET", "USER"))]
    assert TOKEN not in json.dumps(container)
    assert [s["name"] for s in container["secrets"]] == ["DATABASE_USER", "DATABASE_PASSWORD", "REDIS_AUTH_TOKEN"]


# --- migration task ---------------------------------------------------------------


def test_migration_runs_the_candidate_image_with_the_migrate_command_and_its_own_logs(staging: Plan) -> None:
    task = staging.named("migration-task").inputs
    assert task["family"] == "shop-staging-migrate"
    assert (task["networkMode"], task["requiresCompatibilities"]) == ("awsvpc", ["FARGATE"])
    assert task["executionRoleArn"].endswith(":role/shop-execution")
    assert task["taskRoleArn"].endswith(":role/shop-task")
    (container,) = containers(staging)
    assert container["image"] == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:1.4.0"
    assert container["command"] == ["npm", "run", "migrate"]
    assert container["logConfiguration"]["options"] == {
        "awslogs-group": "/ecs/shop", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "migrate",
    }


def test_the_driver_gets_everything_it_needs_to_run_and_roll_back(staging: Plan) -> None:
    assert staging.outputs["database_identifier"] == "shop-staging-postgres"
    assert staging.outputs["migration"] == {
        "cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/shop",
        "task_definition_arn": staging.named("migration-task").outputs["arn"],
        "subnets": ["subnet-0a1", "subnet-0b2", "subnet-0c3"],
        "security_groups": [SERVICE_SG],
        "container_name": "migrate",
        "migrate_command": ["npm", "run", "migrate"],
        "rollback_command": ["npm", "run", "migrate:rollback"],
        "reversible": True,
    }


def test_configured_commands_reach_the_task_and_the_driver(fixture_plan: FixturePlan) -> None:
    plan = fixture_plan(
        "data",
        ("data-fixture:data.migrateCommand", "node migrate.js up"),
        ("data-fixture:data.rollbackCommand", "node migrate.js down --steps 1"),
        ("data-fixture:data.migrationReversible", False),
    )
    assert containers(plan)[0]["command"] == ["node", "migrate.js", "up"]
    migration = plan.outputs["migration"]
    assert migration["rollback_command"] == ["node", "migrate.js", "down", "--steps", "1"]
    assert migration["reversible"] is False


def test_a_new_candidate_version_changes_only_the_migration_task(staging: Plan, fixture_plan: FixturePlan) -> None:
    newer = fixture_plan("data", "data-fixture:candidateVersion=1.5.0", secret=("cacheAuthToken",))
    changed = diff(staging, newer)
    assert [(d.kind, d.name) for d in changed.resources] == [("replace", "migration-task")]


def test_stateful_names_never_carry_the_version(staging: Plan) -> None:
    for name in ("db-postgres", "cache-redis", "migration-task"):
        assert "1.4.0" not in staging.named(name).urn
    assert "1.4.0" not in staging.named("migration-task").inputs["family"]


def test_a_new_auth_token_rotates_beside_the_old_one(staging: Plan) -> None:
    assert staging.named("cache-redis").inputs["authTokenUpdateStrategy"] == "ROTATE"


def test_the_reserved_variables_are_exactly_those_the_components_give(staging: Plan) -> None:
    given = {*staging.outputs["container_environment"], *staging.outputs["migration_environment"],
             *(name for name, _ in staging.outputs["migration_secrets"])}
    assert given == set(DATA_VARIABLES)
