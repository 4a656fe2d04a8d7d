"""The stack history read whole: the Automation API's own ``Stack.history`` over a stand-in of the CLI that pages.

``pulumi stack history --json`` answers one page: 10 updates unless ``--page-size`` says otherwise, page 1 unless
``--page`` does (``pulumi stack history`` in the CLI reference). The stand-in below answers the argument list the
SDK builds exactly so; the engine must ask for every page it needs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from components.config.release_record import Outcome, ReleaseRecord
from release.engine.automation import HISTORY_PAGE, AutomationEngine
from release.judgement.staging_gate import staging_verdict_of
from release.state import MemoryStateStore
from release.state import record as records

START = datetime(2026, 11, 1, tzinfo=UTC)
CLI_PAGE_SIZE = 10  # the CLI's default --page-size


def _record(n: int, version: str, outcome: Outcome) -> ReleaseRecord:
    started = START + timedelta(hours=n)
    return ReleaseRecord.model_validate({
        "id": f"r-{n:04d}", "version": version, "colour": "green", "previous": "1.0.0", "strategy": "canary",
        "startedAt": started, "startedBy": "ci", "outcome": outcome, "finishedAt": started + timedelta(minutes=30),
    })


class _Cli:
    """``pulumi stack history --json [--page-size N --page P]`` over a list of updates, newest first."""

    def __init__(self, updates: list[dict[str, Any]]) -> None:
        self.updates = updates
        self.calls: list[list[str]] = []

    def __call__(self, args: list[str], *_: Any, **__: Any) -> CommandResult:
        self.calls.append(list(args))
        assert args[:3] == ["stack", "history", "--json"]
        size = int(args[args.index("--page-size") + 1]) if "--page-size" in args else CLI_PAGE_SIZE
        page = int(args[args.index("--page") + 1]) if "--page" in args else 1
        chosen = self.updates[(page - 1) * size: page * size]
        return CommandResult(stdout=json.dumps(chosen), stderr="", code=0)


def _update(version: int, config: dict[str, str]) -> dict[str, Any]:
    at = START + timedelta(hours=version)
    return {
        "kind": "update", "startTime": at.strftime("%Y-%m-%dT%H:%M:%S.000000Z"), "message": f"update {version}",
        "environment": {}, "config": {k: {"value": v, "secret": False} for k, v in config.items()}, "result": "succeeded",
        "endTime": (at + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000000Z"), "version": version,
        "resourceChanges": {"same": 60},
    }


def _stack(cli: _Cli) -> Any:
    # The SDK's own Stack, so its history() builds the CLI arguments; only the CLI below it is a stand-in.
    stack = object.__new__(auto.Stack)
    stack._run_pulumi_cmd_sync = cli  # type: ignore[method-assign]
    stack.get_all_config = lambda: {}  # type: ignore[method-assign]
    return stack


def _engine(cli: _Cli, tmp_path: Path) -> AutomationEngine:
    stack = _stack(cli)
    module: Any = SimpleNamespace(
        create_or_select_stack=lambda stack_name, work_dir: stack, ConfigValue=auto.ConfigValue,
        ConcurrentUpdateError=auto.ConcurrentUpdateError, StackNotFoundError=auto.StackNotFoundError,
        CommandError=auto.CommandError,
    )
    return AutomationEngine("staging", tmp_path, automation=module, store=MemoryStateStore({}),
                            qualified="acme-platform/release-platform/staging")


def _staging_history(total: int, promoted_at: int) -> list[dict[str, Any]]:
    """``total`` updates; V 1.4.0 promoted at ``promoted_at``, then only releases of 1.5.0 that were aborted."""
    updates = []
    last: ReleaseRecord | None = None
    for version in range(1, total + 1):
        if version == promoted_at:
            last = _record(version, "1.4.0", Outcome.PROMOTED)
        elif version > promoted_at and version % 3 == 0:
            last = _record(version, "1.5.0", Outcome.ABORTED)
        config = {} if last is None else {records.LAST_RELEASE: records.encode(last)}
        updates.append(_update(version, config))
    return list(reversed(updates))


@pytest.mark.parametrize("total", [1, CLI_PAGE_SIZE, HISTORY_PAGE, HISTORY_PAGE + 1, 3 * HISTORY_PAGE + 7])
def test_every_update_is_read_however_many_pages_it_takes(tmp_path: Path, total: int) -> None:
    cli = _Cli(_staging_history(total, promoted_at=1))
    history = _engine(cli, tmp_path).history()
    assert [h.version for h in history] == list(range(total, 0, -1))
    assert all("--page-size" in call for call in cli.calls)


def test_a_limit_reads_only_the_pages_it_needs(tmp_path: Path) -> None:
    cli = _Cli(_staging_history(4 * HISTORY_PAGE, promoted_at=1))
    engine = _engine(cli, tmp_path)
    assert [h.version for h in engine.history(1)] == [4 * HISTORY_PAGE]
    assert len(engine.history(HISTORY_PAGE + 1)) == HISTORY_PAGE + 1
    assert len(cli.calls) == 1 + 2


class _LandsAfterFirstPage(_Cli):
    """A stand-in where another update lands once the first page was read."""

    def __call__(self, args: list[str], *a: Any, **k: Any) -> CommandResult:
        answer = super().__call__(args)
        if len(self.calls) == 1:
            newest = self.updates[0]["version"] + 1
            self.updates.insert(0, _update(newest, {}))
        return answer


def test_an_update_landing_between_two_pages_is_neither_repeated_nor_skipped(tmp_path: Path) -> None:
    total = 2 * HISTORY_PAGE - 5
    versions = [h.version for h in _engine(_LandsAfterFirstPage(_staging_history(total, promoted_at=1)), tmp_path).history()]
    assert len(versions) == len(set(versions))
    assert set(range(1, total + 1)) <= set(versions)


def test_the_staging_gate_finds_a_release_made_30_updates_ago(tmp_path: Path) -> None:
    total = 41
    cli = _Cli(_staging_history(total, promoted_at=total - 30))
    verdict = staging_verdict_of(
        _engine(cli, tmp_path), "1.4.0", soak=timedelta(minutes=60), needs_migration=False, now=START + timedelta(days=30),
    )
    assert verdict.allowed, verdict.why
    assert verdict.release_id == f"r-{total - 30:04d}"


def test_the_staging_gate_reads_further_windows_until_it_finds_the_release(tmp_path: Path) -> None:
    total = 5 * HISTORY_PAGE
    cli = _Cli(_staging_history(total, promoted_at=7))
    verdict = staging_verdict_of(
        _engine(cli, tmp_path), "1.4.0", soak=timedelta(minutes=60), needs_migration=False, now=START + timedelta(days=60),
    )
    assert verdict.allowed, verdict.why
    assert verdict.release_id == "r-0007"


def test_the_staging_gate_says_there_is_no_release_after_reading_the_whole_history(tmp_path: Path) -> None:
    cli = _Cli(_staging_history(2 * HISTORY_PAGE, promoted_at=10 * HISTORY_PAGE))
    verdict = staging_verdict_of(
        _engine(cli, tmp_path), "1.4.0", soak=timedelta(minutes=60), needs_migration=False, now=START + timedelta(days=60),
    )
    assert not verdict.allowed
    assert "no release of 1.4.0" in verdict.why
