"""What the offline plan costs beyond the Pulumi SDK it runs on: ``release plan`` over importing its SDK modules.

The denominator is a cold process that imports exactly the SDK modules
(``pulumi``, ``pulumi_aws``, ``pulumi_github``, ``pulumi_pulumiservice``) a plan of
the stack loads; the numerator is a cold ``python -m release plan --stack S --json``.
The target: the plan takes at most 1.5 times the SDK import, so evaluating the
program, the offline models and the CLI together cost at most half of what merely
loading the SDK does.

The machine is shared and noisy, so:
- the two commands run interleaved (SDK, plan, SDK, plan, ...), so a burst of load
  hits both;
- each figure is the median of ``RUNS`` cold processes, with the spread (min-max);
- CPU time (user + system of the child, from ``getrusage``) is reported beside wall
  time: it does not count the time the process waited for a core, so it is the
  figure the target is judged on, and the wall ratio is printed for comparison;
- the project's bytecode is compiled first (as the first run of any command does):
  the SDK's was compiled when it was installed.
"""

from __future__ import annotations

import compileall
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
TARGET_RATIO = 1.5
SDK_PACKAGES = ("pulumi", "pulumi_aws", "pulumi_github", "pulumi_pulumiservice")
PROJECT_PACKAGES = ("components", "offline", "release", "policy")

# The SDK modules a plan of the stack loads, listed by a process that evaluates it.
_USED = """
import json, sys
from offline import evaluate_stack
evaluate_stack(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {packages!r})))
"""

_IMPORT_ALL = """
import importlib, json, sys
for name in json.load(open(sys.argv[1])):
    importlib.import_module(name)
"""


@dataclass(frozen=True)
class Run:
    """One cold process: its wall time and its CPU time (user + system), in seconds."""

    wall: float
    cpu: float


def run_once(command: list[str]) -> Run:
    """Run a command as a cold process and time it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu)


def median_seconds(command: list[str], runs: int = RUNS) -> float:
    """Median wall time of ``runs`` cold processes."""
    return statistics.median(run_once(command).wall for _ in range(runs))


def compile_project() -> None:
    """Write the project's bytecode, as its first run would (the SDK's was written at install)."""
    for package in PROJECT_PACKAGES:
        compileall.compile_dir(str(ROOT / package), quiet=1)
    compileall.compile_file(str(ROOT / "__main__.py"), quiet=1)


def sdk_listing(stack: str, scratch: Path) -> Path:
    """A file listing the SDK modules a plan of ``stack`` loads."""
    used = subprocess.run([sys.executable, "-c", _USED.format(packages=SDK_PACKAGES), stack], cwd=ROOT,  # noqa: S603
                          check=True, capture_output=True, text=True).stdout
    listing = scratch / f"sdk-{stack}.json"
    listing.write_text(used)
    return listing


def _summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def measure(stack: str, runs: int = RUNS) -> dict[str, object]:
    """The plan of ``stack`` against its SDK modules' import: interleaved cold runs, wall and CPU."""
    with tempfile.TemporaryDirectory() as scratch:
        listing = sdk_listing(stack, Path(scratch))
        modules = len(json.loads(listing.read_text()))
        sdk: list[Run] = []
        plan: list[Run] = []
        for _ in range(runs):
            sdk.append(run_once([sys.executable, "-c", _IMPORT_ALL, str(listing)]))
            plan.append(run_once([sys.executable, "-m", "release", "plan", "--stack", stack, "--json"]))
    sdk_cpu, plan_cpu = _summary([r.cpu for r in sdk]), _summary([r.cpu for r in plan])
    sdk_wall, plan_wall = _summary([r.wall for r in sdk]), _summary([r.wall for r in plan])
    ratio = plan_cpu["median"] / sdk_cpu["median"]
    return {
        "benchmark": "offline plan over its SDK modules",
        "stack": stack,
        "runs": runs,
        "sdk_modules": modules,
        "sdk_import_cpu_s": sdk_cpu,
        "plan_cpu_s": plan_cpu,
        "ratio_cpu": round(ratio, 2),
        "sdk_import_wall_s": sdk_wall,
        "plan_wall_s": plan_wall,
        "ratio_wall": round(plan_wall["median"] / sdk_wall["median"], 2),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio <= TARGET_RATIO,
        "how": f"ratio_cpu = plan_cpu_s.median {plan_cpu['median']} / sdk_import_cpu_s.median {sdk_cpu['median']}",
    }


def run() -> list[dict[str, object]]:
    """One row a stack."""
    from offline.stacks import ProjectFiles

    compile_project()
    return [measure(stack) for stack in ProjectFiles.here().stacks()]


if __name__ == "__main__":
    # ``python -m bench.plan [rounds]``: this benchmark alone, ``rounds`` times, to see its variance.
    for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1):
        for row in run():
            print(json.dumps(row))
