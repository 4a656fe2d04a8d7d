"""Least privilege: sessions that outlast a release, read-only previews, and boundaries between environments."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from components.config import load
from components.config.session import IAM_MAX_SESSION_SECONDS, IAM_MIN_SESSION_SECONDS, SETUP_SECONDS, session_seconds
from components.oidc import Boundary
from offline import Plan
from offline.stacks import ProjectFiles
from release.strategies.planner import ReleaseOptions, expected_seconds, plan_release
from tests.iam_evaluation import allows
from tools import deployments_credentials

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ENV_VAR = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
ACCOUNT = "123456789012"


def _release(stack: str):  # noqa: ANN202 - the release config model
    config, _ = ProjectFiles.here().stack_config(stack)
    return load(config, stack).release


def _role(plan: Plan, name: str):  # noqa: ANN202
    (role,) = [r for r in plan.of_type(ROLE) if r.name == name]
    return role


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_the_deploy_session_outlasts_the_planned_release_and_the_role_allows_it(plan_of: Callable[..., Plan], stack: str) -> None:
    plan = plan_of(stack)
    release = _release(stack)
    steps = plan_release(release, plan.outputs, ReleaseOptions(version="0" * 40), stack)
    planned = expected_seconds(steps)
    seconds = session_seconds(release)
    assert seconds >= planned + SETUP_SECONDS
    assert IAM_MIN_SESSION_SECONDS <= seconds <= IAM_MAX_SESSION_SECONDS
    # What the job asks for (its environment's variable) is what the role allows.
    variables = {v.inputs["variableName"]: v.inputs["value"] for v in plan.of_type(ENV_VAR)}
    assert variables["AWS_SESSION_SECONDS"] == str(seconds)
    assert _role(plan, "delivery-oidc-deploy").inputs["maxSessionDuration"] == seconds


def test_a_production_release_no_longer_outlives_a_one_hour_session(plan_of: Callable[..., Plan]) -> None:
    plan = plan_of("production")
    planned = expected_seconds(plan_release(_release("production"), plan.outputs, ReleaseOptions(version="0" * 40), "production"))
    assert planned > 50 * 60, "the row: about 53 minutes planned"
    assert session_seconds(_release("production")) > 3600 + 15 * 60


def test_a_release_no_deploy_job_could_hold_credentials_for_is_refused(config_problems: Callable[..., list[str]]) -> None:
    problems = config_problems("production", "release:bakeMinutes=60")
    refused = [p for p in problems if p.startswith("release:bakeMinutes: got 60;")]
    assert refused, problems
    assert "needs credentials for 345 min" in refused[0]  # 4 x 60 min bakes and the 30 min backup window
    assert "at most 240 min" in refused[0]


# --- boundaries ------------------------------------------------------------------------------------------


def _boundary(plan: Plan, name: str) -> str:
    (policy,) = [p for p in plan.of_type(POLICY) if p.name == name]
    return str(policy.inputs["policy"])


@pytest.mark.parametrize(("stack", "other"), [("staging", "production"), ("production", "staging")])
def test_a_deploy_role_is_bounded_off_the_other_environment_and_its_own_rights(
    plan_of: Callable[..., Plan], stack: str, other: str,
) -> None:
    plan = plan_of(stack)
    role = _role(plan, "delivery-oidc-deploy")
    policy = next(p for p in plan.of_type(POLICY) if p.name == "delivery-oidc-deploy-boundary")
    assert role.inputs["permissionsBoundary"] == policy.outputs["arn"]
    document = _boundary(plan, "delivery-oidc-deploy-boundary")
    service = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/webapp/webapp-blue"
    assert allows(document, "ecs:UpdateService", service, {"environment": stack})
    assert not allows(document, "ecs:UpdateService", service, {"environment": other})
    assert not allows(document, "rds:DeleteDBInstance", f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:x", {"environment": other})
    for target in (f"role/webapp-{other}-deploy", f"role/webapp-{other}-pulumi-deployments", f"policy/webapp-{other}-deploy-boundary"):
        assert not allows(document, "iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:{target}"), target
    for action in ("iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePermissionsBoundary", "iam:UpdateAssumeRolePolicy"):
        assert not allows(document, action, f"arn:aws:iam::{ACCOUNT}:role/webapp-{stack}-deploy"), action
    assert not allows(document, "iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/webapp-{stack}-deploy-boundary")
    # Its own stack's other roles stay manageable (the fleet's task roles are updated by releases' stacks).
    assert allows(document, "iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/webapp-fleet-task-1a2b3c", {"environment": stack})


def test_the_stack_that_does_not_own_the_image_repository_may_only_read_it_and_tag_images(plan_of: Callable[..., Plan]) -> None:
    repository = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/webapp"
    shared = {"environment": "shared"}
    staging = _boundary(plan_of("staging"), "delivery-oidc-deploy-boundary")
    assert allows(staging, "ecr:DescribeImages", repository, shared)
    assert allows(staging, "ecr:PutImage", repository, shared)
    assert not allows(staging, "ecr:DeleteRepository", repository, shared)
    assert not allows(staging, "ecr:PutLifecyclePolicy", repository, shared)
    production = _boundary(plan_of("production"), "delivery-oidc-deploy-boundary")
    assert allows(production, "ecr:PutLifecyclePolicy", repository, shared)
    (registry,) = plan_of("production").of_type("aws:ecr/repository:Repository")
    assert registry.inputs["tags"]["environment"] == "shared"


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_deployments_roles_are_bounded_too(plan_of: Callable[..., Plan], stack: str) -> None:
    plan = plan_of(stack)
    policy = next(p for p in plan.of_type(POLICY) if p.name == "deployments-aws-oidc-boundary")
    for name in ("deployments-aws-oidc-role", "deployments-aws-oidc-preview-role"):
        assert _role(plan, name).inputs["permissionsBoundary"] == policy.outputs["arn"]
    document = str(policy.inputs["policy"])
    for role in ("pulumi-deployments", "pulumi-preview"):
        assert not allows(document, "iam:AttachRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/webapp-{stack}-{role}")
    # No deployer writes another: a deployer that could would hold the other's rights (changing one takes an
    # administrator's update, docs/security.md).
    for action in ("iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy"):
        assert not allows(document, action, f"arn:aws:iam::{ACCOUNT}:role/webapp-{stack}-deploy")
    for boundary in ("boundary", "deploy-boundary", "pulumi-deployments-boundary"):
        assert not allows(document, "iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/webapp-{stack}-{boundary}")
    assert not allows(document, "iam:DeleteRolePermissionsBoundary", f"arn:aws:iam::{ACCOUNT}:role/webapp-{stack}-fleet")


def test_boundary_statements_are_each_needed() -> None:
    boundary = Boundary("b", "webapp", "staging", ("production",), ("webapp-staging-deploy",), owns_shared=False)
    sids = [s["Sid"] for s in json.loads(boundary.document())["Statement"]]
    assert sids == [
        "TheStacksServices", "NotOtherEnvironments", "NotOtherEnvironmentsIdentities", "NotItsOwnRights", "NeverABoundary",
        "NeverUnbound", "NeverADeployer", "SharedObjectsReadOnly",
    ]


# --- Deployments: which role a run's operation gets --------------------------------------------------------


def _token(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


ENV = {
    "PULUMI_DEPLOY_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/webapp-staging-pulumi-deployments",
    "PULUMI_PREVIEW_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/webapp-staging-pulumi-preview",
    "PULUMI_ROLE_SESSION_NAME": "pulumi-deployments-staging",
    "PULUMI_ROLE_SESSION_SECONDS": "3600",
}


@pytest.mark.parametrize(("operation", "role"), [
    ("preview", "webapp-staging-pulumi-preview"), ("refresh", "webapp-staging-pulumi-preview"),
    ("update", "webapp-staging-pulumi-deployments"), ("destroy", "webapp-staging-pulumi-deployments"),
])
def test_a_deployment_runs_with_the_role_of_its_operation(tmp_path: Path, operation: str, role: str) -> None:
    token_file = tmp_path / "pulumi.oidc"
    token_file.write_text(_token({"operation": operation, "sub": "x"}))
    env = {**ENV, "PULUMI_OIDC_TOKEN_FILE": str(token_file), "AWS_CONFIG_FILE": str(tmp_path / "config")}
    assert deployments_credentials.main(env) == 0
    text = (tmp_path / "config").read_text()
    assert f"role_arn = arn:aws:iam::{ACCOUNT}:role/{role}\n" in text
    assert f"web_identity_token_file = {token_file}\n" in text
    assert "duration_seconds = 3600\n" in text


def test_an_unknown_operation_or_a_missing_role_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {**ENV, "PULUMI_OIDC_TOKEN": _token({"operation": "import"}), "PULUMI_OIDC_TOKEN_FILE": str(tmp_path / "t"),
           "AWS_CONFIG_FILE": str(tmp_path / "config")}
    assert deployments_credentials.main(env) == 2
    assert "the OIDC token's operation is 'import'; allowed are preview, refresh, update, destroy" in capsys.readouterr().err
    env = {**env, "PULUMI_OIDC_TOKEN": _token({"operation": "update"}), "PULUMI_DEPLOY_ROLE_ARN": ""}
    assert deployments_credentials.main(env) == 2
    assert "PULUMI_DEPLOY_ROLE_ARN: got ''" in capsys.readouterr().err
    assert not (tmp_path / "config").exists()


def test_the_boundary_allows_the_services_the_stacks_and_the_driver_use_and_no_other(plan_of: Callable[..., Plan]) -> None:
    from components.oidc import SERVICES_OF_MODULE

    modules = {r.type.split(":")[1].split("/")[0] for s in ("staging", "production") for r in plan_of(s).resources
               if r.type.startswith("aws:")}
    assert modules <= set(SERVICES_OF_MODULE), f"name the IAM service of {sorted(modules - set(SERVICES_OF_MODULE))}"
    document = _boundary(plan_of("staging"), "delivery-oidc-deploy-boundary")
    # The release driver's clients (release/aws/) and the smoke test's secret.
    for action in ("ecs:RunTask", "elasticloadbalancing:ModifyListener", "rds:CreateDBSnapshot", "cloudwatch:GetMetricData",
                   "sns:Publish", "secretsmanager:GetSecretValue", "sts:GetCallerIdentity"):
        assert allows(document, action, "arn:aws:ecs:eu-west-1:123456789012:x", {"environment": "staging"}), action
    for action in ("organizations:LeaveOrganization", "account:CloseAccount", "lambda:CreateFunction", "dynamodb:DeleteTable"):
        assert not allows(document, action, "*"), action


def test_the_account_wide_oidc_providers_stay_readable_by_every_environment(plan_of: Callable[..., Plan]) -> None:
    production = plan_of("production")
    providers = production.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert len(providers) == 2
    assert {p.inputs["tags"]["environment"] for p in providers} == {"shared"}
    staging = _boundary(plan_of("staging"), "delivery-oidc-deploy-boundary")
    provider = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    # Staging's stack looks both providers up; it may not change or delete them.
    assert allows(staging, "iam:GetOpenIDConnectProvider", provider, {"environment": "shared"})
    changes = ("iam:DeleteOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider")
    for action in changes:
        assert not allows(staging, action, provider, {"environment": "shared"}), action
