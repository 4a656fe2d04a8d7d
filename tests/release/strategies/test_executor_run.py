"""What the executor keeps as a release runs: each step announced with its place, where the wall time went, and
what a resumed release needs recorded before the first step (its weights and its bake)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from components.config.release_record import Outcome
from release.context import SilentReporter
from release.state import record as records
from release.strategies.executor import Executor
from release.strategies.failure import StepFailure
from release.strategies.planner import ReleaseOptions, plan_release
from release.strategies.steps import Step
from tests.stack_world import POLL_SECONDS, World, release, world


class Steps(SilentReporter):
    """Keeps every step announced."""

    def __init__(self) -> None:
        self.announced: list[tuple[int, int, Step]] = []

    def step(self, index: int, total: int, step: Step) -> None:
        self.announced.append((index, total, step))


def _planned(w: World, bake_minutes: float = 1) -> list[Step]:
    options = ReleaseOptions(version="v2", bake_minutes=bake_minutes, poll_seconds=POLL_SECONDS, steps=(25, 100))
    return plan_release(w.stack.release_config(), w.stack.outputs(), options, "staging")


def test_a_release_announces_each_step_with_its_place_and_times_each_one(session: Any) -> None:
    w = world(session, extend_minutes=0)
    reporter = Steps()
    w.ctx.reporter = reporter
    steps = _planned(w)
    executor = Executor(w.ctx)
    began = time.perf_counter()
    result = executor.run(steps, records.new_record(w.stack.release_config(), "v2", "canary", w.clock, w.ctx.by))
    wall = time.perf_counter() - began
    assert result.outcome is Outcome.PROMOTED, result.why
    assert result.steps_done == len(steps)
    assert reporter.announced == [(index, len(steps), step) for index, step in enumerate(steps, start=1)]
    timed = executor.timing.steps
    assert [name for name, _, _ in timed] == [step.name for step in steps]
    assert all(0 <= engine <= seconds <= wall for _, seconds, engine in timed), timed
    assert sum(engine for _, _, engine in timed) == pytest.approx(executor.runner.engine_seconds)
    assert executor.runner.engine_seconds > 0, "the updates ran through the engine"


def test_the_record_keeps_the_weights_and_the_bake_a_resumed_release_walks(session: Any) -> None:
    w = world(session, extend_minutes=0)
    record = records.new_record(w.stack.release_config(), "v2", "canary", w.clock, w.ctx.by)
    assert (record.steps, record.bake_minutes) == (None, None)
    result = Executor(w.ctx).run(_planned(w, bake_minutes=2), record)
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert result.record == last
    assert (last.steps, last.bake_minutes) == ((25, 100), 2)


def test_weights_and_a_bake_already_recorded_are_kept(session: Any) -> None:
    w = world(session, extend_minutes=0)
    record = records.new_record(w.stack.release_config(), "v2", "canary", w.clock, w.ctx.by)
    record = record.model_copy(update={"steps": (10, 100), "bake_minutes": 5})
    Executor(w.ctx).run(_planned(w, bake_minutes=2), record)
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert (last.steps, last.bake_minutes) == ((10, 100), 5)


def test_a_resumed_release_whose_first_step_fails_gives_its_lease_up(session: Any) -> None:
    # The record in hand is the stored one (resume's): the driver holds its lease before any step writes, so a
    # failure of the very first step still lets another shell resume at once.
    w = world(session, extend_minutes=0)
    release(w, "v2", until_weight=25)
    executor = Executor(w.ctx)
    stored = records.in_progress(w.stack)
    assert stored is not None
    held = records.commit(w.stack, stored, records.leased(stored, executor.runner.holder, w.clock))
    assert held is not None

    def fails(step: Step, record: Any) -> Any:
        msg = "bake at 25%"
        raise StepFailure(msg, "CloudWatch did not answer", infrastructure=True)

    executor.runner.run = fails  # type: ignore[method-assign]
    executor.run(_planned(w)[-3:], held)
    after = records.in_progress(w.stack)
    assert after is not None
    assert after.lease is None
