"""The deployers' IAM rights (GitHub deploy role, Pulumi Deployments role): bounded stack roles only, never itself,
another deployer or a boundary."""

from __future__ import annotations

import fnmatch
import json

import pytest

from components.iam_boundary import ATTACH, BOUNDED_ROLE_WRITES, TRUST, boundary_document, privileged_roles

ROLE = "aws:iam/role:Role"
# Actions that let their holder raise rights when allowed on any role or policy (the table; AWS IAM
# User Guide, "Permissions boundaries for IAM entities").
ESCALATING = ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy",
              "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:PassRole", "iam:DeleteRolePermissionsBoundary",
              "iam:PutRolePermissionsBoundary")


# Each deployer's IAM policy beside PowerUserAccess, and its role.
DEPLOYERS = {"delivery-oidc-deploy-iam": "delivery-oidc-deploy", "deployments-aws-oidc-iam": "deployments-aws-oidc-role"}


def _statements(plan, policy: str = "delivery-oidc-deploy-iam") -> list[dict]:
    return json.loads(plan.named(policy).inputs["policy"])["Statement"]


def _matches(pattern: str | list[str], action: str) -> bool:
    patterns = [pattern] if isinstance(pattern, str) else pattern
    return any(fnmatch.fnmatchcase(action, p) for p in patterns)


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_no_escalating_iam_action_is_allowed_on_everything(plan_of, stack: str) -> None:
    statements = _statements(plan_of(stack))
    assert statements
    for statement in statements:
        if statement["Effect"] == "Allow" and statement["Resource"] == "*":
            assert not any(_matches(statement["Action"], a) for a in ESCALATING), statement


@pytest.mark.parametrize("stack", ["staging", "production"])
@pytest.mark.parametrize("policy", sorted(DEPLOYERS))
def test_role_writes_require_the_stacks_boundary_and_the_boundary_and_deployers_are_denied(plan_of, stack: str, policy: str) -> None:
    plan = plan_of(stack)
    boundary = plan.named("webapp-permissions-boundary").outputs["arn"]
    statements = {s["Sid"]: s for s in _statements(plan, policy)}
    bounded = statements["BoundedStackRoles"]
    assert set(bounded["Action"]) == set(BOUNDED_ROLE_WRITES)
    assert bounded["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": boundary}}
    assert bounded["Resource"] == "arn:aws:iam::*:role/webapp-*"
    attach = statements["NamedPoliciesOnBoundedRoles"]
    assert (attach["Action"], attach["Condition"]) == (ATTACH, {
        "StringEquals": {"iam:PermissionsBoundary": boundary}, "ArnLike": {"iam:PolicyARN": f"arn:aws:iam::*:policy/webapp-{stack}-*"}})
    trust = statements["OwnEnvironmentsTrust"]
    assert (trust["Action"], trust["Condition"]) == (TRUST, {"StringEquals": {"aws:ResourceTag/environment": stack}})
    assert not any(_matches(s.get("Action", []), TRUST) for s in statements.values() if s["Effect"] == "Allow" and s is not trust)
    never = statements["NeverABoundary"]
    assert never["Effect"] == "Deny"
    for name in ("webapp-permissions-boundary", "delivery-oidc-deploy-boundary", "deployments-aws-oidc-boundary"):
        assert fnmatch.fnmatchcase(plan.named(name).outputs["arn"], never["Resource"]), name
    assert {"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"} <= set(never["Action"])
    assert (statements["NeverUnbound"]["Effect"], statements["NeverUnbound"]["Action"]) == ("Deny", "iam:DeleteRolePermissionsBoundary")
    deny = statements["NeverItselfNorAnotherDeployer"]
    assert deny["Effect"] == "Deny"
    assert f"arn:aws:iam::*:role/{plan.named(DEPLOYERS[policy]).inputs['name']}" in deny["Resource"]
    assert _matches(deny["Action"], "iam:UpdateAssumeRolePolicy")
    assert _matches(deny["Action"], "iam:PutRolePolicy")
    assert _matches(deny["Action"], "iam:PassRole")


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_every_role_the_stack_creates_carries_the_boundary_or_is_a_protected_deployer(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    boundary = plan.named("webapp-permissions-boundary").outputs["arn"]
    denied = json.loads(plan.named("delivery-oidc-deploy-iam").inputs["policy"])["Statement"][-1]["Resource"]
    roles = plan.of_type(ROLE)
    assert len(roles) >= 5
    for role in roles:
        if role.inputs.get("permissionsBoundary") == boundary:
            continue
        # An unbounded role is one the deploy role is denied: otherwise it could rewrite its trust and become it.
        name = role.outputs["name"]
        assert any(fnmatch.fnmatchcase(f"arn:aws:iam::*:role/{name}", pattern) for pattern in denied), (
            f"{role.name} ({name}) has no permissions boundary and the deploy role may change it")
    assert privileged_roles("webapp") == ("webapp-*-deploy", "webapp-*-pulumi-deployments", "webapp-*-pulumi-preview")


def test_a_bounded_role_can_do_nothing_in_iam_but_read() -> None:
    statements = json.loads(boundary_document())["Statement"]
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    for action in ESCALATING:
        for statement in allowed:
            if "NotAction" in statement:
                assert _matches(statement["NotAction"], action), action
            else:
                assert not _matches(statement["Action"], action), action
