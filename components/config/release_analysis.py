"""``release:analysis``: how sure the driver must be before it calls a candidate worse than live.

Each poll of a bake runs three tests of the candidate's minutes against the
control's same minutes (live's traffic at the same time), or, in a minute
without control traffic, against live's ``baselineMinutes`` before the first
shift: 5xx per request, requests whose access line carries an error (the
stack's log metric filter), and the per-minute latency percentile
(``release/judgement/significance.py`` and ``checks.py`` for the sources).
Each test is an e-process: the chance that it ever fails a healthy candidate,
over every look of the release (extensions included), is at most its alpha,
``1 - confidence``; all tests together at most the sum of the alphas
(Bonferroni), 0.009 with the defaults. The candidate's alarms are gates beside
them. Below the minimum sample on either side a test is undecided, never a
pass; at the end of a step the bake extends by up to
``lowTraffic.extendMinutes``.

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
    """The 5xx test (and, with its own settings, the error-request test): a likelihood-ratio e-process.

    It weighs the candidate's share of each minute's errors against the control's.
    """

    confidence: Confidence = 0.995
    """Probability that the test never fails a healthy candidate over the whole release, above 0.5 and below 1; its
    alpha, ``1 - confidence``, joins the other tests' in the release's bound. Default 0.995 (the error-request
    test: 0.998)."""
    min_relative_increase: float = Field(default=0.05, ge=0.0, le=10.0)
    """Smallest increase worth an abort, as a fraction of live's 5xx odds, 0-10: 0.05 tests
    "candidate's odds > 1.05 x live's". Default 0.05 (the error-request test: 0.1)."""
    min_requests: int = Field(default=500, ge=1, le=10_000_000)
    """Requests each side needs before the test judges, at least 1: the candidate's since the first shift, and live's
    (control and baseline together). Default 500."""


class LatencyTest(ConfigModel):
    """The latency test: a sign e-process on per-minute latency percentiles.

    Each candidate minute is compared with the control's same minute, else with the largest of live's baseline minutes.
    """

    confidence: Confidence = 0.998
    """Probability that the test never fails a healthy candidate over the whole release, above 0.5 and below 1. A
    minute carries one bit: at 0.998 the test can fail from its 12th compared minute. Default 0.998."""
    statistic: Annotated[str, Field(pattern=LATENCY_STATISTIC)] = "p99"
    """CloudWatch statistic of ``TargetResponseTime`` per minute, e.g. ``p99``, ``p95``, ``Maximum``. Default ``p99``."""
    min_relative_increase: float = Field(default=0.2, ge=0.0, le=10.0)
    """Smallest increase worth an abort, as a fraction of live's latency, 0-10: 0.2 tests
    "candidate > 1.2 x live". Default 0.2."""
    floor_ms: float = Field(default=200.0, ge=0.0, le=60_000.0)
    """A candidate minute under this never counts as worse, 0-60000 ms. Default 200."""
    min_samples: int = Field(default=5, ge=2, le=1440)
    """Minutes with latency data each side needs before the test judges, 2-1440. Default 5."""


class LowTraffic(ConfigModel):
    """What happens when a step ends before a test has its minimum sample."""

    extend_minutes: int = Field(default=10, ge=0, le=1440)
    """Minutes a bake may run past its end while a test is undecided, 0-1440. Default 10."""


class AnalysisConfig(ConfigModel):
    """The ``release:analysis`` key."""

    errors: ErrorTest = Field(default_factory=ErrorTest)
    """The 5xx test. Default: ``{confidence: 0.995, minRelativeIncrease: 0.05, minRequests: 500}``."""
    error_lines: ErrorTest = Field(default_factory=lambda: ErrorTest(confidence=0.998, min_relative_increase=0.1))
    """The error-request test: requests whose access line carries an error state (a request counts once, however many
    lines it writes), the same e-process as the 5xx test, with its own settings so a team can trust its logs less (or
    more) than its status codes. It runs when the stack exports ``log_signals``.
    Default: ``{confidence: 0.998, minRelativeIncrease: 0.1, minRequests: 500}``."""
    latency: LatencyTest = Field(default_factory=LatencyTest)
    """The latency test. Default: ``{confidence: 0.998, statistic: p99, minRelativeIncrease: 0.2, floorMs: 200, minSamples: 5}``."""
    low_traffic: LowTraffic = Field(default_factory=LowTraffic)
    """The rule below the minimum sample. Default: ``{extendMinutes: 10}``."""
    baseline_minutes: int = Field(default=15, ge=0, le=1440)
    """Minutes of live's traffic before the first shift, 0-1440: live's baseline, which judges a minute without
    control traffic (a blue-green switch) and tells a changed environment from a worse candidate. The latency
    test's baseline bound (the largest minute) needs 2^-minutes <= a tenth of its alpha: 13 minutes at the
    default confidence. 0 turns the baseline off. Default 15."""

    @property
    def alpha(self) -> float:
        """The bound on aborting a healthy candidate by the tests, over every look: the sum of the three alphas."""
        return sum(1.0 - t.confidence for t in (self.errors, self.error_lines, self.latency))
