"""Offline models of pulumi-github resources and invokes: what GitHub would answer.

Ids follow the provider's import formats (``repo:branch``, ``repo:environment``),
numeric ids are stable digests, so two evaluations agree on every value.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, invoke, resource
from offline.models.knowledge import replaced_on, review
from offline.workflow_summary import summarise_workflow


def _number(ctx: MockContext, *parts: str) -> int:
    # GitHub's database ids are positive integers of up to nine digits for recent objects.
    return int(ctx.digest(*parts, length=7), 16) % 900_000_000 + 10_000_000


def _node_id(ctx: MockContext, prefix: str, *parts: str) -> str:
    return f"{prefix}_kwDO{ctx.digest(*parts, length=12)}"


def _repo(args: MockResourceArgs) -> str:
    return str(args.inputs.get("repository", ""))


@resource("github:index/repository:Repository")
def _repository(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = str(args.inputs.get("name") or args.name)
    return {
        "id": name,
        "name": name,
        "nodeId": _node_id(ctx, "R", name),
        "repoId": _number(ctx, "repository", name),
        "defaultBranch": "main",
        "visibility": args.inputs.get("visibility") or "private",
        "etag": f'W/"{ctx.digest("etag", name, length=32)}"',
    }


@resource("github:index/branch:Branch")
def _branch(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    branch = str(args.inputs.get("branch", ""))
    return {
        "id": f"{_repo(args)}:{branch}",
        "ref": f"refs/heads/{branch}",
        "sha": ctx.digest("branch", _repo(args), branch, length=40),
        "sourceSha": ctx.digest("branch", _repo(args), "main", length=40),
    }


@resource("github:index/branchDefault:BranchDefault")
def _branch_default(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    return {"id": _repo(args)}


@resource("github:index/repositoryRuleset:RepositoryRuleset")
def _ruleset(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    ruleset_id = _number(ctx, "ruleset", _repo(args), str(args.inputs.get("name", args.name)))
    return {
        "id": str(ruleset_id),
        "rulesetId": ruleset_id,
        "nodeId": _node_id(ctx, "RRS", str(ruleset_id)),
        "etag": f'W/"{ctx.digest("etag", str(ruleset_id), length=32)}"',
    }


@resource("github:index/repositoryEnvironment:RepositoryEnvironment")
def _environment(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    return {"id": f"{_repo(args)}:{args.inputs.get('environment')}"}


@resource("github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy")
def _deployment_policy(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    environment = str(args.inputs.get("environment", ""))
    policy_id = _number(ctx, "policy", _repo(args), environment, str(args.inputs.get("branchPattern")))
    return {"id": f"{_repo(args)}:{environment}:{policy_id}"}


@resource(
    "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
    "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
)
def _environment_value(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    # A variable and a secret are both keyed repository:environment:name; only the name's input differs.
    name = args.inputs.get("variableName", args.inputs.get("secretName"))
    return {
        "id": f"{_repo(args)}:{args.inputs.get('environment')}:{name}",
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
    }


@resource("github:index/actionsVariable:ActionsVariable")
def _variable(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    return {
        "id": f"{_repo(args)}:{args.inputs.get('variableName')}",
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
    }


@resource("github:index/repositoryFile:RepositoryFile")
def _file(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    path = str(args.inputs.get("file", ""))
    branch = str(args.inputs.get("branch") or "main")
    content = str(args.inputs.get("content", ""))
    return {
        "id": f"{_repo(args)}/{path}:{branch}",
        "branch": branch,
        "ref": branch,
        "sha": ctx.digest("blob", content, length=40),
        "commitSha": ctx.digest("commit", _repo(args), path, branch, content, length=40),
    }


@invoke("github:index/getUser:getUser")
def _user(args: dict[str, Any], ctx: MockContext) -> dict[str, Any]:
    login = str(args.get("username", ""))
    return {
        "id": str(_number(ctx, "user", login.lower())),
        "login": login,
        "nodeId": _node_id(ctx, "U", login.lower()),
        "name": login,
        "username": login,
    }


@invoke("github:index/getTeam:getTeam")
def _team(args: dict[str, Any], ctx: MockContext) -> dict[str, Any]:
    slug = str(args.get("slug", ""))
    return {
        "id": str(_number(ctx, "team", slug)),
        "slug": slug,
        "name": slug,
        "nodeId": _node_id(ctx, "T", slug),
        "privacy": "closed",
        "permission": "pull",
    }


@invoke("github:index/getRepository:getRepository")
def _get_repository(args: dict[str, Any], ctx: MockContext) -> dict[str, Any]:
    full_name = str(args.get("fullName") or args.get("name") or "")
    name = full_name.rsplit("/", 1)[-1]
    return {
        "id": name,
        "fullName": full_name,
        "name": name,
        "nodeId": _node_id(ctx, "R", name),
        "repoId": _number(ctx, "repository", name),
        "defaultBranch": "main",
        "visibility": "private",
        "htmlUrl": f"https://github.com/{full_name}",
    }


# What a change to an input replaces (the provider's schema rule, cited) and what a reviewer sees.
replaced_on("github:index/repository:Repository",
    "fork", "sourceOwner", "sourceRepo",
    source="terraform-provider-github github/resource_github_repository.go: CustomizeDiff ForceNewIfChange on fork, source_repo,"
           " source_owner (name renames in place)")
replaced_on("github:index/branch:Branch",
    "repository", "sourceBranch", "sourceSha",
    source="terraform-provider-github github/resource_github_branch.go: repository, source_branch, source_sha ForceNew (branch"
           " renames in place)")
replaced_on("github:index/branchDefault:BranchDefault",
    "repository",
    source="terraform-provider-github github/resource_github_branch_default.go: no ForceNew argument (repository: diffRepository in"
           " github/util_diff.go replaces unless the repository was renamed)")
replaced_on("github:index/repositoryRuleset:RepositoryRuleset",
    source="terraform-provider-github github/resource_github_repository_ruleset.go: no ForceNew argument")
replaced_on("github:index/repositoryEnvironment:RepositoryEnvironment",
    "environment", "repository",
    source="terraform-provider-github github/resource_github_repository_environment.go: environment ForceNew (repository:"
           " diffRepository in github/util_diff.go replaces unless the repository was renamed)")
replaced_on("github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
    "environment", "repository",
    source="terraform-provider-github github/resource_github_repository_environment_deployment_policy.go: environment ForceNew"
           " (repository: diffRepository in github/util_diff.go replaces unless the repository was renamed)")
replaced_on("github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
    "environment", "repository", "variableName",
    source="terraform-provider-github github/resource_github_actions_environment_variable.go: environment, variable_name ForceNew"
           " (repository: diffRepository in github/util_diff.go replaces unless the repository was renamed)")
replaced_on("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
    "environment", "repository", "secretName",
    source="terraform-provider-github github/resource_github_actions_environment_secret.go: environment, secret_name ForceNew"
           " (repository: diffRepository in github/util_diff.go replaces unless the repository was renamed)")
replaced_on("github:index/actionsVariable:ActionsVariable",
    "repository", "variableName",
    source="terraform-provider-github github/resource_github_actions_variable.go: variable_name ForceNew (repository:"
           " diffRepository in github/util_diff.go replaces unless the repository was renamed)")
replaced_on("github:index/repositoryFile:RepositoryFile",
    "branch", "file", "repository",
    source="terraform-provider-github github/resource_github_repository_file.go: file, branch ForceNew (repository: diffRepository"
           " in github/util_diff.go replaces unless the repository was renamed)")
review("github:index/repositoryRuleset:RepositoryRuleset", "name", "conditions.refName.includes")
review("github:index/repositoryEnvironment:RepositoryEnvironment", "environment", "waitTimer", "preventSelfReview", "canAdminsBypass")
review("github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy", "environment", "branchPattern")
review("github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable", "variableName", "value")
review("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret", "secretName")
review("github:index/repositoryFile:RepositoryFile", summary=summarise_workflow, text="content")
