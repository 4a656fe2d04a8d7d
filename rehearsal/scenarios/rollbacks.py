"""Rehearsals of rollbacks, interruptions and two drivers on one stack, on the same moto world as a release.

Each scenario first records the stack as deployed (one update, so the history
has a version to go back to), then runs real releases with the real driver and
the rollback under test. Releases here use two canary steps (50, 100) unless a
scenario needs more: what is rehearsed is the rollback, and every offline
update costs an evaluation of the program.

They run on the same real traffic as the release scenarios: an application
process per colour and version (every version healthy here), the weighted proxy
following moto's listener after every update, the load balancer's metrics
published each minute and the stack's alarms evaluated over them. When the
scenario is over, the load goes on for ``OBSERVE_SECONDS`` of the clock, and the
summary's ``after`` counts the requests each colour served in that window and
the version each colour's process runs: a rollback is proven by the traffic the
restored colour serves, not only by the weights read back.

Scenarios and their exit codes (0 released, 1 aborted, refused or rolled back):
``rollback-after-promote`` (1: rolled back), ``rollback-to-version`` (0: the
first release's version is released again and promoted), ``irreversible`` (1:
refused, nothing changed), ``interrupted`` (0: an interrupted release is aborted
back to 100/0, a second one is resumed and promoted), ``concurrent`` (1: the
second driver is refused while the first goes on to promotion),
``rollback-rolling`` (1: on a rolling stack a release is promoted, then
``rollback`` puts the previous version back on the live colour through ECS's
rolling deployment, the rehearsal's ``RolloutSeam``, with the standby untouched).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from components.config import Colour, Strategy, load
from components.config.release_record import Outcome, ReleaseRecord
from offline import evaluate
from offline.diff import PlanDiff, diff
from offline.stacks import ProjectFiles
from rehearsal.run import START, Rehearsal, log_fields, make_engine
from rehearsal.world.engine import RehearsalEngine
from rehearsal.world.fleet import Fleet
from rehearsal.world.metrics import PercentileReads
from rehearsal.world.proxy import WeightedProxy
from rehearsal.world.rollout import RolloutSeam
from rehearsal.world.seams import RehearsalTaskRunner, ScheduledClock
from rehearsal.world.servers import Behaviour, HealthServer, Moto
from rehearsal.world.stack import World
from rehearsal.world.traffic import Load, Traffic, start_traffic
from release.context import Aws, Context, Reporter, SilentReporter
from release.engine.offline import OfflineEngine
from release.engine.waiting import WaitingEngine
from release.rollback import to_version as rollback_version
from release.rollback.fast import RollbackRefusedError, fast_rollback
from release.rollback.resume import plan_resume, resume
from release.state import ReleaseStateStore
from release.state.record import new_record
from release.strategies.executor import Executor, Result, abort
from release.strategies.planner import ReleaseOptions, plan_release
from release.strategies.steps import Step

SCENARIOS = ("rollback-after-promote", "rollback-to-version", "irreversible", "interrupted", "concurrent", "rollback-rolling")
STEPS = (50, 100)
INTERRUPT_AFTER = 45.0  # seconds into the first bake: between two polls
WARM_UP_SECONDS = 120.0  # live serves traffic before anything happens, as in a release scenario
OBSERVE_SECONDS = 120.0  # the load goes on this long after the scenario, to show where requests go now
# Up to four releases in a row, each with its backup window (release:backupMinutes, 30 by default): about three
# hours of the clock. The release scenarios' bound (20,000 requests) would run dry before the last rollback.
ROLLBACK_LOAD = Load(max_requests=60_000, max_seconds=8 * 3600)
STANDBY_VERSION = "rehearsal-standby"  # rollback-rolling: what the standby colour runs, unrelated to any release


@dataclass
class Stage:
    """One rehearsal's world: the offline engine mirrored into moto, and a driver context over it."""

    stack: str
    offline: OfflineEngine
    engine: RehearsalEngine
    world: World
    clock: ScheduledClock
    ctx: Context
    source: str
    strategy: Strategy | None
    traffic: Traffic
    fleet: Fleet
    issued: list[str] = field(default_factory=list)

    def planned(self, version: str, by: str = "rehearsal", **options: Any) -> tuple[list[Step], ReleaseRecord]:
        """The steps and the new record of a release of ``version`` by ``by``."""
        config = load(self.engine.get_config(), self.stack).release
        strategy = options.pop("strategy", self.strategy)
        steps_option = options.pop("steps", STEPS if (strategy or config.strategy) is Strategy.CANARY else None)
        opts = ReleaseOptions(version=version, strategy=strategy, steps=steps_option, **options)
        steps = plan_release(config, self.engine.outputs(), opts, self.stack)
        return steps, new_record(config, version, (strategy or config.strategy).value, self.clock, by)

    def release(self, version: str, by: str = "rehearsal", **options: Any) -> tuple[Result, list[Step]]:
        """A whole release of ``version`` by ``by``; its result and steps."""
        steps, record = self.planned(version, by, **options)
        ctx = self.ctx if by == self.ctx.by else replace(self.ctx, by=by)
        return Executor(ctx).run(steps, record), steps

    def served(self) -> dict[str, int]:
        """Colour -> percent the listener in moto serves."""
        served = self.world.served_weights(self.offline.outputs())
        total = sum(served.values()) or 1
        return {c.value: round(100 * served.get(c.value, 0) / total) for c in Colour}

    def observe(self, seconds: float = OBSERVE_SECONDS) -> dict[str, Any]:
        """Let the load run ``seconds`` more; per colour, the requests and 5xx it served then, and its process's version."""
        self.traffic.catch_up()
        mark = len(self.traffic.proxy.samples)
        self.clock.sleep(seconds)
        self.traffic.catch_up()
        window = self.traffic.proxy.samples[mark:]
        served: dict[str, Any] = {}
        for colour in Colour:
            mine = [s for s in window if s.colour is colour]
            running = self.fleet.running.get(colour)
            served[colour.value] = {
                "requests": len(mine), "5xx": sum(s.status >= 500 for s in mine),
                "version": running.version if running is not None and self.fleet.port(colour) else None,
            }
        return {"seconds": seconds, "colours": served}

    def differ(self) -> Callable[[Any, Any], PlanDiff | None]:
        """The offline diff between the deployed plan and the plan of another config."""
        secrets = self.offline.files.stack_config(self.stack)[1]

        def compare(now: Any, target: Any) -> PlanDiff | None:
            after = evaluate(self.offline.program_dir, self.offline.files.project, self.stack, dict(target), secrets)
            return diff(self.offline.plan(), after)

        return compare


@contextmanager
def stage(
    stack: str, overrides: Sequence[tuple[str, Any]], strategy: Strategy | None, reporter: Reporter | None,
    store: ReleaseStateStore | None = None,
) -> Iterator[Stage]:
    """Moto, the fleet and its traffic, the stack's AWS side and a context; the stack as deployed is one update."""
    clock = ScheduledClock(START)
    offline, source = make_engine(stack, overrides, clock, needs_migration=True, store=store)
    loaded = load(offline.get_config(), stack)
    region = loaded.region
    fleet = Fleet({}, log_fields=log_fields(loaded))
    with Moto(region) as session, HealthServer(Behaviour()) as health, fleet, WeightedProxy(fleet.port) as proxy:
        # A rolling stack's live colour is rolled by ECS, which moto does not do: the rehearsal's seam does it.
        rollout = RolloutSeam(session, clock, loaded.release.live, fleet.start) if loaded.release.strategy is Strategy.ROLLING else None
        world = World(session, clock, health.base_url, starter=fleet.start, rollout=rollout)
        plan = offline.plan()
        world.build(plan)
        if rollout is not None:
            rollout.attach()
        health.behaviour.route = world.route
        offline.hooks.append(world.apply)
        engine = RehearsalEngine(offline, world)
        traffic = start_traffic(plan, engine, world, fleet, proxy, clock, session, ROLLBACK_LOAD)
        clock.sleep(WARM_UP_SECONDS)
        shown = reporter or SilentReporter()
        ctx = Context(
            stack=stack, engine=WaitingEngine(engine, clock, shown.note), aws=Aws.from_session(session, clock), clock=clock,
            runner=RehearsalTaskRunner(session), reporter=shown, by="rehearsal",
        )
        # moto computes no percentiles: the world answers the driver's as CloudWatch would (PercentileReads).
        PercentileReads(traffic.store, session.shared("cloudwatch")).attach(ctx.aws.cloudwatch.client)
        offline.update("the stack as deployed before the rehearsal")
        try:
            yield Stage(stack, offline, engine, world, clock, ctx, source, strategy, traffic, fleet)
        finally:
            traffic.close()


def summarise(st: Stage, scenario: str, outcome: str, result: Result | None, steps: list[Step], **extra: Any) -> dict[str, Any]:
    """The ``--json`` summary: outcome, live colour, weights read back from moto, each step and whether it was done."""
    final = load(st.offline.get_config(), st.stack).release
    record = result.record if result else None
    run = record.migration if record else None
    failed = {"step": result.failed_step, "why": result.why, "next": result.next_command} if result and result.why else None
    return {
        "scenario": scenario, "outcome": outcome, "live": final.live.value, "weights": st.served(),
        "steps": [{"step": s.describe(), "done": result is not None and i < result.steps_done} for i, s in enumerate(steps)],
        "snapshot": record.snapshot if record else None,
        "migration": None if run is None else {"task": run.task, "exit_code": run.exit_code, "reversible": run.reversible},
        "failed": failed, "environment": st.source,
        "updates": [{"version": h.version, "message": h.message, "counts": dict(h.counts)} for h in reversed(st.offline.history())],
        **extra,
        "after": st.observe(),
        "traffic": st.traffic.counts(),
        "alarms": [{"at": at, "alarm": name, "state": state} for at, name, state in st.traffic.evaluator.changes if at > 0],
    }


def after_promote(st: Stage) -> tuple[Result, dict[str, Any]]:
    """A release is promoted; the fast rollback flips live back in one listener update, read back from moto."""
    result, steps = st.release("rehearsal-1")
    promoted = st.observe()
    done = fast_rollback(st.ctx, "rehearsal: the new version misbehaves after promotion")
    rolled = Result(Outcome.ROLLED_BACK, done.record, steps_done=result.steps_done)
    extra = {"release": result.outcome.value, "before_rollback": promoted, "rollback": {
        "action": done.action, "updates": done.updates, "touched": done.touched, "live_version": done.version, "notes": list(done.notes),
    }}
    return rolled, summarise(st, "rollback-after-promote", Outcome.ROLLED_BACK.value, rolled, steps, **extra)


def to_version(st: Stage) -> tuple[Result, dict[str, Any]]:
    """Three releases, then ``--to-version`` of the first one's promotion: its version is live again, through a release."""
    versions = ("rehearsal-1", "rehearsal-2", "rehearsal-3")
    snapshots = [done.record.snapshot if done.record else None for done, _ in (st.release(v) for v in versions)]
    first = next(h.version for h in reversed(st.offline.history()) if f"({versions[0]}) to live" in h.message)
    preview = rollback_version.prepare(st.ctx, first, st.differ())
    result = rollback_version.run(st.ctx, preview)
    final = load(st.offline.get_config(), st.stack).release
    extra = {"to_version": first, "live_version": final.versions.of(final.live), "preview": preview.to_json(),
             "release_snapshots": snapshots}
    return result, summarise(st, "rollback-to-version", result.outcome.value, result, preview.steps, **extra)


def irreversible(st: Stage) -> tuple[Result, dict[str, Any]]:
    """A release whose migration is irreversible, then ``--to-version`` from before it: refused, nothing changed."""
    before = st.offline.history()[0].version
    result, steps = st.release("rehearsal-1", migration_reversible=False)
    updates, served = len(st.offline.history()), st.served()
    try:
        rollback_version.prepare(st.ctx, before, st.differ())
    except RollbackRefusedError as exc:
        refused = Result(Outcome.REFUSED, result.record, "rollback --to-version", exc.why, exc.next_command, False, 0)
    else:  # pragma: no cover - the scenario exists to show the refusal
        msg = "the rollback across an irreversible migration was not refused"
        raise AssertionError(msg)
    unchanged = len(st.offline.history()) == updates and st.served() == served
    extra = {"to_version": before, "nothing_changed": unchanged}
    return refused, summarise(st, "irreversible", Outcome.REFUSED.value, refused, steps, **extra)


def interrupt_in_first_bake(st: Stage, version: str) -> list[Step]:
    """Start a release and stop it, as Ctrl-C would, partway into its first bake; the steps it was planned with."""
    def stop() -> None:
        raise KeyboardInterrupt

    original = st.offline.update

    def arm(message: str, targets: Any = None) -> Any:
        found = original(message, targets)
        if "% to " in message:
            st.offline.update = original  # type: ignore[method-assign]
            st.clock.at(st.clock.monotonic() + INTERRUPT_AFTER, stop)
        return found

    st.offline.update = arm  # type: ignore[method-assign]
    steps, record = st.planned(version)
    try:
        Executor(st.ctx).run(steps, record)
    except KeyboardInterrupt:
        pass
    finally:
        st.offline.update = original  # type: ignore[method-assign]
    return steps


def interrupted(st: Stage) -> tuple[Result, dict[str, Any]]:
    """Interrupted mid-bake: ``abort`` restores 100/0; a second interrupted release is resumed to promotion."""
    interrupt_in_first_bake(st, "rehearsal-1")
    held = load(st.engine.get_config(), st.stack).release
    left = {"weights": st.served(), "in_progress": held.in_progress is not None}
    assert held.in_progress is not None  # noqa: S101 - the interrupt leaves the record by construction
    abort(st.ctx, held.in_progress, "rehearsal: aborted after an interrupt")
    after_abort = st.served()
    abort_traffic = st.observe()
    steps = interrupt_in_first_bake(st, "rehearsal-2")
    _, left_to_do = plan_resume(st.ctx)
    result = resume(st.ctx)
    # Steps before the resumed ones were done before the interrupt (the preflight and everything verified).
    done_before = len(steps) - len(left_to_do)
    counted = replace(result, steps_done=done_before + result.steps_done)
    extra = {"interrupted": left, "after_abort": after_abort, "after_abort_traffic": abort_traffic,
             "resumed_from": left_to_do[0].describe() if left_to_do else None}
    return result, summarise(st, "interrupted", result.outcome.value, counted, steps, **extra)


def concurrent(st: Stage) -> tuple[Result, dict[str, Any]]:
    """While one driver bakes its first step, a second starts a release: refused at once, naming the first."""
    second: dict[str, Result] = {}
    original = st.offline.update

    def arm(message: str, targets: Any = None) -> Any:
        found = original(message, targets)
        if "% to " in message and not second:
            def start_second() -> None:
                second["result"], _ = st.release("rehearsal-2", by="second-driver")
            st.clock.at(st.clock.monotonic() + INTERRUPT_AFTER, start_second)
        return found

    st.offline.update = arm  # type: ignore[method-assign]
    first, steps = st.release("rehearsal-1", by="first-driver")
    st.offline.update = original  # type: ignore[method-assign]
    refused = second["result"]
    extra = {
        "first": {"outcome": first.outcome.value, "by": "first-driver", "steps_done": first.steps_done},
        "second": {"outcome": refused.outcome.value, "by": "second-driver", "why": refused.why},
        "second_by": "second-driver",
    }
    # The steps are the first driver's, as far as it got; the outcome and failure are the second driver's refusal.
    summary = summarise(st, "concurrent", refused.outcome.value, first, steps, **extra)
    summary["failed"] = {"step": refused.failed_step, "why": refused.why, "next": refused.next_command}
    return refused, summary


def rolling(st: Stage) -> tuple[Result, dict[str, Any]]:
    """A rolling stack: a release is promoted, then ``rollback`` rolls the previous version back onto the live colour."""
    before = load(st.offline.get_config(), st.stack).release
    result, steps = st.release("rehearsal-1", bake_minutes=1)
    promoted = st.observe()
    done = fast_rollback(st.ctx, "rehearsal: the new version misbehaves after the rolling release")
    rolled = Result(Outcome.ROLLED_BACK, done.record, steps_done=result.steps_done)
    final = load(st.offline.get_config(), st.stack).release
    rollout = st.world.rollout
    extra = {"release": result.outcome.value, "before_rollback": promoted, "rollback": {
        "action": done.action, "updates": done.updates, "touched": done.touched, "live_version": done.version, "notes": list(done.notes),
    }, "versions_before": {"blue": before.versions.blue, "green": before.versions.green},
        "versions_after": {"blue": final.versions.blue, "green": final.versions.green},
        "rollout": [{"at": at, "deployment": ident, "state": state} for at, ident, state in rollout.events] if rollout else []}
    return rolled, summarise(st, "rollback-rolling", Outcome.ROLLED_BACK.value, rolled, steps, **extra)


RUNS: dict[str, Callable[[Stage], tuple[Result, dict[str, Any]]]] = {
    "rollback-after-promote": after_promote,
    "rollback-to-version": to_version,
    "irreversible": irreversible,
    "interrupted": interrupted,
    "concurrent": concurrent,
    "rollback-rolling": rolling,
}


def rehearse_rollback(
    stack: str, scenario: str, overrides: Sequence[tuple[str, Any]] = (), *,
    strategy: Strategy | None = None, reporter: Reporter | None = None,
) -> Rehearsal:
    """Run one rollback scenario; the same ``Rehearsal`` (summary, exit code) as a release scenario."""
    if scenario == "rollback-rolling":
        # Rolling is the stack's policy, so the rehearsal's stack takes it (as ``rehearse -c release:strategy=rolling``).
        # The standby runs a version no release made: a rollback that flipped to it would serve that version.
        config, _ = ProjectFiles.here().stack_config(stack)
        standby = load(config, stack).release.candidate
        overrides = [(f"release:versions.{standby}", STANDBY_VERSION), *overrides, ("release:strategy", Strategy.ROLLING.value)]
        strategy = None
    with stage(stack, overrides, strategy, reporter) as st:
        result, summary = RUNS[scenario](st)
        updates = summary["updates"]
        touched = st.offline.updates[-1].touched if st.offline.updates else None
    return Rehearsal(scenario, result, summary, updates, touched_by_abort=touched)
