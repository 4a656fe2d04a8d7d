"""The application repository's rules and environments, as the stacks plan them."""

from __future__ import annotations

import re
from collections.abc import Callable

from offline import Plan
from offline.plan import SECRET

ENV = "github:index/repositoryEnvironment:RepositoryEnvironment"
POLICY = "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy"
RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
ENV_VAR = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
ENV_SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
REPO_VAR = "github:index/actionsVariable:ActionsVariable"
REPOSITORY_WIDE = (
    "github:index/repository:Repository", "github:index/branchDefault:BranchDefault", "github:index/branch:Branch",
    RULESET, "github:index/repositoryFile:RepositoryFile", REPO_VAR, "aws:ecr/repository:Repository",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
)


def test_production_is_deployable_from_main_only_after_review(plan_of: Callable[..., Plan]) -> None:
    plan = plan_of("production")
    [environment] = plan.of_type(ENV)
    assert environment.inputs["environment"] == "production"
    assert environment.inputs["preventSelfReview"] is True
    assert environment.inputs["canAdminsBypass"] is False
    assert environment.inputs["waitTimer"] == 10
    assert environment.inputs["deploymentBranchPolicy"] == {"protectedBranches": False, "customBranchPolicies": True}
    [reviewers] = environment.inputs["reviewers"]
    # Resolved through getTeam/getUser to GitHub's numeric ids.
    assert len(reviewers["teams"]) == 1
    assert len(reviewers["users"]) == 1
    assert all(isinstance(i, int) and i > 0 for i in reviewers["teams"] + reviewers["users"])
    [policy] = plan.of_type(POLICY)
    assert (policy.inputs["environment"], policy.inputs["branchPattern"]) == ("production", "main")


def test_staging_is_deployable_from_develop_only(plan_of: Callable[..., Plan]) -> None:
    plan = plan_of("staging")
    [environment] = plan.of_type(ENV)
    assert environment.inputs["environment"] == "staging"
    assert environment.inputs["canAdminsBypass"] is False
    [policy] = plan.of_type(POLICY)
    assert (policy.inputs["environment"], policy.inputs["branchPattern"]) == ("staging", "develop")


def test_reviewer_ids_differ_per_reviewer(plan_of: Callable[..., Plan]) -> None:
    plan = plan_of("production", ("delivery:reviewers", ["user:mara-okafor", "user:li-wei"]))
    [environment] = plan.of_type(ENV)
    [reviewers] = environment.inputs["reviewers"]
    assert reviewers["teams"] == []
    assert len(set(reviewers["users"])) == 2


def test_only_the_owner_stack_manages_the_repository_wide_objects(plan_of: Callable[..., Plan]) -> None:
    production, staging = plan_of("production"), plan_of("staging")
    for kind in REPOSITORY_WIDE:
        assert production.of_type(kind), kind
        assert staging.of_type(kind) == [], kind
    moved = plan_of("staging", "delivery:repositoryOwnerStack=staging", "delivery:automationAppId=1183467")
    assert all(moved.of_type(kind) for kind in REPOSITORY_WIDE)


def test_the_existing_repository_is_protected_from_deletion(plan_of: Callable[..., Plan]) -> None:
    [repository] = plan_of("production").of_type("github:index/repository:Repository")
    assert repository.inputs["name"] == "webapp"
    assert repository.protect
    assert repository.inputs["archiveOnDestroy"] is True


def test_main_and_develop_cannot_be_deleted_or_force_pushed_by_anyone(plan_of: Callable[..., Plan]) -> None:
    rulesets = {r.inputs["name"]: r.inputs for r in plan_of("production").of_type(RULESET)}
    integrity = rulesets["branch integrity"]
    assert integrity["conditions"]["refName"]["includes"] == ["refs/heads/main", "refs/heads/develop"]
    assert integrity["rules"] == {"deletion": True, "nonFastForward": True}
    assert integrity.get("bypassActors", []) == []
    assert integrity["enforcement"] == "active"


def test_main_needs_a_fresh_review_and_the_checks(plan_of: Callable[..., Plan]) -> None:
    rulesets = {r.inputs["name"]: r.inputs for r in plan_of("production").of_type(RULESET)}
    main = rulesets["main: reviewed and checked"]
    assert main["conditions"]["refName"]["includes"] == ["refs/heads/main"]
    review = main["rules"]["pullRequest"]
    assert review["requiredApprovingReviewCount"] == 1
    assert review["dismissStaleReviewsOnPush"] is True
    checks = main["rules"]["requiredStatusChecks"]
    assert [c["context"] for c in checks["requiredChecks"]] == ["lint", "test", "build"]
    assert checks["strictRequiredStatusChecksPolicy"] is True
    # Only the provider's GitHub App may commit the generated workflow past these rules.
    assert main["bypassActors"] == [{"actorId": 1183467, "actorType": "Integration", "bypassMode": "always"}]
    develop = rulesets["develop: checked"]
    assert develop["conditions"]["refName"]["includes"] == ["refs/heads/develop"]
    assert [c["context"] for c in develop["rules"]["requiredStatusChecks"]["requiredChecks"]] == ["lint", "test", "build"]


def test_default_branch_is_main_and_develop_branches_from_it(plan_of: Callable[..., Plan]) -> None:
    plan = plan_of("production")
    [default] = plan.of_type("github:index/branchDefault:BranchDefault")
    assert default.inputs["branch"] == "main"
    [develop] = plan.of_type("github:index/branch:Branch")
    assert (develop.inputs["branch"], develop.inputs["sourceBranch"]) == ("develop", "main")


def test_environment_variables_and_secrets_are_scoped_to_the_stacks_environment(plan_of: Callable[..., Plan]) -> None:
    for stack in ("staging", "production"):
        plan = plan_of(stack)
        variables = {v.inputs["variableName"]: v.inputs for v in plan.of_type(ENV_VAR)}
        assert set(variables) == {
            "AWS_REGION", "AWS_DEPLOY_ROLE_ARN", "PULUMI_STACK", "ECR_REPOSITORY", "IMAGE_REPOSITORY_URL",
            "AWS_SESSION_SECONDS", "INFRASTRUCTURE_REF",
        }
        assert {v["environment"] for v in variables.values()} == {stack}
        assert variables["PULUMI_STACK"]["value"] == stack
        # The infrastructure branch the deploy job checks out is the one Pulumi Deployments runs the stack from.
        assert variables["INFRASTRUCTURE_REF"]["value"] == {"staging": "develop", "production": "main"}[stack]
        assert variables["AWS_DEPLOY_ROLE_ARN"]["value"] == f"arn:aws:iam::123456789012:role/webapp-{stack}-deploy"
        assert variables["IMAGE_REPOSITORY_URL"]["value"] == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/webapp"
        secrets = {s.inputs["secretName"]: s.inputs for s in plan.of_type(ENV_SECRET)}
        assert set(secrets) == {"PULUMI_ACCESS_TOKEN", "INFRASTRUCTURE_READ_TOKEN"}
        assert {s["environment"] for s in secrets.values()} == {stack}
        assert {s["value"] for s in secrets.values()} == {SECRET}
    # Repository-wide variables are only what the build (outside any environment) needs.
    repo_vars = {v.inputs["variableName"] for v in plan_of("production").of_type(REPO_VAR)}
    assert repo_vars == {"AWS_REGION", "AWS_BUILD_ROLE_ARN", "ECR_REPOSITORY"}


def test_adopting_the_repository_resets_nothing_it_was_not_asked_to(plan_of: Callable[..., Plan]) -> None:
    import inspect

    import pulumi_github

    from components.config.delivery import RESETTABLE_REPOSITORY_SETTINGS

    # Every input of the provider's Repository is one of: reset when unset (listed), kept when unset (computed
    # by the provider), set by the program on purpose, or only read at creation (the repository is imported).
    kept = {"allow_forking", "default_branch", "etag", "fork", "private", "security_and_analysis", "source_owner",
            "source_repo", "visibility", "vulnerability_alerts", "ignore_vulnerability_alerts_during_read"}
    set_here = {"name", "delete_branch_on_merge", "vulnerability_alerts", "archive_on_destroy", "archived"}
    creation_only = {"auto_init", "gitignore_template", "license_template", "template"}
    parameters = inspect.signature(pulumi_github.Repository._internal_init).parameters
    camel = {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), p) for p in parameters
             if p not in {"__self__", "resource_name", "opts", "__props__"}}
    accounted = {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), p) for p in kept | set_here | creation_only}
    assert camel - accounted == set(RESETTABLE_REPOSITORY_SETTINGS), "classify every new input of github.Repository"
    [repository] = plan_of("production").of_type("github:index/repository:Repository")
    # None is given in the stack files: every one is left as it is on GitHub.
    assert set(repository.ignore_changes) == set(RESETTABLE_REPOSITORY_SETTINGS)
    assert {"hasIssues", "hasWiki", "hasProjects", "description", "homepageUrl", "topics"} <= set(repository.ignore_changes)
    assert not set(repository.inputs) & set(RESETTABLE_REPOSITORY_SETTINGS)


def test_a_repository_setting_given_in_config_is_managed_and_no_longer_ignored(plan_of: Callable[..., Plan]) -> None:
    plan = plan_of("production", 'delivery:repositorySettings={"hasWiki": false, "topics": ["web", "release"], "description": "Web app"}')
    [repository] = plan.of_type("github:index/repository:Repository")
    assert (repository.inputs["hasWiki"], repository.inputs["topics"], repository.inputs["description"]) == (
        False, ["web", "release"], "Web app")
    assert not {"hasWiki", "topics", "description"} & set(repository.ignore_changes)
    assert "hasIssues" in repository.ignore_changes


def test_a_topic_github_would_refuse_is_a_config_problem(config_problems) -> None:  # noqa: ANN001
    problems = config_problems("production", 'delivery:repositorySettings={"topics": ["Web App"]}')
    assert any(p.startswith('delivery:repositorySettings.topics[0]: got "Web App"') for p in problems), problems
