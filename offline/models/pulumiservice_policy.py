"""Offline models of Pulumi Cloud's policy resources: a published pack version and a policy group.

Ids follow the provider's import formats: ``org/pack/version`` for a pack version and
``org/group`` for a policy group.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, resource
from offline.models.knowledge import EVERY_INPUT, replaced_on, review


@resource("pulumiservice:index:PolicyPack")
def _policy_pack(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    org, name, tag = (str(args.inputs.get(k)) for k in ("organization", "name", "versionTag"))
    # The service numbers a pack's versions 1, 2, ... in publishing order; one version offline.
    return {"id": f"{org}/{name}/{tag}", "version": 1, "contentHash": ctx.digest(org, name, tag, length=64)}


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
