"""The AWS side of Pulumi Deployments' OIDC: the identity provider and the roles a deployment assumes.

Each deployment gets a short-lived token from Pulumi Cloud and exchanges it for
a role's credentials, so no AWS key is stored anywhere. The trust admits one
organisation (``aud``) and one project, stack and operation (``sub``): previews
(pull requests included) get a read-only role; only updates and destroys get the
deploy role. The deployment picks the role its token's operation admits
(``tools/deployments_credentials.py``); the trust, not that choice, is the guard.
Source: Pulumi's "Configuring OpenID Connect for AWS" for Deployments, and
"OpenID Connect integration" (Pulumi Cloud > Deployments) for the ``sub`` format.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.config import StackConfig
from components.config.deployments import OidcProvider
from components.iam_boundary import Delegation
from components.oidc import ISSUER as GITHUB_ISSUER
from components.oidc import SHARED, Boundary

# The issuer of Deployments' tokens; IAM names the provider and its condition keys by its host and path.
ISSUER_URL = "https://api.pulumi.com/oidc"
ISSUER = ISSUER_URL.removeprefix("https://")


# The operation kinds of a deployment's token ("OpenID Connect integration": preview, update, refresh, destroy).
READ_OPERATIONS = ("preview", "refresh")
WRITE_OPERATIONS = ("update", "destroy")
READ_ONLY_POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def owned_oidc_providers(config: StackConfig) -> tuple[str, ...]:
    """ARN patterns of the OIDC providers this stack creates (GitHub's, Pulumi's): its deployers may change only these."""
    issuers = []
    if config.delivery.oidc_mode(config.stack).value == "create":
        issuers.append(GITHUB_ISSUER)
    if config.deployments.enabled and config.deployments.oidc_provider is OidcProvider.CREATE:
        issuers.append(ISSUER)
    # IAM User Guide, "IAM identifiers": arn:aws:iam::<account>:oidc-provider/<issuer host and path>.
    return tuple(f"arn:aws:iam::*:oidc-provider/{issuer}" for issuer in issuers)


def operation_subject(organization: str, project: str, stack: str, operation: str) -> str:
    """The ``sub`` a deployment's token carries for one operation of one stack.

    Format from Pulumi's Deployments OIDC docs:
    ``pulumi:deploy:org:<org>:project:<project>:stack:<stack>:operation:<op>:scope:write``.
    """
    return f"pulumi:deploy:org:{organization}:project:{project}:stack:{stack}:operation:{operation}:scope:write"


def trust_policy(provider_arn: str, organization: str, subjects: Sequence[str]) -> str:
    """A role's trust: web identity from the Pulumi issuer, audience and exact subjects pinned (no wildcard)."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                # aud and sub are compared case-sensitively; aud is the organisation name as Pulumi spells it.
                "StringEquals": {f"{ISSUER}:aud": organization, f"{ISSUER}:sub": sorted(subjects)},
            },
        }],
    }, sort_keys=True)


@dataclass
class DeploymentsOidcArgs:
    """Inputs of the Deployments OIDC trust."""

    organization: str
    """Pulumi organisation: the token's audience and the first part of its subject."""
    project: str
    """Pulumi project the role is pinned to."""
    stack: str
    """Pulumi stack the role is pinned to."""
    role_name: str
    """Physical name of the deploy role (updates and destroys)."""
    preview_role_name: str
    """Physical name of the read-only role (previews and refreshes)."""
    create_provider: bool = True
    """Create the account's ``api.pulumi.com/oidc`` provider; when False, look the existing one up."""
    policy_arns: Sequence[str] = ()
    """Managed policies attached to the role: what a deployment may do."""
    max_session_seconds: int = 3600
    """Longest session the role grants; the settings ask for no more."""
    boundary: Boundary | None = None
    """Permissions boundary of both roles."""
    workload_boundary_arn: pulumi.Input[str] | None = None
    """The stack's workload boundary: the deploy role creates or changes roles only with it (none: no IAM writes)."""
    name_prefix: str = ""
    """The app's name prefix: the deploy role's IAM writes reach only roles named ``<prefix>-*``."""
    environment: str = ""
    """The stack's environment: the deploy role rewrites the trust only of roles tagged with it."""
    oidc_providers: tuple[str, ...] = ()
    """ARN patterns of the OIDC providers this stack creates: the only ones the deploy role may change."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the AWS resources."""


class DeploymentsOidc(pulumi.ComponentResource):
    """An IAM OIDC provider for Pulumi Cloud (created or looked up) and a role it may assume for one stack."""

    role_arn: pulumi.Output[str]
    preview_role_arn: pulumi.Output[str]
    provider_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DeploymentsOidcArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:deployments:OidcTrust", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.create_provider:
            # AWS allows one provider per URL in an account; other stacks and ESC may share it, so
            # deleting this stack leaves it in place.
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-provider",
                url=ISSUER_URL,
                client_id_lists=[args.organization],
                # Account-wide: every environment's stack reads it, so no environment's boundary may shut it off.
                tags={**args.tags, "environment": SHARED},
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )
            self.provider_arn = provider.arn
        else:
            found = aws.iam.get_open_id_connect_provider_output(url=ISSUER_URL, opts=pulumi.InvokeOptions(parent=self))
            self.provider_arn = found.arn
        boundary_arn: pulumi.Output[str] | None = None
        if args.boundary is not None:
            boundary_arn = aws.iam.Policy(
                f"{name}-boundary", name=args.boundary.name, policy=args.boundary.document(),
                description=f"What the Pulumi Deployments roles of {args.stack} can never do", tags=dict(args.tags), opts=child,
            ).arn
        org, project, stack = args.organization, args.project, args.stack
        writes = [operation_subject(org, project, stack, op) for op in WRITE_OPERATIONS]
        reads = [operation_subject(org, project, stack, op) for op in READ_OPERATIONS]
        role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description=f"Assumed by Pulumi Deployments updates of {project}/{stack} through OIDC.",
            assume_role_policy=self.provider_arn.apply(lambda arn: trust_policy(arn, org, writes)),
            max_session_duration=args.max_session_seconds,
            permissions_boundary=boundary_arn,
            tags=dict(args.tags),
            opts=child,
        )
        if args.workload_boundary_arn is not None and args.name_prefix:
            # The stack's IAM writes, bounded (components/iam_boundary.py); no managed policy brings IAM writes.
            delegation = functools.partial(Delegation, app_prefix=args.name_prefix, environment=args.environment,
                                           deployer_roles=(args.role_name, args.preview_role_name), oidc_providers=args.oidc_providers)
            aws.iam.RolePolicy(f"{name}-iam", role=role.id, policy=pulumi.Output.from_input(args.workload_boundary_arn).apply(
                lambda arn: delegation(boundary_arn=arn).document()), opts=child)
        for arn in args.policy_arns:
            policy_name = arn.rsplit("/", 1)[-1].lower()
            aws.iam.RolePolicyAttachment(f"{name}-{policy_name}", role=role.name, policy_arn=arn, opts=child)
        preview = aws.iam.Role(
            f"{name}-preview-role",
            name=args.preview_role_name,
            description=f"Assumed by Pulumi Deployments previews of {project}/{stack} (pull requests included): read only.",
            assume_role_policy=self.provider_arn.apply(lambda arn: trust_policy(arn, org, reads)),
            max_session_duration=args.max_session_seconds,
            permissions_boundary=boundary_arn,
            tags=dict(args.tags),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(f"{name}-preview-readonlyaccess", role=preview.name, policy_arn=READ_ONLY_POLICY, opts=child)
        self.role_arn = role.arn
        self.preview_role_arn = preview.arn
        self.register_outputs({"role_arn": self.role_arn, "preview_role_arn": self.preview_role_arn, "provider_arn": self.provider_arn})
