"""The planner: config and options in, the steps of a release out; bad options refused with their messages."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ReleaseConfig, Strategy
from release.errors import BadInputError
from release.strategies.planner import ReleaseOptions, plan_release, snapshot_id
from release.strategies.steps import Backup, Bake, Deploy, EndControl, Migrate, Notify, Preflight, Promote, Shift, Smoke

CONFIG = ReleaseConfig.model_validate({"versions": {"blue": "v1", "green": "v1"}, "bakeMinutes": 5})
OUTPUTS: dict[str, Any] = {
    "listener_arn": "arn:listener", "target_group_arns": {"blue": "arn:b", "green": "arn:g"},
    "endpoint_url": "https://app.example.com", "health_check_path": "/healthz",
    "candidate_route": {"token_header": "X-Release-Token", "colour_header": "X-Release-Colour"},
    "release_token_secret_arn": "arn:secret",
    "alert_topic_arn": "arn:topic", "database_identifier": "db",
    "migration": {"task_definition_arn": "arn:td", "migrate_command": ["manage", "migrate"]},
}


def _kinds(steps: list[Any]) -> list[str]:
    return [type(s).__name__ for s in steps]


def test_a_canary_release_walks_every_step_with_a_bake_after_each() -> None:
    steps = plan_release(CONFIG, OUTPUTS, ReleaseOptions(version="v2"), "staging")
    assert _kinds(steps) == [
        "Preflight", "Backup", "Deploy", "Migrate", "Smoke",
        "Shift", "Bake", "Shift", "Bake", "Shift", "Bake",
        "Promote", "Smoke", "EndControl", "Notify",
    ]
    assert [s.weight for s in steps if isinstance(s, Shift)] == [25, 50, 100]
    # The last step leaves live its 5% control; the promotion keeps it on the old colour until the control ends.
    assert [s.served for s in steps if isinstance(s, Shift)] == [25, 50, 95]
    assert [s.served for s in steps if isinstance(s, Bake)] == [25, 50, 95]
    assert steps[-4].config_change() == {"release:live": "green", "release:canaryWeight": 5}
    assert steps[-2] == EndControl(CONFIG.live, 5)
    assert all(s.seconds == 300 for s in steps if isinstance(s, Bake))
    assert steps[2] == Deploy(CONFIG.candidate, "v2", 600.0)
    assert steps[3] == Migrate(("manage", "migrate"))
    assert steps[1] == Backup("db", "staging-release-v2")


def test_blue_green_is_one_100_step_after_the_smoke_test_then_a_bake() -> None:
    steps = plan_release(CONFIG, OUTPUTS, ReleaseOptions(version="v2", strategy=Strategy.BLUE_GREEN), "staging")
    shifts = [s for s in steps if isinstance(s, Shift)]
    assert shifts == [Shift(CONFIG.candidate, 100, 1, 1, control=5)]
    assert shifts[0].config_change() == {"release:canaryWeight": 95}
    index = steps.index(shifts[0])
    assert isinstance(steps[index - 1], Smoke)
    assert isinstance(steps[index + 1], Bake)
    assert isinstance(steps[index + 2], Promote)


def test_options_override_the_steps_and_the_bake() -> None:
    steps = plan_release(CONFIG, OUTPUTS, ReleaseOptions(version="v2", steps=(50, 100), bake_minutes=0.5), "staging")
    assert [s.weight for s in steps if isinstance(s, Shift)] == [50, 100]
    assert {s.seconds for s in steps if isinstance(s, Bake)} == {30.0}


def test_steps_the_stack_cannot_take_are_left_out() -> None:
    bare = {k: v for k, v in OUTPUTS.items() if k not in ("database_identifier", "migration", "alert_topic_arn")}
    kinds = _kinds(plan_release(CONFIG, bare, ReleaseOptions(version="v2"), "staging"))
    assert "Backup" not in kinds
    assert "Migrate" not in kinds
    assert "Notify" not in kinds
    assert kinds[0] == "Preflight"


def test_every_config_change_is_shown_for_the_dry_run() -> None:
    steps = plan_release(CONFIG, OUTPUTS, ReleaseOptions(version="v2"), "staging")
    changes = [dict(s.config_change()) for s in steps if s.config_change()]
    assert changes[0] == {"release:versions.green": "v2"}
    assert changes[1] == {"release:canaryWeight": 25}
    assert changes[-2] == {"release:live": "green", "release:canaryWeight": 5}
    assert changes[-1] == {"release:canaryWeight": 0}
    assert isinstance(steps[0], Preflight)
    assert isinstance(steps[-1], Notify)


@pytest.mark.parametrize(("options", "message"), [
    (ReleaseOptions(version="v2", steps=(10, 50, 25, 100)), "--steps 10,50,25,100: steps must be strictly increasing, e.g. 10,25,50,100"),
    (ReleaseOptions(version="v2", steps=(10, 50)), "--steps 10,50: the last step must be 100"),
    (ReleaseOptions(version="v2", steps=(0, 100)), "--steps 0,100: each step is a percent from 1 to 100"),
    (ReleaseOptions(version="-bad tag"), "--version '-bad tag': not an image tag"),
    (ReleaseOptions(version="v1"), "--version 'v1': the live colour (blue) of staging already runs it; nothing to release"),
    (ReleaseOptions(version="v2", bake_minutes=2000), "--bake 2000: minutes from 0 to 1440"),
    (ReleaseOptions(version="v2", steps=(25, 95, 100)), "--steps 25,95,100: the last step gives the candidate 100 - "
     "release:controlWeight = 95%, which must be more than the step before it (95%)"),
])
def test_bad_options_are_refused_with_the_flag_and_what_is_allowed(options: ReleaseOptions, message: str) -> None:
    with pytest.raises(BadInputError) as caught:
        plan_release(CONFIG, OUTPUTS, options, "staging")
    assert message in str(caught.value)


def test_steps_just_under_the_control_share_are_planned() -> None:
    steps = plan_release(CONFIG, OUTPUTS, ReleaseOptions(version="v2", steps=(25, 94, 100)), "staging")
    assert [s.served for s in steps if isinstance(s, Shift)] == [25, 94, 95]


def test_with_the_control_off_the_last_step_takes_everything_and_nothing_ends_it() -> None:
    config = CONFIG.model_copy(update={"control_weight": 0})
    steps = plan_release(config, OUTPUTS, ReleaseOptions(version="v2"), "staging")
    assert [s.served for s in steps if isinstance(s, Shift)] == [25, 50, 100]
    assert not [s for s in steps if isinstance(s, EndControl)]
    assert [dict(s.config_change()) for s in steps if isinstance(s, Promote)] == [{"release:live": "green", "release:canaryWeight": 0}]


def test_every_bad_option_is_named_at_once() -> None:
    with pytest.raises(BadInputError) as caught:
        plan_release(CONFIG, OUTPUTS, ReleaseOptions(version="..", steps=(50, 10)), "staging")
    assert str(caught.value).count("\n") == 2


def test_a_stack_without_a_load_balancer_is_refused() -> None:
    with pytest.raises(BadInputError) as caught:
        plan_release(CONFIG, {"endpoint_url": "x"}, ReleaseOptions(version="v2"), "staging")
    assert ("stack staging has no listener_arn, target_group_arns, candidate_route, release_token_secret_arn output(s)"
            in str(caught.value))


def test_the_candidate_is_smoke_tested_through_its_route_and_the_public_name_after_promotion() -> None:
    steps = plan_release(CONFIG, OUTPUTS, ReleaseOptions(version="v2"), "staging")
    smokes = [s for s in steps if isinstance(s, Smoke)]
    assert smokes == [Smoke("endpoint_url", "/healthz", colour=CONFIG.candidate), Smoke("endpoint_url", "/healthz")]
    assert smokes[0].describe() == f"smoke test /healthz through the candidate route to {CONFIG.candidate}"


@pytest.mark.parametrize(("version", "expected"), [
    ("v2", "staging-release-v2"), ("1.4.0_rc1", "staging-release-1-4-0-rc1"), ("--x", "staging-release-x"),
])
def test_snapshot_ids_are_valid_rds_identifiers(version: str, expected: str) -> None:
    assert snapshot_id("staging", version) == expected
