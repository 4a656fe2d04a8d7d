"""Data: databases, caches and buckets are encrypted and private; production's survive a zone and a mistake."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs

from policy.policies.base import PackPolicy, ResourcePolicy, Scope, StackPolicy, as_int, get, items, problem

DB_INSTANCE = "aws:rds/instance:Instance"
DB_CLUSTER = "aws:rds/cluster:Cluster"
DB_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
ACCESS_BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
MIN_BACKUP_DAYS = 7


def _must_be_true(props: Mapping[str, Any], key: str, why: str) -> Iterator[str]:
    if get(props, key) is not True:
        yield problem(key, get(props, key), f"set it to true: {why}")


def _encrypted(props: Mapping[str, Any], args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type in (DB_INSTANCE, DB_CLUSTER):
        yield from _must_be_true(props, "storageEncrypted", "storage encryption cannot be turned on after creation")
    elif args.resource_type == CACHE:
        yield from _must_be_true(props, "atRestEncryptionEnabled", "cached data and snapshots are encrypted on disk")
        yield from _must_be_true(props, "transitEncryptionEnabled", "clients talk to the cache over TLS")


def _not_public(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    if get(props, "publiclyAccessible") is True:
        yield problem("publiclyAccessible", True, "set it to false: the database is reached only from inside the VPC")


def _multi_az(props: Mapping[str, Any], args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == DB_INSTANCE:
        yield from _must_be_true(props, "multiAz", "a standby in a second zone takes over when the first fails")
    elif args.resource_type == CACHE:
        yield from _must_be_true(props, "multiAzEnabled", "replicas in other zones take over when the primary's fails")
        yield from _must_be_true(props, "automaticFailoverEnabled", "a replica is promoted without an operator")


def _deletion_protection(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    yield from _must_be_true(props, "deletionProtection", "the database cannot be deleted by a mistaken update")


def _backups(props: Mapping[str, Any], args: ResourceValidationArgs) -> Iterator[str]:
    key = "snapshotRetentionLimit" if args.resource_type == CACHE else "backupRetentionPeriod"
    days = as_int(get(props, key))
    if days is None or days < MIN_BACKUP_DAYS:
        yield problem(key, get(props, key), f"keep backups for at least {MIN_BACKUP_DAYS} days")


def _access_block_complete(props: Mapping[str, Any], _: ResourceValidationArgs) -> Iterator[str]:
    for flag in ACCESS_BLOCK_FLAGS:
        yield from _must_be_true(props, flag, "every public-access setting of the bucket is blocked")


def _bucket_refs(res: PolicyResource) -> set[str]:
    # A bucket is referred to by its name, which is also its id.
    return {str(v) for v in (get(res.props, "id"), get(res.props, "bucket")) if v}


def _buckets_locked_down(resources: Sequence[PolicyResource]) -> Iterator[tuple[str, str | None]]:
    blocked = {str(get(r.props, "bucket")) for r in resources if r.resource_type == ACCESS_BLOCK}
    encrypted = {str(get(r.props, "bucket")) for r in resources if r.resource_type in ENCRYPTION}
    for res in resources:
        if res.resource_type not in BUCKETS:
            continue
        refs = _bucket_refs(res)
        if not refs & blocked:
            yield (f"bucket {res.name} has no {ACCESS_BLOCK}; declare one for it with all four flags true", res.urn)
        inline = items(get(res.props, "serverSideEncryptionConfiguration.rules"))
        if not refs & encrypted and not inline:
            yield (f"bucket {res.name} has no {ENCRYPTION[0]}; declare one (AES256 or aws:kms) so the "
                   "encryption is reviewed, not assumed", res.urn)


POLICIES: list[PackPolicy] = [
    ResourcePolicy(
        "data-encrypted", "RDS databases and Redis replication groups are encrypted at rest (and caches in transit).",
        types=(DB_INSTANCE, DB_CLUSTER, CACHE), check=_encrypted, scope=Scope.BOTH,
        remediation="Set storageEncrypted (RDS) or atRestEncryptionEnabled and transitEncryptionEnabled (Redis) to true.",
    ),
    ResourcePolicy(
        "database-not-public", "RDS databases are not publicly accessible.",
        types=(DB_INSTANCE, DB_CLUSTER_INSTANCE), check=_not_public, scope=Scope.BOTH,
        remediation="Set publiclyAccessible to false and place the database in private subnets.",
    ),
    ResourcePolicy(
        "data-multi-az", "Databases and caches run in more than one availability zone.",
        types=(DB_INSTANCE, CACHE), check=_multi_az, scope=Scope.PRODUCTION,
        remediation="Set multiAz (RDS) or multiAzEnabled and automaticFailoverEnabled (Redis) to true.",
    ),
    ResourcePolicy(
        "database-deletion-protection", "RDS databases have deletion protection.",
        types=(DB_INSTANCE, DB_CLUSTER), check=_deletion_protection, scope=Scope.PRODUCTION,
        remediation="Set deletionProtection to true.",
    ),
    ResourcePolicy(
        "data-backups-7-days", f"Databases and caches keep backups for at least {MIN_BACKUP_DAYS} days.",
        types=(DB_INSTANCE, DB_CLUSTER, CACHE), check=_backups, scope=Scope.PRODUCTION,
        remediation=f"Set backupRetentionPeriod (RDS) or snapshotRetentionLimit (Redis) to {MIN_BACKUP_DAYS} or more.",
    ),
    ResourcePolicy(
        "s3-public-access-block-complete", "S3 public access blocks set all four flags.",
        types=(ACCESS_BLOCK,), check=_access_block_complete, scope=Scope.BOTH,
        remediation="Set blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true.",
    ),
    StackPolicy(
        "s3-bucket-locked-down", "Every S3 bucket has a public access block and an encryption configuration.",
        check=_buckets_locked_down, scope=Scope.BOTH,
        remediation="Declare a BucketPublicAccessBlock and a BucketServerSideEncryptionConfiguration for the bucket.",
    ),
]
