"""The rolling strategy in the program: the live colour updated in place, ECS's rollout limits and its alarms."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError, load, session
from offline.diff import diff
from release.strategies import planner, rolling
from release.strategies.planner import ReleaseOptions, expected_seconds, plan_release
from release.strategies.steps import Migrate, Watch
from tests.support import MINIMAL_CONFIG

SERVICE = "aws:ecs/service:Service"
ROLLING = "release:strategy=rolling"


def services(plan) -> dict[str, dict]:  # noqa: ANN001 - a Plan
    return {s.name.rsplit("-", 1)[-1]: s.inputs for s in plan.of_type(SERVICE)}


def _in_progress(version: str) -> str:
    """``release:inProgress`` of a rolling release of ``version`` on production's live colour (green)."""
    record = {"id": "r-20260101t000000-roll", "version": version, "colour": "green", "previous": "3f9c2e1a",
              "strategy": "rolling", "startedAt": "2026-01-01T00:00:00Z", "startedBy": "alice@laptop"}
    return f"release:inProgress={json.dumps(record)}"


def test_the_roll_of_a_rolling_release_touches_only_the_live_colours_task_definition_and_service(plan_of) -> None:
    # Production is green-live: a rolling release puts its version on green itself. The driver's flow: the record in
    # progress first (its Stage update revises the migration task), then the roll.
    staged = plan_of("production", ROLLING, _in_progress("5e6f7a8b"))
    rolled = plan_of("production", ROLLING, _in_progress("5e6f7a8b"), "release:versions.green=5e6f7a8b")
    result = diff(staged, rolled)
    assert {(d.kind, d.name) for d in result.resources} == {("replace", "webapp-fleet-green"), ("update", "webapp-fleet-green")}
    service = next(d for d in result.resources if d.type == SERVICE)
    assert [c.path for c in service.changes] == ["taskDefinition"]
    # The migration the driver runs before the roll already carries the image being released.
    (migrate,) = json.loads(next(r for r in staged.resources if r.name == "webapp-migration-task").inputs["containerDefinitions"])
    assert migrate["image"].endswith(":5e6f7a8b")
    # The Stage update itself touches the migration task only.
    staging = diff(plan_of("production", ROLLING), staged)
    assert {(d.kind, d.name) for d in staging.resources} == {("replace", "webapp-migration-task")}


def test_a_bare_version_change_on_the_live_colour_also_revises_the_migration_task(plan_of) -> None:
    # Outside a release (`diff -c release:versions.green=...`), the migration task follows the live colour's version,
    # so a hand-made rolling update carries the new image into it in the same update.
    result = diff(plan_of("production", ROLLING), plan_of("production", ROLLING, "release:versions.green=5e6f7a8b"))
    assert {(d.kind, d.name) for d in result.resources} == {
        ("replace", "webapp-fleet-green"), ("update", "webapp-fleet-green"), ("replace", "webapp-migration-task")}


def test_every_task_definition_revision_stays_registered_for_ecs_to_roll_back_to(plan_of) -> None:
    definitions = [r for r in plan_of("production").of_type("aws:ecs/taskDefinition:TaskDefinition") if r.name.startswith("webapp-fleet-")]
    assert len(definitions) == 2
    assert all(r.inputs.get("skipDestroy") is True for r in definitions)


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


# --- the deploy job's credentials outlast a rolling release ---------------------------------------------


def test_the_session_mirrors_the_drivers_rollout_and_rollback_bounds() -> None:
    assert session.ROLLOUT_TIMEOUT_SECONDS == planner.ROLLOUT_TIMEOUT
    assert session.ROLLBACK_TIMEOUT_SECONDS == rolling.ROLLBACK_TIMEOUT


def test_a_rolling_session_outlasts_a_failed_rollout_after_its_whole_watch(plan_of) -> None:
    release = load({**MINIMAL_CONFIG, "release:strategy": "rolling", "release:rolling": json.dumps({"bakeMinutes": 20})}, "staging").release
    steps = plan_release(release, plan_of("staging").outputs, ReleaseOptions(version="9.9.9"), "staging")
    assert any(isinstance(s, Migrate) for s in steps), "the whole plan, migration included"
    watch = next(s for s in steps if isinstance(s, Watch))
    # The longest path: the watch to its timeout, then ECS's rollback and the old version's update, each verified.
    worst = expected_seconds(steps) - watch.expected_seconds() + watch.timeout_seconds + 2 * rolling.ROLLBACK_TIMEOUT + 60
    assert session.planned_release_seconds(release) >= worst
    assert session.session_seconds(release) >= worst + session.SETUP_SECONDS
    # The rolling bake, not the canary steps, is what a longer bake lengthens.
    longer = release.model_copy(update={"rolling": release.rolling.model_copy(update={"bake_minutes": 40})})
    assert session.planned_release_seconds(longer) - session.planned_release_seconds(release) == 20 * 60
    assert session.planned_release_seconds(release.model_copy(update={"steps": (1, 2, 100)})) == session.planned_release_seconds(release)


def test_a_rolling_bake_no_deploy_job_could_hold_credentials_for_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        load({**MINIMAL_CONFIG, "release:strategy": "rolling", "release:rolling": json.dumps({"bakeMinutes": 180})}, "staging")
    (problem,) = [p for p in caught.value.problems if p.startswith("release:rolling.bakeMinutes: got 180;")]
    assert "needs credentials for" in problem
    assert "at most 240 min" in problem
