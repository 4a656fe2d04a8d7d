"""Simulated releases, many at once, judged by the driver's own analysis and the stack's own alarms.

Each minute the load balancer's requests (``rps`` x 60) are split between the
colours by the step's weight (a binomial draw; at the 100% step the old colour
keeps ``control_share`` percent as the control); each colour's 5xx and its
requests with an error (the access line's error state, what the log metric
counts) are binomial draws at its rates. Each request's latency is log-normal
(median 100 ms, sigma 0.5: a p99 of about 320 ms), times ``slowdown`` for the
candidate; the minute's p99 is the ceil(0.99 n)-th of that minute's n requests,
drawn directly (the k-th of n uniforms is Beta(k, n + 1 - k)), so a colour with
few requests has a noisier p99, as CloudWatch's would be.

Before the first shift live serves everything for ``baselineMinutes``. The
driver looks once a minute, when CloudWatch has a new datapoint. Each look runs
exactly the driver's tests (``release/judgement/checks.py``: the same
e-processes, fed the same minutes) and its verdict (``analysis.classify``),
with the candidate's and live's alarms as the evaluator of the rehearsal sets
them (``rehearsal/world/alarms.py``: the stack's own definitions from the plan,
each minute's datapoint through the alarm's own metric math, ``decide``'s rule
in ``alarm_states``). The bake follows the driver's rule (``canary._bake``): an
abort at the first ``candidate`` verdict; a hold at once on an ``environment`` or
``live`` verdict; at the end of a step, the next one on a pass, else up to
``extendMinutes`` more, then a hold (an undecided verdict is never a pass). A hold
ends on a pass (an environment hold bakes the step again), or, after
``HOLD_MINUTES``, ends the release: neither aborted nor promoted. As in the
driver, a hold keeps the candidate's evidence (a ``candidate`` verdict during it
aborts), and while a hold for the environment lasts, and at the minute after it
ends, live's and the candidate's e-processes against the baseline (the drifts)
start again each minute (``afresh``: the driver's hold asks them about the minutes
since its last poll).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtri

from components.config.release import DEFAULT_STEPS
from components.config.release_analysis import AnalysisConfig
from rehearsal.world.alarms import ALARM, COMPARISONS, EXTRA_PERIODS, CompositeAlarm, MetricAlarm
from rehearsal.world.metric_math import Node, evaluate, parse
from release.judgement.analysis import CANDIDATE, ENVIRONMENT, LIVE_DEGRADED, PASS, STATES, UNDECIDED, classify
from release.judgement.checks import CountEvidence, SignEvidence, count_outcome, sign_outcome
from release.strategies.environment import HOLD_MINUTES

LATENCY_MEDIAN_SECONDS = 0.100
LATENCY_SIGMA = 0.5
MISSING, NOT_BREACHING, BREACHING = -1, 0, 1


@dataclass(frozen=True)
class Case:
    """One kind of release: its traffic, each colour's rates, and the plan's steps."""

    name: str
    rps: float = 20.0
    live_rate: float = 0.01
    """Live's 5xx rate before the first shift (and after, unless ``live_after``)."""
    candidate_rate: float = 0.01
    live_after: float | None = None
    """Live's 5xx rate from the first shift on: live degrading during the release."""
    shared_fault: float | None = None
    """Every colour's 5xx rate during the 100% step: a shared dependency failing."""
    error_rate: float = 0.01
    """Each request's chance that its access line carries an error state, both colours."""
    candidate_error_rate: float | None = None
    slowdown: float = 1.0
    """The candidate's latency over live's."""
    steps: tuple[int, ...] = DEFAULT_STEPS
    bake_minutes: int = 5
    control_share: int = 5
    """Percent of traffic the old colour keeps at the 100% step (0: none)."""


@dataclass
class Outcomes:
    """How each simulated release ended (arrays over releases)."""

    aborted_at: np.ndarray
    """Minute since the first shift at which the release was aborted; NaN if it was not."""
    step_ends: np.ndarray
    """(releases, steps): the minute each step's bake ended, extensions included; NaN if not reached."""
    unsettled: np.ndarray
    """A step ended on an undecided verdict or a hold after its extension."""
    environment: np.ndarray
    """The verdict named the environment at some look."""
    alarm_aborts: np.ndarray
    """The abort came from an alarm, not a test."""
    ended_held: np.ndarray
    """The release ended after a hold of ``HOLD_MINUTES`` (candidate back to 0, exit 3): neither aborted nor promoted."""
    held: np.ndarray
    """A bake held at some look (environment, live or undecided after its extension)."""

    @property
    def aborted(self) -> np.ndarray:
        """Which releases were aborted."""
        return ~np.isnan(self.aborted_at)


class Streams:
    """Independent random streams, one per seed, each drawing its own block of releases: the blocks concatenated."""

    def __init__(self, seeds: list[int], per_seed: int) -> None:
        self.rngs = [np.random.default_rng(seed) for seed in seeds]
        self.per_seed = per_seed
        self.size = per_seed * len(seeds)

    def _split(self, *values: Any) -> list[list[np.ndarray]]:
        full = [np.broadcast_to(np.asarray(v), (self.size,)) for v in values]
        return [[v[i * self.per_seed:(i + 1) * self.per_seed] for v in full] for i in range(len(self.rngs))]

    def binomial(self, n: Any, p: Any) -> np.ndarray:
        """Binomial(n, p) draws, each seed's block from its own stream."""
        return np.concatenate([rng.binomial(np.asarray(a, dtype=int), b)
                               for rng, (a, b) in zip(self.rngs, self._split(n, p), strict=True)])

    def beta(self, a: Any, b: Any) -> np.ndarray:
        """Beta(a, b) draws, each seed's block from its own stream."""
        return np.concatenate([rng.beta(x, y) for rng, (x, y) in zip(self.rngs, self._split(a, b), strict=True)])


def p99(rng: Streams, n: np.ndarray) -> np.ndarray:
    """The p99 of ``n`` log-normal request latencies: the ceil(0.99 n)-th order statistic; NaN without requests."""
    k = np.ceil(0.99 * n)
    safe_k, safe_n = np.maximum(k, 1), np.maximum(n, 1)
    u = np.clip(rng.beta(safe_k, safe_n + 1 - safe_k), 1e-12, 1 - 1e-12)
    value = LATENCY_MEDIAN_SECONDS * np.exp(LATENCY_SIGMA * ndtri(u))
    return np.where(n > 0, value, np.nan)


@dataclass
class Alarms:
    """One colour's release alarms: the metric alarms its composite reads and the composite's rule."""

    metric_alarms: list[MetricAlarm]
    composite: CompositeAlarm | None
    _cache: dict[tuple[str, float, float, float], bool | None] = field(default_factory=dict)
    _nodes: dict[str, Node] = field(default_factory=dict)

    def points(self, alarm: MetricAlarm, n: np.ndarray, e: np.ndarray, r: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """The alarm's datapoint each release this minute: breaching, not, or missing (no request: no datapoint)."""
        if alarm.metric is not None:
            name = str(alarm.metric["metricName"])
            values = {"TargetResponseTime": lat, "UnHealthyHostCount": np.zeros_like(lat), "RequestCount": n,
                      "HTTPCode_Target_5XX_Count": e}.get(name, r)
            values = np.where(n > 0, values, np.nan) if name != "UnHealthyHostCount" else values
            with np.errstate(invalid="ignore"):
                compare: Callable[[Any, float], Any] = COMPARISONS[alarm.comparison]
                breach = compare(values, alarm.threshold)
            return np.where(np.isnan(values), MISSING, np.where(breach, BREACHING, NOT_BREACHING))
        # Each distinct minute (the counts the alarm reads) is evaluated once.
        reads = {str(q["metric"]["metricName"]) for q in alarm.queries if q.get("metric")}
        columns = np.stack([n, e if "HTTPCode_Target_5XX_Count" in reads else np.zeros_like(e),
                            r if reads - {"RequestCount", "HTTPCode_Target_5XX_Count"} else np.zeros_like(r)], axis=1)
        distinct, inverse = np.unique(columns, axis=0, return_inverse=True)
        found = np.array([self._math(alarm, *row) for row in distinct.tolist()], dtype=int)
        return found[inverse.ravel()]

    def _math(self, alarm: MetricAlarm, n: float, e: float, r: float) -> int:
        """A metric-math alarm's datapoint through the world's own evaluation, cached by the counts it reads."""
        values = {"RequestCount": n, "HTTPCode_Target_5XX_Count": e}
        key = (alarm.name, n, e, r)
        if key not in self._cache:
            data = {str(q["id"]): ({} if n <= 0 else {0: values.get(str(q["metric"]["metricName"]), r)})
                    for q in alarm.queries if q.get("metric")}
            for query in alarm.queries:
                if query.get("expression"):
                    found = evaluate(self._parsed(str(query["expression"])), data, [0])
                    data[str(query["id"])] = found if isinstance(found, dict) else {}
            returned = next(q for q in alarm.queries if q.get("returnData", True))
            value = data.get(str(returned["id"]), {}).get(0)
            self._cache[key] = None if value is None else COMPARISONS[alarm.comparison](value, alarm.threshold)
        breaching = self._cache[key]
        return MISSING if breaching is None else (BREACHING if breaching else NOT_BREACHING)

    def _parsed(self, expression: str) -> Node:
        if expression not in self._nodes:
            self._nodes[expression] = parse(expression)
        return self._nodes[expression]


def alarm_states(history: np.ndarray, alarm: MetricAlarm) -> np.ndarray:
    """Whether ``alarm`` is in ALARM after the last minute of ``history`` (releases, minutes), for each release.

    The evaluator's rule (``rehearsal/world/alarms.py``, ``decide``) over the range of ``periods + 2``
    minutes, vectorised; ``tests/bench/test_canary.py`` checks it against ``decide`` itself.
    """
    span = alarm.periods + EXTRA_PERIODS
    window = history[:, -span:]
    if window.shape[1] < span:
        window = np.concatenate([np.full((window.shape[0], span - window.shape[1]), MISSING), window], axis=1)
    real = window != MISSING
    count = real.sum(axis=1)
    # The most recent ``periods`` real datapoints decide when there are enough.
    from_end = np.cumsum(real[:, ::-1], axis=1)[:, ::-1]
    recent = real & (from_end <= alarm.periods)
    breaching_recent = (recent & (window == BREACHING)).sum(axis=1)
    breaching_real = (real & (window == BREACHING)).sum(axis=1)
    enough = count >= alarm.periods
    if alarm.treatment in ("breaching", "notBreaching"):
        filled = (alarm.periods - count) if alarm.treatment == "breaching" else 0
        few = breaching_real + filled >= alarm.needed
    else:
        # missing / ignore: ALARM only when the real datapoints alone have enough breaching ones (the guide's sixth
        # example, ALARM with the oldest datapoint breaching and none not breaching, also reaches ALARM).
        oldest = window[:, 0] == BREACHING
        none_ok = ~(real & (window == NOT_BREACHING)).any(axis=1)
        few = (breaching_real >= alarm.needed) | ((alarm.treatment == "missing") & (count > 0) & oldest & none_ok)
    return np.where(enough, breaching_recent >= alarm.needed, few)


def composite_alarm(alarms: Alarms, states: dict[str, np.ndarray]) -> np.ndarray:
    """The colour's composite in ALARM, by the composite's own rule over each combination of its alarms' states."""
    if alarms.composite is None:
        return np.logical_or.reduce(list(states.values())) if states else np.zeros(0, dtype=bool)
    names = list(states)
    stacked = np.stack([states[n] for n in names], axis=1)
    combos, inverse = np.unique(stacked, axis=0, return_inverse=True)
    rule = alarms.composite
    results = np.array([rule.state({n: ALARM if v else "OK" for n, v in zip(names, row, strict=True)}) == ALARM
                        for row in combos])
    return results[inverse.ravel()]


def simulate(case: Case, limits: AnalysisConfig, rng: Streams,
             candidate_alarms: Alarms | None = None, live_alarms: Alarms | None = None) -> Outcomes:
    """``rng.size`` releases of ``case`` judged by ``limits`` and the alarms, all at once."""
    releases = rng.size
    total = round(case.rps * 60)
    steps, bake, extend = case.steps, case.bake_minutes, limits.low_traffic.extend_minutes
    live_after = case.live_rate if case.live_after is None else case.live_after
    cand_errors = case.error_rate if case.candidate_error_rate is None else case.candidate_error_rate
    history: dict[str, list[np.ndarray]] = {"candidate": [], "live": []}
    alarm_sets = {"candidate": candidate_alarms, "live": live_alarms}

    def record(colour: str, n: np.ndarray, e: np.ndarray, r: np.ndarray, lat: np.ndarray) -> np.ndarray:
        alarms = alarm_sets[colour]
        if alarms is None:
            return np.zeros(releases, dtype=bool)
        history[colour].append(np.stack([alarms.points(a, n, e, r, lat) for a in alarms.metric_alarms], axis=0))
        past = np.stack(history[colour], axis=2)  # (alarms, releases, minutes)
        states = {a.name: alarm_states(past[i], a) for i, a in enumerate(alarms.metric_alarms)}
        return composite_alarm(alarms, states)

    zeros = np.zeros(releases)
    base_n, base_e, base_r, base_lat = zeros.copy(), zeros.copy(), zeros.copy(), []
    for _ in range(limits.baseline_minutes):
        n = np.full(releases, float(total))
        e, r, lat = rng.binomial(n, case.live_rate), rng.binomial(n, case.error_rate), p99(rng, n)
        base_n, base_e, base_r = base_n + n, base_e + e, base_r + r
        base_lat.append(lat)
        record("live", n, e, r, lat)
        record("candidate", zeros, zeros, zeros, np.full(releases, np.nan))
    base_max = np.max(base_lat, axis=0) if base_lat else np.full(releases, np.nan)
    five, errors = CountEvidence(base_n, base_e, limits.errors), CountEvidence(base_n, base_r, limits.error_lines)
    latency = SignEvidence(base_max, np.full(releases, len(base_lat)), limits.latency)
    sums = {"n_c": zeros.copy(), "n_l": zeros.copy(), "lat_c": zeros.copy(), "lat_l": zeros.copy()}
    step = np.zeros(releases, dtype=int)
    baked = np.zeros(releases, dtype=int)
    finished = np.zeros(releases, dtype=bool)
    aborted_at, step_ends = np.full(releases, np.nan), np.full((releases, len(steps)), np.nan)
    unsettled, environment, alarm_aborts, ended_held, ever_held = (np.zeros(releases, dtype=bool) for _ in range(5))
    held_at = np.full(releases, -1)
    """The minute a hold began (-1: not holding)."""
    held_env = np.zeros(releases, dtype=bool)
    weights = np.array(steps)
    afresh = np.zeros(releases, dtype=bool)
    """Releases whose drifts start again this minute: an environment hold polled at the end of the last one."""
    for minute in range(1, len(steps) * (2 * bake + extend + HOLD_MINUTES) + 1):
        five.afresh(afresh)
        errors.afresh(afresh)
        latency.afresh(afresh)
        weight = weights[np.minimum(step, len(steps) - 1)]
        full = weight == 100
        share = np.where(full, 100 - case.control_share, weight) / 100
        n_c = rng.binomial(total, share).astype(float)
        n_l = total - n_c
        fault = full & (case.shared_fault is not None)
        rate_c = np.where(fault, case.shared_fault or 0.0, case.candidate_rate)
        rate_l = np.where(fault, case.shared_fault or 0.0, live_after)
        e_c, e_l = rng.binomial(n_c, rate_c), rng.binomial(n_l, rate_l)
        r_c, r_l = rng.binomial(n_c, cand_errors), rng.binomial(n_l, case.error_rate)
        lat_c, lat_l = case.slowdown * p99(rng, n_c), p99(rng, n_l)
        five.update(n_c, e_c, n_l, e_l)
        errors.update(n_c, r_c, n_l, r_l)
        latency.update(lat_c, lat_l)
        sums["n_c"] += n_c
        sums["n_l"] += n_l
        sums["lat_c"] += ~np.isnan(lat_c)
        sums["lat_l"] += ~np.isnan(lat_l)
        alarm_c, alarm_l = record("candidate", n_c, e_c, r_c, lat_c), record("live", n_l, e_l, r_l, lat_l)
        outcomes = [
            count_outcome(five, sums["n_c"], sums["n_l"] + base_n, limits.errors),
            count_outcome(errors, sums["n_c"], sums["n_l"] + base_n, limits.error_lines),
            sign_outcome(latency, sums["lat_c"], sums["lat_l"] + len(base_lat), limits.latency),
        ]

        def union(key: str, found: list[Any] = outcomes) -> np.ndarray:
            return np.logical_or.reduce([getattr(o, key) for o in found])

        state = classify(union("failed"), union("drift_live"), union("drift_candidate"), union("undecided"), alarm_c,
                         alarm_l, union("changed"))
        active = ~finished
        environment |= active & (state == STATES.index(ENVIRONMENT))
        abort = active & (state == STATES.index(CANDIDATE))
        aborted_at[abort] = minute
        alarm_aborts |= abort & ~np.logical_or.reduce([o.failed for o in outcomes])
        finished |= abort
        active = ~finished
        settled = state == STATES.index(PASS)
        hold_state = (state == STATES.index(ENVIRONMENT)) | (state == STATES.index(LIVE_DEGRADED))
        holding = held_at >= 0
        # A hold ends on a pass: an environment hold bakes the step again, an undecided one ends the step.
        released = active & holding & settled
        rebake = released & held_env
        five.rebake(rebake)
        errors.rebake(rebake)
        baked = np.where(rebake, 0, baked)
        held_at = np.where(released, -1, held_at)
        baked = np.where(active & ~(holding & ~released), baked + 1, baked)
        starts = active & ~holding & (hold_state | ((baked >= bake + extend) & ~settled))
        held_at = np.where(starts, minute, held_at)
        held_env = np.where(starts, hold_state, held_env)
        ever_held |= starts
        unsettled |= starts & (state == STATES.index(UNDECIDED))
        holding = held_at >= 0
        afresh = active & ((holding & held_env) | rebake)
        gave_up = active & holding & (minute - held_at >= HOLD_MINUTES)
        ended_held |= gave_up
        finished |= gave_up
        active = ~finished
        done = active & ~holding & (baked >= bake) & (settled | (released & ~held_env))
        rows = np.flatnonzero(done)
        step_ends[rows, step[rows]] = minute
        step = np.where(done, step + 1, step)
        controlled = (weights[np.minimum(step, len(steps) - 1)] == 100) & (case.control_share > 0)
        five.new_step(done, controlled)
        errors.new_step(done, controlled)
        baked = np.where(done, 0, baked)
        finished |= step >= len(steps)
        if finished.all():
            break
    return Outcomes(aborted_at, step_ends, unsettled, environment, alarm_aborts, ended_held, ever_held)


def colour_alarms(plan: Any, outputs: Mapping[str, Any], colour: str) -> Alarms:
    """A colour's release alarms from the plan, as the rehearsal's evaluator reads them."""
    from rehearsal.world.evaluator import AlarmEvaluator

    composite = (outputs.get("composite_alarm_names") or {}).get(colour)
    names = [str(composite)] if composite else [str(n) for n in (outputs.get("alarm_names") or {}).get(colour) or []]
    evaluator = AlarmEvaluator.from_plan(plan, names, lambda v: v)
    return Alarms(evaluator.metric_alarms, evaluator.composites[0] if evaluator.composites else None)

