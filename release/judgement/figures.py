"""One colour's traffic: its minutes (requests, 5xx, requests with an error, the latency statistic) and their totals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Minute:
    """One minute of one colour, as CloudWatch serves it."""

    at: datetime | int
    """The minute's timestamp (an index in simulations): the control's minute matches the candidate's by it."""
    requests: float = 0.0
    errors: float = 0.0
    """5xx responses."""
    error_requests: float | None = None
    """Requests whose access line carries an error state; None when the stack exports no log signal."""
    latency: float | None = None
    """The latency statistic (``p99`` by default) in seconds; None without a datapoint."""


@dataclass(frozen=True)
class Figures:
    """One colour's traffic in its window: totals, and the minutes they sum when known."""

    requests: float = 0.0
    errors: float = 0.0
    latencies: tuple[float, ...] = ()
    """Per-minute latency statistic in seconds, oldest first."""
    error_lines: float | None = None
    """Requests with an error state in their access line (the log metric's ``Sum``); None without a log signal."""
    minutes: tuple[Minute, ...] = ()
    """The minutes, oldest first; empty when only totals are known (then they count as one block)."""

    @classmethod
    def of(cls, minutes: Iterable[Minute], *, logs: bool) -> Figures:
        """The totals of ``minutes``; ``logs``: the stack exports the error metric."""
        found = tuple(minutes)
        return cls(
            requests=sum(m.requests for m in found), errors=sum(m.errors for m in found),
            latencies=tuple(m.latency for m in found if m.latency is not None),
            error_lines=sum(m.error_requests or 0.0 for m in found) if logs else None, minutes=found,
        )

    def blocks(self) -> tuple[Minute, ...]:
        """The minutes, or the totals as one block and each latency as a minute of its own."""
        if self.minutes or not (self.requests or self.latencies):
            return self.minutes
        counts = Minute(at=-1, requests=self.requests, errors=self.errors, error_requests=self.error_lines)
        return (counts, *(Minute(at=-2 - i, latency=v) for i, v in enumerate(self.latencies)))

    @property
    def error_rate(self) -> float:
        """5xx responses per request."""
        return self.errors / self.requests if self.requests else 0.0

    @property
    def error_line_rate(self) -> float | None:
        """Requests with an error per request (None without a log signal)."""
        if self.error_lines is None:
            return None
        return self.error_lines / self.requests if self.requests else 0.0

    @property
    def latency(self) -> float | None:
        """The median of the per-minute latency samples, in seconds."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2

    @property
    def latest_latency(self) -> float | None:
        """The last minute's latency sample, in seconds."""
        return self.latencies[-1] if self.latencies else None
