"""What people see: the live panel, the JSON lines for CI logs, and the report file of a release."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from components.config.release_analysis import AnalysisConfig
from release.context import Poll, SilentReporter
from release.judgement.analysis import Figures, decide
from release.output.panel import JsonLines, LivePanel, weights_bar
from release.output.report import Ending, Recorder, render, report_path, write
from release.strategies.steps import Bake

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LIVE = Figures(requests=54_000, errors=540, latencies=(0.12, 0.11, 0.13, 0.12, 0.12))
LATENCY = (0.118, 0.121, 0.119, 0.122, 0.124)


def _poll(minute: int, errors: int, weight: int = 10) -> Poll:
    verdict = decide({"webapp-staging-green-5xx": "OK"}, Figures(requests=6_000, errors=errors, latencies=LATENCY), LIVE,
                     AnalysisConfig())
    return Poll(START + timedelta(minutes=minute), 120.0, {"green": weight, "blue": 100 - weight}, verdict, 0.0, "green")


def test_the_weights_bar_gives_each_colour_its_share() -> None:
    bar = weights_bar({"blue": 75, "green": 25}, width=40)
    assert bar.plain == "█" * 30 + "▒" * 10 + "  blue 75% | green 25%"


def test_the_panel_shows_step_figures_alarms_countdown_and_verdict() -> None:
    console = Console(record=True, width=160, force_terminal=False)
    panel = LivePanel(console, "release r-1: 2.0.0 to green on staging")
    panel.step(5, 12, Bake(weight=10, seconds=300))
    panel.bake(_poll(3, 61))
    console.print(panel.render())
    text = console.export_text()
    assert "[5/12] bake 5 min at 10%" in text
    assert "green (candidate)" in text
    assert "blue (live)" in text
    assert "6,000" in text
    assert "1.02%" in text
    assert "webapp-staging-green-5xx OK" in text
    assert "bake: 2m00s left" in text
    assert "5xx: PASS" in text
    assert "e-process over every look" in text


@pytest.mark.parametrize(("remaining", "overtime", "shown"), [
    (0.0, 0.0, "bake: 0s left"),
    (0.0, 90.0, "bake extended 1m30s for the minimum sample (low traffic)"),
])
def test_only_a_bake_past_its_end_is_shown_as_extended(remaining: float, overtime: float, shown: str) -> None:
    console = Console(record=True, width=160, force_terminal=False)
    panel = LivePanel(console, "release r-1: 2.0.0 to green on staging")
    panel.step(5, 12, Bake(weight=25, seconds=300))
    panel.bake(replace(_poll(5, 61, weight=25), remaining=remaining, overtime=overtime))
    console.print(panel.render())
    text = console.export_text()
    assert shown in text
    assert ("extended" in text) == (overtime > 0)


def test_json_output_is_one_object_a_line_per_event() -> None:
    out = io.StringIO()
    reporter = JsonLines(out)
    reporter.step(5, 12, Bake(weight=10, seconds=300))
    reporter.bake(_poll(3, 61))
    reporter.note("verified")
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["step", "poll", "note"]
    assert events[1]["checks"][0]["name"] == "5xx"
    assert events[1]["candidate"]["requests"] == 6000


def test_the_report_draws_weights_rates_latency_and_every_verdict(tmp_path: Path) -> None:
    recorder = Recorder(SilentReporter())
    recorder.step(5, 12, Bake(weight=10, seconds=300))
    for minute, errors in ((0, 61), (1, 62), (2, 160)):
        recorder.bake(_poll(minute, errors))
    ending = Ending("staging", "r-1", "2.0.0", "aborted", "bake", "5xx 160/6000 ...")
    page = render(recorder, ending)
    assert "<svg" in page
    for label in ("candidate weight", "green 5xx rate", "blue latency", "aborted at 2.0 min"):
        assert label in page
    assert page.count("<tr class=") == 3
    assert "<tr class='fail'>" in page
    path = write(recorder, ending, tmp_path / "r-1.html")
    assert path.read_text(encoding="utf-8") == page


def test_reports_live_under_the_configured_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RELEASE_REPORTS_DIR", str(tmp_path))
    assert report_path("staging", "r-1") == tmp_path / "staging" / "r-1.html"


def test_the_panel_and_the_report_show_each_colours_error_lines_when_the_stack_counts_them() -> None:
    live = Figures(requests=54_000, errors=540, latencies=LIVE.latencies, error_lines=648)
    candidate = Figures(requests=6_000, errors=61, latencies=LATENCY, error_lines=290)
    verdict = decide({}, candidate, live, AnalysisConfig())
    poll = Poll(START, 120.0, {"green": 10, "blue": 90}, verdict, 0.0, "green")
    console = Console(record=True, width=200, force_terminal=False)
    panel = LivePanel(console, "release r-1")
    panel.bake(poll)
    console.print(panel.render())
    text = console.export_text()
    assert "error lines" in text
    assert "4.83%" in text
    assert "1.20%" in text
    assert "error-requests: FAIL" in text
    recorder = Recorder(SilentReporter())
    recorder.bake(poll)
    page = render(recorder, Ending("staging", "r-1", "2.0.0", "aborted", "bake", verdict.summary))
    assert "green error lines" in page
    assert "blue error lines" in page
    # Without a log signal there is no error-line column value and no line to draw.
    assert "green error lines" not in render(recorder_of(_poll(0, 61)), Ending("staging", "r-1", "2.0.0", "promoted"))


def recorder_of(poll: Poll) -> Recorder:
    recorder = Recorder(SilentReporter())
    recorder.bake(poll)
    return recorder
