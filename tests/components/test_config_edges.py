"""Every bounded release setting tested at its edge: the last good value loads, the first bad one is named with its limit.

Each row cites where its limit comes from. A bound that moved by one, or a check that was removed, fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import load
from tests.support import MINIMAL_CONFIG, load_problems

BLUE_GREEN = {"release__strategy": "blue-green"}
ROLLING = {"release__strategy": "rolling"}

# (name, other settings, key, last good, first bad, what the problem says)
EDGES: list[tuple[str, dict[str, Any], str, Any, Any, str]] = [
    # release:candidateTasks is bounded like fleet:desiredCount, 0-100 (components/config/fleet.py desired_count).
    ("candidateTasks-high", {}, "release:candidateTasks", 100, 101, "less than or equal to 100"),
    ("candidateTasks-low", {}, "release:candidateTasks", 0, -1, "greater than or equal to 0"),
    # A weight is a percent of the listener's traffic (components/config/release.py canary_weight).
    ("canaryWeight-high", {}, "release:canaryWeight", 100, 101, "less than or equal to 100"),
    # Blue-green switches all traffic at once: 0 or 100, never a share (docs/releasing.md, "Which strategy").
    ("blue-green-after-0", BLUE_GREEN, "release:canaryWeight", 0, 1, "allowed weights are 0, 5, 95, 100"),
    ("blue-green-half", BLUE_GREEN, "release:canaryWeight", 100, 50, "allowed weights are 0, 5, 95, 100"),
    ("blue-green-before-100", BLUE_GREEN, "release:canaryWeight", 100, 99, "allowed weights are 0, 5, 95, 100"),
    # A rolling stack sends the other colour nothing (release/strategies/rolling.py).
    ("rolling", ROLLING, "release:canaryWeight", 0, 1, "allowed 0"),
    # The deploy session (components/config/session.py): a release must fit a deploy job's 240 minutes (its timeout,
    # components/pipeline.py) and IAM's 12 h maximum session (botocore iam CreateRole MaxSessionDuration "max": 43200).
    # With the default 3 steps and no backup window: 646 s of fixed steps + 3 x (30 s + bake) + set-up and overrun 3,000 s.
    ("bakeMinutes-session", {"release__backupMinutes": 0}, "release:bakeMinutes", 59, 60, "a deploy job holds them for at most 240 min"),
    ("backupMinutes-session", {}, "release:backupMinutes", 162, 163, "a deploy job holds them for at most 240 min"),
    ("rolling-bake-session", ROLLING, "release:rolling", {"bakeMinutes": 119}, {"bakeMinutes": 120},
     "a deploy job holds them for at most 240 min"),
    ("stagingSoakMinutes", {}, "release:stagingSoakMinutes", 10080, 10081, "less than or equal to 10080"),
    ("steps-first", {}, "release:steps", [1, 100], [0, 100], "percent from 1 to 100"),
    # botocore ecs DeploymentConfiguration: minimumHealthyPercent and maximumPercent as ECS documents their ranges
    # (Amazon ECS Developer Guide, "Deploy Amazon ECS services by replacing tasks").
    ("rolling-minimum-healthy", {}, "release:rolling", {"minimumHealthyPercent": 100}, {"minimumHealthyPercent": 101},
     "less than or equal to 100"),
    ("rolling-maximum-low", {}, "release:rolling", {"maximumPercent": 100, "minimumHealthyPercent": 50},
     {"maximumPercent": 99, "minimumHealthyPercent": 50}, "greater than or equal to 100"),
    ("rolling-maximum-high", {}, "release:rolling", {"maximumPercent": 400}, {"maximumPercent": 401}, "less than or equal to 400"),
]


def _config(others: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    values: dict[str, Any] = {**others, key.replace(":", "__"): value}
    if key == "release:canaryWeight" and value:
        values.setdefault("release__versions", {"blue": "1.0.0", "green": "1.1.0"})
    return values


@pytest.mark.parametrize(("others", "key", "good", "bad", "says"), [e[1:] for e in EDGES], ids=[e[0] for e in EDGES])
def test_the_last_good_value_loads_and_the_first_bad_one_is_named(
    others: dict[str, Any], key: str, good: Any, bad: Any, says: str,
) -> None:
    raw = dict(MINIMAL_CONFIG)
    for name, value in _config(others, key, good).items():
        raw[name.replace("__", ":")] = value if isinstance(value, str) else json.dumps(value)
    load(raw, "staging")  # the last good value: no ConfigError
    found = [p for p in load_problems(MINIMAL_CONFIG, "staging", **_config(others, key, bad)) if p.startswith(key)]
    assert found, f"{key}={bad!r} was accepted"
    assert any(says in p for p in found), found
