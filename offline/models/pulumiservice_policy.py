"""Offline models of Pulumi Cloud's policy resources: a published pack version, a policy group, the packs listed.

Ids follow the provider's import formats: ``org/pack/version`` for a pack version and
``org/group`` for a policy group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from components import policy_pack
from offline.models import MockContext, invoke, resource
from offline.models.knowledge import EVERY_INPUT, replaced_on, review
from policy.pack import NAME


@resource("pulumiservice:index:PolicyPack")
def _policy_pack(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    org, name, tag = (str(args.inputs.get(k)) for k in ("organization", "name", "versionTag"))
    source = Path(str(args.inputs.get("sourcePath")))
    # The provider's own hash of the source (hashPolicyPackSource), as its Create stores it in the state.
    content = policy_pack.content_hash(source) if source.is_dir() else ctx.digest(org, name, tag, length=64)
    # The service numbers a pack's versions 1, 2, ... in publishing order; one version offline.
    return {"id": f"{org}/{name}/{tag}", "version": 1, "contentHash": content}


@invoke("pulumiservice:index:getPolicyPacks")
def _policy_packs(args: dict[str, Any], ctx: MockContext) -> dict[str, Any]:
    # Offline, the organisation holds every version policy/published.json records (the pack project published them).
    tags = sorted(policy_pack.recorded())
    summary = {"name": NAME, "displayName": NAME, "versions": list(range(1, len(tags) + 1)), "versionTags": tags}
    return {"policyPacks": [summary]}


@resource("pulumiservice:index:PolicyGroup")
def _policy_group(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    return {"id": f"{args.inputs.get('organizationName')}/{args.inputs.get('name')}"}


# What a change to an input replaces (the provider's schema rule, cited) and what a reviewer sees.
replaced_on("pulumiservice:index:PolicyPack",
    EVERY_INPUT,
    source="pulumi-pulumiservice provider/pkg/resources/policy_pack.go Diff: versions are immutable, every input change replaces")
replaced_on("pulumiservice:index:PolicyGroup",
    "entityType", "mode", "name", source="pulumi-pulumiservice provider/pkg/resources/policy_group.go Diff: name, entityType, mode replace")
review("pulumiservice:index:PolicyPack", "name", "versionTag")
review("pulumiservice:index:PolicyGroup", "mode", "policyPacks")
