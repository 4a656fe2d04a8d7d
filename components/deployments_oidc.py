"""The AWS side of Pulumi Deployments' OIDC: the identity provider and the role a deployment assumes.

Each deployment gets a short-lived token from Pulumi Cloud and exchanges it for
this role's credentials, so no AWS key is stored anywhere. The trust admits one
organisation (``aud``) and one project and stack (``sub``).
Source: Pulumi's "Configuring OpenID Connect for AWS" for Deployments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

# The issuer of Deployments' tokens; IAM names the provider and its condition keys by its host and path.
ISSUER_URL = "https://api.pulumi.com/oidc"
ISSUER = ISSUER_URL.removeprefix("https://")


def deploy_subject(organization: str, project: str, stack: str) -> str:
    """The ``sub`` a deployment's token carries, any operation, pinned to one stack.

    Format from Pulumi's Deployments OIDC docs:
    ``pulumi:deploy:org:<org>:project:<project>:stack:<stack>:operation:<op>:scope:write``.
    """
    return f"pulumi:deploy:org:{organization}:project:{project}:stack:{stack}:operation:*:scope:write"


def trust_policy(provider_arn: str, organization: str, subject: str) -> str:
    """The role's trust: web identity from the Pulumi issuer, audience and subject pinned."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                # aud is compared case-sensitively; it is the organisation name as Pulumi spells it.
                "StringEquals": {f"{ISSUER}:aud": organization},
                # StringLike only because of the '*' for the operation.
                "StringLike": {f"{ISSUER}:sub": subject},
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
    role_name: pulumi.Input[str]
    """Physical name of the role."""
    create_provider: bool = True
    """Create the account's ``api.pulumi.com/oidc`` provider; when False, look the existing one up."""
    policy_arns: Sequence[str] = ()
    """Managed policies attached to the role: what a deployment may do."""
    max_session_seconds: int = 3600
    """Longest session the role grants; the settings ask for no more."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the AWS resources."""


class DeploymentsOidc(pulumi.ComponentResource):
    """An IAM OIDC provider for Pulumi Cloud (created or looked up) and a role it may assume for one stack."""

    role_arn: pulumi.Output[str]
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
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )
            self.provider_arn = provider.arn
        else:
            found = aws.iam.get_open_id_connect_provider_output(url=ISSUER_URL, opts=pulumi.InvokeOptions(parent=self))
            self.provider_arn = found.arn
        subject = deploy_subject(args.organization, args.project, args.stack)
        role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description=f"Assumed by Pulumi Deployments of {args.project}/{args.stack} through OIDC.",
            assume_role_policy=self.provider_arn.apply(lambda arn: trust_policy(arn, args.organization, subject)),
            max_session_duration=args.max_session_seconds,
            tags=dict(args.tags),
            opts=child,
        )
        for arn in args.policy_arns:
            policy_name = arn.rsplit("/", 1)[-1].lower()
            aws.iam.RolePolicyAttachment(f"{name}-{policy_name}", role=role.name, policy_arn=arn, opts=child)
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn, "provider_arn": self.provider_arn})
