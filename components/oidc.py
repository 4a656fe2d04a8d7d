"""GitHub Actions' way into AWS: the account's OIDC provider and the roles workflows assume.

No long-lived AWS key exists anywhere: a job asks GitHub for a token and exchanges it
for a role whose trust policy pins the audience to STS and the subject to exactly one
place. The deploy role of an environment trusts only jobs running in that GitHub
environment (``repo:<owner>/<repo>:environment:<env>``), so the environment's
reviewers and branch policy guard the role too. The build role trusts only pushes to
the deploy branches, never pull requests.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.iam_boundary import ANY_IAM_WRITE, POLICY_WRITES, Delegation, boundaries, environment_denies, privileged_roles

ISSUER = "token.actions.githubusercontent.com"
ISSUER_URL = f"https://{ISSUER}"
AUDIENCE = "sts.amazonaws.com"
# Pulumi manages everything a stack owns, so a deploy needs broad rights; the trust policy, the
# environment's reviewers and its branch policy are what keep those rights for the right runs. PowerUserAccess
# leaves IAM out; what the stack needs of IAM comes back bounded (components/iam_boundary.py).
DEPLOY_MANAGED_POLICY = "arn:aws:iam::aws:policy/PowerUserAccess"
# What IAM calls a write to an identity: the boundary keeps these off other environments and off the
# role's own rights (IAM action names: the Service Authorization Reference, "Actions defined by AWS Identity
# and Access Management").
IAM_WRITE_ACTIONS = (
    "iam:Add*", "iam:Attach*", "iam:Create*", "iam:Delete*", "iam:Detach*", "iam:PassRole", "iam:Put*",
    "iam:Remove*", "iam:SetDefaultPolicyVersion", "iam:Tag*", "iam:Untag*", "iam:Update*",
)
# What a stack that does not own the shared objects (the image repository, the account's OIDC providers) may
# do to them: read them and add image tags.
SHARED_READ_ACTIONS = (
    "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:DescribeImageScanFindings", "ecr:DescribeImages",
    "ecr:DescribeRepositories", "ecr:GetDownloadUrlForLayer", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy",
    "ecr:ListImages", "ecr:ListTagsForResource", "ecr:PutImage",
    "iam:GetOpenIDConnectProvider", "iam:ListOpenIDConnectProviderTags",
)
# The AWS services a stack's update and a release touch, by the pulumi-aws module that manages them (the
# module is the part of a type token before the slash, e.g. aws:lb/listener:Listener). IAM's service prefixes:
# the Service Authorization Reference. The boundary allows these services and no other.
SERVICES_OF_MODULE = {
    "appautoscaling": ("application-autoscaling",),
    "cloudwatch": ("cloudwatch", "events", "logs"),
    "ec2": ("ec2",),
    "ecr": ("ecr",),
    "ecs": ("ecs",),
    "elasticache": ("elasticache",),
    "iam": ("iam",),
    "kms": ("kms",),
    "lb": ("elasticloadbalancing",),
    "rds": ("rds",),
    "route53": ("route53",),
    "s3": ("s3",),
    "secretsmanager": ("secretsmanager",),
    "sns": ("sns",),
    "vpc": ("ec2",),
}
# Beyond the program's resources: the provider asks STS who it is; the release driver's clients (release/aws/).
EXTRA_SERVICES = ("sts",)
# The environment tag of objects several stacks use (the image repository, the account's OIDC providers).
SHARED = "shared"
ECR_PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:DescribeImages",
    "ecr:DescribeImageScanFindings", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage",
    "ecr:UploadLayerPart",
)


def environment_subject(repository: str, environment: str) -> str:
    """The token subject of a job running in a GitHub environment of a repository."""
    return f"repo:{repository}:environment:{environment}"


def branch_subject(repository: str, branch: str) -> str:
    """The token subject of a job run by a push to a branch, outside any environment."""
    return f"repo:{repository}:ref:refs/heads/{branch}"


def trust_policy(provider_arn: str, subjects: Sequence[str]) -> str:
    """A role trust policy for GitHub's OIDC tokens with exactly these subjects (no wildcards)."""
    sub: str | list[str] = subjects[0] if len(subjects) == 1 else sorted(subjects)
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{ISSUER}:aud": AUDIENCE, f"{ISSUER}:sub": sub}},
        }],
    }, indent=2)


def push_policy(repository_arn: str) -> str:
    """What the build role may do: log in to ECR, push and read images of one repository."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Sid": "PushImages", "Effect": "Allow", "Action": sorted(ECR_PUSH_ACTIONS), "Resource": repository_arn},
        ],
    }, indent=2)


def boundary_actions() -> list[str]:
    """``<service>:*`` for every service a stack and its releases use."""
    services = {svc for group in SERVICES_OF_MODULE.values() for svc in group} | set(EXTRA_SERVICES)
    return sorted(f"{svc}:*" for svc in services)


@dataclass(frozen=True)
class Boundary:
    """What a stack's deploy roles can never do, whatever policies they hold: a permissions boundary."""

    name: str
    """The boundary policy's name, ``<app>-<environment>-...``."""
    app_name: str
    """Prefix of every environment's role names."""
    environment: str
    """The environment whose roles it bounds."""
    others: tuple[str, ...]
    """Every other environment of the application (tags and name prefixes kept out of reach)."""
    own_roles: tuple[str, ...]
    """Names of the roles it bounds: they cannot change their own rights."""
    owns_shared: bool
    """Whether this stack owns the shared objects; otherwise it may only read them and add image tags."""

    def document(self) -> str:
        """The boundary policy: at most the stack's services, minus what is denied here.

        Source: IAM User Guide, "Permissions boundaries for IAM entities" (effective permissions are the
        intersection of the identity policies and the boundary; an explicit deny in either wins).
        """
        statements: list[dict[str, object]] = [
            {"Sid": "TheStacksServices", "Effect": "Allow", "Action": boundary_actions(), "Resource": "*"},
            *environment_denies(self.app_name, self.others),
            {
                "Sid": "NotItsOwnRights", "Effect": "Deny", "Action": list(IAM_WRITE_ACTIONS),
                "Resource": sorted([*(f"arn:aws:iam::*:role/{r}" for r in self.own_roles), f"arn:aws:iam::*:policy/{self.name}"]),
            },
            # Whatever identity policy a deployer is given, it never rewrites a boundary, removes one, or becomes
            # another deployer (IAM User Guide, "Permissions boundaries for IAM entities": an explicit deny in the
            # boundary limits every identity policy).
            {"Sid": "NeverABoundary", "Effect": "Deny", "Action": list(POLICY_WRITES), "Resource": boundaries(self.app_name)},
            {"Sid": "NeverUnbound", "Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary", "Resource": "*"},
            {"Sid": "NeverADeployer", "Effect": "Deny", "Action": list(ANY_IAM_WRITE),
             "Resource": sorted(f"arn:aws:iam::*:role/{pattern}" for pattern in privileged_roles(self.app_name))},
        ]
        if not self.owns_shared:
            statements.append({
                "Sid": "SharedObjectsReadOnly", "Effect": "Deny", "NotAction": list(SHARED_READ_ACTIONS), "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceTag/environment": SHARED}},
            })
        return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


@dataclass
class GitHubOidcArgs:
    """Inputs of the OIDC trust between GitHub Actions and this account."""

    create_provider: bool
    """Create the account's GitHub OIDC provider (exactly one stack per account) or look it up."""
    repository: str
    """The application repository, ``owner/name``: the only one whose tokens are trusted."""
    environment: str
    """The GitHub environment whose jobs may assume the deploy role."""
    deploy_role_name: str
    """Name of the deploy role (stable: workflows find it through a GitHub variable)."""
    build_role_name: str | None = None
    """Name of the build role; None when another stack owns it."""
    build_branches: tuple[str, ...] = ()
    """Branches whose push runs may assume the build role."""
    image_repository_arn: pulumi.Input[str] | None = None
    """The ECR repository the build role may push to."""
    max_session_seconds: int = 3600
    """The deploy role's longest session: a whole release (components/config/session.py), 3600-43200."""
    boundary: Boundary | None = None
    """The deploy role's permissions boundary."""
    permissions_boundary_arn: pulumi.Input[str] | None = None
    """The stack's boundary policy: the build role carries it, and the deploy role creates or changes roles only with it."""
    name_prefix: str = ""
    """The app's name prefix: the deploy role's IAM writes reach only roles named ``<prefix>-*``."""
    oidc_providers: tuple[str, ...] = ()
    """ARN patterns of the OIDC providers this stack creates: the only ones its deploy role may change."""
    tags: pulumi.Input[dict[str, str]] = field(default_factory=dict)
    """Tags of every resource."""


class GitHubOidc(pulumi.ComponentResource):
    """The GitHub OIDC provider (created or looked up), a deploy role and, for the owner stack, the build role."""

    provider_arn: pulumi.Output[str]
    deploy_role_arn: pulumi.Output[str]
    build_role_arn: pulumi.Output[str] | None

    def __init__(self, name: str, args: GitHubOidcArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:oidc:GitHubOidc", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.create_provider:
            provider = aws.iam.OpenIdConnectProvider(
                # Account-wide: every environment's stack reads it, so no environment's boundary may shut it off.
                f"{name}-provider", url=ISSUER_URL, client_id_lists=[AUDIENCE],
                tags=pulumi.Output.from_input(args.tags).apply(lambda tags: {**tags, "environment": SHARED}), opts=child,
            )
            self.provider_arn = provider.arn
        else:
            self.provider_arn = aws.iam.get_open_id_connect_provider_output(
                url=ISSUER_URL, opts=pulumi.InvokeOutputOptions(parent=self),
            ).arn

        deploy_subject = environment_subject(args.repository, args.environment)
        boundary_arn: pulumi.Output[str] | None = None
        if args.boundary is not None:
            boundary_arn = aws.iam.Policy(
                f"{name}-deploy-boundary", name=args.boundary.name, policy=args.boundary.document(),
                description=f"What the {args.environment} deploy roles can never do", tags=args.tags, opts=child,
            ).arn
        deploy = aws.iam.Role(
            f"{name}-deploy",
            name=args.deploy_role_name,
            description=f"Assumed by {args.repository} jobs in the {args.environment} environment to release it",
            assume_role_policy=self.provider_arn.apply(lambda arn: trust_policy(arn, [deploy_subject])),
            max_session_duration=args.max_session_seconds,
            permissions_boundary=boundary_arn,
            tags=args.tags,
            opts=child,
        )
        aws.iam.RolePolicyAttachment(f"{name}-deploy-power-user", role=deploy.name, policy_arn=DEPLOY_MANAGED_POLICY, opts=child)
        if args.permissions_boundary_arn is not None and args.name_prefix:
            # Without a boundary to require, the deploy role gets no IAM writes at all (PowerUserAccess has none).
            delegation = functools.partial(Delegation, app_prefix=args.name_prefix, environment=args.environment,
                                           deployer_roles=(args.deploy_role_name,), oidc_providers=args.oidc_providers)
            aws.iam.RolePolicy(f"{name}-deploy-iam", role=deploy.id, policy=pulumi.Output.from_input(
                args.permissions_boundary_arn).apply(lambda arn: delegation(boundary_arn=arn).document()), opts=child)
        self.deploy_role_arn = deploy.arn

        self.build_role_arn = None
        if args.build_role_name is not None:
            if args.image_repository_arn is None or not args.build_branches:
                message = "a build role needs the image repository it pushes to and the branches it trusts"
                raise ValueError(message)
            subjects = [branch_subject(args.repository, b) for b in args.build_branches]
            build = aws.iam.Role(
                f"{name}-build",
                name=args.build_role_name,
                description=f"Assumed by {args.repository} pushes to {', '.join(args.build_branches)} to push images",
                assume_role_policy=self.provider_arn.apply(lambda arn: trust_policy(arn, subjects)),
                permissions_boundary=args.permissions_boundary_arn,
                tags=args.tags,
                opts=child,
            )
            aws.iam.RolePolicy(
                f"{name}-build-push",
                role=build.id,
                policy=pulumi.Output.from_input(args.image_repository_arn).apply(push_policy),
                opts=child,
            )
            self.build_role_arn = build.arn

        self.register_outputs({
            "provider_arn": self.provider_arn,
            "deploy_role_arn": self.deploy_role_arn,
            "build_role_arn": self.build_role_arn,
        })
