"""The application's GitHub repository as code: its governance and its deployment environments.

``RepositoryGovernance`` holds the repository-wide objects (the repository's settings,
default and develop branches, branch rules, the workflow file and the build's
variables) and is built by the one stack that owns them. ``DeliveryEnvironment`` is
the stack's own GitHub environment: who may deploy, from which branch, and the
variables and secrets its deploy job reads, all scoped to that environment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_github as github

# The GitHub Actions app: pinning required checks to it stops another app from reporting them.
GITHUB_ACTIONS_APP_ID = 15368


def _refs(refs: Sequence[str]) -> github.RepositoryRulesetConditionsArgs:
    return github.RepositoryRulesetConditionsArgs(ref_name=github.RepositoryRulesetConditionsRefNameArgs(includes=list(refs), excludes=[]))


@dataclass
class RepositoryGovernanceArgs:
    """Inputs of the repository-wide objects."""

    repository_name: str
    """The existing repository's name (its owner is the provider's ``github:owner``)."""
    production_branch: str
    """Default branch; production deploys from it; reviews are required to merge into it."""
    staging_branch: str
    """Created from the production branch when missing; staging deploys from it."""
    required_checks: Sequence[str]
    """Job names that must pass before a merge into either branch."""
    automation_app_id: int
    """The GitHub App the provider runs as: the only actor allowed past the review rules, to commit the workflow."""
    workflow_path: str
    """Where the workflow file is committed."""
    workflow_content: pulumi.Input[str]
    """The rendered workflow."""
    variables: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Repository-wide Actions variables for jobs outside an environment (the build)."""
    settings: Mapping[str, object] = field(default_factory=dict)
    """Repository settings to manage, as ``github.Repository`` keyword arguments."""
    left_alone: Sequence[str] = ()
    """Settings (provider input names) the engine keeps as they are on GitHub."""


class RepositoryGovernance(pulumi.ComponentResource):
    """Branches, branch rules, the committed workflow and the build's variables of the application repository."""

    repository_name: pulumi.Output[str]

    def __init__(self, name: str, args: RepositoryGovernanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:github:RepositoryGovernance", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # The repository exists already and holds the application's history: it is imported, never deleted.
        # Only what config names is managed; every other setting the provider would reset is ignored, so
        # adopting the repository changes nothing else (components/config/delivery.py, RepositorySettings).
        repository = github.Repository(
            f"{name}-repository",
            name=args.repository_name,
            delete_branch_on_merge=True,
            vulnerability_alerts=True,
            archive_on_destroy=True,
            **args.settings,  # type: ignore[call-overload]
            opts=pulumi.ResourceOptions(parent=self, protect=True, ignore_changes=list(args.left_alone)),
        )
        repo = repository.name
        default = github.BranchDefault(f"{name}-default-branch", repository=repo, branch=args.production_branch, opts=child)
        staging = github.Branch(
            f"{name}-staging-branch", repository=repo, branch=args.staging_branch, source_branch=args.production_branch,
            # Deleting the branch would drop unreleased work; a rename in config must be done by hand.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[default], protect=True),
        )
        branches = [args.production_branch, args.staging_branch]
        refs = [f"refs/heads/{b}" for b in branches]
        github.RepositoryRuleset(
            f"{name}-branch-integrity",
            name="branch integrity",
            repository=repo,
            target="branch",
            enforcement="active",
            conditions=_refs(refs),
            # No bypass actors: nobody, the automation included, rewrites or deletes a deploy branch.
            rules=github.RepositoryRulesetRulesArgs(deletion=True, non_fast_forward=True),
            opts=child,
        )
        checks = github.RepositoryRulesetRulesRequiredStatusChecksArgs(
            required_checks=[
                github.RepositoryRulesetRulesRequiredStatusChecksRequiredCheckArgs(context=c, integration_id=GITHUB_ACTIONS_APP_ID)
                for c in args.required_checks
            ],
            strict_required_status_checks_policy=True,
        )
        bypass = [github.RepositoryRulesetBypassActorArgs(actor_id=args.automation_app_id, actor_type="Integration", bypass_mode="always")]
        rulesets = [
            github.RepositoryRuleset(
                f"{name}-production-review",
                name=f"{args.production_branch}: reviewed and checked",
                repository=repo,
                target="branch",
                enforcement="active",
                conditions=_refs(refs[:1]),
                bypass_actors=bypass,
                rules=github.RepositoryRulesetRulesArgs(
                    pull_request=github.RepositoryRulesetRulesPullRequestArgs(
                        required_approving_review_count=1,
                        dismiss_stale_reviews_on_push=True,
                        require_last_push_approval=True,
                        required_review_thread_resolution=True,
                    ),
                    required_status_checks=checks,
                ),
                opts=child,
            ),
            github.RepositoryRuleset(
                f"{name}-staging-checks",
                name=f"{args.staging_branch}: checked",
                repository=repo,
                target="branch",
                enforcement="active",
                conditions=_refs(refs[1:]),
                bypass_actors=bypass,
                rules=github.RepositoryRulesetRulesArgs(
                    pull_request=github.RepositoryRulesetRulesPullRequestArgs(required_approving_review_count=0),
                    required_status_checks=checks,
                ),
                opts=child,
            ),
        ]
        # GitHub runs the workflow file of the pushed commit, so both deploy branches carry it.
        for label, branch, after in (("production", args.production_branch, default), ("staging", args.staging_branch, staging)):
            github.RepositoryFile(
                f"{name}-workflow-{label}",
                repository=repo,
                branch=branch,
                file=args.workflow_path,
                content=args.workflow_content,
                commit_message=f"Update {args.workflow_path} from the release platform",
                overwrite_on_create=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[after, *rulesets]),
            )
        for variable, value in args.variables.items():
            github.ActionsVariable(
                f"{name}-var-{variable.lower().replace('_', '-')}", repository=repo, variable_name=variable, value=value, opts=child,
            )
        self.repository_name = repo
        self.register_outputs({"repository_name": self.repository_name})


@dataclass
class DeliveryEnvironmentArgs:
    """Inputs of one stack's GitHub environment."""

    repository_name: pulumi.Input[str]
    """The application repository's name."""
    environment: str
    """The environment's name; deploy jobs name it and the deploy role's trust names it."""
    branch: str
    """The only branch whose runs may deploy to the environment."""
    reviewers: Sequence[str] = ()
    """``user:<login>`` or ``team:<slug>``: who must approve each deploy; resolved to GitHub ids."""
    wait_timer_minutes: int = 0
    """Minutes a deploy waits after approval."""
    variables: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Actions variables visible only to jobs in this environment."""
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Actions secrets visible only to jobs in this environment; values are secret Outputs."""


class DeliveryEnvironment(pulumi.ComponentResource):
    """A protected GitHub environment with its deployment branch, reviewers, variables and secrets."""

    name: pulumi.Output[str]

    def __init__(self, name: str, args: DeliveryEnvironmentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:github:DeliveryEnvironment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        users: list[pulumi.Output[int]] = []
        teams: list[pulumi.Output[int]] = []
        for reviewer in args.reviewers:
            kind, _, who = reviewer.partition(":")
            if kind == "user":
                users.append(github.get_user_output(username=who, opts=invoke).id.apply(int))
            else:
                teams.append(github.get_team_output(slug=who, summary_only=True, opts=invoke).id.apply(int))
        reviewers = [github.RepositoryEnvironmentReviewerArgs(users=users, teams=teams)] if args.reviewers else []
        environment = github.RepositoryEnvironment(
            f"{name}-environment",
            repository=args.repository_name,
            environment=args.environment,
            reviewers=reviewers,
            wait_timer=args.wait_timer_minutes,
            prevent_self_review=True,
            can_admins_bypass=False,
            # Custom policies (below) rather than "protected branches": exactly one branch, named.
            deployment_branch_policy=github.RepositoryEnvironmentDeploymentBranchPolicyArgs(
                protected_branches=False, custom_branch_policies=True,
            ),
            opts=child,
        )
        scoped = pulumi.ResourceOptions(parent=self, depends_on=[environment])
        github.RepositoryEnvironmentDeploymentPolicy(
            f"{name}-branch-policy",
            repository=args.repository_name,
            environment=environment.environment,
            branch_pattern=args.branch,
            opts=scoped,
        )
        for variable, value in args.variables.items():
            github.ActionsEnvironmentVariable(
                f"{name}-var-{variable.lower().replace('_', '-')}",
                repository=args.repository_name, environment=environment.environment, variable_name=variable, value=value, opts=scoped,
            )
        for secret, value in args.secrets.items():
            github.ActionsEnvironmentSecret(
                f"{name}-secret-{secret.lower().replace('_', '-')}",
                repository=args.repository_name,
                environment=environment.environment,
                secret_name=secret,
                value=pulumi.Output.secret(value),
                opts=scoped,
            )
        self.name = environment.environment
        self.register_outputs({"name": self.name})
