"""Offline models of what the delivery pipeline uses in AWS: the ECR image repository."""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, autoname, invoke, resource
from offline.models.knowledge import REGION, REGION_SDKV2, TF, Call, creates, pick, replaced_on, review


def _repository_answer(name: str, ctx: MockContext) -> dict[str, Any]:
    return {
        "id": name,
        "name": name,
        "arn": ctx.arn("ecr", f"repository/{name}"),
        "registryId": ctx.account,
        "repositoryUrl": f"{ctx.account}.dkr.ecr.{ctx.region}.amazonaws.com/{name}",
    }


@resource("aws:ecr/repository:Repository")
def _repository(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    return _repository_answer(autoname(args, ctx), ctx)


@resource("aws:ecr/lifecyclePolicy:LifecyclePolicy")
def _lifecycle_policy(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    repository = str(args.inputs.get("repository", ""))
    return {"id": repository, "registryId": ctx.account}


@invoke("aws:ecr/getRepository:getRepository")
def _get_repository(args: dict[str, Any], ctx: MockContext) -> dict[str, Any]:
    answer = _repository_answer(str(args.get("name", "")), ctx)
    return {
        **answer,
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfigurations": [{"scanOnPush": True}],
        "encryptionConfigurations": [{"encryptionType": "AES256", "kmsKey": ""}],
        "mostRecentImageTags": [],
        "tags": {},
    }


# --- create requests, validated by the offline check against botocore's service models ---------


@creates("ecr", "aws:ecr/repository:Repository")
def _repository_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"imageTagMutability": "imageTagMutability", "imageScanningConfiguration": "imageScanningConfiguration"},
                "CreateRepository")
    call.params["repositoryName"] = name
    call.origin["repositoryName"] = "name"
    encryption = [e for e in inputs.get("encryptionConfigurations") or [] if isinstance(e, dict)]
    if encryption:
        call.params["encryptionConfiguration"] = encryption[0]
        call.origin["encryptionConfiguration"] = "encryptionConfigurations[0]"
    return [call]


@creates("ecr", "aws:ecr/lifecyclePolicy:LifecyclePolicy")
def _lifecycle_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"repository": "repositoryName", "policy": "lifecyclePolicyText"}, "PutLifecyclePolicy")]


# What a change to an input replaces (the provider's schema rule, cited) and what a reviewer sees.
replaced_on("aws:ecr/repository:Repository",
    "encryptionConfigurations", "name", REGION,
    source=f"{TF}ecr/repository.go: encryption_configuration (and its encryption_type, kms_key), name ForceNew"
           " (image_tag_mutability and image_scanning_configuration update through PutImageTagMutability and"
           f" PutImageScanningConfiguration); {REGION_SDKV2}")
replaced_on("aws:ecr/lifecyclePolicy:LifecyclePolicy",
    "policy", "repository", REGION,
    source=f"{TF}ecr/lifecycle_policy.go: policy, repository ForceNew (the resource has no update; an equivalent"
           f" policy with rules reordered is no change); {REGION_SDKV2}")
review("aws:ecr/repository:Repository", "name", "imageTagMutability", "imageScanningConfiguration.scanOnPush")
