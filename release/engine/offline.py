"""An engine over the offline evaluator: every update evaluates the real program under mocks.

Config starts from the stack's ``Pulumi.<stack>.yaml`` and lives in memory (or
in a small JSON state file, so a second process sees the same stack). An update
evaluates the program with the current config, diffs the plan against the last
one to say which resources changed, appends to its own history and calls the
registered hooks with the new plan (the rehearsal uses one to apply the
listener's forward weights to moto).

A targeted update applies only the changes to the targeted URNs; the others are
reported by ``skipped`` in the hook and are not counted as changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from components.config import ConfigError
from offline import Plan, evaluate
from offline.diff import diff
from offline.evaluator import OfflineEvaluationError
from offline.stacks import ProjectFiles
from release.clock import Clock, SystemClock
from release.engine.base import HistoryEntry, StackBusyError, UpdateFailedError, UpdateResult

UpdateHook = Callable[[Plan, UpdateResult], None]

# Plans are immutable and a function of (program, stack, config): rehearsals repeat the same
# configs (the same release on a fresh stack), so their evaluations are shared. Bounded.
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
        config, self._secret_keys = self.files.stack_config(stack)
        self._config: dict[str, str] = config
        self._history: list[HistoryEntry] = []
        self._version = 1
        if state_path is not None and state_path.exists():
            self._load(state_path)
        # The deployed state is the config of the last successful update (the file's, to start with).
        self._deployed = dict(self._config)
        self._plan: Plan | None = None

    # --- state file -----------------------------------------------------------

    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text())
        self._config = dict(data["config"])
        self._version = int(data["version"])
        self.busy_with = data.get("busy_with")
        self._history = [
            HistoryEntry(version=h["version"], message=h["message"], config=h["config"], result=h["result"])
            for h in data["history"]
        ]

    def _save(self) -> None:
        if self.state_path is None:
            return
        data = {
            "config": self._config,
            "version": self._version,
            "busy_with": self.busy_with,
            "history": [
                {"version": h.version, "message": h.message, "config": dict(h.config), "result": h.result}
                for h in self._history
            ],
        }
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        self.state_path.write_text(json.dumps(data, indent=2))

    # --- StackEngine ----------------------------------------------------------

    def get_config(self) -> dict[str, str]:
        """The current flat config map."""
        return dict(self._config)

    def set_config(self, values: Mapping[str, str]) -> None:
        """Set keys in memory (and in the state file, when there is one)."""
        self._config.update(values)
        self._save()

    def remove_config(self, keys: Sequence[str]) -> None:
        """Remove keys; absent ones are ignored."""
        for key in keys:
            self._config.pop(key, None)
        self._save()

    def plan(self) -> Plan:
        """The plan of the last successful update (the deployed state); evaluated once on first use."""
        if self._plan is None:
            self._plan = self._evaluate(self._deployed)
        return self._plan

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

    def update(self, message: str, targets: Sequence[str] | None = None) -> UpdateResult:
        """Evaluate the program with the current config; record and announce what changed."""
        if self.busy_with:
            msg = f"update of stack {self.stack}"
            raise StackBusyError(
                msg, f"another update is in progress ({self.busy_with})",
                f"wait for it, then `python -m release status --stack {self.stack}`",
            )
        before = self.plan()
        started = self.clock.now()
        try:
            after = self._evaluate(self._config)
        except UpdateFailedError:
            self._history.insert(0, HistoryEntry(self._version + 1, message, dict(self._config), "failed", started, self.clock.now()))
            self._version += 1
            self._save()
            raise
        found = diff(before, after)
        changed = tuple(d.urn for d in found.resources if targets is None or d.urn in targets)
        counts: dict[str, int] = {}
        for d in found.resources:
            if targets is None or d.urn in targets:
                counts[d.kind] = counts.get(d.kind, 0) + 1
        self._version += 1
        result = UpdateResult(version=self._version, changed=changed, counts=counts)
        self._plan = after
        self._deployed = dict(self._config)
        self.updates.append(result)
        self._history.insert(0, HistoryEntry(self._version, message, dict(self._config), "succeeded", started, self.clock.now(), counts))
        self._save()
        for hook in self.hooks:
            hook(after, result)
        return result

    def outputs(self) -> dict[str, Any]:
        """The outputs of the deployed plan."""
        return dict(self.plan().outputs)

    def history(self) -> list[HistoryEntry]:
        """Updates made through this engine (or its state file), newest first."""
        return list(self._history)

    def holder(self) -> str | None:
        """Who holds the stack, when somebody does."""
        return self.busy_with
