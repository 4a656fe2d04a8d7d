"""A disk cache of offline evaluations, shared by processes, for callers that opt in.

An evaluation costs about a second of CPU, and a rehearsal, a test run over
several worker processes or a ``plan`` then ``diff`` from the command line
evaluate the same program with the same config again and again. A ``Plan`` is
plain data and a function of what the evaluation can read, so it is stored under
a SHA-256 of all of that:

- every file under the program's directory and under this project (which holds
  ``offline``, whose models answer the mocks, and ``components``, which a program
  elsewhere, such as the rehearsal's stand-in, imports), skipping virtualenvs,
  tests, docs, benchmarks, caches and ``.release``. Not only ``*.py``: the
  program reads the policy pack's ``PulumiPolicy.yaml``, ``published.json`` and
  ``config/<stack>.json``;
- the installed versions of Pulumi, its providers, the policy SDK and pydantic,
  and the Python version;
- the call itself: program directory, project, stack, config and secret keys.

**Opt-in**, through ``RELEASE_PLAN_CACHE`` naming a directory (``.release/plan-cache``
is a good home: git ignores it). A key over file contents cannot see code
patched in memory, and tests patch models and components, so the cache is used
only by callers that run the program as it is on disk: the command line when a
user sets the variable, and test runs that set it for whole rehearsals. Without
the variable nothing is read or written. Entries are pickles, so the directory
must be as trusted as the code: whoever can write to it can run code here.

Only successful evaluations are stored. An entry that is missing, truncated or
unreadable is a miss, never an error; a write that fails is skipped.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import pickle
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from offline.plan import Plan

ENV = "RELEASE_PLAN_CACHE"
PROJECT = Path(__file__).resolve().parent.parent

# Entries kept, the most recently used. A staging plan is ~40 kB compressed, so this bounds the directory to tens of MB.
MAX_ENTRIES = 512

# Distributions whose code runs in an evaluation (the SDK and providers build the registrations, pydantic the config).
DISTRIBUTIONS = ("pulumi", "pulumi-aws", "pulumi-github", "pulumi-pulumiservice", "pulumi-policy", "pydantic")

# Directories no evaluation reads; the caches among them change on every run and would defeat the cache.
SKIP = frozenset({
    "venv", "tests", ".git", "__pycache__", ".release", "node_modules", "bench", "docs",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
})

_SUFFIX = ".plan"
_TEMP_PREFIX = ".writing-"
# A temporary file this old belongs to a process that died mid-write.
_STALE_TEMP_SECONDS = 600

log = logging.getLogger(__name__)


@dataclass
class Stats:
    """What this process's cache did: evaluations served from disk, run and stored."""

    hits: int = 0
    misses: int = 0
    stored: int = 0


stats = Stats()


def directory() -> Path | None:
    """The cache directory named by ``$RELEASE_PLAN_CACHE``, or None when the cache is off."""
    value = os.environ.get(ENV, "").strip()
    return Path(value).resolve() if value else None


def _skipped(name: str) -> bool:
    return name in SKIP or name.startswith(".venv")


def hash_sources(root: Path, exclude: Path | None = None) -> str:
    """SHA-256 over the relative path and contents of every file under ``root`` an evaluation may read."""
    hasher = hashlib.sha256()
    for current, dirs, files in os.walk(root):
        here = Path(current)
        # Sorted in place: os.walk descends in this order, so the digest does not depend on the filesystem's.
        dirs[:] = sorted(d for d in dirs if not _skipped(d) and (exclude is None or here / d != exclude))
        for name in sorted(files):
            if name.endswith(".pyc"):
                continue
            path = here / name
            try:
                content = path.read_bytes()
            except OSError:
                # Gone or unreadable while walking: it cannot be read by the evaluation either.
                continue
            relative = path.relative_to(root).as_posix()
            hasher.update(f"{relative}\0{len(content)}\0".encode())
            hasher.update(content)
    return hasher.hexdigest()


@functools.cache
def sources_digest(root: Path, exclude: Path | None = None) -> str:
    """``hash_sources``, once per process per directory: a hit then costs milliseconds, not a walk of the tree.

    A process imports the project's modules once, so a module edited later does not
    change what it runs anyway. Files read on every evaluation (the program's
    ``__main__.py``, the policy pack's yaml and json) are the exception: a process
    that edits those between evaluations calls ``sources_digest.cache_clear()``.
    """
    return hash_sources(root, exclude)


@functools.cache
def _environment() -> str:
    versions: dict[str, str | None] = {}
    for name in DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return json.dumps({"python": sys.version, "distributions": versions}, sort_keys=True)


def key(
    program_dir: Path, project: str, stack: str, config: Mapping[str, str], secret_keys: tuple[str, ...],
    cache_dir: Path | None = None,
) -> str:
    """The entry name for one evaluation: a SHA-256 of everything that can change its result."""
    program = program_dir.resolve()
    # The cache's own directory is left out: otherwise, placed in the tree, every write would change the key.
    parts = {
        "program": str(program),
        "program_sources": sources_digest(program, cache_dir),
        "project_sources": sources_digest(PROJECT, cache_dir),
        "environment": _environment(),
        "project": project,
        "stack": stack,
        "config": dict(config),
        # Order does not matter to the runtime, membership does.
        "secret_keys": sorted(secret_keys),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _entry(cache_dir: Path, entry_key: str) -> Path:
    return cache_dir / f"{entry_key}{_SUFFIX}"


def load(cache_dir: Path, entry_key: str) -> Plan | None:
    """The stored plan, or None when there is none or it cannot be read whole."""
    path = _entry(cache_dir, entry_key)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    # A checksum first, so a truncated or damaged entry is never handed to pickle.
    checksum, payload = data[:32], data[32:]
    if len(checksum) != 32 or hashlib.sha256(payload).digest() != checksum:
        return None
    try:
        plan = pickle.loads(zlib.decompress(payload))  # noqa: S301 - our own entry, checksummed; the directory is trusted
    except Exception:  # noqa: BLE001 - any entry that does not load is a miss
        return None
    if not isinstance(plan, Plan):
        return None
    # Its mtime is when it was last used, so pruning drops the least recently used.
    with contextlib.suppress(OSError):
        os.utime(path)
    return plan


def cached(
    program_dir: Path, project: str, stack: str, config: Mapping[str, str], secret_keys: tuple[str, ...],
    evaluate: Callable[[], Plan],
) -> Plan:
    """The stored plan for this evaluation when the cache is on and has it; else ``evaluate()``, stored."""
    cache_dir = directory()
    if cache_dir is None:
        return evaluate()
    entry_key = key(program_dir, project, stack, config, secret_keys, cache_dir)
    plan = load(cache_dir, entry_key)
    if plan is not None:
        stats.hits += 1
        return plan
    stats.misses += 1
    # An evaluation that raises (bad config, a type the models do not know) is never stored: it is retried.
    plan = evaluate()
    store(cache_dir, entry_key, plan)
    return plan


def store(cache_dir: Path, entry_key: str, plan: Plan) -> None:
    """Write the entry atomically, then keep only the newest ``MAX_ENTRIES``; a failure only skips the write."""
    # Pickle, not the plan's JSON form: that leaves out each resource's outputs. zlib makes an entry ~8x smaller.
    payload = zlib.compress(pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL), 1)
    temp: str | None = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        # Written beside the entry, then renamed over it: a reader in another process sees all of it or none.
        fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=cache_dir)
        with os.fdopen(fd, "wb") as out:
            out.write(hashlib.sha256(payload).digest() + payload)
        os.replace(temp, _entry(cache_dir, entry_key))
        temp = None
    except OSError as exc:
        log.debug("plan cache: not stored in %s: %s", cache_dir, exc)
        return
    finally:
        if temp is not None:
            _unlink(Path(temp))
    stats.stored += 1
    prune(cache_dir)


def prune(cache_dir: Path, keep: int | None = None) -> None:
    """Remove all but the ``keep`` most recently used entries, and temporary files left by dead writers."""
    keep = MAX_ENTRIES if keep is None else keep
    entries: list[tuple[float, Path]] = []
    now = time.time()
    try:
        children = list(cache_dir.iterdir())
    except OSError:
        return
    for path in children:
        try:
            mtime = path.stat().st_mtime
        except OSError:
            # Removed meanwhile by another process's pruning.
            continue
        if path.name.startswith(_TEMP_PREFIX):
            if now - mtime > _STALE_TEMP_SECONDS:
                _unlink(path)
        elif path.name.endswith(_SUFFIX):
            entries.append((mtime, path))
    entries.sort(reverse=True)
    for _, path in entries[keep:]:
        _unlink(path)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError as exc:
        log.debug("plan cache: could not remove %s: %s", path, exc)
