"""What is known about each resource type lives beside its offline model, complete and cited."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

from offline.models import RESOURCES
from offline.models.knowledge import EVERY_INPUT, REPLACEMENTS, REVIEW_KEYS, replaced_on
from tools.source import parse

ROOT = Path(__file__).resolve().parents[2]
TYPE_TOKEN = re.compile(r"^(aws|github|pulumiservice):[\w/]+:\w+$")
# The provider SDK packages, by the token's package name.
SDKS = {"aws": "pulumi_aws", "github": "pulumi_github", "pulumiservice": "pulumi_pulumiservice"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _inputs_of(type_: str) -> set[str]:
    """The snake_case input names the SDK's resource class takes (its ``_internal_init`` parameters).

    The ``<Resource>Args`` class cannot be trusted for this: in ``pulumi_aws.s3`` the name
    ``BucketServerSideEncryptionConfigurationArgs`` is also a nested input type, which shadows the resource's.
    """
    package, module, name = type_.split(":")
    module_path = SDKS[package] + ("" if module.startswith("index") else "." + module.split("/")[0])
    resource_class = getattr(importlib.import_module(module_path), name)
    return set(inspect.signature(resource_class._internal_init).parameters) - {"self", "resource_name", "opts"}


def test_every_modelled_type_declares_its_replace_on_inputs_or_none_with_a_source() -> None:
    missing = sorted(set(RESOURCES) - set(REPLACEMENTS))
    assert not missing, f"types with a model but no replaced_on(...) declaration: {missing}"
    unsourced = sorted(t for t, r in REPLACEMENTS.items() if not r.source.strip())
    assert not unsourced


def test_a_declaration_without_a_source_is_refused() -> None:
    with pytest.raises(ValueError, match="needs the source"):
        replaced_on("aws:example/thing:Thing", "name", source="")


@pytest.mark.parametrize("type_", sorted(REPLACEMENTS))
def test_replace_on_inputs_and_review_keys_are_inputs_of_the_type(type_: str) -> None:
    """A misspelt input would never match a change, so the diff would call a replacement an update."""
    inputs = _inputs_of(type_)
    declared = {i for i in REPLACEMENTS[type_].inputs if i != EVERY_INPUT}
    declared |= {path.split(".")[0] for path in REVIEW_KEYS.get(type_, ())}
    unknown = sorted(i for i in declared if _snake(i) not in inputs)
    assert not unknown, f"{type_}: not inputs of the type: {unknown}"


def test_no_central_per_type_tables_outside_the_models() -> None:
    """A dict keyed by type tokens in offline/ (outside offline/models/) is knowledge that belongs beside a model."""
    found = []
    for path in sorted((ROOT / "offline").rglob("*.py")):
        if "models" in path.relative_to(ROOT / "offline").parts:
            continue
        for node in ast.walk(parse(path)):
            if isinstance(node, ast.Dict):
                keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
                if any(TYPE_TOKEN.match(k) for k in keys):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, f"per-type tables outside offline/models/: {found}"


# A source that names the provider file a rule comes from: "internal/service/<service>/<file>.go".
PROVIDER_FILE = re.compile(r"internal/service/\w+/\w+\.go")
# The provider's per-resource region rule, cited once in offline.models.knowledge.
REGION_RULE = re.compile(r"internal/provider/(sdkv2|framework)/region\.go")


@pytest.mark.parametrize("type_", sorted(t for t in REPLACEMENTS if t.startswith("aws:")))
def test_every_aws_declaration_cites_the_provider_file_it_comes_from(type_: str) -> None:
    assert PROVIDER_FILE.search(REPLACEMENTS[type_].source), REPLACEMENTS[type_].source


@pytest.mark.parametrize("type_", sorted(t for t in REPLACEMENTS if t.startswith("aws:")))
def test_a_region_change_replaces_every_regional_aws_type(type_: str) -> None:
    """pulumi-aws 7 gives regional resources a ``region`` input; the provider replaces the resource when it changes."""
    declared = REPLACEMENTS[type_]
    if "region" not in _inputs_of(type_) or EVERY_INPUT in declared.inputs:
        return
    assert "region" in declared.inputs, f"{type_}: a region change replaces it, but region is not declared"
    assert REGION_RULE.search(declared.source), f"{type_}: the region rule is not cited"


def test_corrected_inputs_stay_declared() -> None:
    """Inputs the provider's schema marks ForceNew that an older table left out."""
    expected = {
        "aws:lb/targetGroup:TargetGroup": {"ipAddressType"},
        "aws:lb/loadBalancer:LoadBalancer": {"customerOwnedIpv4Pool"},
        "aws:ecs/service:Service": {"iamRole", "schedulingStrategy"},
        "aws:elasticache/replicationGroup:ReplicationGroup": {"dataTieringEnabled", "networkType", "securityGroupNames"},
        "aws:cloudwatch/compositeAlarm:CompositeAlarm": {"actionsEnabled"},
        "aws:cloudwatch/logGroup:LogGroup": {"logGroupClass"},
        "aws:s3/bucket:Bucket": {"objectLockEnabled"},
        "aws:ec2/subnet:Subnet": {"availabilityZoneId", "ipv6Native"},
        "aws:ec2/natGateway:NatGateway": {"privateIp"},
        "aws:secretsmanager/secretVersion:SecretVersion": {"secretStringWoVersion"},
        "aws:rds/instance:Instance": {"backupTarget", "s3Import"},
        "aws:ec2/eip:Eip": {"ipamPoolId"},
        "aws:route53/healthCheck:HealthCheck": {"routingControlArn"},
        "aws:ecr/repository:Repository": {"encryptionConfigurations"},
        "aws:ec2/flowLog:FlowLog": {"deliverCrossAccountRole", "destinationOptions", "logFormat", "subnetId"},
    }
    missing = {t: sorted(keys - REPLACEMENTS[t].inputs) for t, keys in expected.items() if keys - REPLACEMENTS[t].inputs}
    assert not missing


def test_inputs_the_provider_updates_in_place_are_not_declared() -> None:
    """Declared by mistake, these would show an in-place change as a replacement (and a rename as data loss)."""
    in_place = {
        "aws:rds/instance:Instance": {"identifier", "identifierPrefix", "dbSubnetGroupName", "engineVersion"},
        "aws:ec2/vpc:Vpc": {"instanceTenancy"},
        "aws:ec2/internetGateway:InternetGateway": {"vpcId"},
        "aws:cloudwatch/queryDefinition:QueryDefinition": {"name"},
    }
    wrong = {t: sorted(keys & REPLACEMENTS[t].inputs) for t, keys in in_place.items() if keys & REPLACEMENTS[t].inputs}
    assert not wrong
