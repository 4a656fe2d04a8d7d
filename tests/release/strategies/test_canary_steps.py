"""The canary's own steps as its runner runs them (release/strategies/canary.py): deploy, scale before a shift, and
how a bake ends when it cannot judge.

Each test here fails on a copy of the module with one of its checks or messages changed (``make mutate``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from components.config import ConfigError, load
from components.config.release_analysis import AnalysisConfig
from components.config.release_record import Phase
from release.aws.base import TRANSIENT_GRACE_SECONDS, TransientAwsError
from release.clock import ManualClock
from release.context import Context
from release.judgement.analysis import Verdict
from release.judgement.checks import Check
from release.state import record as records
from release.strategies import canary
from release.strategies.canary import CanaryRunner
from release.strategies.environment import HOLD_MINUTES, Environment, Window
from release.strategies.executor import Executor
from release.strategies.failure import StepFailure
from release.strategies.steps import Bake, Deploy, Shift
from release.strategies.timing import Timing
from tests.release.strategies.test_bake import LATENCY, LIVE, RECORD, Arriving, Engine, Metrics, Polls
from tests.release.strategies.test_environment import AlertingEngine, Changing, Topic
from tests.stack_world import Notes, World, lease_taken_by, targets_unhealthy, world

STATUS = "python -m release status --stack staging"


def _started(w: World) -> tuple[CanaryRunner, Any]:
    w.ctx = replace(w.ctx, reporter=Notes())
    runner = Executor(w.ctx).runner
    assert isinstance(runner, CanaryRunner)
    record = records.new_record(w.stack.release_config(), "v2", "canary", w.clock, w.ctx.by)
    return runner, runner._write({}, record, new=True)


def _deployed(w: World) -> Any:
    """The candidate runs v2 (which any share of the traffic needs); the release config as it was before."""
    config = w.stack.release_config()
    w.stack.set_release(versions={config.live.value: config.versions.of(config.live), config.candidate.value: "v2"})
    return config


def _with_services(w: World) -> None:
    """The stack exports its ECS cluster and a service per colour, as the real program does."""
    exported = w.stack.outputs()
    w.stack.outputs = lambda: {  # type: ignore[method-assign]
        **exported, "cluster_name": "web", "service_names": {"blue": "web-blue", "green": "web-green"}}


def test_a_deploy_writes_the_candidates_version_as_compact_json_updates_and_records_it_deployed(session: Any) -> None:
    w = world(session)
    runner, record = _started(w)
    config = w.stack.release_config()
    live, candidate = config.live, config.candidate
    done = runner.run(Deploy(candidate, "v2"), record)
    assert done.phase is Phase.DEPLOYED
    assert records.in_progress(w.stack) == done
    versions = {"blue": config.versions.blue, "green": config.versions.green, candidate.value: "v2"}
    # The key the program reads, as `pulumi config set --path` would leave it: no spaces.
    assert w.stack.config["release:versions"] == json.dumps(versions, separators=(",", ":"))
    assert w.stack.release_config().versions.of(live) == config.versions.of(live)
    assert w.stack.issued[-1]["message"] == f"release {record.id}: v2 on {candidate}"
    assert "release:candidateTasks" not in w.stack.config or w.stack.config["release:candidateTasks"] == str(config.candidate_tasks)


@pytest.mark.parametrize(("standby", "candidate_tasks", "written"), [
    ("0", "0", "1"),  # a candidate kept at no tasks gets one to be deployed and checked at all
    ("1", "0", None),
    ("0", "2", None),
])
def test_a_deploy_onto_a_candidate_kept_at_no_tasks_gives_it_one(
    session: Any, monkeypatch: pytest.MonkeyPatch, standby: str, candidate_tasks: str, written: str | None,
) -> None:
    w = world(session)
    w.stack.config["fleet:candidateCount"] = standby
    w.stack.set_release(candidateTasks=int(candidate_tasks))
    _with_services(w)
    runner, record = _started(w)
    monkeypatch.setattr(runner, "healthy", lambda colour: (True, "1 healthy target(s)"))
    runner.run(Deploy(w.stack.release_config().candidate, "v2"), record)
    assert w.stack.config["release:candidateTasks"] == (written or candidate_tasks)


def test_a_deploy_onto_a_candidate_with_no_services_exported_writes_no_task_count(session: Any) -> None:
    w = world(session)
    w.stack.config["fleet:candidateCount"] = "0"
    runner, record = _started(w)
    runner.run(Deploy(w.stack.release_config().candidate, "v2"), record)
    assert "release:candidateTasks" not in w.stack.config


def test_a_deploy_whose_candidate_never_gets_healthy_fails_after_its_timeout_saying_no_traffic_moved(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = world(session)
    runner, record = _started(w)
    candidate = w.stack.release_config().candidate
    targets_unhealthy(w, monkeypatch)
    began = w.clock.monotonic()
    with pytest.raises(StepFailure) as caught:
        runner.run(Deploy(candidate, "v2", timeout_seconds=60), record)
    failure = caught.value
    assert (failure.what, failure.next_command) == (
        f"deploying v2 to {candidate}", f"check the {candidate} service's events and logs; no traffic was moved")
    assert failure.why.startswith(f"not done after 60s (last seen: {candidate} targets not healthy: ")
    assert w.clock.monotonic() - began == 60
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.phase is not Phase.DEPLOYED
    assert w.stack.served()[candidate.value] == 0


def test_a_deploy_whose_health_read_fails_outright_ends_naming_the_failure(session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    w = world(session)
    runner, record = _started(w)
    candidate = w.stack.release_config().candidate

    def broken(colour: Any) -> tuple[bool, str]:
        raise LookupError(f"no target group is exported for {colour}")

    monkeypatch.setattr(runner, "healthy", broken)
    with pytest.raises(StepFailure) as caught:
        runner.run(Deploy(candidate, "v2", timeout_seconds=60), record)
    assert (caught.value.what, caught.value.why) == (f"deploying v2 to {candidate}", f"no target group is exported for {candidate}")


def _judged_by(monkeypatch: pytest.MonkeyPatch, judge: Callable[..., Verdict]) -> None:
    """The bake's analysis replaced by ``judge``, called with what ``Analysis.judge`` is called with."""

    class Judge:
        def __init__(self, *_: Any) -> None:
            pass

        def judge(self, *args: Any, **kwargs: Any) -> Verdict:
            return judge(*args, **kwargs)

    monkeypatch.setattr(canary, "Analysis", Judge)


def _scaling(
    w: World, monkeypatch: pytest.MonkeyPatch, live_tasks: int, runs: tuple[bool, str],
) -> tuple[CanaryRunner, Any, list[tuple[Any, int]], Any]:
    config = _deployed(w)
    runner, record = _started(w)
    counts = {config.live: live_tasks, config.candidate: 1}
    monkeypatch.setattr(runner, "running", lambda colour: counts[colour])
    asked: list[tuple[Any, int]] = []

    def running_enough(colour: Any, tasks: int) -> tuple[bool, str]:
        asked.append((colour, tasks))
        return runs

    monkeypatch.setattr(runner, "runs", running_enough)
    return runner, record, asked, config.candidate


def test_a_shift_scales_the_candidate_for_its_share_of_live_with_headroom_before_any_traffic(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = world(session)
    runner, record, asked, candidate = _scaling(w, monkeypatch, live_tasks=4, runs=(True, "ok"))
    done = runner.run(Shift(candidate, 50, 2, 4, headroom=1.2), record)
    # 4 live tasks, half of them with 20% headroom: 2.4, so 3; more than the standby 1 the candidate keeps.
    assert w.stack.config["release:candidateTasks"] == "3"
    scaled, shifted = w.stack.issued[-2:]
    assert scaled["message"] == f"release {record.id}: scale {candidate} to 3 tasks for 50%"
    assert scaled["weights"][candidate.value] == 0, "the tasks run before the traffic comes"
    assert shifted["weights"][candidate.value] == 50
    assert asked == [(candidate, 3)]
    assert f"{candidate} runs 3 task(s) for 50% of 4 live task(s)" in w.ctx.reporter.notes  # type: ignore[attr-defined]
    assert (done.phase, done.weight) == (Phase.SHIFTING, 50)


def test_a_stack_whose_environment_is_its_name_is_scaled_for_a_shift_as_one_that_names_it(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`platform:environment` may be left to the stack's name (components/config load): the scaling reads it so too."""
    w = world(session)
    del w.stack.config["platform:environment"]
    runner, record, asked, candidate = _scaling(w, monkeypatch, live_tasks=4, runs=(True, "ok"))
    runner.run(Shift(candidate, 50, 2, 4, headroom=1.2), record)
    assert w.stack.config["release:candidateTasks"] == "3"
    assert asked == [(candidate, 3)]


def test_a_shift_the_standby_tasks_already_carry_scales_nothing_but_still_waits_for_them(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = world(session)
    runner, record, asked, candidate = _scaling(w, monkeypatch, live_tasks=4, runs=(True, "ok"))
    runner.run(Shift(candidate, 10, 1, 4, headroom=1.2), record)
    assert "release:candidateTasks" not in w.stack.config
    assert [i["message"] for i in w.stack.issued] == [f"release {record.id}: 10% to {candidate} (step 1/4)"]
    assert asked == [(candidate, 1)]
    assert f"{candidate} runs 1 task(s) for 10% of 4 live task(s)" in w.ctx.reporter.notes  # type: ignore[attr-defined]


def test_a_shift_with_no_headroom_to_keep_reads_no_task_count_and_waits_for_none(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = world(session)
    runner, record, asked, candidate = _scaling(w, monkeypatch, live_tasks=4, runs=(True, "ok"))
    monkeypatch.setattr(runner, "running", lambda colour: pytest.fail("no services to read"))
    runner.run(Shift(candidate, 50, 2, 4), record)
    assert asked == []
    assert not [n for n in w.ctx.reporter.notes if "task(s)" in n]  # type: ignore[attr-defined]


def test_while_a_shift_updates_the_record_says_shifting_at_the_weight_last_verified(session: Any) -> None:
    w = world(session)
    config = _deployed(w)
    runner, record = _started(w)
    record = runner._write({}, records.advance(record, Phase.SMOKE_TESTED))
    during: list[Any] = []
    update = w.stack.update

    def watched(message: str, targets: Any = None) -> None:
        during.append(records.in_progress(w.stack))
        update(message, targets)

    w.stack.update = watched  # type: ignore[method-assign]
    done = runner.run(Shift(config.candidate, 10, 1, 4), record)
    [held] = during
    # `status` during the update (and `resume` after a kill in it): traffic is moving, 0% verified so far.
    assert (held.phase, held.weight) == (Phase.SHIFTING, 0)
    assert (done.phase, done.weight) == (Phase.SHIFTING, 10)


def test_a_shift_whose_live_task_count_cannot_be_read_scales_nothing_and_waits_for_nothing(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = world(session)
    runner, record, asked, candidate = _scaling(w, monkeypatch, live_tasks=4, runs=(True, "ok"))
    monkeypatch.setattr(runner, "running", lambda colour: None)
    runner.run(Shift(candidate, 50, 2, 4, headroom=1.2), record)
    assert asked == []
    assert "release:candidateTasks" not in w.stack.config
    assert [i["message"] for i in w.stack.issued] == [f"release {record.id}: 50% to {candidate} (step 2/4)"]


def test_a_shift_the_candidates_tasks_already_carry_writes_no_count_but_waits_for_them(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = world(session)
    runner, record, asked, candidate = _scaling(w, monkeypatch, live_tasks=4, runs=(True, "ok"))
    w.stack.set_release(candidateTasks=3)  # scaled at an earlier step; the standby count is 1
    runner.run(Shift(candidate, 50, 2, 4, headroom=1.2), record)
    assert w.stack.config["release:candidateTasks"] == "3"
    assert [i["message"] for i in w.stack.issued] == [f"release {record.id}: 50% to {candidate} (step 2/4)"]
    assert asked == [(candidate, 3)]


def test_the_last_step_leaves_live_its_control_share_and_the_record_the_steps_own_weight(session: Any) -> None:
    w = world(session)
    config = _deployed(w)
    runner, record = _started(w)
    candidate = config.candidate
    done = runner.run(Shift(candidate, 100, 4, 4, control=5), record)
    assert w.stack.issued[-1]["message"] == (
        f"release {record.id}: 95% to {candidate}, {candidate.other} keeps 5% as the control (step 4/4)")
    assert w.stack.served() == {candidate.value: 95, candidate.other.value: 5}
    assert w.stack.release_config().canary_weight == 95
    # A resumed release walks the steps by the weights they were planned with: the record keeps 100, not 95.
    assert (done.phase, done.weight) == (Phase.SHIFTING, 100)
    assert records.in_progress(w.stack) == done
    assert runner.step_shift == w.clock.now()


def test_a_candidate_that_never_runs_its_share_fails_the_shift_before_any_traffic_naming_where_to_look(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = world(session)
    candidate = w.stack.release_config().candidate
    short = f"{candidate} runs 1 of the 3 tasks it needs"
    runner, record, _, _ = _scaling(w, monkeypatch, live_tasks=4, runs=(False, short))
    began = w.clock.monotonic()
    with pytest.raises(StepFailure) as caught:
        runner.run(Shift(candidate, 50, 2, 4, headroom=1.2, timeout_seconds=120), record)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        f"scaling {candidate} for 50%", f"not done after 120s (last seen: {short})",
        f"check the {candidate} service's events (capacity, quotas); no more traffic was sent to it")
    assert w.clock.monotonic() - began == 120
    assert w.stack.served()[candidate.value] == 0


def test_a_scaling_whose_task_count_read_fails_outright_ends_before_any_traffic_naming_the_failure(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = world(session)
    runner, record, _, candidate = _scaling(w, monkeypatch, live_tasks=4, runs=(True, "ok"))

    def broken(colour: Any, tasks: int) -> tuple[bool, str]:
        raise LookupError(f"no ECS service is exported for {colour}")

    monkeypatch.setattr(runner, "runs", broken)
    with pytest.raises(StepFailure) as caught:
        runner.run(Shift(candidate, 50, 2, 4, headroom=1.2), record)
    assert (caught.value.what, caught.value.why) == (f"scaling {candidate} for 50%", f"no ECS service is exported for {candidate}")
    assert w.stack.served()[candidate.value] == 0


def test_each_poll_of_a_bake_says_when_what_is_left_the_weights_and_how_far_past_its_end() -> None:
    clock, seen = ManualClock(), Polls()
    arrives = 300 + 120
    limits = AnalysisConfig.model_validate({"latency": {"confidence": 0.7}})
    # Too few requests and minutes until 420 s; enough from then on.
    aws = SimpleNamespace(cloudwatch=Arriving(clock, arrives, {"green": (40.0, 3.0, LATENCY[:1]), "blue": LIVE}))
    ctx = Context("staging", Engine(), aws, clock, runner=None, reporter=seen, thresholds=limits)  # type: ignore[arg-type]
    runner = CanaryRunner(ctx, Timing())
    runner.run(Bake(weight=10, seconds=300), RECORD)
    polls = seen.polls
    # Every 10 s for the bake's 300 s, then on past its end until the minimum sample came, at 420 s.
    assert [p.at for p in polls] == [clock.now() - timedelta(seconds=arrives - 10 * i) for i in range(43)]
    assert [p.remaining for p in polls] == [300.0 - 10 * i for i in range(31)] + [0.0] * 12
    assert [p.overtime for p in polls] == [0.0] * 31 + [10.0 * i for i in range(1, 13)]
    assert {(json.dumps(p.weights, sort_keys=True), p.candidate) for p in polls} == {('{"blue": 90, "green": 10}', "green")}
    # Extended once, when the 300 s were up, naming each test still short of its sample.
    undecided = "; ".join(c.summary for c in polls[30].verdict.undecided)
    assert undecided.count("not judged below") == 2
    assert seen.notes == [f"bake extended up to 10 min for the minimum sample: {undecided}"]
    assert runner.timing.events == []


def test_a_bake_that_fails_its_analysis_marks_when_on_the_drivers_timeline() -> None:
    clock = ManualClock()
    aws = SimpleNamespace(cloudwatch=Metrics({"green": (6_000.0, 150.0, LATENCY), "blue": LIVE}))
    limits = AnalysisConfig.model_validate({"latency": {"confidence": 0.7}})
    ctx = Context("staging", Engine(), aws, clock, runner=None, reporter=Polls(), thresholds=limits)  # type: ignore[arg-type]
    runner = CanaryRunner(ctx, Timing())
    with pytest.raises(StepFailure):
        runner.run(Bake(weight=10, seconds=300), RECORD)
    assert runner.timing.events == [(clock.monotonic(), "analysis-failed")]


class Throttled(Metrics):
    """CloudWatch refusing every metric read while ``refused(seconds on the clock)`` says so, answering otherwise."""

    def __init__(self, clock: ManualClock, refused: Callable[[float], bool]) -> None:
        super().__init__({"green": (6_000.0, 60.0, LATENCY), "blue": LIVE})
        self.clock, self.refused = clock, refused

    def metric_series(self, queries: list[Any], start: datetime, end: datetime) -> dict[str, dict[datetime, float]]:
        if self.refused(self.clock.monotonic()):
            raise TransientAwsError("reading the bake's metrics", "throttled", "", "ThrottlingException")
        return super().metric_series(queries, start, end)


def _bake_reads(refused: Callable[[float], bool]) -> tuple[ManualClock, Polls, StepFailure | None]:
    clock, seen = ManualClock(), Polls()
    limits = AnalysisConfig.model_validate({"latency": {"confidence": 0.7}})
    aws = SimpleNamespace(cloudwatch=Throttled(clock, refused))
    ctx = Context("staging", Engine(), aws, clock, runner=None, reporter=seen, thresholds=limits)  # type: ignore[arg-type]
    try:
        CanaryRunner(ctx, Timing()).run(Bake(weight=10, seconds=300), RECORD)
    except StepFailure as failure:
        return clock, seen, failure
    return clock, seen, None


def test_a_failed_bake_names_every_reason_of_its_verdict_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    reasons = ("5xx 150/6000 (2.50%) over live's 1.00%", "alarm green-5xx is ALARM")

    _judged_by(monkeypatch, lambda *_, **__: Verdict(ok=False, reasons=reasons, state="candidate"))
    ctx = Context("staging", Engine(), SimpleNamespace(cloudwatch=None), ManualClock(), runner=None,
                  reporter=Polls(), thresholds=AnalysisConfig())  # type: ignore[arg-type]
    runner = CanaryRunner(ctx, Timing(), lambda *_: Environment(False))
    with pytest.raises(StepFailure) as caught:
        runner.run(Bake(weight=10, seconds=300), RECORD)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "bake at 10%", "; ".join(reasons), STATUS)


REFUSED = "reading the bake's metrics: AWS answered ThrottlingException; polling again in 10s"


def test_a_bake_whose_metric_reads_aws_keeps_refusing_ends_after_the_grace_period_as_an_infrastructure_failure() -> None:
    clock, seen, failure = _bake_reads(lambda _: True)
    assert failure is not None
    assert (failure.what, failure.why, failure.next_command, failure.infrastructure) == (
        "bake at 10%",
        f"reading the bake's metrics: AWS answered ThrottlingException for {TRANSIENT_GRACE_SECONDS:g}s; "
        "the candidate cannot be judged", STATUS, True)
    # Polled every 10 s from the first refusal until the grace period ran out, saying so each time.
    assert clock.monotonic() == TRANSIENT_GRACE_SECONDS
    assert seen.notes == [REFUSED] * 12
    assert not seen.polls, "no verdict was reported on figures never read"


def test_a_bake_whose_reads_are_refused_a_while_then_answered_judges_on_and_ends_on_time() -> None:
    clock, seen, failure = _bake_reads(lambda at: at < 110)
    assert failure is None
    assert seen.notes == [REFUSED] * 11
    # The bake's 300 s count from its start: the refused polls took 110 s of them.
    assert clock.monotonic() == 300
    assert seen.polls[-1].verdict.ok


def test_refusals_apart_from_each_other_each_start_the_grace_period_again() -> None:
    # 110 s refused of every 120: each run of refusals shorter than the grace period, together longer.
    clock, seen, failure = _bake_reads(lambda at: at % 120 < 110)
    assert failure is None
    # Three runs of 11 refusals; the bake's time is up at 300 s, in the third, and it ends at the first answer after it.
    assert seen.notes == [REFUSED] * 33
    assert clock.monotonic() == 350


UNHEALTHY = "the environment is unhealthy: live (blue) is degraded too"


class Baked:
    """What a bake at 10% under an environment check left: its notes and polls, the alerts sent, its failure, its runner.

    ``unhealthy``: whether the environment is, or a function of the clock's seconds saying when it is. ``asked``: the
    clock's seconds at each ask, and whether the bake told the check it holds.
    """

    def __init__(self, clock: ManualClock, metrics: Any, unhealthy: bool | Callable[[float], bool], limits: AnalysisConfig,
                 seconds: float = 300, poll_seconds: float = 10) -> None:
        self.seen, self.topic, self.failure = Polls(), Topic(), None
        self.asked: list[tuple[float, bool]] = []

        def environment(colour: Any, window: Window, verdict: Verdict) -> Environment:
            self.asked.append((clock.monotonic(), window.held))
            now = unhealthy(clock.monotonic()) if callable(unhealthy) else unhealthy
            return Environment(True, UNHEALTHY) if now else Environment(False)

        ctx = Context("staging", AlertingEngine(), SimpleNamespace(cloudwatch=metrics, sns=self.topic), clock,
                      runner=None, reporter=self.seen, thresholds=limits)  # type: ignore[arg-type]
        self.runner = CanaryRunner(ctx, Timing(), environment)
        try:
            self.runner.run(Bake(weight=10, seconds=seconds, poll_seconds=poll_seconds), RECORD)
        except StepFailure as failure:
            self.failure = failure


def test_a_hold_that_outlasts_its_limit_says_to_fix_the_environment_then_release_the_version_again() -> None:
    clock = ManualClock()
    limits = AnalysisConfig.model_validate({"latency": {"confidence": 0.7}})
    baked = Baked(clock, Changing(clock, bad_until=10**9, shared=True), True, limits)
    seen, topic, failure = baked.seen, baked.topic, baked.failure
    assert failure is not None
    assert failure.next_command == f"fix the environment, then release 2.0.0 again; {STATUS}"
    assert failure.what == "bake at 10%"
    assert topic.sent == [(
        "arn:aws:sns:eu-west-1:1:alerts", "staging: release r-1 held at 10%: the environment is unhealthy",
        f"{UNHEALTHY} (the verdict: alarm green-5xx is ALARM). The release "
        "holds its weights and keeps judging the candidate against live's traffic of the same minutes (worse: aborted); "
        f"the bake starts again once the environment is well; after {HOLD_MINUTES} min it sends the candidate back to 0.",
    )], "one alert, when the hold began"
    assert seen.notes == [f"held at 10%, not aborted: {UNHEALTHY} (the verdict: alarm green-5xx is ALARM)"]


def test_a_hold_that_begins_at_the_end_of_a_passing_bake_ends_its_limit_after_it_began_naming_no_verdict() -> None:
    clock = ManualClock()
    limits = AnalysisConfig.model_validate({"latency": {"confidence": 0.7}})
    # A candidate as healthy as live: the environment is asked first when the bake's time is up (300.5 s: its last
    # poll comes half a second after the one at 300 s).
    baked = Baked(clock, Changing(clock, bad_until=0), True, limits, seconds=300.5)
    assert baked.failure is not None
    assert baked.failure.infrastructure
    assert clock.monotonic() == 300.5 + HOLD_MINUTES * 60, "the hold's limit counts from the poll that began it"
    assert baked.seen.notes == [f"held at 10%, not aborted: {UNHEALTHY}"]
    [(_, _, message)] = baked.topic.sent
    assert message.startswith(f"{UNHEALTHY}. The release holds its weights")
    assert baked.runner.holds == [UNHEALTHY]
    assert baked.runner.timing.events == [(300.5, "environment-hold")]


def test_a_hold_names_every_reason_of_the_verdict_it_began_on(monkeypatch: pytest.MonkeyPatch) -> None:
    _judged_by(monkeypatch, lambda *_, **__: Verdict(ok=False, reasons=("5xx 2.5% over live's 1%", "alarm green-5xx is ALARM")))
    clock = ManualClock()
    baked = Baked(clock, Changing(clock, bad_until=0), True, AnalysisConfig())
    assert baked.seen.notes[0] == (f"held at 10%, not aborted: {UNHEALTHY} "
                                   "(the verdict: 5xx 2.5% over live's 1%; alarm green-5xx is ALARM)")


def test_after_a_hold_the_steps_own_test_counts_from_the_poll_that_ended_it(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = ManualClock()
    judged: list[tuple[float, Any, Any]] = []

    def judge(colour: Any, since: Any, now: Any, shifted: Any, fresh: Any, *, rebaked: Any, **_: Any) -> Verdict:
        judged.append((clock.monotonic(), rebaked, fresh))
        # The analysis's own hold verdict until 120 s: the environment is asked at every poll.
        return Verdict(ok=True, state="environment" if clock.monotonic() < 120 else "pass")

    _judged_by(monkeypatch, judge)
    baked = Baked(clock, None, lambda at: at < 60, AnalysisConfig())
    assert baked.failure is None
    started = ManualClock().now()
    # Held from 0 s (its polls tell the environment from their own minutes on), well again at 60 s: the bake starts
    # again there, and its 300 s run from the poll that saw it.
    assert [(at, rebaked) for at, rebaked, _ in judged if at <= 70] == [
        (0.0, None), (10.0, None), (20.0, None), (30.0, None), (40.0, None), (50.0, None), (60.0, None),
        (70.0, started + timedelta(seconds=60))]
    assert {rebaked for at, rebaked, _ in judged if at >= 70} == {started + timedelta(seconds=60)}
    assert [fresh for at, _, fresh in judged if at in (0.0, 10.0, 60.0)] == [
        None, started, started + timedelta(seconds=50)]
    assert clock.monotonic() == 60 + 300
    # Asked at every poll while the analysis holds, then at the bake's end; told each time whether the bake holds.
    assert baked.asked == [(0.0, False), *[(10.0 * i, True) for i in range(1, 7)], *[(10.0 * i, False) for i in range(7, 12)],
                     (360.0, False)]


def test_a_bake_started_again_after_a_hold_says_how_long_it_held_and_extends_for_its_sample_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = ManualClock()
    short = Check("5xx", "undecided", "5xx 3/40 (7.50%): not judged below 500 candidate requests")

    def judge(*_: Any, **__: Any) -> Verdict:
        # The analysis holds for the environment until 63 s, then cannot judge for too few requests.
        if clock.monotonic() < 63:
            return Verdict(ok=True, state="environment")
        return Verdict(ok=True, state="undecided", checks=(short,))

    _judged_by(monkeypatch, judge)
    baked = Baked(clock, None, lambda at: at < 63, AnalysisConfig(), poll_seconds=3)
    assert baked.failure is not None
    # Held from the first poll to the one at 63 s: 1.05 min, said to a tenth. The bake's 300 s then run from 63 s,
    # and at their end it extends for the minimum sample, as a bake that never held does.
    assert baked.seen.notes[:3] == [
        f"held at 10%, not aborted: {UNHEALTHY}",
        "the environment is healthy again after 1.1 min; the bake at 10% starts again, judging green on its minutes "
        "since 00:00:00",
        f"bake extended up to 10 min for the minimum sample: {short.summary}",
    ]


def test_a_bake_on_a_stack_whose_config_does_not_load_names_the_config_and_what_to_fix() -> None:
    engine = Engine({"release:analysis": '{"errors": {"confidence": 2}, "latency": {"confidence": 2}}'})
    with pytest.raises(ConfigError) as problems:
        load(engine.get_config(), "staging")
    assert len(problems.value.problems) == 2
    ctx = Context("staging", engine, SimpleNamespace(cloudwatch=None), ManualClock(), runner=None,  # type: ignore[arg-type]
                  reporter=Polls())
    with pytest.raises(StepFailure) as caught:
        CanaryRunner(ctx, Timing()).run(Bake(weight=10, seconds=300), RECORD)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "stack config", "; ".join(problems.value.problems), "fix the config of staging")


def test_an_undecided_hold_alerts_once_and_at_its_end_says_to_send_more_traffic_then_release_again() -> None:
    clock = ManualClock()
    limits = AnalysisConfig.model_validate({"latency": {"confidence": 0.7}, "lowTraffic": {"extendMinutes": 0}})
    # Too few requests for the 5xx test, too few minutes for the latency test.
    baked = Baked(clock, Metrics({"green": (40.0, 3.0, LATENCY[:1]), "blue": LIVE}), False, limits)
    seen, topic, failure = baked.seen, baked.topic, baked.failure
    assert failure is not None
    assert (failure.what, failure.infrastructure) == ("bake at 10%", True)
    assert failure.next_command == ("send more traffic (or lower release:analysis minimum samples), then release 2.0.0 "
                                    f"again; {STATUS}")
    assert clock.monotonic() == 300 + HOLD_MINUTES * 60
    [(_, subject, message)] = topic.sent
    assert subject == "staging: release r-1 held at 10%: too little evidence to judge the candidate"
    assert message.endswith(f". The release holds its weights and keeps judging; after {HOLD_MINUTES} min undecided it "
                            "sends the candidate back to 0.")
    [held] = seen.notes
    assert held.startswith("held at 10%, not promoted: too little evidence to judge the candidate after the 5-min bake "
                           "and its extension: ")
    why = held.split("and its extension: ", 1)[1]
    assert message == f"{why}. The release holds its weights and keeps judging; after {HOLD_MINUTES} min undecided it " \
                      "sends the candidate back to 0."
    errors, latency = why.split("; ")
    assert errors.endswith(": not judged below 500 candidate requests"), "each test that cannot judge yet, and why"
    assert latency.endswith(": not judged below 5 candidate minutes")
    assert baked.runner.timing.events == [(300.0, "undecided-hold")]
    # The figures named are those of the hold's last poll.
    last = "; ".join(c.summary for c in baked.seen.polls[-1].verdict.undecided)
    assert failure.why == (f"too little evidence to judge the candidate, still undecided {HOLD_MINUTES} min after the "
                           f"bake's extension: {last}; never promoted on no evidence, the candidate goes back to 0 as "
                           "the safe state")


@pytest.mark.parametrize("old_running", [3, None])
def test_a_promotion_keeps_the_old_colour_at_what_it_runs_until_the_new_live_has_scaled(
    session: Any, monkeypatch: pytest.MonkeyPatch, old_running: int | None,
) -> None:
    w = world(session)
    config = _deployed(w)
    runner, record = _started(w)
    counts = {config.live: old_running, config.candidate: 1}
    monkeypatch.setattr(runner, "running", lambda colour: counts[colour])
    final = runner.promote(config.candidate, record, control=5)
    after = w.stack.release_config()
    assert (after.live, after.canary_weight) == (config.candidate, 5), "the old colour keeps the control share"
    # None: the stack exports no services, so there is no count to keep.
    assert w.stack.config.get("release:candidateTasks") == (None if old_running is None else "3")
    assert (final.phase, final.weight, final.ended_by) == (Phase.PROMOTED, 100, "alice@laptop")
    assert w.stack.served() == {config.candidate.value: 95, config.live.value: 5}


def test_a_promotion_the_listener_does_not_follow_is_put_back_and_never_recorded(session: Any) -> None:
    w = world(session)
    config = _deployed(w)
    runner, record = _started(w)
    before = w.stack.served()
    w.stack.listener_ignores = True
    with pytest.raises(StepFailure) as caught:
        runner.promote(config.candidate, record, control=5)
    assert caught.value.what == "verifying the listener"
    after = w.stack.release_config()
    assert (after.live, after.canary_weight) == (config.live, config.canary_weight), "the release state says what is served"
    assert w.stack.served() == before
    held = records.in_progress(w.stack)
    assert held is not None
    assert (held.id, held.ending) == (record.id, None)
    last = records.last_release(w.stack.get_config())
    assert last is None or last.id != record.id


def test_the_drivers_own_promotion_stops_when_another_shell_took_its_record_over(session: Any) -> None:
    w = world(session)
    config = _deployed(w)
    runner, record = _started(w)
    lease_taken_by(w, "bob@desk (pid 7)")()
    issued = len(w.stack.issued)
    with pytest.raises(records.ReleaseEndedError):
        runner.promote(config.candidate, record, control=5)
    assert len(w.stack.issued) == issued, "no update"
    assert w.stack.release_config().live == config.live
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.ending is None


def test_every_bake_judges_the_candidate_on_its_minutes_since_the_first_shift_of_the_run(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = world(session)
    candidate = _deployed(w).candidate
    runner, record = _started(w)
    judged: list[tuple[datetime, datetime]] = []

    def judge(colour: Any, since: datetime, now: datetime, shifted: datetime, *_: Any, **__: Any) -> Verdict:
        judged.append((since, shifted))
        return Verdict(ok=True)

    _judged_by(monkeypatch, judge)
    runner.environment = lambda *_: Environment(False)
    first = w.clock.now()
    record = runner.run(Shift(candidate, 10, 1, 2), record)
    record = runner.run(Bake(10, 60, poll_seconds=30), record)
    w.clock.sleep(120)
    second = w.clock.now()
    record = runner.run(Shift(candidate, 50, 2, 2), record)
    runner.run(Bake(50, 60, poll_seconds=30), record)
    assert {since for since, _ in judged} == {first}, "both bakes from the first shift"
    assert [shifted for _, shifted in judged][-1] == second, "the step's own minutes from its own shift"
