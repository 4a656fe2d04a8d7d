"""Calling a policy the way the engine does: with ``ResourceValidationArgs`` or ``StackValidationArgs``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from policy.policies import PackPolicy, ResourcePolicy, StackPolicy, by_name

PROJECT = "release-platform"


def urn(type_: str, name: str, stack: str = "production") -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{type_}::{name}"


def opts(protect: bool = False, secret_outputs: tuple[str, ...] = ()) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), list(secret_outputs), None)


def policy(name: str) -> PackPolicy:
    return by_name()[name]


def violations(
    name: str, type_: str, props: Mapping[str, Any], *, protect: bool = False, secret_outputs: tuple[str, ...] = (),
) -> list[str]:
    """The messages a resource policy reports for one resource."""
    found: list[str] = []
    target = policy(name)
    assert isinstance(target, ResourcePolicy)
    args = ResourceValidationArgs(type_, props, urn(type_, "res"), "res", opts(protect, secret_outputs), None)
    target.validate(args, lambda message, _urn: found.append(message))
    return found


def resource(type_: str, name: str, props: Mapping[str, Any]) -> PolicyResource:
    return PolicyResource(type_, props, urn(type_, name), name, opts(), None, None, [], {})


def stack_violations(name: str, *resources: PolicyResource) -> list[tuple[str, str | None]]:
    """The (message, urn) pairs a stack policy reports for a set of resources."""
    found: list[tuple[str, str | None]] = []
    target = policy(name)
    assert isinstance(target, StackPolicy)
    target.validate(StackValidationArgs(list(resources)), lambda message, u: found.append((message, u)))
    return found
