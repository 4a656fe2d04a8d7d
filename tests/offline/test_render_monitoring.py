"""The plan tree shows when each alarm fires; a changed threshold is an update, a renamed alarm a replacement."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from offline import Plan
from offline.diff import _replacement_reason, changes, diff
from offline.render import render_plan


@pytest.fixture(scope="module")
def before(fixture_plan: Callable[..., Plan]) -> Plan:
    return fixture_plan("monitoring")


def test_the_tree_shows_each_alarms_condition_and_each_rules_events(before: Plan) -> None:
    text = render_plan(before)
    assert "when CPUUtilization Average > 85 in 3 of 3 periods of 60 s" in text
    assert "when FreeStorageSpace Minimum < 2147483648 in 3 of 3 periods of 60 s" in text
    assert "when MAX([node1, node2]) > 1000 in 3 of 3 periods of 60 s" in text
    assert "matches aws.ecs: ECS Deployment State Change" in text
    assert 'alarmRule: ALARM("webapp-staging-blue-target-5xx") OR' in text
    assert "16 widgets: Requests by colour; 5xx rate by colour;" in text


def test_a_threshold_change_updates_the_alarm_in_place(fixture_plan: Callable[..., Plan], before: Plan) -> None:
    after = fixture_plan("monitoring", ("monitoring:thresholds", {"ecsCpuPercent": 70}))
    changed = {d.name: d for d in diff(before, after).resources}
    assert set(changed) == {"monitoring-blue-ecs-cpu", "monitoring-green-ecs-cpu"}
    assert changed["monitoring-blue-ecs-cpu"].kind == "update"
    assert [str(c) for c in changed["monitoring-blue-ecs-cpu"].changes] == [
        "alarmDescription: 'blue service CPU above 85% of its reservation' -> 'blue service CPU above 70% of its reservation'",
        "threshold: 85 -> 70",
    ]


def test_without_a_domain_the_health_path_changes_nothing(fixture_plan: Callable[..., Plan], before: Plan) -> None:
    assert diff(before, fixture_plan("monitoring", "monitoring:healthPath=/healthz")).resources == ()


def test_a_new_alarm_name_replaces_the_alarm(before: Plan) -> None:
    alarm = before.named("monitoring-rds-cpu")
    renamed = dict(alarm.inputs, name="webapp-other-rds-cpu")
    assert _replacement_reason(alarm, list(changes(alarm.inputs, renamed))) == "changing name forces replacement"
