"""Offline models of the access-log bucket's configuration resources.

The load balancer, target groups, listeners and the bucket itself are modelled
in ``aws.py``; S3's separate configuration resources take the bucket's name as id.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, resource
from offline.models.knowledge import (
    REGION,
    REGION_FRAMEWORK,
    REGION_SDKV2,
    TF,
    Call,
    creates,
    pascal,
    pick,
    policy_inputs,
    replaced_on,
)


@resource(
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
)
def _bucket_configuration(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    return {"id": str(args.inputs.get("bucket", "")), "region": ctx.region}


# --- create requests, validated by the offline check against botocore's service models ---------


@creates("s3", "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
def _ownership_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"bucket": "Bucket"}, "PutBucketOwnershipControls")
    call.params["OwnershipControls"] = {"Rules": [pascal(inputs.get("rule") or {})]}
    call.origin["OwnershipControls"] = "rule"
    return [call]


@creates("s3", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
def _public_access_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"bucket": "Bucket"}, "PutPublicAccessBlock")
    keys = ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets")
    call.params["PublicAccessBlockConfiguration"] = pascal({k: inputs[k] for k in keys if inputs.get(k) is not None})
    return [call]


@creates("s3", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
def _encryption_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"bucket": "Bucket"}, "PutBucketEncryption")
    rules = []
    for rule in inputs.get("rules") or []:
        default = dict(rule.get("applyServerSideEncryptionByDefault") or {})
        mapped = {"SSEAlgorithm": default.get("sseAlgorithm")}
        if default.get("kmsMasterKeyId"):
            mapped["KMSMasterKeyID"] = default["kmsMasterKeyId"]
        rules.append({"ApplyServerSideEncryptionByDefault": mapped,
                      **({"BucketKeyEnabled": rule["bucketKeyEnabled"]} if rule.get("bucketKeyEnabled") is not None else {})})
    call.params["ServerSideEncryptionConfiguration"] = {"Rules": rules}
    call.origin["ServerSideEncryptionConfiguration"] = "rules"
    return [call]


@creates("s3", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
def _lifecycle_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"bucket": "Bucket"}, "PutBucketLifecycleConfiguration")
    rules = [{("ID" if k == "id" else k[:1].upper() + k[1:]): pascal(v) for k, v in rule.items()}
             for rule in inputs.get("rules") or [] if isinstance(rule, dict)]
    call.params["LifecycleConfiguration"] = {"Rules": rules}
    call.origin["LifecycleConfiguration"] = "rules"
    return [call]


@creates("s3", "aws:s3/bucketPolicy:BucketPolicy")
def _bucket_policy_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"bucket": "Bucket", "policy": "Policy"}, "PutBucketPolicy")]


policy_inputs("aws:s3/bucketPolicy:BucketPolicy", policy="resource")


# What a change to an input replaces (the provider's schema rule, cited) and what a reviewer sees.
replaced_on("aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "bucket", REGION,
    source=f"{TF}s3/bucket_ownership_controls.go: bucket ForceNew (rule updates through PutBucketOwnershipControls);"
           f" {REGION_SDKV2}")
replaced_on("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "bucket", REGION,
    source=f"{TF}s3/bucket_public_access_block.go: bucket ForceNew (the four block flags and skip_destroy update through"
           f" PutPublicAccessBlock); {REGION_SDKV2}")
replaced_on("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "bucket", "expectedBucketOwner", REGION,
    source=f"{TF}s3/bucket_server_side_encryption_configuration.go: bucket, expected_bucket_owner ForceNew;"
           f" {REGION_SDKV2}")
replaced_on("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "bucket", "expectedBucketOwner", REGION,
    source=f"{TF}s3/bucket_lifecycle_configuration.go: bucket, expected_bucket_owner RequiresReplace;"
           f" {REGION_FRAMEWORK}")
replaced_on("aws:s3/bucketPolicy:BucketPolicy",
    "bucket", REGION,
    source=f"{TF}s3/bucket_policy.go: bucket ForceNew (policy updates through PutBucketPolicy); {REGION_SDKV2}")
