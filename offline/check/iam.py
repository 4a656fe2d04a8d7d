"""Check 3: IAM. Every policy document parses, every action exists, and no role can raise its own rights.

Actions are checked against botocore's operation names for the action's
service prefix, plus the few actions that are permissions without an API
operation (``PERMISSION_ONLY``, each from the Service Authorization Reference).
A statement that lets its holder rewrite its own policies or pass any role is
privilege escalation unless the role's permissions boundary refuses those actions:
what a role can do is its identity policies intersected with its boundary. And a
role that may create or change roles can do what those roles could: the delegation
rule (``offline/check/iam_escalation.py``) follows every role the plan creates,
bounded or not, through the roles and policies it may create or change, and reports
any that reaches administrator or, from staging, anything of production's.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from typing import Any

from offline.check import iam_escalation
from offline.check.findings import Finding, RuleClass, Severity
from offline.check.iam_account import authorization_details, aws_managed_document
from offline.check.iam_eval import ALLOW_ALL, Document, Principal
from offline.check.shapes import operation_names, services_for
from offline.models.knowledge import POLICY_INPUTS, SECRET
from offline.plan import Plan, PlannedResource

GRAMMAR = "IAM User Guide, 'IAM JSON policy element reference' (Version, Statement, Effect, Action/NotAction, Resource, Principal)"
ACTIONS = "botocore <service> service-2.json operation names; Service Authorization Reference for permission-only actions"
ESCALATION = (
    "IAM User Guide, 'Permissions boundaries for IAM entities' (a boundary caps what a principal that can manage "
    "roles and policies can grant); the escalating actions are the IAM writes that change a principal's own policies"
)

# Actions that authorise something but are not API operations, so botocore does not list them.
# Source: Service Authorization Reference, "Actions, resources, and condition keys for <service>" ([permission only]).
PERMISSION_ONLY: dict[str, frozenset[str]] = {
    "iam": frozenset({"PassRole"}),
    "s3": frozenset({"ListBucket", "ListBucketVersions", "GetObjectVersion", "DeleteObjectVersion", "ListAllMyBuckets"}),
    "sts": frozenset({"TagSession", "SetSourceIdentity", "SetContext"}),
    "ecr": frozenset({"ReplicateImage"}),
    "logs": frozenset({"Link"}),
    # "Actions, resources, and condition keys for Amazon RDS IAM Authentication": a prefix with no API of its own.
    "rds-db": frozenset({"connect"}),
}

# IAM writes that let the holder change its own (or any) principal's rights.
ESCALATING = frozenset({
    "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:PutRolePolicy", "iam:AttachRolePolicy",
    "iam:UpdateAssumeRolePolicy", "iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary",
    "iam:PutUserPolicy", "iam:AttachUserPolicy", "iam:PutGroupPolicy", "iam:AttachGroupPolicy", "iam:AddUserToGroup",
    "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
})
# The account the offline plans run in (the mocks' account; offline/evaluator.py).
ACCOUNT_OF_PLAN = "123456789012"
DELEGATION = (
    "IAM User Guide, 'Permissions boundaries for IAM entities' (effective permissions: identity policies intersected with "
    "the boundary; delegation needs iam:PermissionsBoundary on role writes) and the Service Authorization Reference's IAM "
    "condition keys (iam:PermissionsBoundary, iam:PolicyARN)"
)
# AWS managed policies that grant IAM writes outright.
ESCALATING_MANAGED = frozenset({"arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess"})


def _known_actions(prefix: str) -> frozenset[str]:
    names: set[str] = set(PERMISSION_ONLY.get(prefix, ()))
    for service in services_for(prefix):
        names |= operation_names(service)
    return frozenset(names)


def expand(action: str) -> set[str]:
    """The known actions an action pattern (``iam:*Role*``) matches, as ``prefix:Name``."""
    prefix, _, name = action.partition(":")
    known = _known_actions(prefix.lower())
    if name == "*":
        return {f"{prefix.lower()}:{n}" for n in known}
    return {f"{prefix.lower()}:{n}" for n in known if fnmatch.fnmatchcase(n.lower(), name.lower())}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _finding(resource: PlannedResource, path: str, value: Any, rule: str, source: str, message: str,
             severity: Severity = Severity.ERROR) -> Finding:
    return Finding(resource.name, resource.type, path, value, rule, RuleClass.IAM, source, message, severity)


def _statements(resource: PlannedResource, key: str, kind: str) -> Iterator[Finding | tuple[str, dict[str, Any]]]:
    raw = resource.inputs.get(key)
    if raw is None or raw == SECRET:
        return
    try:
        document = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        yield _finding(resource, key, str(raw)[:80], "iam-document-json", GRAMMAR, f"not JSON: {exc}")
        return
    if not isinstance(document, dict) or document.get("Version") not in ("2012-10-17", "2008-10-17"):
        yield _finding(resource, f"{key}.Version", document.get("Version") if isinstance(document, dict) else document,
                       "iam-document-version", GRAMMAR, "Version must be 2012-10-17 (or the legacy 2008-10-17)")
    for index, statement in enumerate(_as_list(document.get("Statement") if isinstance(document, dict) else None)):
        path = f"{key}.Statement[{index}]"
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            yield _finding(resource, f"{path}.Effect", statement.get("Effect") if isinstance(statement, dict) else statement,
                           "iam-statement", GRAMMAR, "every statement has Effect Allow or Deny")
            continue
        if ("Action" in statement) == ("NotAction" in statement):
            yield _finding(resource, path, sorted(statement), "iam-statement", GRAMMAR, "exactly one of Action, NotAction")
        needs_resource = kind != "trust"
        if needs_resource and ("Resource" in statement) == ("NotResource" in statement):
            yield _finding(resource, path, sorted(statement), "iam-statement", GRAMMAR, "exactly one of Resource, NotResource")
        if kind == "identity" and ("Principal" in statement or "NotPrincipal" in statement):
            yield _finding(resource, f"{path}.Principal", statement.get("Principal"), "iam-statement", GRAMMAR,
                           "an identity policy names no Principal")
        if kind in ("resource", "trust") and "Principal" not in statement and "NotPrincipal" not in statement:
            yield _finding(resource, path, sorted(statement), "iam-statement", GRAMMAR, "a resource or trust policy names a Principal")
        yield path, statement


def _action_findings(resource: PlannedResource, path: str, statement: dict[str, Any]) -> Iterator[Finding]:
    key = "Action" if "Action" in statement else "NotAction"
    for index, action in enumerate(_as_list(statement.get(key))):
        if action == "*":
            continue
        prefix, sep, _ = str(action).partition(":")
        if not sep or not (services_for(prefix) or prefix.lower() in PERMISSION_ONLY):
            yield _finding(resource, f"{path}.{key}[{index}]", action, "iam-action-exists", ACTIONS,
                           f"no AWS service has the action prefix {prefix!r}")
        elif not expand(str(action)):
            yield _finding(resource, f"{path}.{key}[{index}]", action, "iam-action-exists", ACTIONS,
                           f"matches no action of {prefix}")


def _role_of(resource: PlannedResource, roles: dict[str, PlannedResource]) -> PlannedResource | None:
    if resource.type == "aws:iam/role:Role":
        return resource
    return roles.get(str(resource.inputs.get("role", "")))


def _covers_holder(resources: list[Any], role: PlannedResource | None) -> bool:
    """Whether a statement's resources include the holder's own role (any role, when the holder is unknown)."""
    for pattern in resources:
        text = str(pattern)
        if text == "*":
            return True
        if text.startswith("arn:aws:iam::") and ":role/" in text:
            if role is None:
                return "*" in text
            # Role ARNs are arn:aws:iam::<account>:role/<path><name>; the stack's roles use the root path.
            if fnmatch.fnmatchcase(_role_name(role), text.split(":role/", 1)[1].rsplit("/", 1)[-1]):
                return True
    return False


def _role_name(role: PlannedResource) -> str:
    return str(role.inputs.get("name") or role.outputs.get("name") or role.name)


def _granted(statement: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for action in _as_list(statement.get("Action")):
        found |= expand("iam:*") if action == "*" else expand(str(action))
    return found


def _denied_on_holder(statements: list[dict[str, Any]], role: PlannedResource | None) -> set[str]:
    """Actions an unconditional Deny of the same document refuses on the holder (a Deny always wins)."""
    denied: set[str] = set()
    for statement in statements:
        if statement.get("Effect") == "Deny" and "Action" in statement and "Condition" not in statement:
            if _covers_holder(_as_list(statement.get("Resource")), role):
                denied |= _granted(statement)
    return denied


def _boundary_refuses(role: PlannedResource | None, boundaries: dict[str, Document], actions: set[str],
                      target: str | None = None) -> set[str]:
    """The actions a bounded holder's boundary refuses on ``target`` (the holder itself by default).

    None for an unbounded or unknown holder.
    """
    arn = str(role.inputs.get("permissionsBoundary") or "") if role is not None else ""
    if role is None or not arn:
        return set()
    boundary = boundaries.get(arn) or aws_managed_document(arn) or {}
    holder = str(role.outputs.get("arn") or f"arn:aws:iam::{ACCOUNT_OF_PLAN}:role/{_role_name(role)}")
    ceiling = Principal(holder, (ALLOW_ALL,), boundary)
    return {action for action in actions if not ceiling.allows(action, target or holder)}


def _escalation(resource: PlannedResource, key: str, statements: list[tuple[str, dict[str, Any]]],
                role: PlannedResource | None, boundaries: dict[str, Document]) -> Iterator[Finding]:
    denied = _denied_on_holder([s for _, s in statements], role)
    denied |= _boundary_refuses(role, boundaries, set(ESCALATING) | {"iam:PassRole"})
    for path, statement in statements:
        if statement.get("Effect") != "Allow" or "Action" not in statement:
            continue
        # An Allow conditioned on iam:PermissionsBoundary applies only to roles carrying that boundary (IAM User
        # Guide, 'Permissions boundaries for IAM entities'), so never to an unbounded holder.
        if "iam:permissionsboundary" in json.dumps(statement.get("Condition", {})).lower():
            continue
        granted = _granted(statement)
        resources = _as_list(statement.get("Resource"))
        escalating = sorted((granted & ESCALATING) - denied)
        if escalating and _covers_holder(resources, role):
            yield _finding(resource, f"{path}.Action", statement.get("Action"), "iam-privilege-escalation", ESCALATION,
                           f"lets the holder rewrite its own rights ({', '.join(escalating[:4])}"
                           f"{', ...' if len(escalating) > 4 else ''}) and no permissions boundary refuses it", Severity.WARNING)
        if "iam:PassRole" in granted and "iam:PassRole" not in denied and "*" in resources:
            yield _finding(resource, f"{path}.Action", "iam:PassRole", "iam-privilege-escalation", ESCALATION,
                           "iam:PassRole on every role: the holder can hand any role to a service it controls",
                           Severity.WARNING)


def _boundaries_only(plan: Plan) -> set[str]:
    """Names of managed policies used only as permissions boundaries: ceilings that grant nothing themselves.

    IAM User Guide, 'Permissions boundaries for IAM entities': a boundary sets the maximum permissions an
    identity-based policy can grant and does not grant permissions on its own.
    """
    def name(arn: object) -> str:
        return str(arn).rsplit("/", 1)[-1]

    bounding = {name(r.inputs["permissionsBoundary"]) for r in plan.of_type("aws:iam/role:Role") if r.inputs.get("permissionsBoundary")}
    attached = {name(r.inputs.get("policyArn")) for r in plan.resources
                if r.type in ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment")}
    return bounding - attached


def _delegation(plan: Plan) -> Iterator[Finding]:
    """Every role of the plan that reaches administrator, or production from staging, by the roles it may create or change."""
    roles = {str(r.outputs.get("arn")): r for r in plan.of_type("aws:iam/role:Role")}
    for found in iam_escalation.analyse(authorization_details(plan.resources)):
        role = roles.get(found.start)
        if role is None:
            continue
        yield Finding(role.name, role.type, "permissionsBoundary", role.inputs.get("permissionsBoundary"), "iam-delegation-escalation",
                      RuleClass.IAM, DELEGATION, found.describe())


def check(plan: Plan) -> Iterator[Finding]:
    """Findings for every policy document in the plan, for managed policies that grant IAM writes, and for delegation."""
    roles = {_role_name(r): r for r in plan.of_type("aws:iam/role:Role")}
    ceilings = _boundaries_only(plan)
    boundaries: dict[str, Document] = {}
    for policy in plan.of_type("aws:iam/policy:Policy"):
        raw = policy.inputs.get("policy")
        if isinstance(raw, str) and policy.outputs.get("arn"):
            try:
                boundaries[str(policy.outputs["arn"])] = json.loads(raw)
            except json.JSONDecodeError:
                continue
    for resource in plan.resources:
        for key, kind in POLICY_INPUTS.get(resource.type, {}).items():
            statements: list[tuple[str, dict[str, Any]]] = []
            for item in _statements(resource, key, kind):
                if isinstance(item, Finding):
                    yield item
                    continue
                statements.append(item)
                yield from _action_findings(resource, *item)
            ceiling = resource.type == "aws:iam/policy:Policy" and str(resource.inputs.get("name")) in ceilings
            if kind == "identity" and not ceiling:
                yield from _escalation(resource, key, statements, _role_of(resource, roles), boundaries)
        if resource.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
            role = roles.get(str(resource.inputs.get("role", "")))
            # IAM writes on a role that is not the stack's: what IAMFullAccess would let it make and become.
            outside = f"arn:aws:iam::{ACCOUNT_OF_PLAN}:role/{iam_escalation.PROBE_NAME}"
            refused = _boundary_refuses(role, boundaries, set(ESCALATING), outside)
            if resource.inputs.get("policyArn") in ESCALATING_MANAGED and refused != set(ESCALATING):
                yield _finding(resource, "policyArn", resource.inputs["policyArn"], "iam-privilege-escalation", ESCALATION,
                               "a managed policy with IAM writes, and no permissions boundary refusing them "
                               f"({', '.join(sorted(set(ESCALATING) - refused)[:4])} allowed)", Severity.WARNING)
    yield from _delegation(plan)
