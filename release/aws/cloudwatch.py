"""CloudWatch for a release: alarm states and load balancer metrics per target group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from release.aws.base import with_retries
from release.clock import Clock


@dataclass(frozen=True)
class MetricQuery:
    """One ``get_metric_data`` query: an id and a metric statistic over the window."""

    id: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    period: int = 60

    def to_api(self) -> dict[str, Any]:
        """The query in the API's shape."""
        return {
            "Id": self.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": self.metric,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
                },
                "Period": self.period,
                "Stat": self.stat,
            },
            "ReturnData": True,
        }


class Metrics:
    """CloudWatch calls of a release."""

    def __init__(self, session: Any, clock: Clock) -> None:
        self.client = session.client("cloudwatch")
        self.clock = clock

    def alarm_states(self, names: Sequence[str]) -> dict[str, str]:
        """Alarm name -> state (``OK``, ``ALARM``, ``INSUFFICIENT_DATA``); a missing alarm is ``MISSING``."""
        states = {name: "MISSING" for name in names}
        # describe_alarms takes at most 100 names a call.
        for start in range(0, len(names), 100):
            chunk = list(names[start:start + 100])
            answer = with_retries(
                partial(self.client.describe_alarms, AlarmNames=chunk, AlarmTypes=["CompositeAlarm", "MetricAlarm"]),
                self.clock, what="reading alarm states",
            )
            for alarm in [*answer.get("MetricAlarms", []), *answer.get("CompositeAlarms", [])]:
                states[alarm["AlarmName"]] = alarm["StateValue"]
        return states

    def metric_data(self, queries: Sequence[MetricQuery], start: datetime, end: datetime) -> dict[str, list[float]]:
        """Query id -> values in the window, oldest first (``metric_series`` without the timestamps)."""
        return {name: list(points.values()) for name, points in self.metric_series(queries, start, end).items()}

    def metric_series(self, queries: Sequence[MetricQuery], start: datetime, end: datetime) -> dict[str, dict[datetime, float]]:
        """Query id -> {timestamp: value} in the window, oldest first.

        A minute with no datapoint is absent (the load balancer publishes no ``RequestCount`` for a minute
        without requests). The start is rounded down to the minute, as CloudWatch does for data less than 15 days old (botocore
        data/cloudwatch/2010-08-01/service-2.json, GetMetricDataInput.StartTime), so a stand-in that does not
        round (moto) answers for the same window.
        """
        start = start.replace(second=0, microsecond=0)
        found: dict[str, dict[datetime, float]] = {q.id: {} for q in queries}
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "MetricDataQueries": [q.to_api() for q in queries], "StartTime": start, "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            if token:
                kwargs["NextToken"] = token
            answer = with_retries(partial(self.client.get_metric_data, **kwargs), self.clock, what="reading metrics")
            for result in answer.get("MetricDataResults", []):
                points = found.setdefault(result["Id"], {})
                points.update(zip(result.get("Timestamps", []), (float(v) for v in result.get("Values", [])), strict=False))
            token = answer.get("NextToken")
            if not token:
                return found
