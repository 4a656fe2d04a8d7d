"""The offline diff, proven on a small fixture program (tests/fixtures/weighted)."""

from __future__ import annotations

from offline.diff import REPLACE_ON, diff
from offline.render import render_diff


def test_a_weight_change_updates_only_the_listener_with_its_input_paths(fixture_plan) -> None:
    before, after = fixture_plan("weighted"), fixture_plan("weighted", "weight=25")
    result = diff(before, after)
    assert [(d.kind, d.name) for d in result.resources] == [("update", "http")]
    assert [str(c) for c in result.resources[0].changes] == [
        "defaultActions[0].forward.targetGroups[0].weight: 100 -> 75",
        "defaultActions[0].forward.targetGroups[1].weight: 0 -> 25",
    ]


def test_added_and_removed_resources(fixture_plan) -> None:
    without, with_topic = fixture_plan("weighted"), fixture_plan("weighted", "topic=true")
    assert [(d.kind, d.name) for d in diff(without, with_topic).resources] == [("add", "alerts")]
    assert [(d.kind, d.name) for d in diff(with_topic, without).resources] == [("remove", "alerts")]


def test_a_changed_urn_is_reported_as_a_replacement(fixture_plan) -> None:
    result = diff(fixture_plan("weighted"), fixture_plan("weighted", "groupName=app-blue-v2"))
    kinds = {d.name: d.kind for d in result.resources}
    assert kinds["app-blue-v2"] == "replace"
    assert "URN changed" in next(d.reason for d in result.resources if d.name == "app-blue-v2")
    # The listener points at the new group's ARN: an update, not a replacement.
    assert kinds["http"] == "update"
    assert "app-blue" not in kinds


def test_a_create_only_input_is_reported_as_a_replacement(fixture_plan) -> None:
    result = diff(fixture_plan("weighted"), fixture_plan("weighted", "port=9090"))
    (group,) = [d for d in result.resources if d.name == "app-blue"]
    assert group.kind == "replace"
    assert group.reason == "changing port forces replacement"
    assert [str(c) for c in group.changes][0] == "port: 8080 -> 9090"


def test_no_change_is_an_empty_diff(fixture_plan) -> None:
    result = diff(fixture_plan("weighted"), fixture_plan("weighted"))
    assert result.resources == ()
    assert "no changes" in render_diff(result, fixture_plan("weighted"))


def test_secrets_print_as_a_marker(fixture_plan) -> None:
    plan = fixture_plan("weighted", ("token", "hunter2"), secret=("token",))
    topic = plan.named("secretive")
    assert topic.inputs["displayName"] == "[secret]"
    assert "hunter2" not in repr(plan.to_json())


def test_the_diff_draws_the_new_weights(fixture_plan) -> None:
    text = render_diff(diff(fixture_plan("weighted"), fixture_plan("weighted", "weight=10")), fixture_plan("weighted", "weight=10"))
    assert "app-blue       ████████████████████████████████████░░░░  90 (90%)" in text
    assert "app-green      ████░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  10 (10%)" in text


def test_data_tier_create_only_inputs_are_replacements() -> None:
    assert "family" in REPLACE_ON["aws:rds/parameterGroup:ParameterGroup"]
    assert "secretString" in REPLACE_ON["aws:secretsmanager/secretVersion:SecretVersion"]
    assert "replicationGroupId" in REPLACE_ON["aws:elasticache/replicationGroup:ReplicationGroup"]


def test_bars_line_up_whatever_the_group_names(plan_of) -> None:
    from offline.render import weight_bars

    plan = plan_of("production")
    lines = [line for line in weight_bars(plan.named("webapp-traffic-https"), plan) if "(" in line]
    starts = {min(i for i, ch in enumerate(line) if ch in "█░") for line in lines}
    assert len(lines) == 2
    assert len(starts) == 1, lines
