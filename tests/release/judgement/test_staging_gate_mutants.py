"""The staging gate, exactly: each verdict's words and the release it names, the history it reads, and the gate's own refusal.

Each test here was written against a mutant of `release/judgement/staging_gate.py` that the rest of this folder
let live (`make mutate MODULE=release/judgement/staging_gate.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from components.config import load
from components.config.release_record import Backup, BackupState, Outcome, ReleaseRecord
from offline.stacks import ProjectFiles
from release.engine import HistoryEntry
from release.errors import RefusedError
from release.judgement.staging_gate import (
    GATE_WINDOW,
    StagingVerdict,
    needs_migration,
    require_staging,
    staging_verdict,
    staging_verdict_of,
)
from release.state import record as records

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SOAK = timedelta(minutes=60)
MIGRATION = {"migration": {"task_definition_arn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/webapp-migrate:7"}}


def finished(version: str, outcome: Outcome | None, minutes_ago: int, *, migration_exit: int | None = 0) -> ReleaseRecord:
    """A staging release of ``version`` that ended ``minutes_ago`` (``outcome`` None: one still in progress)."""
    ended = NOW - timedelta(minutes=minutes_ago)
    data: dict[str, object] = {
        "id": f"r-{version.replace('.', '')}-{minutes_ago}", "version": version, "colour": "green", "previous": "1.0.0",
        "strategy": "canary", "startedAt": ended - timedelta(minutes=30), "startedBy": "ci",
    }
    if outcome is not None:
        data |= {"outcome": outcome.value, "finishedAt": ended}
    if migration_exit is not None:
        data["migration"] = {"task": "arn:aws:ecs:eu-west-1:123456789012:task/c/abc", "exitCode": migration_exit}
    return ReleaseRecord.model_validate(data)


def judge(releases: list[ReleaseRecord], version: str = "1.2.3") -> StagingVerdict:
    return staging_verdict(releases, version, soak=SOAK, needs_migration=True, now=NOW)


def test_every_refusal_is_a_refusal_naming_staging_release_in_its_words() -> None:
    kept = finished("1.2.3", Outcome.PROMOTED, 120).model_copy(update={"backup": Backup(
        colour="blue", until=NOW, state=BackupState.KEPT, at=NOW - timedelta(minutes=100), why="alarm in the window")})
    cases = {
        "unfinished": ([finished("1.2.3", None, 5)], "staging's last release of 1.2.3 (r-123-5) was unfinished, not promoted", "r-123-5"),
        "aborted": ([finished("1.2.3", Outcome.ABORTED, 5)],
                    "staging's last release of 1.2.3 (r-123-5) was aborted, not promoted", "r-123-5"),
        "rolled back": ([finished("1.2.2", Outcome.ROLLED_BACK, 10), finished("1.2.3", Outcome.PROMOTED, 120)],
                        "staging promoted 1.2.3 (r-123-120) but it was since rolled back", "r-123-120"),
        "replaced": ([finished("1.2.4", Outcome.PROMOTED, 10), finished("1.2.3", Outcome.PROMOTED, 120)],
                     "staging promoted 1.2.3 (r-123-120) but it was since replaced by 1.2.4 (r-124-10)", "r-123-120"),
        "migration": ([finished("1.2.3", Outcome.PROMOTED, 120, migration_exit=2)],
                      "the migration of 1.2.3 exited 2 on staging (r-123-120)", "r-123-120"),
        "backup": ([kept], "staging promoted 1.2.3 (r-123-120) but kept its backup: alarm in the window", "r-123-120"),
        "soak": ([finished("1.2.3", Outcome.PROMOTED, 45)],
                 "1.2.3 has run on staging for 45 min of the 60 min it must soak (r-123-45); 15 min to go", "r-123-45"),
        "never": ([finished("1.2.2", Outcome.PROMOTED, 300)], "staging has no release of 1.2.3: release it there first", None),
    }
    for name, (releases, why, release_id) in cases.items():
        assert judge(releases) == StagingVerdict(False, why, release_id), name
        assert judge(releases).allowed is False, name


def test_an_allowed_version_says_how_long_it_has_held() -> None:
    assert judge([finished("1.2.3", Outcome.PROMOTED, 90)]) == StagingVerdict(
        True, "staging promoted 1.2.3 (r-123-90) 90 min ago with no rollback", "r-123-90")


@pytest.mark.parametrize(("outputs", "expected"), [
    (MIGRATION, True),
    ({"migration": {"task_definition_arn": ""}}, False),
    ({"migration": {}}, False),
    ({"migration": "webapp-migrate"}, False),
    ({}, False),
])
def test_a_release_runs_a_migration_when_the_stack_exports_its_task_definition(outputs: dict[str, Any], expected: bool) -> None:
    assert needs_migration(outputs) is expected


class Staging:
    """Staging's engine as the gate reads it: its config, and its history newest first, a window at a time."""

    def __init__(self, history: list[HistoryEntry], config: Mapping[str, str] | None = None) -> None:
        self.entries = sorted(history, key=lambda h: h.version, reverse=True)
        self.config = dict(config or {})
        self.asked: list[int | None] = []

    def get_config(self) -> dict[str, str]:
        return dict(self.config)

    def history(self, limit: int | None = None) -> list[HistoryEntry]:
        self.asked.append(limit)
        return self.entries[:limit] if limit is not None else list(self.entries)


def updates(count: int, releases: Mapping[int, ReleaseRecord]) -> list[HistoryEntry]:
    """``count`` updates of staging; the update numbered n carries ``releases[n]`` as its last release."""
    entries, last = [], None
    for version in range(1, count + 1):
        last = releases.get(version, last)
        config = {records.LAST_RELEASE: records.encode(last)} if last is not None else {}
        entries.append(HistoryEntry(version, f"update {version}", config, "succeeded"))
    return entries


def test_the_gate_reads_further_back_a_window_four_times_larger_until_it_finds_the_version() -> None:
    # The version's release is 120 updates back, with an aborted release of another version since.
    staging = Staging(updates(200, {80: finished("1.2.3", Outcome.PROMOTED, 120), 150: finished("1.2.4", Outcome.ABORTED, 30)}))
    verdict = staging_verdict_of(staging, "1.2.3", soak=SOAK, needs_migration=True, now=NOW)
    assert verdict == StagingVerdict(True, "staging promoted 1.2.3 (r-123-120) 120 min ago with no rollback", "r-123-120")
    assert staging.asked == [GATE_WINDOW, GATE_WINDOW * 4]


def test_a_release_found_only_in_stagings_current_config_counts() -> None:
    """The finished record is written after the update that ended the release (record.ended_in)."""
    promoted = finished("1.2.3", Outcome.PROMOTED, 90)
    staging = Staging(updates(3, {}), {records.LAST_RELEASE: records.encode(promoted)})
    assert staging_verdict_of(staging, "1.2.3", soak=SOAK, needs_migration=True, now=NOW).allowed is True


def production() -> Any:
    config, _ = ProjectFiles.here().stack_config("production")
    return load(config, "production").release


def test_the_gate_judges_with_the_stacks_soak_and_its_migration_and_refuses_saying_both_ways_on() -> None:
    release = production()
    soak = release.staging_soak_minutes
    untested = finished("1.2.3", Outcome.PROMOTED, soak + 5, migration_exit=None)
    staging = Staging(updates(3, {2: untested}))
    with pytest.raises(RefusedError) as caught:
        require_staging("production", "1.2.3", release, MIGRATION, staging, NOW)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "staging gate", f"the migration of 1.2.3 never ran on staging ({untested.id})",
        f"release it on {release.staging_stack} first (`python -m release deploy --stack {release.staging_stack} --version "
        "1.2.3`), or `python -m release deploy --stack production --version 1.2.3 --skip-staging --reason \"...\"`")
    assert require_staging("production", "1.2.3", release, {}, staging, NOW).allowed is True
    young = Staging(updates(3, {2: finished("1.2.3", Outcome.PROMOTED, soak - 1)}))
    with pytest.raises(RefusedError) as soaking:
        require_staging("production", "1.2.3", release, {}, young, NOW)
    assert soaking.value.why.endswith("; 1 min to go")
