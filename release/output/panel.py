"""What people see while a release runs: a live panel in a terminal, JSON lines for CI logs.

The panel (rich ``Live``) redraws on every event: the step, a weights bar, each
colour's requests, 5xx rate and latency since the first shift, the candidate's
alarm states, the bake countdown (or how long the low-traffic rule has extended
it) and the latest verdict of each test. ``JsonLines`` writes one JSON object a
line per event instead, for logs that are read by machines.
"""

from __future__ import annotations

import json
import sys
from collections import deque
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from release.context import Poll
from release.judgement.analysis import FAIL, PASS, Figures
from release.strategies.steps import Step

BAR_WIDTH = 40
STATE_STYLE = {PASS: "green", FAIL: "bold red", "undecided": "yellow", "OK": "green", "ALARM": "bold red",
               "MISSING": "bold red", "INSUFFICIENT_DATA": "yellow"}


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def weights_bar(weights: dict[str, int], width: int = BAR_WIDTH) -> Text:
    """``blue ████████░░ 90% | green ░ 10%`` as one line, each colour in its own style."""
    bar = Text()
    cells = 0
    ordered = sorted(weights.items())
    for i, (colour, weight) in enumerate(ordered):
        share = width - cells if i == len(ordered) - 1 else round(width * weight / 100)
        cells += share
        # Shapes as well as colours, so the bar reads in a plain-text log too.
        bar.append(("█", "▒")[i % 2] * share, style=colour)
    bar.append("  " + " | ".join(f"{c} {w}%" for c, w in ordered))
    return bar


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


class LivePanel:
    """The live panel of a release: a ``Reporter`` drawn with rich ``Live``; use it as a context manager."""

    def __init__(self, console: Console, title: str) -> None:
        self.console = console
        self.title = title
        self.step_line = "starting"
        self.poll: Poll | None = None
        self.notes: deque[str] = deque(maxlen=5)
        self.live = Live(console=console, get_renderable=self.render, refresh_per_second=4, transient=False)

    def __enter__(self) -> LivePanel:
        self.live.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.live.stop()

    def step(self, index: int, total: int, step: Step) -> None:
        """A step starts."""
        self.step_line = f"[{index}/{total}] {step.describe()}"
        if step.name != "bake":
            self.poll = self.poll if step.name == "shift" else None
        self.live.refresh()

    def note(self, text: str) -> None:
        """Something worth showing."""
        self.notes.append(text)
        self.live.refresh()

    def bake(self, poll: Poll) -> None:
        """One poll of a bake."""
        self.poll = poll
        self.live.refresh()

    def render(self) -> RenderableType:
        """The panel as it stands."""
        parts: list[RenderableType] = [Text(self.step_line, style="bold")]
        if self.poll is not None:
            parts.extend(self._bake_parts(self.poll))
        parts.extend(Text(f"· {n}", style="dim") for n in self.notes)
        return Panel(Group(*parts), title=self.title, expand=True)

    def _bake_parts(self, poll: Poll) -> list[RenderableType]:
        verdict = poll.verdict
        candidate = poll.candidate
        # The last poll of a bake has nothing left and no overtime: only a bake past its end has been extended.
        clock = (f"bake extended {_duration(poll.overtime)} for the minimum sample (low traffic)" if poll.overtime > 0
                 else f"bake: {_duration(poll.remaining)} left")
        table = Table(box=None, pad_edge=False, show_edge=False)
        for heading in ("colour", "weight", "requests", "5xx", "5xx rate", "error lines", "latency (last min)", "latency (median)"):
            table.add_column(heading, justify="left" if heading == "colour" else "right")
        for colour, figures in sorted(((candidate, verdict.candidate), (_other(poll, candidate), verdict.live))):
            table.add_row(*self._row(colour, poll.weights.get(colour, 0), figures, colour == candidate))
        alarms = Text("alarms: ")
        for name, state in verdict.alarms.items() or {"(none exported)": ""}.items():
            alarms.append(f"{name} ", style="dim")
            alarms.append(f"{state}  ", style=STATE_STYLE.get(state, ""))
        tests = [Text.assemble((f"{c.name}: ", "bold"), (c.state.upper(), STATE_STYLE.get(c.state, "")), f"  {c.summary}")
                 for c in verdict.checks]
        return [weights_bar(poll.weights), table, alarms, Text(clock, style="cyan"), *tests]

    @staticmethod
    def _row(colour: str, weight: int, figures: Figures, is_candidate: bool) -> tuple[str, ...]:
        label = f"{colour} (candidate)" if is_candidate else f"{colour} (live)"
        lines = "-" if figures.error_line_rate is None else f"{figures.error_line_rate:.2%}"
        return (label, f"{weight}%", f"{figures.requests:,.0f}", f"{figures.errors:,.0f}", f"{figures.error_rate:.2%}",
                lines, _ms(figures.latest_latency), _ms(figures.latency))


def _other(poll: Poll, candidate: str) -> str:
    return next((c for c in poll.weights if c != candidate), "")


class JsonLines:
    """One JSON object a line per event, for CI logs."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr

    def _emit(self, event: dict[str, Any]) -> None:
        self.stream.write(json.dumps(event, separators=(",", ":"), default=str) + "\n")
        self.stream.flush()

    def step(self, index: int, total: int, step: Step) -> None:
        """A step starts."""
        self._emit({"event": "step", "index": index, "total": total, "step": step.name, "describe": step.describe()})

    def note(self, text: str) -> None:
        """Something worth showing."""
        self._emit({"event": "note", "text": text})

    def bake(self, poll: Poll) -> None:
        """One poll of a bake."""
        verdict = poll.verdict
        self._emit({
            "event": "poll", "at": poll.at.isoformat(), "remaining_seconds": poll.remaining, "overtime_seconds": poll.overtime,
            "weights": poll.weights, "alarms": dict(verdict.alarms), "ok": verdict.ok,
            "candidate": _figures(verdict.candidate), "live": _figures(verdict.live),
            "checks": [{"name": c.name, "state": c.state, "p_value": c.p_value, "summary": c.summary} for c in verdict.checks],
        })


def _figures(figures: Figures) -> dict[str, Any]:
    return {"requests": figures.requests, "errors": figures.errors, "error_lines": figures.error_lines, "latency_median": figures.latency,
            "latency_last": figures.latest_latency}
