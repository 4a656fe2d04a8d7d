"""Is the candidate healthy? Its alarms, and its 5xx rate and p99 latency against live's.

The alarms are the candidate's composite alarm when the stack has one
(``composite_alarm_names``), else its metric alarms (``alarm_names``). The
comparison uses the load balancer's per-target-group metrics over the bake
window. Too few requests to compare is not a failure: the alarms still hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from components.config import Colour
from release.aws.cloudwatch import MetricQuery, Metrics


@dataclass(frozen=True)
class Thresholds:
    """When the candidate is worse than live."""

    max_error_rate_increase: float = 0.01
    """Candidate 5xx rate minus live's, as a fraction of requests. Default 1 percentage point."""
    p99_ratio: float = 1.5
    """Candidate p99 latency over live's. Default 1.5."""
    p99_floor_seconds: float = 0.2
    """A candidate p99 under this never fails, whatever the ratio. Default 200 ms."""
    min_requests: int = 20
    """Requests the candidate needs in the window before rates are compared. Default 20."""
    latency_stat: str = "p99"
    """The CloudWatch statistic read as the latency figure. Default ``p99``."""


@dataclass(frozen=True)
class Figures:
    """One colour's traffic in the window."""

    requests: float = 0.0
    errors: float = 0.0
    p99: float | None = None

    @property
    def error_rate(self) -> float:
        """5xx responses per request."""
        return self.errors / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Verdict:
    """The analysis of one poll: healthy or not, and why."""

    ok: bool
    reasons: tuple[str, ...] = ()
    alarms: Mapping[str, str] = field(default_factory=dict)
    candidate: Figures = field(default_factory=Figures)
    live: Figures = field(default_factory=Figures)


def decide(alarms: Mapping[str, str], candidate: Figures, live: Figures, limits: Thresholds) -> Verdict:
    """The verdict from alarm states and the two colours' figures."""
    reasons = [f"alarm {name} is {state}" for name, state in alarms.items() if state in ("ALARM", "MISSING")]
    if candidate.requests >= limits.min_requests:
        increase = candidate.error_rate - live.error_rate
        if increase > limits.max_error_rate_increase:
            reasons.append(
                f"5xx rate {candidate.error_rate:.2%} against live {live.error_rate:.2%} "
                f"(allowed +{limits.max_error_rate_increase:.2%})",
            )
        if candidate.p99 is not None and live.p99 and candidate.p99 > limits.p99_floor_seconds \
                and candidate.p99 > live.p99 * limits.p99_ratio:
            reasons.append(
                f"p99 latency {candidate.p99 * 1000:.0f} ms against live {live.p99 * 1000:.0f} ms (allowed x{limits.p99_ratio:g})",
            )
    return Verdict(ok=not reasons, reasons=tuple(reasons), alarms=dict(alarms), candidate=candidate, live=live)


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

    def __init__(self, metrics: Metrics, outputs: Mapping[str, Any], limits: Thresholds | None = None) -> None:
        self.metrics = metrics
        self.outputs = outputs
        self.limits = limits or Thresholds()

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
            MetricQuery(f"{colour}_p99", ns, "TargetResponseTime", dims, self.limits.latency_stat),
        ]

    def figures(self, start: datetime, end: datetime, *colours: Colour) -> dict[Colour, Figures]:
        """Each colour's requests, 5xx and p99 in the window."""
        queries = [q for c in colours for q in self._queries(c)]
        # CloudWatch refuses an empty window; the first poll of a bake looks at the last minute.
        start = min(start, end - timedelta(seconds=60))
        data = self.metrics.metric_data(queries, start, end) if queries else {}
        found = {}
        for colour in colours:
            p99s = data.get(f"{colour}_p99", [])
            found[colour] = Figures(
                requests=sum(data.get(f"{colour}_requests", [])),
                errors=sum(data.get(f"{colour}_errors", [])),
                p99=max(p99s) if p99s else None,
            )
        return found

    def judge(self, candidate: Colour, start: datetime, end: datetime) -> Verdict:
        """The candidate's verdict over the window."""
        names = alarm_names(self.outputs, candidate)
        alarms = self.metrics.alarm_states(names) if names else {}
        figures = self.figures(start, end, candidate, candidate.other)
        return decide(alarms, figures[candidate], figures[candidate.other], self.limits)
