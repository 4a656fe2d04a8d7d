"""The rollback commands end to end through the CLI: output, JSON and exit codes, over a stack in moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from components.config import Colour
from release.cli import app
from release.commands import driver
from release.errors import ExitCode
from release.output.report import report_path
from tests.stack_world import World, release, world

runner = CliRunner()



@pytest.fixture
def w(session: Any, monkeypatch: pytest.MonkeyPatch) -> World:
    # A bake ends at its minute: how the low-traffic rule extends a bake is not the subject here (tests/stack_world.py).
    found = world(session, extend_minutes=0)
    conn = driver.Connection(found.stack, found.ctx.aws, found.clock, found.runner, found.ctx.probe)
    monkeypatch.setattr(driver, "CONNECT", lambda stack: conn)
    return found


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_rollback_after_a_promotion_exits_1_rolled_back_with_the_weights_read_back(w: World) -> None:
    release(w, "v2")
    done = _run("rollback", "--stack", "staging", "--output", "json")
    assert done.exit_code == ExitCode.REFUSED, done.output
    data = json.loads(done.output)
    assert (data["outcome"], data["action"], data["live"], data["version"]) == ("rolled-back", "flipped", "blue", "3f9c2e1a")
    assert data["weights"] == {"blue": 100, "green": 0}
    assert (data["updates"], data["touched"]) == (1, 1)


def test_rollback_with_nothing_to_undo_prints_what_why_and_next(w: World) -> None:
    done = _run("rollback", "--stack", "staging")
    assert done.exit_code == ExitCode.REFUSED
    assert "failed: rollback" in done.output
    assert "why: nothing to roll back on staging" in done.output
    assert "next: python -m release history --stack staging" in done.output


def test_rollback_to_version_shows_the_changes_and_asks_first(w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    release(w, "v2")
    release(w, "v3")
    first = next(h.version for h in w.stack.history() if "promote green (v2)" in h.message)
    monkeypatch.setattr("release.commands.rollback.offline_differ", lambda stack: None)
    issued = len(w.stack.issued)

    declined = runner.invoke(app, ["rollback", "--stack", "staging", "--to-version", str(first)], input="n\n")

    assert declined.exit_code == ExitCode.REFUSED
    assert f"rollback to stack version {first}: release v2 again" in declined.output
    # Green still runs v2 (v3 went to blue), so the release only has to make green live again.
    assert "release:live: blue -> green" in declined.output
    assert "deploy v2 to" in declined.output
    assert len(w.stack.issued) == issued, "declining changes nothing"

    done = _run("rollback", "--stack", "staging", "--to-version", str(first), "--yes", "--output", "json")
    assert done.exit_code == ExitCode.OK, done.output
    data = json.loads(done.output)
    assert (data["outcome"], data["record"]["version"], data["record"]["rollbackTo"]) == ("promoted", "v2", first)
    assert data["preview"]["stack_version"] == first


def test_rollback_to_version_in_json_without_yes_is_bad_input(w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    release(w, "v2")
    monkeypatch.setattr("release.commands.rollback.offline_differ", lambda stack: None)
    done = _run("rollback", "--stack", "staging", "--to-version", "1", "--output", "json")
    assert done.exit_code == ExitCode.BAD_INPUT
    assert "needs --yes: there is nobody to confirm" in json.loads(done.output)["error"]["why"]


def test_rollback_to_an_unknown_version_is_bad_input(w: World) -> None:
    done = _run("rollback", "--stack", "staging", "--to-version", "42", "--yes")
    assert done.exit_code == ExitCode.BAD_INPUT
    assert "--to-version 42: stack staging has no such version; recorded versions: 1" in done.output


def test_rollback_of_an_unknown_stack_is_bad_input(w: World) -> None:
    done = _run("rollback", "--stack", "nope")
    assert done.exit_code == ExitCode.BAD_INPUT
    assert "unknown stack 'nope'; the stacks are: production, staging" in done.output


def test_history_as_json_and_as_a_table(w: World) -> None:
    release(w, "v2")
    data = json.loads(_run("history", "--stack", "staging", "--output", "json").output)
    assert [(r["version"], r["outcome"], r["highest_weight"], r["strategy"]) for r in data] == [("v2", "promoted", 100, "canary")]
    table = runner.invoke(app, ["history", "--stack", "staging"], env={"COLUMNS": "200"})
    assert table.exit_code == ExitCode.OK
    assert "v2" in table.output
    assert "promoted" in table.output
    assert "alice@laptop" in table.output


def test_history_names_each_release_report(w: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RELEASE_REPORTS_DIR", str(tmp_path))
    release(w, "v2")
    (row,) = json.loads(_run("history", "--stack", "staging", "--output", "json").output)
    assert row["report"] is None
    written = report_path("staging", row["release"])
    written.parent.mkdir(parents=True)
    written.write_text("<html></html>")
    (row,) = json.loads(_run("history", "--stack", "staging", "--output", "json").output)
    assert row["report"] == str(written)


def test_migrate_exits_0_and_names_its_snapshot(w: World) -> None:
    done = _run("migrate", "--stack", "staging", "--yes", "--output", "json")
    assert done.exit_code == ExitCode.OK, done.output
    data = json.loads(done.output)
    assert (data["direction"], data["outcome"], data["exit_code"]) == ("migrate", "migrated", 0)
    assert data["snapshot"].startswith("staging-migrate-")


def test_a_failed_migration_rollback_exits_1(w: World) -> None:
    w.runner.exit_code = 2
    done = _run("migrate", "--stack", "staging", "--rollback", "--yes")
    assert done.exit_code == ExitCode.REFUSED
    assert "exited with 2" in done.output


def test_a_busy_stack_exits_1_naming_who_holds_it(w: World) -> None:
    release(w, "v2", until_weight=25)
    w.stack.busy_with = "carol@ci"
    done = _run("rollback", "--stack", "staging")
    assert done.exit_code == ExitCode.REFUSED
    assert "another update holds stack staging (carol@ci)" in done.output


def test_resume_abort_ends_the_release_and_resume_refuses_when_none_runs(w: World) -> None:
    release(w, "v2", until_weight=25)
    ended = _run("resume", "--stack", "staging", "--abort", "--output", "json")
    assert ended.exit_code == ExitCode.REFUSED
    assert json.loads(ended.output)["outcome"] == "aborted"
    assert w.stack.served() == {"blue": 100, "green": 0}
    again = _run("resume", "--stack", "staging")
    assert again.exit_code == ExitCode.REFUSED
    assert "no release is in progress on staging" in again.output


def test_resume_completes_the_release(w: World) -> None:
    release(w, "v2", until_weight=25)
    done = _run("resume", "--stack", "staging", "--output", "json")
    assert done.exit_code == ExitCode.OK, done.output
    assert json.loads(done.output)["outcome"] == "promoted"
    assert w.stack.release_config().live is Colour.GREEN


def test_an_interrupted_resume_prints_how_to_resume_or_abort_and_exits_1(w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    release(w, "v2", until_weight=25)

    def stopped(ctx: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("release.commands.rollback.resume", stopped)
    done = runner.invoke(app, ["resume", "--stack", "staging"], env={"COLUMNS": "200"})
    assert done.exit_code == ExitCode.REFUSED
    assert "traffic stays at the last verified weights" in done.output
    assert "python -m release resume --stack staging" in done.output
    assert "python -m release abort --stack staging" in done.output
    assert w.stack.served() == {"blue": 75, "green": 25}


def test_sigterm_stops_a_release_like_ctrl_c() -> None:
    import os
    import signal
    import time

    from release.rollback.resume import terminate_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    def killed() -> None:
        with terminate_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(2)  # the handler raises as soon as the signal arrives

    with pytest.raises(KeyboardInterrupt):
        killed()
    assert signal.getsignal(signal.SIGTERM) == before, "the previous handler is back"
