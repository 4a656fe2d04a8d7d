"""GitHub's way into AWS: trust pinned to one subject, and the image repository it pushes to."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from offline import Plan

ROLE = "aws:iam/role:Role"
ISSUER = "token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"


def _trust(plan: Plan, name: str) -> dict[str, Any]:
    [statement] = json.loads(plan.named(name).inputs["assumeRolePolicy"])["Statement"]
    return statement


def test_each_deploy_role_trusts_exactly_its_environment(plan_of: Callable[..., Plan]) -> None:
    for stack in ("staging", "production"):
        statement = _trust(plan_of(stack), "delivery-oidc-deploy")
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"] == {"Federated": PROVIDER_ARN}
        # StringEquals only: a StringLike with a wildcard would let any branch or pull request in.
        assert statement["Condition"] == {"StringEquals": {
            f"{ISSUER}:aud": "sts.amazonaws.com",
            f"{ISSUER}:sub": f"repo:acme-web/webapp:environment:{stack}",
        }}


def test_the_build_role_trusts_pushes_to_the_deploy_branches_only(plan_of: Callable[..., Plan]) -> None:
    statement = _trust(plan_of("production"), "delivery-oidc-build")
    assert statement["Condition"] == {"StringEquals": {
        f"{ISSUER}:aud": "sts.amazonaws.com",
        f"{ISSUER}:sub": ["repo:acme-web/webapp:ref:refs/heads/develop", "repo:acme-web/webapp:ref:refs/heads/main"],
    }}


def test_the_build_role_may_push_to_the_image_repository_only(plan_of: Callable[..., Plan]) -> None:
    policy = json.loads(plan_of("production").named("delivery-oidc-build-push").inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["Login"]["Action"] == "ecr:GetAuthorizationToken"
    assert by_sid["PushImages"]["Resource"] == "arn:aws:ecr:eu-west-1:123456789012:repository/webapp"
    assert "ecr:PutImage" in by_sid["PushImages"]["Action"]
    assert not any(a.endswith("*") for a in by_sid["PushImages"]["Action"])


def test_the_oidc_provider_is_githubs_for_sts(plan_of: Callable[..., Plan]) -> None:
    [provider] = [
        r for r in plan_of("production").of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
        if r.inputs["url"] == f"https://{ISSUER}"
    ]
    assert provider.inputs["url"] == f"https://{ISSUER}"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]


def test_roles_have_stable_names_without_versions(plan_of: Callable[..., Plan]) -> None:
    def delivery_roles(plan: Plan) -> list[str]:
        return sorted(r.inputs["name"] for r in plan.of_type(ROLE) if r.name.startswith("delivery-"))

    assert delivery_roles(plan_of("production")) == ["webapp-image-build", "webapp-production-deploy"]
    assert delivery_roles(plan_of("staging")) == ["webapp-staging-deploy"]


def test_the_image_repository_is_immutable_scanned_and_pruned(plan_of: Callable[..., Plan]) -> None:
    plan = plan_of("production")
    [repository] = plan.of_type("aws:ecr/repository:Repository")
    assert repository.inputs["name"] == "webapp"
    assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository.inputs["forceDelete"] is False
    [lifecycle] = plan.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    rules = json.loads(lifecycle.inputs["policy"])["rules"]
    assert [(r["rulePriority"], r["selection"]["tagStatus"]) for r in rules] == [
        (1, "tagged"), (2, "tagged"), (3, "untagged"), (4, "any")]
    assert [r["selection"]["tagPatternList"] for r in rules[:2]] == [["released-production-*"], ["verified-staging-*"]]
    assert [r["selection"]["countNumber"] for r in rules] == [50, 50, 7, 300]
