"""An example release report and panel from one simulated release: ``python -m bench.canary_example OUT_DIR``.

The release is the benchmark's doubled-5xx case at 20 requests per second
(live 1%, candidate 2%), judged by the analysis with its defaults, one poll a
minute. The report and the panel are drawn by the driver's own code
(``release/output/report.py``, ``release/output/panel.py``), so they look as a real
release's do.
"""

from __future__ import annotations

import io
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console

from bench.canary_sim import Case, _Traffic
from components.config.release_analysis import AnalysisConfig
from release.context import Poll, SilentReporter
from release.judgement.analysis import decide
from release.output.panel import LivePanel
from release.output.report import Ending, Recorder, write
from release.strategies.steps import Bake

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ALARM = "webapp-staging-green-health"


def example(out: Path, seed: int = 7) -> tuple[Path, str]:
    """Write the report of one simulated release; return its path and the panel at the last poll as text."""
    case, limits = Case(rps=20.0, live_rate=0.01, candidate_rate=0.02), AnalysisConfig()
    traffic = _Traffic(case, random.Random(seed))  # noqa: S311 - a seeded simulation, not secrets
    for _ in range(limits.baseline_minutes):
        traffic.minute(0)
    traffic.total["candidate"], traffic.latency["candidate"] = [0, 0], []
    recorder, minute, outcome, why = Recorder(SilentReporter()), 0, "promoted", None
    panel = LivePanel(Console(record=True, width=120, file=io.StringIO()), "release r-20261127t090000-example: 2.0.0 to green on staging")
    total = len(case.steps) * 2 + 1
    for number, weight in enumerate(case.steps):
        recorder.step(2 + 2 * number, total, Bake(weight=weight, seconds=case.bake_minutes * 60))
        panel.step(2 + 2 * number, total, Bake(weight=weight, seconds=case.bake_minutes * 60))
        for baked in range(1, case.bake_minutes + 1):
            traffic.minute(weight)
            minute += 1
            verdict = decide({ALARM: "OK"}, traffic.figures("candidate"), traffic.figures("live"), limits)
            poll = Poll(START + timedelta(minutes=minute), 60.0 * (case.bake_minutes - baked),
                        {"green": weight, "blue": 100 - weight}, verdict, 0.0, "green")
            recorder.bake(poll)
            panel.bake(poll)
            if not verdict.ok:
                outcome, why = "aborted", "; ".join(verdict.reasons)
                break
        if why:
            break
    console = panel.console
    console.print(panel.render())
    ending = Ending("staging", "r-20261127t090000-example", "2.0.0", outcome, f"bake at {weight}%" if why else None, why)
    return write(recorder, ending, out / "example-report.html"), console.export_text()


if __name__ == "__main__":
    path, text = example(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
    print(text)
    print(path)
