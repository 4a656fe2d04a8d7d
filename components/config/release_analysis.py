"""``release:analysis``: how sure the driver must be before it calls a candidate worse than live.

Each poll of a bake compares the candidate with live over the release so far
(from the first shift; live's side also takes ``baselineMinutes`` before it):
Fisher's exact test on the 5xx proportions, the same test on the error-line
rate (error lines counted by the stack's log metric filter, per request), and
the Mann-Whitney U test on per-minute latency percentiles (see
``release/judgement/significance.py`` for the sources).
A test aborts the release only when it is significant at its ``confidence``
*and* the candidate is worse by more than the minimum effect. Below the minimum
sample a test cannot judge; at the end of a step the bake then extends by up to
``lowTraffic.extendMinutes``, after which the candidate's alarms alone decide.

    pulumi config set --path 'release:analysis.errors.confidence' 0.999
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from components.config.base import ConfigModel

# A one-sided test at confidence c rejects when p < 1 - c: below 0.5 it would reject more often than a coin.
Confidence = Annotated[float, Field(gt=0.5, lt=1.0)]

# Percentiles CloudWatch accepts: "pNN.NN", up to two decimals (EC2 User Guide, "Statistics for CloudWatch
# metrics"), between p0.0 and p100 (CloudWatch API Reference, GetMetricStatistics, ExtendedStatistics).
LATENCY_STATISTIC = r"^(p(100|[1-9]?[0-9](\.[0-9]{1,2})?)|Maximum|Average)$"


class ErrorTest(ConfigModel):
    """The 5xx test (and, with its own settings, the error-line test): Fisher's exact test, one-sided, candidate against live."""

    confidence: Confidence = 0.995
    """Confidence of each look, above 0.5 and below 1: the test aborts when p < 1 - confidence. Default 0.995."""
    min_relative_increase: float = Field(default=0.1, ge=0.0, le=10.0)
    """Smallest increase worth an abort, as a fraction of live's 5xx odds, 0-10: 0.1 tests
    "candidate's odds > 1.1 x live's". Default 0.1."""
    min_requests: int = Field(default=500, ge=1, le=10_000_000)
    """Requests the candidate needs (since the first shift) before the test judges, at least 1. Default 500."""


class LatencyTest(ConfigModel):
    """The latency test: Mann-Whitney U on per-minute latency percentiles, candidate against live."""

    confidence: Confidence = 0.995
    """Confidence of each look, above 0.5 and below 1. Default 0.995."""
    statistic: Annotated[str, Field(pattern=LATENCY_STATISTIC)] = "p99"
    """CloudWatch statistic of ``TargetResponseTime`` per minute, e.g. ``p99``, ``p95``, ``Maximum``. Default ``p99``."""
    min_relative_increase: float = Field(default=0.2, ge=0.0, le=10.0)
    """Smallest increase worth an abort, as a fraction of live's latency, 0-10: 0.2 tests
    "candidate > 1.2 x live". Default 0.2."""
    floor_ms: float = Field(default=200.0, ge=0.0, le=60_000.0)
    """A candidate whose median per-minute latency is under this never fails, 0-60000 ms. Default 200."""
    min_samples: int = Field(default=5, ge=2, le=1440)
    """Minutes with candidate latency data needed before the test judges, 2-1440. Default 5."""


class LowTraffic(ConfigModel):
    """What happens when a step ends before a test has its minimum sample."""

    extend_minutes: int = Field(default=10, ge=0, le=1440)
    """Minutes a bake may run past its end waiting for the minimum sample, 0-1440; then the alarms
    alone decide. Default 10."""


class AnalysisConfig(ConfigModel):
    """The ``release:analysis`` key."""

    errors: ErrorTest = Field(default_factory=ErrorTest)
    """The 5xx test. Default: ``{confidence: 0.995, minRelativeIncrease: 0.1, minRequests: 500}``."""
    error_lines: ErrorTest = Field(default_factory=ErrorTest)
    """The error-line test: error log lines per request, Fisher's exact test like the 5xx test, with its own
    settings so a team can trust its logs less (or more) than its status codes. It runs when the stack exports
    ``log_signals``. Default: the 5xx test's, ``{confidence: 0.995, minRelativeIncrease: 0.1, minRequests: 500}``."""
    latency: LatencyTest = Field(default_factory=LatencyTest)
    """The latency test. Default: ``{confidence: 0.995, statistic: p99, minRelativeIncrease: 0.2, floorMs: 200, minSamples: 5}``."""
    low_traffic: LowTraffic = Field(default_factory=LowTraffic)
    """The rule below the minimum sample. Default: ``{extendMinutes: 10}``."""
    baseline_minutes: int = Field(default=10, ge=0, le=1440)
    """Minutes of live's traffic before the first shift that join live's sample, 0-1440, so a
    blue-green switch (live serves nothing after it) still has a baseline. Default 10."""
