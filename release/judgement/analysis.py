"""Is the candidate healthy? Its alarms, and anytime-valid tests of its traffic against a concurrent control.

The alarms are hard gates: the candidate's composite alarm when the stack has
one (``composite_alarm_names``), else its metric alarms (``alarm_names``); one in
ALARM (or missing) fails the candidate, unless the control colour's alarms are
in ALARM too (then the environment is named, not the candidate).

The figures are the load balancer's per-target-group metrics, minute by minute
(``release/judgement/checks.py`` runs the tests, ``significance.py`` holds their
sources). Three samples:

- the candidate, since the first shift;
- the *control*: live's traffic in the same minutes (the old colour during a
  canary, its control share at the 100% step);
- the *baseline*: live's ``baselineMinutes`` before the first shift, which
  judges the minutes without control traffic (a blue-green switch) and tells
  an environment that changed from a candidate that is worse.

Three tests each compare the candidate with the control (falling back to the
baseline in a minute without control traffic): 5xx per request; requests with
an error (the stack's log metric filter counts the requests whose access line
carries an error state: ``log_signals``' metric ``Sum``, at most one a request);
and the per-minute latency percentile. Each test is an e-process whose chance of
ever failing a healthy candidate, over every look of the release, is at most its
``alpha`` (1 - its confidence); the tests together at most the sum of their
alphas (Bonferroni's inequality, the union bound: C. E. Bonferroni, 1936; O. J.
Dunn, *JASA* 56(293), 1961; for e-values, V. Vovk and R. Wang, "E-values:
calibration, combination and applications", *Annals of Statistics* 49(3), 2021).

The verdict (``judge_samples``):

- ``candidate``: a test fails, or the candidate's alarm alone: abort;
- ``environment``: the candidate and live are both worse than live's baseline
  (or both colours' alarms fire), not the candidate against the control: hold;
- ``live``: live is worse than its baseline, the candidate is not: hold;
- ``undecided``: a test lacks its sample on either side, cannot reach its
  threshold yet, or the candidate is worse than the baseline while the control
  cannot tell: extend, then hold; never a pass;
- ``pass``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from components.config import Colour
from components.config.release_analysis import AnalysisConfig
from release.aws.cloudwatch import MetricQuery, Metrics
from release.judgement.checks import FAIL, HOLD, PASS, UNDECIDED, Check, count_check, latency_check
from release.judgement.figures import Figures, Minute

__all__ = [
    "CANDIDATE", "ENVIRONMENT", "FAIL", "HOLD", "LIVE_DEGRADED", "PASS", "UNDECIDED", "Analysis", "Check", "Figures",
    "Minute", "STATES", "Thresholds", "Verdict", "alarm_names", "classify", "decide", "judge_samples", "with_statistic",
]

Thresholds = AnalysisConfig
"""The analysis settings: the stack's ``release:analysis``."""

CANDIDATE, ENVIRONMENT, LIVE_DEGRADED = "candidate", "environment", "live"
BAD_ALARM = ("ALARM", "MISSING")
STATES = (PASS, UNDECIDED, CANDIDATE, ENVIRONMENT, LIVE_DEGRADED)
"""The verdict's states, in the order ``classify`` numbers them."""


@dataclass(frozen=True)
class Verdict:
    """The analysis of one poll: the state, healthy or not, and why."""

    ok: bool
    reasons: tuple[str, ...] = ()
    alarms: Mapping[str, str] = field(default_factory=dict)
    candidate: Figures = field(default_factory=Figures)
    live: Figures = field(default_factory=Figures)
    checks: tuple[Check, ...] = ()
    state: str = PASS
    """``candidate`` (abort), ``environment`` or ``live`` (hold), ``undecided`` (extend, then hold) or ``pass``."""

    @property
    def hold(self) -> bool:
        """The release must neither abort nor promote: the environment or live changed, or the tests cannot tell."""
        return self.state in (ENVIRONMENT, LIVE_DEGRADED)

    @property
    def against_control(self) -> bool:
        """The candidate is worse than live's traffic of the same minutes: a test failed on them alone.

        What blames the candidate while the environment is unhealthy (``release/strategies/environment.py``): the
        comparison with the control stays valid when a fault raises both colours' rates (``checks.py``).
        """
        return self.state == CANDIDATE and any(c.state == FAIL and c.against_control for c in self.checks)

    @property
    def undecided(self) -> tuple[Check, ...]:
        """The tests that cannot judge yet, and the holds: none of them is a pass."""
        return tuple(c for c in self.checks if c.state in (UNDECIDED, HOLD))

    @property
    def summary(self) -> str:
        """One line: the failures, else every test's sentence."""
        return "; ".join(self.reasons) if self.reasons else "; ".join(c.summary for c in self.checks) or "no tests ran"


def judge_samples(candidate: Figures, control: Figures, baseline: Figures, limits: AnalysisConfig,
                  alarms: Mapping[str, str] | None = None, control_alarms: Mapping[str, str] | None = None,
                  step: Any = None, fresh: Any = None, controlled: bool = False, rebaked: Any = None) -> Verdict:
    """The verdict on the candidate's minutes against the control's minutes (the same ones) and live's baseline.

    ``candidate`` and ``control`` are matched minute by minute (``Figures.minutes``' ``at``); ``baseline`` is
    live before the first shift. ``alarms`` are the candidate's alarm states, ``control_alarms`` live's. ``step``:
    the current step's shift (a minute's ``at``), from which the candidate's own minutes are this step's. ``fresh``:
    the drifts (live's and the candidate's minutes against the baseline) count the minutes from it on alone; the
    tests against the control count every minute. ``controlled``: live keeps only a control share at this step.
    ``rebaked``: when the step began baking again after a hold for the environment (``count_check``).
    """
    alarms, control_alarms = dict(alarms or {}), dict(control_alarms or {})
    checks: list[Check] = [count_check("5xx", candidate, control, baseline, limits.errors, lambda m: m.errors, step,
                                       fresh, controlled, rebaked)]
    if candidate.error_lines is not None and (control.error_lines is not None or baseline.error_lines is not None):
        checks.append(count_check("error-requests", candidate, control, baseline, limits.error_lines,
                                  lambda m: m.error_requests or 0.0, step, fresh, controlled, rebaked))
    checks.append(latency_check(candidate, control, baseline, limits.latency, fresh))
    firing = [f"alarm {name} is {state}" for name, state in alarms.items() if state in BAD_ALARM]
    live_firing = [f"alarm {name} is {state}" for name, state in control_alarms.items() if state in BAD_ALARM]
    failed = [c.summary for c in checks if c.state == FAIL]
    live_worse = [c.drift_live for c in checks if c.drift_live]
    candidate_worse = [c.drift_candidate for c in checks if c.drift_candidate]
    changed = [c.changed for c in checks if c.changed]
    live_figures = control if control.minutes else baseline

    def verdict(state: str, extra: tuple[Check, ...] = (), reasons: tuple[str, ...] = ()) -> Verdict:
        return Verdict(state != CANDIDATE, reasons, {**alarms, **control_alarms}, candidate, live_figures,
                       (*checks, *extra), state)

    state = STATES[int(classify(bool(failed), bool(live_worse), bool(candidate_worse),
                                any(c.state == UNDECIDED for c in checks), bool(firing), bool(live_firing),
                                bool(changed)))]
    if state == CANDIDATE:
        return verdict(CANDIDATE, reasons=(*firing, *failed))
    if state == ENVIRONMENT:
        if changed and not (live_worse and candidate_worse) and not (firing and live_firing):
            why = "; ".join(changed)
            return verdict(ENVIRONMENT, (Check("environment", HOLD, f"the environment changed at this step, not the "
                                                                    f"candidate: {why}, while no worse than live's "
                                                                    f"control in the same minutes; hold and alert"),))
        why = "; ".join([*firing, *live_firing, *live_worse, *candidate_worse])
        return verdict(ENVIRONMENT, (Check("environment", HOLD, f"the environment is unhealthy, not the candidate: {why}; "
                                                                f"hold and alert"),))
    if state == LIVE_DEGRADED:
        why = "; ".join([*live_firing, *live_worse])
        return verdict(LIVE_DEGRADED, (Check("live", HOLD, f"live degraded alone, the comparison is broken: {why}; "
                                                           f"hold rather than promote"),))
    if candidate_worse:
        why = "; ".join(candidate_worse)
        return verdict(UNDECIDED, (Check("baseline", UNDECIDED, f"{why}, but not against the control: the candidate or "
                                                                f"the environment"),))
    return verdict(state)


def classify(failed: Any, live_worse: Any, candidate_worse: Any, undecided: Any, alarm: Any, live_alarm: Any,
             changed: Any = False) -> Any:
    """The verdict's state as an index into ``STATES``, over a batch (numpy booleans) or one release (bools).

    In order: a failed test, or the candidate's alarm alone, is the candidate; both colours worse than the
    baseline (or both alarms), or the candidate's minutes of this step worse than the baseline when its earlier
    steps were not (``changed``), the environment; live alone, live; a test undecided, or the candidate worse than
    the baseline while the control cannot tell, undecided; else pass.
    """
    import numpy as np

    failed, live_worse, candidate_worse, undecided, alarm, live_alarm, changed = (
        np.asarray(a, dtype=bool) for a in (failed, live_worse, candidate_worse, undecided, alarm, live_alarm, changed))
    return np.select(
        [failed | (alarm & ~live_alarm), (alarm & live_alarm) | (live_worse & candidate_worse) | changed,
         live_worse | live_alarm,
         undecided | candidate_worse],
        [STATES.index(CANDIDATE), STATES.index(ENVIRONMENT), STATES.index(LIVE_DEGRADED), STATES.index(UNDECIDED)],
        STATES.index(PASS),
    )


def decide(alarms: Mapping[str, str], candidate: Figures, live: Figures, limits: AnalysisConfig) -> Verdict:
    """The verdict against live's figures taken as the baseline (no control minute): ``judge_samples``'s short form."""
    return judge_samples(candidate, Figures(), live, limits, alarms)


def with_statistic(limits: AnalysisConfig, statistic: str) -> AnalysisConfig:
    """The same settings reading another latency statistic."""
    return limits.model_copy(update={"latency": limits.latency.model_copy(update={"statistic": statistic})})


def alarm_names(outputs: Mapping[str, Any], colour: Colour) -> list[str]:
    """The alarms that judge a colour: its composite alarm if exported, else its metric alarms."""
    composite = outputs.get("composite_alarm_names")
    if isinstance(composite, Mapping) and composite.get(colour.value):
        return [str(composite[colour.value])]
    plain = outputs.get("alarm_names")
    if isinstance(plain, Mapping):
        names = plain.get(colour.value) or []
        return [str(n) for n in names] if isinstance(names, list) else [str(names)]
    return []


class Analysis:
    """Polls CloudWatch and judges the candidate against the control and live's baseline."""

    def __init__(self, metrics: Metrics, outputs: Mapping[str, Any], limits: AnalysisConfig | None = None) -> None:
        self.metrics = metrics
        self.outputs = outputs
        self.limits = limits or AnalysisConfig()

    def _queries(self, colour: Colour) -> list[MetricQuery]:
        lb = self.outputs.get("load_balancer_arn_suffix")
        suffixes = self.outputs.get("target_group_arn_suffixes")
        if not lb or not isinstance(suffixes, Mapping) or not suffixes.get(colour.value):
            return []
        dims = (("LoadBalancer", str(lb)), ("TargetGroup", str(suffixes[colour.value])))
        ns = "AWS/ApplicationELB"
        return [
            MetricQuery(f"{colour}_requests", ns, "RequestCount", dims, "Sum"),
            MetricQuery(f"{colour}_errors", ns, "HTTPCode_Target_5XX_Count", dims, "Sum"),
            MetricQuery(f"{colour}_latency", ns, "TargetResponseTime", dims, self.limits.latency.statistic),
            *self._log_queries(colour),
        ]

    def _log_queries(self, colour: Colour) -> list[MetricQuery]:
        """The colour's error metric (``log_signals``: requests whose access line carries an error), if exported."""
        signals = self.outputs.get("log_signals")
        signal = signals.get(colour.value) if isinstance(signals, Mapping) else None
        if not isinstance(signal, Mapping) or not signal.get("namespace") or not signal.get("metric"):
            return []
        return [MetricQuery(f"{colour}_error_lines", str(signal["namespace"]), str(signal["metric"]), (), "Sum")]

    def minutes(self, start: datetime, end: datetime, *colours: Colour) -> dict[Colour, list[Minute]]:
        """Each colour's minutes in the window: requests, 5xx, requests with an error and the latency statistic."""
        queries = [q for c in colours for q in self._queries(c)]
        # CloudWatch refuses an empty window; the first poll of a bake looks at the last minute.
        start = min(start, end - timedelta(seconds=60))
        data = self.metrics.metric_series(queries, start, end) if queries else {}
        found: dict[Colour, list[Minute]] = {}
        for colour in colours:
            series = {k: data.get(f"{colour}_{k}", {}) for k in ("requests", "errors", "latency", "error_lines")}
            logs = bool(self._log_queries(colour))
            # A minute without requests has no RequestCount datapoint: it counts 0 requests, and the tests skip it.
            found[colour] = [
                Minute(at=at, requests=series["requests"].get(at, 0.0), errors=series["errors"].get(at, 0.0),
                       error_requests=series["error_lines"].get(at, 0.0) if logs else None,
                       latency=series["latency"].get(at))
                for at in sorted(set().union(*series.values()))
            ]
        return found

    def figures(self, start: datetime, end: datetime, *colours: Colour) -> dict[Colour, Figures]:
        """Each colour's figures in the window, minute by minute."""
        logs = {c: bool(self._log_queries(c)) for c in colours}
        return {c: Figures.of(m, logs=logs[c]) for c, m in self.minutes(start, end, *colours).items()}

    def judge(self, candidate: Colour, since: datetime, end: datetime, step: datetime | None = None,
              fresh: datetime | None = None, controlled: bool = False, rebaked: datetime | None = None) -> Verdict:
        """The candidate's verdict: its minutes since ``since`` (the first shift) against live's, and live's baseline.

        Live's baseline is its ``baselineMinutes`` before ``since``: after a blue-green switch it is live's only sample.
        ``step``: this step's shift, when later than ``since``: the candidate's minutes from it on are this step's.
        ``fresh``: when later than ``since``, the drifts that tell the environment from the candidate count the
        minutes from it on alone (a hold's last poll); the tests keep every minute since ``since``. ``controlled``:
        live keeps only a control share at this step (``release:controlWeight``). ``rebaked``: when the step began
        baking again after a hold for the environment.
        """
        live = candidate.other
        names, live_names = alarm_names(self.outputs, candidate), alarm_names(self.outputs, live)
        states = self.metrics.alarm_states([*names, *live_names]) if names or live_names else {}
        baseline_start = since - timedelta(minutes=self.limits.baseline_minutes)
        found = self.minutes(min(since, baseline_start), end, candidate, live)
        cutoff = since.replace(second=0, microsecond=0)
        logs = bool(self._log_queries(live))
        mine = Figures.of([m for m in found[candidate] if _at(m) >= cutoff], logs=bool(self._log_queries(candidate)))
        control = Figures.of([m for m in found[live] if _at(m) >= cutoff], logs=logs)
        baseline = Figures.of([m for m in found[live] if _at(m) < cutoff and _at(m) >= baseline_start.replace(second=0, microsecond=0)]
                              if self.limits.baseline_minutes else [], logs=logs)
        step_minute = step.replace(second=0, microsecond=0) if step is not None and step > since else None
        fresh_minute = fresh.replace(second=0, microsecond=0) if fresh is not None and fresh > since else None
        return judge_samples(mine, control, baseline, self.limits,
                             {n: states.get(n, "MISSING") for n in names}, {n: states.get(n, "MISSING") for n in live_names},
                             step_minute, fresh_minute, controlled,
                             rebaked.replace(second=0, microsecond=0) if rebaked is not None else None)


def _at(minute: Minute) -> datetime:
    at = minute.at
    if not isinstance(at, datetime):
        msg = "CloudWatch minutes carry their timestamp"
        raise TypeError(msg)
    return at
