"""What each role of an account can reach by IAM's own rules, delegation included.

A role's rights are its identity policies intersected with its permissions boundary (IAM User Guide,
"Permissions boundaries for IAM entities"). A role that may create or change roles and policies can
do more than that: everything a role it may create, change and then become could do. This module
follows those moves until nothing new is reached, and reports two things no principal of the stacks
may reach: administrator (IAM writes on identities that are not the stack's), and, for a staging
principal, anything of production's.

The moves, each allowed only if IAM allows the request with the condition keys it carries (Service
Authorization Reference, "Actions, resources, and condition keys for AWS Identity and Access Management":
``iam:PermissionsBoundary`` on CreateRole, PutRolePolicy, AttachRolePolicy, PutRolePermissionsBoundary;
``iam:PolicyARN`` on AttachRolePolicy):

- create a role with a chosen boundary (or none), give it any inline policy or attach a managed policy,
  make it trust the creator, and become it;
- rewrite an existing role's trust (``iam:UpdateAssumeRolePolicy``) and become it; pass a role a service
  assumes (``iam:PassRole``) to that service, or take over what the service runs with it (``TAKEOVER``);
- on a role it can become (itself included): put or attach policies, replace or delete its boundary;
- write a new default version of a managed policy (``iam:CreatePolicyVersion``): every role using it,
  as a policy or as a boundary, then holds whatever the writer put there.

Every choice an attacker makes (a role's name, its boundary, the policy attached) is tried from what the
account and the policies name. The reading favours the attacker (unknown condition operators, a role's
trust taken as written by its creator), so it may report a path IAM would refuse, never miss one it allows
among these moves. What it does not model: users, groups, resource policies other than trust, SCPs,
services that act with a role other than by assuming it, and whether an action supports a condition key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from offline.check.iam_account import AWS_MANAGED, aws_managed_document, policy_documents
from offline.check.iam_eval import ALLOW_ALL, Context, Document, Principal, resource_context, statements

ADMIN_POLICIES = ("arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess",
                  "arn:aws:iam::aws:policy/PowerUserAccess")
"""AWS managed policies an attacker would attach, beside every policy the account holds."""
PROBE_NAME = "escalation-probe"
REGION = "eu-west-1"
MAX_MOVES = 4
# Taking over what a service already runs with a role: a shell in a running task, an instance's user data, a
# function's code (cloudsplaining's PRIVILEGE_ESCALATION_METHODS "ECSExecuteCommandOnRunningTask",
# "ModifyEC2InstanceUserDataThenRestart", "EditExistingLambdaFunctionWithRole"). The resource carries the role's
# tags: the stack's services propagate their tags to their tasks (components/fleet.py, propagate_tags).
TAKEOVER: dict[str, tuple[str, str]] = {
    "ecs-tasks.amazonaws.com": ("ecs:ExecuteCommand", "arn:aws:ecs:{region}:{account}:task/{name}/0"),
    "ec2.amazonaws.com": ("ec2:ModifyInstanceAttribute", "arn:aws:ec2:{region}:{account}:instance/i-{name}"),
    "lambda.amazonaws.com": ("lambda:UpdateFunctionCode", "arn:aws:lambda:{region}:{account}:function:{name}"),
}


def environment_of(tags: Mapping[str, str]) -> str | None:
    """The ``environment`` tag, whatever its key's case (condition tag keys match case-insensitively)."""
    return next((v for k, v in tags.items() if k.lower() == "environment"), None)


@dataclass(frozen=True)
class Role:
    """A role of the account, as the search changes it."""

    arn: str
    inline: tuple[str, ...] = ()
    """Inline policies as JSON text (so a role is a value the search can keep in a set)."""
    managed: tuple[str, ...] = ()
    boundary: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    trusted_services: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The role's name (the last part of its ARN)."""
        return self.arn.rsplit("/", 1)[-1]

    @property
    def environment(self) -> str | None:
        """The role's environment tag."""
        return environment_of(dict(self.tags))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document, sort_keys=True)


ANYTHING = _text(ALLOW_ALL)


def roles_of(details: Mapping[str, Any]) -> list[Role]:
    """The account's roles from ``GetAccountAuthorizationDetails``."""
    found = []
    for role in details.get("RoleDetailList", []):
        principals = [st.get("Principal") for st in statements(role.get("AssumeRolePolicyDocument"))]
        services = sorted({str(s) for p in principals if isinstance(p, dict) for s in _as_list(p.get("Service"))})
        found.append(Role(
            arn=role["Arn"], inline=tuple(_text(p["PolicyDocument"]) for p in role.get("RolePolicyList", [])),
            managed=tuple(p["PolicyArn"] for p in role.get("AttachedManagedPolicies", [])),
            boundary=role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn"),
            tags=tuple((t["Key"], t["Value"]) for t in role.get("Tags", [])), trusted_services=tuple(services),
        ))
    return found


@dataclass(frozen=True)
class Finding:
    """A principal that reaches what it must not, and how."""

    start: str
    kind: str
    """``administrator`` or ``production``."""
    reached: str
    path: tuple[str, ...]

    def describe(self) -> str:
        """One line: who, what, through which moves."""
        return f"{self.start} reaches {self.kind} ({self.reached}) by: {' -> '.join(self.path) or 'its own rights'}"


@dataclass
class Account:
    """The account's roles and managed policies, and the policies an attacker has rewritten so far."""

    account_id: str
    roles: list[Role]
    documents: dict[str, Document]
    rewritten: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def document(self, arn: str) -> Document:
        """A managed policy's document as it stands now (anything, once rewritten)."""
        if arn in self.rewritten:
            return ALLOW_ALL
        # A policy whose document is unknown is read in the attacker's favour: it may allow anything.
        return self.documents.get(arn) or aws_managed_document(arn) or ALLOW_ALL

    def principal(self, role: Role) -> Principal:
        """The role as IAM evaluates it now."""
        identity = (*(json.loads(text) for text in role.inline), *(self.document(arn) for arn in role.managed))
        boundary = self.document(role.boundary) if role.boundary else None
        return Principal(role.arn, identity, boundary, dict(role.tags))


def _boundary_context(boundary: str | None) -> dict[str, tuple[str, ...]]:
    context: dict[str, tuple[str, ...]] = {}
    if boundary:
        context["iam:permissionsboundary"] = (boundary,)
    return context


def _role_names(principal: Principal, account: Account) -> list[str]:
    """Names a role it creates could take: each role pattern it is allowed on, made concrete, and a free name."""
    names = {f"arn:aws:iam::{account.account_id}:role/{PROBE_NAME}"}
    for document in principal.identity:
        for statement in statements(document):
            if statement.get("Effect") != "Allow":
                continue
            for pattern in _as_list(statement.get("Resource")):
                text = str(pattern)
                if ":role/" in text:
                    arn = text.replace(":*:role/", f":{account.account_id}:role/")
                    names.add(arn.replace("*", PROBE_NAME).replace("?", "x"))
    return sorted(names)


def _moves(role: Role, account: Account) -> list[tuple[str, Role]]:
    """The roles this one can become in one move, each with the move's description."""
    me = account.principal(role)
    candidates = sorted({*account.documents, *ADMIN_POLICIES})
    found: list[tuple[str, Role]] = []
    for arn in _role_names(me, account):
        for boundary in (None, *candidates):
            if not me.allows("iam:CreateRole", arn, _boundary_context(boundary)):
                continue
            made = _rights_given(me, Role(arn, boundary=boundary, tags=role.tags), account)
            if made is not None:
                found.append((f"creates {arn.rsplit('/', 1)[-1]} (boundary {_short(boundary)}) {made[0]}", made[1]))
    found.extend((f"changes itself: {text}", changed) for text, changed in _changes(me, role, account, candidates))
    for other in account.roles:
        context = resource_context(dict(other.tags))
        if other.arn == role.arn:
            continue
        if me.allows("iam:UpdateAssumeRolePolicy", other.arn, context):
            becomes, how = True, f"rewrites the trust of {other.name}"
            found.append((how, other))
        elif other.trusted_services and me.allows("iam:PassRole", other.arn, context):
            becomes, how = True, f"passes {other.name} to {', '.join(other.trusted_services)}"
            found.append((how, other))
        elif taken := _takeover(me, other, account):
            becomes, how = True, taken
            found.append((how, other))
        else:
            becomes = False
        if becomes:
            found.extend((f"{how}, then {text}", changed) for text, changed in _changes(me, other, account, candidates))
    return found


def _takeover(me: Principal, other: Role, account: Account) -> str:
    """How ``me`` can act as ``other`` through what a service runs with it, or the empty string."""
    for service in other.trusted_services:
        if service in TAKEOVER:
            action, pattern = TAKEOVER[service]
            resource = pattern.format(region=REGION, account=account.account_id, name=other.name)
            if me.allows(action, resource, resource_context(dict(other.tags))):
                return f"{action} on what {service} runs as {other.name}"
    return ""


def _short(arn: str | None) -> str:
    return arn.rsplit("/", 1)[-1] if arn else "none"


def _rights_given(me: Principal, target: Role, account: Account) -> tuple[str, Role] | None:
    """What ``me`` can give a role carrying ``target.boundary``: any inline policy, or the managed ones IAM lets it attach."""
    context = _boundary_context(target.boundary) | resource_context(dict(target.tags))
    if me.allows("iam:PutRolePolicy", target.arn, context):
        return "with any inline policy", replace(target, inline=(*target.inline, ANYTHING))
    attachable = [arn for arn in sorted({*account.documents, *ADMIN_POLICIES})
                  if me.allows("iam:AttachRolePolicy", target.arn, context | {"iam:policyarn": (arn,)})]
    if attachable:
        return f"with {', '.join(_short(a) for a in attachable)}", replace(target, managed=(*target.managed, *attachable))
    return None


def _changes(me: Principal, other: Role, account: Account, candidates: Sequence[str]) -> list[tuple[str, Role]]:
    """What ``me`` can make of a role it can become: more rights, another boundary, or none."""
    context: Context = resource_context(dict(other.tags))
    changes: list[tuple[str, Role]] = []
    given = _rights_given(me, other, account)
    if given is not None:
        changes.append((f"gives {other.name} {given[0].removeprefix('with ')}", given[1]))
    if other.boundary and me.allows("iam:DeleteRolePermissionsBoundary", other.arn, {**context, **_boundary_context(other.boundary)}):
        changes.append((f"deletes the boundary of {other.name}", replace(other, boundary=None)))
    for boundary in candidates:
        wanted = {**context, **_boundary_context(boundary)}
        if boundary != other.boundary and me.allows("iam:PutRolePermissionsBoundary", other.arn, wanted):
            changes.append((f"sets the boundary of {other.name} to {_short(boundary)}", replace(other, boundary=boundary)))
    return changes


def _rewrites(role: Role, account: Account) -> list[str]:
    me = account.principal(role)
    # AWS managed policies have no version a customer can write (IAM User Guide, "AWS managed policies").
    return [arn for arn in account.documents if arn not in account.rewritten and not arn.startswith(AWS_MANAGED)
            and me.allows("iam:CreatePolicyVersion", arn)]


def is_administrator(principal: Principal, account_id: str) -> bool:
    """Whether it may write IAM identities that are not the stack's: create users, or grant rights to any role."""
    outside = f"arn:aws:iam::{account_id}:role/{PROBE_NAME}-outside-the-stacks"
    return (principal.allows("iam:CreateUser", f"arn:aws:iam::{account_id}:user/{PROBE_NAME}")
            or principal.allows("iam:PutRolePolicy", outside)
            or principal.allows("iam:AttachRolePolicy", outside, {"iam:policyarn": (ADMIN_POLICIES[0],)}))


Probe = tuple[str, str, Mapping[str, tuple[str, ...]]]


def production_probes(account: Account) -> list[Probe]:
    """Requests on production's resources.

    Data-plane and control-plane actions on production-tagged and -named resources, and IAM writes on each
    production role and on every production-named policy.
    """
    acct, tagged = account.account_id, resource_context({"environment": "production"})
    probes: list[Probe] = [
        ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{acct}:secret:webapp-production-db", tagged),
        ("ecs:UpdateService", f"arn:aws:ecs:{REGION}:{acct}:service/webapp-production/web", tagged),
        ("rds:DeleteDBInstance", f"arn:aws:rds:{REGION}:{acct}:db:webapp-production-db", tagged),
        ("elasticloadbalancing:ModifyListener", f"arn:aws:elasticloadbalancing:{REGION}:{acct}:listener/app/webapp-production/1/2", tagged),
        ("iam:CreatePolicyVersion", f"arn:aws:iam::{acct}:policy/webapp-production-{PROBE_NAME}", {}),
        ("iam:UpdateAssumeRolePolicy", f"arn:aws:iam::{acct}:role/webapp-production-{PROBE_NAME}", {}),
    ]
    for role in account.roles:
        if role.environment == "production" or "-production-" in role.arn:
            context = resource_context(dict(role.tags)) | _boundary_context(role.boundary)
            for action in ("iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePermissionsBoundary"):
                probes.append((action, role.arn, context))
            probes.append(("iam:AttachRolePolicy", role.arn, context | {"iam:policyarn": (ADMIN_POLICIES[0],)}))
    probes.extend(("iam:CreatePolicyVersion", arn, {}) for arn in account.documents if "-production-" in arn)
    return probes


def analyse(details: Mapping[str, Any], account_id: str = "123456789012") -> list[Finding]:
    """Every staging role that reaches production, and every role that reaches administrator."""
    roles = roles_of(details)
    findings: list[Finding] = []
    for start in roles:
        account = Account(account_id, roles, policy_documents(details))
        findings.extend(_search(start, account))
    return findings


def _search(start: Role, account: Account) -> list[Finding]:
    """Breadth first, so each finding comes with a shortest path; stops once administrator is reached."""
    probes = production_probes(account) if start.environment == "staging" else []
    reached: dict[Role, tuple[str, ...]] = {start: ()}
    found: dict[str, Finding] = {}
    frontier = [start]
    for _ in range(MAX_MOVES + 1):
        for role in frontier:
            _judge(start, role, account, reached[role], probes, found)
        if "administrator" in found or not frontier:
            break
        following: list[Role] = []
        for role in frontier:
            for arn in _rewrites(role, account):
                account.rewritten[arn] = (*reached[role], f"{role.name} writes a new version of {_short(arn)}")
                following.extend(r for r in reached if r not in following)  # every role using it changes
            for text, changed in _moves(role, account):
                if changed not in reached:
                    reached[changed] = (*reached[role], text)
                    following.append(changed)
        frontier = following
    return list(found.values())


def _judge(start: Role, role: Role, account: Account, path: tuple[str, ...], probes: Sequence[Probe],
           found: dict[str, Finding]) -> None:
    principal = account.principal(role)
    used = (*role.managed, *((role.boundary,) if role.boundary else ()))
    via = tuple(dict.fromkeys((*(p for arn in used if arn in account.rewritten for p in account.rewritten[arn]), *path)))
    if "administrator" not in found and is_administrator(principal, account.account_id):
        found["administrator"] = Finding(start.arn, "administrator", role.arn, via)
    if not probes or "production" in found:
        return
    if role.environment == "production":
        found["production"] = Finding(start.arn, "production", role.arn, via)
        return
    hits = [f"{action} {resource}" for action, resource, context in probes if principal.allows(action, resource, context)]
    if hits:
        found["production"] = Finding(start.arn, "production", hits[0], via)
