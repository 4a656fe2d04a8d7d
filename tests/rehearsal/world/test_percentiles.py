"""The driver's percentile reads in a rehearsal: answered from every request's value, as CloudWatch answers them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from components.config import Colour
from rehearsal.world.metrics import MetricStore, PercentileReads, percentile, publish
from rehearsal.world.proxy import Sample
from rehearsal.world.servers import Moto
from release.aws.cloudwatch import Metrics
from release.clock import ManualClock
from release.judgement.analysis import Analysis, Thresholds

GREEN = Colour.GREEN
MINUTE = int(datetime(2026, 1, 1, 0, 5, tzinfo=UTC).timestamp()) // 60
DIMS = {"LoadBalancer": "app/web/1", "TargetGroup": "targetgroup/green/2"}
OUTPUTS = {"load_balancer_arn_suffix": DIMS["LoadBalancer"], "target_group_arn_suffixes": {"green": DIMS["TargetGroup"]}}


def _minute(store: MetricStore, minute: int, slow: int) -> list[float]:
    """100 requests: 80 ms each but ``slow`` of them at 2 s."""
    times = [2.0 if i < slow else 0.08 for i in range(100)]
    store.add([Sample(minute * 60.0 + i / 2, GREEN, 200, t, by_target=True) for i, t in enumerate(times)], {}, minute)
    return times


def test_the_driver_reads_p99_from_every_requests_value_and_the_rest_from_moto() -> None:
    store = MetricStore({GREEN: DIMS})
    with Moto("eu-west-1") as session:
        minutes = {MINUTE: _minute(store, MINUTE, slow=2), MINUTE + 1: _minute(store, MINUTE + 1, slow=0)}
        for minute in minutes:
            publish(session.shared("cloudwatch"), store.datums(minute))
        metrics = Metrics(session, ManualClock())
        reads = PercentileReads(store, session.shared("cloudwatch"))
        reads.attach(metrics.client)
        start = datetime.fromtimestamp(MINUTE * 60, tz=UTC)
        figures = Analysis(metrics, OUTPUTS, Thresholds()).figures(start, start + timedelta(minutes=2), GREEN)[GREEN]
    # p99 of 100 values by nearest rank is the 99th: 2 s when two were slow, 80 ms when none was. The maximum
    # (what moto could answer) would be 2 s in the first minute whatever the other 99 did.
    assert figures.latencies == (2.0, 0.08)
    assert figures.latencies == tuple(percentile(v, 99) for v in minutes.values())
    assert reads.answered == 1
    # Sum went to moto: the statistic sets it stores.
    assert figures.requests == 200


def test_one_slow_request_in_a_hundred_is_not_the_p99() -> None:
    store = MetricStore({GREEN: DIMS})
    _minute(store, MINUTE, slow=1)
    assert store.value("AWS/ApplicationELB", "TargetResponseTime", DIMS, "p99", MINUTE) == 0.08
    assert store.value("AWS/ApplicationELB", "TargetResponseTime", DIMS, "Maximum", MINUTE) == 2.0


def test_without_the_stand_in_moto_cannot_answer_a_percentile() -> None:
    store = MetricStore({GREEN: DIMS})
    with Moto("eu-west-1") as session:
        _minute(store, MINUTE, slow=2)
        client = session.shared("cloudwatch")
        publish(client, store.datums(MINUTE))
        start = datetime.fromtimestamp(MINUTE * 60, tz=UTC)
        query = Analysis(Metrics(session, ManualClock()), OUTPUTS, Thresholds())._queries(GREEN)[2]
        assert query.stat == "p99"
        with pytest.raises(ClientError):
            client.get_metric_data(MetricDataQueries=[query.to_api()], StartTime=start, EndTime=start + timedelta(minutes=1))
