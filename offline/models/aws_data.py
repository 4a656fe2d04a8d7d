"""Offline models of the data tier: RDS, ElastiCache, Secrets Manager, and security group rules.

Endpoints follow the services' DNS formats (``<id>.<hash>.<region>.rds.amazonaws.com``,
``master.<id>.<hash>.<zone>.cache.amazonaws.com`` with in-transit encryption), and an
instance with ``manageMasterUserPassword`` gets the ``rds!db-...`` secret RDS creates.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, autoname, resource
from offline.models.knowledge import REGION, REGION_FRAMEWORK, REGION_SDKV2, TF, Call, creates, named, pick, replaced_on, review

POSTGRES_PORT = 5432
REDIS_PORT = 6379


def _uuid(ctx: MockContext, *parts: str) -> str:
    d = ctx.digest(*parts, length=32)
    return f"{d[:8]}-{d[8:12]}-4{d[13:16]}-8{d[17:20]}-{d[20:32]}"


def secret_arn(ctx: MockContext, name: str) -> str:
    """A Secrets Manager ARN: the name plus the six random characters AWS appends."""
    return ctx.arn("secretsmanager", f"secret:{name}-{ctx.digest('secret', name, length=6)}")


def _region_code(region: str) -> str:
    # ElastiCache's endpoint names shorten the region: eu-west-1 -> euw1.
    area, direction, number = region.split("-")
    return f"{area}{direction[0]}{number}"


@resource("aws:rds/instance:Instance")
def _db_instance(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    identifier = autoname(args, ctx, "identifier").lower()
    port = int(args.inputs.get("port") or POSTGRES_PORT)
    address = f"{identifier}.c{ctx.digest('rds', ctx.region, length=11)}.{ctx.region}.rds.amazonaws.com"
    outputs: dict[str, Any] = {
        "id": identifier,
        "identifier": identifier,
        "arn": ctx.arn("rds", f"db:{identifier}"),
        "resourceId": f"db-{ctx.digest('resource', identifier, length=26).upper()}",
        "address": address,
        "endpoint": f"{address}:{port}",
        "port": port,
        "hostedZoneId": "Z29XKXDKYMONMX",
        "engineVersionActual": str(args.inputs.get("engineVersion") or ""),
        "status": "available",
    }
    if args.inputs.get("manageMasterUserPassword"):
        outputs["masterUserSecrets"] = [{
            "secretArn": secret_arn(ctx, f"rds!db-{_uuid(ctx, 'master', identifier)}"),
            "kmsKeyId": str(args.inputs.get("masterUserSecretKmsKeyId") or ctx.arn("kms", f"key/{_uuid(ctx, 'aws/secretsmanager')}")),
            "secretStatus": "active",
        }]
    return outputs


@resource("aws:rds/parameterGroup:ParameterGroup")
def _db_parameter_group(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx).lower()
    return {"id": name, "name": name, "arn": ctx.arn("rds", f"pg:{name}")}


@resource("aws:rds/subnetGroup:SubnetGroup")
def _db_subnet_group(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx).lower()
    return {"id": name, "name": name, "arn": ctx.arn("rds", f"subgrp:{name}"), "supportedNetworkTypes": ["IPV4"]}


@resource("aws:elasticache/replicationGroup:ReplicationGroup")
def _replication_group(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    group_id = autoname(args, ctx, "replicationGroupId").lower()
    zone = f"{ctx.digest('cache', group_id, length=6)}.{_region_code(ctx.region)}.cache.amazonaws.com"
    members = int(args.inputs.get("numCacheClusters") or 1)
    return {
        "id": group_id,
        "replicationGroupId": group_id,
        "arn": ctx.arn("elasticache", f"replicationgroup:{group_id}"),
        "primaryEndpointAddress": f"master.{group_id}.{zone}",
        "readerEndpointAddress": f"replica.{group_id}.{zone}",
        "port": int(args.inputs.get("port") or REDIS_PORT),
        "memberClusters": [f"{group_id}-{i:03d}" for i in range(1, members + 1)],
        "clusterEnabled": False,
        "engineVersionActual": f"{args.inputs.get('engineVersion') or '7.1'}.0",
    }


@resource("aws:elasticache/subnetGroup:SubnetGroup")
def _cache_subnet_group(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx).lower()
    return {"id": name, "name": name, "arn": ctx.arn("elasticache", f"subnetgroup:{name}")}


@resource("aws:secretsmanager/secret:Secret")
def _secret(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    arn = secret_arn(ctx, name)
    return {"id": arn, "arn": arn, "name": name}


@resource("aws:secretsmanager/secretVersion:SecretVersion")
def _secret_version(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    secret = str(args.inputs.get("secretId") or "")
    version = _uuid(ctx, "version", args.name)
    return {"id": f"{secret}|{version}", "arn": secret, "secretArn": secret, "versionId": version, "versionStages": ["AWSCURRENT"]}


@resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
def _ingress_rule(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    rule_id = f"sgr-{ctx.digest('sgr', args.name)}"
    return {"id": rule_id, "securityGroupRuleId": rule_id, "arn": ctx.arn("ec2", f"security-group-rule/{rule_id}")}


# --- create requests, validated by the offline check against botocore's service models ---------

_DB_MEMBERS = {
    "dbName": "DBName", "allocatedStorage": "AllocatedStorage", "instanceClass": "DBInstanceClass", "engine": "Engine",
    "username": "MasterUsername", "password": "MasterUserPassword", "vpcSecurityGroupIds": "VpcSecurityGroupIds",
    "dbSubnetGroupName": "DBSubnetGroupName", "maintenanceWindow": "PreferredMaintenanceWindow",
    "parameterGroupName": "DBParameterGroupName", "backupRetentionPeriod": "BackupRetentionPeriod",
    "backupWindow": "PreferredBackupWindow", "port": "Port", "multiAz": "MultiAZ", "engineVersion": "EngineVersion",
    "autoMinorVersionUpgrade": "AutoMinorVersionUpgrade", "publiclyAccessible": "PubliclyAccessible",
    "storageType": "StorageType", "storageEncrypted": "StorageEncrypted", "kmsKeyId": "KmsKeyId",
    "copyTagsToSnapshot": "CopyTagsToSnapshot", "performanceInsightsEnabled": "EnablePerformanceInsights",
    "performanceInsightsKmsKeyId": "PerformanceInsightsKMSKeyId",
    "performanceInsightsRetentionPeriod": "PerformanceInsightsRetentionPeriod",
    "enabledCloudwatchLogsExports": "EnableCloudwatchLogsExports", "deletionProtection": "DeletionProtection",
    "maxAllocatedStorage": "MaxAllocatedStorage", "manageMasterUserPassword": "ManageMasterUserPassword",
    "iops": "Iops", "storageThroughput": "StorageThroughput",
}


@creates("rds", "aws:rds/instance:Instance")
def _db_instance_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, _DB_MEMBERS, "CreateDBInstance")
    call.params["DBInstanceIdentifier"] = inputs.get("identifier") or name
    call.origin["DBInstanceIdentifier"] = "identifier"
    return [call]


@creates("rds", "aws:rds/parameterGroup:ParameterGroup")
def _db_parameters_request(inputs: dict[str, Any], name: str) -> list[Call]:
    create = pick(inputs, {"family": "DBParameterGroupFamily", "description": "Description"}, "CreateDBParameterGroup")
    create.params["DBParameterGroupName"] = name
    create.origin["DBParameterGroupName"] = "name"
    calls = [create]
    parameters = [p for p in inputs.get("parameters") or [] if isinstance(p, dict)]
    if parameters:
        calls.append(Call("ModifyDBParameterGroup", {"DBParameterGroupName": name, "Parameters": [
            {"ParameterName": p.get("name"), "ParameterValue": p.get("value"), "ApplyMethod": p.get("applyMethod", "immediate")}
            for p in parameters]}, {"Parameters": "parameters"}))
    return calls


@creates("rds", "aws:rds/subnetGroup:SubnetGroup")
def _db_subnets_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"description": "DBSubnetGroupDescription", "subnetIds": "SubnetIds"}, "CreateDBSubnetGroup")
    return named(call, "DBSubnetGroupName", name)


_CACHE_MEMBERS = {
    "replicationGroupId": "ReplicationGroupId", "description": "ReplicationGroupDescription",
    "automaticFailoverEnabled": "AutomaticFailoverEnabled", "multiAzEnabled": "MultiAZEnabled",
    "numCacheClusters": "NumCacheClusters", "nodeType": "CacheNodeType", "engine": "Engine", "engineVersion": "EngineVersion",
    "parameterGroupName": "CacheParameterGroupName", "subnetGroupName": "CacheSubnetGroupName",
    "securityGroupIds": "SecurityGroupIds", "maintenanceWindow": "PreferredMaintenanceWindow", "port": "Port",
    "autoMinorVersionUpgrade": "AutoMinorVersionUpgrade", "snapshotRetentionLimit": "SnapshotRetentionLimit",
    "snapshotWindow": "SnapshotWindow", "authToken": "AuthToken", "transitEncryptionEnabled": "TransitEncryptionEnabled",
    "atRestEncryptionEnabled": "AtRestEncryptionEnabled", "kmsKeyId": "KmsKeyId",
}


@creates("elasticache", "aws:elasticache/replicationGroup:ReplicationGroup")
def _replication_group_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, _CACHE_MEMBERS, "CreateReplicationGroup")]


@creates("elasticache", "aws:elasticache/subnetGroup:SubnetGroup")
def _cache_subnets_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"description": "CacheSubnetGroupDescription", "subnetIds": "SubnetIds"}, "CreateCacheSubnetGroup")
    return named(call, "CacheSubnetGroupName", name)


@creates("secretsmanager", "aws:secretsmanager/secret:Secret")
def _secret_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return named(pick(inputs, {"description": "Description", "kmsKeyId": "KmsKeyId"}, "CreateSecret"), "Name", name)


@creates("secretsmanager", "aws:secretsmanager/secretVersion:SecretVersion")
def _secret_value_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"secretId": "SecretId", "secretString": "SecretString"}, "PutSecretValue")]


# What a change to an input replaces (the provider's schema rule, cited) and what a reviewer sees.
replaced_on("aws:rds/instance:Instance",
    "availabilityZone", "backupTarget", "characterSetName", "customIamInstanceProfile", "dbName", "engine", "kmsKeyId",
    "ncharCharacterSetName", "restoreToPointInTime", "s3Import", "snapshotIdentifier", "storageEncrypted", "timezone",
    "username", REGION,
    source=f"{TF}rds/instance.go: availability_zone, backup_target, character_set_name, custom_iam_instance_profile,"
           " db_name, engine, kms_key_id, nchar_character_set_name, restore_to_point_in_time, snapshot_identifier,"
           " storage_encrypted, timezone, username ForceNew, and every s3_import field; identifier and"
           " identifier_prefix are not ForceNew (the identifier can be updated in place), nor are db_subnet_group_name and"
           f" engine_version; its CustomizeDiff only validates blue_green_update; {REGION_SDKV2}")
replaced_on("aws:rds/parameterGroup:ParameterGroup",
    "description", "family", "name", "namePrefix", REGION,
    source=f"{TF}rds/parameter_group.go: description, family, name, name_prefix ForceNew (parameter changes go"
           f" through ModifyDBParameterGroup and ResetDBParameterGroup); {REGION_SDKV2}")
replaced_on("aws:rds/subnetGroup:SubnetGroup",
    "name", "namePrefix", REGION,
    source=f"{TF}rds/subnet_group.go: name, name_prefix ForceNew (description and subnet_ids update through"
           f" ModifyDBSubnetGroup); {REGION_SDKV2}")
replaced_on("aws:elasticache/replicationGroup:ReplicationGroup",
    "atRestEncryptionEnabled", "dataTieringEnabled", "globalReplicationGroupId", "kmsKeyId", "networkType", "port",
    "replicationGroupId", "securityGroupNames", "snapshotArns", "snapshotName", "subnetGroupName", REGION,
    source=f"{TF}elasticache/replication_group.go: at_rest_encryption_enabled, data_tiering_enabled,"
           " global_replication_group_id, kms_key_id, network_type, port, replication_group_id, security_group_names,"
           " snapshot_arns, snapshot_name, subnet_group_name ForceNew; CustomizeDiff (plan time, conditional, not"
           " listed): an engine or engine_version downgrade, a significant node_group_configuration change, and"
           f" transit_encryption_enabled while engine_version_actual is below 7.0.5; {REGION_SDKV2}")
replaced_on("aws:elasticache/subnetGroup:SubnetGroup",
    "name", REGION,
    source=f"{TF}elasticache/subnet_group.go: name ForceNew (description and subnet_ids update through"
           f" ModifyCacheSubnetGroup); {REGION_SDKV2}")
replaced_on("aws:secretsmanager/secret:Secret",
    "name", "namePrefix", REGION, source=f"{TF}secretsmanager/secret.go: name, name_prefix ForceNew; {REGION_SDKV2}")
replaced_on("aws:secretsmanager/secretVersion:SecretVersion",
    "secretBinary", "secretId", "secretString", "secretStringWoVersion", REGION,
    source=f"{TF}secretsmanager/secret_version.go: secret_id, secret_binary, secret_string, secret_string_wo_version"
           f" ForceNew (version_stages updates in place); {REGION_SDKV2}")
replaced_on("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "securityGroupId", REGION,
    source=f"{TF}ec2/vpc_security_group_ingress_rule.go: security_group_id RequiresReplace; {REGION_FRAMEWORK}")
review("aws:rds/instance:Instance",
    "identifier", "engineVersion", "instanceClass", "multiAz", "backupRetentionPeriod", "deletionProtection")
review("aws:elasticache/replicationGroup:ReplicationGroup",
    "replicationGroupId", "nodeType", "numCacheClusters", "automaticFailoverEnabled", "snapshotRetentionLimit")
