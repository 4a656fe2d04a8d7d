"""Identity policies: administrator grants and web-identity trusts, as JSON documents the engine shows."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.policy_support import violations

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
GITHUB = "token.actions.githubusercontent.com"
PULUMI = "api.pulumi.com/oidc"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def test_scoped_policy_passes() -> None:
    scoped = doc(allow(["ecs:UpdateService", "ecs:DescribeServices"], "arn:aws:ecs:eu-west-1:123456789012:service/*"),
                 allow("*", "arn:aws:s3:::webapp-logs/*"), allow("s3:GetObject", "*"))
    assert violations("iam-no-admin", ROLE_POLICY, {"policy": scoped}) == []
    assert violations("iam-no-admin", ROLE_POLICY, {"policy": doc({"Effect": "Deny", "Action": "*", "Resource": "*"})}) == []


@pytest.mark.parametrize("statement", [allow("*", "*"), allow(["s3:GetObject", "*"], ["*"])])
def test_action_star_on_resource_star_is_caught(statement: dict[str, Any]) -> None:
    assert violations("iam-no-admin", ROLE_POLICY, {"policy": doc(allow("s3:GetObject", "*"), statement)}) == [
        'policy.Statement[1]: got Action "*" on Resource "*"; name the actions and the resources this identity needs',
    ]


def test_admin_grants_inside_roles_and_attachments_are_caught() -> None:
    role = {"assumeRolePolicy": doc(), "inlinePolicies": [{"name": "all", "policy": doc(allow("*", "*"))}]}
    assert violations("iam-no-admin", ROLE, role) == [
        'inlinePolicies[0].policy.Statement[0]: got Action "*" on Resource "*"; name the actions and the resources '
        "this identity needs",
    ]
    attachment = {"role": "deployer", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert violations("iam-no-admin", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", attachment) == [
        "policyArn: got 'arn:aws:iam::aws:policy/AdministratorAccess'; attach a policy naming the actions and "
        "resources this identity needs",
    ]
    readonly = {"role": "deployer", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
    assert violations("iam-no-admin", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", readonly) == []


def trust(issuer: str, condition: dict[str, Any] | None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{issuer}"},
    }
    if condition is not None:
        statement["Condition"] = condition
    return {"assumeRolePolicy": doc(statement)}


@pytest.mark.parametrize(("issuer", "sub"), [
    (GITHUB, "repo:acme/webapp:environment:production"),
    (GITHUB, "repo:acme/webapp:ref:refs/heads/*"),
    (PULUMI, "pulumi:deploy:org:acme:project:release-platform:stack:production:operation:*:scope:write"),
])
def test_trust_pinned_to_one_repository_or_stack_passes(issuer: str, sub: str) -> None:
    condition = {"StringEquals": {f"{issuer}:aud": "sts.amazonaws.com"}, "StringLike": {f"{issuer}:sub": sub}}
    assert violations("oidc-trust-pins-subject", ROLE, trust(issuer, condition)) == []


@pytest.mark.parametrize(("issuer", "sub"), [
    (GITHUB, "repo:acme/*"),
    (GITHUB, "repo:acme/web*:environment:production"),
    (GITHUB, "*"),
    (PULUMI, "pulumi:deploy:org:acme:project:*:stack:production:operation:update:scope:write"),
    ("oidc.example.com", "service-*"),
])
def test_trust_with_a_wildcard_in_the_repository_part_is_caught(issuer: str, sub: str) -> None:
    found = violations("oidc-trust-pins-subject", ROLE, trust(issuer, {"StringLike": {f"{issuer}:sub": [sub]}}))
    assert len(found) == 1
    assert found[0].startswith(f"assumeRolePolicy.Statement[0].Condition.{issuer}:sub: got {sub!r}; pin ")


def test_trust_without_a_sub_condition_is_caught() -> None:
    found = violations("oidc-trust-pins-subject", ROLE, trust(GITHUB, {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}))
    assert found == [
        f"assumeRolePolicy.Statement[0].Condition: got no {GITHUB}:sub condition; any workload the issuer serves "
        f'could assume the role: add StringEquals {{"{GITHUB}:sub": ...}}',
    ]
    assert violations("oidc-trust-pins-subject", ROLE, trust(GITHUB, None))


def test_service_trusts_are_not_web_identity_trusts() -> None:
    ecs = {"assumeRolePolicy": doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                                    "Principal": {"Service": "ecs-tasks.amazonaws.com"}})}
    assert violations("oidc-trust-pins-subject", ROLE, ecs) == []
