"""Pulumi Deployments for this stack: update on push, detect drift, notify; never a pull request's code.

Built on pulumi-pulumiservice 1.5. Values the service cannot check here come
from the provider's schema (``pulumi_pulumiservice/_inputs.py``, ``_enums.py``)
and Pulumi's Deployments docs; each is noted where it is used.

Approvals: the provider's ``ApprovalRule`` and ``api.Gate`` target Pulumi ESC
environments only (the change-gate target's ``entityType`` allows
``environment``), so production updates are gated by the GitHub environment of
the release workflow instead (docs/deployments.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_pulumiservice as ps

from components.config import Environment, StackConfig
from components.config.deployments import OidcProvider
from components.deployments_oidc import DeploymentsOidc, DeploymentsOidcArgs, owned_oidc_providers
from components.oidc import Boundary

# The Python runtime's own install step is skipped (skip_install_dependencies) and
# replaced by these, so a deployment runs with exactly requirements.txt in the
# .venv that Pulumi.yaml names.
PRE_RUN_COMMANDS = (
    "python3 -m venv .venv",
    ".venv/bin/python -m pip install --quiet --requirement requirements.txt",
    # The AWS profile for this operation: the role its token's operation is trusted for.
    ".venv/bin/python -m tools.deployments_credentials",
)

# What a person must hear about (WebhookFilters enum): failures and drift, not every success.
BASE_FILTERS = ("update_failed", "deployment_failed", "drift_detected", "drift_detection_failed")
REMEDIATION_FILTERS = ("drift_remediation_failed",)


def webhook_filters(remediate_drift: bool) -> list[str]:
    """The events the notification webhook is sent for."""
    return [*BASE_FILTERS, *(REMEDIATION_FILTERS if remediate_drift else ())]


@dataclass
class DeploymentsArgs:
    """Inputs of a stack's Pulumi Deployments."""

    organization: str
    """Pulumi Cloud organisation owning the stack."""
    project: str
    """Pulumi project name."""
    stack: str
    """Pulumi stack name."""
    repository: str
    """GitHub repository of the program, ``owner/name``."""
    branch: str
    """Branch whose pushes update the stack."""
    directory: str
    """Folder of ``Pulumi.yaml`` in the repository; empty for the root."""
    path_filters: Sequence[str]
    """Path filters of push-to-deploy; ``!`` excludes."""
    drift_schedule: str
    """Five-field cron (UTC) of drift detection."""
    remediate_drift: bool
    """Whether detected drift is reverted by an update."""
    webhook_format: str
    """Provider webhook format: ``slack`` or ``ms_teams``."""
    webhook_url: pulumi.Input[str]
    """Incoming-webhook URL (secret)."""
    role_name: str
    """Physical name of the IAM role deployment updates assume."""
    preview_role_name: str
    """Physical name of the read-only IAM role deployment previews assume."""
    boundary: Boundary | None = None
    """Permissions boundary of both roles."""
    create_oidc_provider: bool = True
    """Create the account's Pulumi OIDC provider rather than look the existing one up."""
    policy_arns: Sequence[str] = ()
    """Managed policies of the deployment role."""
    workload_boundary_arn: pulumi.Input[str] | None = None
    """The stack's workload boundary: roles the deployment role creates or changes carry it."""
    name_prefix: str = ""
    """The app's name prefix: the deployment role's IAM writes reach only roles named ``<prefix>-*``."""
    environment: str = ""
    """The stack's environment."""
    oidc_providers: tuple[str, ...] = ()
    """ARN patterns of the OIDC providers this stack creates."""
    session_duration: str = "1h0m0s"
    """Assumed-role session length in ``XhYmZs``."""
    session_seconds: int = 3600
    """The same length in seconds: the role's maximum session."""
    stack_tags: Mapping[str, str] = field(default_factory=dict)
    """Pulumi Cloud stack tags (name -> value)."""
    aws_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the AWS resources."""


class PulumiDeployments(pulumi.ComponentResource):
    """Deployment settings, OIDC trust, drift schedule, notification webhook and stack tags of one stack."""

    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DeploymentsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:deployments:PulumiDeployments", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        oidc = DeploymentsOidc(f"{name}-aws-oidc", DeploymentsOidcArgs(
            organization=args.organization,
            project=args.project,
            stack=args.stack,
            role_name=args.role_name,
            preview_role_name=args.preview_role_name,
            boundary=args.boundary,
            create_provider=args.create_oidc_provider,
            policy_arns=args.policy_arns,
            workload_boundary_arn=args.workload_boundary_arn,
            name_prefix=args.name_prefix,
            environment=args.environment,
            oidc_providers=args.oidc_providers,
            max_session_seconds=args.session_seconds,
            tags=args.aws_tags,
        ), opts=child)
        self.role_arn = oidc.role_arn

        settings = ps.DeploymentSettings(
            f"{name}-settings",
            organization=args.organization,
            project=args.project,
            stack=args.stack,
            # `vcs` with provider "github" replaces the deprecated `github` block; with a VCS
            # integration the repository URL and credentials come from the GitHub app, so the
            # git source only names the branch and folder.
            vcs=ps.DeploymentSettingsVcsArgs(
                provider="github",
                repository=args.repository,
                deploy_commits=True,
                # A pull request's preview runs the pull request's own, unreviewed program with the stack's config
                # resolved, every imported ESC environment included (the secrets: the GitHub App's key, the deploy
                # jobs' Pulumi token, the Redis token...). So Deployments runs only what a branch holds; a pull
                # request is previewed offline by the repository's CI, with no credential (docs/deployments.md).
                preview_pull_requests=False,
                pull_request_template=False,
                paths=list(args.path_filters),
            ),
            source_context=ps.DeploymentSettingsSourceContextArgs(
                git=ps.DeploymentSettingsGitSourceArgs(branch=args.branch, repo_dir=args.directory or None),
            ),
            operation_context=ps.DeploymentSettingsOperationContextArgs(
                pre_run_commands=list(PRE_RUN_COMMANDS),
                # No `oidc` block: it names one role for every operation. The token Pulumi Cloud mounts for each
                # deployment (/mnt/pulumi/pulumi.oidc) is exchanged by the AWS SDK itself for the role the
                # operation is trusted for; these name the two roles, the trust policies decide.
                environment_variables={
                    "PULUMI_DEPLOY_ROLE_ARN": oidc.role_arn,
                    "PULUMI_PREVIEW_ROLE_ARN": oidc.preview_role_arn,
                    "PULUMI_ROLE_SESSION_NAME": f"pulumi-deployments-{args.stack}",
                    "PULUMI_ROLE_SESSION_SECONDS": str(args.session_seconds),
                },
                options=ps.OperationContextOptionsArgs(
                    skip_install_dependencies=True,
                    # A burst of merges runs one update with the last commit, not one per commit.
                    skip_intermediate_deployments=True,
                ),
            ),
            cache_options=ps.DeploymentSettingsCacheOptionsArgs(enable=True),
            opts=child,
        )

        # The service refuses a schedule on a stack without deployment settings.
        schedule = ps.DriftSchedule(
            f"{name}-drift",
            organization=args.organization,
            project=args.project,
            stack=args.stack,
            schedule_cron=args.drift_schedule,
            auto_remediate=args.remediate_drift,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[settings]),
        )

        webhook = ps.Webhook(
            f"{name}-notify",
            organization_name=args.organization,
            project_name=args.project,
            stack_name=args.stack,
            display_name=f"{args.project}/{args.stack} failures and drift",
            payload_url=args.webhook_url,
            # The provider's enums: a misspelt format or event fails here, not at the service.
            format=ps.WebhookFormat(args.webhook_format),
            filters=[ps.WebhookFilters(event) for event in webhook_filters(args.remediate_drift)],
            active=True,
            opts=child,
        )

        for tag, value in sorted(args.stack_tags.items()):
            ps.StackTag(
                f"{name}-tag-{tag}",
                organization=args.organization, project=args.project, stack=args.stack, name=tag, value=value, opts=child,
            )

        self.register_outputs({
            "role_arn": self.role_arn,
            "settings": settings.id,
            "drift_schedule": schedule.schedule_id,
            "webhook": webhook.name,
        })


def deployments_args(config: StackConfig, project: str, webhook_url: pulumi.Input[str],
                     workload_boundary_arn: pulumi.Input[str] | None = None) -> DeploymentsArgs:
    """The component's inputs from the validated stack config of an enabled ``deployments`` namespace."""
    dep = config.deployments
    if dep.organization is None or dep.repository is None:
        # The config model refuses this combination; kept as a guard for direct callers.
        message = "deployments:organization and deployments:repository are required when deployments are enabled"
        raise ValueError(message)
    platform = config.platform
    role_prefix = f"{platform.app_name}-{config.environment.value}"
    return DeploymentsArgs(
        organization=dep.organization,
        project=project,
        stack=config.stack,
        repository=dep.repository,
        branch=dep.branch,
        directory=dep.directory,
        path_filters=dep.path_filters,
        drift_schedule=dep.drift_schedule,
        remediate_drift=dep.remediate_drift,
        webhook_format=dep.webhook_format.provider_value,
        webhook_url=webhook_url,
        role_name=f"{role_prefix}-pulumi-deployments",
        preview_role_name=f"{role_prefix}-pulumi-preview",
        boundary=Boundary(
            name=f"{role_prefix}-pulumi-deployments-boundary", app_name=platform.app_name, environment=config.environment.value,
            others=tuple(e.value for e in Environment if e is not config.environment),
            own_roles=(f"{role_prefix}-pulumi-deployments", f"{role_prefix}-pulumi-preview"),
            owns_shared=config.delivery.owns_repository_objects(config.stack),
        ),
        create_oidc_provider=dep.oidc_provider is OidcProvider.CREATE,
        policy_arns=dep.role_policy_arns,
        workload_boundary_arn=workload_boundary_arn,
        name_prefix=platform.app_name,
        environment=config.environment.value,
        oidc_providers=owned_oidc_providers(config),
        session_duration=dep.session_duration,
        session_seconds=dep.session_minutes * 60,
        stack_tags={"environment": config.environment.value, "owner": platform.owner, "repository": dep.repository},
        aws_tags={**platform.tags, "environment": config.environment.value, "owner": platform.owner},
    )
