"""What each release scenario of the rehearsal changes: the applications, the traffic, the smoke test, the migration.

Live runs the stack's current version, the candidate the version being released; each is a real process
(``rehearsal.world.app``) whose behaviour is set here. Nothing here sets an alarm state: alarms change only
when the stack's own alarm definitions, evaluated over the traffic's metrics, say so.

- ``happy``: both colours healthy, no errors: promoted.
- ``alarm``: the candidate's process dies 37 s into the second step's bake (the only one, blue-green). Its
  share of requests gets 502 from the load balancer and its target turns unhealthy; the stack's
  unhealthy-hosts alarm (3 of 3 minutes) and so the candidate's composite alarm go to ALARM, and the driver
  aborts. The 502s are the load balancer's, not the target's, so the per-target-group 5xx comparison cannot
  see them: the alarm is the gate.
- ``unhealthy``: the candidate crashes on start; its target group never gets a healthy target.
- ``smoke-fails``: the candidate's smoke-test route answers 500.
- ``migration-fails``: the migration task exits 1.
- ``bad-candidate``: live answers 1% 5xx, the candidate 3% (three times), under the stack's 5% alarm
  threshold: only the analysis can stop it. At 10 requests a second: at the default 3, the anytime-valid test
  needs more of the candidate's requests than a 25% step's bake gives it.
- ``slow-candidate``: the candidate's median latency doubled (80 ms added to 80 ms), far under the stack's
  p99 alarm threshold: only the analysis can stop it.
- ``flaky-candidate``: live 1% 5xx, the candidate 1.2%: rare errors, not significantly above live's.
- ``noisy-logs``: the candidate answers every request 200 but writes an error line for 4% of them, live for
  1% (four times), under the stack's error-line alarm threshold (5 per 100 requests on staging): the 5xx test
  sees nothing, and only the error-line test, over the log metric the stack's own metric filter counts, can
  stop it.
- ``verbose-errors``: live and the candidate both fail inside 1% of their requests (answered 200), but the
  candidate writes 3 error lines for each where live writes 1: the same failure rate, so it is promoted, since the
  stack's filter counts requests with an error (their access lines), not lines.
- ``shared-fault``: at 10 requests a second, at the last step (live keeps its control share,
  ``release:controlWeight``) a dependency both colours share fails for 4 minutes: each answers 2% 5xx. The
  candidate's own rate rose at that step, its earlier steps were like live's baseline, and it is no worse than live's
  control in the same minutes, so the bake holds and alerts naming the environment rather than aborting; once the
  environment is well it bakes again and is promoted.
- ``low-traffic``: one request every 20 s: too few for the analysis to compare (its minimum sample); the
  candidate is as good as live, and the documented rule for too little traffic decides: the bake is extended for
  the minimum sample, then held (never a pass), and the hold ends the release with the candidate back to 0, exit 3.
- ``staging-gate``, ``staging-recent``, ``staging-rolled-back`` (production only): staging's history holds no
  release of the version, a promotion under ``release:stagingSoakMinutes`` old, or one it rolled back: the gate
  refuses before production changes; ``--skip-staging --reason`` lets the release through with the reason recorded.
- ``staging-held`` (production only): staging promoted the version, ran its migration and held it past the soak:
  the release goes through the gate and is promoted.
- ``backup-alarm``: promoted; a minute later the new live colour answers half its requests with 5xx, its alarms
  fire within the backup window, and the old colour is kept running (not scaled down): exit 1, naming the rollback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from components.config.release import ReleaseConfig
from rehearsal.world.fleet import AppBehaviour
from rehearsal.world.traffic import Load

HEALTHY = AppBehaviour()
ONE_PERCENT = AppBehaviour(error_rate=0.01)


@dataclass(frozen=True)
class Scenario:
    """One scenario's settings."""

    name: str
    live: AppBehaviour = HEALTHY
    candidate: AppBehaviour = HEALTHY
    load: Load | None = None
    """The traffic; None: the stack's own (``default_load``)."""
    smoke_status: int = 200
    migration_exit: int = 0
    kill_candidate: bool = False
    """Kill the candidate's process partway into the bake of the second shift."""
    warm_up_seconds: float = 120.0
    """How long live serves traffic before the release starts: a baseline for the analysis and the alarms."""
    seed: int = 1
    staging: str = "held"
    """What the staging stack holds for the version when the stack rehearsed is production (``rehearsal/scenarios/staging.py``):
    ``held``, ``missing``, ``recent`` or ``rolled-back``. Default ``held``, so production's gate lets the release through."""
    staging_only: bool = False
    """The scenario rehearses production's staging gate: refused on any other stack."""
    live_fails_after_promotion: bool = False
    """The new live colour answers half its requests with 5xx from a minute after the promotion (the backup window)."""
    shared_fault: bool = False
    """Every colour answers 2% 5xx for a while from the last shift on (``rehearsal/world/faults.py`` ``shared_fault``)."""


def default_load(release: ReleaseConfig) -> Load:
    """The load of a scenario that sets none: 3 a second, or enough for the smallest step's minimum sample in time.

    ``Load``'s 3 requests a second, or the least whole number a second at which the stack's smallest step reaches the
    tests' minimum sample before its bake would hold undecided.

    The count tests judge nothing below ``minRequests`` of the candidate's requests (``release:analysis.errors`` and
    ``errorLines``; ``release/judgement/checks.py``, ``count_outcome``), and an undecided bake holds after
    ``bakeMinutes`` and ``lowTraffic.extendMinutes`` (``release/strategies/canary.py``, ``_bake``). The smallest step
    serves ``step_weight`` percent of the requests. Production (5% first, 10-minute bakes, a 10-minute extension,
    500 requests): 500 / (5% x 20 min x 60 s) = 8.3, so 9 a second; at the default 3 the step gets 180 requests in
    those 20 minutes and the release ends held, exit 3. Staging (25% first, 5-minute bakes): 2.2, so 3.
    """
    analysis = release.analysis
    sample = max(analysis.errors.min_requests, analysis.error_lines.min_requests)
    share = min(release.step_weight(step) for step in release.steps) / 100
    seconds = (release.bake_minutes + analysis.low_traffic.extend_minutes) * 60
    base = Load()
    if not seconds or sample <= base.rate * share * seconds:
        return base
    return Load(rate=float(math.ceil(sample / (share * seconds))))


SCENARIO_LIST = (
    Scenario("happy"),
    Scenario("alarm", kill_candidate=True),
    Scenario("unhealthy", candidate=AppBehaviour(crash_on_start=True)),
    Scenario("smoke-fails", smoke_status=500),
    Scenario("migration-fails", migration_exit=1),
    Scenario("bad-candidate", live=ONE_PERCENT, candidate=AppBehaviour(error_rate=0.03), load=Load(rate=10.0)),
    Scenario("slow-candidate", candidate=AppBehaviour(added_latency_ms=80.0)),
    Scenario("flaky-candidate", live=ONE_PERCENT, candidate=AppBehaviour(error_rate=0.012)),
    Scenario("noisy-logs", live=AppBehaviour(error_log_rate=0.01), candidate=AppBehaviour(error_log_rate=0.04)),
    Scenario("verbose-errors", live=AppBehaviour(error_log_rate=0.01),
             candidate=AppBehaviour(error_log_rate=0.01, error_lines=3)),
    Scenario("shared-fault", shared_fault=True, load=Load(rate=10.0)),
    Scenario("low-traffic", live=ONE_PERCENT, candidate=ONE_PERCENT, load=Load(rate=0.05)),
    # Faults of the world, not of the candidate: throttled CloudWatch reads, a candidate already carrying weight.
    Scenario("throttled"),
    Scenario("weighted-candidate"),
    # Where the world disagrees with the plan (rehearsal/world/seams.py Faults): the listener keeps its old
    # weights, live is in alarm or runs too few tasks before the release.
    Scenario("lb-ignores-weights"),
    # Live answers half its requests with 5xx for long enough (M of N periods) that its own alarms fire.
    Scenario("live-alarm", live=AppBehaviour(error_rate=0.5), warm_up_seconds=420.0),
    Scenario("live-unhealthy"),
    # Production's staging gate (release/judgement/staging_gate.py) over what the staging stack's history holds.
    # Production's first step is 5%: at 10 requests a second the candidate gets the tests' minimum sample within
    # the bake, its extension and a hold; at 2 it would stay undecided, which is never a pass.
    Scenario("staging-gate", staging="missing", staging_only=True, warm_up_seconds=0.0, load=Load(rate=10.0)),
    Scenario("staging-held", staging="held", staging_only=True, load=Load(rate=10.0)),
    Scenario("staging-recent", staging="recent", staging_only=True, warm_up_seconds=0.0),
    Scenario("staging-rolled-back", staging="rolled-back", staging_only=True, warm_up_seconds=0.0),
    # Verified decommission: the new live colour goes bad in the backup window; its alarms keep the old colour.
    Scenario("backup-alarm", live_fails_after_promotion=True, load=Load(rate=10.0)),
)
BY_NAME = {s.name: s for s in SCENARIO_LIST}
