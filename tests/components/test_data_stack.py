"""The data tier inside each stack: wired into the fleet, secrets by reference only, exported for the driver."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from offline import Plan
from offline.diff import diff
from offline.stacks import secret_placeholder

PlanOf = Callable[..., Plan]
STACKS = ("staging", "production")
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
CREDENTIAL_WORDS = ("PASSWORD", "TOKEN", "SECRET", "USER", "KEY")


def containers(task: Any) -> list[dict[str, Any]]:
    raw = task.inputs["containerDefinitions"]
    assert raw != "[secret]", f"{task.name}: a secret in the plain environment made the whole definition secret"
    return json.loads(raw)


def one(plan: Plan, type_: str, name: str) -> Any:
    (found,) = [r for r in plan.of_type(type_) if r.name == name]
    return found


def service_network(plan: Plan) -> dict[str, Any]:
    """Where the fleet's services run: the private subnets and the service security group."""
    networks = [r.inputs["networkConfiguration"] for r in plan.of_type("aws:ecs/service:Service")]
    assert networks
    assert all(n == networks[0] for n in networks)
    return networks[0]


def secret_arns(plan: Plan) -> list[str]:
    master = plan.named("webapp-database-postgres").outputs["masterUserSecrets"][0]["secretArn"]
    return sorted([master, plan.named("webapp-cache-auth-token").outputs["arn"]])


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_plans_the_database_the_cache_the_secrets_and_the_migration_task(plan_of: PlanOf, stack: str) -> None:
    plan = plan_of(stack)
    for type_ in ("aws:rds/instance:Instance", "aws:elasticache/replicationGroup:ReplicationGroup"):
        assert len(plan.of_type(type_)) == 1, type_
    # The data tier's one secret (the cache token); the traffic router keeps the release token beside it.
    data_secrets = [r for r in plan.of_type("aws:secretsmanager/secret:Secret") if not r.name.startswith("webapp-traffic-")]
    assert [r.name for r in data_secrets] == ["webapp-cache-auth-token"]
    assert plan.named("webapp-database-postgres").inputs["identifier"] == f"webapp-{stack}-postgres"
    assert plan.named("webapp-migration-task").inputs["family"] == f"webapp-{stack}-migrate"


@pytest.mark.parametrize(("stack", "multi_az", "protected", "nodes", "snapshots"), [
    ("staging", False, False, 1, 0),
    ("production", True, True, 2, 7),
])
def test_stacks_differ_in_resilience_and_protection(
    plan_of: PlanOf, stack: str, multi_az: bool, protected: bool, nodes: int, snapshots: int,
) -> None:
    plan = plan_of(stack)
    db = plan.named("webapp-database-postgres")
    assert (db.inputs["multiAz"], db.inputs["deletionProtection"], db.protect) == (multi_az, protected, protected)
    assert db.inputs["skipFinalSnapshot"] is not protected
    assert db.inputs["backupRetentionPeriod"] >= (7 if stack == "production" else 1)
    assert plan.named("webapp-cache-redis").protect is protected
    redis = plan.named("webapp-cache-redis").inputs
    assert (redis["numCacheClusters"], redis["automaticFailoverEnabled"], redis["multiAzEnabled"]) == (nodes, multi_az, multi_az)
    assert redis["snapshotRetentionLimit"] == snapshots


@pytest.mark.parametrize("stack", STACKS)
def test_the_data_tier_lives_in_the_private_subnets_behind_the_service_group(plan_of: PlanOf, stack: str) -> None:
    plan = plan_of(stack)
    network = service_network(plan)
    private = network["subnets"]
    assert network["assignPublicIp"] is False
    assert plan.outputs["migration"]["subnets"] == private
    assert plan.named("webapp-database-subnets").inputs["subnetIds"] == private
    assert plan.named("webapp-cache-subnets").inputs["subnetIds"] == private
    (service_group,) = network["securityGroups"]
    rules = plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert sorted((r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"]) for r in rules) == [
        (service_group, 5432), (service_group, 6379),
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_no_credential_appears_in_any_containers_plain_environment(plan_of: PlanOf, stack: str) -> None:
    plan = plan_of(stack)
    tasks = plan.of_type(TASK_DEFINITION)
    assert {t.name for t in tasks} == {"webapp-fleet-blue", "webapp-fleet-green", "webapp-migration-task"}
    token = secret_placeholder("data:cacheAuthToken")
    for task in tasks:
        migration = task.name == "webapp-migration-task"
        for container in containers(task):
            plain = {e["name"]: e["value"] for e in container["environment"]}
            # User names, not credentials: the application's own user, which signs in with IAM.
            assert plain.pop("DATABASE_APP_USER" if migration else "DATABASE_USER") == "app"
            assert not [n for n in plain if any(w in n for w in CREDENTIAL_WORDS)], (task.name, plain)
            assert token not in json.dumps(container)
            assert {k: plain[k] for k in ("DATABASE_HOST", "DATABASE_PORT", "REDIS_HOST", "REDIS_PORT")} == {
                "DATABASE_HOST": plan.named("webapp-database-postgres").outputs["address"],
                "DATABASE_PORT": "5432",
                "REDIS_HOST": plan.named("webapp-cache-redis").outputs["primaryEndpointAddress"],
                "REDIS_PORT": "6379",
            }
            names = [s["name"] for s in container["secrets"]]
            # The master's credentials reach the migration alone: the application never connects as the master.
            expected = ["DATABASE_USER", "DATABASE_PASSWORD", "REDIS_AUTH_TOKEN"] if migration else ["REDIS_AUTH_TOKEN"]
            assert names == expected, task.name


@pytest.mark.parametrize("stack", STACKS)
def test_the_execution_role_may_read_exactly_the_data_secrets(plan_of: PlanOf, stack: str) -> None:
    plan = plan_of(stack)
    policy = one(plan, "aws:iam/rolePolicy:RolePolicy", "webapp-fleet-roles-execution")
    statements = json.loads(policy.inputs["policy"])["Statement"]
    reads = [s for s in statements if "secretsmanager" in json.dumps(s["Action"])]
    assert len(reads) == 1
    assert reads[0]["Action"] == "secretsmanager:GetSecretValue"
    assert sorted(reads[0]["Resource"]) == secret_arns(plan)
    referenced = {
        s["valueFrom"].split(":username::")[0].split(":password::")[0]
        for task in plan.of_type(TASK_DEFINITION) for c in containers(task) for s in c["secrets"]
    }
    assert sorted(referenced) == secret_arns(plan)
    role = one(plan, "aws:iam/role:Role", "webapp-fleet-roles-execution")
    assert {t.inputs["executionRoleArn"] for t in plan.of_type(TASK_DEFINITION)} == {role.outputs["arn"]}


@pytest.mark.parametrize("stack", STACKS)
def test_the_migration_runs_the_candidates_image_on_the_fleets_cluster(plan_of: PlanOf, stack: str) -> None:
    plan = plan_of(stack)
    candidate = plan.outputs["candidate_colour"]
    fleet_task = one(plan, TASK_DEFINITION, f"webapp-fleet-{candidate}")
    migration = plan.named("webapp-migration-task")
    (app,), (migrate,) = containers(fleet_task), containers(migration)
    assert migrate["image"] == app["image"]
    assert migrate["image"].endswith(f":{plan.outputs['versions'][candidate]}")
    assert migrate["command"] == ["npm", "run", "migrate"]
    for key in ("executionRoleArn", "taskRoleArn", "cpu", "memory"):
        assert migration.inputs[key] == fleet_task.inputs[key]
    logs = migrate["logConfiguration"]["options"]
    # The migration logs to the cluster's shared group, not to a colour's: its lines are not the candidate's traffic.
    assert logs["awslogs-group"] == f"/ecs/webapp-{stack}"
    assert app["logConfiguration"]["options"]["awslogs-group"] == f"/ecs/webapp-{stack}/{candidate}"
    assert logs["awslogs-stream-prefix"] == "migrate"


@pytest.mark.parametrize("stack", STACKS)
def test_the_driver_contract_is_exported(plan_of: PlanOf, stack: str) -> None:
    plan = plan_of(stack)
    assert plan.outputs["database_identifier"] == f"webapp-{stack}-postgres"
    migration = plan.outputs["migration"]
    cluster = plan.of_type("aws:ecs/cluster:Cluster")[0]
    assert migration["cluster"] == cluster.outputs["arn"]
    assert migration["task_definition_arn"] == plan.named("webapp-migration-task").outputs["arn"]
    assert migration["security_groups"] == service_network(plan)["securityGroups"]
    assert (migration["container_name"], migration["reversible"]) == ("migrate", True)
    assert migration["rollback_command"] == ["npm", "run", "migrate:rollback"]


def test_a_candidate_version_change_touches_the_migration_only_alongside_the_candidate(plan_of: PlanOf) -> None:
    # Staging: blue is live, green the candidate.
    before = plan_of("staging")
    touched = {d.name for d in diff(before, plan_of("staging", "release:versions.green=4a5b6c7d")).touched}
    assert "webapp-migration-task" in touched
    assert "webapp-fleet-green" in touched
    assert not [n for n in touched - {"webapp-migration-task"} if "green" not in n], touched
    live_change = {d.name for d in diff(before, plan_of("staging", "release:versions.blue=4a5b6c7d")).touched}
    assert "webapp-fleet-blue" in live_change
    assert "webapp-migration-task" not in live_change


def test_a_production_backup_retention_under_a_week_stops_the_stack(config_problems: Callable[..., list[str]]) -> None:
    found = config_problems("production", "data:backupRetentionDays=3", "data:multiAz=false")
    assert any(p.startswith("data:backupRetentionDays: got 3; production keeps at least 7 days") for p in found), found
    assert any(p.startswith("data:multiAz: got false; production runs Multi-AZ") for p in found), found


def test_a_public_database_stops_the_stack(config_problems: Callable[..., list[str]]) -> None:
    found = config_problems("staging", "data:publiclyAccessible=true")
    assert any(p.startswith("data:publiclyAccessible: got true; only false") for p in found), found


def test_a_malformed_auth_token_stops_the_stack_without_being_shown(config_problems: Callable[..., list[str]]) -> None:
    found = config_problems("staging", "data:cacheAuthToken=short@token")
    assert [p for p in found if p.startswith("data:cacheAuthToken:")], found
    assert "short@token" not in "\n".join(found)


def test_a_stack_cannot_set_the_data_tiers_variables_by_hand(config_problems: Callable[..., list[str]]) -> None:
    found = config_problems("staging", ("fleet:environment", {"DATABASE_PASSWORD": "hunter2-plain", "LOG_LEVEL": "info"}))
    assert [p for p in found if p.startswith("fleet:environment.DATABASE_PASSWORD: got \"(not shown)\"; the data tier sets")], found
    assert "hunter2-plain" not in "\n".join(found)


@pytest.mark.parametrize("stack", STACKS)
def test_the_application_holds_no_password_that_rds_rotates(plan_of: PlanOf, stack: str) -> None:
    """RDS rotates the master secret every 7 days by default, and ECS reads a secret only when a task starts
    (RDS User Guide, "Password management with Amazon RDS and AWS Secrets Manager"; ECS Developer Guide, "Pass
    sensitive data to a container"): so only a task that starts for each run, the migration, may hold it."""
    plan = plan_of(stack)
    instance = plan.named("webapp-database-postgres")
    master = instance.outputs["masterUserSecrets"][0]["secretArn"]
    assert instance.inputs["manageMasterUserPassword"] is True
    assert instance.inputs["iamDatabaseAuthenticationEnabled"] is True
    readers = {t.name for t in plan.of_type(TASK_DEFINITION) if master in t.inputs["containerDefinitions"]}
    assert readers == {"webapp-migration-task"}
    # The application connects as its own user, through its task role, and as no other.
    user = f"arn:aws:rds-db:eu-west-1:123456789012:dbuser:{instance.outputs['resourceId']}/app"
    grants = [json.loads(p.inputs["policy"]) for p in plan.of_type("aws:iam/rolePolicy:RolePolicy")]
    connects = [s for g in grants for s in g["Statement"] if "rds-db:connect" in json.dumps(s["Action"])]
    assert connects == [{"Effect": "Allow", "Action": "rds-db:connect", "Resource": [user]}]
    [policy] = [p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if "rds-db:connect" in p.inputs["policy"]]
    task_role = plan.named("webapp-fleet-roles-task")
    assert policy.inputs["role"] == task_role.outputs["id"]
    for task in plan.of_type(TASK_DEFINITION):
        assert task.inputs["taskRoleArn"] == task_role.outputs["arn"], task.name
