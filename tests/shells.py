"""Two shells, one stack: a world built once, every command a process of its own (``python -m rehearsal.world.shell``).

``build`` makes the world (moto, the stack's AWS side, the offline engine's state files) and ``rewind`` puts it back
as built before each test; ``start`` and ``run`` are shells; ``paused``, ``resume_paused`` and ``killed`` drive the
seam's pause points (``rehearsal/world/shell.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from components.config.release_record import ReleaseRecord
from offline.stacks import ROOT
from rehearsal.world import shell
from rehearsal.world.servers import Moto, MotoSession
from rehearsal.world.stack import World
from release.clock import ManualClock
from release.engine.offline import OfflineEngine
from release.state import record as records

START = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
VERSIONS = '{"blue":"3f9c2e1a","green":"4a5b6c7d"}'
STACK = "staging"
DEPLOY = ("deploy", "--version", "5e6f7a8b", "--bake", "1", "--yes")


@dataclass
class Base:
    """The world as built, and what puts moto back to it."""

    session: MotoSession
    directory: Path
    snapshot: Path
    listener: str
    weights: dict[str, int]
    groups: dict[str, str]
    targets: dict[str, list[str]]
    desired: dict[str, int]
    cluster: str
    cache: Path
    task_definitions: dict[str, str]
    """Service name -> the task definition it runs as built (a rolling release points the live service at others)."""


@contextmanager
def build(made: Callable[[str], Path]) -> Iterator[Base]:
    """The world, built once; ``made`` makes a directory (pytest's ``tmp_path_factory.mktemp``)."""
    with Moto("eu-west-1") as session:
        directory = made("world")
        clock = ManualClock(START)
        engine = OfflineEngine(STACK, state_path=directory / f"{STACK}.json", clock=clock)
        world = World(session, clock, "http://127.0.0.1:9")
        world.build(engine.plan())
        engine.hooks.append(world.apply)
        # A one-minute backup window: the window is the subject of one test only, and that one sets its own.
        engine.set_config({"release:versions": VERSIONS, "release:backupMinutes": "1"})
        engine.update("deploy 4a5b6c7d to green")
        shell.share(world, directory, STACK, START)
        outputs = world.outputs(engine.outputs())
        groups = {c: str(a) for c, a in outputs["target_group_arns"].items()}
        elb = session.shared("elbv2")
        snapshot = made("snapshot")
        for path in directory.iterdir():
            if path.is_file():
                shutil.copy2(path, snapshot / path.name)
        yield Base(
            session, directory, snapshot, str(outputs["listener_arn"]), world.elbv2.forward_weights(str(outputs["listener_arn"])),
            groups, {c: [t["Target"]["Id"] for t in elb.describe_target_health(TargetGroupArn=a)["TargetHealthDescriptions"]]
                     for c, a in groups.items()},
            {name: t.desired for name, t in world.services.tasks.items()}, world.services.cluster,
            made("plan-cache"),
            {s["serviceName"]: s["taskDefinition"] for s in session.shared("ecs").describe_services(
                cluster=world.services.cluster, services=list(world.services.tasks))["services"]},
        )



def rewind(base: Base) -> Base:
    """The world as built: the state files copied back; moto's listener, targets, service counts and task definitions put back."""
    for path in base.directory.iterdir():
        if path.is_file():
            path.unlink()
    for path in base.snapshot.iterdir():
        shutil.copy2(path, base.directory / path.name)
    elb = base.session.shared("elbv2")
    elb.modify_listener(ListenerArn=base.listener, DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": arn, "Weight": weight} for arn, weight in base.weights.items()]}}])
    for colour, arn in base.groups.items():
        now = [t["Target"]["Id"] for t in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]]
        if now:
            elb.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": i, "Port": 8080} for i in now])
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": i, "Port": 8080} for i in base.targets[colour]])
    ecs = base.session.shared("ecs")
    for name, count in base.desired.items():
        ecs.update_service(cluster=base.cluster, service=name, desiredCount=count, taskDefinition=base.task_definitions[name])
    return base


def env(base: Base, who: str, **extra: str) -> dict[str, str]:
    """A shell's environment: the world, its own name (as CI names a run), and the faults it carries."""
    return {
        **os.environ, shell.WORLD: str(base.directory), "RELEASE_PLAN_CACHE": str(base.cache), "COLUMNS": "300",
        "GITHUB_RUN_ID": who, "GITHUB_ACTOR": who, **extra,
    }


def start(base: Base, who: str, *args: str, **extra: str) -> subprocess.Popen[str]:
    """A shell running ``python -m release ARGS`` against the world, in the background."""
    return subprocess.Popen(  # noqa: S603 - this interpreter, our module
        [sys.executable, "-m", "rehearsal.world.shell", *args, "--stack", STACK],
        cwd=ROOT, env=env(base, who, **extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@dataclass
class Done:
    """A finished shell: its exit code and what it printed."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        """Everything it printed, on one line."""
        return " ".join((self.out + " " + self.err).split())

    def json(self) -> Any:
        """Its standard output as JSON."""
        return json.loads(self.out)


def finish(proc: subprocess.Popen[str]) -> Done:
    """Wait for a shell; it never prints a traceback."""
    out, err = proc.communicate(timeout=300)
    done = Done(proc.returncode, out, err)
    assert "Traceback" not in out + err, out + err
    return done


def run(base: Base, who: str, *args: str, **extra: str) -> Done:
    """A shell run to its end."""
    return finish(start(base, who, *args, **extra))


def paused(base: Base, proc: subprocess.Popen[str]) -> None:
    """Wait (real time, bounded) until a shell stops at its pause point."""
    deadline = time.monotonic() + 240
    marker = base.directory / "paused"
    while not (marker.exists() and marker.read_text() == str(proc.pid)):
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the shell ended (exit {proc.returncode}) before its pause point: {out}{err}")
        assert time.monotonic() < deadline, "the shell never reached its pause point"
        time.sleep(0.05)


def resume_paused(base: Base, proc: subprocess.Popen[str] | None = None) -> None:
    """Let every paused shell go on, or only ``proc``."""
    (base.directory / ("resume" if proc is None else f"resume-{proc.pid}")).write_text("go")


def state(base: Base) -> dict[str, str]:
    """The release state as the file store holds it now."""
    values: dict[str, str] = json.loads((base.directory / f"{STACK}.release.json").read_text())["values"]
    return values


def last_release(base: Base) -> ReleaseRecord:
    """The last release the file store holds now (there must be one)."""
    last = records.decode(state(base).get(records.LAST_RELEASE))
    assert last is not None, "no last release is recorded"
    return last


def served(base: Base) -> dict[str, int]:
    """Colour -> percent moto's listener serves now."""
    action = base.session.shared("elbv2").describe_listeners(ListenerArns=[base.listener])["Listeners"][0]["DefaultActions"][0]
    groups = action["ForwardConfig"]["TargetGroups"]
    total = sum(int(g["Weight"]) for g in groups) or 1
    by_arn = {a: c for c, a in base.groups.items()}
    return {by_arn[g["TargetGroupArn"]]: round(100 * int(g["Weight"]) / total) for g in groups}


def killed(proc: subprocess.Popen[str]) -> None:
    """SIGKILL a shell at its pause point: nothing it would have done next happens, and no handler runs."""
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def driver_killed_before(w: Base, text: str) -> None:
    """A release whose driver was killed inside the first update whose message holds ``text``: in progress, undriven."""
    driver = start(w, "alice", *DEPLOY, **{shell.PAUSE: f"before:{text}"})
    paused(w, driver)
    killed(driver)
    (w.directory / "paused").unlink()


def held(w: Base) -> ReleaseRecord:
    """The release in progress, as the file store holds it now (it must be there)."""
    found = records.decode(state(w).get(records.IN_PROGRESS))
    assert found is not None, state(w)
    return found


def set_config(w: Base, **values: str) -> None:
    """Set stack config keys as ``pulumi config set`` would (kept in the shared state file)."""
    OfflineEngine(STACK, state_path=w.directory / f"{STACK}.json").set_config({f"release:{k}": v for k, v in values.items()})

