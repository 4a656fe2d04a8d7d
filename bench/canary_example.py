"""An example release report and panel from one simulated release: ``python -m bench.canary_example OUT_DIR``.

The release is the benchmark's doubled-5xx case at 20 requests per second (live 1%, candidate 2%), judged by the
analysis with its defaults (``judge_samples``: the candidate's minutes against live's same minutes and its
baseline), one poll a minute. The report and the panel are drawn by the driver's own code
(``release/output/report.py``, ``release/output/panel.py``), so they look as a real release's do.
"""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from rich.console import Console

from bench.canary_sim import Streams, p99
from components.config.release import DEFAULT_STEPS
from components.config.release_analysis import AnalysisConfig
from release.context import Poll, SilentReporter
from release.judgement.analysis import Figures, Minute, judge_samples
from release.output.panel import LivePanel
from release.output.report import Ending, Recorder, write
from release.strategies.steps import Bake

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ALARM = "webapp-staging-green-health"
BAKE_MINUTES = 5


def _minute(rng: Streams, at: int, requests: float, rate: float) -> Minute:
    n = np.array([requests])
    return Minute(at=at, requests=requests, errors=float(rng.binomial(n, rate)[0]),
                  error_requests=float(rng.binomial(n, 0.01)[0]), latency=float(p99(rng, n)[0]) if requests else None)


def example(out: Path, seed: int = 7) -> tuple[Path, str]:
    """Write the report of one simulated release; return its path and the panel at the last poll as text."""
    limits, rng, total = AnalysisConfig(), Streams([seed], 1), 1_200
    baseline = Figures.of([_minute(rng, -i, total, 0.01) for i in range(limits.baseline_minutes, 0, -1)], logs=True)
    recorder, minute, outcome, why = Recorder(SilentReporter()), 0, "promoted", None
    panel = LivePanel(Console(record=True, width=120, file=io.StringIO()), "release r-20261127t090000-example: 2.0.0 to green on staging")
    mine: list[Minute] = []
    theirs: list[Minute] = []
    count = len(DEFAULT_STEPS) * 2 + 1
    weight = DEFAULT_STEPS[0]
    for number, weight in enumerate(DEFAULT_STEPS):
        recorder.step(2 + 2 * number, count, Bake(weight=weight, seconds=BAKE_MINUTES * 60))
        panel.step(2 + 2 * number, count, Bake(weight=weight, seconds=BAKE_MINUTES * 60))
        for baked in range(1, BAKE_MINUTES + 1):
            minute += 1
            to_candidate = float(rng.binomial(np.array([total]), weight / 100)[0])
            mine.append(_minute(rng, minute, to_candidate, 0.02))
            theirs.append(_minute(rng, minute, total - to_candidate, 0.01))
            verdict = judge_samples(Figures.of(mine, logs=True), Figures.of(theirs, logs=True), baseline, limits, {ALARM: "OK"})
            poll = Poll(START + timedelta(minutes=minute), 60.0 * (BAKE_MINUTES - baked),
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
