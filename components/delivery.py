"""The application's delivery, assembled: image repository, OIDC roles, repository governance, environment.

The stack named by ``delivery:repositoryOwnerStack`` builds the repository-wide
objects (ECR, the build role, branch rules, the workflow file); every stack builds its
own deploy role and GitHub environment, and a stack that does not own the shared
objects looks them up, so it fails early when the owner has not been deployed yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_github as github

from components.config.delivery import DeliveryConfig
from components.github import DeliveryEnvironment, DeliveryEnvironmentArgs, RepositoryGovernance, RepositoryGovernanceArgs
from components.oidc import SHARED, Boundary, GitHubOidc, GitHubOidcArgs
from components.pipeline import HEADER, REQUIRED_CHECKS, WORKFLOW_PATH, PipelineSettings, pipeline
from components.registry import ImageRegistry, ImageRegistryArgs


def _required(value: int | None, key: str) -> int:
    # The config model refuses an owner stack without it; this only narrows the type.
    if value is None:
        message = f"{key} is required in the repository owner stack"
        raise ValueError(message)
    return value


@dataclass
class DeliveryArgs:
    """Inputs of the delivery of one stack."""

    stack: str
    """This stack's name: the deploy job passes it to the release driver."""
    environment: str
    """``staging`` or ``production``: the GitHub environment and the deploy branch this stack owns."""
    region: str
    """AWS region of the stack and of the image repository."""
    app_name: str
    """Application name, used in role and image repository names."""
    settings: DeliveryConfig
    """The validated ``delivery`` namespace."""
    secrets: Mapping[str, pulumi.Input[str]]
    """Environment secrets by GitHub secret name, as secret Outputs."""
    session_seconds: int = 3600
    """How long the deploy job's AWS session lasts: the whole release (components/config/session.py)."""
    other_environments: tuple[str, ...] = ()
    """The application's other environments: the deploy role's boundary keeps it off their resources."""
    infrastructure_ref: str = "main"
    """The infrastructure repository's branch this stack is deployed from (Pulumi Deployments' branch)."""
    permissions_boundary_arn: pulumi.Input[str] | None = None
    """The stack's permissions boundary policy (from the environment): roles created here carry it."""
    oidc_providers: tuple[str, ...] = ()
    """ARN patterns of the OIDC providers this stack creates: the only ones its deploy role may change."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags of every AWS resource."""


class Delivery(pulumi.ComponentResource):
    """Everything that gets a commit of the application from GitHub into this stack's environment."""

    image_repository_url: pulumi.Output[str]
    deploy_role_arn: pulumi.Output[str]
    workflow_path: str

    def __init__(self, name: str, args: DeliveryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:delivery:Delivery", name, None, opts)
        settings = args.settings
        owner = settings.owns_repository_objects(args.stack)
        image_name = settings.image_repository or args.app_name
        invoke = pulumi.InvokeOutputOptions(parent=self)
        branch = settings.branches.production if args.environment == "production" else settings.branches.staging

        registry: ImageRegistry | None = None
        if owner:
            registry = ImageRegistry(
                # Every environment deploys from it: tagged shared, so no environment's boundary shuts the others out.
                f"{name}-images",
                ImageRegistryArgs(repository_name=image_name, keep_releases=settings.keep_releases,
                                  keep_images=settings.keep_images, tags={**args.tags, "environment": SHARED}),
                opts=pulumi.ResourceOptions(parent=self),
            )
            image_url, image_arn = registry.repository_url, registry.arn
        else:
            found = aws.ecr.get_repository_output(name=image_name, opts=invoke)
            image_url, image_arn = found.repository_url, found.arn

        deploy_role_name = f"{args.app_name}-{args.environment}-deploy"
        oidc = GitHubOidc(f"{name}-oidc", GitHubOidcArgs(
            create_provider=settings.oidc_mode(args.stack).value == "create",
            repository=settings.application_repository,
            environment=args.environment,
            deploy_role_name=deploy_role_name,
            build_role_name=f"{args.app_name}-image-build" if owner else None,
            build_branches=(settings.branches.production, settings.branches.staging),
            image_repository_arn=image_arn,
            max_session_seconds=args.session_seconds,
            boundary=Boundary(
                name=f"{deploy_role_name}-boundary", app_name=args.app_name, environment=args.environment,
                others=args.other_environments, own_roles=(deploy_role_name,), owns_shared=owner,
            ),
            permissions_boundary_arn=args.permissions_boundary_arn,
            name_prefix=args.app_name,
            oidc_providers=args.oidc_providers,
            tags=args.tags,
        ), opts=pulumi.ResourceOptions(parent=self))

        if registry is not None and oidc.build_role_arn is not None:
            workflow = pipeline(PipelineSettings(
                node_version=settings.node_version,
                staging_branch=settings.branches.staging,
                production_branch=settings.branches.production,
                infrastructure_repository=settings.infrastructure_repository,
            ))
            governance = RepositoryGovernance(f"{name}-repository", RepositoryGovernanceArgs(
                repository_name=settings.repository_name,
                production_branch=settings.branches.production,
                staging_branch=settings.branches.staging,
                required_checks=REQUIRED_CHECKS,
                automation_app_id=_required(settings.automation_app_id, "delivery:automationAppId"),
                workflow_path=WORKFLOW_PATH,
                workflow_content=workflow.render(HEADER),
                variables={"AWS_REGION": args.region, "AWS_BUILD_ROLE_ARN": oidc.build_role_arn, "ECR_REPOSITORY": registry.name},
                settings=settings.repository_settings.arguments(),
                left_alone=settings.repository_settings.left_alone(),
            ), opts=pulumi.ResourceOptions(parent=self))
            repository_name: pulumi.Input[str] = governance.repository_name
        else:
            repository_name = github.get_repository_output(full_name=settings.application_repository, opts=invoke).name

        DeliveryEnvironment(f"{name}-{args.environment}", DeliveryEnvironmentArgs(
            repository_name=repository_name,
            environment=args.environment,
            branch=branch,
            reviewers=settings.reviewers,
            wait_timer_minutes=settings.wait_timer_minutes,
            variables={
                "AWS_REGION": args.region,
                "AWS_DEPLOY_ROLE_ARN": oidc.deploy_role_arn,
                "PULUMI_STACK": args.stack,
                "ECR_REPOSITORY": image_name,
                "IMAGE_REPOSITORY_URL": image_url,
                "AWS_SESSION_SECONDS": str(args.session_seconds),
                "INFRASTRUCTURE_REF": args.infrastructure_ref,
            },
            secrets=args.secrets,
        ), opts=pulumi.ResourceOptions(parent=self))

        self.image_repository_url = image_url
        self.deploy_role_arn = oidc.deploy_role_arn
        self.workflow_path = WORKFLOW_PATH
        self.register_outputs({"image_repository_url": self.image_repository_url, "deploy_role_arn": self.deploy_role_arn})
