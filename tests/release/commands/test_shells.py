"""Two shells, one stack: the release CLI in separate processes against one world (the fault items of issue 25).

Every command here is a process of its own running what ``python -m release`` runs
(``python -m rehearsal.world.shell``: the same CLI, connected to the offline engine over a shared state file, the
file store, and the world in moto): a driver paused inside its update while another shell acts, a process killed
with SIGKILL after its marked write, a verification AWS throttles, an abort stopped between its reads and its
compare-and-set write while the driver scales the candidate. The world (moto, the stack's AWS side) is built
once for the module; each test starts from the same state (``fresh``): the files copied back, and moto's listener,
targets, service counts and task definitions put back as they were. A test may make the stack rolling
(``release:strategy``): each shell then plays ECS's rolling deployment of the live colour with the rehearsal's seam.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from components.config import Colour
from components.config.release_record import BackupState, Outcome
from rehearsal.world import shell
from release.errors import ExitCode
from release.state import record as records
from release.strategies.capacity import CANDIDATE_TASKS
from tests.shells import (
    DEPLOY,
    STACK,
    Base,
    build,
    driver_killed_before,
    finish,
    held,
    killed,
    last_release,
    paused,
    resume_paused,
    rewind,
    run,
    served,
    set_config,
    start,
    state,
)

pytestmark = pytest.mark.rehearsal


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Base]:
    with build(tmp_path_factory.mktemp) as built:
        yield built


@pytest.fixture
def w(base: Base) -> Base:
    """The world as built."""
    return rewind(base)


# --- the machinery: a release through the CLI in its own process, then status from another ---------------------


def test_a_release_driven_by_one_shell_is_seen_by_another(w: Base) -> None:
    done = run(w, "alice", *DEPLOY)
    assert done.code == ExitCode.OK, done.text
    assert records.IN_PROGRESS not in state(w)
    last = last_release(w)
    assert last.colour is Colour.GREEN
    status = run(w, "bob", "status", "-o", "json")
    assert status.code == ExitCode.OK, status.text
    assert status.json()["served"] == served(w)
    assert served(w)["blue"] == 100 - int(status.json()["weights"]["green"])


# --- 14: another shell's failed ending never strands the release; two shells racing the driver's shift ----------


@pytest.mark.parametrize(("shift", "commands"), [
    ("50% to green", ("abort",)),
    ("95% to green", ("promote", "abort")),  # the last step (blue keeps 5% as the control), both endings racing it
])
def test_endings_that_fail_on_the_busy_stack_during_a_shift_leave_the_driver_driving_to_the_end(
    w: Base, shift: str, commands: tuple[str, ...],
) -> None:
    driver = start(w, "alice", *DEPLOY, **{shell.PAUSE: f"before:{shift}"})
    paused(w, driver)
    for command in commands:
        other = run(w, "bob", command)
        assert other.code == ExitCode.REFUSED, other.text
        assert "another update is in progress" in other.text, other.text
        record = held(w)
        assert record.ending is None, f"{command} put the record back unmarked"
        assert record.lease is not None
        assert "alice" in record.lease.holder, "and the lease is still the driver's"
    resume_paused(w)
    done = finish(driver)
    assert done.code == ExitCode.OK, done.text
    assert "was marked elsewhere and put back; it is still this driver's" in done.text, done.text
    assert "aborted elsewhere" not in done.text
    assert "promoted elsewhere" not in done.text
    assert records.IN_PROGRESS not in state(w), "nobody left the release in progress"
    last = last_release(w)
    assert last.outcome is Outcome.PROMOTED
    assert served(w) == {"blue": 0, "green": 100}


# --- 15: a promotion killed after its marked write: every command names the one that finishes it ----------------


def test_after_a_promotion_killed_past_its_mark_every_command_says_what_resume_says_and_promote_finishes(w: Base) -> None:
    driver_killed_before(w, "50% to green")
    promoting = start(w, "bob", "promote", **{shell.PAUSE: "before:promote green"})
    paused(w, promoting)
    killed(promoting)
    assert held(w).ending is not None
    finishes = "python -m release promote --stack staging (finishes it)"
    for command in (["abort"], ["rollback"], ["resume"], list(DEPLOY)):
        other = run(w, "carol", *command)
        assert other.code in (ExitCode.REFUSED, ExitCode.BAD_INPUT), (command, other.text)
        assert "is being promoted by" in other.text, (command, other.text)
        assert finishes in other.text, (command, other.text)
        assert "fix the config" not in other.text, (command, other.text)
    done = run(w, "carol", "promote")
    assert done.code == ExitCode.OK, done.text
    assert records.IN_PROGRESS not in state(w)
    assert served(w) == {"blue": 0, "green": 100}


# --- 16: the promotion applied, its last write failed: promoted, never aborted --------------------------------


def test_a_failed_last_write_after_the_promotion_applied_says_promoted_and_promote_finishes_the_record(w: Base) -> None:
    driver_killed_before(w, "50% to green")
    first = run(w, "bob", "promote", **{shell.FAIL_WRITE: "promote green"})
    assert first.code == ExitCode.INFRASTRUCTURE, first.text
    assert "promoted; the record is not finished" in first.text, first.text
    assert "python -m release promote --stack staging (finishes the record)" in first.text, first.text
    assert "abort" not in first.text.split("next:")[-1]
    assert served(w) == {"blue": 0, "green": 100}, "the promotion stays applied"
    assert state(w)["release:live"] == "green"
    again = run(w, "bob", "promote")
    assert again.code == ExitCode.OK, again.text
    assert records.IN_PROGRESS not in state(w)
    last = last_release(w)
    assert last.outcome is Outcome.PROMOTED


# --- 17: an abort killed with the listener back on live refuses a promotion ------------------------------------


def test_promote_after_an_abort_killed_with_the_listener_back_on_live_is_refused_and_abort_finishes(w: Base) -> None:
    driver_killed_before(w, "50% to green")
    aborting = start(w, "bob", "abort", **{shell.PAUSE: "after:abort release"})
    paused(w, aborting)
    killed(aborting)
    assert served(w) == {"blue": 100, "green": 0}
    promote = run(w, "carol", "promote")
    assert promote.code == ExitCode.REFUSED, promote.text
    assert "is being aborted by" in promote.text, promote.text
    assert "python -m release abort --stack staging (finishes it)" in promote.text, promote.text
    assert served(w) == {"blue": 100, "green": 0}, "nothing went to the version being aborted"
    done = run(w, "carol", "abort")
    assert done.code == ExitCode.REFUSED, done.text  # an abort exits 1
    assert records.IN_PROGRESS not in state(w)
    last = last_release(w)
    assert last.outcome is Outcome.ABORTED


# --- 18: a verification AWS throttles is unknown, never another state --------------------------------------------


def test_an_abort_whose_verification_is_throttled_says_unknown_keeps_what_it_applied_and_finishes_when_run_again(w: Base) -> None:
    driver_killed_before(w, "50% to green")
    first = run(w, "bob", "abort", "-o", "json", **{shell.THROTTLE: "DescribeListeners"})
    assert first.code == ExitCode.INFRASTRUCTURE, first.text
    error = first.json()["error"]
    assert "what the load balancer serves is unknown: AWS answered Throttling" in error["why"], error
    assert "still serves" not in error["why"]
    assert state(w)["release:canaryWeight"] == "0", "the applied abort is not undone"
    assert held(w).ending is not None, "the release stays marked: no update can send 25% back"
    status = run(w, "carol", "status", "-o", "json")
    assert status.json()["served"] == {"blue": 100, "green": 0}
    again = run(w, "bob", "abort", "-o", "json")
    assert again.code == ExitCode.REFUSED, again.text
    assert again.json()["outcome"] == "aborted"
    assert records.IN_PROGRESS not in state(w)


# --- 19: abort on a rolling stack names the live colour, the one it rolled back in place -----------------------


@pytest.mark.parametrize("output", ["text", "json"])
def test_abort_from_another_shell_on_a_rolling_stack_names_the_live_colour_it_rolled_back(w: Base, output: str) -> None:
    set_config(w, strategy="rolling")
    driver = start(w, "alice", *DEPLOY, **{shell.PAUSE: "after:roll 5e6f7a8b onto blue"})
    paused(w, driver)
    killed(driver)
    assert json.loads(state(w)["release:versions"])["blue"] == "5e6f7a8b", "blue was rolled to the new version"
    done = run(w, "bob", "abort", "-o", output)
    assert done.code == ExitCode.REFUSED, done.text  # an abort exits 1
    last = last_release(w)
    assert (last.outcome, last.colour) == (Outcome.ABORTED, Colour.BLUE)
    if output == "json":
        assert done.json() == {"stack": STACK, "outcome": "aborted", "release": last.id, "live": "blue"}
    else:
        assert "verified: blue's PRIMARY deployment runs 3f9c2e1a and is COMPLETED" in done.text, done.text
        assert f"aborted: release {last.id}; blue is live" in done.text, done.text
        assert "green is live" not in done.text
    assert json.loads(state(w)["release:versions"])["blue"] == "3f9c2e1a", "blue runs the old version again"
    assert state(w)["release:live"] == "blue"
    assert records.IN_PROGRESS not in state(w)
    status = run(w, "carol", "status", "-o", "json").json()
    assert status["live"] == "blue"
    assert status["served"] == served(w) == {"blue": 100, "green": 0}, "the standby never took traffic"


# --- 20: a driver that exits after a failed step gives its lease up ------------------------------------------------


def test_a_driver_whose_step_and_abort_failed_on_a_held_stack_gives_its_lease_up_so_resume_elsewhere_goes_on(w: Base) -> None:
    with shell.holding_the_stack(w.directory, STACK, "pulumi up by dave@ci (a push's Deployments run)"):
        done = run(w, "alice", *DEPLOY)
    assert done.code != ExitCode.OK, done.text
    record = held(w)
    assert record.lease is None, f"the driver that stopped kept its lease: {record.lease}"
    # Carol's clock is the driver's: a lease it kept would be fresh, and resume refused for 35 minutes.
    resumed = run(w, "carol", "resume")
    assert "is being driven by" not in resumed.text, resumed.text
    assert resumed.code == ExitCode.OK, resumed.text
    assert records.IN_PROGRESS not in state(w)


# --- 21: abort decides from the release state its compare-and-set writes over ---------------------------------


def test_an_abort_that_read_before_the_driver_scaled_the_candidate_to_2_tasks_scales_it_back_and_the_driver_stops(w: Base) -> None:
    # Alice's clock: the 50% step's bake runs from minute 12 to 13, the 95% step (green scaled to 2 tasks first) from 13.
    alice = start(w, "alice", *DEPLOY, **{shell.PAUSE: "minute:12.5;minute:13.5"})
    paused(w, alice)
    assert state(w)["release:canaryWeight"] == "50"
    assert CANDIDATE_TASKS not in state(w), "green not scaled yet"
    # Bob's abort reads everything it decides from, and stops before its first write: the compare-and-set's.
    bob = start(w, "bob", "abort", **{shell.PAUSE: "write:1"})
    paused(w, bob)
    assert held(w).ending is None
    resume_paused(w, alice)
    paused(w, alice)
    assert state(w)[CANDIDATE_TASKS] == "2", "alice scaled green for 95% after bob read"
    assert served(w) == {"blue": 5, "green": 95}
    assert held(w).ending is None
    resume_paused(w, bob)
    aborted = finish(bob)
    assert aborted.code == ExitCode.REFUSED, aborted.text  # an abort exits 1
    release = records.decode(state(w)[records.LAST_RELEASE])
    assert release is not None
    assert f"aborted: release {release.id}; blue is live" in aborted.text, aborted.text
    assert state(w)[CANDIDATE_TASKS] == "0", "green's extra tasks go with the aborted release"
    assert state(w)["release:canaryWeight"] == "0"
    resume_paused(w, alice)
    driver = finish(alice)
    assert driver.code == ExitCode.REFUSED, driver.text
    assert f"release {release.id}: aborted elsewhere: github-actions run bob (bob)" in driver.text, driver.text
    assert "this driver stopped before its next write" in driver.text, driver.text
    assert state(w)[CANDIDATE_TASKS] == "0", "and the driver wrote nothing after"
    assert records.IN_PROGRESS not in state(w)
    assert (release.outcome, release.ended_by) == (Outcome.ABORTED, "github-actions run bob (bob)")
    status = run(w, "carol", "status", "-o", "json").json()
    assert status["in_progress"] is None
    assert status["served"] == served(w) == {"blue": 100, "green": 0}
    assert status["last_release"]["outcome"] == "aborted"


# --- 22: the backup window, killed in it or in its scale-down --------------------------------------------------


def test_status_after_a_driver_killed_in_the_backup_window_shows_both_colours_tasks_and_the_unfinished_window(w: Base) -> None:
    # The release is promoted at minute 33 of its clock (bakes of a minute, extended for too little traffic); the
    # window runs 60 minutes from there, and the driver is killed at minute 60, inside it.
    set_config(w, backupMinutes="60")
    driver = start(w, "alice", *DEPLOY, **{shell.PAUSE: "minute:60"})
    paused(w, driver)
    killed(driver)
    last = last_release(w)
    assert last.outcome is Outcome.PROMOTED
    assert last.backup is None, "killed inside the window: nothing was decided"
    kept = state(w)["release:candidateTasks"]
    assert kept != "0"
    data = run(w, "bob", "status", "-o", "json").json()
    assert data["tasks"]["blue"] == {"running": int(kept), "desired": int(kept)}, data["tasks"]
    assert data["tasks"]["green"]["running"] >= 1
    assert data["backup"]["state"] == "unfinished"
    assert data["backup"]["colour"] == "blue"
    text = run(w, "bob", "status").text
    assert f"blue tasks: {kept} running of {kept} desired" in text, text
    assert f"backup window unfinished: the backup window after release {last.id} did not finish" in text, text
    assert "next: python -m release rollback --stack staging puts blue live again" in text, text


def test_killed_after_the_scale_down_was_written_the_record_does_not_say_scaled_down_and_status_says_what_finishes_it(
    w: Base,
) -> None:
    driver = start(w, "alice", *DEPLOY, **{shell.PAUSE: "before:scale blue down"})
    paused(w, driver)
    killed(driver)
    last = last_release(w)
    assert last.backup is not None
    tasks = run(w, "bob", "status", "-o", "json").json()["tasks"]
    assert tasks["blue"]["running"] > 0, "the update never ran: blue still runs its tasks"
    assert last.backup.state is not BackupState.SCALED_DOWN, "the record says blue is scaled down while it runs"
    assert last.backup.state is BackupState.SCALING_DOWN
    text = run(w, "bob", "status").text
    assert "backup window scaling-down: the scale-down of blue after release" in text, text
    assert f"but its update was not confirmed: blue runs {tasks['blue']['running']} of" in text, text
    assert "next: `pulumi up -s staging` applies release:candidateTasks 0" in text, text
