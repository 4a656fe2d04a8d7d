"""Independent IAM analysers over both stacks' IAM configuration: cloudsplaining and parliament.

Both read the configuration in ``GetAccountAuthorizationDetails`` format (``offline/check/iam_account.py``).
What each understands, read from its source (docs/security.md, "What the analysers prove"):

- cloudsplaining (``cloudsplaining/scan/``) judges each policy on its own: an escalation is a set of actions
  allowed on ``Resource: "*"`` with no Condition. It never reads a role's ``PermissionsBoundary``, and it
  passes over any statement with a Condition or a narrower Resource.
- parliament judges one policy document at a time: grammar, actions, and whether each condition key is one
  the action supports; it has no notion of roles or boundaries.

Where they are blind, the delegation rule (``offline/check/iam_escalation.py``) covers the gap, and the tests
here show both sides on today's policies (the fixture) and on the plans.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from cloudsplaining.scan.authorization_details import AuthorizationDetails
from cloudsplaining.scan.policy_document import PolicyDocument
from cloudsplaining.shared.exclusions import Exclusions
from parliament import analyze_policy_string

from offline.check.iam_account import authorization_details, policy_documents, principal
from offline.check.iam_escalation import TAKEOVER, analyse
from tests.iam_today import iam_resources, plans_of_today

ACCOUNT = "123456789012"
_ESCALATIONS: dict[str, frozenset[str]] = {}


def _escalations(document: Mapping[str, Any]) -> frozenset[str]:
    """cloudsplaining's privilege-escalation methods for one policy document (its own judgement, cached)."""
    key = json.dumps(document, sort_keys=True)
    if key not in _ESCALATIONS:
        found = PolicyDocument(dict(document)).allows_privilege_escalation
        _ESCALATIONS[key] = frozenset(e["type"] for e in found)
    return _ESCALATIONS[key]


def _by_role(details: dict[str, Any]) -> dict[str, dict[str, frozenset[str]]]:
    """For each role cloudsplaining reads, each identity policy's escalation methods (boundaries are not read)."""
    account = AuthorizationDetails(details, Exclusions({}))
    found: dict[str, dict[str, frozenset[str]]] = {}
    for role in account.role_detail_list.roles:
        policies = {p.policy_name: _escalations(p.policy_document.json) for p in role.inline_policies}
        policies |= {p.policy_name: _escalations(p.policy_document.json) for p in role.attached_managed_policies}
        found[role.role_name] = {name: methods for name, methods in policies.items() if methods}
    return found


IAM_METHODS = frozenset({
    "CreateNewPolicyVersion", "SetExistingDefaultPolicyVersion", "AttachRolePolicy", "PutRolePolicy",
    "UpdateRolePolicyToAssumeIt", "AttachUserPolicy", "PutUserPolicy", "CreateAccessKey",
})


@pytest.fixture(scope="module")
def today() -> dict[str, Any]:
    return authorization_details(iam_resources(*plans_of_today().values()))


@pytest.fixture(scope="module")
def planned(plan_of) -> dict[str, Any]:
    return authorization_details(iam_resources(plan_of("staging"), plan_of("production")))


# cloudsplaining reads an account in seconds: once per account and module.
@pytest.fixture(scope="module")
def today_flags(today: dict[str, Any]) -> dict[str, dict[str, frozenset[str]]]:
    return _by_role(today)


@pytest.fixture(scope="module")
def planned_flags(planned: dict[str, Any]) -> dict[str, dict[str, frozenset[str]]]:
    return _by_role(planned)


def test_cloudsplaining_finds_finding_2_the_deployments_roles_iamfullaccess(today_flags: dict[str, Any]) -> None:
    found = today_flags
    for stack in ("staging", "production"):
        methods = found[f"webapp-{stack}-pulumi-deployments"]["IAMFullAccess"]
        assert {"PutRolePolicy", "AttachRolePolicy", "CreateNewPolicyVersion", "UpdateRolePolicyToAssumeIt"} <= methods


def test_cloudsplaining_misses_finding_1_and_the_delegation_rule_finds_it(today: dict[str, Any], today_flags: dict[str, Any]) -> None:
    # The deploy role's IAM statements are all on role/webapp-* or under a Condition: cloudsplaining passes over them.
    found = today_flags
    assert "delivery-oidc-deploy-iam" not in found["webapp-staging-deploy"]
    assert not IAM_METHODS & {m for methods in found["webapp-staging-deploy"].values() for m in methods}
    rule = [f for f in analyse(today) if f.start.endswith("role/webapp-staging-deploy")]
    assert [f.kind for f in rule] == ["production"]


def test_cloudsplaining_reads_no_permissions_boundary() -> None:
    # AdministratorAccess under a boundary that allows only S3: IAM refuses every IAM write; cloudsplaining
    # still reports the policy's escalations, and so cannot judge a bounded role.
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/s3-only"
    details = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [{
        "RoleName": "bounded", "RoleId": "AROAEXAMPLE", "Arn": f"arn:aws:iam::{ACCOUNT}:role/bounded", "Path": "/",
        "AssumeRolePolicyDocument": {}, "RolePolicyList": [], "Tags": [],
        "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}],
        "PermissionsBoundary": {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": boundary},
    }], "Policies": [
        {"PolicyName": "s3-only", "PolicyId": "ANPAEXAMPLE1", "Arn": boundary, "Path": "/", "DefaultVersionId": "v1", "PolicyVersionList": [
            {"Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
             "VersionId": "v1", "IsDefaultVersion": True}]},
        {"PolicyName": "AdministratorAccess", "PolicyId": "ANPAEXAMPLE2", "Arn": "arn:aws:iam::aws:policy/AdministratorAccess", "Path": "/",
         "DefaultVersionId": "v1", "PolicyVersionList": [{"Document": {"Version": "2012-10-17", "Statement": [
             {"Effect": "Allow", "Action": "*", "Resource": "*"}]}, "VersionId": "v1", "IsDefaultVersion": True}]},
    ]}
    assert "PutRolePolicy" in _by_role(details)["bounded"]["AdministratorAccess"]
    role = principal(details["RoleDetailList"][0], policy_documents(details))
    assert not role.allows("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/any")
    assert role.allows("s3:GetObject", "arn:aws:s3:::bucket/key")


def test_cloudsplaining_finds_no_iam_escalation_in_the_plans(planned_flags: dict[str, Any]) -> None:
    found = planned_flags
    assert len(found) >= 10
    iam_methods = {(role, policy, m) for role, policies in found.items() for policy, methods in policies.items()
                   for m in methods if m in IAM_METHODS}
    assert iam_methods == set()


# cloudsplaining's service-based methods that take over what a service runs with a role, by the service that
# assumes that role (pathfinding.cloud's pages, linked from cloudsplaining's PRIVILEGE_ESCALATION_PATHFINDING_PATHS).
TAKEN_OVER = {
    "ECSExecuteCommandOnRunningTask": "ecs-tasks.amazonaws.com",
    "ModifyEC2InstanceUserDataThenRestart": "ec2.amazonaws.com",
    "ModifyExistingEC2LaunchTemplate": "ec2.amazonaws.com",
    "EditExistingLambdaFunctionWithRole": "lambda.amazonaws.com",
    "UpdateAndInvokeLambdaFunction": "lambda.amazonaws.com",
    "UpdateLambdaFunctionAndAddPermission": "lambda.amazonaws.com",
}


def test_what_cloudsplaining_still_flags_in_the_plans_is_refused_by_a_boundary_or_followed_by_the_rule(
        planned: dict[str, Any], planned_flags: dict[str, Any]) -> None:
    """PowerUserAccess allows service-based escalations on "*". Each is outside the role's boundary (IAM's own
    evaluation: identity policies within the boundary), or a takeover of a service's role the rule follows."""
    from cloudsplaining.shared.constants import PRIVILEGE_ESCALATION_METHODS  # noqa: PLC0415

    documents = policy_documents(planned)
    roles = {r["RoleName"]: r for r in planned["RoleDetailList"]}
    flagged = followed = 0
    for role_name, policies in planned_flags.items():
        effective = principal(roles[role_name], documents)
        for method in {m for methods in policies.values() for m in methods}:
            flagged += 1
            actions = PRIVILEGE_ESCALATION_METHODS[method]
            # IAM matches actions case-insensitively (IAM User Guide, "IAM JSON policy elements: Action").
            if not all(effective.allows(a, f"arn:aws:{a.split(':')[0]}:eu-west-1:{ACCOUNT}:x/untagged") for a in actions):
                continue
            assert TAKEN_OVER.get(method) in TAKEOVER, f"{role_name} can still {method}, which the rule does not follow"
            followed += 1
    assert flagged > followed > 0
    assert analyse(planned) == []


PARLIAMENT_ACCEPTED = {
    # Our deployers' statements name roles by pattern; "*" is only on reads and on the service-linked role (its name is AWS's).
    "RESOURCE_STAR",
    # iam:PermissionsBoundary is an ARN compared with StringEquals, as the IAM User Guide's delegation example does.
    "MISMATCHED_TYPE_BUT_USABLE",
}


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_parliament_accepts_every_policy_document_and_condition_key_of_the_plans(plan_of, stack: str) -> None:
    checked = 0
    for resource in plan_of(stack).resources:
        raw = resource.inputs.get("policy")
        if resource.type.startswith("aws:iam/") and isinstance(raw, str):
            found = analyze_policy_string(raw, include_community_auditors=False).findings
            assert {f.issue for f in found} <= PARLIAMENT_ACCEPTED, (resource.name, [(f.issue, f.detail) for f in found])
            checked += 1
    assert checked >= 6


def test_parliament_refuses_a_condition_key_the_action_does_not_support() -> None:
    # What the test above relies on: parliament knows which condition keys each action supports.
    wrong = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:CreateRole",
                        "Resource": "*", "Condition": {"ArnLike": {"iam:PolicyARN": "arn:aws:iam::*:policy/x"}}}]})
    assert "UNKNOWN_CONDITION_FOR_ACTION" in {f.issue for f in analyze_policy_string(wrong).findings}
