"""Stack engines: the one seam between the release driver and Pulumi."""

from release.engine.base import (
    EngineError,
    HistoryEntry,
    StackBusyError,
    StackEngine,
    StackMissingError,
    UpdateFailedError,
    UpdateResult,
)

__all__ = [
    "EngineError",
    "HistoryEntry",
    "StackBusyError",
    "StackEngine",
    "StackMissingError",
    "UpdateFailedError",
    "UpdateResult",
]
