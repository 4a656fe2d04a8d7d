"""Offline plan cost per stack: wall time of cold processes, as a ratio to importing the SDKs.

The machine is shared and noisy, so each figure is the median of several cold
processes, and the target is a ratio against a baseline measured in the same
run: the plan of production stays at or under 3 times a bare
``import pulumi, pulumi_aws, pulumi_github``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
TARGET_RATIO = 3.0


def median_seconds(command: list[str], runs: int = RUNS) -> float:
    """Median wall time of ``runs`` cold processes."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run() -> list[dict[str, object]]:
    """Measure the baseline and every stack's plan; return one row a stack."""
    from offline.stacks import ProjectFiles

    baseline = median_seconds([sys.executable, "-c", "import pulumi, pulumi_aws, pulumi_github"])
    rows: list[dict[str, object]] = []
    for stack in ProjectFiles.here().stacks():
        seconds = median_seconds([sys.executable, "-m", "release", "plan", "--stack", stack, "--json"])
        out = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "release", "plan", "--stack", stack, "--json"],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout
        resources = len(json.loads(out)["resources"])
        rows.append({
            "benchmark": "offline plan",
            "stack": stack,
            "median_s": round(seconds, 3),
            "baseline_import_s": round(baseline, 3),
            "ratio": round(seconds / baseline, 2),
            "target_ratio": TARGET_RATIO,
            "resources": resources,
        })
    return rows
