"""The policy pack published to Pulumi Cloud: the one resource of the pack project (``pack/``).

Publishing is its own project, run deliberately when ``policy/PulumiPolicy.yaml``'s
version changes, with a token that may publish an organisation's pack. No stack
of the platform publishes: a push-triggered Deployment runs with its stack's own
token, and a replacement on every update would publish a version again, which
Pulumi Cloud refuses ("policy pack version tags are immutable": the provider's
``PolicyPack`` schema, ``provider/pkg/resources/policy_pack.go``).

The source is the staged copy of the pack (``components.policy_pack.stage``), so
the provider's content hash is the one ``policy/published.json`` records, on any
machine and however often the repository's programs ran there. Our own record
check refuses changed files under a recorded version before the service could.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_pulumiservice as pulumiservice
from pydantic import TypeAdapter, ValidationError

from components import policy_pack
from components.config.base import MISSING, ConfigError, Problem
from components.config.deployments import OrganizationName


class PackRecordError(pulumi.RunError):
    """The pack's files do not match the record of its version: publishing is refused."""


@dataclass
class PublishedPackArgs:
    """Inputs of one published pack version."""

    organization: pulumi.Input[str]
    """The Pulumi organisation the pack is published to."""
    name: pulumi.Input[str]
    """The pack's name in the organisation."""
    version_tag: pulumi.Input[str]
    """The version published (immutable in Pulumi Cloud)."""
    source_path: pulumi.Input[str]
    """The staged pack: the directory hashed and uploaded."""
    policies: Sequence[pulumiservice.PolicyPackPolicyInputArgs]
    """Each policy's name, description, remediation and default level, as Pulumi Cloud lists them."""


class PublishedPack(pulumi.ComponentResource):
    """One version of the policy pack in Pulumi Cloud."""

    version_tag: pulumi.Output[str]
    content_hash: pulumi.Output[str]

    def __init__(self, name: str, args: PublishedPackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:pack:PublishedPack", name, None, opts)
        pack = pulumiservice.PolicyPack(
            f"{name}-version",
            name=args.name,
            organization=args.organization,
            version_tag=args.version_tag,
            source_path=args.source_path,
            policies=args.policies,
            # A new version replaces this one in the project, but the stacks' groups may still name it.
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        self.version_tag = pack.version_tag
        self.content_hash = pack.content_hash
        self.register_outputs({"version_tag": self.version_tag, "content_hash": self.content_hash})


def pack_organization(raw: str | None) -> str:
    """``pack:organization`` checked as Pulumi Cloud names an organisation; a ConfigError naming the key otherwise."""
    try:
        return TypeAdapter(OrganizationName).validate_python(raw)
    except ValidationError:
        allowed = "required: the Pulumi organisation the pack is published to (letters, digits, '.', '_', '-'; 1-40)"
        raise ConfigError([Problem("pack:organization", MISSING if raw is None else raw, allowed)]) from None


def published_pack_args(organization: str) -> PublishedPackArgs:
    """The pack of this commit, staged, after checking it against its version's record."""
    from policy.pack import NAME
    from policy.policies import POLICIES

    try:
        version = policy_pack.check()
    except policy_pack.PackVersionError as exc:
        raise PackRecordError(str(exc)) from None
    return PublishedPackArgs(
        organization=organization,
        name=NAME,
        version_tag=version,
        source_path=str(policy_pack.stage()),
        policies=[
            pulumiservice.PolicyPackPolicyInputArgs(
                name=p.name, description=p.description, enforcement_level="mandatory", remediation_steps=p.remediation_steps,
            )
            for p in POLICIES
        ],
    )
