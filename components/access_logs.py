"""The bucket the load balancer writes its access logs to: private, encrypted, expiring.

ALB access logs can only be written to buckets encrypted with S3-managed keys
(SSE-S3), not KMS, so the bucket uses AES256. Log delivery is granted to the
region's Elastic Load Balancing account (older regions) or to the log delivery
service principal (regions opened since August 2022), for this account's prefix only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

# The account Elastic Load Balancing writes access logs from, per region that predates the service principal.
ELB_ACCOUNTS: dict[str, str] = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980", "us-west-2": "797873946194",
    "ca-central-1": "985666609251", "sa-east-1": "507241528517",
    "eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-west-3": "009996457667",
    "eu-central-1": "054676820928", "eu-north-1": "897822967062",
    "ap-south-1": "718504428378", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864", "ap-northeast-2": "600734575887",
}
LOG_PREFIX = "alb"


@dataclass
class AccessLogBucketArgs:
    """Inputs of an ``AccessLogBucket``."""

    region: str
    """The stack's region, which decides who delivers the logs."""
    retention_days: int
    """Days a log object is kept before it expires."""
    protect: bool = False
    """Protect the bucket from deletion by Pulumi (production)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for the bucket."""


def delivery_principal(region: str) -> dict[str, str]:
    """Who writes a region's ALB access logs."""
    account = ELB_ACCOUNTS.get(region)
    if account:
        return {"AWS": f"arn:aws:iam::{account}:root"}
    return {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}


class AccessLogBucket(pulumi.ComponentResource):
    """An S3 bucket for access logs, with its policy; ``ready`` is what the load balancer waits for."""

    bucket_name: pulumi.Output[str]
    prefix: str
    ready: list[pulumi.Resource]

    def __init__(self, name: str, args: AccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:traffic:AccessLogBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(f"{name}-bucket", force_destroy=not args.protect, tags=dict(args.tags),
                               opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
        aws.s3.BucketOwnershipControls(f"{name}-ownership", bucket=bucket.id, opts=child,
                                       rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"))
        block = aws.s3.BucketPublicAccessBlock(f"{name}-public-access", bucket=bucket.id, block_public_acls=True,
                                               block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
                                               opts=child)
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(f"{name}-encryption", bucket=bucket.id, rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"),
            ),
        ], opts=child)
        aws.s3.BucketLifecycleConfiguration(f"{name}-lifecycle", bucket=bucket.id, rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{LOG_PREFIX}/"),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.retention_days),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=1),
            ),
        ], opts=child)
        account = aws.get_caller_identity_output().account_id
        principal = delivery_principal(args.region)
        policy = aws.s3.BucketPolicy(f"{name}-policy", bucket=bucket.id, policy=pulumi.Output.all(bucket.arn, account).apply(
            lambda values: json.dumps({
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "DeliverAccessLogs", "Effect": "Allow", "Principal": principal, "Action": "s3:PutObject",
                     "Resource": f"{values[0]}/{LOG_PREFIX}/AWSLogs/{values[1]}/*"},
                    {"Sid": "HttpsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                     "Resource": [values[0], f"{values[0]}/*"],
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                ],
            })), opts=pulumi.ResourceOptions(parent=self, depends_on=[block]))
        self.bucket_name = bucket.bucket
        self.prefix = LOG_PREFIX
        # The load balancer checks it may write a test object when access logs are turned on.
        self.ready = [policy, encryption]
        self.register_outputs({"bucket_name": self.bucket_name})
