"""The rehearsal's fleet: one application process per colour on 127.0.0.1, started when its version changes.

The world starts a colour's process when the stack deploys a new version of it (and at the start, for what
is already deployed). A process that crashes on start leaves the colour without a target, as ECS tasks that
never pass their health checks do; one that is killed later leaves a registered target that answers nothing.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from components.config import Colour

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 10.0


@dataclass(frozen=True)
class AppBehaviour:
    """How one colour's application answers."""

    error_rate: float = 0.0
    """Share of requests answered 500. Default none."""
    latency_ms: float = 80.0
    """Median service time in milliseconds. Default 80."""
    added_latency_ms: float = 0.0
    """Milliseconds added to the median (a slow release). Default none."""
    spread: float = 0.25
    """Log-normal spread of the service time around its median. Default 0.25."""
    crash_on_start: bool = False
    """The process exits before it listens (its tasks never become healthy). Default no."""

    def arguments(self, colour: Colour, seed: int) -> list[str]:
        """The command line of ``release.rehearsal.app`` for this behaviour."""
        args = [
            "--colour", colour.value, "--error-rate", str(self.error_rate), "--latency-ms", str(self.latency_ms),
            "--added-latency-ms", str(self.added_latency_ms), "--spread", str(self.spread), "--seed", str(seed),
        ]
        return [*args, "--crash-on-start"] if self.crash_on_start else args


@dataclass
class Running:
    """A started process and its port."""

    version: str
    process: subprocess.Popen[str]
    port: int


@dataclass
class Fleet:
    """The application processes of both colours; a version behaves as ``behaviours`` says, else as ``default``."""

    behaviours: dict[str, AppBehaviour]
    default: AppBehaviour = field(default_factory=AppBehaviour)
    seed: int = 1
    running: dict[Colour, Running] = field(default_factory=dict)
    starts: list[tuple[Colour, str, bool]] = field(default_factory=list)

    def start(self, colour: Colour, version: str) -> bool:
        """Replace ``colour``'s process with one of ``version``; False when it crashed on start."""
        self.stop(colour)
        behaviour = self.behaviours.get(version, self.default)
        seed = self.seed * 100 + len(self.starts)
        command = [sys.executable, "-m", "release.rehearsal.app", *behaviour.arguments(colour, seed)]
        process = subprocess.Popen(  # noqa: S603 - our own module, with arguments we built
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("listening "):
            process.wait(timeout=START_TIMEOUT)
            self.starts.append((colour, version, False))
            return False
        self.running[colour] = Running(version, process, int(line.split()[1]))
        self.starts.append((colour, version, True))
        return True

    def port(self, colour: Colour) -> int | None:
        """The port of ``colour``'s live process, or None when it has none or it died."""
        running = self.running.get(colour)
        if running is None or running.process.poll() is not None:
            return None
        return running.port

    def kill(self, colour: Colour) -> None:
        """Kill ``colour``'s process (it dies; its target stays registered)."""
        running = self.running.get(colour)
        if running is not None and running.process.poll() is None:
            running.process.kill()
            running.process.wait(timeout=START_TIMEOUT)

    def stop(self, colour: Colour) -> None:
        """Stop and forget ``colour``'s process."""
        self.kill(colour)
        running = self.running.pop(colour, None)
        if running is not None and running.process.stdout:
            running.process.stdout.close()

    def close(self) -> None:
        """Stop every process."""
        for colour in list(self.running):
            self.stop(colour)

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
