"""What every rollback shares, exactly: its refusal's words, the changes it counts, and what the listener serves.

Each test here was written against a mutant of `release/rollback/common.py` that the rest of this folder let
live (`make mutate MODULE=release/rollback/common.py`). The context is the part of one that these functions read.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from components.config import ConfigError, load
from offline.stacks import ProjectFiles
from release.engine import HistoryEntry
from release.rollback.common import RollbackRefusedError, check_config, served, touched

BLUE_TG = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/webapp-blue/1"
GREEN_TG = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/webapp-green/2"
LISTENER = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/webapp/3/4"


def context(stack: str = "staging", config: dict[str, str] | None = None, history: list[HistoryEntry] | None = None,
            weights: dict[str, int] | None = None) -> Any:
    """A context whose engine and load balancer answer with these."""
    asked: list[str] = []

    def forward_weights(arn: str) -> dict[str, int]:
        asked.append(arn)
        return dict(weights or {})

    engine = SimpleNamespace(
        get_config=lambda: dict(config or {}),
        history=lambda limit=None: list(history or [])[:limit],
        outputs=lambda: {"listener_arn": LISTENER, "target_group_arns": {"blue": BLUE_TG, "green": GREEN_TG}},
    )
    return SimpleNamespace(stack=stack, engine=engine, aws=SimpleNamespace(elbv2=SimpleNamespace(forward_weights=forward_weights)),
                           asked=asked)


def test_a_refusal_keeps_what_why_and_the_next_command_apart() -> None:
    error = RollbackRefusedError("rollback", "nothing to roll back", "python -m release status --stack staging")
    assert (error.what, error.why, error.next_command) == ("rollback", "nothing to roll back", "python -m release status --stack staging")
    assert str(error) == "rollback: nothing to roll back"


def test_a_rollback_whose_config_would_be_invalid_is_refused_by_the_rules_of_its_own_stack() -> None:
    """The stack's name decides its environment's rules when the config does not name one (components/config)."""
    config, _ = ProjectFiles.here().stack_config("staging")
    del config["platform:environment"]
    changes = {"release:canaryWeight": "101"}
    with pytest.raises(ConfigError) as expected:
        load({**config, **changes}, "production")
    with pytest.raises(RollbackRefusedError) as caught:
        check_config(context("production", config), changes)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "rollback", "the rolled-back config would be invalid: " + "; ".join(expected.value.problems),
        "fix the config of production")
    assert any(p.startswith("data:multiAz") for p in expected.value.problems), "production's own rules"


def test_the_changes_counted_are_the_newest_updates_and_not_what_it_left_the_same() -> None:
    newest = HistoryEntry(7, "release r-2", {}, "succeeded", counts={"same": 40, "update": 2, "create": 1})
    older = HistoryEntry(6, "release r-1", {}, "succeeded", counts={"update": 30})
    assert touched(context(history=[newest, older])) == 3
    assert touched(context(history=[])) == 0, "a stack never updated changed nothing"


def test_what_the_listener_serves_is_read_from_the_stacks_listener_per_colour_and_a_stranger_by_its_arn() -> None:
    stranger = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/other/5"
    ctx = context(weights={BLUE_TG: 3, GREEN_TG: 1, stranger: 0})
    assert served(ctx) == {"blue": 75, "green": 25, stranger: 0}
    assert ctx.asked == [LISTENER]
