"""Healthy load balancer minutes for worlds that serve no traffic: moto's CloudWatch keeps no ALB metrics.

A release judged on no metrics is undecided, which holds and never promotes (docs/releasing.md, "Too little
traffic"). Worlds whose subject is not the judgement (the stack world of the unit tests, the shells' world) read
every colour serving ``HEALTHY_MINUTE`` in every minute the driver asks for; the analysis judges these minutes as it
judges CloudWatch's. Alarms are still moto's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from release.aws.cloudwatch import MetricQuery, Metrics

HEALTHY_MINUTE = {"RequestCount": 600.0, "HTTPCode_Target_5XX_Count": 6.0, "TargetResponseTime": 0.1}
"""Each colour's minute in the world's load balancer metrics: 600 requests, 1% 5xx, 100 ms."""


class HealthyTraffic(Metrics):
    """moto's CloudWatch (alarms) with every colour serving ``HEALTHY_MINUTE`` in every minute it is asked for."""

    def metric_series(self, queries: Sequence[MetricQuery], start: datetime, end: datetime) -> dict[str, dict[datetime, float]]:
        """Query id -> ``HEALTHY_MINUTE``'s value of its metric in each whole minute from ``start`` to ``end``."""
        first = start.replace(second=0, microsecond=0)
        minutes = [first + timedelta(minutes=i) for i in range(int((end - first).total_seconds() // 60))]
        return {q.id: dict.fromkeys(minutes, HEALTHY_MINUTE[q.metric]) for q in queries if q.metric in HEALTHY_MINUTE}
