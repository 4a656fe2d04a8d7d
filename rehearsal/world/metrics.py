"""The load balancer's per-minute metrics, from what the proxy saw, as CloudWatch receives them.

Per target group and minute of the rehearsal's clock: ``RequestCount`` (Sum), ``HTTPCode_Target_5XX_Count``
(Sum), ``TargetResponseTime`` (its statistic set: SampleCount, Sum, Minimum, Maximum) and ``UnHealthyHostCount``
/ ``HealthyHostCount``, with the ``LoadBalancer`` and ``TargetGroup`` dimensions the stack exports (source:
Elastic Load Balancing User Guide for Application Load Balancers, "CloudWatch metrics for your Application
Load Balancer": these metrics and their dimensions). A minute with no request to a colour has no
``RequestCount`` datapoint, as an ALB reports none.

moto stores the statistic sets and answers Sum, Maximum, Minimum, Average and SampleCount; it computes no
percentiles, so the samples themselves stay here, for the alarm evaluator's ``p99`` and for the driver's percentile
reads (``PercentileReads``), answered as CloudWatch answers them for an ALB target group.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders

from components.config import Colour
from rehearsal.world.proxy import Sample

NAMESPACE = "AWS/ApplicationELB"
PERIOD = 60
# botocore data/cloudwatch/2010-08-01/service-2.json, PutMetricDataInput.MetricData: "no more than 1000 metrics per call".
MAX_DATUMS = 1000


@dataclass
class Minute:
    """One colour's traffic in one minute."""

    requests: int = 0
    target_errors: int = 0
    elb_errors: int = 0
    times: list[float] = field(default_factory=list)
    unhealthy: int = 0
    healthy: int = 0


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


class MetricStore:
    """Every closed minute's figures per colour, and the dimensions each colour is published under."""

    def __init__(self, dimensions: Mapping[Colour, Mapping[str, str]]) -> None:
        self.dimensions = {c: dict(d) for c, d in dimensions.items()}
        self.minutes: dict[int, dict[Colour, Minute]] = defaultdict(dict)

    def add(self, samples: Iterable[Sample], health: Mapping[Colour, tuple[int, int]], minute: int) -> dict[Colour, Minute]:
        """Close ``minute`` (epoch minute) with its samples and each colour's (healthy, unhealthy) hosts."""
        figures = self.minutes[minute]
        for sample in samples:
            one = figures.setdefault(sample.colour, Minute())
            one.requests += 1
            if sample.by_target:
                one.target_errors += 500 <= sample.status < 600
                if sample.seconds is not None:
                    one.times.append(sample.seconds)
            else:
                one.elb_errors += 1
        for colour, (healthy, unhealthy) in health.items():
            one = figures.setdefault(colour, Minute())
            one.healthy, one.unhealthy = healthy, unhealthy
        return figures

    def colour_of(self, dimensions: Mapping[str, str]) -> Colour | None:
        """The colour whose dimensions these are."""
        wanted = dict(dimensions)
        return next((c for c, d in self.dimensions.items() if d == wanted), None)

    def value(self, namespace: str, metric: str, dimensions: Mapping[str, str], stat: str, minute: int) -> float | None:
        """One minute's statistic of a load balancer metric, or None when there is no datapoint."""
        colour = self.colour_of(dimensions) if namespace == NAMESPACE else None
        one = self.minutes.get(minute, {}).get(colour) if colour else None
        if one is None:
            return None
        if metric in ("UnHealthyHostCount", "HealthyHostCount"):
            return float(one.unhealthy if metric == "UnHealthyHostCount" else one.healthy)
        if not one.requests:
            return None
        if metric == "RequestCount":
            return _stat([1.0] * one.requests, stat)
        if metric == "HTTPCode_Target_5XX_Count":
            return float(one.target_errors) if one.target_errors else None
        if metric == "TargetResponseTime":
            return _stat(one.times, stat) if one.times else None
        return None

    def datums(self, minute: int) -> list[dict[str, Any]]:
        """``minute``'s datapoints in PutMetricData's shape."""
        at = datetime.fromtimestamp(minute * PERIOD, tz=UTC)
        found: list[dict[str, Any]] = []
        for colour, one in sorted(self.minutes.get(minute, {}).items(), key=lambda kv: kv[0].value):
            dims = [{"Name": k, "Value": v} for k, v in self.dimensions.get(colour, {}).items()]
            base = {"Dimensions": dims, "Timestamp": at}
            found.append({**base, "MetricName": "UnHealthyHostCount", "Value": float(one.unhealthy), "Unit": "Count"})
            found.append({**base, "MetricName": "HealthyHostCount", "Value": float(one.healthy), "Unit": "Count"})
            if not one.requests:
                continue
            found.append({**base, "MetricName": "RequestCount", "Value": float(one.requests), "Unit": "Count"})
            if one.target_errors:
                found.append({**base, "MetricName": "HTTPCode_Target_5XX_Count", "Value": float(one.target_errors), "Unit": "Count"})
            if one.times:
                found.append({**base, "MetricName": "TargetResponseTime", "Unit": "Seconds", "StatisticValues": {
                    "SampleCount": float(len(one.times)), "Sum": sum(one.times),
                    "Minimum": min(one.times), "Maximum": max(one.times),
                }})
        return found


def _stat(values: Sequence[float], stat: str) -> float | None:
    if not values:
        return None
    if stat == "Sum":
        return float(sum(values))
    if stat == "SampleCount":
        return float(len(values))
    if stat == "Average":
        return sum(values) / len(values)
    if stat == "Maximum":
        return max(values)
    if stat == "Minimum":
        return min(values)
    if stat.startswith("p"):
        return percentile(values, float(stat[1:]))
    message = f"statistic {stat!r}: the rehearsal computes Sum, SampleCount, Average, Maximum, Minimum and pNN"
    raise ValueError(message)


def publish(client: Any, datums: Sequence[dict[str, Any]]) -> None:
    """Put ``datums`` into CloudWatch (moto), in calls of at most ``MAX_DATUMS``."""
    for start in range(0, len(datums), MAX_DATUMS):
        client.put_metric_data(Namespace=NAMESPACE, MetricData=list(datums[start:start + MAX_DATUMS]))


PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")
"""A percentile statistic as GetMetricData's ``Stat`` or GetMetricStatistics' ``ExtendedStatistics`` names one:
``p0.0`` to ``p100`` (botocore cloudwatch ``ExtendedStatistic``: "Specify values between p0.0 and p100")."""


class PercentileReads:
    """CloudWatch's percentile reads of the load balancer's metrics, answered from the raw values moto is not given.

    An Application Load Balancer's ``TargetResponseTime`` serves percentiles (Elastic Load Balancing User Guide,
    "CloudWatch metrics for your Application Load Balancer": "The most useful statistics are Average and pNN.NN
    (percentiles)"), because CloudWatch computes them from every request's value. A statistic set, which is what
    the rehearsal publishes to moto, gives none: "CloudWatch needs raw data points to calculate percentile
    statistics" (botocore cloudwatch ``GetMetricStatistics`` documentation), and moto answers a percentile with no
    value at all. So the driver's CloudWatch client is answered here, as CloudWatch would answer it, for any
    ``GetMetricData`` query whose statistic is a percentile: per minute, the nearest-rank percentile of the values
    the proxy saw (``MetricStore``, the same values the alarm evaluator reads). Every other query of the same call
    goes to moto unchanged, and the answers are merged in the call's order.
    """

    def __init__(self, store: MetricStore, moto: Any) -> None:
        self.store = store
        self.moto = moto
        """A client of moto's CloudWatch without this stand-in: where the other queries go."""
        self.answered = 0
        """Percentile queries answered here."""

    def attach(self, client: Any) -> None:
        """Answer ``client``'s percentile reads from now on."""
        events = client.meta.events
        events.register("before-parameter-build.cloudwatch.GetMetricData", self._keep)
        events.register("before-call.cloudwatch.GetMetricData", self._answer)

    @staticmethod
    def _keep(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["rehearsal_params"] = dict(params)

    def _answer(self, context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        params = context.get("rehearsal_params") or {}
        queries = params.get("MetricDataQueries") or []
        ours = [q for q in queries if PERCENTILE.match(str((q.get("MetricStat") or {}).get("Stat", "")))]
        if not ours or params.get("NextToken"):
            return None
        others = [q for q in queries if q not in ours]
        found: dict[str, dict[str, Any]] = {}
        if others:
            answer = self.moto.get_metric_data(**{**params, "MetricDataQueries": others})
            found.update({r["Id"]: r for r in answer.get("MetricDataResults", [])})
        for query in ours:
            found[query["Id"]] = self._result(query, params["StartTime"], params["EndTime"], params.get("ScanBy"))
            self.answered += 1
        results = [found[q["Id"]] for q in queries if q.get("ReturnData", True) and q["Id"] in found]
        return AWSResponse("http://rehearsal", 200, HTTPHeaders(), None), {"MetricDataResults": results, "Messages": []}

    def _result(self, query: Mapping[str, Any], start: datetime, end: datetime, scan_by: str | None) -> dict[str, Any]:
        stat = query["MetricStat"]
        metric = stat["Metric"]
        dimensions = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
        period = int(stat.get("Period", PERIOD))
        if period != PERIOD:
            message = f"GetMetricData query {query['Id']}: period {period} s; the rehearsal answers {PERIOD}-second percentiles"
            raise ValueError(message)
        first, last = math.floor(start.timestamp() / PERIOD), math.ceil(end.timestamp() / PERIOD)
        points = [(minute, self.store.value(metric.get("Namespace", ""), metric["MetricName"], dimensions, stat["Stat"], minute))
                  for minute in range(first, last)]
        kept = [(datetime.fromtimestamp(m * PERIOD, tz=UTC), v) for m, v in points if v is not None]
        if scan_by == "TimestampDescending":
            kept.reverse()
        return {"Id": query["Id"], "Label": query.get("Label") or metric["MetricName"],
                "Timestamps": [t for t, _ in kept], "Values": [v for _, v in kept], "StatusCode": "Complete"}
