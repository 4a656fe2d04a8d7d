"""The engine a rehearsal's driver is given: the offline engine, with its updates mirrored into moto."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rehearsal.world.stack import World
from release.engine import HistoryEntry, UpdateResult
from release.engine.offline import OfflineEngine


class RehearsalEngine:
    """The offline engine, with outputs translated to the identifiers moto gave."""

    def __init__(self, offline: OfflineEngine, world: World) -> None:
        self.offline = offline
        self.world = world
        self.stack = offline.stack
        self.before: list[Callable[[], None]] = []

    def get_config(self) -> dict[str, str]:
        """The offline engine's config."""
        return self.offline.get_config()

    def set_config(self, values: Mapping[str, str]) -> None:
        """Set config."""
        self.offline.set_config(values)

    def remove_config(self, keys: Sequence[str]) -> None:
        """Remove config."""
        self.offline.remove_config(keys)

    def read_release(self) -> tuple[dict[str, str], str]:
        """The release state."""
        return self.offline.read_release()

    def write_release(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        """Compare-and-set the release state."""
        return self.offline.write_release(changes, removals, expect_etag)

    def update(self, message: str, targets: Sequence[str] | None = None) -> UpdateResult:
        """An offline update (after what runs ``before`` it: the traffic up to now); its hook mirrors it into moto."""
        for action in self.before:
            action()
        return self.offline.update(message, targets)

    def outputs(self) -> dict[str, Any]:
        """Outputs as they are in moto."""
        return self.world.outputs(self.offline.outputs())

    def history(self, limit: int | None = None) -> list[HistoryEntry]:
        """The offline engine's history."""
        return self.offline.history(limit)

    def holder(self) -> str | None:
        """Who holds the stack."""
        return self.offline.holder()
