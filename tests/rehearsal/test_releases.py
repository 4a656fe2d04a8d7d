"""The rehearsal is the driver's acceptance test: every scenario, both strategies, against moto."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from components.config import Strategy
from rehearsal.run import Rehearsal
from tests.rehearsals import QUICK, QUICK_BACKUP, rehearsed

pytestmark = pytest.mark.rehearsal

# One minute of bake keeps the suite quick; the poll interval stays the default 10 s. The alarm scenario
# keeps the default five: the stack's alarms need three breaching minutes, inside one bake. No test here is
# about the backup window, so every rehearsal keeps it to a minute (tests/rehearsals.py).
# So do the analysis scenarios: they are the acceptance commands, run as `python -m rehearsal --scenario NAME` runs them.
ON_DEFAULT_BAKES = ("alarm", "bad-candidate", "slow-candidate", "flaky-candidate", "low-traffic", "noisy-logs")
STRATEGIES = (Strategy.CANARY, Strategy.BLUE_GREEN)
NO_SHIFT = ("unhealthy", "smoke-fails", "migration-fails")



@pytest.fixture(scope="module")
def run() -> Callable[[str, Strategy], Rehearsal]:
    def get(scenario: str, strategy: Strategy) -> Rehearsal:
        overrides = QUICK_BACKUP if scenario in ON_DEFAULT_BAKES else QUICK
        return rehearsed("staging", scenario, overrides, strategy=strategy)

    return get


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_happy_release_is_promoted_and_moto_serves_the_new_colour(run: Callable[..., Rehearsal], strategy: Strategy) -> None:
    done = run("happy", strategy)
    assert done.summary["outcome"] == "promoted"
    assert done.result.exit_code == 0
    assert done.summary["live"] == "green"
    assert done.summary["weights"] == {"blue": 0, "green": 100}
    assert all(step["done"] for step in done.summary["steps"])


def test_canary_walks_every_configured_weight_in_order(run: Callable[..., Rehearsal]) -> None:
    candidate_weights = [u["weights"]["green"] for u in run("happy", Strategy.CANARY).updates]
    # deploy (0), the three default steps with green scaled to 2 tasks before the last (one live task x1.2), the
    # last leaving blue its 5% control (release:controlWeight), the promotion (green live, blue still the control),
    # the control's end after the backup window, and blue back to its standby count.
    assert candidate_weights == [0, 25, 50, 50, 95, 95, 100, 100]


def test_blue_green_switches_in_one_step_after_the_smoke_test(run: Callable[..., Rehearsal]) -> None:
    done = run("happy", Strategy.BLUE_GREEN)
    assert [u["weights"]["green"] for u in done.updates] == [0, 0, 95, 95, 100, 100]
    assert done.updates[1]["message"].endswith("scale green to 2 tasks for 95%")
    names = [s["step"] for s in done.summary["steps"]]
    smoke = next(i for i, n in enumerate(names) if n.startswith("smoke test") and "candidate route" in n)
    shift = next(i for i, n in enumerate(names) if n.startswith("step 1/1"))
    assert smoke < shift


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_alarm_during_a_bake_aborts_back_to_live(run: Callable[..., Rehearsal], strategy: Strategy) -> None:
    done = run("alarm", strategy)
    assert done.summary["outcome"] == "aborted"
    assert done.result.exit_code == 1
    assert done.summary["weights"] == {"blue": 100, "green": 0}
    assert done.summary["live"] == "blue"
    assert "alarm webapp-staging-green-release is ALARM" in done.summary["failed"]["why"]
    last = done.updates[-1]
    assert last["message"].startswith("abort release")
    assert last["weights"] == {"blue": 100, "green": 0}


def test_canary_alarm_fires_during_the_second_step(run: Callable[..., Rehearsal]) -> None:
    done = run("alarm", Strategy.CANARY)
    reached = [u["weights"]["green"] for u in done.updates]
    assert reached == [0, 25, 50, 0]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_abort_follows_the_alarm_within_one_poll_and_touches_one_resource(run: Callable[..., Rehearsal], strategy: Strategy) -> None:
    done = run("alarm", strategy)
    assert done.alarm_at is not None, "the evaluator never took the candidate's composite alarm to ALARM"
    assert done.abort_at is not None
    assert 0 < done.abort_at - done.alarm_at <= 10.0, "the alarm must not land on a poll, or the latency proves nothing"
    assert done.touched_by_abort == 1


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_alarm_comes_from_the_stacks_own_definitions_over_real_traffic(run: Callable[..., Rehearsal], strategy: Strategy) -> None:
    done = run("alarm", strategy)
    fired = [a["alarm"] for a in done.summary["alarms"] if a["state"] == "ALARM"]
    # The dead candidate's target is unhealthy for three minutes: its unhealthy-hosts alarm, then the composite.
    assert fired == ["webapp-staging-green-unhealthy-hosts", "webapp-staging-green-release"]
    green = done.summary["traffic"]["green"]
    assert green["elb_5xx"] > 0, "requests routed to the dead candidate are answered by the load balancer"
    assert green["target_5xx"] == 0


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("scenario", NO_SHIFT)
def test_failures_before_the_first_shift_never_move_traffic(run: Callable[..., Rehearsal], scenario: str, strategy: Strategy) -> None:
    done = run(scenario, strategy)
    assert done.summary["outcome"] == "aborted"
    assert done.result.exit_code == 1
    assert done.summary["weights"] == {"blue": 100, "green": 0}
    assert done.updates, "the release deploys the candidate before it fails"
    for update in done.updates:
        assert update["weights"] == {"blue": 100, "green": 0}, update["message"]


@pytest.mark.parametrize(("scenario", "why"), [
    ("unhealthy", "no targets registered in green's target group"),
    ("smoke-fails", "answered 500 after 5 attempts"),
    ("migration-fails", "exited with 1"),
])
def test_each_failure_says_what_failed_and_why(run: Callable[..., Rehearsal], scenario: str, why: str) -> None:
    failed = run(scenario, Strategy.CANARY).summary["failed"]
    assert why in failed["why"]
    assert failed["next"]


def test_a_failed_migration_keeps_its_snapshot(run: Callable[..., Rehearsal]) -> None:
    done = run("migration-fails", Strategy.CANARY)
    snapshot = done.summary["snapshot"]
    assert snapshot.startswith("staging-release-rehearsal-1-"), "the release's own snapshot, named for when it was taken"
    assert done.summary["migration"]["exit_code"] == 1
    assert f"snapshot {snapshot} is kept" in done.summary["failed"]["why"]


def test_the_abort_is_recorded_as_the_last_release(run: Callable[..., Rehearsal]) -> None:
    done = run("smoke-fails", Strategy.CANARY)
    assert done.result.record is not None
    assert done.result.record.outcome is not None
    assert done.result.record.outcome.value == "aborted"
    assert done.result.record.reason is not None
    assert "smoke test" in done.result.record.reason


def test_the_candidate_is_smoke_tested_with_the_token_from_secrets_manager_never_shown(run: Callable[..., Rehearsal]) -> None:
    # The health server answers 500 only to requests carrying the token it stored in moto's Secrets Manager and
    # a colour: a smoke test without the headers would reach the live colour, pass, and let the release go on.
    failed = run("smoke-fails", Strategy.CANARY).summary["failed"]
    assert failed["step"] == "smoke"
    assert "-H 'X-Release-Token: <token from release_token_secret_arn>' -H 'X-Release-Colour: green'" in failed["next"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_promoted_release_served_real_requests_on_both_colours(run: Callable[..., Rehearsal], strategy: Strategy) -> None:
    traffic = run("happy", strategy).summary["traffic"]
    assert traffic["blue"]["requests"] > 0
    assert traffic["green"]["requests"] > 0
    assert traffic["green"]["target_5xx"] == traffic["green"]["elb_5xx"] == 0
    # Each request wrote a line, shipped to its colour's log group; a healthy release writes no error line.
    assert traffic["blue"]["log_lines"] > 0
    assert traffic["green"]["log_lines"] > 0
    assert traffic["blue"]["error_lines"] == traffic["green"]["error_lines"] == 0


def test_a_bad_candidate_is_aborted_by_the_5xx_comparison_without_any_alarm(run: Callable[..., Rehearsal]) -> None:
    done = run("bad-candidate", Strategy.CANARY)
    assert done.result.exit_code == 1
    assert done.summary["outcome"] == "aborted"
    assert "e-process over every look" in done.summary["failed"]["why"]
    assert "alarm" not in done.summary["failed"]["why"]
    assert not [a for a in done.summary["alarms"] if a["state"] == "ALARM"]
    assert done.summary["traffic"]["green"]["target_5xx"] > 0


def test_a_candidate_that_logs_errors_is_aborted_by_the_error_line_test_without_any_alarm(
    run: Callable[..., Rehearsal],
) -> None:
    done = run("noisy-logs", Strategy.CANARY)
    assert done.result.exit_code == 1
    assert done.summary["outcome"] == "aborted"
    why = done.summary["failed"]["why"]
    assert "requests with an error" in why
    assert "e-process over every look" in why
    assert "alarm" not in why
    assert "5xx" not in why, "every request was answered 200"
    assert not [a for a in done.summary["alarms"] if a["state"] == "ALARM"]
    traffic = done.summary["traffic"]
    assert traffic["green"]["target_5xx"] == 0
    # The figures the stack's own metric filter counted from the shipped lines.
    assert traffic["green"]["error_lines_per_request"] > 2 * traffic["blue"]["error_lines_per_request"] > 0


def test_a_slow_candidate_is_aborted_by_the_latency_comparison_without_any_alarm(run: Callable[..., Rehearsal]) -> None:
    done = run("slow-candidate", Strategy.CANARY)
    assert done.result.exit_code == 1
    # Judged on p99 as CloudWatch serves it for the target group, not on the maximum moto could give.
    assert "p99 latency" in done.summary["failed"]["why"]
    assert done.summary["percentile_reads"] > 0
    assert "sign test over every look" in done.summary["failed"]["why"]
    assert "alarm" not in done.summary["failed"]["why"]
    assert not [a for a in done.summary["alarms"] if a["state"] == "ALARM"]
    traffic = done.summary["traffic"]
    assert traffic["green"]["p99_ms"] > 1.4 * traffic["blue"]["p99_ms"]


def test_a_flaky_candidate_no_worse_than_live_is_promoted(run: Callable[..., Rehearsal]) -> None:
    done = run("flaky-candidate", Strategy.CANARY)
    assert done.summary["outcome"] == "promoted"
    assert done.result.exit_code == 0
    assert done.summary["traffic"]["green"]["target_5xx"] > 0, "the candidate did fail some requests"
    assert done.summary["holds"] == [], "nothing blamed on the environment either"


def test_with_too_little_traffic_to_compare_the_release_holds_then_ends_never_promoting(
    run: Callable[..., Rehearsal],
) -> None:
    done = run("low-traffic", Strategy.CANARY)
    # A few requests a minute: the first bake is extended for the minimum sample, then held; the tests stay
    # undecided, which is never a pass, so the hold ends the release with the candidate back to 0 (exit 3).
    assert done.summary["outcome"] == "aborted"
    assert done.result.exit_code == 3, "not a verdict on the candidate"
    failed = done.summary["failed"]
    assert failed["step"] == "bake"
    assert "too little evidence to judge the candidate" in failed["why"]
    assert "never promoted on no evidence" in failed["why"]
    assert 0 < done.summary["traffic"]["green"]["requests"] < 200
