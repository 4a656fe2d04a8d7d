"""The policy pack, enforced by Pulumi Cloud: this stack's policy group, naming a published version.

A policy group attaches the pack, with this stack's policy config, to the stack;
Pulumi Cloud then runs it on every update of the stack, including Pulumi
Deployments runs, which take no ``--policy-pack`` flag.

No stack publishes the pack: the pack project (``pack/``, ``components/pack_publishing.py``)
does, deliberately, with a token that may publish. A stack looks the version up
first (``getPolicyPacks``), so an update naming a version nobody published fails
in its preview, naming the version, before any policy group changes.
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


class UnpublishedPackError(pulumi.RunError):
    """The stack names a pack version Pulumi Cloud does not hold."""


def published_tag(packs: Sequence[Any], name: str, tag: str, organization: str) -> str:
    """``tag`` when the organisation's pack ``name`` holds it; the error names what to publish otherwise."""
    for pack in packs:
        # The SDK hands the listed packs over as PolicyPackSummary objects or, untyped, as their wire dicts.
        found = pack if isinstance(pack, Mapping) else {"name": pack.name, "versionTags": pack.version_tags}
        if found.get("name") == name and tag in (found.get("versionTags") or found.get("version_tags") or ()):
            return tag
    message = (
        f"policy pack {organization}/{name} has no version {tag} in Pulumi Cloud: publish it first with the pack "
        "project (`pulumi up -C pack -s pack`, docs/security.md \"Publishing a pack version\"), then update this stack"
    )
    raise UnpublishedPackError(message)


class Guardrails(pulumi.ComponentResource):
    """The stack's policy group, after looking up the published pack version it names."""

    group_name: pulumi.Output[str]

    def __init__(self, name: str, args: GuardrailsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:guardrails:Guardrails", name, None, opts)
        # Pulumi Cloud lists each pack's version tags (pulumi-pulumiservice getPolicyPacks: versionTags).
        packs = pulumiservice.get_policy_packs_output(
            organization_name=args.organization, opts=pulumi.InvokeOutputOptions(parent=self),
        ).policy_packs
        version = pulumi.Output.all(packs, args.pack_name, args.pack_version, args.organization).apply(
            lambda found: published_tag(found[0], found[1], found[2], found[3]),
        )
        group = pulumiservice.PolicyGroup(
            f"{name}-group",
            name=pulumi.Output.concat(args.project, "-", args.stack),
            organization_name=args.organization,
            entity_type="stacks",
            mode=args.mode,
            stacks=[{"name": args.stack, "routing_project": args.project}],
            policy_packs=[{"name": args.pack_name, "version_tag": version, "config": args.pack_config}],
            opts=pulumi.ResourceOptions(parent=self),
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

    guardrails = config.guardrails
    if guardrails.organization is None:
        message = "guardrails:organization is required when guardrails:enabled is true"
        raise ValueError(message)
    # The committed file is what --policy-pack-config gives the engine; fall back to the scopes.
    stack_config = load_config(config.stack) or pack_config(config.environment)
    return GuardrailsArgs(
        organization=guardrails.organization,
        project=project,
        stack=config.stack,
        pack_name=NAME,
        pack_version=pack_version(),
        pack_config=json.loads(json.dumps(stack_config)),
        mode=guardrails.mode.value,
    )
