"""``python -m bench``: every benchmark, one JSON line a figure."""

from __future__ import annotations

import json

from bench import canary, check, data, delivery, deployments, environment, monitoring, plan, policy, release, rollback

BENCHMARKS = [
    plan.run, check.run, environment.run, data.run, monitoring.run, delivery.run, deployments.run, release.run, rollback.run,
    policy.run, canary.run,
]

rows = [row for bench in BENCHMARKS for row in bench()]
for row in rows:
    print(json.dumps(row))
