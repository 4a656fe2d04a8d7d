"""Data policies: RDS, Redis and S3, each compliant resource passes and each named violation is caught."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy_support import resource, stack_violations, urn, violations

DB = "aws:rds/instance:Instance"
CLUSTER = "aws:rds/cluster:Cluster"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
BUCKET = "aws:s3/bucket:Bucket"
BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"

PRODUCTION_DB: dict[str, Any] = {
    "engine": "postgres", "storageEncrypted": True, "publiclyAccessible": False, "multiAz": True,
    "deletionProtection": True, "backupRetentionPeriod": 7,
}
PRODUCTION_CACHE: dict[str, Any] = {
    "engine": "redis", "atRestEncryptionEnabled": True, "transitEncryptionEnabled": True, "multiAzEnabled": True,
    "automaticFailoverEnabled": True, "snapshotRetentionLimit": 7.0,
}


@pytest.mark.parametrize("name", [
    "data-encrypted", "database-not-public", "data-multi-az", "database-deletion-protection", "data-backups-7-days",
])
def test_production_database_and_cache_pass(name: str) -> None:
    assert violations(name, DB, PRODUCTION_DB) == []
    assert violations(name, CACHE, PRODUCTION_CACHE) == []


def test_unencrypted_database_cluster_and_cache_are_caught() -> None:
    assert violations("data-encrypted", DB, {**PRODUCTION_DB, "storageEncrypted": False}) == [
        "storageEncrypted: got false; set it to true: storage encryption cannot be turned on after creation",
    ]
    assert violations("data-encrypted", CLUSTER, {"engine": "aurora-postgresql"}) == [
        "storageEncrypted: got unset; set it to true: storage encryption cannot be turned on after creation",
    ]
    found = violations("data-encrypted", CACHE, {**PRODUCTION_CACHE, "atRestEncryptionEnabled": False,
                                                  "transitEncryptionEnabled": None})
    assert [f.split(":")[0] for f in found] == ["atRestEncryptionEnabled", "transitEncryptionEnabled"]


def test_public_database_is_caught() -> None:
    assert violations("database-not-public", DB, {**PRODUCTION_DB, "publiclyAccessible": True}) == [
        "publiclyAccessible: got true; set it to false: the database is reached only from inside the VPC",
    ]
    assert violations("database-not-public", "aws:rds/clusterInstance:ClusterInstance", {"publiclyAccessible": True})


def test_single_zone_database_and_cache_are_caught() -> None:
    assert violations("data-multi-az", DB, {**PRODUCTION_DB, "multiAz": False}) == [
        "multiAz: got false; set it to true: a standby in a second zone takes over when the first fails",
    ]
    found = violations("data-multi-az", CACHE, {**PRODUCTION_CACHE, "multiAzEnabled": False, "automaticFailoverEnabled": False})
    assert [f.split(":")[0] for f in found] == ["multiAzEnabled", "automaticFailoverEnabled"]


def test_database_without_deletion_protection_is_caught() -> None:
    assert violations("database-deletion-protection", CLUSTER, {"deletionProtection": False}) == [
        "deletionProtection: got false; set it to true: the database cannot be deleted by a mistaken update",
    ]


@pytest.mark.parametrize(("type_", "key", "days"), [
    (DB, "backupRetentionPeriod", 1), (DB, "backupRetentionPeriod", None), (CACHE, "snapshotRetentionLimit", 0),
])
def test_short_backups_are_caught(type_: str, key: str, days: int | None) -> None:
    props = {**(PRODUCTION_DB if type_ == DB else PRODUCTION_CACHE), key: days}
    shown = "unset" if days is None else str(days)
    assert violations("data-backups-7-days", type_, props) == [
        f"{key}: got {shown}; keep backups for at least 7 days",
    ]


FLAGS = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}


def test_public_access_block_needs_every_flag() -> None:
    assert violations("s3-public-access-block-complete", BLOCK, {"bucket": "logs", **FLAGS}) == []
    found = violations("s3-public-access-block-complete", BLOCK, {"bucket": "logs", **FLAGS, "blockPublicPolicy": False})
    assert found == ["blockPublicPolicy: got false; set it to true: every public-access setting of the bucket is blocked"]


def test_bucket_with_a_block_and_encryption_passes() -> None:
    bucket = resource(BUCKET, "logs", {"id": "webapp-logs", "bucket": "webapp-logs"})
    block = resource(BLOCK, "logs-block", {"bucket": "webapp-logs", **FLAGS})
    sse = resource(SSE, "logs-sse", {"bucket": "webapp-logs", "rules": [{"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "AES256"}}]})
    assert stack_violations("s3-bucket-locked-down", bucket, block, sse) == []


def test_bucket_without_a_block_or_encryption_is_caught() -> None:
    bucket = resource(BUCKET, "logs", {"id": "webapp-logs", "bucket": "webapp-logs"})
    other_block = resource(BLOCK, "other-block", {"bucket": "another-bucket", **FLAGS})
    found = stack_violations("s3-bucket-locked-down", bucket, other_block)
    assert found == [
        (f"bucket logs has no {BLOCK}; declare one for it with all four flags true", urn(BUCKET, "logs")),
        (f"bucket logs has no {SSE}; declare one (AES256 or aws:kms) so the encryption is reviewed, not assumed",
         urn(BUCKET, "logs")),
    ]


# The edge of data-backups-7-days (AWS Config rds-cluster-backup-retention-check's default minimum, 7 days):
# 7 passes, 6 fails, for each type the policy covers.
@pytest.mark.parametrize(("type_", "props", "key"), [
    (DB, PRODUCTION_DB, "backupRetentionPeriod"),
    (CLUSTER, {"engine": "aurora-postgresql"}, "backupRetentionPeriod"),
    (CACHE, PRODUCTION_CACHE, "snapshotRetentionLimit"),
], ids=["rds-instance", "rds-cluster", "redis"])
def test_seven_days_of_backups_pass_and_six_fail(type_: str, props: dict[str, Any], key: str) -> None:
    assert violations("data-backups-7-days", type_, {**props, key: 7}) == []
    assert violations("data-backups-7-days", type_, {**props, key: 6}) == [f"{key}: got 6; keep backups for at least 7 days"]
