"""The permissions boundary of every role the stack creates, and what a deployer may do in IAM.

Two principals run ``pulumi up``: the GitHub deploy role and the Pulumi Deployments role. Each holds AWS's
PowerUserAccess, which leaves IAM out, and gets back only what the stack's own roles need, where it cannot
raise anyone's rights (IAM User Guide, "Permissions boundaries for IAM entities", delegating responsibility):
a role it creates or changes must carry the workload boundary (``iam:PermissionsBoundary``), it attaches only
its own environment's policies (``iam:PolicyARN``), it rewrites the trust only of its own environment's roles,
and it never writes a boundary policy, removes a boundary, or touches a deployer's role. A role under the
workload boundary can do nothing in IAM beyond reading, and nothing to another environment.
Changing a boundary or a deployer therefore takes an administrator's update (docs/security.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

# IAM actions that change a role's rights; each accepts the iam:PermissionsBoundary condition key, which
# names the boundary the role has (or gets, on CreateRole and PutRolePermissionsBoundary). Source: Service
# Authorization Reference, "Actions, resources, and condition keys for AWS Identity and Access Management".
BOUNDED_ROLE_WRITES = (
    "iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:DetachRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
)
# AttachRolePolicy accepts iam:PolicyARN as well: the policies a deployer may attach are named (same source).
ATTACH = "iam:AttachRolePolicy"
# Writes that neither grant rights nor take the boundary away (no iam:PermissionsBoundary key on these).
ROLE_UPKEEP = ("iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:TagRole", "iam:UntagRole")
# Who may assume a role: only the trust of a role of the deployer's own environment (its environment tag).
TRUST = "iam:UpdateAssumeRolePolicy"
POLICY_WRITES = (
    "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy",
)
OIDC_PROVIDER_WRITES = (
    "iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
    "iam:AddClientIDToOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider",
    "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider",
)
# The services that create their own service-linked role the first time a stack uses them.
SERVICE_LINKED = (
    "ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com", "ecs.application-autoscaling.amazonaws.com",
    "rds.amazonaws.com", "elasticache.amazonaws.com",
)
IAM_WRITES = (
    "iam:Add*", "iam:Attach*", "iam:Create*", "iam:Delete*", "iam:Detach*", "iam:PassRole", "iam:Put*",
    "iam:Remove*", "iam:SetDefaultPolicyVersion", "iam:Tag*", "iam:Untag*", "iam:Update*",
)
ANY_IAM_WRITE = ("iam:Create*", "iam:Delete*", "iam:Put*", "iam:Attach*", "iam:Detach*", "iam:Update*",
                 "iam:Set*", "iam:Tag*", "iam:Untag*", "iam:Add*", "iam:Remove*", "iam:PassRole")


def privileged_roles(app_prefix: str) -> tuple[str, ...]:
    """Name patterns of the unbounded roles that run ``pulumi up``.

    Every environment's deploy role (``components/delivery.py``) and Pulumi Deployments' roles, for updates
    and for previews (``components/deployments.py``). A deploy role that could rewrite their trust or
    policies could become them, so it may not touch them.
    """
    return (f"{app_prefix}-*-deploy", f"{app_prefix}-*-pulumi-deployments", f"{app_prefix}-*-pulumi-preview")


def boundary_name(prefix: str) -> str:
    """The boundary policy's name: under the prefix, so the deploy policy can name it."""
    return f"{prefix}-boundary"


def boundaries(app_prefix: str) -> str:
    """The ARN pattern of every boundary policy of the application, of every environment and deployer."""
    return f"arn:aws:iam::*:policy/{app_prefix}-*boundary"


def environment_denies(app_prefix: str, others: Sequence[str]) -> list[dict[str, object]]:
    """What no principal of one environment may touch: another environment's tagged resources and its named identities.

    Tag keys in ``aws:ResourceTag/<key>`` match whatever the tag key's case (IAM User Guide, "Controlling access to AWS
    resources using tags"), so the stack's ``Environment`` and ``environment`` tags are both seen.
    """
    if not others:
        return []
    return [
        {"Sid": "NotOtherEnvironments", "Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/environment": sorted(others)}}},
        {"Sid": "NotOtherEnvironmentsIdentities", "Effect": "Deny", "Action": list(IAM_WRITES), "Resource": sorted(
            f"arn:aws:iam::*:{kind}/{app_prefix}-{other}-*" for other in others for kind in ("role", "policy"))},
    ]


def boundary_document(app_prefix: str = "", others: Sequence[str] = ()) -> str:
    """What any role the stack creates may do at most: no IAM writes, Organizations, account settings, nor other environments.

    The deployers may create roles carrying only this boundary, so it must keep them off the other environments
    as their own boundaries do: a role they create is no way around their own (IAM User Guide, "Permissions
    boundaries for IAM entities", delegating responsibility to others).
    """
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "WorkloadsOnly", "Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            {"Sid": "ReadIdentities", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
            *environment_denies(app_prefix, others),
        ],
    }, indent=2)


@dataclass(frozen=True)
class Delegation:
    """What a deployer (the GitHub deploy role, the Pulumi Deployments role) may do in IAM beside PowerUserAccess."""

    boundary_arn: str
    """The workload boundary: every role the deployer creates or changes carries it."""
    app_prefix: str
    """The application's name prefix: roles ``<app>-*``; policies ``<app>-<environment>-*``."""
    environment: str
    """The deployer's environment: it may rewrite only the trust of roles tagged with it."""
    deployer_roles: tuple[str, ...]
    """Its own role names: never written by itself."""
    oidc_providers: tuple[str, ...] = ()
    """ARNs of the OIDC providers its stack owns (none unless it owns the shared objects)."""

    def document(self) -> str:
        """The deployer's IAM policy: the stack's roles, bounded by the workload boundary; never a boundary or a deployer."""
        roles = f"arn:aws:iam::*:role/{self.app_prefix}-*"
        own_policies = f"arn:aws:iam::*:policy/{self.app_prefix}-{self.environment}-*"
        untouchable = sorted({f"arn:aws:iam::*:role/{name}" for name in (*self.deployer_roles, *privileged_roles(self.app_prefix))})
        bounded = {"iam:PermissionsBoundary": self.boundary_arn}
        statements: list[dict[str, object]] = [
            {"Sid": "ReadIdentities", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
            {"Sid": "BoundedStackRoles", "Effect": "Allow", "Action": list(BOUNDED_ROLE_WRITES), "Resource": roles,
             "Condition": {"StringEquals": bounded}},
            {"Sid": "NamedPoliciesOnBoundedRoles", "Effect": "Allow", "Action": ATTACH, "Resource": roles,
             "Condition": {"StringEquals": bounded, "ArnLike": {"iam:PolicyARN": own_policies}}},
            {"Sid": "StackRoleUpkeep", "Effect": "Allow", "Action": list(ROLE_UPKEEP), "Resource": roles},
            {"Sid": "OwnEnvironmentsTrust", "Effect": "Allow", "Action": TRUST, "Resource": roles,
             "Condition": {"StringEquals": {"aws:ResourceTag/environment": self.environment}}},
            {"Sid": "PassStackRoles", "Effect": "Allow", "Action": "iam:PassRole", "Resource": roles},
            {"Sid": "StackPolicies", "Effect": "Allow", "Action": list(POLICY_WRITES), "Resource": own_policies},
            {"Sid": "ServiceLinkedRoles", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole", "Resource": "*",
             "Condition": {"StringEquals": {"iam:AWSServiceName": list(SERVICE_LINKED)}}},
        ]
        if self.oidc_providers:
            statements.append({"Sid": "OwnOidcProviders", "Effect": "Allow", "Action": list(OIDC_PROVIDER_WRITES),
                               "Resource": sorted(self.oidc_providers)})
        # Explicit denies win over every allow, PowerUserAccess's included.
        statements += [
            {"Sid": "NeverABoundary", "Effect": "Deny", "Action": list(POLICY_WRITES), "Resource": boundaries(self.app_prefix)},
            {"Sid": "NeverUnbound", "Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary", "Resource": "*"},
            {"Sid": "NeverItselfNorAnotherDeployer", "Effect": "Deny", "Action": list(ANY_IAM_WRITE), "Resource": untouchable},
        ]
        return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def oidc_provider_arn(account_id: str, issuer: str) -> str:
    """An OIDC provider's ARN: ``arn:aws:iam::<account>:oidc-provider/<issuer host and path>`` (IAM User Guide, "IAM identifiers")."""
    return f"arn:aws:iam::{account_id}:oidc-provider/{issuer.removeprefix('https://')}"
