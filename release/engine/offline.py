"""An engine over the offline evaluator: every update evaluates the real program under mocks.

It behaves like Pulumi where the driver depends on it:

- **Config is read on every call**: the stack file (``Pulumi.<stack>.yaml``,
  with the environments it imports), then keys set through this engine (kept in
  its state file when it has one, so another process sees them), then the
  release keys from the release state store, which stands in for the stack's
  ESC environment. Another process's change is seen by the next call.
- **Targets are honoured**: a targeted update changes only the targeted
  resources; every other difference stays pending, is reported in the result
  (``pending``) and is applied by the next untargeted update. The stack outputs
  are not re-evaluated by a targeted update. Dependents are not pulled in, as
  ``pulumi up --target`` without ``--target-dependents`` (Pulumi CLI docs,
  "pulumi up": "--target-dependents  Allows updating of dependent targets
  discovered but not specified in --target list").
- **One update at a time**: an update holds an exclusive lock on a lock file
  beside the state file (across processes) and a concurrent one gets
  ``StackBusyError`` naming the holder, as the service's stack lock does.

The registered hooks are called with the new deployed plan after each update
(the rehearsal uses one to apply the listener's forward weights to moto).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from components.config import ConfigError
from offline import Plan, evaluate
from offline.diff import diff
from offline.evaluator import OfflineEvaluationError
from offline.stacks import ProjectFiles
from release.clock import Clock, SystemClock
from release.engine.base import HistoryEntry, StackBusyError, UpdateFailedError, UpdateResult
from release.state import RELEASE_KEYS, FileStateStore, MemoryStateStore, ReleaseStateStore, write_latest

UpdateHook = Callable[[Plan, UpdateResult], None]

# Plans are immutable and a function of (program, stack, config): rehearsals repeat the same
# configs (the same release on a fresh stack), so their evaluations are shared. Bounded. Across processes,
# ``offline.evaluate`` itself reads and writes the disk cache when RELEASE_PLAN_CACHE is set (offline/cache.py).
_PLANS: dict[tuple[str, str, str], Plan] = {}
_PLANS_MAX = 128


class OfflineEngine:
    """A stack whose updates are offline evaluations of the program."""

    def __init__(
        self,
        stack: str,
        files: ProjectFiles | None = None,
        *,
        program_dir: Path | None = None,
        state_path: Path | None = None,
        clock: Clock | None = None,
        store: ReleaseStateStore | None = None,
    ) -> None:
        self.stack = stack
        self.files = files or ProjectFiles.here()
        # The program may differ from the project whose config is read (the rehearsal's stand-in).
        self.program_dir = program_dir or self.files.root
        self.state_path = state_path
        self.clock = clock or SystemClock()
        self.hooks: list[UpdateHook] = []
        self.updates: list[UpdateResult] = []
        self.busy_with: str | None = None
        file_config, self._secret_keys = self.files.stack_config(stack)
        initial = {k: v for k, v in file_config.items() if k in RELEASE_KEYS}
        if store is None:
            store = (FileStateStore(state_path.with_name(f"{state_path.stem}.release.json"), initial) if state_path
                     else MemoryStateStore(initial, name=f"release state of {stack} (in memory)"))
        self.store = store
        self._local: dict[str, str] = {}
        self._removed: set[str] = set()
        self._history: list[HistoryEntry] = []
        self._version = 1
        self._refresh()
        # The deployed state starts as the config as it is now (the files', to start with).
        self._deployed = self.get_config()
        self._plan: Plan | None = None

    # --- state file -----------------------------------------------------------

    def _refresh(self) -> None:
        if self.state_path is None or not self.state_path.exists():
            return
        data = json.loads(self.state_path.read_text())
        self._local = dict(data.get("local") or {})
        self._removed = set(data.get("removed") or ())
        self._version = int(data["version"])
        self.busy_with = data.get("busy_with")
        self._history = [
            HistoryEntry(version=h["version"], message=h["message"], config=h["config"], result=h["result"],
                         counts=h.get("counts") or {})
            for h in data["history"]
        ]

    def _save(self) -> None:
        if self.state_path is None:
            return
        data = {
            "local": self._local, "removed": sorted(self._removed), "version": self._version, "busy_with": self.busy_with,
            "history": [
                {"version": h.version, "message": h.message, "config": dict(h.config), "result": h.result, "counts": dict(h.counts)}
                for h in self._history
            ],
        }
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.state_path.with_name(f".{self.state_path.name}.{os.getpid()}")
        temp.write_text(json.dumps(data, indent=2))
        temp.replace(self.state_path)

    # --- StackEngine ----------------------------------------------------------

    def get_config(self) -> dict[str, str]:
        """The stack's config as it is now: its file, keys set through the engine, then the release state."""
        self._refresh()
        config, _ = self.files.stack_config(self.stack)
        config = {k: v for k, v in config.items() if k not in RELEASE_KEYS and k not in self._removed}
        config.update(self._local)
        config.update({k: v for k, v in self.store.read()[0].items() if k in RELEASE_KEYS})
        return config

    def set_config(self, values: Mapping[str, str]) -> None:
        """Set keys: release keys in the release state store, the others as ``pulumi config set`` would."""
        release = {k: v for k, v in values.items() if k in RELEASE_KEYS}
        others = {k: v for k, v in values.items() if k not in RELEASE_KEYS}
        if others:
            self._refresh()
            self._local.update(others)
            self._removed.difference_update(others)
            self._save()
        if release:
            self._store_write(release, ())

    def remove_config(self, keys: Sequence[str]) -> None:
        """Remove keys; absent ones are ignored."""
        release = [k for k in keys if k in RELEASE_KEYS]
        others = [k for k in keys if k not in RELEASE_KEYS]
        if others:
            self._refresh()
            for key in others:
                self._local.pop(key, None)
                self._removed.add(key)
            self._save()
        if release:
            self._store_write({}, release)

    def _store_write(self, changes: Mapping[str, str], removals: Sequence[str]) -> None:
        write_latest(self.store, changes, removals, self.stack)

    def read_release(self) -> tuple[dict[str, str], str]:
        """The release keys and their tag."""
        return self.store.read()

    def write_release(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        """Compare-and-set the release keys."""
        return self.store.write(changes, removals, expect_etag)

    def plan(self) -> Plan:
        """The plan of the last successful update (the deployed state); evaluated once on first use."""
        if self._plan is None:
            self._plan = self._evaluate(self._deployed)
        return self._plan

    def preview(self) -> Plan:
        """The plan the current config would deploy (what ``pulumi preview`` shows), without deploying it."""
        return self._evaluate(self.get_config())

    def _evaluate(self, config: dict[str, str]) -> Plan:
        key = (str(self.program_dir), self.stack, json.dumps(config, sort_keys=True))
        if key in _PLANS:
            return _PLANS[key]
        plan = self._evaluate_uncached(config)
        if len(_PLANS) >= _PLANS_MAX:
            _PLANS.pop(next(iter(_PLANS)))
        _PLANS[key] = plan
        return plan

    def _evaluate_uncached(self, config: dict[str, str]) -> Plan:
        try:
            return evaluate(self.program_dir, self.files.project, self.stack, config, self._secret_keys)
        except ConfigError as exc:
            msg = f"update of stack {self.stack}"
            raise UpdateFailedError(
                msg, f"the stack config is invalid: {'; '.join(exc.problems)}",
                f"fix the config, then `python -m release status --stack {self.stack}`",
            ) from exc
        except OfflineEvaluationError as exc:
            msg = f"update of stack {self.stack}"
            raise UpdateFailedError(
                msg, str(exc), "add the missing offline model, then retry",
            ) from exc

    @property
    def lock_path(self) -> Path | None:
        """The stack's update lock, when the engine has a state file."""
        return None if self.state_path is None else self.state_path.with_name(f"{self.state_path.name}.update.lock")

    @contextmanager
    def locked(self, who: str) -> Iterator[None]:
        """Hold the stack for one update; StackBusyError naming the holder when another update has it."""
        what = f"update of stack {self.stack}"
        next_command = f"wait for it, then `python -m release status --stack {self.stack}`"
        if self.busy_with:
            raise StackBusyError(what, f"another update is in progress ({self.busy_with})", next_command)
        path = self.lock_path
        if path is None:
            self.busy_with = who
            try:
                yield
            finally:
                self.busy_with = None
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise StackBusyError(what, f"another update is in progress ({holder})", next_command) from None
            try:
                handle.seek(0)
                handle.truncate()
                handle.write(f"{who} (pid {os.getpid()}) since {self.clock.now():%Y-%m-%d %H:%M:%S} UTC")
                handle.flush()
                yield
            finally:
                handle.truncate(0)
                fcntl.flock(handle, fcntl.LOCK_UN)

    def update(self, message: str, targets: Sequence[str] | None = None) -> UpdateResult:
        """Evaluate the program with the current config; apply the targets' changes (or all); record and announce."""
        with self.locked(message[:80]):
            return self._update(message, targets)

    def _update(self, message: str, targets: Sequence[str] | None) -> UpdateResult:
        config = self.get_config()
        before = self.plan()
        started = self.clock.now()
        try:
            after = self._evaluate(config)
        except UpdateFailedError:
            self._refresh()
            self._version += 1
            self._history.insert(0, HistoryEntry(self._version, message, dict(config), "failed", started, self.clock.now()))
            self._save()
            raise
        found = diff(before, after)
        wanted = None if targets is None else set(targets)
        applied = [d for d in found.resources if wanted is None or d.urn in wanted]
        pending = tuple(d.urn for d in found.resources if wanted is not None and d.urn not in wanted)
        counts: dict[str, int] = {}
        for d in applied:
            counts[d.kind] = counts.get(d.kind, 0) + 1
        deployed = after if not pending else _partial(before, after, wanted or set())
        self._refresh()
        self._version += 1
        result = UpdateResult(version=self._version, changed=tuple(d.urn for d in applied), counts=counts, pending=pending)
        self._plan = deployed
        if not pending:
            self._deployed = dict(config)
        self.updates.append(result)
        self._history.insert(0, HistoryEntry(self._version, message, dict(config), "succeeded", started, self.clock.now(), counts))
        self._save()
        for hook in self.hooks:
            hook(deployed, result)
        return result

    def outputs(self) -> dict[str, Any]:
        """The outputs of the deployed plan."""
        return dict(self.plan().outputs)

    def history(self, limit: int | None = None) -> list[HistoryEntry]:
        """Updates made through this engine (or its state file), newest first; the newest ``limit`` when given."""
        self._refresh()
        return list(self._history if limit is None else self._history[:limit])

    def holder(self) -> str | None:
        """Who holds the stack, when somebody does."""
        path = self.lock_path
        if self.busy_with or path is None or not path.exists():
            return self.busy_with
        return path.read_text().strip() or None


def _partial(before: Plan, after: Plan, targets: set[str]) -> Plan:
    """The deployed plan after a targeted update: the targets as planned now, everything else as it was."""
    new = after.by_urn()
    old = before.by_urn()
    resources = [new[urn] if urn in targets and urn in new else res for urn, res in old.items() if urn not in targets or urn in new]
    resources.extend(res for urn, res in new.items() if urn in targets and urn not in old)
    return Plan(before.project, before.stack, tuple(resources), dict(before.outputs), before.warnings)
