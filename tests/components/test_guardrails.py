"""Pulumi Cloud enforcement of the pack: each stack's policy group, and the one stack that publishes."""

from __future__ import annotations

import pytest

from components.config import ConfigError, load
from components.guardrails import pack_version
from offline.stacks import ProjectFiles
from policy.enforcement import load_config
from policy.pack import NAME
from policy.policies import POLICIES

GROUP = "pulumiservice:index:PolicyGroup"
PACK = "pulumiservice:index:PolicyPack"


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_each_stack_has_a_preventative_group_with_its_own_policy_config(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    [group] = plan.of_type(GROUP)
    assert group.inputs["name"] == f"release-platform-{stack}"
    assert group.inputs["organizationName"] == "acme-platform"
    assert (group.inputs["entityType"], group.inputs["mode"]) == ("stacks", "preventative")
    assert group.inputs["stacks"] == [{"name": stack, "routingProject": "release-platform"}]
    assert group.inputs["policyPacks"] == [{"name": NAME, "versionTag": pack_version(), "config": load_config(stack)}]


def test_staging_publishes_the_pack_version_and_production_only_refers_to_it(plan_of) -> None:
    staging, production = plan_of("staging"), plan_of("production")
    assert production.of_type(PACK) == []
    [pack] = staging.of_type(PACK)
    assert (pack.inputs["name"], pack.inputs["organization"]) == (NAME, "acme-platform")
    assert pack.inputs["versionTag"] == pack_version() == "0.2.0"
    assert pack.inputs["sourcePath"] == "policy"
    assert [p["name"] for p in pack.inputs["policies"]] == [p.name for p in POLICIES]


def test_guardrails_off_declares_nothing(plan_of) -> None:
    plan = plan_of("staging", "guardrails:enabled=false", "guardrails:publish=false")
    assert plan.of_type(GROUP) == []
    assert plan.of_type(PACK) == []


def test_enabled_without_an_organisation_is_refused_naming_the_key() -> None:
    raw, _ = ProjectFiles.here().stack_config("production")
    del raw["guardrails:organization"]
    with pytest.raises(ConfigError) as caught:
        load(raw, "production")
    assert caught.value.problems == [
        "guardrails:organization: got null; required when guardrails:enabled is true: the Pulumi organisation",
    ]


def test_publishing_without_enforcing_is_refused(config_problems) -> None:
    problems = config_problems("staging", "guardrails:enabled=false")
    assert problems == ["guardrails:publish: got true; publishing the pack needs guardrails:enabled true"]


def test_an_unknown_mode_names_the_allowed_ones(config_problems) -> None:
    problems = config_problems("production", "guardrails:mode=strict")
    assert problems == ["guardrails:mode: got \"strict\"; input should be 'preventative' or 'audit'"]
