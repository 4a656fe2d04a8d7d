"""The offline models: realistic answers, and a loud failure for anything unmodelled."""

from __future__ import annotations

import pytest
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from release.offline.models import OfflineMocks, UnmodelledError


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
