"""Pulumi Cloud enforcement of the pack: each stack's policy group, naming a version it looked up; no stack publishes."""

from __future__ import annotations

import pytest

from components import guardrails
from components.config import ConfigError, load
from components.guardrails import pack_version
from offline import evaluate_stack
from offline.stacks import ProjectFiles
from policy.enforcement import load_config
from policy.pack import NAME

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


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_no_stack_publishes_the_pack(plan_of, stack: str) -> None:
    # A push-triggered Deployment's stack token cannot publish an organisation's pack; the pack project does.
    assert plan_of(stack).of_type(PACK) == []


def test_a_stack_naming_a_version_pulumi_cloud_does_not_hold_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guardrails, "pack_version", lambda: "9.9.9")
    with pytest.raises(guardrails.UnpublishedPackError, match=r"acme-platform/release-platform has no version 9\.9\.9") as caught:
        evaluate_stack("production")
    assert "publish it first with the pack project" in str(caught.value)


def test_the_lookup_matches_name_and_tag_in_either_shape_the_sdk_hands_over() -> None:
    listed = [{"name": "other", "versionTags": ["0.2.0"]}, {"name": NAME, "versionTags": ["0.1.0", "0.2.0"]}]
    assert guardrails.published_tag(listed, NAME, "0.2.0", "acme-platform") == "0.2.0"
    with pytest.raises(guardrails.UnpublishedPackError):
        guardrails.published_tag(listed, NAME, "0.3.0", "acme-platform")
    with pytest.raises(guardrails.UnpublishedPackError):
        guardrails.published_tag(listed[:1], NAME, "0.2.0", "acme-platform")


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


def test_a_stack_asked_to_publish_is_refused_naming_the_pack_project(config_problems) -> None:
    problems = config_problems("staging", "guardrails:publish=true")
    assert problems == [
        "guardrails:publish: got true; no stack publishes the policy pack: the pack project does, with a token that "
        "may publish (`pulumi up -C pack -s pack`, docs/security.md \"Publishing a pack version\"); remove the key",
    ]


def test_an_unknown_mode_names_the_allowed_ones(config_problems) -> None:
    problems = config_problems("production", "guardrails:mode=strict")
    assert problems == ["guardrails:mode: got \"strict\"; input should be 'preventative' or 'audit'"]
