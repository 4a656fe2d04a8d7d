"""The offline models: realistic answers, and a loud failure for anything unmodelled."""

from __future__ import annotations

import pytest
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from offline.models import OfflineMocks, UnmodelledError


def mocks() -> OfflineMocks:
    return OfflineMocks(project="release-platform", stack="staging", region="eu-west-1")


def test_an_unmodelled_resource_type_fails_loudly() -> None:
    m = mocks()
    with pytest.raises(UnmodelledError, match="no offline model for resource type aws:foo/bar:Bar"):
        m.new_resource(MockResourceArgs("aws:foo/bar:Bar", "x", {}, custom=True))
    assert m.failures


def test_an_unmodelled_invoke_fails_loudly() -> None:
    with pytest.raises(UnmodelledError, match="no offline model for invoke aws:foo/getBar:getBar"):
        mocks().call(MockCallArgs("aws:foo/getBar:getBar", {}, ""))


def test_arns_carry_region_and_account_and_ids_are_stable() -> None:
    args = MockResourceArgs("aws:lb/targetGroup:TargetGroup", "web-blue", {"name": "web-blue"}, custom=True)
    first, second = mocks().new_resource(args), mocks().new_resource(args)
    assert first == second
    arn = first[1]["arn"]
    assert arn.startswith("arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-blue/")


def test_role_arn_is_global_with_the_account() -> None:
    _, state = mocks().new_resource(MockResourceArgs("aws:iam/role:Role", "deploy", {"name": "deploy"}, custom=True))
    assert state["arn"] == "arn:aws:iam::123456789012:role/deploy"


def test_availability_zones_are_those_of_the_region() -> None:
    result, _ = mocks().call(MockCallArgs("aws:index/getAvailabilityZones:getAvailabilityZones", {}, ""))
    assert result["names"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


def test_component_resources_need_no_model() -> None:
    _, state = mocks().new_resource(MockResourceArgs("release:traffic:TrafficRouter", "t", {"a": 1}, custom=False))
    assert state == {"a": 1}


def test_an_instance_with_a_managed_password_gets_the_secret_rds_creates() -> None:
    inputs = {"identifier": "web-postgres", "manageMasterUserPassword": True, "port": 5432}
    args = MockResourceArgs("aws:rds/instance:Instance", "db", inputs, custom=True)
    (physical_id, state), again = mocks().new_resource(args), mocks().new_resource(args)
    assert (physical_id, state) == again
    assert physical_id == "web-postgres"
    assert state["arn"] == "arn:aws:rds:eu-west-1:123456789012:db:web-postgres"
    assert state["address"].startswith("web-postgres.")
    assert state["address"].endswith(".eu-west-1.rds.amazonaws.com")
    assert state["endpoint"] == f"{state['address']}:5432"
    assert state["masterUserSecrets"][0]["secretArn"].startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-")


def test_an_instance_with_its_own_password_has_no_managed_secret() -> None:
    args = MockResourceArgs("aws:rds/instance:Instance", "db", {"identifier": "legacy"}, custom=True)
    assert "masterUserSecrets" not in mocks().new_resource(args)[1]


def test_a_replication_group_answers_with_its_tls_primary_endpoint() -> None:
    inputs = {"replicationGroupId": "web-redis", "numCacheClusters": 2}
    _, state = mocks().new_resource(MockResourceArgs("aws:elasticache/replicationGroup:ReplicationGroup", "r", inputs, custom=True))
    assert state["primaryEndpointAddress"].startswith("master.web-redis.")
    assert state["primaryEndpointAddress"].endswith(".euw1.cache.amazonaws.com")
    assert (state["port"], state["memberClusters"]) == (6379, ["web-redis-001", "web-redis-002"])


def test_a_secret_arn_ends_with_the_six_characters_aws_appends() -> None:
    _, state = mocks().new_resource(MockResourceArgs("aws:secretsmanager/secret:Secret", "s", {"name": "web/token"}, custom=True))
    prefix = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web/token-"
    assert state["arn"].startswith(prefix)
    assert len(state["arn"]) == len(prefix) + 6
