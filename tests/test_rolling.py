"""The rolling strategy in the program: the live colour updated in place, ECS's rollout limits and its alarms."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError, load
from offline.diff import diff
from release.errors import BadInputError
from release.planner import ReleaseOptions, check_options
from tests.support import MINIMAL_CONFIG

SERVICE = "aws:ecs/service:Service"
ROLLING = "release:strategy=rolling"


def services(plan) -> dict[str, dict]:  # noqa: ANN001 - a Plan
    return {s.name.rsplit("-", 1)[-1]: s.inputs for s in plan.of_type(SERVICE)}


def test_a_rolling_release_touches_only_the_live_colours_task_and_service_and_the_migration_task(plan_of) -> None:
    # Production is green-live: a rolling release puts its version on green itself.
    before = plan_of("production", ROLLING)
    result = diff(before, plan_of("production", ROLLING, "release:versions.green=5e6f7a8b"))
    touched = {(d.kind, d.name) for d in result.resources}
    # The migration task must carry the image being released, so its definition is revised with it.
    assert touched == {("replace", "webapp-fleet-green"), ("update", "webapp-fleet-green"), ("replace", "webapp-migration-task")}
    service = next(d for d in result.resources if d.type == SERVICE)
    assert [c.path for c in service.changes] == ["taskDefinition"]
    (migrate,) = json.loads(next(r for r in plan_of("production", ROLLING, "release:versions.green=5e6f7a8b").resources
                                 if r.name == "webapp-migration-task").inputs["containerDefinitions"])
    assert migrate["image"].endswith(":5e6f7a8b")


def test_every_colour_rolls_back_when_its_release_alarms_fire_during_a_deployment(plan_of) -> None:
    plan = plan_of("production")
    names = plan.outputs["alarm_names"]
    for colour, inputs in services(plan).items():
        assert inputs["alarms"] == {"alarmNames": names[colour], "enable": True, "rollback": True}
        assert inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}


def test_the_rollout_limits_apply_to_the_live_colour_only(plan_of) -> None:
    canary = services(plan_of("production"))
    assert {c: (s["deploymentMinimumHealthyPercent"], s["deploymentMaximumPercent"]) for c, s in canary.items()} == {
        "blue": (100, 200), "green": (100, 200)}
    rolling = services(plan_of("production", ROLLING, 'release:rolling={"minimumHealthyPercent": 50, "maximumPercent": 150}'))
    assert (rolling["green"]["deploymentMinimumHealthyPercent"], rolling["green"]["deploymentMaximumPercent"]) == (50, 150)
    assert (rolling["blue"]["deploymentMinimumHealthyPercent"], rolling["blue"]["deploymentMaximumPercent"]) == (100, 200)


def _problems(**release: object) -> list[str]:
    raw = {**MINIMAL_CONFIG, **{f"release:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in release.items()}}
    with pytest.raises(ConfigError) as caught:
        load(raw, "staging")
    return caught.value.problems


@pytest.mark.parametrize(("release", "key", "allowed"), [
    ({"strategy": "rolling", "canaryWeight": 10}, "release:canaryWeight", "allowed 0"),
    ({"strategy": "sideways"}, "release:strategy", "rolling"),
    ({"rolling": {"minimumHealthyPercent": 101}}, "release:rolling.minimumHealthyPercent", "less than or equal to 100"),
    ({"rolling": {"maximumPercent": 99}}, "release:rolling.maximumPercent", "greater than or equal to 100"),
    ({"rolling": {"minimumHealthyPercent": 100, "maximumPercent": 100}}, "release:rolling.maximumPercent",
     "more than minimumHealthyPercent (100)"),
    ({"rolling": {"bakeMinutes": -1}}, "release:rolling.bakeMinutes", "greater than or equal to 0"),
])
def test_bad_rolling_settings_are_named_with_their_key(release: dict[str, object], key: str, allowed: str) -> None:
    found = _problems(**release)
    assert any(p.startswith(f"{key}:") and allowed in p for p in found), found


def test_the_driver_refuses_a_rolling_release_it_cannot_watch_and_says_what_to_do() -> None:
    config = load({**MINIMAL_CONFIG, "release:strategy": "rolling"}, "staging").release
    with pytest.raises(BadInputError) as caught:
        check_options(ReleaseOptions(version="9.9.9"), config, "staging")
    assert "release:strategy rolling" in str(caught.value)
    assert f"release:versions.{config.live} <version>" in str(caught.value)
    check_options(ReleaseOptions(version="9.9.9", strategy=None), load(MINIMAL_CONFIG, "staging").release, "staging")
