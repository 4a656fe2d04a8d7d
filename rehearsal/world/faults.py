"""Faults a rehearsal injects into the AWS side: transient errors on chosen calls.

moto always answers; real AWS throttles. A ``Throttle`` registers a botocore
``before-call`` handler on one client, so the driver's own wrapper sees the
same ``ClientError`` a throttled or unavailable service gives (code and HTTP
status), for as many calls as the scenario arms, and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import cycle
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from components.config import load
from offline import Plan
from offline.stacks import ProjectFiles, apply_overrides
from rehearsal.world.fleet import AppBehaviour
from release.engine import UpdateResult

if TYPE_CHECKING:
    from rehearsal.world.engine import RehearsalEngine
    from rehearsal.world.fleet import Fleet
    from rehearsal.world.seams import ScheduledClock

SICKEN_DELAY = 60.0  # seconds after the promotion: past the public smoke test, inside the backup window
SHARED_FAULT_RATE = 0.02  # every colour's 5xx while a dependency both share fails: under staging's 5% alarm threshold
SHARED_FAULT_SECONDS = 240.0  # from the release's last shift: most of a 5-minute bake

# What a busy service answers: CloudWatch's throttling error and a 503 (AWS API reference, "Common Errors").
ANSWERS = (("Throttling", 400, "Rate exceeded"), ("ServiceUnavailable", 503, "Service is unavailable"))
PER_BAKE = 12  # more than one read's retries (ATTEMPTS = 8), so the bake itself must poll again


class Throttle:
    """The next ``armed`` calls of ``operation`` on ``client`` fail with a transient error."""

    def __init__(self, client: Any, operation: str) -> None:
        self.operation = operation
        self.armed = 0
        self.raised = 0
        self._answers = cycle(ANSWERS)
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-call.{service}.{operation}", self._before_call)

    def arm(self, count: int) -> None:
        """Fail the next ``count`` calls."""
        self.armed += count

    def _before_call(self, **_: Any) -> None:
        if self.armed <= 0:
            return
        self.armed -= 1
        self.raised += 1
        code, status, message = next(self._answers)
        response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
        raise ClientError(response, self.operation)


def throttle_each_bake(throttle: Throttle, engine: Any, count: int = PER_BAKE) -> Any:
    """An update hook that arms ``count`` failures after each shift to a higher weight (so they land in its bake)."""
    seen = {"weight": 0}

    def hook(plan: Plan, result: UpdateResult) -> None:
        weight = load(engine.get_config(), engine.stack).release.canary_weight
        if weight > seen["weight"]:
            throttle.arm(count)
        seen["weight"] = weight

    return hook


def weighted_candidate(stack: str, overrides: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Overrides under which the candidate colour runs an older version and already serves 25% with nothing in progress."""
    files = ProjectFiles.here()
    config = apply_overrides(files.stack_config(stack)[0], overrides, files)
    release = load(config, stack).release
    return [*overrides, (f"release:versions.{release.candidate}", "rehearsal-0"), ("release:canaryWeight", 25)]


def shared_fault(engine: RehearsalEngine, clock: ScheduledClock, fleet: Fleet, traffic: Any) -> Any:
    """A hook that, at the release's last shift, fails a dependency both colours share for ``SHARED_FAULT_SECONDS``.

    Every running process restarts answering ``SHARED_FAULT_RATE`` of its requests with 5xx (or its own rate, if
    higher); afterwards each restarts as it was. The candidate is no worse than live in any minute of it.
    """

    def hook(plan: Plan, result: UpdateResult) -> None:
        release = load(engine.get_config(), engine.stack).release
        if release.in_progress is None or release.canary_weight != release.step_weight(100):
            return
        engine.offline.hooks.remove(hook)
        saved = dict(fleet.behaviours)

        def restart(behaviours: dict[str, AppBehaviour]) -> None:
            traffic.catch_up()  # what was sent before this moment was answered as it was then
            fleet.behaviours.clear()
            fleet.behaviours.update(behaviours)
            for colour, running in list(fleet.running.items()):
                fleet.start(colour, running.version)

        failing = {}
        for running in fleet.running.values():
            own = saved.get(running.version, fleet.default)
            failing[running.version] = replace(own, error_rate=max(own.error_rate, SHARED_FAULT_RATE))
        restart({**saved, **failing})
        clock.at(clock.monotonic() + SHARED_FAULT_SECONDS, lambda: restart(saved))

    return hook


def sicken_after_promotion(engine: RehearsalEngine, clock: ScheduledClock, fleet: Fleet, traffic: Any, version: str) -> Any:
    """A hook that, a minute after the promotion, restarts the new live colour's process answering half with 5xx."""
    before = load(engine.get_config(), engine.stack).release.live

    def hook(plan: Plan, result: UpdateResult) -> None:
        live = load(engine.get_config(), engine.stack).release.live
        if live is before:
            return

        def sicken() -> None:
            traffic.catch_up()  # what was sent before this moment was answered by the healthy process
            fleet.behaviours[version] = AppBehaviour(error_rate=0.5)
            fleet.start(live, version)

        engine.offline.hooks.remove(hook)
        clock.at(clock.monotonic() + SICKEN_DELAY, sicken)

    return hook
