"""``rollback`` on a rolling stack: the previous version back on the live colour, verified; never a flip to the standby."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from components.config import Colour
from components.config.release_record import Outcome
from release.cli import app
from release.commands import driver
from release.errors import ExitCode, RefusedError
from release.rollback import to_version as rollback_version
from release.rollback.fast import RollbackRefusedError, fast_rollback
from release.rollback.rolling import rolling_rollback
from release.state import record as records
from release.strategies.executor import Executor, abort
from release.strategies.failure import StepFailure
from release.strategies.planner import ReleaseOptions, plan_release
from release.strategies.steps import Roll, Watch
from tests.release.strategies.test_rolling import NEW, _live_version, _release
from tests.rolling_support import rollback_killed_after_its_write, rolling_world


def _released(session: Any, green: str | None = None) -> tuple[Any, Any, str]:
    """A rolling stack on which NEW was released and promoted on blue (green, the standby, runs ``green`` when given)."""
    w, ecs = rolling_world(session, "completes")
    old = _live_version(w)
    if green is not None:
        w.stack.set_release(versions={"blue": old, "green": green})
    assert _release(w).outcome is Outcome.PROMOTED
    w.stack.issued.clear()
    return w, ecs, old


def test_rollback_puts_the_previous_version_back_on_the_live_colour_in_one_verified_update(session: Any) -> None:
    w, ecs, old = _released(session)
    done = fast_rollback(w.ctx)
    config = w.stack.release_config()
    # Blue stays live and runs the previous version again; green (which also runs it) was not flipped to.
    assert (done.action, done.live, done.version) == ("rolled", Colour.BLUE, old)
    assert (config.live, config.versions.blue) == (Colour.BLUE, old)
    assert [u["changed"] for u in w.stack.issued] == [["service-blue"]]
    assert w.stack.served() == {"blue": 100, "green": 0}
    # Verified: the driver waited for ECS's deployment of the old image to complete (30 s after it began).
    assert ecs.restored_at is not None
    assert w.clock.monotonic() >= ecs.restored_at + 30
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert (last.outcome, last.version, last.previous, last.colour) == (Outcome.ROLLED_BACK, old, NEW, Colour.BLUE)
    assert records.in_progress(w.stack) is None


def test_rollback_never_flips_to_a_standby_that_runs_an_unrelated_version(session: Any) -> None:
    w, _, old = _released(session, green="0.1.0-unrelated")
    done = fast_rollback(w.ctx)
    config = w.stack.release_config()
    assert (done.live, config.live, config.versions.blue, config.versions.green) == (Colour.BLUE, Colour.BLUE, old, "0.1.0-unrelated")


def test_rollback_with_no_release_is_refused_with_nothing_changed(session: Any) -> None:
    w, _ = rolling_world(session, "completes")
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(w.ctx)
    assert "nothing to roll back on staging: no release is in progress and no release has run" in caught.value.why
    assert w.stack.issued == []


def test_rollback_after_a_release_that_rolled_back_is_refused(session: Any) -> None:
    w, _ = rolling_world(session, "rolls-back")
    assert _release(w).outcome is Outcome.ROLLED_BACK
    w.stack.issued.clear()
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(w.ctx)
    assert "ended rolled-back" in caught.value.why
    assert w.stack.issued == []


def test_rollback_during_a_release_is_refused_and_names_abort(session: Any) -> None:
    w, _, _ = _released(session)
    held = records.new_record(w.stack.release_config(), "3.0.0", "rolling", w.clock, "bob@ci")
    records.commit(w.stack, None, held)
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(w.ctx)
    assert "is in progress on staging, held by bob@ci" in caught.value.why
    assert caught.value.next_command == "python -m release abort --stack staging"
    assert w.stack.issued == []
    assert _live_version(w) == NEW


def test_rollback_when_the_live_colour_changed_since_the_last_release_is_refused(session: Any) -> None:
    w, _, old = _released(session)
    w.stack.set_release(versions={"blue": "2.0.1-hotfix", "green": old})
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(w.ctx)
    assert "blue (live) runs 2.0.1-hotfix" in caught.value.why
    assert w.stack.issued == []


def test_a_deployment_ecs_does_not_complete_exits_3_with_the_config_as_it_was(session: Any) -> None:
    w, ecs, _ = _released(session)
    # ECS never completes the deployment of the old image.
    ecs.restored_at = 1e12
    with pytest.raises(StepFailure) as caught:
        fast_rollback(w.ctx)
    assert caught.value.infrastructure
    assert "did not reach COMPLETED" in caught.value.why
    assert "describe-services" in caught.value.next_command
    assert "`python -m release rollback --stack staging` again" in caught.value.next_command
    # Old state, whole: the config names the release's version, the release is still the last one, nothing in progress.
    assert _live_version(w) == NEW
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert (last.outcome, last.version) == (Outcome.PROMOTED, NEW)
    assert records.in_progress(w.stack) is None


def test_a_deployment_that_completes_on_the_wrong_image_is_not_a_rollback(session: Any) -> None:
    w, ecs, _ = _released(session)
    # ECS completes the rollback's deployment, but on an image that is not the previous version.
    ecs.back_on = "9.9.9"
    with pytest.raises(StepFailure) as caught:
        fast_rollback(w.ctx)
    assert caught.value.infrastructure
    assert "did not reach COMPLETED with" in caught.value.why
    assert "9.9.9" in caught.value.why
    assert _live_version(w) == NEW
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert (last.outcome, last.version) == (Outcome.PROMOTED, NEW)


def test_a_deployment_whose_targets_stay_unhealthy_exits_3(session: Any) -> None:
    w, _, _ = _released(session)
    w.stack.scale_down(Colour.BLUE)
    with pytest.raises(StepFailure) as caught:
        fast_rollback(w.ctx)
    assert caught.value.infrastructure
    assert "targets are not healthy" in caught.value.why
    assert _live_version(w) == NEW


def test_a_rollback_killed_midway_is_finished_by_rollback_and_not_aborted(session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    w, _, old = _released(session)
    rollback_killed_after_its_write(w, monkeypatch)
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.version == old
    # Aborting it would put the bad version back: refused, naming rollback.
    with pytest.raises(RefusedError) as refused:
        abort(w.ctx, held, "aborted by bob")
    assert refused.value.next_command == "python -m release rollback --stack staging"
    assert _live_version(w) == old
    done = fast_rollback(w.ctx)
    assert (done.live, done.version) == (Colour.BLUE, old)
    assert records.in_progress(w.stack) is None
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert last.outcome is Outcome.ROLLED_BACK


def test_to_version_on_a_rolling_stack_rolls_that_version_out_again_on_the_live_colour(session: Any) -> None:
    w, _, old = _released(session)
    # Stack version 1 was recorded before the stack was rolling: its strategy is not replayed.
    preview = rollback_version.prepare(w.ctx, 1)
    assert preview.version == old
    assert preview.options.strategy is not None
    assert preview.options.strategy.value == "rolling"
    rolls = [s for s in preview.steps if isinstance(s, Roll)]
    assert [(s.colour, s.version) for s in rolls] == [(Colour.BLUE, old)]
    assert not any(s.name in {"deploy", "shift", "promote"} for s in preview.steps)
    assert not any(line.startswith("release:live") for line in preview.changes)
    assert any("release:strategy: rolling -> canary (kept" in line for line in preview.kept)
    result = rollback_version.run(w.ctx, preview)
    assert result.outcome is Outcome.PROMOTED, result.why
    config = w.stack.release_config()
    assert (config.live, config.versions.blue) == (Colour.BLUE, old)
    assert config.last_release is not None
    assert config.last_release.rollback_to == 1


def test_a_last_release_with_no_earlier_version_is_refused(session: Any) -> None:
    w, _, _ = _released(session)
    last = records.last_release(w.stack.get_config())
    assert last is not None
    w.stack.set_config({records.LAST_RELEASE: records.encode(last.model_copy(update={"previous": NEW}))})
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(w.ctx)
    assert f"recorded no earlier version than {NEW} on blue" in caught.value.why
    assert w.stack.issued == []


def _cli(w: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    conn = driver.Connection(w.stack, w.ctx.aws, w.clock, w.runner, w.ctx.probe)
    monkeypatch.setattr(driver, "CONNECT", lambda stack: conn)
    return CliRunner().invoke(app, ["rollback", "--stack", "staging", "--output", "json"])


def test_the_command_exits_1_rolled_back_with_the_live_colour_on_the_previous_version(
    session: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    w, _, old = _released(session)
    done = _cli(w, monkeypatch)
    assert done.exit_code == ExitCode.REFUSED, done.output
    data = json.loads(done.output)
    assert (data["outcome"], data["action"], data["live"], data["version"]) == ("rolled-back", "rolled", "blue", old)
    assert data["weights"] == {"blue": 100, "green": 0}


def test_the_command_exits_3_naming_what_to_do_when_ecs_does_not_complete(session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    w, ecs, _ = _released(session)
    ecs.restored_at = 1e12
    done = _cli(w, monkeypatch)
    assert done.exit_code == ExitCode.INFRASTRUCTURE, done.output
    assert "describe-services" in done.output
    assert _live_version(w) == NEW


def test_a_rollback_that_lost_the_race_writes_nothing_and_issues_no_update(session: Any) -> None:
    w, _, old = _released(session)
    stale = w.stack.release_config()
    # Another shell rolls back first; this one acts on what it read before.
    fast_rollback(w.ctx)
    issued = len(w.stack.issued)
    with pytest.raises((RollbackRefusedError, records.ReleaseEndedError)):
        rolling_rollback(w.ctx, stale, "second shell")
    assert len(w.stack.issued) == issued
    last = records.last_release(w.stack.get_config())
    assert last is not None
    assert (last.outcome, last.version) == (Outcome.ROLLED_BACK, old)
    assert records.in_progress(w.stack) is None


def test_to_version_during_a_rolling_release_is_refused_and_names_abort(session: Any) -> None:
    w, _, _ = _released(session)
    records.commit(w.stack, None, records.new_record(w.stack.release_config(), "3.0.0", "rolling", w.clock, "bob@ci"))
    with pytest.raises(RollbackRefusedError) as caught:
        rollback_version.prepare(w.ctx, 1)
    assert "is in progress, held by bob@ci" in caught.value.why
    assert caught.value.next_command == "python -m release abort --stack staging"
    assert w.stack.issued == []


@pytest.mark.parametrize("output", ["text", "json"])
def test_abort_from_the_command_names_the_rolling_stacks_live_colour(
    session: Any, monkeypatch: pytest.MonkeyPatch, output: str,
) -> None:
    w, _ = rolling_world(session, "completes")
    old = _live_version(w)
    config = w.stack.release_config()
    steps = plan_release(config, w.stack.outputs(), ReleaseOptions(version=NEW, bake_minutes=1), "staging")
    upto = next(i for i, s in enumerate(steps) if isinstance(s, Watch))
    Executor(w.ctx).run(steps[: upto + 1], records.new_record(config, NEW, "rolling", w.clock, "t"))
    live = w.stack.release_config().live
    monkeypatch.setattr(driver, "CONNECT", lambda stack: driver.Connection(w.stack, w.ctx.aws, w.clock, w.runner))
    result = CliRunner().invoke(app, ["abort", "--stack", "staging", "-o", output], terminal_width=300)
    assert result.exit_code == ExitCode.REFUSED, result.output
    assert _live_version(w) == old
    if output == "json":
        assert json.loads(result.output)["live"] == live.value
    else:
        assert f"{live} is live" in result.output
        assert f"{live.other} is live" not in result.output
