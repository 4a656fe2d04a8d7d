"""Rehearsals shared by every test that reads one: each (stack, scenario, settings) runs once per test process.

A rehearsal is the suite's most expensive world (moto, two application
processes, a proxy, minutes of simulated traffic), and a Rehearsal or a JSON
summary is only read by the tests, never changed, so the first test that asks
for one runs it and the others read the same result. Tests that share a
rehearsal sit in one file: ``make test`` sends each file to one worker
(``--dist loadfile``, the Makefile's ``XDIST``), so every rehearsal still runs
once per session.

``QUICK`` is what a rehearsal whose subject is neither the bake nor the backup
window sets: a one-minute bake and a one-minute backup window (the default
window is 30 minutes of traffic and polls, most of a happy rehearsal's cost).
Tests whose subject is the window keep theirs whole.

A rehearsal runs the program as it is on disk, so its evaluations go through
the disk cache (``offline/cache.py``, ``RELEASE_PLAN_CACHE``): another worker
or a later run that evaluates the same sources and config reads the plan.
Nothing else in the suite turns the cache on, since other tests patch the
program in memory.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from components.config import Strategy
from offline.cache import ENV as PLAN_CACHE
from rehearsal.cli import app
from rehearsal.run import Rehearsal, rehearse
from rehearsal.world.seams import Faults

Overrides = tuple[tuple[str, Any], ...]

QUICK_BACKUP: Overrides = (("release:backupMinutes", 1),)
QUICK: Overrides = (("release:bakeMinutes", 1), *QUICK_BACKUP)
QUICK_FLAGS = ("-c", "release:bakeMinutes=1", "-c", "release:backupMinutes=1")

PLAN_CACHE_DIR = Path(__file__).resolve().parents[1] / ".release" / "plan-cache"

MARKED = False
"""Whether the running test is marked ``rehearsal`` (set by ``tests/conftest.py`` before each test)."""

_RUNS: dict[tuple[Any, ...], Rehearsal] = {}
_SUMMARIES: dict[tuple[str, ...], tuple[int, str]] = {}


def rehearsed(
    stack: str,
    scenario: str,
    overrides: Sequence[tuple[str, Any]] = QUICK,
    *,
    strategy: Strategy | None = None,
    faults: Faults | None = None,
    skip_staging: str | None = None,
) -> Rehearsal:
    """The rehearsal of ``scenario`` on ``stack`` with these settings: run on first use, then shared."""
    key = (stack, scenario, repr(tuple(overrides)), strategy, faults, skip_staging)  # repr: a value may be a list
    _in_its_tier(scenario)
    if key not in _RUNS:
        with pytest.MonkeyPatch.context() as env:
            env.setenv(PLAN_CACHE, str(PLAN_CACHE_DIR))
            _RUNS[key] = rehearse(stack, scenario, tuple(overrides), strategy=strategy, faults=faults, skip_staging=skip_staging)
    return _RUNS[key]


def summary(*args: str) -> tuple[int, dict[str, Any]]:
    """``python -m rehearsal ARGS --json``'s exit code and JSON summary: run on first use, then shared."""
    _in_its_tier(" ".join(args))
    if args not in _SUMMARIES:
        done = CliRunner().invoke(app, [*args, "--json"], env={PLAN_CACHE: str(PLAN_CACHE_DIR)})
        assert done.stdout.strip().startswith("{"), done.output
        _SUMMARIES[args] = (done.exit_code, done.stdout)
    code, stdout = _SUMMARIES[args]
    # Parsed for each caller: a test that edits what it read cannot change what the next one reads.
    return code, json.loads(stdout)


def _in_its_tier(what: str) -> None:
    if not MARKED:
        message = f"a test that rehearses ({what}) is marked @pytest.mark.rehearsal, so the fast tier leaves it out"
        raise AssertionError(message)

