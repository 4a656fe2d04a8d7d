"""``python -m release rehearse``: a whole release of a stack against moto, in seconds.

The real planner and executor run with the offline engine (whose updates are
mirrored into moto by ``World.apply``), the AWS wrappers pointed at moto, a
local HTTP server answering the health endpoints, and a manual clock, so bakes
take no real time. A scenario decides what goes wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.config import Colour, Strategy, load
from offline import Plan
from offline.stacks import ProjectFiles, apply_overrides
from release.analysis import alarm_names, with_statistic
from release.context import Aws, Context, Reporter, SilentReporter
from release.engine import HistoryEntry, UpdateResult
from release.engine.offline import OfflineEngine
from release.executor import Executor, Result
from release.planner import ReleaseOptions, plan_release
from release.record import new_record
from release.rehearsal.seams import RehearsalTaskRunner, ScheduledClock
from release.rehearsal.servers import Behaviour, HealthServer, Moto
from release.rehearsal.world import World
from release.state import ReleaseStateStore
from release.steps import Shift

SCENARIOS = ("happy", "alarm", "unhealthy", "smoke-fails", "migration-fails")
STANDIN = Path(__file__).resolve().parent / "standin"
ALARM_STEP = 2  # the alarm fires during the bake of this shift (blue-green has one: its only one)
ALARM_DELAY = 37.0  # seconds into that bake: not on a poll boundary


class RehearsalEngine:
    """The offline engine, with outputs translated to the identifiers moto gave."""

    def __init__(self, offline: OfflineEngine, world: World) -> None:
        self.offline = offline
        self.world = world
        self.stack = offline.stack

    def get_config(self) -> dict[str, str]:
        """The offline engine's config."""
        return self.offline.get_config()

    def set_config(self, values: Mapping[str, str]) -> None:
        """Set config."""
        self.offline.set_config(values)

    def remove_config(self, keys: Sequence[str]) -> None:
        """Remove config."""
        self.offline.remove_config(keys)

    def read_release(self) -> tuple[dict[str, str], str]:
        """The release state."""
        return self.offline.read_release()

    def write_release(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        """Compare-and-set the release state."""
        return self.offline.write_release(changes, removals, expect_etag)

    def update(self, message: str, targets: Sequence[str] | None = None) -> UpdateResult:
        """An offline update; its hook mirrors it into moto."""
        return self.offline.update(message, targets)

    def outputs(self) -> dict[str, Any]:
        """Outputs as they are in moto."""
        return self.world.outputs(self.offline.outputs())

    def history(self) -> list[HistoryEntry]:
        """The offline engine's history."""
        return self.offline.history()

    def holder(self) -> str | None:
        """Who holds the stack."""
        return self.offline.holder()


@dataclass
class Rehearsal:
    """What a rehearsal did, for the summary, the tests and the benchmarks."""

    scenario: str
    result: Result
    summary: dict[str, Any]
    updates: list[dict[str, Any]]
    alarm_at: float | None = None
    abort_at: float | None = None
    timing: list[tuple[str, float, float]] = field(default_factory=list)
    touched_by_abort: int | None = None


def make_engine(
    stack: str, overrides: Sequence[tuple[str, Any]], clock: ScheduledClock, *, needs_migration: bool = False,
    store: ReleaseStateStore | None = None,
) -> tuple[OfflineEngine, str]:
    """The offline engine of the stack (with overrides), or of the stand-in when the stack lacks what the scenario needs."""
    files = ProjectFiles.here()
    engine = OfflineEngine(stack, files, clock=clock, store=store)
    engine.set_config(apply_overrides(engine.get_config(), overrides, files))
    outputs = engine.outputs()
    if not outputs.get("listener_arn"):
        why = "the stack exports no load balancer yet"
    elif needs_migration and not outputs.get("migration"):
        why = "the stack exports no migration task yet"
    else:
        return engine, "the stack's own plan"
    standin = OfflineEngine(stack, files, program_dir=STANDIN, clock=clock, store=store)
    standin.set_config(engine.get_config())
    return standin, f"stand-in ({why})"


def _weights(config: Mapping[str, str], stack: str) -> dict[str, int]:
    release = load(config, stack).release
    return {c.value: release.weight_of(c) for c in Colour}


def rehearse(
    stack: str,
    scenario: str = "happy",
    overrides: Sequence[tuple[str, Any]] = (),
    *,
    version: str = "rehearsal-1",
    strategy: Strategy | None = None,
    reporter: Reporter | None = None,
) -> Rehearsal:
    """Run one scenario of a release of ``stack``; return what happened."""
    if scenario not in SCENARIOS:
        message = f"--scenario {scenario!r}: allowed {', '.join(SCENARIOS)}"
        raise ValueError(message)
    clock = ScheduledClock()
    offline, source = make_engine(stack, overrides, clock, needs_migration=scenario == "migration-fails")
    config = load(offline.get_config(), stack)
    behaviour = Behaviour(test_status=500 if scenario == "smoke-fails" else 200)
    broken = frozenset({config.release.candidate}) if scenario == "unhealthy" else frozenset()
    with Moto(config.region) as session, HealthServer(behaviour) as health:
        world = World(session, clock, health.base_url, broken)
        world.build(offline.plan())
        health.behaviour.route = world.route
        engine = RehearsalEngine(offline, world)
        alarm: dict[str, float] = {}
        offline.hooks.append(world.apply)
        runner = RehearsalTaskRunner(session, exit_code=1 if scenario == "migration-fails" else 0)
        ctx = Context(
            stack=stack, engine=engine, aws=Aws.from_session(session, clock), clock=clock, runner=runner,
            reporter=reporter or SilentReporter(),
            # moto computes no percentiles; the latency figure it can give is the maximum.
            thresholds=with_statistic(config.release.analysis, "Maximum"), by="rehearsal",
        )
        options = ReleaseOptions(version=version, strategy=strategy)
        steps = plan_release(config.release, engine.outputs(), options, stack)
        if scenario == "alarm":
            shifts = sum(isinstance(s, Shift) for s in steps)
            offline.hooks.append(_alarm_trigger(min(ALARM_STEP, shifts), engine, clock, alarm, session))
        record = new_record(config.release, version, (strategy or config.release.strategy).value, clock, "rehearsal")
        executor = Executor(ctx)
        result = executor.run(steps, record)
        served = world.served_weights(offline.outputs())
        total = sum(served.values()) or 1
        weights = {c.value: round(100 * served.get(c.value, 0) / total) for c in Colour}
    updates = [
        {"version": h.version, "message": h.message, "weights": _weights(h.config, stack), "counts": dict(h.counts)}
        for h in reversed(offline.history())
    ]
    final = load(offline.get_config(), stack).release
    abort_events = [t for t, kind in executor.timing.events if kind == "abort-update"]
    summary = {
        "scenario": scenario,
        "outcome": result.outcome.value,
        "live": final.live.value,
        "weights": weights,
        "steps": [{"step": s.describe(), "done": i < result.steps_done} for i, s in enumerate(steps)],
        "snapshot": result.record.snapshot if result.record else None,
        "migration": _migration(result),
        "failed": {"step": result.failed_step, "why": result.why, "next": result.next_command} if result.why else None,
        "environment": source,
        "updates": updates,
    }
    touched = offline.updates[-1].touched if abort_events and offline.updates else None
    return Rehearsal(
        scenario, result, summary, updates, alarm.get("at"), abort_events[0] if abort_events else None,
        executor.timing.steps, touched,
    )


def _migration(result: Result) -> dict[str, Any] | None:
    run = result.record.migration if result.record else None
    return None if run is None else {"task": run.task, "exit_code": run.exit_code}


def _alarm_trigger(target: int, engine: RehearsalEngine, clock: ScheduledClock, alarm: dict[str, float], session: Any) -> Any:
    """A hook that, after the ``target``-th shift, sets the candidate's alarm to ALARM partway into its bake."""
    seen = {"weight": 0, "shifts": 0}

    def hook(plan: Plan, result: UpdateResult) -> None:
        release = load(engine.get_config(), engine.stack).release
        if release.canary_weight <= seen["weight"]:
            return
        seen["weight"] = release.canary_weight
        seen["shifts"] += 1
        if seen["shifts"] != target:
            return
        name = alarm_names(engine.outputs(), release.candidate)[0]

        def fire() -> None:
            session.client("cloudwatch").set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="rehearsal: candidate failing")
            alarm["at"] = clock.monotonic()

        clock.at(clock.monotonic() + ALARM_DELAY, fire)

    return hook


def to_json(rehearsal: Rehearsal) -> str:
    """The ``--json`` summary."""
    return json.dumps(rehearsal.summary, indent=2, default=str)
