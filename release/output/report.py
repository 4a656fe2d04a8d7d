"""The report of one release: an HTML file with an SVG chart drawn here, no scripts and no network.

``Recorder`` is a ``Reporter`` that keeps every step, note and bake poll (and
passes them on to the panel or the JSON lines). ``write`` turns what it kept
into ``<reports>/<stack>/<release id>.html``: the candidate's weight over time
with each colour's 5xx rate and latency, a strip with the verdict of every poll,
where the release stopped, and the table of every poll's verdict. ``python -m
release history`` names the file of each release (``report_path``).
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from release.clock import Clock
from release.context import Poll, Reporter
from release.judgement.analysis import FAIL
from release.output.report_svg import Series, chart
from release.strategies.steps import Step

REPORTS_ENV = "RELEASE_REPORTS_DIR"
DEFAULT_REPORTS = Path(".release") / "reports"


def reports_dir() -> Path:
    """Where reports are written: ``$RELEASE_REPORTS_DIR``, else ``.release/reports`` under the working directory."""
    return Path(os.environ.get(REPORTS_ENV) or DEFAULT_REPORTS)


def report_path(stack: str, release_id: str) -> Path:
    """The report file of one release."""
    return reports_dir() / stack / f"{release_id}.html"


@dataclass
class Recorder:
    """Keeps what a release showed, and passes every event on to ``inner``.

    Steps and notes are kept with the number of polls seen before them (the
    chart places step marks at the next poll) and, given the driver's clock,
    with the time they happened; without one the report shows "by" the next poll's time.
    """

    inner: Reporter
    clock: Clock | None = None
    steps: list[tuple[int, datetime | None, str]] = field(default_factory=list)
    notes: list[tuple[int, datetime | None, str]] = field(default_factory=list)
    polls: list[Poll] = field(default_factory=list)

    def _now(self) -> datetime | None:
        return self.clock.now() if self.clock is not None else None

    def step(self, index: int, total: int, step: Step) -> None:
        """A step starts."""
        self.steps.append((len(self.polls), self._now(), f"[{index}/{total}] {step.describe()}"))
        self.inner.step(index, total, step)

    def note(self, text: str) -> None:
        """Something worth showing."""
        self.notes.append((len(self.polls), self._now(), text))
        self.inner.note(text)

    def bake(self, poll: Poll) -> None:
        """One poll of a bake."""
        self.polls.append(poll)
        self.inner.bake(poll)


@dataclass(frozen=True)
class Ending:
    """How the release ended, for the report's heading."""

    stack: str
    release: str
    version: str
    outcome: str
    failed_step: str | None = None
    why: str | None = None


def _series(polls: list[Poll], start: datetime) -> list[Series]:
    def minutes(p: Poll) -> float:
        return (p.at - start).total_seconds() / 60

    colours = sorted({c for p in polls for c in p.weights})
    found = [Series("weight", "candidate weight", "%", [(minutes(p), float(p.weights.get(p.candidate, 0))) for p in polls],
                    "#555")]
    for colour in colours:
        tone = "#1f6fd1" if colour == "blue" else "#1a9e4b"
        rates = [(minutes(p), 100 * (p.verdict.candidate if p.candidate == colour else p.verdict.live).error_rate) for p in polls]
        found.append(Series("errors", f"{colour} 5xx rate", "%", rates, tone))
        lines = [(minutes(p), 100 * v) for p in polls
                 if (v := (p.verdict.candidate if p.candidate == colour else p.verdict.live).error_line_rate) is not None]
        if lines:
            found.append(Series("errors", f"{colour} error lines", "%", lines, "#7fb0ee" if colour == "blue" else "#86d19f"))
        latency = [(minutes(p), 1000 * v) for p in polls
                   if (v := (p.verdict.candidate if p.candidate == colour else p.verdict.live).latest_latency) is not None]
        found.append(Series("latency", f"{colour} latency", "ms", latency, tone))
    return found


def render(recorder: Recorder, ending: Ending) -> str:
    """The report as one HTML document."""
    polls = recorder.polls
    start = polls[0].at if polls else datetime.now(UTC)
    end = polls[-1].at if polls else start

    def at(seen: int, when: datetime | None) -> str:
        if when is not None:
            return f"{when:%H:%M:%S}"
        return f"by {polls[seen].at:%H:%M:%S}" if seen < len(polls) else "after the last poll"

    marks = [((polls[seen].at - start).total_seconds() / 60, f"{polls[seen].weights.get(polls[seen].candidate, 0)}%")
             for seen, _, text in recorder.steps
             if seen < len(polls) and text.split("] ", 1)[-1].startswith("bake")]
    verdicts = [((p.at - start).total_seconds() / 60, _state(p)) for p in polls]
    stopped = (end - start).total_seconds() / 60
    svg = chart(_series(polls, start), marks, verdicts, stopped, ending.outcome) if polls else "<p>No bake polls were recorded.</p>"
    heading = f"{ending.stack}: release {ending.release} of {ending.version} — {ending.outcome}"
    why = f"<p class='why'>stopped at <b>{html.escape(ending.failed_step or '')}</b>: {html.escape(ending.why)}</p>" if ending.why else ""
    rows = "".join(
        f"<tr class='{_state(p)}'><td>{p.at:%H:%M:%S}</td><td>{p.weights.get(p.candidate, 0)}%</td>"
        f"<td>{_state(p)}</td><td>{html.escape(p.verdict.summary)}</td></tr>" for p in polls
    )
    steps = "".join(f"<li><code>{at(seen, when)}</code> {html.escape(text)}</li>" for seen, when, text in recorder.steps)
    notes = "".join(f"<li><code>{at(seen, when)}</code> {html.escape(text)}</li>" for seen, when, text in recorder.notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(heading)}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 18px; }} .why {{ color: #b00020; }}
table {{ border-collapse: collapse; font-size: 12px; }} td, th {{ padding: 2px 8px; border-bottom: 1px solid #eee; text-align: left; }}
tr.fail td {{ background: #fde7e9; }} tr.undecided td {{ background: #fff8e1; }}
</style></head><body>
<h1>{html.escape(heading)}</h1>{why}
<p>From {start:%Y-%m-%d %H:%M:%S} to {end:%H:%M:%S} UTC; {len(polls)} polls. Rates and the median latency are over the
release so far (the candidate since the first shift, live since the baseline before it); the latency drawn is each
poll's last per-minute sample.</p>
{svg}
<h2>Steps</h2><ol>{steps}</ol>
<h2>Notes</h2><ul>{notes}</ul>
<h2>Verdict at each poll</h2>
<table><tr><th>time</th><th>candidate weight</th><th>verdict</th><th>figures, test and p-value</th></tr>{rows}</table>
</body></html>
"""


def _state(poll: Poll) -> str:
    if not poll.verdict.ok:
        return FAIL
    return "undecided" if poll.verdict.undecided else "pass"


def write(recorder: Recorder, ending: Ending, path: Path | None = None) -> Path:
    """Write the report; return its path."""
    target = path or report_path(ending.stack, ending.release)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(recorder, ending), encoding="utf-8")
    return target
