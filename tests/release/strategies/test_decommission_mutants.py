"""The backup window, exactly: how long it watches and how often, the words of every stop, and which record each write
may replace.

Each test here was written against a mutant of `release/strategies/decommission.py` that the rest of this folder
let live (`make mutate MODULE=release/strategies/decommission.py`). The stack, AWS and the clock are those of
`test_decommission.py`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from components.config import Colour
from components.config.release_record import BackupState, Outcome, ReleaseRecord
from release.engine import UpdateFailedError
from release.state import record as records
from release.strategies.capacity import CANDIDATE_TASKS
from release.strategies.decommission import retire
from release.strategies.failure import StepFailure
from release.strategies.steps import Retire
from tests.release.strategies.test_decommission import START, WINDOW, Stack, World, _newer_release_lands, _runner, promoted
from tests.stack_world import Notes

ROLLBACK = ("`python -m release rollback --stack staging` puts blue live again in one listener update; "
            "`python -m release status --stack staging` shows green's alarms and targets")




def runner_with_notes(**kwargs: Any) -> tuple[Any, Stack, World, Notes]:
    runner, stack, world = _runner(**kwargs)
    notes = Notes()
    runner.ctx.reporter = notes
    return runner, stack, world, notes


def test_a_quiet_window_is_watched_for_exactly_its_length_at_every_poll_and_says_how_many_reads() -> None:
    runner, stack, world, notes = runner_with_notes()
    runner.ctx.clock.sleep(100)  # the window starts after earlier steps took their time
    done = runner.run(Retire(Colour.BLUE, timeout_seconds=60, backup_seconds=WINDOW, poll_seconds=7), promoted())
    # Reads at 0, 7, ..., 1792, then 1799 (the last 7-second poll shortened to what is left) and 1800: 259.
    assert runner.ctx.clock.monotonic() == 100 + WINDOW
    assert world.reads == 259
    assert done.backup is not None
    assert done.backup.why == "green stayed healthy with no release alarm for 30 min (259 reads)"
    assert (done.backup.until, done.backup.at) == (START + timedelta(seconds=100 + WINDOW),) * 2
    assert notes.notes[-1] == "green stayed healthy with no release alarm for 30 min (259 reads): blue scaled down to its standby count"


def test_the_window_waits_for_the_new_live_colour_checking_every_15_seconds() -> None:
    runner, stack, world, _ = runner_with_notes()
    world.counts["web-green"] = (2, 3)
    world.later(20, lambda w: w.counts.update({"web-green": (3, 3)}))
    runner.run(Retire(Colour.BLUE, timeout_seconds=60), promoted())
    assert runner.ctx.clock.monotonic() == 30, "checked at 0, 15 and 30 s"


def test_a_new_live_colour_that_never_scales_keeps_the_backup_in_these_words() -> None:
    runner, stack, world, _ = runner_with_notes()
    world.counts["web-green"] = (2, 4)
    with pytest.raises(StepFailure) as caught:
        runner.run(Retire(Colour.BLUE, timeout_seconds=60, backup_seconds=WINDOW, poll_seconds=10), promoted())
    assert caught.value.why == ("green has not scaled: not done after 60s (last seen: green service runs 2 of 4 tasks); "
                                "blue keeps its tasks as the backup")
    assert (caught.value.what, caught.value.next_command) == ("scaling blue down", ROLLBACK)
    assert caught.value.record == stack.last
    assert stack.last.backup is not None
    assert stack.last.backup.state is BackupState.KEPT
    assert stack.last.backup.until == START + timedelta(seconds=60), "it never began: the window ends when it gave up"


class TwoAlarms(Stack):
    """A stack whose colours export their metric alarms, no composite."""

    def outputs(self) -> dict[str, Any]:
        found = super().outputs()
        del found["composite_alarm_names"]
        found["alarm_names"] = {"blue": ["b-5xx", "b-p99"], "green": ["g-5xx", "g-p99"]}
        return found


def test_alarms_firing_in_the_window_are_each_named_and_the_stop_says_what_and_what_next() -> None:
    runner, _, world = _runner()
    stack = TwoAlarms()
    runner.ctx.engine = stack
    world.alarms.update({"g-5xx": "OK", "g-p99": "OK", "b-5xx": "OK", "b-p99": "OK"})
    world.later(60, lambda w: w.alarms.update({"g-5xx": "ALARM", "g-p99": "ALARM"}))
    with pytest.raises(StepFailure) as caught:
        runner.run(Retire(Colour.BLUE, timeout_seconds=60, backup_seconds=WINDOW, poll_seconds=10), promoted())
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "backup window after release r-1",
        "release alarms of green in ALARM: g-5xx, g-p99; blue keeps running v1 as the backup and was not scaled down",
        ROLLBACK)


@pytest.mark.parametrize(("change", "found"), [
    (_newer_release_lands, "the last release is now r-2 (aborted)"),
    (lambda stack: lambda w: stack.store.write({}, [records.LAST_RELEASE], stack.store.read()[1]), "no last release is recorded"),
])
def test_a_release_that_is_no_longer_the_last_stops_the_window_at_the_read_that_sees_it(change: Any, found: str) -> None:
    runner, stack, world, _ = runner_with_notes()
    world.later(5 * 60, change(stack))
    with pytest.raises(StepFailure) as caught:
        runner.run(Retire(Colour.BLUE, timeout_seconds=60, backup_seconds=WINDOW, poll_seconds=10), promoted())
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "backup window after release r-1", f"{found}, live is green: somebody moved on, so nothing was scaled down",
        "python -m release status --stack staging")
    assert runner.ctx.clock.monotonic() <= 5 * 60 + 10, "stopped at the next read"
    assert stack.updates == []


def test_a_rollback_caught_by_the_write_is_said_in_the_writes_own_words() -> None:
    runner, stack, world, _ = runner_with_notes()
    world.later(WINDOW, lambda w: stack.store.write({"release:live": "blue"}, [], stack.store.read()[1]))
    with pytest.raises(StepFailure) as caught:
        runner.run(Retire(Colour.BLUE, timeout_seconds=60, backup_seconds=WINDOW, poll_seconds=10), promoted())
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "scaling the backup down", "blue is live now, not green: nothing was scaled down",
        "python -m release status --stack staging")


def test_a_stack_whose_environment_is_its_name_is_scaled_down_by_the_rules_of_that_name() -> None:
    """`platform:environment` may be left to the stack's name (components/config load): the check reads it so too."""
    runner, stack, _, _ = runner_with_notes()
    del stack.base["platform:environment"]
    done = runner.run(Retire(Colour.BLUE, timeout_seconds=60), promoted())
    assert done.backup is not None
    assert done.backup.state is BackupState.SCALED_DOWN


def test_a_newer_release_caught_by_the_scale_downs_write_is_said_with_the_commits_next_step() -> None:
    runner, stack, world, _ = runner_with_notes()
    world.later(WINDOW, _newer_release_lands(stack))
    with pytest.raises(StepFailure) as caught:
        runner.run(Retire(Colour.BLUE, timeout_seconds=60, backup_seconds=WINDOW, poll_seconds=10), promoted())
    assert caught.value.what == "scaling blue down"
    assert caught.value.next_command == "python -m release status --stack staging"


@pytest.mark.parametrize("tasks", [None, "0"])
def test_with_no_extra_tasks_kept_nothing_is_written_or_updated(tasks: str | None) -> None:
    runner, stack, _, _ = runner_with_notes()
    values, etag = stack.store.read()
    stack.store.write({CANDIDATE_TASKS: tasks} if tasks else {}, [] if tasks else [CANDIDATE_TASKS], etag)
    written = stack.store.read()[1]
    done = runner.run(Retire(Colour.BLUE, timeout_seconds=60), promoted())
    assert stack.updates == []
    assert stack.store.read()[1] == written
    assert done == promoted()


def test_a_failed_scale_down_with_a_newer_release_landed_keeps_the_newer_record_and_notes_why() -> None:
    runner, stack, world, notes = runner_with_notes()

    def lands_then_fails(message: str, targets: Any = None) -> None:
        _newer_release_lands(stack)(world)
        msg = "update of stack staging"
        raise UpdateFailedError(msg, "the provider failed", "retry")

    stack.update = lands_then_fails  # type: ignore[method-assign]
    with pytest.raises(UpdateFailedError):
        runner.run(Retire(Colour.BLUE, timeout_seconds=60), promoted())
    assert stack.last.id == "r-2", "the put-back compares the last release too"
    assert notes.notes[-1].startswith("could not put the backup's count back after the failed update: ")


def test_a_failed_scale_down_update_is_recorded_in_500_characters_at_most() -> None:
    runner, stack, world, _ = runner_with_notes()

    def fails(message: str, targets: Any = None) -> None:
        msg = "update of stack staging"
        raise UpdateFailedError(msg, "x" * 600, "retry")

    stack.update = fails  # type: ignore[method-assign]
    with pytest.raises(UpdateFailedError):
        runner.run(Retire(Colour.BLUE, timeout_seconds=60), promoted())
    assert stack.last.backup is not None
    assert stack.last.backup.why == ("the scale-down's update failed: update of stack staging: " + "x" * 600)[:500]


def test_a_newer_release_landing_during_the_scale_downs_update_keeps_its_record_and_notes_the_unfinished_one() -> None:
    runner, stack, world, notes = runner_with_notes()
    stack.on_update = lambda message: _newer_release_lands(stack)(world)
    done = runner.run(Retire(Colour.BLUE, timeout_seconds=60), promoted())
    assert stack.last.id == "r-2"
    assert done.backup is not None
    assert done.backup.state is BackupState.SCALING_DOWN
    assert notes.notes[-1].startswith("blue was scaled down, but the record still says scaling-down: ")


def test_a_kept_backup_that_cannot_be_recorded_is_noted() -> None:
    runner, stack, world, notes = runner_with_notes()
    world.later(60, _newer_release_lands(stack))
    world.later(60, lambda w: w.alarms.update({"green-release": "ALARM"}))
    with pytest.raises(StepFailure):
        runner.run(Retire(Colour.BLUE, timeout_seconds=60, backup_seconds=WINDOW, poll_seconds=10), promoted())
    assert notes.notes[-1].startswith("the backup stays; could not record why (")


def test_the_control_share_is_ended_before_the_scale_down_and_its_record_is_the_one_returned() -> None:
    runner, stack, _, _ = runner_with_notes(candidate_tasks=0)
    ended: list[ReleaseRecord] = []

    def end_control(record: ReleaseRecord) -> ReleaseRecord:
        ended.append(record)
        return record.model_copy(update={"outcome": Outcome.PROMOTED, "weight": 100})

    done = retire(runner.ctx, Retire(Colour.BLUE, timeout_seconds=60), promoted(), lambda colour: (True, "ok"),
                  stack.update, end_control)
    assert ended == [promoted()]
    assert done is not promoted()
    assert done == ended[0].model_copy(update={"outcome": Outcome.PROMOTED, "weight": 100})


def test_a_read_that_fails_while_waiting_for_the_new_live_colour_keeps_the_backup_naming_the_failure() -> None:
    runner, stack, world, _ = runner_with_notes()

    def broken(cluster: str, service: str) -> tuple[int, int]:
        msg = "ECS answered a service with no deployments"
        raise RuntimeError(msg)

    world.running_count = broken  # type: ignore[method-assign]
    with pytest.raises(StepFailure) as caught:
        runner.run(Retire(Colour.BLUE, timeout_seconds=60, backup_seconds=WINDOW, poll_seconds=10), promoted())
    assert caught.value.why == ("green has not scaled: ECS answered a service with no deployments; "
                                "blue keeps its tasks as the backup")
