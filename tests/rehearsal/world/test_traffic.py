"""The rehearsal's traffic: processes, the weighted proxy, the bounded load, and metrics the driver reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from components.config import Colour
from offline.stacks import ProjectFiles
from rehearsal.world.evaluator import AlarmEvaluator, watched_names
from rehearsal.world.fleet import AppBehaviour, Fleet
from rehearsal.world.metrics import MetricStore, publish
from rehearsal.world.proxy import Sample, WeightedProxy
from rehearsal.world.seams import ScheduledClock
from rehearsal.world.servers import Moto
from rehearsal.world.traffic import Load, LoadGenerator, Traffic
from release.aws.cloudwatch import Metrics
from release.clock import ManualClock
from release.engine.offline import OfflineEngine
from release.judgement.analysis import Analysis, Thresholds, with_statistic

BLUE, GREEN = Colour.BLUE, Colour.GREEN


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    with Fleet({"bad": AppBehaviour(error_rate=1.0), "dead": AppBehaviour(crash_on_start=True)}) as running:
        assert running.start(BLUE, "good")
        assert running.start(GREEN, "bad")
        yield running


def test_the_load_generator_targets_only_127_0_0_1() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1 only, not '10\.0\.0\.1'"):
        LoadGenerator("10.0.0.1", 80)


def test_a_process_that_crashes_on_start_reports_it() -> None:
    with Fleet({"dead": AppBehaviour(crash_on_start=True)}) as running:
        assert not running.start(GREEN, "dead")
        assert running.port(GREEN) is None


def test_the_proxy_routes_by_the_weights_it_follows_and_follows_each_change(fleet: Fleet) -> None:
    with WeightedProxy(fleet.port, seed=3) as proxy:
        proxy.follow({BLUE: 90, GREEN: 10}, {BLUE, GREEN})
        load = LoadGenerator("127.0.0.1", proxy.port)
        for i in range(300):
            load.send(float(i))
        to_green = sum(s.colour is GREEN for s in proxy.samples)
        assert 15 <= to_green <= 45, to_green
        # Green's version answers every request 500: the target's error, with a response time.
        assert all(s.status == 500 and s.by_target and s.seconds is not None for s in proxy.samples if s.colour is GREEN)
        proxy.follow({BLUE: 0, GREEN: 100}, {BLUE, GREEN})
        for i in range(20):
            load.send(300.0 + i)
        assert {s.colour for s in proxy.samples[300:]} == {GREEN}
        load.close()


def test_the_load_balancer_answers_for_a_dead_target_or_none(fleet: Fleet) -> None:
    with Fleet({}) as other, WeightedProxy(other.port) as proxy:
        assert other.start(GREEN, "good")
        proxy.follow({GREEN: 100}, {GREEN})
        other.kill(GREEN)
        load = LoadGenerator("127.0.0.1", proxy.port)
        assert load.send(1.0) == 502
        proxy.follow({GREEN: 100}, set())
        assert load.send(2.0) == 503
        load.close()
        assert [(s.status, s.by_target, s.seconds) for s in proxy.samples] == [(502, False, None), (503, False, None)]


class FakeCloudWatch:
    def __init__(self) -> None:
        self.datums: list[dict[str, Any]] = []
        self.states: list[tuple[str, str]] = []

    def put_metric_data(self, Namespace: str, MetricData: list[dict[str, Any]]) -> None:  # noqa: N803 - boto3's names
        self.datums.extend(MetricData)

    def set_alarm_state(self, AlarmName: str, StateValue: str, StateReason: str) -> None:  # noqa: N803
        self.states.append((AlarmName, StateValue))


def test_the_load_is_bounded_by_its_request_count(fleet: Fleet) -> None:
    clock = ScheduledClock()
    with WeightedProxy(fleet.port) as proxy:
        proxy.follow({BLUE: 100}, {BLUE})
        dims = {BLUE: {"LoadBalancer": "app/lb/1", "TargetGroup": "targetgroup/blue/1"}}
        traffic = Traffic(clock, proxy, MetricStore(dims), AlarmEvaluator([], []), FakeCloudWatch(),
                          lambda: {BLUE: (1, 0)}, Load(rate=10, max_requests=25))
        traffic.start()
        clock.sleep(180)
        traffic.catch_up()
        traffic.close()
    assert len(proxy.samples) == 25


def test_each_closed_minute_is_published_with_the_stacks_dimensions(fleet: Fleet) -> None:
    clock = ScheduledClock()
    cloudwatch = FakeCloudWatch()
    with WeightedProxy(fleet.port) as proxy:
        proxy.follow({BLUE: 100}, {BLUE})
        dims = {BLUE: {"LoadBalancer": "app/lb/1", "TargetGroup": "targetgroup/blue/1"}}
        traffic = Traffic(clock, proxy, MetricStore(dims), AlarmEvaluator([], []), cloudwatch, lambda: {BLUE: (1, 0)}, Load(rate=2))
        traffic.start()
        clock.sleep(150)
        traffic.close()
    requests = [d for d in cloudwatch.datums if d["MetricName"] == "RequestCount"]
    # Two whole minutes closed at 60 s and 120 s; the third is still open.
    assert [d["Value"] for d in requests] == [120.0, 120.0]
    expected = [{"Name": "LoadBalancer", "Value": "app/lb/1"}, {"Name": "TargetGroup", "Value": "targetgroup/blue/1"}]
    assert requests[0]["Dimensions"] == expected
    assert requests[1]["Timestamp"] - requests[0]["Timestamp"] == timedelta(minutes=1)


def test_the_driver_reads_the_published_metrics_through_its_own_path() -> None:
    dims = {c: {"LoadBalancer": "app/lb/1", "TargetGroup": f"targetgroup/{c.value}/1"} for c in Colour}
    store = MetricStore(dims)
    minute = int(datetime(2026, 1, 1, 0, 5, tzinfo=UTC).timestamp()) // 60
    samples = [Sample(minute * 60.0 + i, GREEN, 500 if i < 3 else 200, 0.1 + i / 1000, by_target=True) for i in range(40)]
    samples += [Sample(minute * 60.0 + i, BLUE, 200, 0.1, by_target=True) for i in range(50)]
    store.add(samples, {BLUE: (1, 0), GREEN: (1, 0)}, minute)
    outputs = {"load_balancer_arn_suffix": "app/lb/1", "target_group_arn_suffixes": {c.value: f"targetgroup/{c.value}/1" for c in Colour}}
    with Moto("eu-west-1") as session:
        publish(session.client("cloudwatch"), store.datums(minute))
        # moto computes no percentiles: the rehearsal reads the maximum, as run.py does.
        analysis = Analysis(Metrics(session, ManualClock()), outputs, with_statistic(Thresholds(), "Maximum"))
        # A window starting mid-minute still sees that minute, as CloudWatch rounds the start down.
        start = datetime(2026, 1, 1, 0, 5, 30, tzinfo=UTC)
        figures = analysis.figures(start, start + timedelta(minutes=2), GREEN, BLUE)
    assert (figures[GREEN].requests, figures[GREEN].errors) == (40, 3)
    assert figures[GREEN].latencies == pytest.approx((0.139,))
    assert (figures[BLUE].requests, figures[BLUE].errors) == (50, 0)


def test_every_alarm_the_driver_reads_is_evaluated_from_the_stacks_plan() -> None:
    plan = OfflineEngine("staging", ProjectFiles.here()).plan()
    names = watched_names(plan.outputs)
    evaluator = AlarmEvaluator.from_plan(plan, names, lambda value: value)
    evaluated = {a.name for a in evaluator.metric_alarms} | {c.name for c in evaluator.composites}
    # What the driver reads, and what the composites read besides (the error-log-lines alarms).
    assert evaluated == {*names, "webapp-staging-blue-error-lines", "webapp-staging-green-error-lines"}
    five_xx = next(a for a in evaluator.metric_alarms if a.name.endswith("green-5xx-rate"))
    assert (five_xx.periods, five_xx.needed, five_xx.treatment) == (3, 3, "notBreaching")
    assert any("IF(requests >= 50" in str(q.get("expression")) for q in five_xx.queries)
