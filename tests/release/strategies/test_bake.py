"""The bake: the analysis's verdict at each poll, and the low-traffic rule when a test cannot judge yet."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from components.config import Colour, Strategy
from components.config.release_analysis import AnalysisConfig
from components.config.release_record import ReleaseRecord
from release.clock import ManualClock
from release.context import Context, Poll
from release.state import MemoryStateStore
from release.state import record as records
from release.strategies.canary import CanaryRunner
from release.strategies.environment import HOLD_MINUTES
from release.strategies.failure import StepFailure
from release.strategies.steps import Bake
from release.strategies.timing import Timing
from tests.support import MINIMAL_CONFIG

RECORD = ReleaseRecord(
    id="r-1", version="2.0.0", colour=Colour.GREEN, previous="1.0.0", strategy=Strategy.CANARY,
    started_at=datetime(2026, 1, 1, tzinfo=UTC), started_by="test",
)
OUTPUTS = {"load_balancer_arn_suffix": "app/lb/1", "target_group_arn_suffixes": {"blue": "tg/b/1", "green": "tg/g/1"}}


class Metrics:
    """CloudWatch as the bake sees it: fixed per-colour figures, the candidate's alarm OK.

    Each colour's requests and 5xx are one datapoint in the window's last minute, its latencies one a minute back
    from it: the candidate's minutes since the first shift, live's the same minutes (the control) and before them.
    """

    def __init__(self, figures: dict[str, tuple[float, float, list[float]]]) -> None:
        self.figures = figures

    def alarm_states(self, names: list[str]) -> dict[str, str]:
        return dict.fromkeys(names, "OK")

    def metric_series(self, queries: list[Any], start: datetime, end: datetime) -> dict[str, dict[datetime, float]]:
        last = end.replace(second=0, microsecond=0)
        found: dict[str, dict[datetime, float]] = {}
        for colour, (requests, errors, latencies) in self.figures.items():
            found[f"{colour}_requests"], found[f"{colour}_errors"] = {last: requests}, {last: errors}
            found[f"{colour}_latency"] = {last - timedelta(minutes=i): v for i, v in enumerate(reversed(latencies))}
            for i in range(1, len(latencies)):
                found[f"{colour}_requests"][last - timedelta(minutes=i)] = 1.0
        return found


class Engine:
    def __init__(self, config: dict[str, str] | None = None) -> None:
        self.stack = "staging"
        # A valid stack config: a bake renews the driver's lease, and every write of the record is validated.
        self.config = {**MINIMAL_CONFIG, **(config or {})}
        self.store = MemoryStateStore({records.IN_PROGRESS: records.encode(RECORD)})

    def get_config(self) -> dict[str, str]:
        return {**self.config, **self.store.read()[0]}

    def read_release(self) -> tuple[dict[str, str], str]:
        return self.store.read()

    def write_release(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        return self.store.write(changes, removals, expect_etag)

    def outputs(self) -> dict[str, Any]:
        return {**OUTPUTS, "alarm_names": {"green": ["green-5xx"]}}


class Polls:
    def __init__(self) -> None:
        self.polls: list[Poll] = []
        self.notes: list[str] = []

    def step(self, *_: object) -> None:
        """Unused."""

    def note(self, text: str) -> None:
        self.notes.append(text)

    def bake(self, poll: Poll) -> None:
        self.polls.append(poll)


def _bake(figures: dict[str, tuple[float, float, list[float]]], limits: AnalysisConfig | None = None,
          config: dict[str, str] | None = None, clock: ManualClock | None = None) -> tuple[ManualClock, Polls]:
    clock, seen = clock or ManualClock(), Polls()
    aws: Any = SimpleNamespace(cloudwatch=Metrics(figures))
    if config is None and limits is None:
        # Five minutes of latency cannot reach the default latency test's 1/alpha: these tests are about the bake.
        limits = AnalysisConfig.model_validate({"latency": {"confidence": 0.7}})
    ctx = Context("staging", Engine(config), aws, clock, runner=None, reporter=seen, thresholds=limits)  # type: ignore[arg-type]
    CanaryRunner(ctx, Timing()).run(Bake(weight=10, seconds=300), RECORD)
    return clock, seen


LATENCY = [0.12, 0.11, 0.12, 0.13, 0.12]
LIVE = (54_000.0, 540.0, LATENCY * 2)


def test_enough_traffic_ends_the_bake_on_time() -> None:
    clock, seen = _bake({"green": (6_000.0, 60.0, LATENCY), "blue": LIVE})
    assert clock.monotonic() == 300
    assert seen.polls[-1].verdict.ok
    assert not seen.notes


def test_a_significant_5xx_increase_aborts_the_bake_naming_the_test() -> None:
    with pytest.raises(StepFailure) as caught:
        _bake({"green": (6_000.0, 150.0, LATENCY), "blue": LIVE})
    assert "5xx 150/6000" in caught.value.why
    assert "e-process over every look" in caught.value.why
    assert caught.value.what == "bake at 10%"


def test_too_little_traffic_extends_the_bake_then_holds_and_ends_the_release_never_promoting() -> None:
    clock = ManualClock()
    with pytest.raises(StepFailure) as caught:
        _bake({"green": (40.0, 3.0, LATENCY), "blue": LIVE}, clock=clock)
    # Extended for 10 minutes, then held (weights kept) for HOLD_MINUTES, judging on, then ended: exit 3.
    assert clock.monotonic() == 300 + 600 + HOLD_MINUTES * 60
    assert caught.value.infrastructure, "not a verdict on the candidate"
    assert caught.value.why.startswith("too little evidence to judge the candidate, still undecided 30 min after")
    assert "never promoted on no evidence" in caught.value.why


class Arriving(Metrics):
    """The candidate's ``figures`` until ``at`` seconds on the clock; 6,000 requests a minute at 1% 5xx from then on."""

    def __init__(self, clock: ManualClock, at: float, figures: dict[str, tuple[float, float, list[float]]]) -> None:
        super().__init__(figures)
        self.clock, self.at = clock, at

    def metric_series(self, queries: list[Any], start: datetime, end: datetime) -> dict[str, dict[datetime, float]]:
        if self.clock.monotonic() >= self.at:
            self.figures["green"] = (6_000.0, 60.0, LATENCY)
        return super().metric_series(queries, start, end)


def test_an_undecided_bake_notes_its_hold_and_passes_once_the_evidence_comes() -> None:
    clock = ManualClock()
    seen = Polls()
    enough_after = 300 + 600 + 120
    limits = AnalysisConfig.model_validate({"latency": {"confidence": 0.7}})
    aws: Any = SimpleNamespace(cloudwatch=Arriving(clock, enough_after, {"green": (40.0, 3.0, LATENCY), "blue": LIVE}))
    ctx = Context("staging", Engine(None), aws, clock, runner=None, reporter=seen, thresholds=limits)  # type: ignore[arg-type]
    CanaryRunner(ctx, Timing()).run(Bake(weight=10, seconds=300), RECORD)
    assert seen.notes[0].startswith("bake extended up to 10 min for the minimum sample")
    assert seen.notes[1].startswith("held at 10%, not promoted: too little evidence to judge the candidate")
    assert clock.monotonic() == enough_after
    assert seen.polls[-1].verdict.state == "pass"


def test_no_extension_configured_means_an_undecided_bake_holds_at_its_end() -> None:
    limits = AnalysisConfig.model_validate({"lowTraffic": {"extendMinutes": 0}})
    clock = ManualClock()
    with pytest.raises(StepFailure):
        _bake({"green": (40.0, 3.0, LATENCY), "blue": LIVE}, limits, clock=clock)
    assert clock.monotonic() == 300 + HOLD_MINUTES * 60


def test_without_settings_in_hand_the_bake_reads_release_analysis_from_the_stack() -> None:
    config = {**MINIMAL_CONFIG, "release:analysis": json.dumps({"lowTraffic": {"extendMinutes": 2}})}
    clock = ManualClock()
    with pytest.raises(StepFailure):
        _bake({"green": (40.0, 3.0, LATENCY), "blue": LIVE}, config=config, clock=clock)
    assert clock.monotonic() == 300 + 120 + HOLD_MINUTES * 60


def test_an_invalid_stack_config_at_the_bake_is_a_step_failure_naming_the_key() -> None:
    config = {**MINIMAL_CONFIG, "release:analysis": json.dumps({"errors": {"confidence": 2}})}
    with pytest.raises(StepFailure) as caught:
        _bake({"green": (6_000.0, 60.0, LATENCY), "blue": LIVE}, config=config)
    assert "release:analysis.errors.confidence: got 2" in caught.value.why


@pytest.mark.parametrize(("bake", "controlled"), [(Bake(weight=10, seconds=300), False),
                                                   (Bake(weight=100, seconds=300, control=5), True)])
def test_the_bake_tells_the_analysis_whether_live_keeps_only_a_control_share(bake: Bake, controlled: bool,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # At the step where live keeps a control share, the step's own test is the one that names a shared fault
    # (release/judgement/checks.py, CHANGE_BOUND_SHARE): the bake must say which step it judges.
    from release.judgement.analysis import Analysis

    asked: list[bool] = []
    judge = Analysis.judge

    def spy(self: Analysis, *args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs.get("controlled", False))
        return judge(self, *args, **kwargs)

    monkeypatch.setattr(Analysis, "judge", spy)
    limits = AnalysisConfig.model_validate({"latency": {"confidence": 0.7}})
    aws: Any = SimpleNamespace(cloudwatch=Metrics({"green": (6_000.0, 60.0, LATENCY), "blue": LIVE}))
    ctx = Context("staging", Engine(None), aws, ManualClock(), runner=None, reporter=Polls(), thresholds=limits)  # type: ignore[arg-type]
    CanaryRunner(ctx, Timing()).run(bake, RECORD)
    assert asked
    assert set(asked) == {controlled}
