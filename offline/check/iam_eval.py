"""IAM's evaluation of one request against a principal's policies and its permissions boundary.

A request is allowed when an identity policy allows it, no policy denies it, and, if the principal
has a permissions boundary, the boundary allows it too (IAM User Guide, "Permissions boundaries for
IAM entities": the effective permissions are the intersection of the identity-based policies and the
boundary; "Policy evaluation logic": an explicit deny in any policy wins).

Statements are matched on Action/NotAction (case-insensitive, ``*`` and ``?`` wildcards), on
Resource/NotResource (case-sensitive ARNs, the same wildcards) and on Condition. Condition key names are
case-insensitive ("IAM JSON policy elements: Condition"), values are compared as the operator says (IAM
User Guide, "IAM JSON policy elements: Condition operators"). An operator this module does not know is read to favour the attacker: an Allow
under it applies, a Deny under it does not, so the analysis can find too much but never too little.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Document = Mapping[str, Any]
# A request's context: condition key (lower case) -> its values. A key that is absent is not in the request.
Context = Mapping[str, tuple[str, ...]]

ALLOW_ALL: dict[str, Any] = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
"""What an attacker writes when it may put any inline policy, or a new version of a managed one."""


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


@functools.lru_cache(maxsize=8192)
def _pattern(texts: tuple[str, ...], case_sensitive: bool) -> re.Pattern[str]:
    # IAM's wildcards: * any run of characters, ? one character; nothing else is special. One expression per list.
    bodies = ["".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text) for text in texts]
    return re.compile(f"(?s:{'|'.join(bodies) or '(?!)'})\\Z", 0 if case_sensitive else re.IGNORECASE)


def wildcard_match(pattern: str | Iterable[str], value: str, *, case_sensitive: bool = True) -> bool:
    """Whether ``value`` matches an IAM pattern (or any of several) with ``*`` and ``?``."""
    texts = (pattern,) if isinstance(pattern, str) else tuple(pattern)
    return _pattern(texts, case_sensitive).match(value) is not None


def _strings(values: Any) -> list[str]:
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(values)]


# Operators by base name -> (how a value is compared, negated). Source: "IAM JSON policy elements: Condition operators".
_OPERATORS: dict[str, tuple[str, bool]] = {
    "stringequals": ("exact", False), "stringnotequals": ("exact", True),
    "stringequalsignorecase": ("ignorecase", False), "stringnotequalsignorecase": ("ignorecase", True),
    "stringlike": ("like", False), "stringnotlike": ("like", True),
    "arnequals": ("like", False), "arnlike": ("like", False), "arnnotequals": ("like", True), "arnnotlike": ("like", True),
    "bool": ("exact", False),
}


def _compare(how: str, wanted: str, actual: str) -> bool:
    if how == "exact":
        return wanted == actual
    if how == "ignorecase":
        return wanted.lower() == actual.lower()
    return wildcard_match(wanted, actual)


def condition_holds(condition: Mapping[str, Any], context: Context, *, unknown: bool) -> bool:
    """Whether every operator of a Condition block holds for the request; ``unknown`` for operators not modelled."""
    for raw_operator, keys in condition.items():
        operator = raw_operator.lower()
        quantifier = ""
        if ":" in operator:
            quantifier, operator = operator.split(":", 1)
        if_exists = operator.endswith("ifexists")
        operator = operator.removesuffix("ifexists")
        if operator == "null":
            for key, wanted in keys.items():
                absent = key.lower() not in context
                if _strings(wanted) != [str(absent).lower()]:
                    return False
            continue
        if operator not in _OPERATORS or not isinstance(keys, Mapping):
            if not unknown:
                return False
            continue
        how, negated = _OPERATORS[operator]
        for key, wanted_raw in keys.items():
            wanted = _strings(wanted_raw)
            actual = context.get(key.lower())
            if actual is None:
                # A missing key: the negated operators hold, the others do not, unless ...IfExists.
                if if_exists or negated:
                    continue
                return False
            matches = [any(_compare(how, w, a) for w in wanted) for a in actual]
            hit = any(matches) if quantifier != "forallvalues" else all(matches)
            if hit == negated:
                return False
    return True


def _matches_action(statement: Mapping[str, Any], action: str) -> bool:
    if "Action" in statement:
        return wildcard_match([str(p) for p in _as_list(statement["Action"])], action, case_sensitive=False)
    return not wildcard_match([str(p) for p in _as_list(statement.get("NotAction"))], action, case_sensitive=False)


def _matches_resource(statement: Mapping[str, Any], resource: str) -> bool:
    if "Resource" in statement:
        return wildcard_match([str(p) for p in _as_list(statement["Resource"])], resource)
    if "NotResource" in statement:
        return not wildcard_match([str(p) for p in _as_list(statement["NotResource"])], resource)
    return False


def statements(document: Document | None) -> list[Mapping[str, Any]]:
    """The statements of a policy document (none for a missing one)."""
    return [s for s in _as_list((document or {}).get("Statement")) if isinstance(s, Mapping)]


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Context) -> bool:
    if not (_matches_action(statement, action) and _matches_resource(statement, resource)):
        return False
    allow = statement.get("Effect") == "Allow"
    return condition_holds(statement.get("Condition") or {}, context, unknown=allow)


def _decide(documents: Iterable[Document], action: str, resource: str, context: Context) -> tuple[bool, bool]:
    """(some statement allows, some statement denies) over these documents."""
    allowed = denied = False
    for document in documents:
        for statement in statements(document):
            if _applies(statement, action, resource, context):
                if statement.get("Effect") == "Deny":
                    denied = True
                elif statement.get("Effect") == "Allow":
                    allowed = True
    return allowed, denied


@dataclass(frozen=True)
class Principal:
    """A role as IAM evaluates it: its identity policies and, if it has one, its permissions boundary."""

    arn: str
    identity: tuple[Document, ...]
    boundary: Document | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def allows(self, action: str, resource: str, context: Context | None = None) -> bool:
        """Whether IAM allows this principal the request (identity policies, then boundary)."""
        context = {**(context or {}), "aws:principalarn": (self.arn,),
                   **{f"aws:principaltag/{k.lower()}": (v,) for k, v in self.tags.items()}}
        allowed, denied = _decide(self.identity, action, resource, context)
        if denied or not allowed:
            return False
        if self.boundary is None:
            return True
        allowed, denied = _decide([self.boundary], action, resource, context)
        return allowed and not denied


def resource_context(tags: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """The ``aws:ResourceTag/<key>`` keys of a resource with these tags (tag keys match case-insensitively)."""
    return {f"aws:resourcetag/{k.lower()}": (v,) for k, v in tags.items()}
