"""Offline models of ECS and Application Auto Scaling: clusters, task definitions, services, scaling.

A task definition's ARN ends in a revision; each new content is a new
revision, so the model derives the revision from the container definitions:
a service pointing at a changed task definition shows up as changed too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from components.config.fleet import FARGATE_SIZES
from offline.models import MockContext, autoname, resource
from offline.models.knowledge import (
    REGION,
    REGION_SDKV2,
    TF,
    Call,
    PlanView,
    Violation,
    creates,
    input_rule,
    named,
    pascal,
    pick,
    replaced_on,
    review,
    scaled_by,
)
from offline.render_resources import images


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


# --- create requests, validated by the offline check against botocore's service models ---------
# ECS's API is camelCase like the provider's inputs: most members pass through by their own names.


@creates("ecs", "aws:ecs/cluster:Cluster")
def _cluster_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return named(pick(inputs, {"settings": "settings"}, "CreateCluster"), "clusterName", name)


@creates("ecs", "aws:ecs/taskDefinition:TaskDefinition")
def _task_definition_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {key: key for key in ("family", "taskRoleArn", "executionRoleArn", "networkMode", "cpu", "memory",
                                              "requiresCompatibilities", "runtimePlatform", "pidMode", "ipcMode")},
                "RegisterTaskDefinition")
    raw = inputs.get("containerDefinitions")
    try:
        containers = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        containers = raw  # the shape check reports a string where a list belongs
    call.params["containerDefinitions"] = containers
    call.origin["containerDefinitions"] = "containerDefinitions"
    return [call]


@creates("ecs", "aws:ecs/service:Service")
def _service_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {key: key for key in ("cluster", "taskDefinition", "loadBalancers", "desiredCount", "launchType",
                                              "platformVersion", "healthCheckGracePeriodSeconds", "propagateTags",
                                              "enableExecuteCommand", "schedulingStrategy")}, "CreateService")
    call.params["serviceName"] = name
    call.origin["serviceName"] = "name"
    if inputs.get("enableEcsManagedTags") is not None:
        call.params["enableECSManagedTags"] = inputs["enableEcsManagedTags"]
        call.origin["enableECSManagedTags"] = "enableEcsManagedTags"
    deployment: dict[str, Any] = {}
    for key, member in (("deploymentMaximumPercent", "maximumPercent"), ("deploymentMinimumHealthyPercent", "minimumHealthyPercent"),
                        ("deploymentCircuitBreaker", "deploymentCircuitBreaker")):
        if inputs.get(key) is not None:
            deployment[member] = inputs[key]
    if deployment:
        call.params["deploymentConfiguration"] = deployment
        call.origin["deploymentConfiguration"] = "deployment*"
    network = inputs.get("networkConfiguration")
    if isinstance(network, dict):
        vpc = {k: network[k] for k in ("subnets", "securityGroups") if network.get(k) is not None}
        if network.get("assignPublicIp") is not None:
            vpc["assignPublicIp"] = "ENABLED" if network["assignPublicIp"] else "DISABLED"
        call.params["networkConfiguration"] = {"awsvpcConfiguration": vpc}
        call.origin["networkConfiguration"] = "networkConfiguration"
    return [call]


@creates("application-autoscaling", "aws:appautoscaling/target:Target")
def _scalable_target_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"serviceNamespace": "ServiceNamespace", "resourceId": "ResourceId",
                          "scalableDimension": "ScalableDimension", "minCapacity": "MinCapacity",
                          "maxCapacity": "MaxCapacity", "roleArn": "RoleARN"}, "RegisterScalableTarget")]


@creates("application-autoscaling", "aws:appautoscaling/policy:Policy")
def _scaling_policy_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"serviceNamespace": "ServiceNamespace", "resourceId": "ResourceId",
                         "scalableDimension": "ScalableDimension", "policyType": "PolicyType"}, "PutScalingPolicy")
    call.params["PolicyName"] = name
    call.origin["PolicyName"] = "name"
    for key in ("targetTrackingScalingPolicyConfiguration", "stepScalingPolicyConfiguration"):
        if isinstance(inputs.get(key), dict):
            member = key[:1].upper() + key[1:]
            call.params[member] = pascal(inputs[key])
            call.origin[member] = key
    return [call]


@input_rule(
    "aws:ecs/taskDefinition:TaskDefinition", "fargate-task-size",
    "Amazon ECS Developer Guide, 'Task definition parameters' > 'Task size' (the CPU and memory pairs Fargate supports)",
)
def _fargate_size(inputs: dict[str, Any], _: PlanView) -> Iterator[Violation]:
    if "FARGATE" not in (inputs.get("requiresCompatibilities") or []):
        return
    try:
        cpu, memory = int(str(inputs.get("cpu"))), int(str(inputs.get("memory")))
    except ValueError:
        yield Violation("cpu", inputs.get("cpu"), "Fargate needs cpu and memory as numbers of units and MiB")
        return
    if memory not in FARGATE_SIZES.get(cpu, ()):
        yield Violation("memory", memory, f"Fargate does not run cpu {cpu} with memory {memory} MiB")


# What a change to an input replaces (the provider's schema rule, cited) and what a reviewer sees.
replaced_on("aws:ecs/cluster:Cluster",
    "name", REGION, source=f"{TF}ecs/cluster.go: name ForceNew; {REGION_SDKV2}")
replaced_on("aws:ecs/taskDefinition:TaskDefinition",
    "containerDefinitions", "cpu", "enableFaultInjection", "ephemeralStorage", "executionRoleArn", "family", "ipcMode",
    "memory", "networkMode", "pidMode", "placementConstraints", "proxyConfiguration", "requiresCompatibilities",
    "runtimePlatform", "taskRoleArn", "volumes", REGION,
    source=f"{TF}ecs/task_definition.go: every argument ForceNew (a change registers a new revision) but tags,"
           f" skip_destroy and track_latest, which update in place; {REGION_SDKV2}")
replaced_on("aws:ecs/service:Service",
    "cluster", "iamRole", "launchType", "name", "schedulingStrategy", REGION,
    source=f"{TF}ecs/service.go: cluster, iam_role, launch_type, name, scheduling_strategy ForceNew (deployment_controller"
           " and load_balancer update in place; a capacity_provider_strategy change needs force_new_deployment, its"
           f" CustomizeDiff refuses it otherwise); {REGION_SDKV2}")
replaced_on("aws:appautoscaling/target:Target",
    "resourceId", "scalableDimension", "serviceNamespace", REGION,
    source=f"{TF}appautoscaling/target.go: resource_id, scalable_dimension, service_namespace ForceNew (min_capacity,"
           f" max_capacity, role_arn update through RegisterScalableTarget); {REGION_SDKV2}")
replaced_on("aws:appautoscaling/policy:Policy",
    "name", "resourceId", "scalableDimension", "serviceNamespace", REGION,
    source=f"{TF}appautoscaling/policy.go: name, resource_id, scalable_dimension, service_namespace ForceNew;"
           f" {REGION_SDKV2}")
review("aws:ecs/cluster:Cluster", "name")
review("aws:ecs/service:Service", "desiredCount")
review("aws:appautoscaling/target:Target", "minCapacity", "maxCapacity")
review("aws:ecs/taskDefinition:TaskDefinition", summary=images)
# Application Auto Scaling's ECS dimension sets the service's desired count (botocore application-autoscaling
# service-2.json, ScalableDimension: "ecs:service:DesiredCount - The task count of an ECS service").
scaled_by("ecs:service:DesiredCount", "aws:ecs/service:Service", "desiredCount")
