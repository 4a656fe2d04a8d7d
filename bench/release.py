"""Release driver figures, from rehearsals on the injected clock (no real bake time).

- alarm to abort: seconds on the rehearsal's clock from the candidate's alarm
  entering ALARM to the abort update being issued; target at most one poll
  interval (10 s by default).
- resources an abort touches: what the abort update changed; target 1 (the listener).
- driver wall time per step outside the engine: real seconds each step spent in
  the driver itself and AWS calls (moto here), excluding the engine's updates;
  a bake's figure includes the rehearsal's traffic, sent while the driver sleeps.
- rehearsal traffic: per scenario, the requests each colour served, the outcome,
  and the share of the rehearsal's wall time spent sending requests (load
  generator, proxy and application processes).
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict

from components.config import Strategy
from rehearsal.run import Rehearsal, rehearse

POLL_SECONDS = 10.0


def run() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for strategy in (Strategy.CANARY, Strategy.BLUE_GREEN):
        alarm = rehearse("staging", "alarm", strategy=strategy)
        latency = None if alarm.alarm_at is None or alarm.abort_at is None else alarm.abort_at - alarm.alarm_at
        rows.append({
            "benchmark": "alarm to abort", "strategy": strategy.value, "seconds_on_clock": latency,
            "target_seconds": POLL_SECONDS, "ok": latency is not None and latency <= POLL_SECONDS,
        })
        rows.append({
            "benchmark": "resources an abort touches", "strategy": strategy.value, "resources": alarm.touched_by_abort,
            "target": 1, "ok": alarm.touched_by_abort == 1,
        })
    happy, happy_wall = _timed("happy")
    outside: dict[str, list[float]] = defaultdict(list)
    for name, wall, engine in happy.timing:
        outside[name].append(wall - engine)
    for name, values in outside.items():
        rows.append({
            "benchmark": "driver wall time per step outside the engine", "step": name, "count": len(values),
            "median_ms": round(1000 * statistics.median(values), 1), "max_ms": round(1000 * max(values), 1),
        })
    for scenario, (done, wall) in (("happy", (happy, happy_wall)), *((s, _timed(s)) for s in ("bad-candidate", "slow-candidate"))):
        traffic = done.summary["traffic"]
        rows.append({
            "benchmark": "rehearsal traffic", "scenario": scenario, "outcome": done.summary["outcome"],
            "requests_blue": traffic["blue"]["requests"], "requests_green": traffic["green"]["requests"],
            "traffic_share_of_wall": round(done.traffic_wall / wall, 2),
        })
    return rows


def _timed(scenario: str) -> tuple[Rehearsal, float]:
    began = time.perf_counter()
    done = rehearse("staging", scenario)
    return done, time.perf_counter() - began
