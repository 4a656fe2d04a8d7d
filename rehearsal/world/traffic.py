"""Real requests through the rehearsal's load balancer, on the injected clock, and what CloudWatch makes of them.

The load generator sends ``rate`` requests per second of the rehearsal's clock to the proxy on 127.0.0.1,
evenly spaced, each stamped with its time. The clock moves only when the driver sleeps, so the requests of
an interval are sent when the clock has passed it: at each minute boundary (the clock stops there) and
just before each stack update, so a weight change splits the traffic at the moment it happens. At each
minute boundary the minute that ended is closed: its metrics are published to moto's CloudWatch, the
processes' new log lines are shipped to moto's CloudWatch Logs and the stack's metric filters applied to the
minute's events (``rehearsal/world/logs.py``), and the stack's alarms are evaluated over both.

It is bounded: at most ``max_requests`` requests and ``max_seconds`` of clock, to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from components.config import Colour
from rehearsal.world.alarms import Source
from rehearsal.world.evaluator import AlarmEvaluator, watched_names
from rehearsal.world.logs import LogMetrics, LogShipper, shift_for
from rehearsal.world.logs import publish as publish_logs
from rehearsal.world.metrics import PERIOD, MetricStore, publish
from rehearsal.world.proxy import LOCALHOST, TIME_HEADER, WeightedProxy
from rehearsal.world.seams import ScheduledClock

if TYPE_CHECKING:
    from offline import Plan
    from rehearsal.world.engine import RehearsalEngine
    from rehearsal.world.fleet import Fleet
    from rehearsal.world.servers import MotoSession
    from rehearsal.world.stack import World


def alarm_source(store: MetricStore, logs: LogMetrics | None) -> Source:
    """A minute's datapoint as the alarms read it: a log metric from the metric filters, else the load balancer's."""

    def value(namespace: str, metric: str, dimensions: Mapping[str, str], stat: str, minute: int) -> float | None:
        if logs is not None and logs.knows(namespace, metric):
            return logs.value(namespace, metric, dimensions, stat, minute)
        return store.value(namespace, metric, dimensions, stat, minute)

    return value


@dataclass(frozen=True)
class Load:
    """How much traffic, and its bounds."""

    rate: float = 3.0
    """Requests per second of the rehearsal's clock. Default 3."""
    max_requests: int = 20_000
    """No more requests than this in one rehearsal. Default 20,000."""
    max_seconds: float = 4 * 3600
    """No requests after this many seconds of the rehearsal's clock. Default 4 hours."""


class LoadGenerator:
    """Sends GET requests to one port of 127.0.0.1 over one kept-alive connection."""

    def __init__(self, host: str, port: int) -> None:
        if host != LOCALHOST:
            message = f"the rehearsal's load generator targets {LOCALHOST} only, not {host!r}"
            raise ValueError(message)
        self.connection = http.client.HTTPConnection(host, port, timeout=10)
        self.sent = 0

    def send(self, at: float, path: str = "/") -> int:
        """One request stamped ``at`` (epoch seconds); its status."""
        self.connection.request("GET", path, headers={TIME_HEADER: f"{at:.3f}"})
        answer = self.connection.getresponse()
        answer.read()
        self.sent += 1
        return answer.status

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


@dataclass
class Traffic:
    """The load, the proxy, the per-minute metrics and the alarm evaluator, driven by the clock."""

    clock: ScheduledClock
    proxy: WeightedProxy
    store: MetricStore
    evaluator: AlarmEvaluator
    cloudwatch: Any
    health: Callable[[], Mapping[Colour, tuple[int, int]]]
    load: Load = field(default_factory=Load)
    logs: tuple[LogShipper, LogMetrics, Fleet] | None = None
    """Where the processes' lines go and the stack's metric filters over them; None: the stack has no log groups."""
    generator: LoadGenerator | None = None
    _start: float = 0.0
    _next: int = 0
    _closed: int = 0
    _published: int = 0
    wall: float = 0.0
    """Real seconds spent sending requests (for the benchmarks)."""

    def start(self) -> None:
        """Begin at the clock's present; evaluate the alarms once (no data yet); schedule the first minute boundary."""
        self.generator = LoadGenerator(LOCALHOST, self.proxy.port)
        self._start = self.clock.now().timestamp()
        self._closed = math.floor(self._start / PERIOD)
        self._evaluate(self._closed)
        self._schedule()

    def _schedule(self) -> None:
        now = self.clock.now().timestamp()
        boundary = (math.floor(now / PERIOD) + 1) * PERIOD
        self.clock.at(self.clock.monotonic() + (boundary - now), self._tick)

    def _tick(self) -> None:
        self.catch_up()
        self.close_minutes()
        self._schedule()

    def catch_up(self) -> None:
        """Send every request due up to the clock's present (bounded)."""
        if self.generator is None:
            message = "the traffic has not started"
            raise RuntimeError(message)
        now = self.clock.now().timestamp()
        end = min(now, self._start + self.load.max_seconds)
        began = time.perf_counter()
        while self._next < self.load.max_requests:
            at = self._start + self._next / self.load.rate
            if at >= end:
                break
            self.generator.send(at)
            self._next += 1
        self.wall += time.perf_counter() - began

    def close_minutes(self) -> None:
        """Close each minute that ended: publish its metrics, then evaluate the alarms."""
        current = math.floor(self.clock.now().timestamp() / PERIOD)
        while self._closed < current:
            minute = self._closed
            boundary = (minute + 1) * PERIOD
            samples = [s for s in self.proxy.samples[self._published:] if s.at < boundary]
            self._published += len(samples)
            self.store.add(samples, self.health(), minute)
            publish(self.cloudwatch, self.store.datums(minute))
            if self.logs is not None:
                shipper, metrics, fleet = self.logs
                shipper.ship(fleet.logs)
                publish_logs(self.cloudwatch, metrics.close(minute))
            self._closed += 1
            self._evaluate(self._closed)

    def _evaluate(self, minute: int) -> None:
        def write(name: str, state: str, reason: str) -> None:
            self.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason[:1023])

        self.evaluator.evaluate(alarm_source(self.store, self.logs[1] if self.logs else None), minute,
                                self.clock.monotonic(), write)

    def counts(self) -> dict[str, dict[str, Any]]:
        """Per colour: requests, target 5xx, load balancer 5xx, p99 target response time in ms, and log lines."""
        found: dict[str, dict[str, Any]] = {}
        for colour in Colour:
            samples = [s for s in self.proxy.samples if s.colour is colour]
            times = sorted(s.seconds for s in samples if s.seconds is not None)
            found[colour.value] = {
                "requests": len(samples),
                "target_5xx": sum(s.by_target and s.status >= 500 for s in samples),
                "elb_5xx": sum(not s.by_target for s in samples),
                "p99_ms": round(1000 * times[max(0, math.ceil(0.99 * len(times)) - 1)]) if times else None,
            }
        if self.logs is not None:
            shipper, metrics, _ = self.logs
            for name, lines in metrics.totals(shipper.groups).items():
                # Over the closed minutes: the requests the load balancer counted in them, which the lines describe (one
                # access line each, and more lines for some); the stack's filter counts a request's access line only.
                served = sum(m[Colour(name)].requests for m in self.store.minutes.values() if Colour(name) in m)
                found[name].update({"log_lines": lines["lines"], "error_lines": lines["error_lines"],
                                    "error_lines_per_request": round(lines["error_lines"] / served, 4) if served else None})
        return found

    def close(self) -> None:
        """Close the load generator's connection."""
        if self.generator is not None:
            self.generator.close()


def start_traffic(
    plan: Plan, engine: RehearsalEngine, world: World, fleet: Fleet, proxy: WeightedProxy, clock: ScheduledClock,
    session: MotoSession, load: Load,
) -> Traffic:
    """Wire the traffic into a built world: the proxy follows every update, the load catches up before each."""
    outputs = engine.outputs()
    lb = str(outputs.get("load_balancer_arn_suffix") or "")
    suffixes = outputs.get("target_group_arn_suffixes") or {}
    store = MetricStore({c: {"LoadBalancer": lb, "TargetGroup": str(suffixes.get(c.value, ""))} for c in Colour})
    evaluator = AlarmEvaluator.from_plan(plan, watched_names(plan.outputs), world.book.translate)

    def health() -> dict[Colour, tuple[int, int]]:
        # (healthy, unhealthy) targets: a registered target whose process died fails its health checks.
        return {c: ((1, 0) if fleet.port(c) else (0, 1)) if c in world.registered else (0, 0) for c in Colour}

    def follow(*_: object) -> None:
        served = world.served_weights(engine.offline.outputs())
        proxy.follow({c: int(served.get(c.value, 0)) for c in Colour}, set(world.registered))

    follow()
    engine.offline.hooks.append(follow)
    groups = {c: str(g) for c, g in ((c, (outputs.get("log_group_names") or {}).get(c.value)) for c in Colour) if g}
    logs = None
    if groups:
        client = session.shared("logs")
        shift = shift_for(clock.now(), datetime.now(tz=UTC))
        metrics = LogMetrics.from_plan(plan, client, shift)
        engine.offline.hooks.append(metrics.follow)
        logs = (LogShipper(client, groups, shift), metrics, fleet)
    traffic = Traffic(clock, proxy, store, evaluator, session.shared("cloudwatch"), health, load, logs)
    engine.before.append(traffic.catch_up)
    traffic.start()
    return traffic
