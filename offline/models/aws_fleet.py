"""Offline models of ECS and Application Auto Scaling: clusters, task definitions, services, scaling.

A task definition's ARN ends in a revision; each new content is a new
revision, so the model derives the revision from the container definitions:
a service pointing at a changed task definition shows up as changed too.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, autoname, resource


@resource("aws:ecs/cluster:Cluster")
def _cluster(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    arn = ctx.arn("ecs", f"cluster/{name}")
    return {"id": arn, "arn": arn, "name": name}


@resource("aws:ecs/taskDefinition:TaskDefinition")
def _task_definition(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    family = str(args.inputs.get("family") or args.name)
    content = str(args.inputs.get("containerDefinitions", ""))
    revision = int(ctx.digest(family, content, length=6), 16) % 9000 + 1
    arn = ctx.arn("ecs", f"task-definition/{family}:{revision}")
    return {"id": family, "arn": arn, "arnWithoutRevision": ctx.arn("ecs", f"task-definition/{family}"), "revision": revision}


@resource("aws:ecs/service:Service")
def _service(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    cluster = str(args.inputs.get("cluster", ""))
    cluster_name = cluster.rsplit("/", 1)[-1] or "default"
    arn = ctx.arn("ecs", f"service/{cluster_name}/{name}")
    return {"id": arn, "arn": arn, "name": name}


@resource("aws:appautoscaling/target:Target")
def _scalable_target(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    resource_id = str(args.inputs.get("resourceId", ""))
    digest = ctx.digest(resource_id, length=32)
    return {
        "id": resource_id,
        "arn": ctx.arn("application-autoscaling", f"scalable-target/{digest}"),
        "roleArn": f"arn:aws:iam::{ctx.account}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
                   "AWSServiceRoleForApplicationAutoScaling_ECSService",
    }


@resource("aws:appautoscaling/policy:Policy")
def _scaling_policy(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    resource_id = str(args.inputs.get("resourceId", ""))
    arn = ctx.arn("autoscaling", f"scalingPolicy:{ctx.digest(resource_id, length=36)}:resource/ecs/{resource_id}:policyName/{name}")
    return {"id": name, "arn": arn, "name": name, "alarmArns": []}
