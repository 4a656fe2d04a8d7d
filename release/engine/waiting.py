"""Waiting out another update's lock, up to a bound.

Pulumi runs one update of a stack at a time: an update that starts while
another holds the stack fails at once with a concurrent-update error (the
CLI's "the stack is currently locked by 1 lock(s)", ``ConcurrentUpdateError``
in the Automation API; Pulumi Cloud, "Update locks"). On a stack that Pulumi
Deployments also updates on every push and on its drift schedule, that is an
ordinary afternoon, not a failure: so the driver's updates wait for the holder
to finish, polling, and say who holds the stack while they wait. Past the
bound (``release:lockWaitMinutes``) the update fails as before, naming the
holder and how long it waited, and the step's usual failure path runs.

The bound (at most 25 minutes) keeps a driver that waits, writing nothing,
inside its 35-minute release lease, so it is never taken for a dead one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from components.config import ConfigError, load
from components.config.release import DEFAULT_LOCK_WAIT_MINUTES
from release.clock import Clock
from release.engine.base import HistoryEntry, StackBusyError, StackEngine, UpdateResult

# Seconds between two tries while another update holds the stack.
POLL_SECONDS = 15.0


class WaitingEngine:
    """A ``StackEngine`` whose updates wait, up to ``release:lockWaitMinutes``, while another update holds the stack."""

    def __init__(self, inner: StackEngine, clock: Clock, note: Callable[[str], None], poll_seconds: float = POLL_SECONDS) -> None:
        self.inner = inner
        self.stack = inner.stack
        self.clock = clock
        self.note = note
        self.poll_seconds = poll_seconds
        self.waited_seconds = 0.0

    def _bound_minutes(self) -> int:
        try:
            return load(self.inner.get_config(), self.stack).release.lock_wait_minutes
        except ConfigError:
            return DEFAULT_LOCK_WAIT_MINUTES

    def update(self, message: str, targets: Sequence[str] | None = None) -> UpdateResult:
        """The update, tried again every ``poll_seconds`` while another update holds the stack, up to the bound."""
        began: float | None = None
        bound = 0
        while True:
            try:
                return self.inner.update(message, targets)
            except StackBusyError as exc:
                now = self.clock.monotonic()
                if began is None:
                    began, bound = now, self._bound_minutes()
                waited = now - began
                holder = self.inner.holder() or exc.why
                if waited >= bound * 60:
                    raise StackBusyError(
                        exc.what, f"{exc.why}; waited {_minutes(waited)} for it, the bound of release:lockWaitMinutes ({bound})",
                        exc.next_command,
                    ) from exc
                if waited == 0:
                    self.note(f"stack {self.stack} is held by {holder}: waiting for it to finish, up to {bound} min "
                              "(release:lockWaitMinutes)")
                elif waited // 60 > (waited - self.poll_seconds) // 60:
                    self.note(f"stack {self.stack} is still held by {holder} after {_minutes(waited)}")
                pause = min(self.poll_seconds, bound * 60 - waited)
                self.clock.sleep(pause)
                self.waited_seconds += pause

    def get_config(self) -> dict[str, str]:
        """The inner engine's config."""
        return self.inner.get_config()

    def set_config(self, values: Mapping[str, str]) -> None:
        """Set config through the inner engine."""
        self.inner.set_config(values)

    def remove_config(self, keys: Sequence[str]) -> None:
        """Remove config through the inner engine."""
        self.inner.remove_config(keys)

    def read_release(self) -> tuple[dict[str, str], str]:
        """The release state, from the inner engine."""
        return self.inner.read_release()

    def write_release(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        """Compare-and-set the release state through the inner engine."""
        return self.inner.write_release(changes, removals, expect_etag)

    def outputs(self) -> dict[str, Any]:
        """The inner engine's outputs."""
        return self.inner.outputs()

    def history(self, limit: int | None = None) -> list[HistoryEntry]:
        """The inner engine's history."""
        return self.inner.history(limit)

    def holder(self) -> str | None:
        """Who holds the stack, as the inner engine tells."""
        return self.inner.holder()


def _minutes(seconds: float) -> str:
    whole = int(seconds // 60)
    return f"{whole} min" if seconds % 60 == 0 or whole else f"{int(seconds)} s"
