"""``plan`` and ``check`` load only what evaluating and checking a stack needs: not the driver, boto3 or moto.

Each command runs in its own process, as a user runs it, and reports every module it loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# ``python -m release ...``, then the names in sys.modules written to the file named by the environment.
_RUN = """
import json, os, runpy, sys
sys.argv = ["release", *sys.argv[1:]]
try:
    runpy.run_module("release", run_name="__main__")
except SystemExit:
    pass
finally:
    with open(os.environ["LOADED_MODULES"], "w") as out:
        json.dump(sorted(sys.modules), out)
"""

# The driver's packages and the AWS clients: an offline command that loads them pays for what it never uses.
DRIVER = ("boto3", "moto", "release.engine", "release.strategies.executor", "release.aws", "rehearsal", "release.state",
          "release.strategies.planner", "release.strategies.steps")
# What only other outputs need: the strict check's botocore models, the pack's offline runner (the program itself
# reads the pack's policy list), the tree renderer and the diff.
PLAN_ONLY = ("botocore", "offline.check", "policy.offline", "offline.render", "offline.diff")


def _loaded(tmp_path: Path, *args: str) -> list[str]:
    listing = tmp_path / "modules.json"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _RUN, *args], cwd=ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, "LOADED_MODULES": str(listing)},
    )
    assert result.returncode in (0, 1), result.stderr
    return json.loads(listing.read_text())


def _matching(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(f"{p}.") for p in prefixes))


def test_plan_loads_neither_the_driver_nor_aws_clients_nor_other_outputs(tmp_path: Path) -> None:
    modules = _loaded(tmp_path, "plan", "--stack", "staging", "--json")
    assert "offline.evaluator" in modules, "the plan ran"
    assert _matching(modules, DRIVER + PLAN_ONLY) == []


@pytest.mark.parametrize("stack", ["staging"])
def test_check_loads_neither_the_driver_nor_aws_clients(tmp_path: Path, stack: str) -> None:
    modules = _loaded(tmp_path, "check", "--stack", stack, "--json")
    assert "offline.check" in modules, "the check ran"
    assert _matching(modules, DRIVER) == []
