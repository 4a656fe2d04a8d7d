"""Realistic answers for every resource type and invoke the program uses, offline.

Each provider module registers a function per type token. A resource model gets
the registration and returns the outputs the provider would add (ids, ARNs in
AWS's format with region and account, DNS names, endpoints); inputs pass
through. A type or invoke with no model fails the evaluation loudly: an empty
answer would let a plan look complete when it is not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class MockContext:
    """What a model may use: where the stack is, and deterministic identifiers."""

    project: str
    stack: str
    region: str
    account: str = ACCOUNT_ID

    def digest(self, *parts: str, length: int = 17) -> str:
        """A stable hex string from the parts, so two evaluations agree on every id."""
        return hashlib.sha256(":".join(parts).encode()).hexdigest()[:length]

    def arn(self, service: str, resource: str, *, regional: bool = True, account: bool = True) -> str:
        """An ARN in AWS's format for this stack's partition, region and account."""
        region = self.region if regional else ""
        owner = self.account if account else ""
        return f"arn:aws:{service}:{region}:{owner}:{resource}"


ResourceModel = Callable[[MockResourceArgs, MockContext], dict[str, Any]]
InvokeModel = Callable[[dict[str, Any], MockContext], dict[str, Any]]

RESOURCES: dict[str, ResourceModel] = {}
INVOKES: dict[str, InvokeModel] = {}


def resource(*types: str) -> Callable[[ResourceModel], ResourceModel]:
    """Register a model for resource type tokens."""

    def register(fn: ResourceModel) -> ResourceModel:
        for type_ in types:
            RESOURCES[type_] = fn
        return fn

    return register


def invoke(*tokens: str) -> Callable[[InvokeModel], InvokeModel]:
    """Register a model for invoke tokens."""

    def register(fn: InvokeModel) -> InvokeModel:
        for token in tokens:
            INVOKES[token] = fn
        return fn

    return register


def autoname(args: MockResourceArgs, ctx: MockContext, key: str = "name") -> str:
    """The physical name: the one given, else Pulumi's auto-name (logical name plus 7 characters)."""
    given = args.inputs.get(key)
    if isinstance(given, str) and given:
        return given
    return f"{args.name}-{ctx.digest(args.typ, args.name, length=7)}"


class UnmodelledError(Exception):
    """The program used a resource type or invoke that has no offline model."""


class OfflineMocks(Mocks):
    """Pulumi mocks answering from the registered models."""

    def __init__(self, project: str, stack: str, region: str) -> None:
        self.ctx = MockContext(project=project, stack=stack, region=region)
        self.failures: list[str] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """Answer a registration: inputs plus what the provider computes."""
        if not args.custom:
            return f"{args.name}", dict(args.inputs)
        model = RESOURCES.get(args.typ)
        if model is None:
            message = (
                f"no offline model for resource type {args.typ} (resource {args.name!r}): "
                "add one in offline/models/"
            )
            self.failures.append(message)
            raise UnmodelledError(message)
        extra = model(args, self.ctx)
        state = {**args.inputs, **extra}
        physical_id = str(state.pop("id", None) or f"{args.name}-{self.ctx.digest(args.typ, args.name, length=8)}")
        return physical_id, state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """Answer an invoke from its model."""
        self.calls.append((args.token, dict(args.args)))
        model = INVOKES.get(args.token)
        if model is None:
            message = f"no offline model for invoke {args.token}: add one in offline/models/"
            self.failures.append(message)
            raise UnmodelledError(message)
        # The SDK iterates the failures list: an empty list, never None.
        return model(dict(args.args), self.ctx), []


# Provider modules register their models on import.
from offline.models import (  # noqa: E402, F401, I001
    aws, aws_cloudwatch, aws_data, aws_delivery, aws_fleet, aws_identity, aws_logs, aws_monitoring, aws_network, aws_traffic,
    github,
    pulumiservice, pulumiservice_policy,
)
