"""What every rollback shares, exactly: its refusal's words, the changes it counts, and what the listener serves.

Each test here was written against a mutant of `release/rollback/common.py` that the rest of this folder let
live (`make mutate MODULE=release/rollback/common.py`). The context is the part of one that these functions read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from components.config import Colour, ConfigError, load
from components.config.release_record import Outcome, Phase, ReleaseRecord
from offline.stacks import ProjectFiles
from release.clock import ManualClock
from release.engine import HistoryEntry
from release.errors import BadInputError
from release.rollback.common import (
    RollbackRefusedError,
    check_config,
    current_release,
    last_promoted,
    rollback_record,
    served,
    touched,
    updates,
)

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
                           asked=asked, clock=ManualClock(datetime(2026, 12, 7, 3, 4, 5, tzinfo=UTC)), by="carol@pager")


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


def test_an_invalid_stack_config_is_bad_input_naming_every_problem_by_the_rules_of_its_own_stack() -> None:
    config, _ = ProjectFiles.here().stack_config("staging")
    del config["platform:environment"]
    config["release:canaryWeight"] = "101"
    with pytest.raises(ConfigError) as expected:
        load(config, "production")
    with pytest.raises(BadInputError) as caught:
        current_release(context("production", config))
    assert str(caught.value) == ("the stack config of production is invalid: " + "; ".join(expected.value.problems)
                                 + "; fix the config of production")
    assert len(expected.value.problems) > 2, "production's own rules, each named"


def test_the_stacks_update_count_is_its_newest_updates_version_and_0_before_any() -> None:
    newest = HistoryEntry(7, "release r-2", {}, "succeeded")
    older = HistoryEntry(6, "release r-1", {}, "succeeded")
    assert updates(context(history=[newest, older])) == 7
    assert updates(context(history=[])) == 0


LAST: dict[str, Any] = {
    "id": "r-1", "version": "4a5b6c7d", "colour": "green", "previous": "v1.2.3-3f9c2e1a9b8d7", "strategy": "canary",
    "startedAt": "2026-12-07T02:00:00Z", "startedBy": "alice@laptop", "phase": "promoted", "weight": 100,
    "highestWeight": 100, "finishedAt": "2026-12-07T02:30:00Z",
}


def test_nothing_to_roll_back_is_refused_with_the_callers_next_command() -> None:
    aborted = ReleaseRecord.model_validate({**LAST, "outcome": "aborted"})
    with pytest.raises(RollbackRefusedError) as caught:
        last_promoted(SimpleNamespace(last_release=aborted), "staging", "python -m release status --stack staging")
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "rollback", "nothing to roll back on staging: no release is in progress and the last release, r-1 of 4a5b6c7d, "
        "ended aborted", "python -m release status --stack staging")
    promoted = ReleaseRecord.model_validate({**LAST, "outcome": "promoted"})
    assert last_promoted(SimpleNamespace(last_release=promoted), "staging", "-") is promoted


def test_a_rollbacks_record_is_named_by_its_time_and_the_versions_first_twelve_letters_and_keeps_500_of_its_reason() -> None:
    last = ReleaseRecord.model_validate({**LAST, "outcome": "promoted"})
    record = rollback_record(context(), last, Colour.BLUE, "x" * 600)
    assert record.id == "rb-20261207t030405-v1233f9c2e1a"
    assert (record.version, record.previous, record.colour, record.phase, record.weight) == (
        "v1.2.3-3f9c2e1a9b8d7", "4a5b6c7d", Colour.BLUE, Phase.PROMOTED, 100)
    assert record.reason == ("x" * 600 + ": undid release r-1 of 4a5b6c7d")[:500]
    assert record.started_by == "carol@pager"
    assert record.outcome is not Outcome.ABORTED
