"""Alarm evaluation for the rehearsal: moto stores alarms but never evaluates them, so this does.

The definitions are the stack's own, read from the plan: metric alarms (one metric and a statistic or
extended statistic, or metric queries with a math expression), their period, ``evaluationPeriods`` (N),
``datapointsToAlarm`` (M, default N), ``treatMissingData`` (default ``missing``), comparison and threshold;
and composite alarms with their rule. The data is the rehearsal's published per-minute metrics.

The rules, from the CloudWatch User Guide, "Using Amazon CloudWatch Alarms", sections "Evaluating an Alarm"
and "Configuring How CloudWatch Alarms Treat Missing Data" / "How Alarm State is Evaluated When Data is
Missing":
- the alarm looks at an evaluation range of more periods than N (the guide's example retrieves 5 for N = 3;
  the exact number is not published, so this uses N + 2);
- with at least N datapoints in the range, the most recent N decide and the missing-data setting is not used;
- with fewer, the real datapoints are kept and the missing ones filled as few times as possible by the
  setting (``breaching`` / ``notBreaching``); ``missing`` and ``ignore`` fill nothing: the real datapoints
  decide when they can (M breaching: ALARM; any not breaching: OK), else ``missing`` goes to
  INSUFFICIENT_DATA (or ALARM when the oldest datapoint of the range is breaching and none is not, the
  guide's sixth example) and ``ignore`` keeps the current state;
- M or more breaching datapoints among the N evaluated: ALARM, else OK.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rehearsal.world.metric_math import Series, evaluate, parse

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
OK, ALARM, INSUFFICIENT = "OK", "ALARM", "INSUFFICIENT_DATA"
# The static-threshold values of ComparisonOperator (botocore data/cloudwatch/2010-08-01/service-2.json); the
# anomaly-band ones are refused by name.
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
TREATMENTS = ("breaching", "notBreaching", "ignore", "missing")
EXTRA_PERIODS = 2

# namespace, metric name, dimensions, statistic, period index -> value or None
Source = Callable[[str, str, Mapping[str, str], str, int], float | None]


def decide(points: Sequence[bool | None], needed: int, periods: int, treatment: str, current: str) -> str:
    """The state from the evaluation range's datapoints (oldest first; True breaching, None missing)."""
    if treatment not in TREATMENTS:
        message = f"treatMissingData {treatment!r}: allowed {', '.join(TREATMENTS)}"
        raise ValueError(message)
    real = [p for p in points if p is not None]
    if len(real) >= periods:
        return ALARM if sum(real[-periods:]) >= needed else OK
    if treatment in ("breaching", "notBreaching"):
        evaluated = [treatment == "breaching"] * (periods - len(real)) + real
        return ALARM if sum(evaluated) >= needed else OK
    if sum(real) >= needed:
        return ALARM
    if any(p is False for p in real):
        return OK
    if treatment == "ignore":
        return current
    return ALARM if real and points and points[0] is True else INSUFFICIENT


@dataclass(frozen=True)
class MetricAlarm:
    """One metric alarm as the stack defines it."""

    name: str
    comparison: str
    threshold: float
    periods: int
    needed: int
    treatment: str
    period: int
    metric: Mapping[str, Any] | None = None
    queries: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_inputs(cls, inputs: Mapping[str, Any], translate: Callable[[Any], Any] = lambda v: v) -> MetricAlarm:
        """From a planned ``aws.cloudwatch.MetricAlarm``'s inputs (camelCase), dimensions translated."""
        periods = int(inputs.get("evaluationPeriods", 1))
        queries = tuple(translate(q) for q in inputs.get("metricQueries") or ())
        metric = None if queries else {
            "namespace": inputs.get("namespace"), "metricName": inputs.get("metricName"),
            "dimensions": translate(inputs.get("dimensions") or {}),
            "stat": inputs.get("extendedStatistic") or inputs.get("statistic"),
        }
        period = int(inputs.get("period") or next((q["metric"]["period"] for q in queries if q.get("metric")), 60))
        comparison = str(inputs.get("comparisonOperator"))
        if comparison not in COMPARISONS:
            message = f"alarm {inputs.get('name')}: comparisonOperator {comparison!r} is not evaluated here"
            raise ValueError(message)
        return cls(
            name=str(inputs.get("name")), comparison=comparison, threshold=float(inputs["threshold"]), periods=periods,
            needed=int(inputs.get("datapointsToAlarm") or periods), treatment=str(inputs.get("treatMissingData") or "missing"),
            period=period, metric=metric, queries=queries,
        )

    def series(self, source: Source, indexes: Sequence[int]) -> Series:
        """The alarm's value per period index in ``indexes``."""
        if self.metric is not None:
            m = self.metric
            found = {i: source(str(m["namespace"]), str(m["metricName"]), m["dimensions"], str(m["stat"]), i) for i in indexes}
            return {i: v for i, v in found.items() if v is not None}
        data: dict[str, Series] = {}
        for query in self.queries:
            if query.get("metric"):
                m = query["metric"]
                found = {i: source(str(m.get("namespace")), str(m["metricName"]), m.get("dimensions") or {}, str(m["stat"]), i)
                         for i in indexes}
                data[str(query["id"])] = {i: v for i, v in found.items() if v is not None}
        for query in self.queries:
            if query.get("expression"):
                data[str(query["id"])] = _as_series(evaluate(parse(str(query["expression"])), data, indexes))
        returned = next(q for q in self.queries if q.get("returnData", True))
        return data.get(str(returned["id"]), {})

    def state(self, source: Source, now_index: int, current: str) -> str:
        """The state at the start of period ``now_index`` (periods before it are complete)."""
        indexes = list(range(now_index - self.periods - EXTRA_PERIODS, now_index))
        values = self.series(source, indexes)
        compare = COMPARISONS[self.comparison]
        points = [compare(values[i], self.threshold) if i in values else None for i in indexes]
        return decide(points, self.needed, self.periods, self.treatment, current)


def _as_series(value: Any) -> Series:
    if isinstance(value, dict):
        return value
    message = "an alarm's expression must give one time series"
    raise ValueError(message)


RULE_TOKEN = re.compile(r'\s*(?:(ALARM|OK|INSUFFICIENT_DATA)\(\s*"?([^")]+?)"?\s*\)|(AND|OR|NOT|TRUE|FALSE|\(|\)))')


def rule_holds(rule: str, states: Mapping[str, str]) -> bool:
    """Whether a composite alarm's rule is true.

    The rule's grammar: ``ALARM("x")``, ``OK("x")``, ``INSUFFICIENT_DATA("x")``, AND, OR, NOT, parentheses,
    TRUE and FALSE (botocore data/cloudwatch/2010-08-01/service-2.json, PutCompositeAlarmInput.AlarmRule).
    """
    tokens: list[tuple[str, str]] = []
    at = 0
    while at < len(rule.rstrip()):
        match = RULE_TOKEN.match(rule, at)
        if not match:
            message = f"composite alarm rule {rule!r}: cannot read {rule[at:]!r}"
            raise ValueError(message)
        tokens.append((match.group(1), match.group(2)) if match.group(1) else (match.group(3), ""))
        at = match.end()
    position = 0

    def expression() -> bool:
        nonlocal position
        value = term()
        while position < len(tokens) and tokens[position][0] == "OR":
            position += 1
            right = term()
            value = value or right
        return value

    def term() -> bool:
        nonlocal position
        value = factor()
        while position < len(tokens) and tokens[position][0] == "AND":
            position += 1
            right = factor()
            value = value and right
        return value

    def factor() -> bool:
        nonlocal position
        kind, name = tokens[position]
        position += 1
        if kind == "NOT":
            return not factor()
        if kind == "(":
            value = expression()
            position += 1  # the closing parenthesis
            return value
        if kind in ("TRUE", "FALSE"):
            return kind == "TRUE"
        return states.get(name, INSUFFICIENT) == kind

    return expression()


@dataclass(frozen=True)
class CompositeAlarm:
    """A composite alarm: ALARM while its rule holds, else OK."""

    name: str
    rule: str

    def state(self, states: Mapping[str, str]) -> str:
        """ALARM when the rule holds."""
        return ALARM if rule_holds(self.rule, states) else OK
