"""The application's log lines in moto's CloudWatch Logs, and the stack's metric filters applied to them.

``LogShipper`` does what a task's awslogs driver does: it reads each process's new lines (``Fleet.logs``) and
puts them into the colour's log group (the stack's ``log_group_names``), one log stream per process, with
``PutLogEvents``. Its limits, from botocore ``data/logs/2014-03-28/service-2.json`` (PutLogEvents and
``InputLogEvents``): at most 10,000 events and 1,048,576 bytes a call (each message's UTF-8 bytes plus 26),
events in chronological order, a call spanning at most 24 hours; events older than 14 days or more than 2
hours ahead are rejected. moto applies that window with the machine's clock, while the rehearsal's clock is
its own (it starts on 2026-01-01 and runs hours in seconds), so each event is stamped at its rehearsal time
plus a whole number of days (``shift_ms``, which keeps minute boundaries) that puts the rehearsal's start a
week back, and read back without it. A rejected event is an error, never a silent gap.

``LogMetrics`` does what CloudWatch Logs does with a metric filter and moto does not: for each of the stack's
``LogMetricFilter`` resources in the plan (its log group, pattern and metric transformation), each closed
minute's events of the group (``FilterLogEvents``) are matched against the pattern
(``rehearsal/world/filter_pattern.py``); a match emits the metric value, any other event the default value,
and the minute's emitted values go to CloudWatch as one statistic set, so ``Sum`` is the error lines and
``SampleCount`` all lines. No event in a minute emits nothing (Amazon CloudWatch Logs User Guide, "Filter
and Pattern Syntax", "Setting How the Metric Value Changes When Matches Are Found"). The same figures feed the
rehearsal's alarm evaluator.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from components.config import Colour
from offline import Plan
from rehearsal.world.filter_pattern import FilterPattern, UnsupportedPattern, parse
from rehearsal.world.fleet import AppLog
from rehearsal.world.metrics import MAX_DATUMS, PERIOD
from release.errors import BadInputError

METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
# botocore data/logs/2014-03-28/service-2.json, PutLogEvents: the batch limits.
MAX_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
MAX_SPAN_MS = 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
# Where the rehearsal's start lands in the store's window (14 days back to 2 hours ahead): a week back.
BACK_DAYS = 7


def shift_for(start: datetime, now: datetime) -> int:
    """Whole days of milliseconds that move ``start`` to about ``BACK_DAYS`` before ``now``."""
    days = (now - start).days - BACK_DAYS
    return days * DAY_MS


@dataclass
class LogShipper:
    """Ships every process's new lines to its colour's log group."""

    client: Any
    groups: Mapping[Colour, str]
    shift_ms: int
    offsets: dict[str, int] = field(default_factory=dict)
    shipped: dict[Colour, int] = field(default_factory=lambda: defaultdict(int))
    calls: int = 0

    def ship(self, logs: Iterable[AppLog]) -> None:
        """Read each log's complete new lines and put them into its colour's group."""
        for log in logs:
            group = self.groups.get(log.colour)
            if not group or not log.path.exists():
                continue
            key = str(log.path)
            if key not in self.offsets:
                self.client.create_log_stream(logGroupName=group, logStreamName=log.stream)
                self.offsets[key] = 0
            with log.path.open("rb") as handle:
                handle.seek(self.offsets[key])
                data = handle.read()
            complete = data[:data.rfind(b"\n") + 1]
            self.offsets[key] += len(complete)
            events = sorted((self._event(line) for line in complete.decode().splitlines() if line), key=lambda e: e["timestamp"])
            for batch in batches(events):
                self._put(group, log.stream, batch)
            self.shipped[log.colour] += len(events)

    def _event(self, line: str) -> dict[str, Any]:
        at = datetime.fromisoformat(json.loads(line)["time"])
        return {"timestamp": round(at.timestamp() * 1000) + self.shift_ms, "message": line}

    def _put(self, group: str, stream: str, batch: list[dict[str, Any]]) -> None:
        answer = self.client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
        self.calls += 1
        rejected = answer.get("rejectedLogEventsInfo")
        if rejected:
            message = (f"CloudWatch Logs rejected events of {group}/{stream}: {rejected} (events must be at most 14 "
                       "days old and at most 2 hours ahead); the rehearsal's log figures would be short")
            raise RuntimeError(message)


def batches(events: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Chronological ``events`` cut into PutLogEvents calls: count, bytes and time span within the limits."""
    found: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for event in events:
        cost = len(event["message"].encode()) + EVENT_OVERHEAD
        if current and (len(current) >= MAX_EVENTS or size + cost > MAX_BATCH_BYTES
                        or event["timestamp"] - current[0]["timestamp"] > MAX_SPAN_MS):
            found.append(current)
            current, size = [], 0
        current.append(event)
        size += cost
    if current:
        found.append(current)
    return found


class UnmodelledFilterError(BadInputError, ValueError):
    """A metric filter of the stack the rehearsal cannot apply: bad input for a rehearsal (exit 2), with the reason."""


@dataclass(frozen=True)
class MetricFilter:
    """One of the stack's metric filters, as planned."""

    name: str
    group: str
    pattern: FilterPattern
    metric: str
    namespace: str
    value: float
    default: float | None
    unit: str | None

    @classmethod
    def from_inputs(cls, inputs: Mapping[str, Any]) -> MetricFilter:
        """From a planned ``aws.cloudwatch.LogMetricFilter``'s inputs; what cannot be modelled fails, naming it."""
        name = str(inputs.get("name"))
        transform = inputs.get("metricTransformation") or {}
        try:
            pattern = parse(str(inputs.get("pattern", "")))
        except UnsupportedPattern as exc:
            message = f"metric filter {name} (monitoring:logs.errorPattern): {exc}"
            raise UnmodelledFilterError(message) from None
        value, default = str(transform.get("value", "")), transform.get("defaultValue")
        try:
            number = float(value)
            fallback = None if default in (None, "") else float(default)
        except ValueError:
            message = (f"metric filter {name}: metric value {value!r} / default {default!r}; the rehearsal publishes "
                       "numeric values only, not values taken from the event ($.field)")
            raise UnmodelledFilterError(message) from None
        return cls(name, str(inputs.get("logGroupName")), pattern, str(transform.get("name")),
                   str(transform.get("namespace")), number, fallback, transform.get("unit"))


def filters_of(plan: Plan) -> list[MetricFilter]:
    """The plan's metric filters; one the rehearsal cannot apply fails here, naming it (``UnmodelledFilterError``)."""
    return [MetricFilter.from_inputs(r.inputs) for r in plan.of_type(METRIC_FILTER)]


@dataclass
class Emitted:
    """One filter's emitted values in one minute."""

    lines: int = 0
    matched: int = 0
    values: list[float] = field(default_factory=list)


@dataclass
class LogMetrics:
    """The stack's metric filters applied to each closed minute of its log groups."""

    client: Any
    filters: list[MetricFilter]
    shift_ms: int
    minutes: dict[int, dict[tuple[str, str], Emitted]] = field(default_factory=lambda: defaultdict(dict))

    @classmethod
    def from_plan(cls, plan: Plan, client: Any, shift_ms: int) -> LogMetrics:
        """The plan's metric filters."""
        return cls(client, filters_of(plan), shift_ms)

    def follow(self, plan: Plan, *_: object) -> None:
        """After an update: apply the metric filters the new plan deploys from the next closed minute on."""
        self.filters = filters_of(plan)

    def close(self, minute: int) -> list[tuple[str, dict[str, Any]]]:
        """Apply every filter to ``minute``'s events; its (namespace, datum) pairs for PutMetricData."""
        datums: list[tuple[str, dict[str, Any]]] = []
        at = datetime.fromtimestamp(minute * PERIOD, tz=UTC)
        for metric_filter in self.filters:
            emitted = Emitted()
            for message in self._messages(metric_filter.group, minute):
                emitted.lines += 1
                if metric_filter.pattern.matches(message):
                    emitted.matched += 1
                    emitted.values.append(metric_filter.value)
                elif metric_filter.default is not None:
                    emitted.values.append(metric_filter.default)
            self.minutes[minute][(metric_filter.namespace, metric_filter.metric)] = emitted
            if not emitted.values:
                continue
            values = emitted.values
            datum: dict[str, Any] = {"MetricName": metric_filter.metric, "Timestamp": at, "StatisticValues": {
                "SampleCount": float(len(values)), "Sum": float(sum(values)), "Minimum": min(values), "Maximum": max(values),
            }}
            if metric_filter.unit:
                datum["Unit"] = metric_filter.unit
            datums.append((metric_filter.namespace, datum))
        return datums

    def _messages(self, group: str, minute: int) -> list[str]:
        start = minute * PERIOD * 1000 + self.shift_ms
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start, "endTime": start + PERIOD * 1000 - 1}
        found: list[str] = []
        while True:
            answer = self.client.filter_log_events(**kwargs)
            found.extend(str(e["message"]) for e in answer.get("events", []))
            token = answer.get("nextToken")
            if not token:
                return found
            kwargs["nextToken"] = token

    def value(self, namespace: str, metric: str, dimensions: Mapping[str, str], stat: str, minute: int) -> float | None:
        """One minute's statistic of a log metric (no dimensions), or None when it emitted nothing."""
        emitted = self.minutes.get(minute, {}).get((namespace, metric))
        if emitted is None or dimensions or not emitted.values:
            return None
        values = emitted.values
        stats = {"Sum": float(sum(values)), "SampleCount": float(len(values)), "Average": sum(values) / len(values),
                 "Maximum": max(values), "Minimum": min(values)}
        if stat not in stats:
            message = f"statistic {stat!r} of log metric {metric}: the rehearsal computes {', '.join(stats)}"
            raise ValueError(message)
        return stats[stat]

    def knows(self, namespace: str, metric: str) -> bool:
        """Whether a filter emits this metric."""
        return any(f.namespace == namespace and f.metric == metric for f in self.filters)

    def totals(self, groups: Mapping[Colour, str]) -> dict[str, dict[str, int]]:
        """Per colour: lines read and lines matched by its group's filters, over every closed minute."""
        by_group = {group: colour for colour, group in groups.items()}
        found = {c.value: {"lines": 0, "error_lines": 0} for c in Colour}
        for figures in self.minutes.values():
            for metric_filter in self.filters:
                colour = by_group.get(metric_filter.group)
                emitted = figures.get((metric_filter.namespace, metric_filter.metric))
                if colour is not None and emitted is not None:
                    found[colour.value]["lines"] += emitted.lines
                    found[colour.value]["error_lines"] += emitted.matched
        return found


def publish(client: Any, datums: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Put (namespace, datum) pairs into CloudWatch, one call per namespace and at most ``MAX_DATUMS`` each."""
    by_namespace: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for namespace, datum in datums:
        by_namespace[namespace].append(datum)
    for namespace, found in by_namespace.items():
        for start in range(0, len(found), MAX_DATUMS):
            client.put_metric_data(Namespace=namespace, MetricData=found[start:start + MAX_DATUMS])
