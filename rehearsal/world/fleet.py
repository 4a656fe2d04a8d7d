"""The rehearsal's fleet: one application process per colour on 127.0.0.1, started when its version changes.

The world starts a colour's process when the stack deploys a new version of it (and at the start, for what
is already deployed). A process that crashes on start leaves the colour without a target, as ECS tasks that
never pass their health checks do; one that is killed later leaves a registered target that answers nothing.
Each process writes its request log to a file of its own (``Fleet.logs``), as a task writes to its container's
output; the rehearsal ships those lines to the colour's log group (``rehearsal/world/logs.py``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from components.config import Colour
from rehearsal.world.app import LogFields

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
    error_log_rate: float = 0.0
    """Share of the requests answered 200 that still fail inside: their access line is an error (a noisy release).
    Default none."""
    error_lines: int = 1
    """Error lines each failing request writes in all: its access line and this many less one before it. Default 1."""

    def arguments(self, colour: Colour, seed: int) -> list[str]:
        """The command line of ``rehearsal.world.app`` for this behaviour."""
        args = [
            "--colour", colour.value, "--error-rate", str(self.error_rate), "--latency-ms", str(self.latency_ms),
            "--added-latency-ms", str(self.added_latency_ms), "--spread", str(self.spread), "--seed", str(seed),
            "--error-log-rate", str(self.error_log_rate), "--error-lines", str(self.error_lines),
        ]
        return [*args, "--crash-on-start"] if self.crash_on_start else args


@dataclass(frozen=True)
class AppLog:
    """One process's request log: its colour, the log stream it is shipped to, its file."""

    colour: Colour
    stream: str
    path: Path


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
    log_fields: LogFields = field(default_factory=LogFields)
    """The field names the stack's ``monitoring:logs`` reads. Default: its defaults."""
    running: dict[Colour, Running] = field(default_factory=dict)
    starts: list[tuple[Colour, str, bool]] = field(default_factory=list)
    logs: list[AppLog] = field(default_factory=list)
    """Every started process's request log, in start order."""
    _dir: tempfile.TemporaryDirectory[str] | None = None

    def start(self, colour: Colour, version: str) -> bool:
        """Replace ``colour``'s process with one of ``version``; False when it crashed on start."""
        self.stop(colour)
        behaviour = self.behaviours.get(version, self.default)
        seed = self.seed * 100 + len(self.starts)
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="rehearsal-logs-")
        # The stream name of an ECS task's awslogs driver: prefix/container/task id.
        log = AppLog(colour, f"app/{colour.value}/{len(self.starts) + 1}", Path(self._dir.name) / f"{len(self.starts) + 1}.log")
        fields = self.log_fields
        command = [
            sys.executable, "-m", "rehearsal.world.app", *behaviour.arguments(colour, seed), "--log-file", str(log.path),
            "--level-field", fields.level, "--message-field", fields.message, "--duration-field", fields.duration,
            "--error-level", fields.error_level,
        ]
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
        self.logs.append(log)
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
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
