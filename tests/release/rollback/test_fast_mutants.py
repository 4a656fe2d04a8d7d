"""The fast rollback, exactly: what it reports, each refusal's words and next step, the record and config it writes,
and the rollback killed after its marked write that the next one finishes.

Each test here was written against a mutant of `release/rollback/fast.py` that the rest of the fast rollback's tests
let live (`make mutate MODULE=release/rollback/fast.py`). The world is that of `test_fast_and_to_version.py`
(tests/stack_world.py): the load balancer in moto, the stack's config and history in memory; a previous colour
scaled down after its backup window is that of `tests/release/strategies/test_decommission.py` (ECS services).
"""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from components.config import Colour, Strategy
from components.config.release_record import Ending, Outcome, ReleaseRecord
from offline.stacks import ProjectFiles
from release.engine import HistoryEntry
from release.rollback.fast import RollbackRefusedError, RollbackResult, fast_rollback, version_serving
from release.state import record as records
from release.strategies.capacity import CANDIDATE_TASKS
from tests.release.rollback.test_rolling import _released
from tests.release.strategies.test_decommission import Stack, _newer_release_lands, _runner
from tests.release.strategies.test_decommission import World as DecommissionWorld
from tests.release.strategies.test_decommission_mutants import Notes
from tests.stack_world import LISTENER_URN, World, release

OLD = "3f9c2e1a"
"""Blue's version in Pulumi.staging.yaml: what blue serves before the release of v2 and after its rollback."""

KEPT = "green keeps running v2 with no traffic"
TARGETED = "only the listener was updated; the next full `pulumi up` brings the test listener and outputs in line"
TO_VERSION_N = "python -m release rollback --stack staging --to-version N"
SERVED_OLD = f"python -m release rollback --stack staging --to-version 2  (stack version 2 served {OLD})"
"""Stack version 2 is the deploy of v2 to green: the newest update at which blue was live with OLD and no canary."""




def _promoted(w: World) -> ReleaseRecord:
    """Release v2 to green and promote it (blue-green: one shift, the cheapest release to run); the record of that release."""
    done = release(w, "v2", strategy=Strategy.BLUE_GREEN)
    assert done.outcome is Outcome.PROMOTED
    assert done.record is not None
    w.stack.issued.clear()
    return done.record


def _killed_after_its_mark(w: World, reason: str) -> ReleaseRecord:
    """A flip killed once its marked write is done, before its update: the record it left marked in progress.

    SystemExit passes `StepRunner.end`'s put-back (it catches Exception and KeyboardInterrupt), as a kill leaves none.
    """

    def killed(message: str, targets: Any = None) -> Any:
        raise SystemExit(137)

    w.stack.update = killed  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        fast_rollback(w.ctx, reason)
    del w.stack.update
    held = records.in_progress(w.stack)
    assert held is not None
    assert held.ending is not None
    assert held.ending.outcome is Outcome.ROLLED_BACK
    return held


def _no_update_served(w: World) -> None:
    """A history in which no update succeeded, so none served the previous version (only the generic hint is left)."""
    w.stack.entries = [replace(h, result="failed") for h in w.stack.entries]


# --- what a flip and an abort report ------------------------------------------------------------------------


def test_a_flip_reports_blue_its_version_the_listener_and_the_record_whose_reason_names_the_caller(w: World) -> None:
    last = _promoted(w)
    keys = set(w.stack.config)

    done = fast_rollback(w.ctx)

    config = w.stack.release_config()
    assert done == RollbackResult("flipped", Colour.BLUE, OLD, {"blue": 100, "green": 0}, config.last_release,
                                  updates=1, touched=1, notes=(KEPT, TARGETED))
    assert config.last_release.reason == f"rolled back by alice@laptop: undid release {last.id} of v2"
    assert [(u["message"], u["targets"]) for u in w.stack.issued] == [
        (f"rollback: blue ({OLD}) live again, undoing release {last.id}", [LISTENER_URN])]
    assert (config.live, config.canary_weight) == (Colour.BLUE, 0)
    assert set(w.stack.config) == keys, "release:live and release:canaryWeight written, no other key"


def test_a_flip_with_a_reason_records_it_with_the_release_it_undid(w: World) -> None:
    last = _promoted(w)
    done = fast_rollback(w.ctx, "5xx on checkout")
    assert done.record.reason == f"5xx on checkout: undid release {last.id} of v2"


def test_a_flip_on_a_stack_that_exports_no_listener_urn_is_a_full_update_and_says_nothing_of_the_listener(w: World) -> None:
    _promoted(w)
    full = w.stack.outputs
    w.stack.outputs = lambda: {k: v for k, v in full().items() if k != "listener_urn"}  # type: ignore[method-assign]

    done = fast_rollback(w.ctx)

    assert [u["targets"] for u in w.stack.issued] == [None]
    assert done.notes == (KEPT,)
    assert done.weights == {"blue": 100, "green": 0}


def test_an_abort_reports_the_live_colour_its_version_and_the_aborted_record_with_the_reason_given(w: World) -> None:
    running = release(w, "v2", until_weight=25).record
    assert running is not None
    w.stack.issued.clear()

    done = fast_rollback(w.ctx, "5xx on checkout")

    config = w.stack.release_config()
    assert done == RollbackResult("aborted", Colour.BLUE, OLD, {"blue": 100, "green": 0}, config.last_release,
                                  updates=1, touched=1, notes=(KEPT,))
    assert (config.last_release.id, config.last_release.outcome) == (running.id, Outcome.ABORTED)
    assert config.last_release.reason == "5xx on checkout"
    assert [u["message"] for u in w.stack.issued] == [f"abort release {running.id} of v2: 5xx on checkout"]


def test_an_abort_without_a_reason_records_who_rolled_back(w: World) -> None:
    release(w, "v2", until_weight=25)
    assert fast_rollback(w.ctx).record.reason == "rolled back by alice@laptop"


def test_a_rolling_stacks_rollback_records_who_rolled_back_and_the_release_it_undid(session: Any) -> None:
    w, _, _ = _released(session)
    last = w.stack.release_config().last_release
    done = fast_rollback(w.ctx)
    assert done.action == "rolled"
    assert done.record.reason == f"rolled back by alice@laptop: undid release {last.id} of {last.version}"


# --- refusals: their words and the command offered ------------------------------------------------------------


def test_nothing_to_roll_back_offers_the_history_and_the_version_rollback(w: World) -> None:
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(w.ctx)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "rollback", "nothing to roll back on staging: no release is in progress and no release has run",
        "python -m release history --stack staging, then `python -m release rollback --stack staging --to-version N`")


def test_a_release_already_rolled_back_by_hand_is_refused_pointing_at_the_history(w: World) -> None:
    last = _promoted(w)
    w.stack.set_release(live="blue")
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(w.ctx)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "rollback", "the last release put v2 on green, but blue is live now: it was already rolled back",
        "python -m release history --stack staging")
    assert last.id == w.stack.release_config().last_release.id
    assert w.stack.issued == []


def test_a_previous_colour_given_another_version_is_refused_naming_the_stack_version_that_served_the_old_one(w: World) -> None:
    # A stack whose environment is its name (platform:environment unset): the history is read by the same rules.
    w.stack.remove_config(["platform:environment"])
    last = _promoted(w)
    w.stack.set_release(versions={"blue": "v9", "green": "v2"})
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(w.ctx)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "rollback", f"blue runs v9 now, not {OLD} (what it served before release {last.id})", SERVED_OLD)
    assert w.stack.issued == []


def test_a_previous_colour_given_another_version_with_no_update_that_served_the_old_one_offers_any_version(w: World) -> None:
    last = _promoted(w)
    w.stack.set_release(versions={"blue": "v9", "green": "v2"})
    _no_update_served(w)
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(w.ctx)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "rollback", f"blue runs v9 now, not {OLD} (what it served before release {last.id})", TO_VERSION_N)


def test_an_unhealthy_previous_colour_with_no_update_that_served_it_offers_any_version(w: World) -> None:
    _promoted(w)
    w.stack.scale_down(Colour.BLUE)
    _no_update_served(w)
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(w.ctx)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "rollback", "the previous colour blue is not healthy (no targets registered in blue's target group), and the stack "
        "exports no ECS services to scale it back up: flipping to it would serve nothing", TO_VERSION_N)
    assert w.stack.issued == []


# --- the final write ----------------------------------------------------------------------------------------------


def test_a_newer_release_recorded_while_the_flip_was_prepared_is_not_overwritten(w: World) -> None:
    last = _promoted(w)
    newer = last.model_copy(update={"id": "r-20260101t010000-v3", "version": "v3", "colour": Colour.BLUE, "previous": "v2",
                                    "outcome": Outcome.ABORTED})
    read = w.stack.read_release

    def lands_first() -> tuple[dict[str, str], str]:
        # A release of v3 to blue, aborted, recorded before the flip's write: blue no longer runs what it served.
        if w.stack.config.get(records.LAST_RELEASE) != records.encode(newer):
            w.stack.set_config({records.LAST_RELEASE: records.encode(newer),
                                "release:versions": json.dumps({"blue": "v3", "green": "v2"})})
            w.stack.revision += 1
        return read()

    w.stack.read_release = lands_first  # type: ignore[method-assign]
    with pytest.raises(records.ReleaseEndedError) as caught:
        fast_rollback(w.ctx)
    assert (caught.value.what, caught.value.why) == (
        f"release {last.id}", f"the last release changed since it was read: it is now release {newer.id} (aborted)")
    config = w.stack.release_config()
    assert (config.live, config.last_release, config.in_progress) == (Colour.GREEN, newer, None)
    assert w.stack.issued == []


# --- a rollback killed after its marked write ---------------------------------------------------------------------


def test_a_rollback_killed_after_its_marked_write_is_finished_by_the_next_one_as_the_same_record(w: World) -> None:
    last = _promoted(w)
    keys = set(w.stack.config)
    held = _killed_after_its_mark(w, "5xx on checkout")
    assert w.stack.served() == {"blue": 0, "green": 100}, "killed before its update"

    done = fast_rollback(w.ctx, "finishing it")

    config = w.stack.release_config()
    assert done == RollbackResult("flipped", Colour.BLUE, OLD, {"blue": 100, "green": 0}, config.last_release,
                                  updates=1, touched=1, notes=(KEPT, TARGETED))
    assert (config.last_release.id, config.last_release.outcome) == (held.id, Outcome.ROLLED_BACK)
    assert config.last_release.reason == f"5xx on checkout: undid release {last.id} of v2", "the killed rollback's reason"
    assert config.in_progress is None
    assert [(u["message"], u["targets"]) for u in w.stack.issued] == [
        (f"rollback: blue ({OLD}) live again, undoing release v2", [LISTENER_URN])]
    assert w.stack.served() == {"blue": 100, "green": 0}
    assert set(w.stack.config) == keys, "release:live and release:canaryWeight written again, no other key"


def test_a_killed_rollback_whose_live_colour_was_set_back_by_hand_is_finished_by_setting_it_again(w: World) -> None:
    _promoted(w)
    _killed_after_its_mark(w, "5xx on checkout")
    w.stack.set_release(live="green")

    done = fast_rollback(w.ctx)

    assert (done.live, w.stack.release_config().live) == (Colour.BLUE, Colour.BLUE)
    assert w.stack.served() == {"blue": 100, "green": 0}


def test_a_killed_rollback_marked_again_by_another_shell_since_it_was_read_is_still_finished(w: World) -> None:
    _promoted(w)
    held = _killed_after_its_mark(w, "5xx on checkout")
    read = w.stack.read_release
    bob = Ending(outcome=Outcome.ROLLED_BACK, by="bob@pager", at=w.clock.now())
    marked: list[ReleaseRecord] = []

    def marked_meanwhile() -> tuple[dict[str, str], str]:
        # Another shell's rollback marks the same record (its revision moves on) after this one read it, then stops.
        if not marked:
            marked.append(held.model_copy(update={"revision": held.revision + 1, "ending": bob}))
            w.stack.set_config({records.IN_PROGRESS: records.encode(marked[0])})
            w.stack.revision += 1
        return read()

    w.stack.read_release = marked_meanwhile  # type: ignore[method-assign]
    done = fast_rollback(w.ctx)
    config = w.stack.release_config()
    assert (done.action, done.live) == ("flipped", Colour.BLUE)
    assert (config.last_release.id, config.last_release.outcome, config.in_progress) == (held.id, Outcome.ROLLED_BACK, None)


# --- which stack version served a version -------------------------------------------------------------------------


def _entry(version: int, *, result: str = "succeeded", unset: tuple[str, ...] = (), **release_keys: str) -> HistoryEntry:
    """An update of staging at which blue was live with OLD and no canary, but for ``release_keys`` and the keys ``unset``."""
    config, _ = ProjectFiles.here().stack_config("staging")
    for key in unset:
        del config[key]
    config.update({"release:live": "blue", "release:versions": json.dumps({"blue": OLD, "green": "v2"}), "release:canaryWeight": "0"})
    config.update({f"release:{k}": v for k, v in release_keys.items()})
    return HistoryEntry(version, f"update {version}", config, result)


def test_the_version_serving_skips_failed_updates_and_configs_that_no_longer_load_and_reads_on() -> None:
    served = _entry(3)
    assert version_serving([_entry(5, result="failed"), _entry(4, canaryWeight="150"), served], OLD, "staging") == 3
    assert version_serving([_entry(5, canaryWeight="25"), _entry(4, live="green"), served], OLD, "staging") == 3
    assert version_serving([_entry(5, result="failed"), _entry(4, canaryWeight="150")], OLD, "staging") is None


def test_the_version_serving_reads_each_config_by_the_rules_of_its_stack() -> None:
    assert version_serving([_entry(3, unset=("platform:environment",))], OLD, "staging") == 3


# --- the previous colour scaled back up before the listener moves (the stack of test_decommission.py) ------------


class Counted(Stack):
    """The stack of test_decommission.py with a history: one entry per update, each changing one resource."""

    def history(self, limit: int | None = None) -> list[Any]:
        found = [HistoryEntry(n, m, {}, "succeeded", counts={"update": 1}) for n, m in enumerate(self.updates, 1)][::-1]
        return found[:limit] if limit is not None else found


def _scaled_down(candidate_tasks: int = 0, blue: tuple[int, int] = (0, 0)) -> tuple[Any, Stack, DecommissionWorld, Notes]:
    """Green live with 3 tasks, r-1 promoted; blue runs ``blue`` (running, desired) and ``candidate_tasks`` is recorded."""
    runner, stack, world = _runner(candidate_tasks=candidate_tasks)
    stack.__class__ = Counted
    world.counts["web-blue"] = blue
    notes = Notes()
    runner.ctx.reporter = notes
    aws: Any = runner.ctx.aws
    aws.elbv2 = SimpleNamespace(target_health=world.target_health, forward_weights=lambda arn: {"arn:b": 100, "arn:g": 0})
    return runner.ctx, stack, world, notes


SCALE_UP = "rollback: scale blue back to 3 tasks before it takes traffic again"
FLIP = "rollback: blue (v1) live again, undoing release r-1"


def test_a_scaled_down_colour_is_scaled_back_to_lives_count_written_noted_and_read_every_15_seconds() -> None:
    ctx, stack, world, notes = _scaled_down()
    flips: list[float] = []

    def on_update(message: str) -> None:
        if message == SCALE_UP:
            # ECS starts the tasks; they run 50 s later.
            world.counts["web-blue"] = (0, 3)
            world.later(ctx.clock.monotonic() + 50, lambda w: w.counts.update({"web-blue": (3, 3)}))
        else:
            flips.append(ctx.clock.monotonic())

    stack.on_update = on_update
    done = fast_rollback(ctx, "5xx on checkout")
    assert stack.updates == [SCALE_UP, FLIP]
    assert flips == [60], "read at 0, 15, 30, 45 and 60 s"
    assert stack.get_config()[CANDIDATE_TASKS] == "3"
    assert "blue runs 0 task(s): scaling it back to the 3 green runs first" in notes.notes
    assert (done.action, done.live, done.version, done.updates, done.touched) == ("flipped", Colour.BLUE, "v1", 2, 1), \
        "the scale-up's update and the flip's"


def test_a_colour_already_recorded_at_lives_count_is_waited_for_without_a_write_or_an_update() -> None:
    ctx, stack, world, _ = _scaled_down(candidate_tasks=3, blue=(2, 3))
    world.later(30, lambda w: w.counts.update({"web-blue": (3, 3)}))
    etag = stack.store.read()[1]
    flips: list[float] = []
    stack.on_update = lambda message: flips.append(ctx.clock.monotonic())
    fast_rollback(ctx)
    assert stack.updates == [FLIP]
    assert flips == [30]
    assert int(stack.store.read()[1]) == int(etag) + 2, "only the flip's two writes: its mark and its record"


def test_a_newer_release_recorded_before_the_scale_up_is_written_refuses_with_nothing_changed() -> None:
    ctx, stack, world, _ = _scaled_down()
    world.later(0, _newer_release_lands(stack))  # at the first read of the services, after the rollback read r-1
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(ctx)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "rollback", "the last release changed since it was read: it is now release r-2 (aborted); nothing was changed",
        "python -m release status --stack staging")
    assert stack.updates == []
    assert stack.get_config()[CANDIDATE_TASKS] == "0"
    assert stack.last.id == "r-2"


def test_a_colour_that_does_not_run_its_tasks_within_600_seconds_is_refused_in_these_words() -> None:
    ctx, stack, world, _ = _scaled_down()
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(ctx)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "rollback", "blue was scaled back up to 3 tasks but is not healthy after 600s "
        "(not done after 600s (last seen: blue runs 0 of the 3 tasks it needs)); no traffic was moved", TO_VERSION_N)
    assert ctx.clock.monotonic() == 600, "read every 15 s up to the timeout"
    assert stack.updates == [SCALE_UP]


def test_a_read_that_fails_while_waiting_for_the_colour_is_named_in_the_refusal() -> None:
    ctx, stack, world, _ = _scaled_down()

    def broken(cluster: str, service: str) -> tuple[int, int]:
        msg = "ECS answered a service with no deployments"
        raise RuntimeError(msg)

    stack.on_update = lambda message: setattr(world, "running_count", broken)
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(ctx)
    assert caught.value.why == ("blue was scaled back up to 3 tasks but is not healthy after 600s "
                                "(ECS answered a service with no deployments); no traffic was moved")
    assert stack.updates == [SCALE_UP]


def test_a_colour_running_lives_count_but_unhealthy_is_refused_at_once_saying_scaling_would_not_help() -> None:
    ctx, stack, world, _ = _scaled_down(candidate_tasks=3, blue=(3, 3))
    world.sick.add("arn:b")
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(ctx)
    assert (caught.value.what, caught.value.why, caught.value.next_command) == (
        "rollback", "the previous colour blue is not healthy (blue targets not healthy: 10.0.1.1:unhealthy), though it runs "
        "3 task(s), as many as green (3): flipping to it would serve nothing", TO_VERSION_N)
    assert ctx.clock.monotonic() == 0, "not waited for: it runs its tasks already"
    assert stack.updates == []
