"""Protection: production's stateful resources cannot be deleted or replaced by an update."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs

from policy.policies.base import PackPolicy, ResourcePolicy, Scope

# Resources whose deletion or replacement loses data, keys or released images.
STATEFUL = (
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:ecr/repository:Repository",
    "aws:kms/key:Key",
    "aws:dynamodb/table:Table",
    "aws:efs/fileSystem:FileSystem",
)


def _protected(_: Mapping[str, Any], args: ResourceValidationArgs) -> Iterator[str]:
    if not args.opts.protect:
        yield (f"protect: got false; {args.resource_type} holds state: register it with "
               "pulumi.ResourceOptions(protect=True) so no update can delete or replace it")


POLICIES: list[PackPolicy] = [
    ResourcePolicy(
        "stateful-resources-protected", "Stateful resources are protected from deletion by the engine.",
        types=STATEFUL, check=_protected, scope=Scope.PRODUCTION,
        remediation="Register the resource with protect=True (production's config turns it on).",
    ),
]
