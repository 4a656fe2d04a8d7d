"""The permissions boundary of every role the stack creates, and what the deploy role may do in IAM.

The deploy role runs ``pulumi up`` beside AWS's PowerUserAccess, which leaves IAM
out. It gets back only what the stack's own roles need, and only where it cannot
raise anyone's rights: roles and policies under the app's name prefix, a role only
while it carries this boundary (``iam:PermissionsBoundary``, AWS IAM User Guide,
"Permissions boundaries for IAM entities"), and never the boundary itself or the
deploy role. A role under the boundary can do nothing in IAM beyond reading.
"""

from __future__ import annotations

import json

# IAM actions that change a role's rights or who may assume it; each accepts the iam:PermissionsBoundary
# condition key except where noted (Service Authorization Reference, "Actions defined by AWS Identity and
# Access Management", condition keys column).
BOUNDED_ROLE_WRITES = (
    "iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
    "iam:PutRolePolicy", "iam:DeleteRolePolicy",
)
# Writes that neither grant rights nor take the boundary away (no iam:PermissionsBoundary key on these).
ROLE_UPKEEP = (
    "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
    "iam:TagRole", "iam:UntagRole",
)
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


def boundary_document() -> str:
    """What any role the stack creates may do at most: everything but IAM writes, Organizations and account settings."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "WorkloadsOnly", "Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            {"Sid": "ReadIdentities", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
        ],
    }, indent=2)


def deploy_iam_document(boundary_arn: str, app_prefix: str, deploy_role_name: str) -> str:
    """The deploy role's IAM rights beside PowerUserAccess: the stack's roles, bounded; never itself or the boundary."""
    roles = f"arn:aws:iam::*:role/{app_prefix}-*"
    policies = f"arn:aws:iam::*:policy/{app_prefix}-*"
    untouchable = sorted({f"arn:aws:iam::*:role/{name}" for name in (deploy_role_name, *privileged_roles(app_prefix))})
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadIdentities", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
            {"Sid": "BoundedStackRoles", "Effect": "Allow", "Action": list(BOUNDED_ROLE_WRITES), "Resource": roles,
             "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary_arn}}},
            {"Sid": "StackRoleUpkeep", "Effect": "Allow", "Action": list(ROLE_UPKEEP), "Resource": roles},
            {"Sid": "PassStackRoles", "Effect": "Allow", "Action": "iam:PassRole", "Resource": roles},
            {"Sid": "StackPolicies", "Effect": "Allow", "Action": list(POLICY_WRITES), "Resource": policies},
            {"Sid": "GitHubAndPulumiTrust", "Effect": "Allow", "Action": list(OIDC_PROVIDER_WRITES),
             "Resource": "arn:aws:iam::*:oidc-provider/*"},
            {"Sid": "ServiceLinkedRoles", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole", "Resource": "*",
             "Condition": {"StringEquals": {"iam:AWSServiceName": list(SERVICE_LINKED)}}},
            # Explicit denies win over every allow, PowerUserAccess's included.
            {"Sid": "NeverTheBoundary", "Effect": "Deny", "Action": list(POLICY_WRITES), "Resource": boundary_arn},
            {"Sid": "NeverUnbound", "Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary", "Resource": "*"},
            {"Sid": "NeverItselfNorAnotherDeployer", "Effect": "Deny", "Action": list(ANY_IAM_WRITE), "Resource": untouchable},
        ],
    }, indent=2)
