"""The ``ReleaseStateStore`` seam: read the release keys with a version tag, write only on that tag.

``read()`` returns the flat ``namespace:key`` values (objects JSON-encoded, as
Pulumi passes config to a program) and an opaque ``etag``. ``write(changes,
removals, expect_etag)`` applies the changes only if the store is still at
``expect_etag`` and returns the new tag; otherwise it raises
``StateConflictError`` and changes nothing. This is the contract of Pulumi
ESC's environment update (source: pulumi/esc ``cmd/esc/cli/client/client.go``,
``UpdateEnvironmentWithRevision``: "If etag is not the empty string and the
environment's current etag does not match the provided etag ... the update will
fail with a 409 error").
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from offline.stacks import RELEASE_STATE_KEYS
from release.engine.base import EngineError

RELEASE_KEYS = RELEASE_STATE_KEYS


class StateStoreError(EngineError):
    """The store could not be read or written: what, why and what to do next (an infrastructure error)."""


class StateConflictError(StateStoreError):
    """Somebody else wrote the release state since it was read: nothing was written."""


class ReleaseStateStore(Protocol):
    """The release keys of one stack, read and written with compare-and-set.

    Every store of the project names this class as its base, so the contract test
    (tests/release/state/test_contract.py) finds each one and none can skip it.
    """

    name: str
    """Where the state lives, for messages (e.g. ``acme/release-platform/production-release``)."""

    def read(self) -> tuple[dict[str, str], str]:
        """The release keys and the tag of this version of them."""
        ...

    def write(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        """Apply the changes if the store is still at ``expect_etag``; the new tag. StateConflictError otherwise."""
        ...


def write_latest(store: ReleaseStateStore, changes: Mapping[str, str], removals: Sequence[str], stack: str,
                 attempts: int = 8) -> None:
    """``pulumi config set`` semantics (last writer wins), for callers that do not compare-and-set themselves.

    Each attempt writes on the tag it just read; a conflict means another writer got in between, so read again.
    """
    for _ in range(attempts):
        _, etag = store.read()
        try:
            store.write(changes, removals, etag)
        except StateConflictError:
            continue
        return
    msg = f"writing the release state of {stack}"
    raise StateConflictError(msg, f"{attempts} writers in a row got there first", "retry")


def check_keys(changes: Mapping[str, str], removals: Sequence[str], store: str) -> None:
    """Only release keys belong in the store."""
    stray = sorted(k for k in [*changes, *removals] if k not in RELEASE_KEYS)
    if stray:
        msg = f"writing the release state ({store})"
        raise StateStoreError(msg, f"{', '.join(stray)} are not release keys ({', '.join(RELEASE_KEYS)})",
                              "set other keys in Pulumi.<stack>.yaml")


def to_definition(value: str) -> Any:
    """A flat config value as it is written in an environment definition: objects, lists and numbers natively."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return parsed if isinstance(parsed, (dict, list, int)) and not isinstance(parsed, bool) else value


class MemoryStateStore(ReleaseStateStore):
    """Release state held by one process, with the store's compare-and-set semantics."""

    def __init__(self, values: Mapping[str, str] | None = None, name: str = "memory") -> None:
        self.name = name
        self._values = dict(values or {})
        self._revision = 1
        self._lock = threading.Lock()

    def read(self) -> tuple[dict[str, str], str]:
        """The values and the revision as tag."""
        with self._lock:
            return dict(self._values), str(self._revision)

    def write(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        """Compare the tag, then apply."""
        check_keys(changes, removals, self.name)
        with self._lock:
            if expect_etag != str(self._revision):
                msg = f"writing the release state ({self.name})"
                raise StateConflictError(msg, f"it changed since it was read (revision {self._revision}, read at {expect_etag})",
                                         "read it again")
            self._values.update(changes)
            for key in removals:
                self._values.pop(key, None)
            self._revision += 1
            return str(self._revision)
