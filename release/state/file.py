"""Release state in a local file, with the same compare-and-set semantics as the ESC environment.

The file holds ``{"revision": N, "values": {...}}``; the tag is the revision.
A write takes an exclusive ``fcntl.flock`` on a lock file beside it, compares
the revision, writes a temporary file in the same directory and renames it over
the old one, so a reader in another process sees the old state or the new one,
never half, and a process killed mid-write leaves the old file in place.
Until the first write the store holds its initial values (the committed
definition of the stack's environment).
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from release.state.store import ReleaseStateStore, StateConflictError, StateStoreError, check_keys


class FileStateStore(ReleaseStateStore):
    """A stack's release state in ``path``."""

    def __init__(self, path: Path, initial: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.name = str(path)
        self._initial = dict(initial or {})

    @property
    def lock_path(self) -> Path:
        """The file the writers lock."""
        return self.path.with_name(self.path.name + ".lock")

    def _load(self) -> tuple[dict[str, str], int]:
        if not self.path.exists():
            return dict(self._initial), 0
        try:
            data = json.loads(self.path.read_text())
            return {str(k): str(v) for k, v in data["values"].items()}, int(data["revision"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            msg = f"reading the release state ({self.path})"
            raise StateStoreError(msg, f"the file is unreadable: {exc}", f"restore {self.path} or remove it to start "
                                  "from the committed definition") from exc

    def read(self) -> tuple[dict[str, str], str]:
        """The values and their revision (0 until the first write)."""
        values, revision = self._load()
        return values, str(revision)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def write(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        """Under the lock: compare the revision, then replace the file atomically."""
        check_keys(changes, removals, self.name)
        with self._locked():
            values, revision = self._load()
            if expect_etag != str(revision):
                msg = f"writing the release state ({self.path})"
                raise StateConflictError(msg, f"it changed since it was read (revision {revision}, read at {expect_etag})",
                                         "read it again")
            values.update(changes)
            for key in removals:
                values.pop(key, None)
            revision += 1
            self._replace({"revision": revision, "values": values})
        return str(revision)

    def _replace(self, data: dict[str, object]) -> None:
        temp: Path | None = None
        try:
            fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            temp = Path(name)
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            temp.replace(self.path)
        except OSError as exc:
            if temp is not None:
                temp.unlink(missing_ok=True)
            msg = f"writing the release state ({self.path})"
            raise StateStoreError(msg, str(exc), f"check that {self.path.parent} is writable") from exc
