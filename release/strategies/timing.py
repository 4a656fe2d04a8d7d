"""Where the driver's wall time went: shared by the executor and every step runner, below both."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Timing:
    """Where the driver's wall time went: per step, and how much of it was the engine's."""

    steps: list[tuple[str, float, float]] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
