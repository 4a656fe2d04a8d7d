"""Identity: no administrator grants, and every web-identity trust names the one workload it trusts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs

from policy.policies.base import PackPolicy, ResourcePolicy, Scope, as_strings, get, items

ROLE = "aws:iam/role:Role"
POLICY_DOCUMENTS = (
    "aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy",
)
ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment",
)
# The AWS managed policy that is exactly Action "*" on Resource "*".
ADMIN_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/AdministratorAccess$")

GITHUB_ISSUER = "token.actions.githubusercontent.com"
PULUMI_ISSUER = "api.pulumi.com/oidc"
WILDCARDS = re.compile(r"[*?]")
# repo:<owner>/<name>:<context>; the owner and name are what the role trusts.
GITHUB_SUB = re.compile(r"^repo:(?P<owner>[^/:]+)/(?P<repo>[^/:]+):.+$")
# pulumi:deploy:org:<org>:project:<project>:stack:<stack>:...; org, project and stack are what it trusts.
PULUMI_SUB = re.compile(r"^pulumi:deploy:org:(?P<org>[^:]+):project:(?P<project>[^:]+):stack:(?P<stack>[^:]+)(:.*)?$")
PINNING_OPERATORS = ("StringEquals", "StringLike", "ForAnyValue:StringEquals", "ForAnyValue:StringLike")


def document(raw: Any) -> Mapping[str, Any] | None:
    """A policy document from its property: a JSON string as the engine shows it, or already an object."""
    if isinstance(raw, Mapping):
        return raw
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, Mapping) else None
    return None


def statements(doc: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The statements of a document (a single statement object counts as a list of one)."""
    if doc is None:
        return []
    raw = doc.get("Statement")
    found = [raw] if isinstance(raw, Mapping) else items(raw)
    return [s for s in found if isinstance(s, Mapping)]


def _documents(props: Mapping[str, Any], resource_type: str) -> Iterator[tuple[str, Mapping[str, Any] | None]]:
    if resource_type in POLICY_DOCUMENTS:
        yield "policy", document(get(props, "policy"))
    elif resource_type == ROLE:
        for i, inline in enumerate(items(get(props, "inlinePolicies"))):
            yield f"inlinePolicies[{i}].policy", document(get(inline, "policy"))


def _no_admin(props: Mapping[str, Any], args: ResourceValidationArgs) -> Iterator[str]:
    for path, doc in _documents(props, args.resource_type):
        for i, statement in enumerate(statements(doc)):
            if statement.get("Effect") != "Allow":
                continue
            if "*" in as_strings(statement.get("Action")) and "*" in as_strings(statement.get("Resource")):
                yield (f"{path}.Statement[{i}]: got Action \"*\" on Resource \"*\"; name the actions and the "
                       "resources this identity needs")
    arns = as_strings(get(props, "policyArn")) + as_strings(get(props, "managedPolicyArns"))
    for arn in arns:
        if ADMIN_POLICY_ARN.match(arn):
            key = "policyArn" if args.resource_type in ATTACHMENTS else "managedPolicyArns"
            yield f"{key}: got {arn!r}; attach a policy naming the actions and resources this identity needs"


def _issuer(statement: Mapping[str, Any]) -> str | None:
    federated = as_strings(get(statement, "Principal.Federated"))
    for principal in federated:
        # arn:aws:iam::<account>:oidc-provider/<issuer host and path>
        if ":oidc-provider/" in principal:
            return principal.split(":oidc-provider/", 1)[1]
    return None


def _sub_values(condition: Any, issuer: str) -> list[str] | None:
    found: list[str] | None = None
    for operator in PINNING_OPERATORS:
        values = get(condition, operator)
        if isinstance(values, Mapping) and f"{issuer}:sub" in values:
            found = (found or []) + as_strings(values[f"{issuer}:sub"])
    return found


def sub_problem(issuer: str, sub: str) -> str | None:
    """Why a ``sub`` value does not pin one workload, or None when it does."""
    if issuer == GITHUB_ISSUER:
        match = GITHUB_SUB.match(sub)
        if not match or WILDCARDS.search(match["owner"] + match["repo"]):
            return "pin repo:<owner>/<repository>:<environment or ref> with no wildcard in the owner or repository"
        return None
    if issuer == PULUMI_ISSUER:
        match = PULUMI_SUB.match(sub)
        if not match or WILDCARDS.search(match["org"] + match["project"] + match["stack"]):
            return "pin pulumi:deploy:org:<org>:project:<project>:stack:<stack>:... with no wildcard in those three"
        return None
    if WILDCARDS.search(sub):
        return "pin the exact subject the identity provider issues, with no wildcard"
    return None


def _oidc_trust(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    for i, statement in enumerate(statements(document(get(props, "assumeRolePolicy")))):
        actions = as_strings(statement.get("Action"))
        issuer = _issuer(statement)
        if statement.get("Effect") != "Allow" or issuer is None or not (
            "sts:AssumeRoleWithWebIdentity" in actions or "sts:*" in actions or "*" in actions
        ):
            continue
        path = f"assumeRolePolicy.Statement[{i}].Condition"
        subs = _sub_values(statement.get("Condition"), issuer)
        if not subs:
            yield (f"{path}: got no {issuer}:sub condition; any workload the issuer serves could assume the role: "
                   f"add StringEquals {{\"{issuer}:sub\": ...}}")
            continue
        for sub in subs:
            why = sub_problem(issuer, sub)
            if why:
                yield f"{path}.{issuer}:sub: got {sub!r}; {why}"


POLICIES: list[PackPolicy] = [
    ResourcePolicy(
        "iam-no-admin", "No IAM policy allows Action \"*\" on Resource \"*\", directly or as a managed administrator policy.",
        types=(*POLICY_DOCUMENTS, ROLE, *ATTACHMENTS), check=_no_admin, scope=Scope.BOTH,
        remediation="List the actions and resource ARNs the identity needs.",
    ),
    ResourcePolicy(
        "oidc-trust-pins-subject",
        "Every web-identity trust pins the token's sub to one repository (or Pulumi stack), without wildcards there.",
        types=(ROLE,), check=_oidc_trust, scope=Scope.BOTH,
        remediation="Add a StringEquals condition on <issuer>:sub naming the repository and environment.",
    ),
]
