"""The IAM configuration a plan creates, in the format of IAM's ``GetAccountAuthorizationDetails``.

One format for every reader: the account's roles (trust, inline policies, attached managed policies,
permissions boundary, tags) and its managed policies with their default version's document. The
shapes are botocore's (``iam`` service-2.json: ``RoleDetail``, ``ManagedPolicyDetail``,
``AttachedPermissionsBoundary``, whose ``PermissionsBoundaryType`` is ``PermissionsBoundaryPolicy``).
AWS managed policies' documents come from moto's copy of them (``moto/iam/aws_managed_policies.py``,
imported from AWS), not from us.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from offline.check.iam_eval import Document, Principal
from offline.plan import PlannedResource

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
AWS_MANAGED = "arn:aws:iam::aws:policy/"


@functools.lru_cache(maxsize=1)
def _aws_managed() -> dict[str, Any]:
    # Read as data, not imported: importing moto loads boto3, which an offline check never needs (tests/offline/test_imports.py).
    # find_spec of a top-level package runs none of its code.
    spec = importlib.util.find_spec("moto")
    if spec is None or not spec.submodule_search_locations:
        return {}
    source = Path(spec.submodule_search_locations[0], "iam", "aws_managed_policies.py").read_text()
    # The module is one assignment of a triple-quoted JSON string (``aws_managed_policies_data = """{...}"""``).
    parts = source.split('"""')
    if len(parts) != 3:
        return {}
    data: dict[str, Any] = json.loads(parts[1])
    return data


def aws_managed_document(arn: str) -> Document | None:
    """The document of an AWS managed policy (``arn:aws:iam::aws:policy/<path><name>``), None if unknown."""
    if not arn.startswith(AWS_MANAGED):
        return None
    entry = _aws_managed().get(arn.rsplit("/", 1)[-1])
    return entry["Document"] if entry else None


def _json(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return None
    return raw if isinstance(raw, dict) else None


def _tags(raw: Any) -> list[dict[str, str]]:
    return [{"Key": str(k), "Value": str(v)} for k, v in (raw or {}).items()] if isinstance(raw, dict) else []


def _identifier(prefix: str, text: str) -> str:
    # IAM's unique IDs are 21 upper-case characters with a type prefix (IAM User Guide, "IAM identifiers").
    return prefix + hashlib.sha256(text.encode()).hexdigest()[:17].upper()


def _name(resource: PlannedResource) -> str:
    return str(resource.outputs.get("name") or resource.inputs.get("name") or resource.name)


def authorization_details(resources: Iterable[PlannedResource], account: str = "123456789012") -> dict[str, Any]:
    """``GetAccountAuthorizationDetails``'s answer for an account holding these IAM resources."""
    items = list(resources)
    roles: dict[str, dict[str, Any]] = {}
    for role in (r for r in items if r.type == ROLE):
        name = _name(role)
        detail: dict[str, Any] = {
            "Path": "/", "RoleName": name, "RoleId": _identifier("AROA", name),
            "Arn": str(role.outputs.get("arn") or f"arn:aws:iam::{account}:role/{name}"),
            "AssumeRolePolicyDocument": _json(role.inputs.get("assumeRolePolicy")) or {},
            "RolePolicyList": [], "AttachedManagedPolicies": [], "InstanceProfileList": [], "Tags": _tags(role.inputs.get("tags")),
        }
        if role.inputs.get("permissionsBoundary"):
            detail["PermissionsBoundary"] = {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                                             "PermissionsBoundaryArn": str(role.inputs["permissionsBoundary"])}
        roles[name] = detail
    policies: dict[str, dict[str, Any]] = {}
    for policy in (r for r in items if r.type == POLICY):
        arn = str(policy.outputs.get("arn") or f"arn:aws:iam::{account}:policy/{_name(policy)}")
        policies[arn] = _managed(arn, _name(policy), _json(policy.inputs.get("policy")) or {})
    for inline in (r for r in items if r.type == ROLE_POLICY):
        role_name = str(inline.inputs.get("role", ""))
        if role_name in roles:
            roles[role_name]["RolePolicyList"].append(
                {"PolicyName": _name(inline), "PolicyDocument": _json(inline.inputs.get("policy")) or {}})
    for attachment in (r for r in items if r.type == ATTACHMENT):
        role_name, arn = str(attachment.inputs.get("role", "")), str(attachment.inputs.get("policyArn", ""))
        if role_name in roles:
            roles[role_name]["AttachedManagedPolicies"].append({"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn})
    used = {p["PolicyArn"] for r in roles.values() for p in r["AttachedManagedPolicies"]}
    used |= {r["PermissionsBoundary"]["PermissionsBoundaryArn"] for r in roles.values() if "PermissionsBoundary" in r}
    for arn in sorted(used - set(policies)):
        document = aws_managed_document(arn)
        if document is not None:
            policies[arn] = _managed(arn, arn.rsplit("/", 1)[-1], document)
    for arn, managed in policies.items():
        managed["AttachmentCount"] = sum(p["PolicyArn"] == arn for r in roles.values() for p in r["AttachedManagedPolicies"])
        managed["PermissionsBoundaryUsageCount"] = sum(
            r.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") == arn for r in roles.values())
    return {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": list(roles.values()), "Policies": list(policies.values())}


def _managed(arn: str, name: str, document: Document) -> dict[str, Any]:
    return {
        "PolicyName": name, "PolicyId": _identifier("ANPA", arn), "Arn": arn, "Path": "/",
        "DefaultVersionId": "v1", "IsAttachable": True,
        "PolicyVersionList": [{"Document": document, "VersionId": "v1", "IsDefaultVersion": True}],
    }


def policy_documents(details: Mapping[str, Any]) -> dict[str, Document]:
    """Each managed policy's default document by ARN, AWS managed ones the account uses included."""
    found: dict[str, Document] = {}
    for policy in details.get("Policies", []):
        for version in policy.get("PolicyVersionList", []):
            if version.get("IsDefaultVersion"):
                found[policy["Arn"]] = _json(version.get("Document")) or {}
    return found


def principal(role: Mapping[str, Any], documents: Mapping[str, Document]) -> Principal:
    """A role of the authorization details as IAM evaluates it."""
    identity = [_json(p["PolicyDocument"]) or {} for p in role.get("RolePolicyList", [])]
    for attached in role.get("AttachedManagedPolicies", []):
        arn = attached["PolicyArn"]
        identity.append(documents.get(arn) or aws_managed_document(arn) or {})
    boundary_arn = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
    boundary = None
    if boundary_arn:
        boundary = documents.get(boundary_arn) or aws_managed_document(boundary_arn) or {}
    tags = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
    return Principal(role["Arn"], tuple(identity), boundary, tags)
