"""A bake that sees the environment degrade holds and names it; the candidate is blamed only against live's own minutes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from components.config import Colour
from components.config.release_analysis import AnalysisConfig
from release.clock import ManualClock
from release.context import Context
from release.judgement.analysis import Analysis, Verdict
from release.strategies.canary import CanaryRunner
from release.strategies.environment import HOLD_MINUTES, Environment, Window, live_against_itself
from release.strategies.failure import StepFailure
from release.strategies.steps import Bake
from release.strategies.timing import Timing
from tests.release.strategies.test_bake import LATENCY, LIVE, OUTPUTS, RECORD, Engine, Polls

HEALTHY = (6_000.0, 60.0, LATENCY)
BAD = (6_000.0, 150.0, LATENCY)


class Changing:
    """CloudWatch whose candidate figures depend on the clock: ``bad_until`` seconds of a failing candidate.

    ``shared``: live answers the same 2.5% 5xx in those seconds (a shared fault), not 1%, and the candidate's alarm
    is in ALARM: a failing verdict that the candidate's minutes against the control's do not explain.
    """

    def __init__(self, clock: ManualClock, bad_until: float, *, shared: bool = False) -> None:
        self.clock, self.bad_until, self.shared = clock, bad_until, shared

    def alarm_states(self, names: list[str]) -> dict[str, str]:
        firing = self.shared and self.clock.monotonic() < self.bad_until
        return dict.fromkeys(names, "ALARM" if firing else "OK")

    def metric_data(self, queries: list[Any], start: datetime, end: datetime) -> dict[str, list[float]]:
        bad = self.clock.monotonic() < self.bad_until
        green, blue = BAD if bad else HEALTHY, (54_000.0, 1_350.0, LIVE[2]) if bad and self.shared else LIVE
        found: dict[str, list[float]] = {}
        for colour, (requests, errors, latencies) in {"green": green, "blue": blue}.items():
            found[f"{colour}_requests"], found[f"{colour}_errors"], found[f"{colour}_latency"] = [requests], [errors], latencies
        return found

    def metric_series(self, queries: list[Any], start: datetime, end: datetime) -> dict[str, dict[datetime, float]]:
        # As test_bake's fake: the counts at the window's last minute, one latency per minute before it.
        last = end.replace(second=0, microsecond=0)
        found: dict[str, dict[datetime, float]] = {}
        for key, values in self.metric_data(queries, start, end).items():
            found[key] = {last - timedelta(minutes=i): v for i, v in enumerate(reversed(values))}
        for colour in ("green", "blue"):
            for at in found[f"{colour}_latency"]:
                found[f"{colour}_requests"].setdefault(at, 1.0)
        return found


class Served:
    """CloudWatch minute by minute, as the load balancer counts it: live alone before the release, both colours after.

    Each minute 6,000 requests: before the first shift (the clock's start) all live's at 1% 5xx (its baseline), from
    it on ``share`` percent the candidate's; ``rates(minute)`` gives (live's 5xx rate, the candidate's) for each minute
    since the shift. Errors are the rate times the requests, rounded; both colours' p99 is 120 ms every minute. A
    minute is in CloudWatch once it is over.
    """

    START = datetime(2026, 1, 1, tzinfo=UTC)

    def __init__(self, rates: Callable[[int], tuple[float, float]], share: int = 10) -> None:
        self.rates, self.share = rates, share

    def alarm_states(self, names: list[str]) -> dict[str, str]:
        return dict.fromkeys(names, "OK")

    def metric_series(self, queries: list[Any], start: datetime, end: datetime) -> dict[str, dict[datetime, float]]:
        found: dict[str, dict[datetime, float]] = {f"{c}_{k}": {} for c in ("green", "blue") for k in
                                                     ("requests", "errors", "latency")}
        at = start.replace(second=0, microsecond=0)
        while at + timedelta(minutes=1) <= end:
            minute = int((at - self.START).total_seconds() // 60)
            if minute < 0:
                served = {"blue": (6_000.0, 0.01)}
            else:
                live, candidate = self.rates(minute)
                served = {"green": (60.0 * self.share, candidate), "blue": (6_000.0 - 60.0 * self.share, live)}
            for colour, (requests, rate) in served.items():
                if requests:
                    found[f"{colour}_requests"][at] = requests
                    found[f"{colour}_errors"][at] = float(round(requests * rate))
                    found[f"{colour}_latency"][at] = 0.12
            at += timedelta(minutes=1)
        return found


class Topic:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def publish(self, topic: str, subject: str, message: str) -> str:
        self.sent.append((topic, subject, message))
        return "m-1"


class AlertingEngine(Engine):
    def outputs(self) -> dict[str, Any]:
        return {**super().outputs(), "alert_topic_arn": "arn:aws:sns:eu-west-1:1:alerts"}


def _bake(clock: ManualClock, metrics: Any, unhealthy_until: float, bake: Bake) -> tuple[Polls, Topic, list[Window]]:
    seen, topic, asked = Polls(), Topic(), []

    def environment(candidate: Colour, window: Window, verdict: Verdict) -> Environment:
        asked.append(window)
        if clock.monotonic() < unhealthy_until:
            return Environment(True, "the environment is unhealthy: live (blue) is degraded too")
        return Environment(False)

    aws: Any = SimpleNamespace(cloudwatch=metrics, sns=topic)
    # The latency test of the defaults cannot fail before its 12th compared minute (docs/releasing.md), so these
    # short bakes would extend; as in test_bake, a confidence it can reach in the few minutes these fakes give.
    limits = AnalysisConfig.model_validate({"latency": {"confidence": 0.7}})
    ctx = Context("staging", AlertingEngine(), aws, clock, runner=None, reporter=seen, thresholds=limits)  # type: ignore[arg-type]
    CanaryRunner(ctx, Timing(), environment).run(bake, RECORD)
    return seen, topic, asked


def test_a_failing_verdict_in_an_unhealthy_environment_holds_alerts_and_bakes_again_once_it_is_well() -> None:
    clock = ManualClock()
    seen, topic, _ = _bake(clock, Changing(clock, bad_until=120, shared=True), unhealthy_until=120, bake=Bake(10, 300))
    # Held from the first poll until the environment was well at 120 s, then a whole bake of 300 s again.
    assert clock.monotonic() == 120 + 300
    assert seen.notes[0] == ("held at 10%, not aborted: the environment is unhealthy: live (blue) is degraded too "
                             "(the verdict: alarm green-5xx is ALARM)"), "the hold says which verdict it did not act on"
    assert seen.notes[1].startswith("the environment is healthy again after 2.0 min; the bake at 10% starts again")
    assert [subject for _, subject, _ in topic.sent] == ["staging: release r-1 held at 10%: the environment is unhealthy"]


def test_live_degrading_alone_holds_rather_than_promotes() -> None:
    clock = ManualClock()
    seen, topic, _ = _bake(clock, Changing(clock, bad_until=0), unhealthy_until=400, bake=Bake(10, 300))
    assert clock.monotonic() == 400 + 300, "the step did not pass while live was degraded"
    assert seen.polls[0].verdict.ok
    assert len(topic.sent) == 1


def test_a_hold_longer_than_its_limit_ends_the_release_naming_the_environment_as_an_infrastructure_failure() -> None:
    clock = ManualClock()
    with pytest.raises(StepFailure) as caught:
        _bake(clock, Changing(clock, bad_until=10**9, shared=True), unhealthy_until=10**9, bake=Bake(10, 300))
    assert caught.value.infrastructure, "exit 3: not a verdict on the candidate"
    assert caught.value.why.startswith(f"the environment is unhealthy: live (blue) is degraded too, for {HOLD_MINUTES} min; "
                                       "the candidate was not judged worse than live's traffic of the same minutes")
    assert clock.monotonic() == HOLD_MINUTES * 60


def test_a_failing_verdict_in_a_healthy_environment_aborts_blaming_the_candidate() -> None:
    clock = ManualClock()
    with pytest.raises(StepFailure) as caught:
        _bake(clock, Changing(clock, bad_until=10**9), unhealthy_until=0, bake=Bake(10, 300))
    assert "e-process over every look" in caught.value.why
    assert not caught.value.infrastructure


def test_the_check_sees_whether_live_keeps_only_the_control_share() -> None:
    clock = ManualClock()
    _, _, asked = _bake(clock, Changing(clock, bad_until=0), unhealthy_until=0, bake=Bake(100, 60, control=5))
    assert asked
    assert all(w.control for w in asked)
    _, _, asked = _bake(clock, Changing(clock, bad_until=0), unhealthy_until=0, bake=Bake(50, 60, control=5))
    assert not any(w.control for w in asked)


# --- the default check: live's alarms, live against itself, the candidate against the control --------------------

RELEASED = datetime(2026, 1, 1, 0, 10, tzinfo=UTC)


class Windows:
    """CloudWatch whose figures depend on the window: before the release, or the recent minutes."""

    def __init__(self, before: dict[str, tuple[float, float]], recent: dict[str, tuple[float, float]],
                 alarms: dict[str, str] | None = None, earlier: dict[str, tuple[float, float]] | None = None) -> None:
        self.before, self.recent, self.alarms, self.earlier = before, recent, alarms or {}, earlier

    def alarm_states(self, names: list[str]) -> dict[str, str]:
        return {n: self.alarms.get(n, "OK") for n in names}

    def metric_data(self, queries: list[Any], start: datetime, end: datetime) -> dict[str, list[float]]:
        figures = self.before if end <= RELEASED else self.recent
        if self.earlier is not None and RELEASED < end <= RELEASED + timedelta(minutes=10):
            figures = self.earlier  # the steps before this one (this step's shift: 10 minutes after the release's)
        found: dict[str, list[float]] = {}
        for colour, (requests, errors) in figures.items():
            found[f"{colour}_requests"], found[f"{colour}_errors"] = [requests], [errors]
        return found

    def metric_series(self, queries: list[Any], start: datetime, end: datetime) -> dict[str, dict[datetime, float]]:
        # The window's figures as one minute's datapoint, at the window's last minute.
        at = (end - timedelta(minutes=1)).replace(second=0, microsecond=0)
        return {key: {at: values[0]} for key, values in self.metric_data(queries, start, end).items()}


def _check(metrics: Windows, *, control: bool, verdict_ok: bool, held: bool = False) -> Environment:
    outputs = {**OUTPUTS, "alarm_names": {"blue": ["blue-5xx"], "green": ["green-5xx"]}}
    limits = AnalysisConfig()
    check = live_against_itself(Analysis(metrics, outputs, limits), metrics, outputs, limits)
    now = RELEASED + timedelta(minutes=20)
    verdict = Verdict(ok=verdict_ok, reasons=() if verdict_ok else ("5xx: p=1e-9",))
    return check(Colour.GREEN, Window(RELEASED, RELEASED + timedelta(minutes=10), now, control, held), verdict)


BEFORE = {"blue": (12_000.0, 12.0)}


def test_live_in_alarm_is_an_unhealthy_environment_naming_the_alarm() -> None:
    found = _check(Windows(BEFORE, {"blue": (600.0, 0.0), "green": (11_400.0, 11.0)}, {"blue-5xx": "ALARM"}),
                   control=True, verdict_ok=False)
    assert found == Environment(True, "the environment is unhealthy: live (blue) is degraded too, its release alarms "
                                      "blue-5xx are in ALARM")


def test_live_worse_than_before_the_release_is_an_unhealthy_environment() -> None:
    found = _check(Windows(BEFORE, {"blue": (6_000.0, 120.0), "green": (6_000.0, 120.0)}), control=False, verdict_ok=True)
    assert found.unhealthy
    assert found.why.startswith("the environment is unhealthy: live (blue) is degraded too, against its own traffic "
                                "before the release: 5xx 120/6000 (2.00%)")


def test_at_the_control_step_a_candidate_no_worse_than_the_control_is_not_blamed() -> None:
    # 2% on both colours in the same minutes; live's 5% share is too small to show its own degradation.
    found = _check(Windows(BEFORE, {"blue": (300.0, 6.0), "green": (5_700.0, 114.0)}), control=True, verdict_ok=False)
    assert found.unhealthy
    assert found.why.startswith("the environment may be unhealthy: green is worse than live's earlier traffic but not "
                                "than live's control over the same minutes")


def test_while_held_a_candidate_whose_own_rate_rose_at_this_step_keeps_the_hold() -> None:
    # Live's baseline 0.1%; the candidate's earlier steps 0.1% too; at this step every colour answers 2%.
    recent = {"blue": (300.0, 6.0), "green": (5_700.0, 114.0)}
    windows = Windows(BEFORE, recent, earlier={"blue": (6_000.0, 6.0), "green": (6_000.0, 6.0)})
    found = _check(windows, control=True, verdict_ok=True, held=True)
    assert found.unhealthy
    assert found.why.startswith("the environment changed at this step, not the candidate: green's recent 5xx 114/5700")
    assert found.why.endswith("where its earlier steps were not (6/6000), and no worse than live's control over the "
                              "same minutes")
    # Not held: the analysis's own verdict starts a hold, this rule only keeps it.
    assert _check(windows, control=True, verdict_ok=True) == Environment(False)
    # A candidate at 2% in its earlier steps too: the same version, no change at this step.
    worse_before = Windows(BEFORE, recent, earlier={"blue": (6_000.0, 6.0), "green": (6_000.0, 120.0)})
    assert _check(worse_before, control=True, verdict_ok=True, held=True) == Environment(False)


def test_a_candidate_worse_than_the_control_in_the_same_minutes_is_blamed() -> None:
    found = _check(Windows(BEFORE, {"blue": (3_000.0, 3.0), "green": (5_700.0, 114.0)}), control=True, verdict_ok=False)
    assert found == Environment(False)


def test_before_the_control_step_a_healthy_live_leaves_the_blame_with_the_verdict() -> None:
    found = _check(Windows(BEFORE, {"blue": (6_000.0, 6.0), "green": (6_000.0, 120.0)}), control=False, verdict_ok=False)
    assert found == Environment(False)


def test_the_analysis_own_hold_verdict_holds_without_reading_anything_more() -> None:
    # The judge's state "environment" (both colours worse than live's baseline) is a hold, whatever the figures say.
    outputs = {**OUTPUTS, "alarm_names": {"blue": ["blue-5xx"], "green": ["green-5xx"]}}
    metrics = Windows(BEFORE, {"blue": (6_000.0, 6.0), "green": (6_000.0, 6.0)})
    limits = AnalysisConfig()
    check = live_against_itself(Analysis(metrics, outputs, limits), metrics, outputs, limits)
    now = RELEASED + timedelta(minutes=20)
    held = Verdict(ok=False, reasons=("the environment is unhealthy, not the candidate: both colours worse",), state="environment")
    found = check(Colour.GREEN, Window(RELEASED, RELEASED + timedelta(minutes=10), now, control=True), held)
    assert found == Environment(True, "the environment is unhealthy, not the candidate: both colours worse")


# --- a hold judges the candidate against the control of the same minutes ------------------------------------------

def _release(clock: ManualClock, metrics: Served, seen: Polls, topic: Topic) -> None:
    """A 5-minute bake at 10%, polled once a minute, with the default check (``live_against_itself``)."""
    aws: Any = SimpleNamespace(cloudwatch=metrics, sns=topic)
    limits = AnalysisConfig.model_validate({"latency": {"confidence": 0.7}})
    ctx = Context("staging", AlertingEngine(), aws, clock, runner=None, reporter=seen, thresholds=limits)  # type: ignore[arg-type]
    CanaryRunner(ctx, Timing()).run(Bake(10, 300, poll_seconds=60), RECORD)


def test_a_candidate_twice_as_bad_as_the_control_while_live_degrades_is_aborted_during_the_hold() -> None:
    # From the first shift on live answers 3% 5xx (the environment degrades), and the candidate 6%: twice live's
    # rate in the same minutes.
    clock, seen, topic = ManualClock(), Polls(), Topic()
    with pytest.raises(StepFailure) as caught:
        _release(clock, Served(lambda minute: (0.03, 0.06)), seen, topic)
    # The first minute held the bake (both colours worse than live's baseline, the test not yet at 1/alpha) ...
    assert seen.notes[0].startswith("held at 10%, not aborted: 5xx 36/600 (6.00%) against control 162/5400 (3.00%)")
    assert [subject for _, subject, _ in topic.sent] == ["staging: release r-1 held at 10%: the environment is unhealthy"]
    # ... and the hold's minutes, judged against the control of the same minutes, aborted it.
    assert not caught.value.infrastructure, "a verdict on the candidate, not the environment's exit 3"
    assert clock.monotonic() < HOLD_MINUTES * 60
    assert "e-process over every look" in caught.value.why
    # The verdict's reasons first, then why the unhealthy environment does not explain them.
    reasons = "; ".join(seen.polls[-1].verdict.reasons)
    assert caught.value.why.startswith(f"{reasons}; worse than live's control in the same minutes, which the environment "
                                       "does not explain (")


def test_a_candidate_as_good_as_the_control_while_both_degrade_holds_then_bakes_again_once_the_environment_is_well() -> None:
    # For the first 5 minutes every colour answers 3% 5xx (a shared fault), then 1% again.
    clock, seen, topic = ManualClock(), Polls(), Topic()
    _release(clock, Served(lambda minute: (0.03, 0.03) if minute < 5 else (0.01, 0.01)), seen, topic)
    assert seen.notes[0].startswith("held at 10%, not aborted: 5xx 18/600 (3.00%) against control 162/5400 (3.00%)")
    assert [subject for _, subject, _ in topic.sent] == ["staging: release r-1 held at 10%: the environment is unhealthy"]
    # Held from the first minute's poll until live's last 5 minutes were like its baseline again (the 10th minute),
    # then a whole bake, judging the candidate on every minute since the shift.
    assert seen.notes[1].startswith("the environment is healthy again after 9.0 min; the bake at 10% starts again, "
                                    "judging green on its minutes since 00:00:00")
    assert clock.monotonic() == 600 + 300
    assert seen.polls[-1].verdict.state == "pass"
    assert "5xx 150/9000 (1.67%) against control 1350/81000 (1.67%)" in seen.polls[-1].verdict.summary
