"""The ``StackEngine`` seam: everything the release driver asks of Pulumi.

A release reads and writes stack config (the release keys through the
stack's release state store, compare-and-set), runs stack updates (optionally
targeted at a few resources), reads the stack outputs and the update history,
and must know when somebody else holds the stack. Two engines answer these
questions: the Automation API over this repository's program, and the offline
evaluator. Nothing else in the driver knows which one it has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class EngineError(Exception):
    """An engine operation failed: what failed, why, and the command to run next."""

    def __init__(self, what: str, why: str, next_command: str) -> None:
        super().__init__(f"{what}: {why}")
        self.what = what
        self.why = why
        self.next_command = next_command


class StackBusyError(EngineError):
    """Another update holds the stack."""


class StackMissingError(EngineError):
    """The stack does not exist in the backend."""


class UpdateFailedError(EngineError):
    """The update ran and failed; the stack may be partly updated."""


@dataclass(frozen=True)
class UpdateResult:
    """What one stack update did."""

    version: int
    """The stack version the update produced."""
    changed: tuple[str, ...]
    """URNs of the resources the update created, changed, replaced or deleted (when the engine can tell)."""
    counts: Mapping[str, int] = field(default_factory=dict)
    """Resources per operation (``create``, ``update``, ``replace``, ``delete``, ``same``)."""
    pending: tuple[str, ...] = ()
    """URNs whose config changed but that a targeted update left as they were (when the engine can tell)."""

    @property
    def touched(self) -> int:
        """How many resources the update touched."""
        if self.changed:
            return len(self.changed)
        return sum(n for op, n in self.counts.items() if op != "same")


@dataclass(frozen=True)
class HistoryEntry:
    """One past update of the stack, with the config it ran with."""

    version: int
    message: str
    config: Mapping[str, str]
    result: str
    started: datetime | None = None
    finished: datetime | None = None
    counts: Mapping[str, int] = field(default_factory=dict)


class StackEngine(Protocol):
    """Config, updates, outputs and history of one stack."""

    stack: str

    def get_config(self) -> dict[str, str]:
        """The flat ``namespace:key`` config map; objects and lists JSON-encoded."""
        ...

    def set_config(self, values: Mapping[str, str]) -> None:
        """Set config keys (durably: they outlive this process)."""
        ...

    def remove_config(self, keys: Sequence[str]) -> None:
        """Remove config keys; absent keys are ignored."""
        ...

    def read_release(self) -> tuple[dict[str, str], str]:
        """The release keys (``release:live``, ``release:inProgress``, ...) from the release state store, and its tag."""
        ...

    def write_release(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        """Write release keys only if the store is still at ``expect_etag``; the new tag (a conflict error otherwise)."""
        ...

    def update(self, message: str, targets: Sequence[str] | None = None) -> UpdateResult:
        """Run a stack update with the current config; ``targets`` limits it to those URNs."""
        ...

    def outputs(self) -> dict[str, Any]:
        """The stack outputs as plain values; secrets as ``[secret]``."""
        ...

    def history(self, limit: int | None = None) -> list[HistoryEntry]:
        """Past updates, newest first: the newest ``limit`` of them when given, else every one."""
        ...

    def holder(self) -> str | None:
        """Who is updating the stack right now, when the engine can tell; else None."""
        ...
