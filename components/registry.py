"""The application's image repository in ECR: one image per commit, never overwritten.

Tags are immutable, so the image a commit's SHA names is the image staging ran and
production receives. Every push is scanned. The lifecycle policy drops untagged
layers quickly and keeps the newest tagged images, enough to roll back far.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

UNTAGGED_DAYS = 7


def lifecycle_policy(keep_images: int) -> str:
    """The ECR lifecycle policy: expire untagged images after a week, keep the newest ``keep_images`` tagged ones."""
    return json.dumps({
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {UNTAGGED_DAYS} days",
                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": UNTAGGED_DAYS},
                "action": {"type": "expire"},
            },
            {
                # ECR requires the "any" rule to have the lowest priority (highest number).
                "rulePriority": 2,
                "description": f"Keep the newest {keep_images} images",
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
    keep_images: int
    """How many images the lifecycle policy keeps."""
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
            policy=lifecycle_policy(args.keep_images),
            opts=child,
        )
        self.repository_url = repository.repository_url
        self.arn = repository.arn
        self.name = repository.name
        self.register_outputs({"repository_url": self.repository_url, "arn": self.arn, "name": self.name})
