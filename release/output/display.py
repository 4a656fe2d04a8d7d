"""What people see: the dry run (a display-only executor) and the live progress of a release."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from release.context import Poll
from release.strategies.planner import expected_seconds
from release.strategies.steps import Step


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class DryRun:
    """The display-only executor: shows each step, the config it would set and how long it should take."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def run(self, steps: list[Step], title: str) -> dict[str, Any]:
        """Print the plan; return it as data. Nothing is changed."""
        table = Table(title=title, show_lines=False)
        table.add_column("#", justify="right")
        table.add_column("step")
        table.add_column("config change")
        table.add_column("expected", justify="right")
        for i, step in enumerate(steps, start=1):
            change = ", ".join(f"{k}={v}" for k, v in step.config_change().items()) or "-"
            table.add_row(str(i), step.describe(), change, _duration(step.expected_seconds()))
        self.console.print(table)
        self.console.print(f"expected duration: {_duration(expected_seconds(steps))}; dry run: nothing was changed")
        return as_data(steps)


def as_data(steps: list[Step]) -> dict[str, Any]:
    """The plan as JSON-ready data."""
    return {
        "steps": [
            {"step": s.name, "describe": s.describe(), "config": dict(s.config_change()), "expected_seconds": s.expected_seconds()}
            for s in steps
        ],
        "expected_seconds": expected_seconds(steps),
    }


class ConsoleReporter:
    """Progress for people: each step, notes, and a bake line with the time left, weights and alarm states."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._last_bake = -1.0
        self._last_summary = ""

    def step(self, index: int, total: int, step: Step) -> None:
        """A step starts."""
        self._last_bake = -1.0
        self._last_summary = ""
        self.console.print(f"[bold][{index}/{total}][/bold] {step.describe()}")

    def note(self, text: str) -> None:
        """Something worth showing."""
        self.console.print(f"      {text}")

    def bake(self, poll: Poll) -> None:
        """One poll of a bake: shown once a minute, and whenever an alarm or a test is not OK."""
        minute = (poll.remaining + poll.overtime) // 60
        bad = {n: s for n, s in poll.verdict.alarms.items() if s != "OK"}
        if minute == self._last_bake and not bad and poll.verdict.ok:
            return
        self._last_bake = minute
        shown = ", ".join(f"{k} {v}%" for k, v in sorted(poll.weights.items()))
        states = ", ".join(f"{n}={s}" for n, s in bad.items()) or f"{len(poll.verdict.alarms)} alarm(s) OK"
        left = f"{_duration(poll.remaining)} left" if poll.remaining > 0 else f"extended {_duration(poll.overtime)}"
        self.console.print(f"      bake: {left}; {shown}; {states}")
        if poll.verdict.summary != self._last_summary:
            self._last_summary = poll.verdict.summary
            self.console.print(f"        {poll.verdict.summary}", markup=False)
