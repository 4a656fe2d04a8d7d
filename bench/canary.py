"""Canary analysis figures: false aborts and detection, the analysis against the old fixed thresholds.

Simulated releases (``bench/canary_sim.py``, seeded binomial draws per minute)
over the default steps (``DEFAULT_STEPS``: 25, 50, 100) and bakes (5 minutes),
live's 5xx rate 1%:

- false aborts: a healthy candidate (1%) aborted anywhere in the release;
  target at most 1%;
- detection: a candidate with twice live's 5xx rate (2%) aborted by the end of
  the second step; target at least 95%; with the median minutes from the first
  shift to the abort among the detected;
- at 20 and at 2 requests per second;
- and, beside them, detection of a candidate whose latency is twice live's.

Every release also draws per-minute p99 latencies (``canary_sim``), so the
false aborts include the latency test's.

Each rate carries its 95% Wilson interval: 500 releases resolve a rate near 1%
only to about +-1 point. Extra rows show what the data allows at 20 rps (one
look at the end of the second step), the former default steps (10, 25, 50,
100), which miss the detection target, and production's own steps and bakes.
"""

from __future__ import annotations

import math
import random
import statistics

from bench.canary_sim import Case, Judge, analysis_judge, fixed_judge, simulate
from components.config import load
from components.config.release import DEFAULT_STEPS
from components.config.release_analysis import AnalysisConfig
from offline.stacks import ProjectFiles

RELEASES = 500
SEED = 16
FALSE_ABORT_TARGET = 0.01
DETECTION_TARGET = 0.95
DEFAULT_BAKE = 5
FORMER_STEPS = (10, 25, 50, 100)


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion (Wilson, JASA 22(158), 1927)."""
    if n == 0:
        return 0.0, 1.0
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _rate(hits: int, n: int) -> dict[str, object]:
    low, high = wilson(hits, n)
    return {"rate": round(hits / n, 4), "ci95": [round(low, 4), round(high, 4)]}


def _rows(name: str, judge: Judge, rps: float, limits: AnalysisConfig, *, steps: tuple[int, ...] = DEFAULT_STEPS,
          bake: int = DEFAULT_BAKE, releases: int = RELEASES, label: str = "default") -> list[dict[str, object]]:
    rng = random.Random(f"{SEED}-{name}-{rps}-{steps}-{bake}")  # noqa: S311 - a seeded simulation, not secrets
    extend = limits.low_traffic.extend_minutes if name != "fixed thresholds" else 0
    kwargs = {"baseline_minutes": limits.baseline_minutes, "extend_minutes": extend}
    healthy = [simulate(Case(rps, 0.01, 0.01, steps, bake), judge, rng, **kwargs) for _ in range(releases)]
    doubled = [simulate(Case(rps, 0.01, 0.02, steps, bake), judge, rng, **kwargs) for _ in range(releases)]
    slower = [simulate(Case(rps, 0.01, 0.01, steps, bake, slowdown=2.0), judge, rng, **kwargs) for _ in range(releases)]
    aborts = sum(o.aborted_at is not None for o in healthy)
    caught = [o.aborted_at for o in doubled if o.aborted_at is not None and len(o.step_ends) < 2]
    ever = sum(o.aborted_at is not None for o in doubled)
    slow_caught = [o.aborted_at for o in slower if o.aborted_at is not None and len(o.step_ends) < 2]
    stretched = statistics.mean(o.step_ends[-1] - len(steps) * bake for o in healthy if o.aborted_at is None) \
        if aborts < releases else 0.0
    common = {"analysis": name, "config": label, "rps": rps, "steps": list(steps), "bake_minutes": bake, "releases": releases}
    return [
        {"benchmark": "canary false aborts (healthy 1% vs 1%)", **common, **_rate(aborts, releases),
         "target": f"<= {FALSE_ABORT_TARGET:.0%}", "ok": aborts / releases <= FALSE_ABORT_TARGET,
         "mean_extension_minutes": round(stretched, 1)},
        {"benchmark": "canary detection by end of step 2 (2% vs 1%)", **common, **_rate(len(caught), releases),
         "median_minutes_to_abort": statistics.median(caught) if caught else None,
         "detected_in_whole_release": round(ever / releases, 4),
         "target": f">= {DETECTION_TARGET:.0%}", "ok": len(caught) / releases >= DETECTION_TARGET},
        {"benchmark": "canary detection by end of step 2 (p99 twice live's)", **common, **_rate(len(slow_caught), releases),
         "median_minutes_to_abort": statistics.median(slow_caught) if slow_caught else None},
    ]


def one_look_power(rps: float, alpha: float, releases: int = RELEASES) -> dict[str, object]:
    """What the data allows: a single Fisher test at the end of the second default step, no earlier look."""
    limits = AnalysisConfig.model_validate({"errors": {"confidence": 1 - alpha, "minRelativeIncrease": 0.0, "minRequests": 1}})
    rng = random.Random(f"{SEED}-one-look-{rps}-{alpha}")  # noqa: S311 - a seeded simulation, not secrets
    look = analysis_judge(limits)
    minutes = {"n": 0}

    def at_end_of_step_two(traffic: object) -> tuple[bool, bool]:
        minutes["n"] += 1
        if minutes["n"] != 2 * DEFAULT_BAKE:
            return False, False
        return look(traffic)  # type: ignore[arg-type]

    hits = 0
    for _ in range(releases):
        minutes["n"] = 0
        hits += simulate(Case(rps, 0.01, 0.02), at_end_of_step_two, rng, baseline_minutes=10, extend_minutes=0).aborted_at is not None
    return {"benchmark": "canary detection, one look at the end of step 2 (2% vs 1%)", "analysis": f"Fisher p < {alpha:g}",
            "config": "default", "rps": rps, "steps": list(DEFAULT_STEPS), "bake_minutes": DEFAULT_BAKE, "releases": releases,
            **_rate(hits, releases)}


def run() -> list[dict[str, object]]:
    """The rows ``make bench`` prints."""
    limits = AnalysisConfig()
    rows: list[dict[str, object]] = []
    for rps in (20.0, 2.0):
        rows += _rows("analysis (defaults)", analysis_judge(limits), rps, limits)
        rows += _rows("fixed thresholds", fixed_judge, rps, limits)
    rows.append(one_look_power(20.0, 1 - limits.errors.confidence))
    rows.append(one_look_power(20.0, 0.01))
    rows += _rows("analysis (defaults)", analysis_judge(limits), 20.0, limits, steps=FORMER_STEPS, label="former default")
    production = load(ProjectFiles.here().stack_config("production")[0], "production").release
    for rps in (20.0, 2.0):
        rows += _rows("analysis (production's)", analysis_judge(production.analysis), rps, production.analysis,
                      steps=production.steps, bake=production.bake_minutes, label="production")
    return rows


if __name__ == "__main__":
    import json

    for row in run():
        print(json.dumps(row))
