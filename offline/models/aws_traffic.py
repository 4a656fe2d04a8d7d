"""Offline models of the access-log bucket's configuration resources.

The load balancer, target groups, listeners and the bucket itself are modelled
in ``aws.py``; S3's separate configuration resources take the bucket's name as id.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, resource


@resource(
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
)
def _bucket_configuration(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    return {"id": str(args.inputs.get("bucket", "")), "region": ctx.region}
