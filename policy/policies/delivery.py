"""Delivery: images are scanned and immutable, logs expire, production is reviewed, and no secret is plaintext."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs

from policy.policies.base import PackPolicy, ResourcePolicy, Scope, as_int, get, is_secret, items, problem

ECR_REPOSITORY = "aws:ecr/repository:Repository"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
GITHUB_ENVIRONMENT = "github:index/repositoryEnvironment:RepositoryEnvironment"
GITHUB_SECRETS = (
    "github:index/actionsSecret:ActionsSecret",
    "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
    "github:index/actionsOrganizationSecret:ActionsOrganizationSecret",
    "github:index/dependabotSecret:DependabotSecret",
    "github:index/dependabotOrganizationSecret:DependabotOrganizationSecret",
    "github:index/codespacesSecret:CodespacesSecret",
    "github:index/codespacesOrganizationSecret:CodespacesOrganizationSecret",
)
# The GitHub environment whose deployments reach production.
PRODUCTION_ENVIRONMENT = "production"
PLAINTEXT_KEYS = ("plaintextValue", "value")


def _scan_on_push(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    if get(props, "imageScanningConfiguration.scanOnPush") is not True:
        yield problem("imageScanningConfiguration.scanOnPush", get(props, "imageScanningConfiguration.scanOnPush"),
                      "set it to true: every pushed image is scanned for known vulnerabilities")


def _immutable_tags(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    if get(props, "imageTagMutability") != "IMMUTABLE":
        yield problem("imageTagMutability", get(props, "imageTagMutability", "MUTABLE"),
                      "set it to IMMUTABLE: a release's version names one image forever, so promotion ships what was tested")


def _retention(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    days = as_int(get(props, "retentionInDays"))
    if days is None or days <= 0:
        yield problem("retentionInDays", get(props, "retentionInDays"),
                      "set a retention (e.g. 30 or 90 days): logs kept forever cost money and hold data forever")


def _production_reviewed(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    if get(props, "environment") != PRODUCTION_ENVIRONMENT:
        return
    reviewers = items(get(props, "reviewers"))
    if not any(items(get(r, "users")) or items(get(r, "teams")) for r in reviewers):
        yield problem("reviewers", get(props, "reviewers"),
                      "name at least one user or team who approves each production deployment")
    protected = get(props, "deploymentBranchPolicy.protectedBranches") is True
    custom = get(props, "deploymentBranchPolicy.customBranchPolicies") is True
    if not (protected or custom):
        yield problem("deploymentBranchPolicy", get(props, "deploymentBranchPolicy"),
                      "allow only protected branches (protectedBranches true) or named ones (customBranchPolicies true)")


def _not_plaintext(props: Mapping[str, Any], args: ResourceValidationArgs) -> Iterator[str]:
    # The engine hands policies secret values already unwrapped; what it still reports is
    # whether the resource registered the property as a secret output (pulumi-github does).
    registered_secret = set(args.opts.additional_secret_outputs or ())
    for key in PLAINTEXT_KEYS:
        value = get(props, key)
        if value is not None and not is_secret(value) and key not in registered_secret:
            yield (f"{key}: got a value that is not a secret; read it with pulumi.Config(...).require_secret "
                   "(set with `pulumi config set --secret`) or pass encryptedValue")


POLICIES: list[PackPolicy] = [
    ResourcePolicy(
        "ecr-scan-on-push", "ECR repositories scan images on push.",
        types=(ECR_REPOSITORY,), check=_scan_on_push, scope=Scope.PRODUCTION,
        remediation="Set imageScanningConfiguration.scanOnPush to true.",
    ),
    ResourcePolicy(
        "ecr-immutable-tags", "ECR repositories have immutable tags.",
        types=(ECR_REPOSITORY,), check=_immutable_tags, scope=Scope.PRODUCTION,
        remediation="Set imageTagMutability to IMMUTABLE.",
    ),
    ResourcePolicy(
        "log-group-retention", "CloudWatch log groups have a retention period.",
        types=(LOG_GROUP,), check=_retention, scope=Scope.PRODUCTION,
        remediation="Set retentionInDays.",
    ),
    ResourcePolicy(
        # Whichever stack declares it, the production environment is the gate to production.
        "github-production-environment-reviewed",
        "The production GitHub environment requires a reviewer and limits the branches that deploy.",
        types=(GITHUB_ENVIRONMENT,), check=_production_reviewed, scope=Scope.BOTH,
        remediation="Add reviewers and a deploymentBranchPolicy to the production environment.",
    ),
    ResourcePolicy(
        "github-secret-not-plaintext", "GitHub secrets are set from Pulumi secrets or pre-encrypted values, never plaintext.",
        types=GITHUB_SECRETS, check=_not_plaintext, scope=Scope.BOTH,
        remediation="Read the value with require_secret, or pass encryptedValue.",
    ),
]
