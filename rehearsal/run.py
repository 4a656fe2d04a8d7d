"""``python -m rehearsal``: a whole release of a stack against moto, in seconds.

The real planner and executor run with the offline engine (whose updates are
mirrored into moto by ``World.apply``), the AWS wrappers pointed at moto, a
local HTTP server answering the health endpoints, and a manual clock, so bakes
take no real time. A scenario decides what goes wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.config import Colour, StackConfig, Strategy, load
from offline import Plan
from offline.stacks import ProjectFiles, apply_overrides
from rehearsal.scenarios.releases import BY_NAME, default_load
from rehearsal.scenarios.staging import StagingGate
from rehearsal.world.app import LogFields
from rehearsal.world.engine import RehearsalEngine
from rehearsal.world.faults import Throttle, shared_fault, sicken_after_promotion, throttle_each_bake, weighted_candidate
from rehearsal.world.fleet import Fleet
from rehearsal.world.logs import filters_of
from rehearsal.world.metrics import PercentileReads
from rehearsal.world.proxy import WeightedProxy
from rehearsal.world.rollout import RolloutSeam
from rehearsal.world.seams import Faults, RehearsalTaskRunner, ScheduledClock
from rehearsal.world.servers import Behaviour, HealthServer, Moto
from rehearsal.world.stack import World
from rehearsal.world.traffic import start_traffic
from release.context import Aws, Context, Reporter, SilentReporter
from release.engine import UpdateResult
from release.engine.offline import OfflineEngine
from release.engine.waiting import WaitingEngine
from release.judgement.analysis import alarm_names
from release.output.history import rows as history_rows
from release.state import ReleaseStateStore
from release.state.record import new_record
from release.strategies.executor import Executor, Result
from release.strategies.planner import ReleaseOptions, plan_release
from release.strategies.steps import Shift

SCENARIOS = tuple(BY_NAME)
STANDIN = Path(__file__).resolve().parent / "world" / "standin"
KILL_STEP = 2  # the candidate dies during the bake of this shift (blue-green has one: its only one)
KILL_DELAY = 37.0  # seconds into that bake: not on a poll boundary
# Metrics close and alarms are evaluated on the minute; starting 7 s past one keeps those moments off the
# driver's polls (every 10 s from a step's start), so the time from an alarm to the abort is measured, not 0.
START = datetime(2026, 1, 1, 0, 0, 7, tzinfo=UTC)


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
    traffic_wall: float = 0.0
    """Real seconds the rehearsal spent sending its requests."""
    fleet: list[dict[str, Any]] = field(default_factory=list)
    """Per update, each colour's (running, desired) tasks before and after it (``ServiceFleet.log``)."""


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


def log_fields(config: StackConfig) -> LogFields:
    """The field names the applications write their request lines with: the ones the stack's ``monitoring:logs`` reads."""
    signals = config.monitoring.logs
    return LogFields(signals.level_field, signals.message_field, signals.duration_field, signals.error_levels[0])


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
    faults: Faults | None = None,
    skip_staging: str | None = None,
) -> Rehearsal:
    """Run one scenario of a release of ``stack``, with the scenario's faults and any given; return what happened.

    On production the staging gate runs first, as in ``deploy``, over a staging stack whose history holds what the
    scenario says (``rehearsal/scenarios/staging.py``); ``skip_staging`` is ``--skip-staging --reason``'s reason.
    """
    if scenario not in SCENARIOS:
        message = f"--scenario {scenario!r}: allowed {', '.join(SCENARIOS)}"
        raise ValueError(message)
    settings = BY_NAME[scenario]
    clock = ScheduledClock(START)
    if strategy is Strategy.ROLLING:
        # Rolling is the stack's policy (it sets the live service's rollout limits), so the rehearsal's stack takes it.
        overrides, strategy = [*overrides, ("release:strategy", Strategy.ROLLING.value)], None
    if scenario == "weighted-candidate":
        # The candidate already carries traffic while nothing is in progress: preflight must refuse.
        overrides = weighted_candidate(stack, overrides)
    offline, source = make_engine(stack, overrides, clock, needs_migration=scenario == "migration-fails")
    config = load(offline.get_config(), stack)
    gate = StagingGate(stack, version, config, settings, skip_staging)
    # The metric filters the release will deploy must be ones the rehearsal can apply: refused now, before anything runs.
    filters_of(offline.preview())
    behaviour = Behaviour(test_status=settings.smoke_status)
    fleet = Fleet({version: settings.candidate}, default=settings.live, seed=settings.seed, log_fields=log_fields(config))
    with Moto(config.region) as session, HealthServer(behaviour) as health, fleet, WeightedProxy(fleet.port, settings.seed) as proxy:
        rolling = config.release.strategy is Strategy.ROLLING
        rollout = RolloutSeam(session, clock, config.release.live, fleet.start) if rolling else None
        world = World(session, clock, health.base_url, faults or scenario_faults(scenario, config.release.live),
                      starter=fleet.start, rollout=rollout)
        plan = offline.plan()
        world.build(plan)
        if rollout is not None:
            rollout.attach()
        health.behaviour.route = world.route
        engine = RehearsalEngine(offline, world)
        offline.hooks.append(world.apply)
        if scenario == "weighted-candidate":
            offline.update("rehearsal: the candidate carries traffic before the release")
        traffic = start_traffic(plan, engine, world, fleet, proxy, clock, session,
                                settings.load or default_load(config.release))
        clock.sleep(settings.warm_up_seconds)
        runner = RehearsalTaskRunner(session, exit_code=settings.migration_exit)
        shown = reporter or SilentReporter()
        ctx = Context(
            stack=stack, engine=WaitingEngine(engine, clock, shown.note), aws=Aws.from_session(session, clock), clock=clock,
            runner=runner, reporter=shown, by="rehearsal",
        )
        # moto computes no percentiles: the world answers the driver's p99 reads as CloudWatch would.
        percentiles = PercentileReads(traffic.store, session.shared("cloudwatch"))
        percentiles.attach(ctx.aws.cloudwatch.client)
        throttle = Throttle(ctx.aws.cloudwatch.client, "DescribeAlarms")
        if scenario == "throttled":
            offline.hooks.append(throttle_each_bake(throttle, engine))
        options = ReleaseOptions(version=version, strategy=strategy)
        steps = plan_release(config.release, engine.outputs(), options, stack)
        killed: dict[str, float] = {}
        if settings.kill_candidate and rolling:
            offline.hooks.append(_kill_rolled(config.release.live, version, engine, clock, fleet, killed))
        elif settings.kill_candidate:
            shifts = sum(isinstance(s, Shift) for s in steps)
            offline.hooks.append(_kill_trigger(min(KILL_STEP, shifts), engine, clock, fleet, killed))
        if settings.live_fails_after_promotion:
            offline.hooks.append(sicken_after_promotion(engine, clock, fleet, traffic, version))
        if settings.shared_fault:
            offline.hooks.append(shared_fault(engine, clock, fleet, traffic))
        alerts: list[str] = []
        ctx.aws.sns.client.meta.events.register(
            "before-parameter-build.sns.Publish", lambda params, **_: alerts.append(str(params.get("Subject", ""))))
        record = new_record(config.release, version, (strategy or config.release.strategy).value, clock, "rehearsal")
        if skip_staging is not None:
            record = record.model_copy(update={"staging_skipped": skip_staging})
        executor = Executor(ctx)
        refused = gate.refusal(engine.outputs(), clock.now())
        result = refused or executor.run(steps, record)
        traffic.catch_up()
        traffic.close()
        served = world.served_weights(offline.outputs())
        total = sum(served.values()) or 1
        weights = {c.value: round(100 * served.get(c.value, 0) / total) for c in Colour}
        candidate_alarms = alarm_names(engine.outputs(), config.release.candidate)
        alarm_at = traffic.evaluator.first(candidate_alarms[0], "ALARM") if candidate_alarms else None
        tasks = {colour: {"running": running, "desired": desired} for colour, (running, desired) in world.services.counts().items()}
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
        "tasks": tasks,
        "candidate_tasks": final.candidate_tasks,
        "steps": [{"step": s.describe(), "done": i < result.steps_done} for i, s in enumerate(steps)],
        "snapshot": result.record.snapshot if result.record else None,
        "migration": _migration(result),
        "failed": {"step": result.failed_step, "why": result.why, "next": result.next_command} if result.why else None,
        "environment": source,
        "throttled_calls": throttle.raised,
        "percentile_reads": percentiles.answered,
        # Why a bake held for the environment instead of aborting, and what was sent to the alert topic.
        "holds": list(executor.runner.holds),
        "alerts": alerts,
        "updates": updates,
        "traffic": traffic.counts(),
        "alarms": [{"at": at, "alarm": name, "state": state} for at, name, state in traffic.evaluator.changes if at > 0],
        "staging": gate.summary(),
        "backup": result.record.backup.model_dump(mode="json") if result.record and result.record.backup else None,
        # What `python -m release history` shows for the rehearsed stack (release/output/history.py).
        "history": [row.to_json() for row in history_rows(offline.history(), offline.get_config())],
        "versions": {c.value: final.versions.of(c) for c in Colour},
    }
    if rollout is not None:
        summary["rollout"] = [{"at": at, "deployment": ident, "state": state} for at, ident, state in rollout.events]
    touched = offline.updates[-1].touched if abort_events and offline.updates else None
    return Rehearsal(
        scenario, result, summary, updates, alarm_at, abort_events[0] if abort_events else None,
        executor.timing.steps, touched, traffic.wall, world.services.log,
    )


def scenario_faults(scenario: str, live: Colour) -> Faults:
    """Where a scenario's world disagrees with the plan."""
    if scenario == "unhealthy":
        return Faults(unhealthy=frozenset({live.other.value}))
    if scenario == "lb-ignores-weights":
        # The listener keeps serving what it served before the release: every shift is lost.
        return Faults(listener_ignores=frozenset({"shift"}))
    if scenario == "live-unhealthy":
        # Its targets answer, but none of its tasks is left running.
        return Faults(running_caps=((live.value, 0),))
    return Faults()


def _migration(result: Result) -> dict[str, Any] | None:
    run = result.record.migration if result.record else None
    return None if run is None else {"task": run.task, "exit_code": run.exit_code}


def _kill_trigger(target: int, engine: RehearsalEngine, clock: ScheduledClock, fleet: Fleet, killed: dict[str, float]) -> Any:
    """A hook that, after the ``target``-th shift, kills the candidate's process partway into its bake."""
    seen = {"weight": 0, "shifts": 0}

    def hook(plan: Plan, result: UpdateResult) -> None:
        release = load(engine.get_config(), engine.stack).release
        if release.canary_weight <= seen["weight"]:
            return
        seen["weight"] = release.canary_weight
        seen["shifts"] += 1
        if seen["shifts"] != target:
            return

        def kill() -> None:
            fleet.kill(release.candidate)
            killed["at"] = clock.monotonic()

        clock.at(clock.monotonic() + KILL_DELAY, kill)

    return hook


def _kill_rolled(live: Colour, version: str, engine: RehearsalEngine, clock: ScheduledClock, fleet: Fleet,
                 killed: dict[str, float]) -> Any:
    """A hook that, once the live colour is rolled to ``version``, kills that version's process partway into the rollout."""

    def hook(plan: Plan, result: UpdateResult) -> None:
        if killed or load(engine.get_config(), engine.stack).release.versions.of(live) != version:
            return
        killed["scheduled"] = clock.monotonic()

        def kill() -> None:
            running = fleet.running.get(live)
            if running is not None and running.version == version:
                fleet.kill(live)
                killed["at"] = clock.monotonic()

        clock.at(clock.monotonic() + KILL_DELAY, kill)

    return hook


def to_json(rehearsal: Rehearsal) -> str:
    """The ``--json`` summary."""
    return json.dumps(rehearsal.summary, indent=2, default=str)
