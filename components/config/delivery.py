"""The ``delivery`` namespace: the application's GitHub repository, its pipeline and its way into AWS.

Not ``github``: that namespace belongs to the pulumi-github provider (``github:owner``,
``github:token``). Each stack owns its own GitHub environment and deploy role; the
repository-wide objects (branch rules, the workflow file, the image repository, the
build role) belong to exactly one stack, named identically in every stack file by
``delivery:repositoryOwnerStack``, so two stacks never fight over one resource.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, field_validator, model_validator

from components.config.base import MISSING, ConfigError, ConfigModel, Problem, cross_field

# GitHub logins: letters, digits and single dashes, 39 characters at most, no dash at either end.
_LOGIN = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
_REPOSITORY_NAME = r"[A-Za-z0-9._-]{1,100}"
_TEAM_SLUG = r"[a-z0-9](?:[a-z0-9_-]{0,98}[a-z0-9])?"
# GitHub's limit on required reviewers of one environment.
MAX_REVIEWERS = 6
# GitHub's limit on an environment's wait timer: 30 days.
MAX_WAIT_MINUTES = 43_200


def _repository(value: str) -> str:
    match = re.fullmatch(f"({_LOGIN})/({_REPOSITORY_NAME})", value)
    if not match or match.group(2) in {".", ".."} or match.group(2).endswith(".git"):
        message = "expected owner/name, e.g. acme/webapp (owner: a GitHub login or organisation; name: letters, digits, . _ -)"
        raise ValueError(message)
    return value


Repository = Annotated[str, AfterValidator(_repository)]


def branch_problem(name: str) -> str | None:
    """Why GitHub (git's ref-name rules) would refuse this branch name, or None when it is fine.

    Deploy branches are exact names: the workflow compares ``github.ref`` with them,
    so glob characters are refused too.
    """
    if not name:
        return "a branch name cannot be empty"
    if name.startswith("refs/"):
        return "give the short branch name (main), not the full ref"
    if re.search(r"[\x00-\x20\x7f~^:?*\[\\]", name):
        return "branch names cannot contain spaces, control characters or any of ~ ^ : ? * [ \\"
    if ".." in name or "@{" in name or "//" in name:
        return "branch names cannot contain '..', '@{' or '//'"
    if name == "@" or name.startswith(("-", "/")) or name.endswith(("/", ".", ".lock")):
        return "branch names cannot be '@', start with '-' or '/', or end with '/', '.' or '.lock'"
    if any(part.startswith(".") for part in name.split("/")):
        return "no part of a branch name may start with '.'"
    return None


def _branch(value: str) -> str:
    problem = branch_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Branch = Annotated[str, AfterValidator(_branch)]


def _reviewer(value: str) -> str:
    kind, sep, who = value.partition(":")
    if sep and kind == "user" and re.fullmatch(_LOGIN, who):
        return value
    if sep and kind == "team" and re.fullmatch(_TEAM_SLUG, who):
        return value
    message = "a reviewer is user:<login> (a GitHub username) or team:<slug> (a team of the repository's organisation)"
    raise ValueError(message)


Reviewer = Annotated[str, AfterValidator(_reviewer)]
# ECR's repository-name grammar, without namespaces: the pipeline pushes one image.
ImageRepository = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$", max_length=256)]
NodeVersion = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]?(\.[0-9]+){0,2}$")]
StackName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,100}$")]


class OidcProviderMode(StrEnum):
    """Whether this stack creates the account's GitHub OIDC provider or looks it up."""

    CREATE = "create"
    EXISTING = "existing"


# The provider's topic rule (terraform-provider-github, resource_github_repository.go, "topics").
Topic = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,49}$")]

# Settings the provider sends on every update of a repository, reset to its default (false, empty or the
# schema's Default) when not given: Optional and not Computed in terraform-provider-github's
# resource_github_repository.go (resourceGithubRepositoryObject builds the PATCH from them). Pulumi names.
RESETTABLE_REPOSITORY_SETTINGS = (
    "allowAutoMerge", "allowMergeCommit", "allowRebaseMerge", "allowSquashMerge", "allowUpdateBranch", "description",
    "hasDiscussions", "hasDownloads", "hasIssues", "hasProjects", "hasWiki", "homepageUrl", "isTemplate",
    "mergeCommitMessage", "mergeCommitTitle", "pages", "squashMergeCommitMessage", "squashMergeCommitTitle",
    "topics", "webCommitSignoffRequired",
)


class RepositorySettings(ConfigModel):
    """Settings of the existing application repository; each one unset is left as it is on GitHub."""

    description: str | None = None
    """The repository's description. Default: unchanged."""
    homepage_url: str | None = None
    """URL of the project's page. Default: unchanged."""
    topics: tuple[Topic, ...] | None = None
    """Topics: lowercase letters, digits and dashes, 50 characters at most each. Default: unchanged."""
    has_issues: bool | None = None
    """GitHub Issues on or off. Default: unchanged."""
    has_wiki: bool | None = None
    """The wiki on or off. Default: unchanged."""
    has_projects: bool | None = None
    """Repository projects on or off. Default: unchanged."""
    has_discussions: bool | None = None
    """Discussions on or off. Default: unchanged."""
    allow_merge_commit: bool | None = None
    """Merge commits allowed. Default: unchanged."""
    allow_squash_merge: bool | None = None
    """Squash merges allowed. Default: unchanged."""
    allow_rebase_merge: bool | None = None
    """Rebase merges allowed. Default: unchanged."""
    allow_auto_merge: bool | None = None
    """Auto-merge allowed. Default: unchanged."""

    def managed(self) -> dict[str, Any]:
        """The settings given, by the provider's input name (camelCase)."""
        return {type(self).model_fields[name].alias or name: value for name, value in self if value is not None}

    def arguments(self) -> dict[str, Any]:
        """The settings given, as ``github.Repository`` keyword arguments."""
        return {name: list(value) if isinstance(value, tuple) else value for name, value in self if value is not None}

    def left_alone(self) -> list[str]:
        """Every setting the provider would reset that is not given: the engine keeps GitHub's value."""
        given = self.managed()
        return [name for name in RESETTABLE_REPOSITORY_SETTINGS if name not in given]


class Branches(ConfigModel):
    """The branch each environment deploys from."""

    staging: Branch = "develop"
    """Branch whose pushes deploy to staging. Default ``develop``."""
    production: Branch = "main"
    """Branch whose pushes deploy to production; also the repository's default branch. Default ``main``."""


class DeliveryConfig(ConfigModel):
    """The ``delivery`` namespace."""

    application_repository: Repository
    """The application's existing GitHub repository, ``owner/name``. Required."""
    infrastructure_repository: Repository
    """This repository, ``owner/name``: the deploy jobs check it out and run the release driver. Required."""
    repository_owner_stack: StackName
    """The one stack that owns branch rules, the workflow file, the image repository and the build role.
    Must be identical in every stack file. Required."""
    reviewers: tuple[Reviewer, ...] = ()
    """Who approves a deploy to this stack's environment: ``user:<login>`` or ``team:<slug>``, at most 6.
    Required (at least one) in production. Default none."""
    wait_timer_minutes: int = Field(default=0, ge=0, le=MAX_WAIT_MINUTES)
    """Minutes a deploy to this environment waits after approval before it starts, 0-43200. Default 0."""
    node_version: NodeVersion = "22"
    """Node.js version of the lint, test and build jobs, e.g. ``22`` or ``22.11``. Default ``22``."""
    branches: Branches = Field(default_factory=Branches)
    """``{staging: develop, production: main}``: the branch each environment deploys from. Default as shown."""
    oidc_provider: OidcProviderMode | None = None
    """``create`` the account's GitHub OIDC provider or use the ``existing`` one. Default: ``create`` in
    the repository owner stack, ``existing`` elsewhere (one provider per account)."""
    image_repository: ImageRepository | None = None
    """Name of the ECR repository of the application image. Default: ``platform:appName``."""
    automation_app_id: int | None = Field(default=None, ge=1)
    """Id of the GitHub App the provider authenticates as: the only actor that may commit the workflow
    file straight to the protected branches. Required in the repository owner stack. Default none."""
    keep_releases: int = Field(default=50, ge=3, le=10_000)
    """How many releases of each stack keep their image in ECR, 3-10000: the live colour's, the standby's and
    those a ``rollback --to-version`` may return to. Older released images expire. Default 50."""
    keep_images: int = Field(default=200, ge=10, le=10_000)
    """How many images never released the ECR lifecycle policy keeps (older ones expire), 10-10000. Default 200."""
    repository_settings: RepositorySettings = Field(default_factory=RepositorySettings)
    """Settings of the application repository to manage, e.g. ``{hasWiki: false}``; every one not given is
    left as it is on GitHub (imported, never reset). Default none."""

    @field_validator("reviewers")
    @classmethod
    def _at_most_six(cls, reviewers: tuple[str, ...]) -> tuple[str, ...]:
        if len(reviewers) > MAX_REVIEWERS:
            cross_field([Problem("", list(reviewers), f"GitHub allows at most {MAX_REVIEWERS} reviewers per environment")])
        return reviewers

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> DeliveryConfig:
        context: Mapping[str, Any] = info.context or {}
        problems: list[Problem] = []
        if context.get("environment") == "production" and not self.reviewers:
            problems.append(Problem(
                "reviewers", list(self.reviewers),
                "production deploys need at least one approver: e.g. [\"team:release-approvers\"] or [\"user:<login>\"]",
            ))
        if self.owns_repository_objects(str(context.get("stack", ""))) and self.automation_app_id is None:
            problems.append(Problem(
                "automationAppId", MISSING,
                "this stack owns the repository-wide objects and commits the workflow file straight to the "
                "protected branches, which only a ruleset bypass actor may do: set the id of the GitHub App "
                "the github provider authenticates as",
            ))
        if self.branches.staging == self.branches.production:
            problems.append(Problem(
                "branches.staging", self.branches.staging,
                "staging and production must deploy from different branches (production's is branches.production)",
            ))
        cross_field(problems)
        return self

    @property
    def owner(self) -> str:
        """The GitHub owner (organisation or user) of the application repository."""
        return self.application_repository.split("/", 1)[0]

    @property
    def repository_name(self) -> str:
        """The application repository's name without its owner."""
        return self.application_repository.split("/", 1)[1]

    def owns_repository_objects(self, stack: str) -> bool:
        """Whether the given stack manages the repository-wide objects."""
        return self.repository_owner_stack == stack

    def oidc_mode(self, stack: str) -> OidcProviderMode:
        """How the given stack gets the account's GitHub OIDC provider."""
        if self.oidc_provider is not None:
            return self.oidc_provider
        return OidcProviderMode.CREATE if self.owns_repository_objects(stack) else OidcProviderMode.EXISTING


OWNER_KEY = "delivery:repositoryOwnerStack"


def ownership_problems(owner_by_stack: Mapping[str, str | None]) -> list[Problem]:
    """Problems with who owns the repository-wide objects, given each stack file's ``repositoryOwnerStack``.

    The program sees one stack's config at a time, so this runs over all stack files
    (in the tests and the validators): every file must name the same, existing stack.
    """
    problems: list[Problem] = []
    stacks = sorted(owner_by_stack)
    named = {value for value in owner_by_stack.values() if value}
    for stack in stacks:
        value = owner_by_stack[stack]
        if not value:
            problems.append(Problem(f"{OWNER_KEY} (Pulumi.{stack}.yaml)", MISSING, f"set it to one of {', '.join(stacks)}"))
        elif value not in owner_by_stack:
            problems.append(Problem(f"{OWNER_KEY} (Pulumi.{stack}.yaml)", value, f"name a stack that exists: one of {', '.join(stacks)}"))
    if len(named) > 1:
        claims = ", ".join(f"Pulumi.{s}.yaml says {owner_by_stack[s]}" for s in stacks if owner_by_stack[s])
        problems.append(Problem(
            OWNER_KEY, sorted(named),
            f"stacks disagree ({claims}): two stacks would both manage the branch rules, the workflow file and "
            "the image repository; set the same stack in every file",
        ))
    return problems


def check_provider_owner(provider_owner: str | None, delivery: DeliveryConfig) -> None:
    """Refuse a ``github:owner`` that is not the application repository's owner.

    The provider resolves every repository name against ``github:owner``; a mismatch
    would govern a repository of the same name under another account.
    """
    if provider_owner != delivery.owner:
        raise ConfigError([Problem(
            "github:owner", provider_owner if provider_owner is not None else MISSING,
            f"must be {delivery.owner!r}, the owner of delivery:applicationRepository ({delivery.application_repository})",
        )])
