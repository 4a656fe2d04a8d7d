"""Time for the driver: the real clock, and a manual one that makes bakes take no real time.

Everything that waits (bakes, health waits, retries) asks a ``Clock``, never
``time`` directly, so a rehearsal or a test runs a ten-minute bake in
microseconds and can still say when each thing happened on its own timeline.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds, wall time and sleeping."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary start; only differences mean anything."""
        ...

    def now(self) -> datetime:
        """The current time, UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait this long."""
        ...


class SystemClock:
    """The machine's clock."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary start."""
        return time.monotonic()

    def now(self) -> datetime:
        """The current time, UTC."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Really wait."""
        time.sleep(seconds)


class ManualClock:
    """A clock that moves only when something sleeps: sleeping advances it at once."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._elapsed = 0.0
        self.slept = 0.0

    def monotonic(self) -> float:
        """Seconds since this clock started."""
        return self._elapsed

    def now(self) -> datetime:
        """The start time plus every sleep so far."""
        return self._start + timedelta(seconds=self._elapsed)

    def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` without waiting."""
        self._elapsed += max(0.0, seconds)
        self.slept += max(0.0, seconds)
