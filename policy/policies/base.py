"""The shape every policy of the pack shares: a scope, a type filter and a check that yields messages.

CrossGuard decides a policy's enforcement level before it runs, from the pack's
config; so a policy carries its ``Scope`` (mandatory in every stack, or only in
production) and ``policy.enforcement`` turns scopes into the per-stack config
files the engine is given. A check is a plain function from a resource's
properties to violation messages, so tests and the offline runner call exactly
what the engine calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.secret import Secret

# How an offline plan shows a secret (offline.plan.SECRET). Repeated here so the pack
# imports nothing but pulumi-policy and can be published on its own.
SECRET_MARKER = "[secret]"  # noqa: S105 - a marker, not a secret


class Scope(StrEnum):
    """Where a policy blocks a deployment."""

    BOTH = "both"
    """Mandatory in every stack: the rule protects staging as much as production."""
    PRODUCTION = "production"
    """Mandatory in production, advisory elsewhere: staging is smaller and cheaper on purpose."""


ResourceCheck = Callable[[Mapping[str, Any], ResourceValidationArgs], Iterable[str]]
StackCheck = Callable[[Sequence[PolicyResource]], Iterable[tuple[str, str | None]]]


class ResourcePolicy(ResourceValidationPolicy):
    """A policy over the resources of some type tokens; its check yields one message per violation."""

    def __init__(
        self, name: str, description: str, *, types: Iterable[str], check: ResourceCheck, scope: Scope, remediation: str,
    ) -> None:
        self.types = frozenset(types)
        self.scope = scope
        self.check = check
        super().__init__(name, description, validate=self._validate, remediation_steps=remediation)

    def _validate(self, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in self.types:
            return
        for message in self.check(args.props, args):
            report_violation(message, None)


class StackPolicy(StackValidationPolicy):
    """A policy over the whole stack, for rules that relate resources to each other."""

    def __init__(self, name: str, description: str, *, check: StackCheck, scope: Scope, remediation: str) -> None:
        self.scope = scope
        self.check = check
        super().__init__(name, description, validate=self._validate, remediation_steps=remediation)

    def _validate(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for message, urn in self.check(args.resources):
            report_violation(message, urn)


PackPolicy = ResourcePolicy | StackPolicy


# --- reading properties as the engine shows them -------------------------------------------------
# Properties arrive as read-only Mapping/Sequence proxies under the engine and as plain
# dicts and lists offline; the helpers accept both.


def get(props: Any, path: str, default: Any = None) -> Any:
    """The value at a dotted path (``healthCheck.path``), or ``default`` when any part is missing."""
    value = props
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value or value[part] is None:
            return default
        value = value[part]
    return value


def items(value: Any) -> list[Any]:
    """A list property as a list (None and a missing property are empty)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return []


def as_int(value: Any) -> int | None:
    """A whole number, or None. The engine sends every number as a double (443.0); offline they are ints."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def as_strings(value: Any) -> list[str]:
    """A string-or-list field of a policy document (``Action``, ``Resource``) as a list."""
    if isinstance(value, str):
        return [value]
    return [str(v) for v in items(value)]


def is_secret(value: Any) -> bool:
    """Whether a property value was marked secret: offline it prints as the secret marker."""
    return value == SECRET_MARKER or isinstance(value, Secret)


def walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair inside nested properties, depth first."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield str(k), v
            yield from walk(v, str(k))
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for v in value:
            yield from walk(v, key)


def problem(key: str, value: Any, allowed: str) -> str:
    """One violation, the way config errors read: the property, the value given, what is allowed."""
    return f"{key}: got {show(value)}; {allowed}"


def show(value: Any) -> str:
    """A property value as a message shows it."""
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
