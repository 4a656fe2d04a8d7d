"""What the dry run shows of each step (release/output/display.py): its line, the config it sets, its expected time.

People read these before a release runs, and the plan's expected duration is their sum. Every kind of step is here,
each branch of its line once (a control share or none, a candidate route or the public endpoint, a scale or none).
"""

from __future__ import annotations

import pytest

from components.config import Colour
from release.strategies.planner import expected_seconds
from release.strategies.steps import (
    Backup,
    Bake,
    Complete,
    Deploy,
    EndControl,
    Migrate,
    Notify,
    Preflight,
    Promote,
    Retire,
    Roll,
    Settle,
    Shift,
    Smoke,
    Stage,
    Step,
    Watch,
)

BLUE, GREEN = Colour.BLUE, Colour.GREEN

LINES: list[tuple[Step, str, dict[str, object], float]] = [
    (Preflight(BLUE), "preflight: config valid, no release in progress, blue healthy", {}, 5.0),
    (Backup("db", "staging-release-v2"), "back up database db as a new snapshot staging-release-v2-<UTC time>", {}, 300.0),
    (Deploy(GREEN, "v2", 600.0), "deploy v2 to green, wait until its targets are healthy", {"release:versions.green": "v2"}, 180.0),
    (Migrate(("manage", "migrate")), "run the migration task: manage migrate", {}, 120.0),
    (Smoke("endpoint_url", "/healthz", colour=GREEN), "smoke test /healthz through the candidate route to green", {}, 5.0),
    (Smoke("endpoint_url", "/healthz"), "smoke test /healthz through the public endpoint", {}, 5.0),
    (Shift(GREEN, 25, 1, 3, headroom=1.5),
     "step 1/3: scale green to 25% of blue's running tasks x1.5, wait until they run; send 25% to green, verify the listener",
     {"release:canaryWeight": 25}, 30.0),
    (Shift(GREEN, 100, 3, 3, control=5), "step 3/3: send 95% to green (blue keeps 5% as the control), verify the listener",
     {"release:canaryWeight": 95}, 30.0),
    (Bake(50, 300.0),
     "bake 5 min at 50%: alarms, then the 5xx and latency tests against live's traffic of the same minutes, every 10s; "
     "held while live degrades too, aborted if worse than live in the same minutes", {}, 300.0),
    (Promote(GREEN, control=5), "promote green to live; blue keeps running as the backup and 5% of the traffic as the control",
     {"release:live": "green", "release:canaryWeight": 5}, 30.0),
    (Promote(GREEN), "promote green to live; blue keeps running as the backup", {"release:live": "green", "release:canaryWeight": 0}, 30.0),
    (Retire(BLUE, backup_seconds=1800.0, control=5),
     "keep blue running as the backup for 30 min while green stays healthy with no release alarm (read every 10s); then "
     "send blue's 5% control share to green, verified, and scale blue down to its standby count", {"release:candidateTasks": 0}, 1830.0),
    (Retire(BLUE, backup_seconds=900.0, poll_seconds=30.0),
     "keep blue running as the backup for 15 min while green stays healthy with no release alarm (read every 30s); then "
     "scale blue down to its standby count", {"release:candidateTasks": 0}, 930.0),
    (EndControl(BLUE, 5), "send blue's 5% control share to green: it serves 100%, verify the listener", {"release:canaryWeight": 0}, 30.0),
    (Notify(), "notify: the release summary to the alert topic", {}, 1.0),
    (Stage("v2"), "revise the migration task to v2 (stack update; the live service is untouched)", {}, 30.0),
    (Roll(BLUE, "v2"), "roll v2 onto blue in place (stack update: its task definition and service)", {"release:versions.blue": "v2"}, 60.0),
    (Watch(BLUE, "v2", timeout_seconds=1500.0),
     "watch ECS roll v2 out on blue (rolloutState IN_PROGRESS to COMPLETED, up to 25 min) and blue's release alarms, every 15s", {}, 600.0),
    (Settle(BLUE, 420.0), "bake 7 min: blue's release alarms and its deployment, every 15s", {}, 420.0),
    (Complete(BLUE), "record the release as done: blue runs it", {}, 1.0),
]


@pytest.mark.parametrize(("step", "line", "config", "seconds"), LINES, ids=[f"{i}-{s.name}" for i, (s, *_) in enumerate(LINES)])
def test_each_step_shows_its_line_its_config_and_its_expected_time(
    step: Step, line: str, config: dict[str, object], seconds: float,
) -> None:
    assert step.describe() == line
    assert dict(step.config_change()) == config
    assert step.expected_seconds() == seconds


def test_the_plans_expected_duration_is_the_sum_of_its_steps() -> None:
    assert expected_seconds([step for step, *_ in LINES]) == sum(seconds for *_, seconds in LINES) == 4937.0
