"""The canary judgement's figures: the acceptance cases, each pooled over 10,000 releases from 20 seeds.

Every release runs the driver's own judgement (``bench/canary_sim.py``): the three e-processes, the verdict,
the candidate's and live's alarms as the stack defines them, the same looks and the bake's extension rule.
Each rate carries its 95% Clopper-Pearson interval (scipy's ``binomtest(...).proportion_ci(method="exact")``;
C. J. Clopper and E. S. Pearson, *Biometrika* 26(4), 1934), and each case a check that it does not hang on one
seed: a chi-squared test of homogeneity of the 20 seeds' counts (scipy's ``chi2_contingency``), reported as its p.

The cases (20 requests per second, default steps 25/50/100 with 5-minute bakes, live's 5xx 1%, 1% of requests
with an error state, a 5% control share at the 100% step, unless a row says otherwise) are the table of
``docs/releasing.md``, "What the benchmark says".
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from typing import Any

import numpy as np

from bench.canary_sim import Alarms, Case, Outcomes, Streams, colour_alarms, simulate
from components.config import load
from components.config.release_analysis import AnalysisConfig
from offline.stacks import ProjectFiles

SEEDS = 20
PER_SEED = 500
FALSE_ABORT_TARGET = 0.01
DETECTION_TARGET = 0.95
LIVE_DEGRADES_TARGET = 0.90


def interval(hits: int, n: int) -> tuple[float, float]:
    """The 95% Clopper-Pearson interval of ``hits`` in ``n``."""
    from scipy.stats import binomtest

    ci = binomtest(hits, n).proportion_ci(confidence_level=0.95, method="exact")
    return float(ci.low), float(ci.high)


def seed_p(hits: np.ndarray, per_seed: int) -> float | None:
    """The p of a chi-squared test that every seed's block has the same rate (None when no or every release hit)."""
    from scipy.stats import chi2_contingency

    counts = np.asarray([hits[i * per_seed:(i + 1) * per_seed].sum() for i in range(len(hits) // per_seed)])
    table = np.stack([counts, per_seed - counts])
    if table.min(axis=1).max() == 0 or (table.sum(axis=1) == 0).any():
        return None
    return float(chi2_contingency(table).pvalue)


def _rate(hits: np.ndarray, per_seed: int) -> dict[str, Any]:
    n, k = len(hits), int(hits.sum())
    low, high = interval(k, n)
    p = seed_p(hits, per_seed)
    return {"rate": round(k / n, 5), "ci95": [round(low, 5), round(high, 5)], "releases": n,
            "seed_homogeneity_p": None if p is None else round(p, 4)}


def _by_step_two(outcome: Outcomes) -> np.ndarray:
    ends = np.nan_to_num(outcome.step_ends[:, 1], nan=np.inf)
    return outcome.aborted & (outcome.aborted_at <= ends)


def run_case(case: Case, limits: AnalysisConfig, alarms: tuple[Alarms, Alarms], seeds: int = SEEDS,
             per_seed: int = PER_SEED, first_seed: int = 0) -> tuple[Outcomes, float]:
    """The case's releases, and the seconds they took."""
    started = time.perf_counter()
    outcome = simulate(case, limits, Streams(list(range(first_seed, first_seed + seeds)), per_seed), *alarms)
    return outcome, time.perf_counter() - started


def rows(seeds: int = SEEDS, per_seed: int = PER_SEED, only: list[int] | None = None) -> list[dict[str, Any]]:
    """Every case's row (``only``: those cases, by their index, in that order)."""
    from offline import evaluate_stack

    files = ProjectFiles.here()
    out: list[dict[str, Any]] = []
    configs = {}
    for stack in ("staging", "production"):
        plan = evaluate_stack(stack)
        release = load(files.stack_config(stack)[0], stack).release
        configs[stack] = (release, (colour_alarms(plan, plan.outputs, "green"), colour_alarms(plan, plan.outputs, "blue")))
    staging, staging_alarms = configs["staging"]
    production, production_alarms = configs["production"]
    limits = staging.analysis
    base = Case("healthy", bake_minutes=staging.bake_minutes, steps=staging.steps)
    prod = replace(base, name="healthy, production config", steps=production.steps, bake_minutes=production.bake_minutes)
    cases: list[tuple[Case, AnalysisConfig, tuple[Alarms, Alarms], str]] = [
        (base, limits, staging_alarms, "false aborts"),
        (prod, production.analysis, production_alarms, "false aborts"),
        (replace(base, name="healthy, 3 error lines per failing request"), limits, staging_alarms, "false aborts"),
        (replace(base, name="shared dependency fault (2% 5xx) at the 100% step", shared_fault=0.02), limits,
         staging_alarms, "blamed on the candidate"),
        (replace(base, name="shared dependency fault at the 100% step, no control share", shared_fault=0.02,
                 control_share=0), limits, staging_alarms, "blamed on the candidate"),
        (replace(base, name="2x candidate 5xx", candidate_rate=0.02), limits, staging_alarms, "caught by the end of step 2"),
        (replace(base, name="2x candidate while live degrades (live 1% -> 1.5%, candidate 3%)", live_after=0.015,
                 candidate_rate=0.03), limits, staging_alarms, "caught in the release"),
        (replace(base, name="+50% candidate 5xx", candidate_rate=0.015), limits, staging_alarms, "caught in the release"),
        (replace(base, name="2x candidate 5xx at a 0.1% base rate", live_rate=0.001, candidate_rate=0.002), limits,
         staging_alarms, "caught in the release"),
        (replace(base, name="2x p99 latency at 2 rps", rps=2.0, slowdown=2.0), limits, staging_alarms, "caught in the release"),
    ]
    for case, settings, alarms, measure in ([cases[i] for i in only] if only is not None else cases):
        outcome, seconds = run_case(case, settings, alarms, seeds, per_seed)
        hits = {"false aborts": outcome.aborted, "blamed on the candidate": outcome.aborted,
                "caught by the end of step 2": _by_step_two(outcome), "caught in the release": outcome.aborted}[measure]
        row: dict[str, Any] = {
            "benchmark": f"canary: {case.name}: {measure}", **_rate(hits, per_seed),
            "steps": list(case.steps), "bake_minutes": case.bake_minutes, "rps": case.rps,
            "alpha": round(settings.alpha, 4), "aborted_by_alarm": round(float(outcome.alarm_aborts.mean()), 5),
            "caught_by_end_of_step_2": round(float(_by_step_two(outcome).mean()), 5),
            "held_undecided_after_extension": round(float(outcome.unsettled.mean()), 5),
            "held": round(float(outcome.held.mean()), 5),
            "ended_by_a_hold": round(float(outcome.ended_held.mean()), 5),
            "named_the_environment": round(float(outcome.environment.mean()), 5),
            "named_the_environment_ci95": [round(v, 5) for v in interval(int(outcome.environment.sum()), len(hits))],
            "median_release_minutes": float(np.nanmedian(np.where(outcome.aborted, np.nan, outcome.step_ends[:, -1])))
            if not outcome.aborted.all() else None,
            "median_minutes_to_abort": float(np.nanmedian(outcome.aborted_at)) if outcome.aborted.any() else None,
            "seconds": round(seconds, 1),
        }
        if measure in ("false aborts", "blamed on the candidate"):
            row["target"] = f"upper bound <= {FALSE_ABORT_TARGET:.0%}"
            row["ok"] = row["ci95"][1] <= FALSE_ABORT_TARGET
        elif case.name == "2x candidate 5xx":
            row["target"] = f">= {DETECTION_TARGET:.0%}"
            row["ok"] = row["rate"] >= DETECTION_TARGET
        elif case.name.startswith("2x candidate while live"):
            row["target"] = f">= {LIVE_DEGRADES_TARGET:.0%}"
            row["ok"] = row["rate"] >= LIVE_DEGRADES_TARGET
        out.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return out


def run() -> list[dict[str, object]]:
    """The rows ``make bench`` prints."""
    return rows()


if __name__ == "__main__":
    # python -m bench.canary [CASE_INDEX,...] [RELEASES_PER_SEED]: the rows of those cases alone, on fewer releases.
    chosen = [int(i) for i in sys.argv[1].split(",")] if len(sys.argv) > 1 and sys.argv[1] != "all" else None
    per_seed = int(sys.argv[2]) if len(sys.argv) > 2 else PER_SEED
    for found in rows(per_seed=per_seed, only=chosen):
        print(json.dumps(found), flush=True)
