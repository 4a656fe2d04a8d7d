"""Delivery policies: ECR, log groups, the production GitHub environment and GitHub secrets."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy.secret import Secret

from offline.plan import SECRET
from tests.policy_support import violations

ECR = "aws:ecr/repository:Repository"
LOGS = "aws:cloudwatch/logGroup:LogGroup"
ENVIRONMENT = "github:index/repositoryEnvironment:RepositoryEnvironment"
SECRET_TYPE = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"


def test_scanned_immutable_repository_passes() -> None:
    repo = {"name": "webapp", "imageScanningConfiguration": {"scanOnPush": True}, "imageTagMutability": "IMMUTABLE"}
    assert violations("ecr-scan-on-push", ECR, repo) == []
    assert violations("ecr-immutable-tags", ECR, repo) == []


def test_unscanned_or_mutable_repository_is_caught() -> None:
    assert violations("ecr-scan-on-push", ECR, {"imageScanningConfiguration": {"scanOnPush": False}}) == [
        "imageScanningConfiguration.scanOnPush: got false; set it to true: every pushed image is scanned for known "
        "vulnerabilities",
    ]
    assert violations("ecr-immutable-tags", ECR, {}) == [
        "imageTagMutability: got 'MUTABLE'; set it to IMMUTABLE: a release's version names one image forever, so "
        "promotion ships what was tested",
    ]


@pytest.mark.parametrize("days", [1, 30, 3653, 30.0])
def test_log_group_with_retention_passes(days: Any) -> None:
    assert violations("log-group-retention", LOGS, {"retentionInDays": days}) == []


@pytest.mark.parametrize(("days", "shown"), [(None, "unset"), (0, "0")])
def test_log_group_kept_forever_is_caught(days: Any, shown: str) -> None:
    assert violations("log-group-retention", LOGS, {"retentionInDays": days}) == [
        f"retentionInDays: got {shown}; set a retention (e.g. 30 or 90 days): logs kept forever cost money and "
        "hold data forever",
    ]


REVIEWED: dict[str, Any] = {
    "repository": "webapp", "environment": "production", "reviewers": [{"teams": [4242], "users": []}],
    "deploymentBranchPolicy": {"protectedBranches": True, "customBranchPolicies": False},
}


def test_reviewed_production_environment_passes_and_other_environments_are_not_judged() -> None:
    assert violations("github-production-environment-reviewed", ENVIRONMENT, REVIEWED) == []
    custom = {**REVIEWED, "deploymentBranchPolicy": {"protectedBranches": False, "customBranchPolicies": True}}
    assert violations("github-production-environment-reviewed", ENVIRONMENT, custom) == []
    assert violations("github-production-environment-reviewed", ENVIRONMENT, {"environment": "staging"}) == []


def test_production_environment_without_reviewers_is_caught() -> None:
    found = violations("github-production-environment-reviewed", ENVIRONMENT, {**REVIEWED, "reviewers": [{"users": []}]})
    assert found == ["reviewers: got [{'users': []}]; name at least one user or team who approves each production deployment"]


def test_production_environment_without_branch_policy_is_caught() -> None:
    found = violations("github-production-environment-reviewed", ENVIRONMENT, {**REVIEWED, "deploymentBranchPolicy": None})
    assert found == [
        "deploymentBranchPolicy: got unset; allow only protected branches (protectedBranches true) or named ones "
        "(customBranchPolicies true)",
    ]


@pytest.mark.parametrize("props", [
    {"plaintextValue": SECRET}, {"plaintextValue": Secret("token")}, {"encryptedValue": "c2VhbGVk"},
])
def test_secret_values_pass(props: dict[str, Any]) -> None:
    assert violations("github-secret-not-plaintext", SECRET_TYPE, {"secretName": "AWS_ROLE", **props}) == []


@pytest.mark.parametrize("key", ["plaintextValue", "value"])
def test_plaintext_github_secret_is_caught(key: str) -> None:
    assert violations("github-secret-not-plaintext", "github:index/actionsSecret:ActionsSecret", {key: "hunter2"}) == [
        f"{key}: got a value that is not a secret; read it with pulumi.Config(...).require_secret (set with "
        "`pulumi config set --secret`) or pass encryptedValue",
    ]


def test_a_value_the_engine_shows_unwrapped_passes_when_registered_as_a_secret_output() -> None:
    # Under `pulumi preview` the policy sees the plaintext; pulumi-github registers these properties as secrets.
    props = {"secretName": "AWS_ROLE", "value": "arn:aws:iam::123456789012:role/deploy"}
    assert violations("github-secret-not-plaintext", SECRET_TYPE, props, secret_outputs=("plaintextValue", "value")) == []
    assert violations("github-secret-not-plaintext", SECRET_TYPE, props, secret_outputs=("plaintextValue",))
