"""Where release state lives: a store per stack with compare-and-set writes.

The release keys (``release:live``, ``release:versions``,
``release:canaryWeight``, ``release:inProgress``, ``release:lastRelease``,
``release:candidateTasks``)
live in a Pulumi ESC environment the stack imports, so every runner of an
update (CI, Deployments, a laptop, drift remediation) resolves the same values.
``EscStateStore`` talks to Pulumi Cloud; ``FileStateStore`` stands in for it
offline with the same semantics; ``MemoryStateStore`` serves one process.
"""

from release.state.esc import EscStateStore
from release.state.file import FileStateStore
from release.state.store import (
    RELEASE_KEYS,
    MemoryStateStore,
    ReleaseStateStore,
    StateConflictError,
    StateStoreError,
    write_latest,
)

__all__ = [
    "RELEASE_KEYS",
    "EscStateStore",
    "FileStateStore",
    "MemoryStateStore",
    "ReleaseStateStore",
    "StateConflictError",
    "StateStoreError",
    "write_latest",
]
