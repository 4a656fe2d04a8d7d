"""Offline models of what the delivery pipeline uses in AWS: the ECR image repository and its lifecycle."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


# --- what a lifecycle policy expires ---------------------------------------------------------------


@dataclass(frozen=True)
class StoredImage:
    """An image in a repository, as a lifecycle policy sees it."""

    digest: str
    tags: tuple[str, ...]
    pushed_day: float
    """When it was pushed, in days on any fixed scale."""


def _selects(selection: Mapping[str, Any], image: StoredImage) -> bool:
    status = selection["tagStatus"]
    if status == "any":
        return True
    if status == "untagged":
        return not image.tags
    # Every pattern (or prefix) of the list must match one of the image's tags; "*" matches any characters.
    patterns = [*selection.get("tagPatternList", ()), *(f"{p}*" for p in selection.get("tagPrefixList", ()))]
    return bool(image.tags) and all(any(fnmatch.fnmatchcase(tag, p) for tag in image.tags) for p in patterns)


def lifecycle_expires(policy_text: str, images: Sequence[StoredImage], today: float) -> set[str]:
    """The digests an ECR lifecycle policy expires among ``images`` on ``today``.

    The evaluation rules of the ECR User Guide, "How lifecycle policies work": rules run in ``rulePriority``
    order; a rule marks, among the images it selects, those beyond ``countNumber`` newest pushed
    (``imageCountMoreThan``) or pushed more than ``countNumber`` days ago (``sinceImagePushed``); an image that
    matches the tagging requirements of a rule cannot be expired by a rule of lower priority; each image is
    expired by one rule at most. "Lifecycle policy properties in Amazon ECR": every pattern of a
    ``tagPatternList`` must match.
    """
    expired: set[str] = set()
    claimed: set[str] = set()
    for rule in sorted(json.loads(policy_text)["rules"], key=lambda r: r["rulePriority"]):
        selection = rule["selection"]
        chosen = sorted((i for i in images if _selects(selection, i)), key=lambda i: i.pushed_day, reverse=True)
        if selection["countType"] == "imageCountMoreThan":
            marked = chosen[selection["countNumber"]:]
        else:
            marked = [i for i in chosen if today - i.pushed_day > selection["countNumber"]]
        expired |= {i.digest for i in marked if i.digest not in claimed}
        claimed |= {i.digest for i in chosen}
    return expired
