"""Is the candidate healthy? Its alarms, and two significance tests of its traffic against live's.

The alarms are hard gates: the candidate's composite alarm when the stack has
one (``composite_alarm_names``), else its metric alarms (``alarm_names``); one in
ALARM (or missing) fails the candidate whatever the figures say.

The figures come from the load balancer's per-target-group metrics over the
release so far: the candidate's since the first shift, live's since
``baselineMinutes`` before it. Two tests compare them (``release/judgement/significance.py``):

- 5xx: Fisher's exact test, one-sided, on the counts of 5xx responses and
  requests (``RequestCount`` and ``HTTPCode_Target_5XX_Count`` summed);
- error lines: the same test on the error lines the stack's log metric filter
  counts (``log_signals``: its metric's ``Sum``) per request, when the stack
  exports them. A request that writes several error lines counts once (the
  test compares proportions), so the rate is read as "requests that logged an
  error" and is capped at every request;
- latency: the Mann-Whitney U test, one-sided, on per-minute samples of
  ``TargetResponseTime`` at the configured statistic (``p99`` by default).
  CloudWatch keeps aggregates, not single requests, so the samples are one
  percentile per minute per colour.

A test fails the candidate when its p-value is under ``1 - confidence`` for an
increase larger than its minimum effect. A test with less than its minimum
sample is *undecided*; the bake decides what to do with that (``Verdict.undecided``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from components.config import Colour
from components.config.release_analysis import AnalysisConfig
from release.aws.cloudwatch import MetricQuery, Metrics
from release.judgement.significance import fisher_greater, mann_whitney_greater

Thresholds = AnalysisConfig
"""The analysis settings: the stack's ``release:analysis``."""

PASS, FAIL, UNDECIDED = "pass", "fail", "undecided"


@dataclass(frozen=True)
class Figures:
    """One colour's traffic in its window."""

    requests: float = 0.0
    errors: float = 0.0
    latencies: tuple[float, ...] = ()
    """Per-minute latency statistic in seconds, oldest first."""
    error_lines: float | None = None
    """Error log lines the stack's metric filter counted; None when the stack exports no log signal."""

    @property
    def error_rate(self) -> float:
        """5xx responses per request."""
        return self.errors / self.requests if self.requests else 0.0

    @property
    def error_line_rate(self) -> float | None:
        """Error log lines per request (None without a log signal)."""
        if self.error_lines is None:
            return None
        return self.error_lines / self.requests if self.requests else 0.0

    @property
    def latency(self) -> float | None:
        """The median of the per-minute latency samples, in seconds."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2

    @property
    def latest_latency(self) -> float | None:
        """The last minute's latency sample, in seconds."""
        return self.latencies[-1] if self.latencies else None


@dataclass(frozen=True)
class Check:
    """One test's verdict: pass, fail or undecided, and a sentence naming the figures, the test and p."""

    name: str
    state: str
    summary: str
    p_value: float | None = None


@dataclass(frozen=True)
class Verdict:
    """The analysis of one poll: healthy or not, and why."""

    ok: bool
    reasons: tuple[str, ...] = ()
    alarms: Mapping[str, str] = field(default_factory=dict)
    candidate: Figures = field(default_factory=Figures)
    live: Figures = field(default_factory=Figures)
    checks: tuple[Check, ...] = ()

    @property
    def undecided(self) -> tuple[Check, ...]:
        """The tests that had too little data to judge."""
        return tuple(c for c in self.checks if c.state == UNDECIDED)

    @property
    def summary(self) -> str:
        """One line: the failures, else every test's sentence."""
        return "; ".join(self.reasons) if self.reasons else "; ".join(c.summary for c in self.checks) or "no tests ran"


def _p(value: float) -> str:
    return f"{value:.2g}" if value >= 0.0001 else f"{value:.1e}"


def error_check(candidate: Figures, live: Figures, limits: AnalysisConfig) -> Check:
    """Fisher's exact test: whether the candidate's 5xx proportion is above live's by more than the minimum effect."""
    test = limits.errors
    n_c, e_c, n_l, e_l = (round(v) for v in (candidate.requests, candidate.errors, live.requests, live.errors))
    figures = f"5xx {e_c}/{n_c} ({candidate.error_rate:.2%}) against live {e_l}/{n_l} ({live.error_rate:.2%})"
    if n_c < test.min_requests:
        return Check("5xx", UNDECIDED, f"{figures}: not judged below {test.min_requests} candidate requests")
    if n_l == 0:
        return Check("5xx", UNDECIDED, f"{figures}: not judged, live served no requests to compare with")
    margin = 1.0 + test.min_relative_increase
    outcome = fisher_greater(min(e_c, n_c), n_c, min(e_l, n_l), n_l, margin)
    alpha = 1.0 - test.confidence
    state = FAIL if outcome.p_value < alpha else PASS
    text = (f"{figures}: Fisher's exact test, one-sided, odds ratio above {margin:g}: "
            f"p={_p(outcome.p_value)} ({'below' if state == FAIL else 'not below'} {_p(alpha)})")
    return Check("5xx", state, text, outcome.p_value)


def error_line_check(candidate: Figures, live: Figures, limits: AnalysisConfig) -> Check:
    """Fisher's exact test on error log lines per request: whether the candidate logs errors more than live."""
    test = limits.error_lines
    n_c, n_l = round(candidate.requests), round(live.requests)
    # One error line or more in a request counts once: the test compares proportions of requests.
    e_c, e_l = min(round(candidate.error_lines or 0), n_c), min(round(live.error_lines or 0), n_l)
    figures = (f"error lines {e_c}/{n_c} requests ({e_c / n_c if n_c else 0:.2%}) against live {e_l}/{n_l} "
               f"({e_l / n_l if n_l else 0:.2%})")
    if n_c < test.min_requests:
        return Check("error-lines", UNDECIDED, f"{figures}: not judged below {test.min_requests} candidate requests")
    if n_l == 0:
        return Check("error-lines", UNDECIDED, f"{figures}: not judged, live served no requests to compare with")
    margin = 1.0 + test.min_relative_increase
    outcome = fisher_greater(e_c, n_c, e_l, n_l, margin)
    alpha = 1.0 - test.confidence
    state = FAIL if outcome.p_value < alpha else PASS
    text = (f"{figures}: error-line test, Fisher's exact test, one-sided, odds ratio above {margin:g}: "
            f"p={_p(outcome.p_value)} ({'below' if state == FAIL else 'not below'} {_p(alpha)})")
    return Check("error-lines", state, text, outcome.p_value)


def latency_check(candidate: Figures, live: Figures, limits: AnalysisConfig) -> Check:
    """Mann-Whitney U on per-minute latency: whether the candidate is slower than live by more than the minimum effect."""
    test = limits.latency
    stat = test.statistic
    if len(candidate.latencies) < test.min_samples:
        return Check("latency", UNDECIDED, f"{stat} latency: {len(candidate.latencies)} candidate minute(s), "
                     f"not judged below {test.min_samples}")
    if not live.latencies:
        return Check("latency", UNDECIDED, f"{stat} latency: not judged, live has no latency data to compare with")
    c_ms, l_ms = (candidate.latency or 0.0) * 1000, (live.latency or 0.0) * 1000
    figures = (f"{stat} latency median {c_ms:.0f} ms over {len(candidate.latencies)} min against live "
               f"{l_ms:.0f} ms over {len(live.latencies)} min")
    if c_ms < test.floor_ms:
        return Check("latency", PASS, f"{figures}: under the {test.floor_ms:g} ms floor")
    margin = 1.0 + test.min_relative_increase
    outcome = mann_whitney_greater(candidate.latencies, live.latencies, margin)
    alpha = 1.0 - test.confidence
    state = FAIL if outcome.p_value < alpha else PASS
    text = (f"{figures}: {outcome.method}, one-sided, above {margin:g}x live: U={outcome.statistic:g}, "
            f"p={_p(outcome.p_value)} ({'below' if state == FAIL else 'not below'} {_p(alpha)})")
    return Check("latency", state, text, outcome.p_value)


def decide(alarms: Mapping[str, str], candidate: Figures, live: Figures, limits: AnalysisConfig) -> Verdict:
    """The verdict from alarm states and the two colours' figures (the error-line test when both have log figures)."""
    reasons = [f"alarm {name} is {state}" for name, state in alarms.items() if state in ("ALARM", "MISSING")]
    checks: tuple[Check, ...] = (error_check(candidate, live, limits), latency_check(candidate, live, limits))
    if candidate.error_lines is not None and live.error_lines is not None:
        checks = (*checks, error_line_check(candidate, live, limits))
    reasons.extend(c.summary for c in checks if c.state == FAIL)
    return Verdict(ok=not reasons, reasons=tuple(reasons), alarms=dict(alarms), candidate=candidate, live=live, checks=checks)


def with_statistic(limits: AnalysisConfig, statistic: str) -> AnalysisConfig:
    """The same settings reading another latency statistic (moto computes no percentiles: ``Maximum``)."""
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
    """Polls CloudWatch and judges the candidate against live."""

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
        """The colour's error-line metric (``log_signals``: a custom metric without dimensions), if exported."""
        signals = self.outputs.get("log_signals")
        signal = signals.get(colour.value) if isinstance(signals, Mapping) else None
        if not isinstance(signal, Mapping) or not signal.get("namespace") or not signal.get("metric"):
            return []
        return [MetricQuery(f"{colour}_error_lines", str(signal["namespace"]), str(signal["metric"]), (), "Sum")]

    def figures(self, start: datetime, end: datetime, *colours: Colour) -> dict[Colour, Figures]:
        """Each colour's requests, 5xx and per-minute latency in the window."""
        queries = [q for c in colours for q in self._queries(c)]
        # CloudWatch refuses an empty window; the first poll of a bake looks at the last minute.
        start = min(start, end - timedelta(seconds=60))
        data = self.metrics.metric_data(queries, start, end) if queries else {}
        return {
            colour: Figures(
                requests=sum(data.get(f"{colour}_requests", [])),
                errors=sum(data.get(f"{colour}_errors", [])),
                latencies=tuple(data.get(f"{colour}_latency", [])),
                error_lines=sum(data.get(f"{colour}_error_lines", [])) if self._log_queries(colour) else None,
            )
            for colour in colours
        }

    def judge(self, candidate: Colour, since: datetime, end: datetime) -> Verdict:
        """The candidate's verdict: its traffic since ``since`` (the first shift) against live's."""
        names = alarm_names(self.outputs, candidate)
        alarms = self.metrics.alarm_states(names) if names else {}
        mine = self.figures(since, end, candidate)[candidate]
        live = candidate.other
        theirs = self.figures(since - timedelta(minutes=self.limits.baseline_minutes), end, live)[live]
        return decide(alarms, mine, theirs, self.limits)
