"""Offline models of pulumi-pulumiservice resources and invokes.

Ids follow the provider's import formats (``org/project/stack`` for deployment
settings, with the schedule id, webhook name or tag name appended for the
resources that hang off a stack).
"""

from __future__ import annotations

import uuid
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, resource
from offline.models.knowledge import replaced_on, review
from offline.render_deployments import drift_lines, settings_lines


def _stack_path(inputs: dict[str, Any], org_key: str = "organization", project_key: str = "project", stack_key: str = "stack") -> str:
    return f"{inputs.get(org_key)}/{inputs.get(project_key)}/{inputs.get(stack_key)}"


@resource("pulumiservice:index:DeploymentSettings")
def _deployment_settings(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    return {"id": _stack_path(args.inputs)}


@resource("pulumiservice:index:DriftSchedule")
def _drift_schedule(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    # The service answers a schedule with a UUID; derived from the name so two plans agree.
    schedule_id = str(uuid.UUID(ctx.digest(args.typ, args.name, _stack_path(args.inputs), length=32)))
    return {"id": f"{_stack_path(args.inputs)}/{schedule_id}", "scheduleId": schedule_id}


@resource("pulumiservice:index:Webhook")
def _webhook(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    # The service names a webhook itself; the name is its id under the stack.
    name = ctx.digest(args.name, str(args.inputs.get("displayName")), length=12)
    path = _stack_path(args.inputs, "organizationName", "projectName", "stackName")
    defaults = {"format": "raw"} if "format" not in args.inputs else {}
    return {"id": f"{path}/{name}", "name": name, **defaults}


@resource("pulumiservice:index:StackTag")
def _stack_tag(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    return {"id": f"{_stack_path(args.inputs)}/{args.inputs.get('name')}"}


# What a change to an input replaces (the provider's schema rule, cited) and what a reviewer sees.
replaced_on("pulumiservice:index:DeploymentSettings",
    "organization", "project", "stack",
    source="pulumi-pulumiservice provider/pkg/resources/deployment_settings.go Diff: organization, project, stack replace")
replaced_on("pulumiservice:index:DriftSchedule",
    "organization", "project", "stack", source="pulumi-pulumiservice schema.json: replaceOnChanges on organization, project, stack")
replaced_on("pulumiservice:index:Webhook",
    "environmentName", "organizationName", "projectName", "stackName",
    source="pulumi-pulumiservice schema.json: replaceOnChanges on organizationName, projectName, stackName, environmentName")
replaced_on("pulumiservice:index:StackTag",
    "name", "organization", "project", "stack", "value", source="pulumi-pulumiservice schema.json: replaceOnChanges on every input")
review("pulumiservice:index:DeploymentSettings", "sourceContext.git.branch", summary=settings_lines)
review("pulumiservice:index:DriftSchedule", "scheduleCron", "autoRemediate", summary=drift_lines)
review("pulumiservice:index:Webhook", "format", "filters")
review("pulumiservice:index:StackTag", "name", "value")
