"""The delegation rule: what each role reaches through the roles and policies it may create or change.

Sources: IAM User Guide, "Permissions boundaries for IAM entities" (identity policies intersected with the
boundary; delegation needs iam:PermissionsBoundary) and "Policy evaluation logic" (an explicit deny wins).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from offline.check import iam
from offline.check.iam_account import authorization_details
from offline.check.iam_escalation import analyse
from offline.check.iam_eval import Principal, condition_holds
from tests.iam_today import FIXTURE, iam_resources, plans_of_today

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-x"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/app-boundary"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _role(name: str, inline: list[dict[str, Any]], *, boundary: str | None = None, managed: tuple[str, ...] = (),
          environment: str = "staging") -> dict[str, Any]:
    role: dict[str, Any] = {
        "RoleName": name, "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "Path": "/",
        "AssumeRolePolicyDocument": _doc(
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}),
        "RolePolicyList": [{"PolicyName": f"{name}-{i}", "PolicyDocument": d} for i, d in enumerate(inline)],
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in managed],
        "Tags": [{"Key": "environment", "Value": environment}],
    }
    if boundary:
        role["PermissionsBoundary"] = {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": boundary}
    return role


def _account(roles: list[dict[str, Any]], policies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles, "Policies": [
        {"PolicyName": arn.rsplit("/", 1)[-1], "Arn": arn, "Path": "/", "DefaultVersionId": "v1",
         "PolicyVersionList": [{"Document": doc, "VersionId": "v1", "IsDefaultVersion": True}]} for arn, doc in policies.items()]}


WORKLOADS = _doc({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"})
BOUNDED_CREATE = {"Effect": "Allow", "Action": ["iam:CreateRole", "iam:PutRolePolicy"], "Resource": "arn:aws:iam::*:role/app-*",
                  "Condition": {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}}}


# --- evaluation -----------------------------------------------------------------------------------------


def test_a_boundary_caps_the_identity_policy_and_a_deny_wins() -> None:
    admin = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    bounded = Principal(ROLE, (admin,), WORKLOADS)
    assert bounded.allows("s3:GetObject", "arn:aws:s3:::b/k")
    assert not bounded.allows("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/u")
    assert Principal(ROLE, (admin,)).allows("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/u")
    denied = Principal(ROLE, (admin, _doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})))
    assert not denied.allows("s3:GetObject", "arn:aws:s3:::b/k")
    # A boundary grants nothing by itself.
    assert not Principal(ROLE, (), WORKLOADS).allows("s3:GetObject", "arn:aws:s3:::b/k")


@pytest.mark.parametrize(("condition", "context", "holds"), [
    ({"StringEquals": {"iam:PermissionsBoundary": "a"}}, {"iam:permissionsboundary": ("a",)}, True),
    ({"StringEquals": {"iam:PermissionsBoundary": "a"}}, {}, False),
    ({"StringNotEquals": {"aws:ResourceTag/environment": "production"}}, {}, True),
    ({"StringEquals": {"aws:ResourceTag/Environment": ["production"]}}, {"aws:resourcetag/environment": ("production",)}, True),
    ({"ArnLike": {"iam:PolicyARN": "arn:aws:iam::*:policy/app-*"}}, {"iam:policyarn": ("arn:aws:iam::1:policy/app-x",)}, True),
    ({"ArnLike": {"iam:PolicyARN": "arn:aws:iam::*:policy/app-*"}},
     {"iam:policyarn": ("arn:aws:iam::aws:policy/AdministratorAccess",)}, False),
    ({"StringEqualsIfExists": {"aws:RequestTag/x": "y"}}, {}, True),
    ({"Null": {"iam:PermissionsBoundary": "true"}}, {}, True),
])
def test_conditions_hold_as_iam_reads_them(condition: dict[str, Any], context: dict[str, tuple[str, ...]], holds: bool) -> None:
    assert condition_holds(condition, context, unknown=False) is holds


def test_an_operator_not_modelled_favours_the_attacker() -> None:
    odd = {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}
    assert condition_holds(odd, {}, unknown=True)
    assert not condition_holds(odd, {}, unknown=False)


# --- the rule on small accounts ---------------------------------------------------------------------------


def test_creating_a_role_without_the_boundary_condition_is_a_path_to_administrator() -> None:
    loose = {**BOUNDED_CREATE, "Condition": {}}
    found = analyse(_account([_role("app-deployer", [_doc(loose)])], {}))
    assert {(f.kind, f.start.rsplit("/", 1)[-1]) for f in found} == {("administrator", "app-deployer"), ("production", "app-deployer")}
    assert "creates app-escalation-probe (boundary none) with any inline policy" in found[0].describe()


FENCED = _doc({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"},
              {"Effect": "Deny", "Action": "*", "Resource": "*",
               "Condition": {"StringEquals": {"aws:ResourceTag/environment": "production"}}})


def test_a_boundary_condition_bounds_what_the_created_role_can_do() -> None:
    account = _account([_role("app-deployer", [_doc(BOUNDED_CREATE)])], {BOUNDARY: FENCED})
    assert analyse(account) == []


def test_a_created_role_whose_boundary_lacks_the_environment_deny_reaches_production() -> None:
    (found,) = analyse(_account([_role("app-deployer", [_doc(BOUNDED_CREATE)])], {BOUNDARY: WORKLOADS}))
    assert found.kind == "production"
    assert found.reached.startswith("secretsmanager:GetSecretValue")
    # A production deployer with the same rights reaches nothing it must not: administrator is out of the boundary.
    assert analyse(_account([_role("app-deployer", [_doc(BOUNDED_CREATE)], environment="production")], {BOUNDARY: WORKLOADS})) == []


def test_attaching_any_managed_policy_is_found_and_a_named_one_is_not() -> None:
    attach = {"Effect": "Allow", "Action": ["iam:CreateRole", "iam:AttachRolePolicy"], "Resource": "arn:aws:iam::*:role/app-*"}
    found = analyse(_account([_role("app-deployer", [_doc(attach)])], {}))
    assert {f.kind for f in found} == {"administrator", "production"}
    assert "AdministratorAccess" in found[0].describe()
    named = {**attach, "Condition": {"ArnLike": {"iam:PolicyARN": "arn:aws:iam::*:policy/app-ok"}}}
    account = _account([_role("app-deployer", [_doc(named)])], {f"arn:aws:iam::{ACCOUNT}:policy/app-ok": FENCED})
    assert analyse(account) == []


def test_rewriting_the_own_boundary_policy_unbounds_the_writer() -> None:
    writes = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    account = _account([_role("app-deployer", [writes], boundary=BOUNDARY)], {BOUNDARY: _doc(
        {"Effect": "Allow", "Action": ["iam:CreatePolicyVersion", "s3:*"], "Resource": "*"})})
    found = {f.kind: f for f in analyse(account)}
    assert set(found) == {"administrator", "production"}
    assert "writes a new version of app-boundary" in found["administrator"].describe()


def test_rewriting_another_roles_trust_lets_the_writer_become_it() -> None:
    trust = _doc({"Effect": "Allow", "Action": "iam:UpdateAssumeRolePolicy", "Resource": "arn:aws:iam::*:role/app-*"})
    admin = _role("app-admin", [_doc({"Effect": "Allow", "Action": "*", "Resource": "*"})], environment="production")
    found = analyse(_account([_role("app-deployer", [trust]), admin], {}))
    kinds = {(f.start.rsplit("/", 1)[-1], f.kind) for f in found}
    assert ("app-deployer", "administrator") in kinds
    assert ("app-deployer", "production") in kinds


# --- today's policies (the fixture): findings 1 and 2 ------------------------------------------------------


def _today() -> dict[str, list[str]]:
    plans = plans_of_today()
    found: dict[str, list[str]] = {}
    for f in analyse(authorization_details(iam_resources(*plans.values()))):
        found.setdefault(f.start.rsplit("/", 1)[-1], []).append(f.kind)
    return found


def test_today_the_staging_deploy_role_reaches_production_through_a_role_it_creates() -> None:
    found = analyse(authorization_details(iam_resources(*plans_of_today().values())))
    (deploy,) = [f for f in found if f.start.endswith("role/webapp-staging-deploy")]
    assert deploy.kind == "production"
    assert "creates webapp-escalation-probe (boundary webapp-staging-boundary) with any inline policy" in deploy.describe()


def test_today_each_deployments_role_makes_itself_administrator() -> None:
    found = _today()
    assert found["webapp-staging-pulumi-deployments"] == ["administrator"]
    assert found["webapp-production-pulumi-deployments"] == ["administrator"]


def test_release_check_reports_both_escalations_on_todays_policies() -> None:
    plans = plans_of_today()
    staging = [f for f in iam.check(plans["staging"]) if f.rule in ("iam-delegation-escalation", "iam-privilege-escalation")]
    by_resource = {(f.resource, f.rule) for f in staging}
    assert ("delivery-oidc-deploy", "iam-delegation-escalation") in by_resource
    assert ("deployments-aws-oidc-role", "iam-delegation-escalation") in by_resource
    # The IAMFullAccess attachment: its role has a boundary, but the boundary allows IAM writes.
    assert ("deployments-aws-oidc-iamfullaccess", "iam-privilege-escalation") in by_resource
    production = {(f.resource, f.rule) for f in iam.check(plans["production"])}
    assert ("deployments-aws-oidc-role", "iam-delegation-escalation") in production


# --- the real plans ----------------------------------------------------------------------------------------


def test_the_plans_of_both_stacks_give_no_role_a_path_to_administrator_or_production(plan_of) -> None:
    account = authorization_details(iam_resources(plan_of("staging"), plan_of("production")))
    assert len(account["RoleDetailList"]) >= 10
    assert analyse(account) == []


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_release_check_finds_no_escalation_on_the_plans(plan_of, stack: str) -> None:
    found = [f for f in iam.check(plan_of(stack)) if "escalation" in f.rule]
    assert found == [], [f.message for f in found]


def test_the_fixture_is_todays_configuration() -> None:
    # The fixture keeps the escaping policies: the Deployments roles hold IAMFullAccess there, and not in the plans.
    assert "IAMFullAccess" in json.dumps(json.loads(FIXTURE.read_text()))


def test_a_shell_in_a_task_running_as_an_admin_role_is_a_path_and_the_environment_tag_stops_it() -> None:
    shell = _doc({"Effect": "Allow", "Action": "ecs:ExecuteCommand", "Resource": "*"})
    admin = _role("app-task", [_doc({"Effect": "Allow", "Action": "*", "Resource": "*"})], environment="staging")
    found = analyse(_account([_role("app-operator", [shell]), admin], {}))
    operator = {f.kind: f for f in found if f.start.endswith("role/app-operator")}
    assert "ecs:ExecuteCommand on what ecs-tasks.amazonaws.com runs as app-task" in operator["administrator"].describe()
    fenced = _doc({"Effect": "Allow", "Action": "ecs:ExecuteCommand", "Resource": "*"},
                  {"Effect": "Deny", "Action": "*", "Resource": "*",
                   "Condition": {"StringEquals": {"aws:ResourceTag/environment": "staging"}}})
    found = analyse(_account([_role("app-operator", [fenced]), admin], {}))
    assert not [f for f in found if f.start.endswith("role/app-operator")]


def test_aws_managed_documents_are_awss_and_an_unknown_one_favours_the_attacker() -> None:
    from offline.check.iam_account import aws_managed_document  # noqa: PLC0415

    power = aws_managed_document("arn:aws:iam::aws:policy/PowerUserAccess")
    assert power is not None
    assert {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"} in power["Statement"]
    assert aws_managed_document("arn:aws:iam::aws:policy/NoSuchPolicyAnywhere") is None
    admin = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    unknown = _role("app-x", [admin], boundary="arn:aws:iam::aws:policy/NoSuchPolicyAnywhere", environment="production")
    assert {f.kind for f in analyse(_account([unknown], {}))} == {"administrator"}
