"""The real engine: Pulumi's Automation API over this repository's program.

``create_or_select_stack(stack_name=..., work_dir=<repo root>)`` runs the local
program, one stack at a time. The Automation API raises ``ConcurrentUpdateError``,
``StackNotFoundError`` and ``CommandError``; each is mapped here to a domain error
that says what failed, why and what to run next, so no raw CLI output reaches a user.
The ``automation`` module is injectable: tests pass a stand-in whose stack object
records the calls, because the Pulumi CLI cannot run where the tests run.

The release keys are never written with ``set_all_config`` (that would put them
in ``Pulumi.<stack>.yaml`` of whatever checkout the driver runs in, where the
next push or drift run would revert them): they go to the stack's ESC
environment through the release state store, compare-and-set on its ETag, and
every update resolves them from there like any other runner.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from offline.plan import SECRET
from offline.stacks import ROOT, ProjectFiles
from release.engine.base import (
    EngineError,
    HistoryEntry,
    StackBusyError,
    StackMissingError,
    UpdateFailedError,
    UpdateResult,
)
from release.state import RELEASE_KEYS, EscStateStore, ReleaseStateStore, write_latest

# Updates asked for per ``pulumi stack history`` call: a release makes a handful, so one page holds several releases.
HISTORY_PAGE = 50

# The CLI names the holder of a lock in its message; shown to the user so they know whom to ask.
# Pulumi's lock message lists each lock file as "...: created by user@host (pid N) at <time>".
_LOCK_OWNER = re.compile(r"created by\s+([^\s;,()]+)", re.IGNORECASE)
_HOLDER = re.compile(r"(?:locked by|held by|by user)\s+([^\s;,]+)", re.IGNORECASE)


def _automation() -> ModuleType:
    from pulumi import automation

    return automation


class AutomationEngine:
    """A stack of this repository's project, driven through the Automation API."""

    def __init__(
        self,
        stack: str,
        work_dir: Path = ROOT,
        *,
        automation: ModuleType | None = None,
        on_output: Callable[[str], None] | None = None,
        store: ReleaseStateStore | None = None,
        qualified: str | None = None,
    ) -> None:
        self.stack = stack
        self._qualified = qualified
        self.work_dir = work_dir
        self._auto = automation or _automation()
        self._on_output = on_output
        self._handle: Any = None
        self._holder: str | None = None
        self._store = store

    @property
    def store(self) -> ReleaseStateStore:
        """The stack's release environment (``<project>/<stack>-release`` in ``deployments:organization``)."""
        if self._store is None:
            files = ProjectFiles(self.work_dir)
            self._store = EscStateStore.for_stack(files, self.stack, files.stack_config(self.stack, required_secrets=())[0])
        return self._store

    @contextmanager
    def _mapped(self, what: str) -> Iterator[None]:
        auto = self._auto
        status = f"python -m release status --stack {self.stack}"
        try:
            yield
        except auto.ConcurrentUpdateError as exc:
            text = _text(exc)
            match = _LOCK_OWNER.search(text) or _HOLDER.search(text)
            self._holder = match.group(1) if match else "another update"
            raise StackBusyError(
                what, f"another update holds stack {self.stack} ({self._holder})",
                f"wait for it to finish, then `{status}`; if it was killed, `pulumi cancel --stack {self.stack}`",
            ) from exc
        except auto.StackNotFoundError as exc:
            raise StackMissingError(
                what, f"stack {self.stack} does not exist in the Pulumi backend",
                f"`pulumi stack init {self.stack}` (or `pulumi login` to the right backend)",
            ) from exc
        except auto.CommandError as exc:
            raise UpdateFailedError(what, _last_error_line(_text(exc)), f"read the update log, then `{status}`") from exc

    @property
    def _stack(self) -> Any:
        if self._handle is None:
            with self._mapped(f"selecting stack {self.stack}"):
                self._handle = self._auto.create_or_select_stack(stack_name=self.qualified, work_dir=str(self.work_dir))
        return self._handle

    @property
    def qualified(self) -> str:
        """The stack's fully qualified name, ``<organization>/<project>/<stack>``.

        An unqualified name is looked up, or created, in the default organisation of whoever's token runs the
        driver ("Stacks", Pulumi docs: fully qualified stack names), for a personal token the user's own. The
        organisation is ``deployments:organization``.
        """
        if self._qualified is None:
            if self.stack.count("/") == 2:
                self._qualified = self.stack
            else:
                files = ProjectFiles(self.work_dir)
                org = files.stack_config(self.stack, required_secrets=())[0].get("deployments:organization", "")
                if not org:
                    what = f"selecting stack {self.stack}"
                    raise StackMissingError(
                        what,
                        "deployments:organization is not set, so the stack's organisation is unknown; an unqualified "
                        "name would select or create the stack in the token's default organisation",
                        f"pulumi config set deployments:organization <org> -s {self.stack}",
                    )
                self._qualified = f"{org}/{files.project}/{self.stack}"
        return self._qualified

    def get_config(self) -> dict[str, str]:
        """The stack's config map, with the release keys as the release environment holds them now."""
        with self._mapped("reading the stack config"):
            values = self._stack.get_all_config()
        config = {key: (SECRET if v.secret else str(v.value)) for key, v in values.items() if key not in RELEASE_KEYS}
        # Only the release keys: any other key the environment gives yields to the stack file, as Pulumi resolves it.
        config.update({k: v for k, v in self.store.read()[0].items() if k in RELEASE_KEYS})
        return config

    def set_config(self, values: Mapping[str, str]) -> None:
        """Release keys to the release environment; any other key to the stack's settings file."""
        release = {k: v for k, v in values.items() if k in RELEASE_KEYS}
        others = {key: self._auto.ConfigValue(value=value, secret=False) for key, value in values.items() if key not in RELEASE_KEYS}
        if others:
            with self._mapped("setting the stack config"):
                self._stack.set_all_config(others)
        if release:
            self._store_write(release, ())

    def remove_config(self, keys: Sequence[str]) -> None:
        """Remove config keys (release keys from the release environment)."""
        release = [k for k in keys if k in RELEASE_KEYS]
        with self._mapped("reading the stack config"):
            present = set(self._stack.get_all_config())
        wanted = [k for k in keys if k in present and k not in RELEASE_KEYS]
        if wanted:
            with self._mapped("removing stack config"):
                self._stack.remove_all_config(wanted)
        if release:
            self._store_write({}, release)

    def _store_write(self, changes: Mapping[str, str], removals: Sequence[str]) -> None:
        write_latest(self.store, changes, removals, self.stack)

    def read_release(self) -> tuple[dict[str, str], str]:
        """The release keys from the release environment, and its ETag."""
        return self.store.read()

    def write_release(self, changes: Mapping[str, str], removals: Sequence[str], expect_etag: str) -> str:
        """PATCH the release environment if it is still at ``expect_etag``."""
        return self.store.write(changes, removals, expect_etag)

    def update(self, message: str, targets: Sequence[str] | None = None) -> UpdateResult:
        """``pulumi up`` with a message; ``targets`` limits it to those URNs."""
        with self._mapped(f"update of stack {self.stack}"):
            result = self._stack.up(message=message, target=list(targets) if targets else None, on_output=self._on_output)
        counts = dict(result.summary.resource_changes or {})
        return UpdateResult(version=int(result.summary.version or 0), changed=(), counts=counts)

    def outputs(self) -> dict[str, Any]:
        """The stack outputs; secrets as ``[secret]``."""
        with self._mapped("reading the stack outputs"):
            values = self._stack.outputs()
        return {key: (SECRET if v.secret else v.value) for key, v in values.items()}

    def history(self, limit: int | None = None) -> list[HistoryEntry]:
        """The stack's update history with the config of each update, newest first, read page by page.

        ``pulumi stack history`` returns one page of 10 updates unless asked for a page size (the CLI's
        ``--page-size`` defaults to 10, ``--page`` to 1: ``pulumi stack history`` in the CLI reference), and
        the Automation API passes neither unless given ``page_size``. So the pages are asked for one by one
        until one comes back short, or ``limit`` updates were read. An update that lands between two pages
        shifts the older ones down by one: the repeat is dropped by stack version, and nothing is skipped.
        """
        size = HISTORY_PAGE if limit is None else max(1, min(HISTORY_PAGE, limit))
        seen: dict[int, HistoryEntry] = {}
        page = 1
        while limit is None or len(seen) < limit:
            with self._mapped("reading the stack history"):
                summaries = self._stack.history(page_size=size, page=page)
            for s in summaries:
                entry = _entry(s)
                seen.setdefault(entry.version, entry)
            if len(summaries) < size:
                break
            page += 1
        entries = sorted(seen.values(), key=lambda h: h.version, reverse=True)
        return entries if limit is None else entries[:limit]

    def holder(self) -> str | None:
        """Who held the stack when an update was last refused; None when nobody did."""
        return self._holder


def _entry(s: Any) -> HistoryEntry:
    return HistoryEntry(
        version=int(s.version or 0),
        message=s.message or "",
        config={key: (SECRET if v.secret else str(v.value)) for key, v in s.config.items()},
        result=s.result,
        started=s.start_time,
        finished=s.end_time,
        counts=dict(s.resource_changes or {}),
    )


def _text(exc: Exception) -> str:
    # The Automation API's errors carry the CLI's code, stdout and stderr in their message.
    return str(exc)


def _last_error_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error")]
    return (errors or lines or ["the Pulumi CLI failed without a message"])[-1]


__all__ = ["AutomationEngine", "EngineError"]
