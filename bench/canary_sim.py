"""Simulated releases at the level of per-minute counts, judged by the analysis or by the old fixed thresholds.

Each minute the load balancer's requests are split between the colours by the
step's weights (a binomial draw), and each colour's 5xx count is a binomial draw
at its error rate. Each request's latency is log-normal (median 100 ms,
sigma 0.5: a p99 of about 320 ms), times ``slowdown`` for the candidate; the
minute's p99 is the matching order statistic of that minute's requests, drawn
directly (the k-th of n uniforms is Beta(k, n + 1 - k)), so a colour with
fewer requests has a noisier p99, as in CloudWatch. Before the first shift live serves everything for the
baseline minutes. The analysis looks once a minute, when CloudWatch has a new
datapoint (the driver polls every 10 s, but between datapoints it sees the same
figures), with the figures since the first shift; the fixed thresholds look
at the same moments with the figures since the step began, as the driver did.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

from components.config.release import DEFAULT_STEPS
from components.config.release_analysis import AnalysisConfig
from release.judgement.analysis import Figures, decide

LATENCY_MEDIAN_SECONDS = 0.100
LATENCY_SIGMA = 0.5
NORMAL = NormalDist()


@dataclass(frozen=True)
class Case:
    """One kind of release: the traffic and each colour's 5xx rate."""

    rps: float
    live_rate: float
    candidate_rate: float
    steps: tuple[int, ...] = DEFAULT_STEPS
    bake_minutes: int = 5
    slowdown: float = 1.0
    """The candidate's latency over live's."""


@dataclass(frozen=True)
class Outcome:
    """How one simulated release ended: aborted at which minute since the first shift (None: promoted)."""

    aborted_at: float | None
    step_ends: tuple[float, ...]
    """Minute (since the first shift) at which each step's bake ended, extensions included."""


def binomial(rng: random.Random, n: int, p: float) -> int:
    """A Binomial(n, p) draw by skipping geometric gaps between successes: about n*min(p, 1-p) draws."""
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    if p > 0.5:
        return n - binomial(rng, n, 1 - p)
    log_q = math.log1p(-p)
    count, position = 0, 0
    while True:
        position += int(math.log(1.0 - rng.random()) / log_q) + 1
        if position > n:
            return count
        count += 1


def p99_of(rng: random.Random, n: int) -> float:
    """The p99 of ``n`` log-normal request latencies: the ceil(0.99 n)-th order statistic, drawn directly."""
    k = math.ceil(0.99 * n)
    u = rng.betavariate(k, n + 1 - k)
    return LATENCY_MEDIAN_SECONDS * math.exp(LATENCY_SIGMA * NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12)))


class _Traffic:
    """The running totals of one release."""

    def __init__(self, case: Case, rng: random.Random) -> None:
        self.case, self.rng = case, rng
        self.total = {"candidate": [0, 0], "live": [0, 0]}
        self.step_total = {"candidate": [0, 0], "live": [0, 0]}
        self.latency: dict[str, list[float]] = {"candidate": [], "live": []}
        self.step_latency: dict[str, list[float]] = {"candidate": [], "live": []}

    def minute(self, weight: int) -> None:
        requests = round(self.case.rps * 60)
        to_candidate = binomial(self.rng, requests, weight / 100)
        for colour, n, rate in (("candidate", to_candidate, self.case.candidate_rate),
                                ("live", requests - to_candidate, self.case.live_rate)):
            errors = binomial(self.rng, n, rate)
            for totals in (self.total, self.step_total):
                totals[colour][0] += n
                totals[colour][1] += errors
            if n:
                slow = self.case.slowdown if colour == "candidate" else 1.0
                value = slow * p99_of(self.rng, n)
                self.latency[colour].append(value)
                self.step_latency[colour].append(value)

    def figures(self, colour: str, *, step_only: bool = False) -> Figures:
        n, e = (self.step_total if step_only else self.total)[colour]
        return Figures(requests=n, errors=e, latencies=tuple((self.step_latency if step_only else self.latency)[colour]))


Judge = Callable[[_Traffic], tuple[bool, bool]]
"""(failed, undecided) for the traffic so far."""


def analysis_judge(limits: AnalysisConfig) -> Judge:
    """The driver's analysis: the two tests on the figures since the first shift."""
    def judge(traffic: _Traffic) -> tuple[bool, bool]:
        verdict = decide({}, traffic.figures("candidate"), traffic.figures("live"), limits)
        return not verdict.ok, bool(verdict.undecided)
    return judge


def fixed_judge(traffic: _Traffic) -> tuple[bool, bool]:
    """The thresholds the driver used before, over the step's window once 20 requests arrived: abort when the
    candidate's 5xx rate is 1 point above live's, or its p99 (the highest minute's) is over 200 ms and 1.5 x live's."""
    candidate, live = traffic.figures("candidate", step_only=True), traffic.figures("live", step_only=True)
    if candidate.requests < 20:
        return False, False
    slow = bool(candidate.latencies and live.latencies) and max(candidate.latencies) > 0.2 \
        and max(candidate.latencies) > 1.5 * max(live.latencies)
    return candidate.error_rate - live.error_rate > 0.01 or slow, False


def simulate(case: Case, judge: Judge, rng: random.Random, *, baseline_minutes: int = 10, extend_minutes: int = 10) -> Outcome:
    """One release: minutes of baseline, then each step's bake, judged once a minute."""
    traffic = _Traffic(case, rng)
    for _ in range(baseline_minutes):
        traffic.minute(0)
    traffic.total["candidate"] = [0, 0]
    traffic.latency["candidate"] = []
    minute, ends = 0, list[float]()
    for weight in case.steps:
        traffic.step_total = {"candidate": [0, 0], "live": [0, 0]}
        traffic.step_latency = {"candidate": [], "live": []}
        baked = 0
        while True:
            traffic.minute(weight)
            minute, baked = minute + 1, baked + 1
            failed, undecided = judge(traffic)
            if failed:
                return Outcome(float(minute), tuple(ends))
            if baked >= case.bake_minutes and (not undecided or baked >= case.bake_minutes + extend_minutes):
                break
        ends.append(float(minute))
    return Outcome(None, tuple(ends))
