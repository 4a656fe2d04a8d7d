"""The release CLI in a process of its own, against a rehearsal world another process built: two shells, one stack.

``python -m rehearsal.world.shell ARGS`` runs exactly what ``python -m release ARGS`` runs (``release.cli.main``:
the same commands, flags, messages and exit codes), with one difference: ``driver.CONNECT`` gives the offline
engine over the world in ``$RELEASE_WORLD`` (a directory) instead of the Automation API and boto3. The directory
holds the offline engine's state file and its release state (``staging.json`` and ``staging.release.json``, the
file store, compare-and-set across processes), and ``world.json``: the moto endpoint, the address book and what
the world keeps in step with updates (registered targets, each service's desired count, the listener's last
split; on a rolling stack, ECS's deployments of the live colour, which moto does not roll: the rehearsal's seam,
``rehearsal/world/rollout.py``, runs in each process, a deployment's start kept as a time of day). Every process
reads ``world.json`` afresh and writes it after each update, inside the engine's update lock, so two shells see
one world. ``share`` writes it from the process that built the world.

It is a test seam, and never on a path users run: ``release/`` does not import it (``python -m tools.imports``).
What a process sees, and the faults it may carry, are set in its environment:

- ``RELEASE_WORLD_NOW``: the ISO time its manual clock starts at (default: the world's); a shell whose clock runs
  ahead, or one started after a killed driver's lease has expired.
- ``RELEASE_WORLD_PAUSE``: ``before:TEXT`` or ``after:TEXT`` (the first update whose message holds TEXT, before it
  is applied or once it is, the stack lock held either way), ``minute:N`` (the first sleep that takes the clock
  past N minutes from its start) or ``write:N`` (the process's Nth write of the release state, before it is made:
  inside a command, once the command has read what it decides from, no lock held; a compare-and-set's write, so
  if another process wrote in between it fails and the command reads again). Several points, separated by ``;``,
  stop the process at each in turn. At each the process writes ``paused`` (its pid) in the directory and waits,
  in real time, up to ``PAUSE_LIMIT`` seconds, until ``resume`` (every paused process, for good) or ``resume-PID``
  (this one, used up as it goes on) exists: the test then acts from another process, or kills it.
- ``RELEASE_WORLD_THROTTLE``: an operation name (``DescribeListeners``) the process's own AWS calls of get
  ``Throttling`` for, as a loaded account answers.
- ``RELEASE_WORLD_FAIL_WRITE``: TEXT: the first write of the release state after an update whose message holds
  TEXT fails, as a store that cannot be written at that moment.

The smoke tests' probe answers 200: the application's processes are the whole rehearsal's subject, not this one's.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from components.config import Colour, ConfigError, Strategy, load
from offline import Plan
from rehearsal.world.engine import RehearsalEngine
from rehearsal.world.healthy_traffic import HealthyTraffic
from rehearsal.world.rollout import Deployment, RolloutSeam
from rehearsal.world.seams import RehearsalTaskRunner, ScheduledClock
from rehearsal.world.servers import MotoSession
from rehearsal.world.services import Tasks
from rehearsal.world.stack import World
from release.engine import UpdateResult
from release.engine.offline import OfflineEngine
from release.state import StateStoreError

WORLD, NOW, PAUSE, THROTTLE, FAIL_WRITE = (
    "RELEASE_WORLD", "RELEASE_WORLD_NOW", "RELEASE_WORLD_PAUSE", "RELEASE_WORLD_THROTTLE", "RELEASE_WORLD_FAIL_WRITE")
STATE = "world.json"
PAUSE_LIMIT = 120.0
"""Real seconds a paused process waits for ``resume`` before it exits 3 (a test that never resumes it)."""


def share(world: World, directory: Path, stack: str, start: datetime) -> None:
    """Write what another process needs to see ``world`` (built here): its endpoint, address book and state."""
    data = {"endpoint": world.session.endpoint, "region": world.session.region, "stack": stack, "start": start.isoformat()}
    _write(directory, {**data, **_state(world)})


def _state(world: World) -> dict[str, Any]:
    fleet = world.services
    return {
        "book": dict(world.book.names),
        "registered": {c.value: list(found) for c, found in world.registered.items()},
        "next_ip": world._next_ip,  # noqa: SLF001 - the world's own state, carried across processes
        "first_weights": world._first_weights,  # noqa: SLF001
        "split": list(world._split) if world._split else None,  # noqa: SLF001
        "ignored": list(world.ignored),
        "cluster": fleet.cluster,
        "services": {c.value: n for c, n in fleet.names.items()},
        "desired": {name: t.desired for name, t in fleet.tasks.items()},
        "rollout": _rollout_state(world.rollout) if world.rollout is not None else None,
    }


def _rollout_state(seam: RolloutSeam) -> dict[str, Any]:
    # A deployment's start as a time of day: each process's monotonic clock starts at 0.
    ago = seam.clock.now().timestamp() - seam.clock.monotonic()
    return {
        "deployments": [{**asdict(d), "started": d.started + ago} for d in seam.deployments],
        "events": [list(e) for e in seam.events], "cluster": seam.cluster, "service": seam.service,
        "alarms": list(seam.alarms), "bake_seconds": seam.bake_seconds, "desired": seam.desired,
    }


def _restore_rollout(seam: RolloutSeam, data: Mapping[str, Any]) -> None:
    ago = seam.clock.now().timestamp() - seam.clock.monotonic()
    seam.deployments = [Deployment(**{**d, "started": float(d["started"]) - ago}) for d in data["deployments"]]
    seam.events = [(float(at), str(ident), str(what)) for at, ident, what in data["events"]]
    seam.cluster, seam.service = str(data["cluster"]), str(data["service"])
    seam.alarms, seam.bake_seconds, seam.desired = tuple(data["alarms"]), float(data["bake_seconds"]), int(data["desired"])


def _restore(world: World, data: Mapping[str, Any]) -> None:
    world.book.names = dict(data["book"])
    world.registered = {Colour(c): (str(v), str(ip)) for c, (v, ip) in data["registered"].items()}
    world._next_ip = int(data["next_ip"])  # noqa: SLF001 - the world's own state, carried across processes
    world._first_weights = {str(k): int(v) for k, v in data["first_weights"].items()}  # noqa: SLF001
    world._split = (str(data["split"][0]), int(data["split"][1])) if data["split"] else None  # noqa: SLF001
    world.ignored = list(data["ignored"])
    fleet = world.services
    fleet.cluster = str(data["cluster"])
    fleet.names = {Colour(c): str(n) for c, n in data["services"].items()}
    by_name = {n: c for c, n in fleet.names.items()}
    # Tasks start at once here (start_seconds 0): each process's clock is its own, so none can time another's start.
    fleet.tasks = {name: Tasks(by_name[name], int(d), int(d), 0.0) for name, d in data["desired"].items()}
    if world.rollout is not None and data.get("rollout"):
        _restore_rollout(world.rollout, data["rollout"])


def _read(directory: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((directory / STATE).read_text())
    return found


def _write(directory: Path, data: Mapping[str, Any]) -> None:
    temp = directory / f".{STATE}.{os.getpid()}"
    temp.write_text(json.dumps(data, indent=2, sort_keys=True))
    temp.replace(directory / STATE)


def pause(directory: Path) -> None:
    """Say this process is paused, then wait (real time, bounded) until the test resumes it (or kills it)."""
    mine = directory / f"resume-{os.getpid()}"
    (directory / "paused").write_text(str(os.getpid()))
    deadline = time.monotonic() + PAUSE_LIMIT
    while not ((directory / "resume").exists() or mine.exists()):
        if time.monotonic() > deadline:
            sys.stderr.write(f"paused for {PAUSE_LIMIT:g}s and nobody resumed it ({directory / 'resume'})\n")
            os._exit(3)
        time.sleep(0.02)
    # Its own resume is used up: the process's next point stops it again.
    mine.unlink(missing_ok=True)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _points(given: str) -> list[tuple[str, str]]:
    """``RELEASE_WORLD_PAUSE``'s points, in order; a one-line error naming the variable, the value and what is allowed."""
    points = [p.partition(":")[::2] for p in given.split(";")] if given else []
    for when, text in points:
        if not (when in ("before", "after") and text or when == "minute" and _number(text)
                or when == "write" and text.isdigit() and int(text) > 0):
            sys.exit(f"{PAUSE}={given!r}: allowed before:TEXT, after:TEXT, minute:N (minutes) or write:N (N from 1), "
                     "several separated by ';'")
    return points


class _Pauses:
    """Where this process stops (``RELEASE_WORLD_PAUSE``: each point once, in order), and the update that arms the failing write."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.points = _points(os.environ.get(PAUSE, ""))
        self.writes = 0
        self.fail_after = os.environ.get(FAIL_WRITE, "")
        self.fail_armed = False

    def _reached(self, when: str, at: Callable[[str], bool]) -> None:
        # Only the next point counts: a later one is not reached before it.
        if self.points and self.points[0][0] == when and at(self.points[0][1]):
            self.points.pop(0)
            pause(self.directory)

    def at_update(self, when: str, message: str) -> None:
        if when == "before" and self.fail_after and self.fail_after in message:
            self.fail_armed = True
        self._reached(when, lambda text: text in message)

    def at_minute(self, minutes: float) -> None:
        self._reached("minute", lambda text: minutes >= float(text))

    def at_write(self) -> None:
        self.writes += 1
        self._reached("write", lambda text: self.writes == int(text))


class PausingClock(ScheduledClock):
    """A manual clock (running what is scheduled on it) that pauses the process at its ``minute:N`` points."""

    def __init__(self, start: datetime, pauses: _Pauses) -> None:
        super().__init__(start)
        self.pauses = pauses

    def sleep(self, seconds: float) -> None:
        """Advance, then pause if the clock has passed the pause's minute."""
        super().sleep(seconds)
        self.pauses.at_minute(self.monotonic() / 60)


class SharedEngine(OfflineEngine):
    """The offline engine over the shared state file, whose updates bring the shared world in line, one at a time."""

    world: World
    directory: Path
    pauses: _Pauses

    def _update(self, message: str, targets: Sequence[str] | None) -> UpdateResult:
        # Inside the update lock: no other process's update runs, so the world read here is the world.
        _restore(self.world, _read(self.directory))
        self.pauses.at_update("before", message)
        result = super()._update(message, targets)
        self.pauses.at_update("after", message)
        return result


class SeamStore:
    """The file store, with this process's faults: a pause before its Nth write, a failing write after the armed update."""

    def __init__(self, inner: Any, pauses: _Pauses) -> None:
        self.inner = inner
        self.name = inner.name
        self.pauses = pauses

    def read(self) -> tuple[dict[str, str], str]:
        """The file store's values and tag."""
        found: tuple[dict[str, str], str] = self.inner.read()
        return found

    def write(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        """Pause at the Nth write (``write:N``); fail once when armed; otherwise the file store's compare-and-set."""
        self.pauses.at_write()
        if self.pauses.fail_armed:
            self.pauses.fail_armed = False
            self.pauses.fail_after = ""
            msg = f"writing the release state ({self.name})"
            raise StateStoreError(msg, "the store did not answer (injected by RELEASE_WORLD_FAIL_WRITE)", "retry")
        tag: str = self.inner.write(changes, removals, expect_etag)
        return tag


class SharedRehearsalEngine(RehearsalEngine):
    """Outputs translated with the address book as the shared world holds it now (a new task definition, say)."""

    directory: Path

    def outputs(self) -> dict[str, Any]:
        """The offline outputs in moto's identifiers."""
        _restore(self.world, _read(self.directory))
        return super().outputs()


def started(colour: Colour, version: str) -> bool:
    """A colour's tasks of a new version start and pass their health checks (no application process here)."""
    return True


def always_ok(url: str, headers: Mapping[str, str] | None = None) -> int:
    """The smoke tests' probe here: the application answers."""
    return 200


def _throttle(aws: Any, operation: str) -> None:
    def refuse(model: Any, **_: Any) -> None:
        if model.name == operation:
            response: Any = {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
            raise ClientError(response, operation)

    for wrapper in (aws.elbv2, aws.cloudwatch, aws.ecs, aws.rds, aws.sns):
        wrapper.client.meta.events.register("before-call", refuse)


def _rollout(config: Mapping[str, str], stack: str, session: MotoSession, clock: ScheduledClock) -> RolloutSeam | None:
    """A rolling stack's live colour is rolled by ECS, which moto does not do: the rehearsal's seam does it here too."""
    try:
        release = load(config, stack).release
    except ConfigError:
        return None  # the command refuses the config itself, saying why
    return RolloutSeam(session, clock, release.live, started) if release.strategy is Strategy.ROLLING else None


def connection(directory: Path) -> Any:
    """The driver's connection to the world in ``directory``, as this process's environment sets it."""
    from release.commands import driver
    from release.context import Aws

    data = _read(directory)
    pauses = _Pauses(directory)
    start = datetime.fromisoformat(os.environ.get(NOW) or data["start"])
    clock = PausingClock(start, pauses)
    session = MotoSession(str(data["endpoint"]), str(data["region"]))
    offline = SharedEngine(str(data["stack"]), state_path=directory / f"{data['stack']}.json", clock=clock)
    rollout = _rollout(offline.get_config(), str(data["stack"]), session, clock)
    world = World(session, clock, "http://127.0.0.1:9", rollout=rollout)  # the endpoint's translation is in the book
    world.services.start_seconds = 0.0
    _restore(world, data)
    world.services.attach()
    if rollout is not None:
        rollout.attach()
    offline.world, offline.directory, offline.pauses = world, directory, pauses
    offline.store = SeamStore(offline.store, pauses)

    def apply(plan: Plan, result: UpdateResult) -> None:
        world.apply(plan, result)
        _write(directory, {**_read(directory), **_state(world)})

    offline.hooks.append(apply)
    engine = SharedRehearsalEngine(offline, world)
    engine.directory = directory
    aws = replace(Aws.from_session(session, clock), cloudwatch=HealthyTraffic(session, clock))
    if os.environ.get(THROTTLE):
        _throttle(aws, os.environ[THROTTLE])
    return driver.Connection(engine, aws, clock, RehearsalTaskRunner(session), always_ok)


@contextmanager
def holding_the_stack(directory: Path, stack: str, holder: str) -> Iterator[None]:
    """Hold the stack's update lock from this process, as another update (a push's Deployments run) would."""
    with (directory / f"{stack}.json.update.lock").open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(holder)
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def main() -> None:
    """``python -m release`` with the world of ``$RELEASE_WORLD``."""
    from release.cli import main as release_main
    from release.commands import driver

    directory = Path(os.environ[WORLD])
    driver.CONNECT = lambda stack: connection(directory)
    release_main()


if __name__ == "__main__":
    main()
