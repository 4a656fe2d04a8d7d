"""Typed config: every problem is reported at once, naming the key, the value and what is allowed."""

from __future__ import annotations

import pytest

from components.config import Colour, Strategy, load
from tests.support import MINIMAL_CONFIG, load_problems

BASE = MINIMAL_CONFIG


def problems(stack: str = "staging", **values: object) -> list[str]:
    return load_problems(BASE, stack, **values)


def test_defaults_of_the_release_state() -> None:
    cfg = load(BASE, "staging")
    release = cfg.release
    assert release.strategy is Strategy.CANARY
    assert release.live is Colour.BLUE
    assert release.candidate is Colour.GREEN
    assert release.canary_weight == 0
    assert release.steps == (25, 50, 100), "a 25% first step meets the analysis's targets (bench/canary.py)"
    assert release.bake_minutes == 5
    assert cfg.platform.environment.value == "staging"


def test_weights_follow_live_and_canary_weight() -> None:
    cfg = load({**BASE, "release:live": "green", "release:canaryWeight": "25"}, "production")
    assert cfg.release.weight_of(Colour.GREEN) == 75
    assert cfg.release.weight_of(Colour.BLUE) == 25
    assert cfg.is_production


@pytest.mark.parametrize(
    ("values", "key", "fragment"),
    [
        ({"release__canaryWeight": 101}, "release:canaryWeight", "less than or equal to 100"),
        ({"release__canaryWeight": -1}, "release:canaryWeight", "greater than or equal to 0"),
        ({"release__canaryWeight": "ten"}, "release:canaryWeight", "valid integer"),
        ({"release__strategy": "trickle"}, "release:strategy", "'canary', 'blue-green' or 'rolling'"),
        ({"release__live": "red"}, "release:live", "'blue' or 'green'"),
        ({"release__versions": None}, "release:versions", "required"),
        ({"release__versions": {"blue": "1.0"}}, "release:versions.green", "required"),
        ({"release__versions": {"blue": "1.0", "green": ".bad"}}, "release:versions.green", "pattern"),
        ({"release__versions": {"blue": "1.0", "green": "1.1", "red": "2"}}, "release:versions.red", "unknown key"),
        ({"release__versions": "1.0"}, "release:versions", "valid dictionary"),
        ({"release__steps": [10, 5, 100]}, "release:steps", "strictly increasing"),
        ({"release__steps": [10, 50]}, "release:steps", "last step must be 100"),
        ({"release__steps": [0, 100]}, "release:steps[0]", "percent from 1 to 100"),
        ({"release__steps": []}, "release:steps", "at least one step"),
        ({"release__steps": "[10,"}, "release:steps", "does not parse"),
        ({"release__bakeMinutes": -5}, "release:bakeMinutes", "greater than or equal to 0"),
        ({"release__bakeMinutes": 5000}, "release:bakeMinutes", "less than or equal to 1440"),
        ({"release__stagingSoakMinutes": -1}, "release:stagingSoakMinutes", "greater than or equal to 0"),
        ({"release__stagingSoakMinutes": 20000}, "release:stagingSoakMinutes", "less than or equal to 10080"),
        ({"release__lockWaitMinutes": -1}, "release:lockWaitMinutes", "greater than or equal to 0"),
        ({"release__lockWaitMinutes": 26}, "release:lockWaitMinutes", "less than or equal to 25"),
        ({"release__canaryWeigth": 10}, "release:canaryWeigth", "unknown key"),
        ({"release__strategy": "blue-green", "release__canaryWeight": 30}, "release:canaryWeight", "allowed weights are 0, 5, 95, 100"),
        ({"release__versions": {"blue": "1.0", "green": "1.0"}, "release__canaryWeight": 10}, "release:canaryWeight",
         "differs from the live one"),
        ({"aws__region": None}, "aws:region", "set the AWS region"),
        ({"platform__environment": "qa"}, "platform:environment", "'staging' or 'production'"),
        ({"platform__appName": "Web_App"}, "platform:appName", "pattern"),
        ({"platform__appName": "a-very-long-application-name"}, "platform:appName", "pattern"),
    ],
)
def test_bad_config_names_key_value_and_what_is_allowed(values: dict[str, object], key: str, fragment: str) -> None:
    found = problems(**values)
    matching = [p for p in found if p.startswith(f"{key}: got ")]
    assert matching, f"no problem names {key}: {found}"
    assert any(fragment in p for p in matching), matching


@pytest.mark.parametrize("minutes", [0, 25])
def test_the_lock_wait_takes_its_edges(minutes: int) -> None:
    assert load({**BASE, "release:lockWaitMinutes": str(minutes)}, "staging").release.lock_wait_minutes == minutes


def test_environment_is_required_when_the_stack_name_does_not_say() -> None:
    found = problems(stack="eu-prod")
    assert found == ["platform:environment: got (missing); this key is required"]


def test_every_problem_is_reported_at_once() -> None:
    found = problems(release__canaryWeight=300, release__live="red", release__bakeMinutes=-1, release__strategy="x")
    assert len(found) == 4
    assert {p.split(":")[0] + ":" + p.split(":")[1] for p in found} == {
        "release:canaryWeight", "release:live", "release:bakeMinutes", "release:strategy",
    }


def test_cross_field_rules_report_together() -> None:
    found = problems(
        release__strategy="blue-green",
        release__canaryWeight=40,
        release__versions={"blue": "2", "green": "2"},
    )
    assert len(found) == 2
    assert all(p.startswith("release:canaryWeight: got 40;") for p in found)


def test_the_value_given_is_shown() -> None:
    (found,) = problems(release__live="purple")
    assert found.startswith('release:live: got "purple";')
