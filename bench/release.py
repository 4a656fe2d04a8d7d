"""Release driver figures, from rehearsals on the injected clock (no real bake time).

- alarm to abort: seconds on the rehearsal's clock from the candidate's alarm
  entering ALARM to the abort update being issued; target at most one poll
  interval (10 s by default).
- resources an abort touches: what the abort update changed; target 1 (the listener).
- driver wall time per step outside the engine: real seconds each step spent in
  the driver itself and AWS calls (moto here), excluding the engine's updates.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from components.config import Strategy
from release.rehearsal.run import rehearse

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
    happy = rehearse("staging", "happy")
    outside: dict[str, list[float]] = defaultdict(list)
    for name, wall, engine in happy.timing:
        outside[name].append(wall - engine)
    for name, values in outside.items():
        rows.append({
            "benchmark": "driver wall time per step outside the engine", "step": name, "count": len(values),
            "median_ms": round(1000 * statistics.median(values), 1), "max_ms": round(1000 * max(values), 1),
        })
    return rows
