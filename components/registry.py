"""The application's image repository in ECR: one image per commit, never overwritten.

Tags are immutable, so the image a commit's SHA names is the image staging ran and
production receives. Every push is scanned. The lifecycle policy drops untagged
layers quickly, keeps every image a stack's recent releases need (the tags the deploy jobs
add), and the newest builds never released.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

UNTAGGED_DAYS = 7
# The tags a deploy job adds to the image it releases (components/pipeline.py): production's before the release
# starts, staging's once the release is promoted. Each names one stack's releases, newest pushed first.
RELEASED_PRODUCTION = "released-production-"
VERIFIED_STAGING = "verified-staging-"


def lifecycle_policy(keep_releases: int, keep_images: int) -> str:
    """The ECR lifecycle policy: each stack's newest ``keep_releases`` released images, then the rest.

    Sources, the ECR User Guide: "How lifecycle policies work" (rules apply in ``rulePriority`` order; an image
    that matches the tagging requirements of a rule cannot be expired by a rule of lower priority;
    ``imageCountMoreThan`` keeps the images pushed last) and "Lifecycle policy properties in Amazon ECR"
    (``tagPatternList`` with at most four ``*`` per pattern, every pattern of a list must match; the ``any``
    rule has the highest priority number). So the released rules come first: the count of unreleased builds
    can never expire an image live, standby or a rollback to one of the last ``keep_releases`` releases needs.
    """
    def released(priority: int, prefix: str, stack: str) -> dict[str, object]:
        return {
            "rulePriority": priority,
            "description": f"Keep the images of {stack}'s newest {keep_releases} releases",
            "selection": {"tagStatus": "tagged", "tagPatternList": [f"{prefix}*"],
                          "countType": "imageCountMoreThan", "countNumber": keep_releases},
            "action": {"type": "expire"},
        }

    return json.dumps({
        "rules": [
            released(1, RELEASED_PRODUCTION, "production"),
            released(2, VERIFIED_STAGING, "staging"),
            {
                "rulePriority": 3,
                "description": f"Expire untagged images after {UNTAGGED_DAYS} days",
                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": UNTAGGED_DAYS},
                "action": {"type": "expire"},
            },
            {
                # ECR requires the "any" rule to have the lowest priority (highest number).
                "rulePriority": 4,
                "description": f"Keep the newest {keep_images} images never released",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_images},
                "action": {"type": "expire"},
            },
        ],
    }, indent=2)


@dataclass
class ImageRegistryArgs:
    """Inputs of the image repository."""

    repository_name: pulumi.Input[str]
    """The ECR repository's name."""
    keep_releases: int
    """How many released images of each stack the lifecycle policy keeps: live, standby and the rollbacks."""
    keep_images: int
    """How many images never released the lifecycle policy keeps."""
    tags: pulumi.Input[dict[str, str]] = field(default_factory=dict)
    """Tags of the repository."""


class ImageRegistry(pulumi.ComponentResource):
    """An ECR repository with scan on push, immutable tags and a lifecycle policy."""

    repository_url: pulumi.Output[str]
    arn: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, name: str, args: ImageRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:registry:ImageRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        repository = aws.ecr.Repository(
            f"{name}-repository",
            name=args.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "AES256"}],
            # Images are releases: deleting the repository must not silently drop them.
            force_delete=False,
            tags=args.tags,
            # Every stack's releases live here, so no update may delete or replace it.
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=repository.name,
            policy=lifecycle_policy(args.keep_releases, args.keep_images),
            opts=child,
        )
        self.repository_url = repository.repository_url
        self.arn = repository.arn
        self.name = repository.name
        self.register_outputs({"repository_url": self.repository_url, "arn": self.arn, "name": self.name})
