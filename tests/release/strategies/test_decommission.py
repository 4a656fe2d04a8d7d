"""Verified decommission: the old live colour stays as the backup through the window, and goes only if live stayed well.

The step runs over a small stack whose release state is a real ``MemoryStateStore``
(compare-and-set), a manual clock (no real sleeping) and AWS answers the test sets
as the window goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from components.config import Colour, ConfigError, load
from components.config.release_record import Backup, BackupState, Outcome, ReleaseRecord
from components.config.session import session_problems, session_seconds
from offline.stacks import ProjectFiles
from release.aws.elbv2 import TargetState
from release.clock import ManualClock
from release.context import Context
from release.engine import UpdateFailedError
from release.rollback.fast import RollbackRefusedError, fast_rollback
from release.state import RELEASE_KEYS, MemoryStateStore
from release.state import record as records
from release.strategies.canary import CanaryRunner
from release.strategies.capacity import CANDIDATE_TASKS
from release.strategies.executor import Executor
from release.strategies.failure import StepFailure
from release.strategies.steps import Retire
from release.strategies.timing import Timing

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WINDOW = 30 * 60.0


def promoted(live: str = "green") -> ReleaseRecord:
    """Release r-1 put v2 on ``live`` and was promoted; the other colour ran v1."""
    return ReleaseRecord.model_validate({
        "id": "r-1", "version": "v2", "colour": live, "previous": "v1", "strategy": "canary", "startedAt": START,
        "startedBy": "ci", "phase": "promoted", "weight": 100, "highestWeight": 100, "outcome": "promoted", "finishedAt": START,
    })


class Stack:
    """A stack with real compare-and-set release state; updates are recorded (and fail when told to)."""

    stack = "staging"

    def __init__(self, live: str = "green", candidate_tasks: int = 3) -> None:
        files = {k: v for k, v in ProjectFiles.here().stack_config("staging")[0].items() if k not in RELEASE_KEYS}
        self.base = files
        versions = {"blue": "v1", "green": "v1", live: "v2"}
        other = "blue" if live == "green" else "green"
        versions[other] = "v1"
        self.store = MemoryStateStore({
            "release:live": live, "release:versions": f'{{"blue":"{versions["blue"]}","green":"{versions["green"]}"}}',
            "release:canaryWeight": "0", CANDIDATE_TASKS: str(candidate_tasks),
            records.LAST_RELEASE: records.encode(promoted(live)),
        })
        self.updates: list[str] = []
        self.fail_updates = False
        self.on_update: Callable[[str], None] | None = None

    def get_config(self) -> dict[str, str]:
        return {**self.base, **self.store.read()[0]}

    def read_release(self) -> tuple[dict[str, str], str]:
        return self.store.read()

    def write_release(self, changes: Any, removals: Any, expect_etag: str) -> str:
        return self.store.write(changes, removals, expect_etag)

    def update(self, message: str, targets: Any = None) -> None:
        if self.fail_updates:
            msg = "update of stack staging"
            raise UpdateFailedError(msg, "the provider failed", "retry")
        self.updates.append(message)
        if self.on_update:
            self.on_update(message)

    def outputs(self) -> dict[str, Any]:
        return {"cluster_name": "web", "service_names": {"blue": "web-blue", "green": "web-green"},
                "target_group_arns": {"blue": "arn:b", "green": "arn:g"}, "listener_arn": "arn:l",
                "composite_alarm_names": {"blue": "blue-release", "green": "green-release"}}

    def history(self, limit: int | None = None) -> list[Any]:
        return []

    @property
    def last(self) -> ReleaseRecord:
        found = records.last_release(self.get_config())
        assert found is not None
        return found


class World:
    """AWS as the step reads it: per service (running, desired), per target group healthy or not, alarm states."""

    client = None  # the executor's rollout watcher keeps the ECS client; nothing here calls it

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.counts = {"web-blue": (3, 3), "web-green": (3, 3)}
        self.sick: set[str] = set()
        self.alarms = {"blue-release": "OK", "green-release": "OK"}
        self.changes: list[tuple[float, Callable[[World], None]]] = []
        self.reads = 0
        self.served = {"arn:b": 0, "arn:g": 100}
        """The listener's weight per target group."""

    def later(self, seconds: float, change: Callable[[World], None]) -> None:
        self.changes.append((seconds, change))

    def _due(self) -> None:
        for at, change in list(self.changes):
            if self.clock.monotonic() >= at:
                change(self)
                self.changes.remove((at, change))

    def running_count(self, cluster: str, service: str) -> tuple[int, int]:
        self._due()
        return self.counts[service]

    def target_health(self, arn: str) -> list[TargetState]:
        self._due()
        return [TargetState("10.0.1.1", 8080, "unhealthy" if arn in self.sick else "healthy")]

    def alarm_states(self, names: list[str]) -> dict[str, str]:
        self._due()
        self.reads += 1
        return {n: self.alarms[n] for n in names}

    def forward_weights(self, listener: str) -> dict[str, int]:
        return dict(self.served)


def _runner(live: str = "green", candidate_tasks: int = 3) -> tuple[CanaryRunner, Stack, World]:
    clock = ManualClock(START)
    stack, world = Stack(live, candidate_tasks), World(clock)
    aws = SimpleNamespace(ecs=world, elbv2=world, cloudwatch=world)
    ctx = Context(stack="staging", engine=stack, aws=aws, clock=clock, runner=None)  # type: ignore[arg-type]
    return CanaryRunner(ctx, Timing()), stack, world


RETIRE = Retire(Colour.BLUE, timeout_seconds=60, backup_seconds=WINDOW, poll_seconds=10)


def test_after_a_quiet_window_the_old_colour_is_scaled_down_in_one_write_and_one_update() -> None:
    runner, stack, world = _runner()
    _, etag = stack.store.read()
    done = runner.run(RETIRE, promoted())
    assert runner.ctx.clock.monotonic() >= WINDOW, "the backup ran for the whole window (on the injected clock)"
    assert world.reads >= WINDOW / 10, "live's alarms were read every poll"
    assert stack.updates == ["release r-1: after the backup window, scale blue down to its standby count"]
    # One compare-and-set write of the count and the record together ("scaling-down"), the update, then the record
    # confirmed ("scaled-down"): a kill between the first write and the update's end never leaves "scaled-down".
    assert int(stack.store.read()[1]) == int(etag) + 2
    assert stack.get_config()[CANDIDATE_TASKS] == "0"
    assert done.backup is not None
    assert done.backup.state is BackupState.SCALED_DOWN
    assert stack.last.backup == done.backup
    assert "green stayed healthy with no release alarm for 30 min" in done.backup.why


def _controlled(stack: Stack, world: World, *, obeyed: bool = True) -> None:
    """Blue keeps the release's 5% control share; the listener follows an update that ends it unless told not to."""
    _, etag = stack.store.read()
    stack.store.write({"release:canaryWeight": "5"}, [], etag)
    world.served = {"arn:b": 5, "arn:g": 95}

    def flipped(message: str) -> None:
        if obeyed and "control share" in message:
            world.served = {"arn:b": 0, "arn:g": 100}

    stack.on_update = flipped


CONTROLLED = Retire(Colour.BLUE, timeout_seconds=60, backup_seconds=WINDOW, poll_seconds=10, control=5)


def test_a_control_share_kept_through_a_quiet_window_goes_to_the_new_live_colour_verified_before_the_scale_down() -> None:
    runner, stack, world = _runner()
    _controlled(stack, world)
    done = runner.run(CONTROLLED, promoted())
    assert stack.updates == [
        "release r-1: blue's 5% control share to green",
        "release r-1: after the backup window, scale blue down to its standby count",
    ]
    assert world.served == {"arn:b": 0, "arn:g": 100}
    assert stack.get_config()["release:canaryWeight"] == "0"
    assert stack.get_config()[CANDIDATE_TASKS] == "0"
    assert done.backup is not None
    assert done.backup.state is BackupState.SCALED_DOWN


def test_a_control_share_the_listener_keeps_serving_stops_before_the_scale_down_and_is_put_back() -> None:
    runner, stack, world = _runner()
    _controlled(stack, world, obeyed=False)
    with pytest.raises(StepFailure) as caught:
        runner.run(CONTROLLED, promoted())
    assert caught.value.what == "verifying the listener"
    assert stack.updates == ["release r-1: blue's 5% control share to green"], "nothing scaled down"
    # The release state says what the load balancer serves: the control share, still on blue.
    assert stack.get_config()["release:canaryWeight"] == "5"
    assert stack.get_config()[CANDIDATE_TASKS] == "3", "the backup keeps its tasks"


@pytest.mark.parametrize(("fault", "says"), [
    (lambda w: w.alarms.update({"green-release": "ALARM"}), "release alarms of green in ALARM: green-release"),
    (lambda w: w.sick.add("arn:g"), "the new live colour green is not healthy"),
])
def test_an_alarm_or_an_unhealthy_live_in_the_window_keeps_the_backup_and_points_at_the_rollback(
    fault: Callable[[World], None], says: str,
) -> None:
    runner, stack, world = _runner()
    world.later(20 * 60, fault)
    with pytest.raises(StepFailure) as caught:
        runner.run(RETIRE, promoted())
    assert says in caught.value.why
    assert "blue keeps running v1 as the backup" in caught.value.why
    assert "python -m release rollback --stack staging" in caught.value.next_command
    assert stack.updates == []
    assert stack.get_config()[CANDIDATE_TASKS] == "3", "the backup keeps its tasks"
    assert stack.last.backup is not None
    assert stack.last.backup.state is BackupState.KEPT
    assert says in stack.last.backup.why
    assert caught.value.record == stack.last
    assert runner.ctx.clock.monotonic() < 21 * 60, "it stopped at the first read that saw it"


def test_a_release_that_ends_in_the_window_with_the_backup_kept_exits_1_with_the_rollback_command() -> None:
    runner, stack, world = _runner()
    world.later(60, lambda w: w.alarms.update({"green-release": "ALARM"}))
    executor = Executor(runner.ctx)
    executor.runner = runner
    result = executor._failed(RETIRE, promoted(), StepFailure("backup window", "alarm", "python -m release rollback --stack staging"), 5)
    assert result.exit_code == 1
    assert result.outcome is Outcome.PROMOTED
    assert result.next_command == "python -m release rollback --stack staging"


def test_somebody_rolling_back_in_the_window_stops_it_and_nothing_is_scaled_down() -> None:
    runner, stack, world = _runner()

    def rolled_back(w: World) -> None:
        values, etag = stack.store.read()
        stack.store.write({"release:live": "blue"}, [], etag)

    world.later(5 * 60, rolled_back)
    with pytest.raises(StepFailure) as caught:
        runner.run(RETIRE, promoted())
    assert "somebody moved on" in caught.value.why
    assert stack.updates == []
    assert stack.get_config()[CANDIDATE_TASKS] == "3"


def test_a_rollback_between_the_last_read_and_the_write_is_caught_by_the_write() -> None:
    runner, stack, world = _runner()

    def rolled_back(w: World) -> None:
        values, etag = stack.store.read()
        stack.store.write({"release:live": "blue"}, [], etag)

    # Lands during the window's last health read, after the check that the release is still the last one.
    world.later(WINDOW, rolled_back)
    with pytest.raises(StepFailure) as caught:
        runner.run(RETIRE, promoted())
    assert "blue is live now, not green: nothing was scaled down" in caught.value.why
    assert stack.updates == []
    assert stack.get_config()[CANDIDATE_TASKS] == "3"


def _newer_release_lands(stack: Stack) -> Callable[[World], None]:
    """Another release, r-2 of v3, ends (aborted) in another shell: live stays green, only ``lastRelease`` moves on."""

    def ended(w: World) -> None:
        newer = promoted().model_copy(update={"id": "r-2", "version": "v3", "colour": Colour.BLUE, "outcome": Outcome.ABORTED})
        values, etag = stack.store.read()
        stack.store.write({records.LAST_RELEASE: records.encode(newer)}, [], etag)

    return ended


def test_a_newer_release_ending_while_live_is_unchanged_is_never_overwritten_by_the_scale_down() -> None:
    runner, stack, world = _runner()
    # Lands during the window's last read, after the check that r-1 is still the last release: only the write's
    # own compare-and-set (expect_last) can see it, since live is still green.
    world.later(WINDOW, _newer_release_lands(stack))
    with pytest.raises(StepFailure) as caught:
        runner.run(RETIRE, promoted())
    assert "it is now release r-2 (aborted): nothing was scaled down" in caught.value.why
    assert stack.updates == []
    assert stack.last.id == "r-2", "the newer release's record stays"
    assert stack.last.backup is None
    assert stack.get_config()[CANDIDATE_TASKS] == "3"


def test_a_newer_release_ending_while_live_is_unchanged_is_never_overwritten_by_the_kept_backup() -> None:
    runner, stack, world = _runner()
    # The alarm and the newer release land at the same read: the window stops, and recording why the backup was kept
    # must not put r-1 back as the last release.
    world.later(20 * 60, _newer_release_lands(stack))
    world.later(20 * 60, lambda w: w.alarms.update({"green-release": "ALARM"}))
    with pytest.raises(StepFailure) as caught:
        runner.run(RETIRE, promoted())
    assert "release alarms of green in ALARM" in caught.value.why
    assert stack.last.id == "r-2"
    assert stack.last.backup is None
    assert stack.updates == []


def test_a_failed_scale_down_update_puts_the_count_back_and_says_so() -> None:
    runner, stack, _ = _runner()
    stack.fail_updates = True
    with pytest.raises(UpdateFailedError):
        runner.run(RETIRE, promoted())
    assert stack.get_config()[CANDIDATE_TASKS] == "3"
    assert stack.last.backup is not None
    assert stack.last.backup.state is BackupState.KEPT
    assert "the scale-down's update failed" in stack.last.backup.why


def test_the_old_colour_keeps_its_tasks_while_the_new_live_has_not_scaled() -> None:
    runner, stack, world = _runner()
    world.counts["web-green"] = (2, 4)
    with pytest.raises(StepFailure) as caught:
        runner.run(RETIRE, promoted())
    assert "green has not scaled" in caught.value.why
    assert "green service runs 2 of 4 tasks" in caught.value.why
    assert stack.updates == []
    assert stack.get_config()[CANDIDATE_TASKS] == "3"


def test_a_window_of_0_scales_down_as_soon_as_the_new_live_runs_its_count() -> None:
    runner, stack, _ = _runner()
    done = runner.run(Retire(Colour.BLUE, timeout_seconds=60), promoted())
    assert runner.ctx.clock.monotonic() == 0
    assert len(stack.updates) == 1
    assert done.backup is not None
    assert "release:backupMinutes is 0" in done.backup.why


# --- the fast rollback from a scaled-down colour ----------------------------------------------------------------


def test_a_rollback_scales_the_previous_colour_back_up_and_waits_for_it_before_moving_traffic() -> None:
    runner, stack, world = _runner(candidate_tasks=0)
    world.counts["web-blue"] = (0, 0)
    flips: list[tuple[int, int]] = []

    def on_update(message: str) -> None:
        if message.startswith("rollback: scale blue back"):
            # ECS starts the tasks a minute later.
            start = runner.ctx.clock.monotonic() + 60
            world.counts["web-blue"] = (0, 3)
            world.later(start, lambda w: w.counts.update({"web-blue": (3, 3)}))
        else:
            flips.append(world.counts["web-blue"])

    stack.on_update = on_update
    runner.ctx.aws.elbv2 = SimpleNamespace(  # type: ignore[attr-defined]
        target_health=world.target_health, forward_weights=lambda arn: {"arn:b": 100, "arn:g": 0})
    done = fast_rollback(runner.ctx, "test")
    assert stack.updates[0] == "rollback: scale blue back to 3 tasks before it takes traffic again"
    assert flips == [(3, 3)], "the listener moved only once blue ran its 3 tasks"
    assert done.live is Colour.BLUE


def test_a_rollback_to_a_colour_that_does_not_get_healthy_moves_no_traffic() -> None:
    runner, stack, world = _runner(candidate_tasks=0)
    world.counts["web-blue"] = (0, 0)
    with pytest.raises(RollbackRefusedError) as caught:
        fast_rollback(runner.ctx, "test")
    assert "scaled back up to 3 tasks but is not healthy" in caught.value.why
    assert "no traffic was moved" in caught.value.why
    assert stack.updates == ["rollback: scale blue back to 3 tasks before it takes traffic again"]
    assert load(stack.get_config(), "staging").release.live is Colour.GREEN


def test_a_rollback_does_not_flip_to_a_standby_smaller_than_live() -> None:
    # One standby task is healthy, but cannot carry what three live tasks carry.
    runner, stack, world = _runner(candidate_tasks=0)
    world.counts["web-blue"] = (1, 1)
    with pytest.raises(RollbackRefusedError):
        fast_rollback(runner.ctx, "test")
    assert stack.updates[0].startswith("rollback: scale blue back to 3 tasks")


# --- config and sessions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "says"), [
    ("-1", "release:backupMinutes: got -1; input should be greater than or equal to 0"),
    ("1441", "release:backupMinutes: got 1441; input should be less than or equal to 1440"),
    ("soon", 'release:backupMinutes: got "soon"; input should be a valid integer'),
])
def test_a_bad_backup_window_is_named_with_its_value_and_range(config_problems: Callable[..., list[str]], value: str, says: str) -> None:
    problems = config_problems("staging", f"release:backupMinutes={value}")
    assert any(p.startswith(says) for p in problems), problems


def test_the_backup_window_adds_to_the_deploy_session_and_a_too_long_one_is_named() -> None:
    config, _ = ProjectFiles.here().stack_config("staging")
    release = load(config, "staging").release
    longer = release.model_copy(update={"backup_minutes": release.backup_minutes + 60})
    assert session_seconds(longer) >= session_seconds(release) + 45 * 60
    problems = session_problems(release.model_copy(update={"backup_minutes": 1440}))
    assert [p.key for p in problems] == ["release:backupMinutes"]


def test_the_default_backup_window_is_30_minutes() -> None:
    config, _ = ProjectFiles.here().stack_config("staging")
    try:
        assert load(config, "staging").release.backup_minutes == 30
    except ConfigError as exc:  # pragma: no cover - the committed config is valid
        raise AssertionError(exc.problems) from exc


def test_history_shows_the_backups_fate_at_the_stack_version_that_ended_the_release() -> None:
    from release.engine import HistoryEntry

    plain = promoted()
    kept = plain.model_copy(update={"backup": Backup(colour="blue", until=START, state=BackupState.KEPT, at=START,
                                                     why="release alarms of green in ALARM")})
    history = [
        HistoryEntry(9, "next release: deploy", {records.LAST_RELEASE: records.encode(kept)}, "succeeded"),
        HistoryEntry(7, "an update", {records.LAST_RELEASE: records.encode(plain)}, "succeeded"),
    ]
    ((version, found),) = records.ended_in(history).values()
    assert version == 7
    assert found.backup == kept.backup
