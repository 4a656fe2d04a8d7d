"""Capacity before traffic: the candidate runs its share of live's load before it gets it; the old colour waits for the new.

The rehearsal's ECS services keep the desired counts the stack sets (moto) and
start new tasks 30 s after a count rises (``ServiceFleet``), so a shift that did
not wait for its tasks would be seen taking traffic with too few.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from components.config import ReleaseConfig, Strategy
from offline import Plan
from rehearsal.run import Rehearsal
from release.strategies.capacity import required_tasks
from release.strategies.planner import ReleaseOptions, plan_release
from release.strategies.steps import Promote, Retire, Shift, Smoke
from tests.rehearsals import rehearsed

# Production: green live with 3 tasks and autoscaling; the candidate's standby count lowered to 1 so every step scales.
# The default 30-minute backup window stays: when the old colour scales down is a subject here.
# The subject is capacity, not judgement: production's 5% first step at the rehearsal's 3 requests a second gets
# 500 requests in 55 minutes, so the tests' minimum sample is lowered to what the step serves within its bake's
# extension; short of it the release would hold, never promote (docs/releasing.md, "Too little traffic").
OVERRIDES = (("release:bakeMinutes", 1), ("fleet:candidateCount", 1),
             ("release:analysis", {"errors": {"minRequests": 30}, "errorLines": {"minRequests": 30}}))
STRATEGIES = (Strategy.CANARY, Strategy.BLUE_GREEN)


@pytest.fixture(scope="module")
def run() -> Callable[[Strategy], Rehearsal]:
    def get(strategy: Strategy) -> Rehearsal:
        return rehearsed("production", "happy", OVERRIDES, strategy=strategy)

    return get


@pytest.mark.parametrize(("live", "weight", "standby", "tasks"), [
    (3, 5, 1, 1), (3, 25, 1, 1), (3, 50, 1, 2), (3, 100, 1, 4),
    (10, 25, 1, 3),  # 10 * 0.25 * 1.2 is 3 exactly, not 3.0000000000000004 rounded up to 4
    (1, 10, 2, 2),  # never below the standby count
])
def test_the_candidate_needs_its_share_of_live_with_headroom(live: int, weight: int, standby: int, tasks: int) -> None:
    assert required_tasks(live, weight, 1.2, standby) == tasks


def _shifts(done: Rehearsal) -> list[dict[str, Any]]:
    """Log entries of updates that raised the candidate's weight (the live colour unchanged)."""
    found, before = [], None
    for entry in done.fleet:
        candidate = "green" if entry["live"] == "blue" else "blue"
        weight = entry["weights"][candidate]
        if before is not None and before[0] == entry["live"] and weight > before[1]:
            found.append({**entry, "candidate": candidate, "weight": weight})
        before = (entry["live"], weight)
    return found


@pytest.mark.rehearsal
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_shift_waits_until_the_candidate_runs_its_share_of_live_with_headroom(
    run: Callable[[Strategy], Rehearsal], strategy: Strategy,
) -> None:
    done = run(strategy)
    assert done.summary["outcome"] == "promoted", done.summary["failed"]
    shifts = _shifts(done)
    # The last step leaves live its control share (release:controlWeight, 5 by default).
    assert [s["weight"] for s in shifts] == ([5, 25, 50, 95] if strategy is Strategy.CANARY else [95])
    for shift in shifts:
        live = "green" if shift["candidate"] == "blue" else "blue"
        live_running = shift["before"][live][0]
        assert live_running == 3
        needed = max(1, math.ceil(round(live_running * shift["weight"] / 100 * 1.2, 6)))
        running, desired = shift["before"][shift["candidate"]]
        assert running >= needed, f"{shift['weight']}% went to {shift['candidate']} running {running} of the {needed} it needs"
        assert desired >= needed
    scaled = [u["message"].split(": ", 1)[1] for u in done.updates if " tasks for " in u["message"]]
    assert scaled == ([
        "scale blue to 2 tasks for 50%",
        "scale blue to 4 tasks for 95%",
    ] if strategy is Strategy.CANARY else ["scale blue to 4 tasks for 95%"])


@pytest.mark.rehearsal
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_old_colour_scales_down_only_after_the_promotion_once_the_new_live_runs_its_count(
    run: Callable[[Strategy], Rehearsal], strategy: Strategy,
) -> None:
    done = run(strategy)
    promotion = next(i for i, e in enumerate(done.fleet) if e["live"] == "blue")
    # The promotion leaves the old live colour (green) with what it ran.
    assert done.fleet[promotion]["after"]["green"] == (3, 3)
    retire = done.fleet[-1]
    assert done.updates[-1]["message"].endswith("after the backup window, scale green down to its standby count")
    assert retire is not done.fleet[promotion]
    running, desired = retire["before"]["blue"]
    assert running >= desired >= 3, "the new live ran its count before the old colour was scaled down"
    assert retire["after"]["green"][1] == 1, "the old colour is back at its standby count"
    assert done.summary["tasks"] == {"blue": {"running": 4, "desired": 4}, "green": {"running": 1, "desired": 1}}
    # Only after the backup window (release:backupMinutes, 30 by default), with blue healthy and no alarm.
    record = done.result.record
    assert record is not None
    assert record.backup is not None
    assert record.finished_at is not None
    assert record.backup.state.value == "scaled-down"
    assert record.backup.at - record.finished_at >= timedelta(minutes=30)


@pytest.mark.rehearsal
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_an_aborted_release_leaves_no_extra_candidate_tasks_in_the_config(strategy: Strategy) -> None:
    # The alarm comes from the candidate's own traffic, so its bake must outlast the alarm's M of N periods.
    overrides = (*OVERRIDES, ("release:steps", [50, 100]), ("release:bakeMinutes", 10))
    done = rehearsed("production", "alarm", overrides, strategy=strategy)
    assert done.summary["outcome"] == "aborted"
    assert any(" tasks for " in u["message"] for u in done.updates), "the candidate was scaled before the alarm"
    assert done.summary["candidate_tasks"] == 0


def test_the_program_raises_the_candidates_count_and_its_autoscaling_minimum(plan_of: Callable[..., Plan]) -> None:
    for stack in ("staging", "production"):
        plan = plan_of(stack, "release:candidateTasks=7")
        candidate = plan.outputs["candidate_colour"]
        name = plan.outputs["service_names"][candidate]
        service = next(r for r in plan.of_type("aws:ecs/service:Service") if r.inputs["name"] == name)
        assert service.inputs["desiredCount"] == 7
        targets = [r for r in plan.of_type("aws:appautoscaling/target:Target") if str(r.inputs["resourceId"]).endswith(f"/{name}")]
        assert [(t.inputs["minCapacity"], t.inputs["maxCapacity"]) for t in targets] == ([(7, 7)] if stack == "production" else [])


OUTPUTS: dict[str, Any] = {
    "listener_arn": "arn:listener", "target_group_arns": {"blue": "arn:b", "green": "arn:g"},
    "endpoint_url": "https://app.example.com", "health_check_path": "/healthz",
    "candidate_route": {"token_header": "X-Release-Token", "colour_header": "X-Release-Colour"},
    "release_token_secret_arn": "arn:secret",
}
CONFIG = ReleaseConfig.model_validate({"versions": {"blue": "v1", "green": "v1"}})


def test_the_plan_scales_before_each_shift_and_retires_the_old_colour_after_the_public_smoke_test() -> None:
    with_services = {**OUTPUTS, "cluster_name": "web", "service_names": {"blue": "web-blue", "green": "web-green"}}
    steps = plan_release(CONFIG, with_services, ReleaseOptions(version="v2", headroom=1.5), "staging")
    assert {s.headroom for s in steps if isinstance(s, Shift)} == {1.5}
    assert "scale green to 25% of blue's running tasks x1.5, wait until they run; send 25% to green" in steps[3].describe()
    kinds = [type(s) for s in steps]
    assert kinds[-3:] == [Promote, Smoke, Retire]
    assert steps[-1] == Retire(CONFIG.live, 600.0, 60.0 * CONFIG.backup_minutes, 10.0, control=5)
    assert "then send blue's 5% control share to green, verified, and scale blue down" in steps[-1].describe()


def test_without_ecs_services_there_is_nothing_to_scale() -> None:
    steps = plan_release(CONFIG, OUTPUTS, ReleaseOptions(version="v2"), "staging")
    assert {s.headroom for s in steps if isinstance(s, Shift)} == {None}
    assert not any(isinstance(s, Retire) for s in steps)
