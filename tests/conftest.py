"""The one mock harness: every test plans through the offline evaluator.

``plan_of(stack, *overrides)`` evaluates the real ``__main__.py`` under Pulumi's
mocks with the stack's real ``Pulumi.<stack>.yaml`` and returns a ``Plan`` of
plain values: a test cannot pass without its assertions running on resolved data.
Plans are cached per (stack, overrides) for the session; they are immutable.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.config import ConfigError
from offline import Plan, evaluate, evaluate_stack
from offline.stacks import ProjectFiles, apply_overrides, parse_override
from release.clock import ManualClock
from tools.mutate import STATS, quickest_first

FIXTURES = Path(__file__).parent / "fixtures"

# moto's EC2 backend loads its 2,721 default AMIs each time it is made (moto 5's moto/ec2/models/amis.py, unless
# moto/settings.py's ec2_load_default_amis() reads MOTO_EC2_LOAD_DEFAULT_AMIS=false): 0.7 s of CPU for each moto
# session of the stack world and each reset of the rehearsal world. Nothing here runs instances or reads images.
# Set before any test starts a moto, and inherited by the processes the tests start.
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

Override = tuple[str, Any] | str


def _normalise(overrides: tuple[Override, ...]) -> tuple[tuple[str, Any], ...]:
    return tuple(parse_override(o) if isinstance(o, str) else o for o in overrides)


_CACHE: dict[tuple[str, str], Plan] = {}


def _key(stack: str, overrides: tuple[tuple[str, Any], ...]) -> tuple[str, str]:
    return stack, repr(overrides)


# A test that runs a whole rehearsal or builds a virtualenv costs seconds; the others, a fraction of one.
_HEAVY = ("rehearsal", "registry")


@pytest.hookimpl(trylast=True)  # after ``-m`` has deselected: only what runs is weighed
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The heaviest files first, each file's tests in their own order; under a mutant's run, the quickest tests first.

    ``--dist loadfile`` hands each worker the next file in this order as it finishes one (the Makefile's ``XDIST``
    turns xdist's own order, by number of tests, off): a rehearsal file started last would leave one worker
    running it alone, the other idle.
    """
    if quickest_first(items, os.environ.get("MUTANT_UNDER_TEST", ""), Path.cwd() / STATS):
        return
    weight: dict[Path, int] = {}
    for item in items:
        heavy = any(item.get_closest_marker(name) for name in _HEAVY)
        weight[item.path] = weight.get(item.path, 0) + (100 if heavy else 1)
    items.sort(key=lambda item: -weight[item.path])  # stable: a file's tests stay together and in order


@pytest.fixture(scope="session")
def plan_of() -> Callable[..., Plan]:
    """Plan a stack of this repository with overrides: ``plan_of("production", "release:canaryWeight=25")``."""

    def get(stack: str, *overrides: Override) -> Plan:
        normal = _normalise(overrides)
        key = _key(stack, normal)
        if key not in _CACHE:
            _CACHE[key] = evaluate_stack(stack, normal)
        return _CACHE[key]

    return get


@pytest.fixture(scope="session")
def config_problems() -> Callable[..., list[str]]:
    """Evaluate a stack expecting bad config; return the problems, after checking nothing was registered."""

    def get(stack: str, *overrides: Override) -> list[str]:
        with pytest.raises(ConfigError) as caught:
            evaluate_stack(stack, _normalise(overrides))
        assert caught.value.registered_before_error == 0, "resources were registered before the config error"  # type: ignore[attr-defined]
        assert caught.value.problems, "a ConfigError must name at least one problem"
        return caught.value.problems

    return get


@pytest.fixture(scope="session")
def fixture_plan() -> Callable[..., Plan]:
    """Plan a fixture program under tests/fixtures/<name> with its ``dev`` stack and overrides."""

    def get(name: str, *overrides: Override, secret: tuple[str, ...] = ()) -> Plan:
        files = ProjectFiles(FIXTURES / name)
        config, secrets = files.stack_config("dev", required_secrets=())
        config = apply_overrides(config, _normalise(overrides), files)
        secret_keys = secrets + tuple(files.full_key(k) for k in secret)
        return evaluate(files.root, files.project, "dev", config, secret_keys)

    return get


@pytest.fixture(scope="session")
def _reports_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("release-reports")


@pytest.fixture(autouse=True)
def _reports_out_of_the_checkout(_reports_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Release reports written by commands under test go to a temporary directory, not the checkout."""
    monkeypatch.setenv("RELEASE_REPORTS_DIR", str(_reports_dir))


CLOCK_LIMIT_SECONDS = 86_400.0
"""How far any manual clock may be slept on in one test: no test simulates more than hours."""
STILL_SLEEPS_LIMIT = 10_000
"""How many sleeps in a row may leave a manual clock where it was: a poll loop that sleeps 0 s never ends."""


@pytest.fixture(autouse=True)
def _manual_clocks_never_sleep_for_ever(monkeypatch: pytest.MonkeyPatch) -> None:
    """A manual clock (release/clock.py) fails the test that sleeps on it past a day, or in place for ever.

    It moves only when slept on: a driver loop whose bound is lost (a changed check, a mutant of one) would sleep on
    it for ever, a read at each turn, and hang the suite instead of failing the test; so would one that sleeps for
    no time at each turn.
    """
    advance = ManualClock.sleep
    still: dict[int, int] = {}

    def sleep(clock: ManualClock, seconds: float) -> None:
        before = clock.monotonic()
        advance(clock, seconds)
        if clock.monotonic() > CLOCK_LIMIT_SECONDS:
            msg = f"a manual clock ran past a day ({clock.monotonic():.0f} s): a wait that never ends"
            raise RuntimeError(msg)
        still[id(clock)] = still.get(id(clock), 0) + 1 if clock.monotonic() == before else 0
        if still[id(clock)] >= STILL_SLEEPS_LIMIT:
            msg = f"a manual clock was slept on {STILL_SLEEPS_LIMIT} times in a row without moving: a loop that never ends"
            raise RuntimeError(msg)

    monkeypatch.setattr(ManualClock, "sleep", sleep)


@pytest.fixture(autouse=True)
def _rehearsals_only_in_their_tier(request: pytest.FixtureRequest) -> None:
    """A shared rehearsal may run only in a test marked ``rehearsal``, so ``make test-fast`` never builds one."""
    shared = sys.modules.get("tests.rehearsals")
    if shared is not None:
        shared.MARKED = request.node.get_closest_marker("rehearsal") is not None
