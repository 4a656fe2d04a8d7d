"""The policy pack, enforced by Pulumi Cloud: a published pack version and this stack's policy group.

A policy group attaches the pack, with this stack's policy config, to the stack;
Pulumi Cloud then runs it on every update of the stack, including Pulumi
Deployments runs, which take no ``--policy-pack`` flag.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_pulumiservice as pulumiservice

from components import policy_pack
from components.config import StackConfig
from components.config.base import ConfigError, Problem

POLICY_DIR = policy_pack.POLICY_DIR


@dataclass
class GuardrailsArgs:
    """Inputs of the stack's policy enforcement in Pulumi Cloud."""

    organization: pulumi.Input[str]
    """The Pulumi organisation that owns the stack and the pack."""
    project: pulumi.Input[str]
    """The project the stack belongs to."""
    stack: pulumi.Input[str]
    """The stack the policy group applies the pack to."""
    pack_name: pulumi.Input[str]
    """The pack's name in the organisation."""
    pack_version: pulumi.Input[str]
    """The pack version the group enforces (semver; a published version never changes)."""
    pack_config: pulumi.Input[Mapping[str, Any]]
    """The stack's policy config: ``all`` and per-policy enforcement levels."""
    mode: pulumi.Input[str]
    """``preventative`` (block) or ``audit`` (record only)."""
    publish: bool
    """Upload this pack version from ``source_path`` (exactly one stack does)."""
    source_path: pulumi.Input[str]
    """The pack's directory, uploaded when publishing."""
    policies: Sequence[pulumiservice.PolicyPackPolicyInputArgs]
    """Each policy's name, description, remediation and default level, as Pulumi Cloud lists them."""


class Guardrails(pulumi.ComponentResource):
    """The published pack (on the publishing stack) and the stack's policy group."""

    group_name: pulumi.Output[str]

    def __init__(self, name: str, args: GuardrailsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:guardrails:Guardrails", name, None, opts)
        depends: list[pulumi.Resource] = []
        if args.publish:
            pack = pulumiservice.PolicyPack(
                f"{name}-pack",
                name=args.pack_name,
                organization=args.organization,
                version_tag=args.pack_version,
                source_path=args.source_path,
                policies=args.policies,
                # Other stacks' groups keep enforcing the previous version until they move on.
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )
            depends.append(pack)
        group = pulumiservice.PolicyGroup(
            f"{name}-group",
            name=pulumi.Output.concat(args.project, "-", args.stack),
            organization_name=args.organization,
            entity_type="stacks",
            mode=args.mode,
            stacks=[{"name": args.stack, "routing_project": args.project}],
            policy_packs=[{"name": args.pack_name, "version_tag": args.pack_version, "config": args.pack_config}],
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
        self.group_name = group.name
        self.register_outputs({"group_name": self.group_name})


def pack_version() -> str:
    """The pack's version, from ``policy/PulumiPolicy.yaml``."""
    return policy_pack.version()


def guardrails_args(config: StackConfig, project: str) -> GuardrailsArgs:
    """The component's args from the validated stack config and the pack in this repository."""
    from policy.enforcement import load_config, pack_config
    from policy.pack import NAME
    from policy.policies import POLICIES

    guardrails = config.guardrails
    if guardrails.organization is None:
        message = "guardrails:organization is required when guardrails:enabled is true"
        raise ValueError(message)
    # A published version is immutable: publishing changed files under a recorded version is refused here.
    try:
        version = policy_pack.check() if guardrails.publish else pack_version()
    except policy_pack.PackVersionError as exc:
        raise ConfigError([Problem("guardrails:publish", True, str(exc))]) from exc
    # The committed file is what --policy-pack-config gives the engine; fall back to the scopes.
    stack_config = load_config(config.stack) or pack_config(config.environment)
    return GuardrailsArgs(
        organization=guardrails.organization,
        project=project,
        stack=config.stack,
        pack_name=NAME,
        pack_version=version,
        pack_config=json.loads(json.dumps(stack_config)),
        mode=guardrails.mode.value,
        publish=guardrails.publish,
        # Relative to the project, where the engine runs the program: the same on every machine.
        source_path=POLICY_DIR.name,
        policies=[
            pulumiservice.PolicyPackPolicyInputArgs(
                name=p.name, description=p.description, enforcement_level="mandatory", remediation_steps=p.remediation_steps,
            )
            for p in POLICIES
        ],
    )
