"""What ``check`` adds to a plan, and what ``plan``/``check`` import.

Each figure is the median of cold processes (the machine is shared and noisy):
- the check of a plan, over the plan's own time, in one process (target at most 25%);
- the driver, boto3 and moto modules that ``plan`` and ``check`` leave unimported (target: none imported;
  ``tests/offline/test_imports.py`` holds the same line).

The plan against the SDK modules it loads is ``bench/plan.py``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from bench.plan import ROOT

RUNS = 3
CHECK_TARGET = 0.25
# Modules the offline commands must not need: the driver's executor and AWS wrappers, boto3's clients, moto.
FORBIDDEN = ("boto3", "moto", "release.engine", "release.strategies.executor", "release.aws", "rehearsal")

_TIMED = """
import json, sys, time
from offline import evaluate_stack
from offline.stacks import ProjectFiles
stack = sys.argv[1]
start = time.perf_counter()
plan = evaluate_stack(stack)
planned = time.perf_counter()
from offline.check import check_plan
report = check_plan(plan, ProjectFiles.here().stack_config(stack)[0])
done = time.perf_counter()
print(json.dumps({"plan": planned - start, "check": done - planned, "checked": report.checked,
                  "findings": len(report.findings)}))
"""

_IMPORTS = """
import runpy, sys
sys.argv = ["release", *sys.argv[1:]]
try:
    runpy.run_module("release", run_name="__main__")
except SystemExit:
    pass
print("imported:", " ".join(m for m in {forbidden!r} if m in sys.modules))
"""


def _timed(stack: str) -> dict[str, float]:
    runs = [json.loads(subprocess.run([sys.executable, "-c", _TIMED, stack], cwd=ROOT, check=True,  # noqa: S603
                                      capture_output=True, text=True).stdout) for _ in range(RUNS)]
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def _imported(*command: str) -> str:
    script = _IMPORTS.format(forbidden=FORBIDDEN)
    out = subprocess.run([sys.executable, "-c", script, *command], cwd=ROOT, check=False,  # noqa: S603
                         capture_output=True, text=True).stdout
    marked = [line for line in out.splitlines() if line.startswith("imported:")]
    return marked[-1].removeprefix("imported:").strip() if marked else "(did not run)"


def run() -> list[dict[str, object]]:
    """One row a stack: check over plan, forbidden modules imported."""
    from offline.stacks import ProjectFiles

    rows: list[dict[str, object]] = []
    for stack in ProjectFiles.here().stacks():
        timed = _timed(stack)
        rows.append({
            "benchmark": "check over plan",
            "stack": stack,
            "plan_s": round(timed["plan"], 3),
            "check_s": round(timed["check"], 3),
            "ratio": round(timed["check"] / timed["plan"], 3),
            "target_ratio": CHECK_TARGET,
            "resources_checked": int(timed["checked"]),
            "plan_imports_forbidden": _imported("plan", "--stack", stack, "--json") or "none",
            "check_imports_forbidden": _imported("check", "--stack", stack, "--json") or "none",
        })
    return rows
