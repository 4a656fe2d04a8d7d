"""A small SVG line chart for the release report: panels sharing a time axis, step marks, a verdict strip."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

WIDTH, LEFT, RIGHT, TOP = 960, 70, 190, 20
PANEL, GAP, STRIP = 140, 34, 14
PANELS = (("weight", "candidate weight (%)"), ("errors", "5xx and error-line rate (% of requests)"), ("latency", "latency (ms)"))
VERDICT_COLOURS = {"pass": "#2e9d4f", "undecided": "#e0a800", "fail": "#c62828"}


@dataclass(frozen=True)
class Series:
    """One line: which panel, its label and unit, its (minute, value) points and colour."""

    panel: str
    label: str
    unit: str
    points: list[tuple[float, float]]
    colour: str


def _ticks(top: float) -> list[float]:
    if top <= 0:
        return [0.0]
    raw = top / 4
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 0.1
    for step in (1, 2, 2.5, 5, 10):
        if raw <= step * magnitude:
            size = step * magnitude
            break
    else:
        size = raw
    return [i * size for i in range(int(top / size) + 2) if i * size <= top * 1.0001]


def chart(series: list[Series], marks: list[tuple[float, str]], verdicts: list[tuple[float, str]], stopped: float,
          outcome: str) -> str:
    """The SVG: one panel per kind of series, step marks, the verdict of each poll, and where it stopped."""
    span = max([stopped, *(x for s in series for x, _ in s.points)], default=1.0) or 1.0
    plot_w = WIDTH - LEFT - RIGHT
    height = TOP + len(PANELS) * (PANEL + GAP) + STRIP + 40

    def x_of(minute: float) -> float:
        return LEFT + plot_w * minute / span

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
           'font-family="sans-serif" font-size="11">', f'<rect width="{WIDTH}" height="{height}" fill="white"/>']
    for i, (panel, title) in enumerate(PANELS):
        top = TOP + i * (PANEL + GAP)
        members = [s for s in series if s.panel == panel]
        peak = 100.0 if panel == "weight" else max([v for s in members for _, v in s.points] + [0.0]) * 1.2 or 1.0
        out.append(f'<text x="{LEFT}" y="{top - 6}" font-weight="bold">{html.escape(title)}</text>')
        out.append(f'<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{PANEL}" fill="none" stroke="#ccc"/>')
        for tick in _ticks(peak):
            y = top + PANEL - PANEL * tick / peak
            out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
            out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
        for j, s in enumerate(members):
            if s.points:
                shape = "step" if panel == "weight" else "line"
                out.append(_polyline(s, x_of, top, peak, shape))
            out.append(f'<line x1="{WIDTH - RIGHT + 14}" x2="{WIDTH - RIGHT + 34}" y1="{top + 12 + 16 * j}" '
                       f'y2="{top + 12 + 16 * j}" stroke="{s.colour}" stroke-width="2"/>')
            out.append(f'<text x="{WIDTH - RIGHT + 40}" y="{top + 16 + 16 * j}">{html.escape(s.label)}</text>')
    bottom = TOP + len(PANELS) * (PANEL + GAP) - GAP
    for minute, label in marks:
        x = x_of(minute)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{bottom}" stroke="#999" stroke-dasharray="3,3"/>')
        out.append(f'<text x="{x + 2:.1f}" y="{TOP + 10}" fill="#777">{html.escape(label)}</text>')
    strip = bottom + 10
    out.append(f'<text x="{LEFT - 6}" y="{strip + 11}" text-anchor="end">verdict</text>')
    for k, (minute, state) in enumerate(verdicts):
        nxt = verdicts[k + 1][0] if k + 1 < len(verdicts) else minute + span / 200
        out.append(f'<rect x="{x_of(minute):.1f}" y="{strip}" width="{max(1.0, x_of(nxt) - x_of(minute)):.1f}" '
                   f'height="{STRIP}" fill="{VERDICT_COLOURS.get(state, "#999")}"/>')
    end_colour = "#2e9d4f" if outcome == "promoted" else "#c62828"
    x = x_of(stopped)
    out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{strip + STRIP}" stroke="{end_colour}" stroke-width="2"/>')
    out.append(f'<text x="{x - 4:.1f}" y="{strip + STRIP + 14}" text-anchor="end" fill="{end_colour}" font-weight="bold">'
               f'{html.escape(outcome)} at {stopped:.1f} min</text>')
    out.append(f'<text x="{LEFT + plot_w}" y="{strip + STRIP + 28}" text-anchor="end">minutes since the first poll</text>')
    out.append("</svg>")
    return "\n".join(out)


def _polyline(s: Series, to_x: Callable[[float], float], top: float, peak: float, shape: str) -> str:
    points: list[str] = []
    previous: float | None = None
    for minute, value in s.points:
        y = top + PANEL - PANEL * min(value, peak) / peak
        if shape == "step" and previous is not None:
            points.append(f"{to_x(minute):.1f},{previous:.1f}")
        points.append(f"{to_x(minute):.1f},{y:.1f}")
        previous = y
    return f'<polyline fill="none" stroke="{s.colour}" stroke-width="2" points="{" ".join(points)}"/>'
