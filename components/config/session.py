"""How long a release's AWS credentials must last, from the stack's release config.

A deploy job assumes its role once, then runs the whole release: every step and
every bake. The session therefore lasts the release's planned duration plus the
job's set-up and a margin for steps that run past their expected time; the role's
``maxSessionDuration`` is the same figure, so the job never asks for more than
the role grants. The per-step figures mirror ``release/strategies/steps.py`` (a test holds
them to the planner's ``expected_seconds`` of each stack's real plan).
"""

from __future__ import annotations

import math

from components.config.base import Problem
from components.config.release import ReleaseConfig, Strategy

# IAM's bounds on a role's maximum session. Source: botocore/data/iam/2010-05-08/service-2.json(.gz),
# CreateRole MaxSessionDuration, shape roleMaxSessionDurationType: "min": 3600, "max": 43200.
IAM_MIN_SESSION_SECONDS = 3600
IAM_MAX_SESSION_SECONDS = 43200
# The deploy jobs' timeout (components/pipeline.py): a session longer than the job is never used.
DEPLOY_JOB_MINUTES = 240
# Check-out, Python and the Pulumi CLI, the driver's install and the first preview, before step one.
SETUP_SECONDS = 900
# Deploys and migrations may run to their timeouts (600 s and 1800 s) rather than their expected time.
OVERRUN_SECONDS = 420 + 1680
GRANULARITY_SECONDS = 900

# release/strategies/steps.py: preflight, backup, deploy, migrate, smoke, promote, smoke, notify; shift per step.
FIXED_STEP_SECONDS = 5 + 300 + 180 + 120 + 5 + 30 + 5 + 1
SHIFT_SECONDS = 30
# The Retire step: the backup window (release:backupMinutes), then the scale-down's update.
RETIRE_SECONDS = 30


# A rolling release (release/strategies/steps.py): preflight, backup, stage, migrate, roll, watch, smoke, complete, notify.
ROLLING_FIXED_STEP_SECONDS = 5 + 300 + 60 + 120 + 60 + 600 + 5 + 1 + 1
# Its watch may run to its timeout (release/strategies/planner.py ROLLOUT_TIMEOUT) instead of its expected 600 s.
ROLLOUT_TIMEOUT_SECONDS = 1200
# A failed rollout: ECS's rollback verified (release/strategies/rolling.py ROLLBACK_TIMEOUT), the old version's update, and
# that deployment verified with the same bound, all under the same credentials.
ROLLBACK_TIMEOUT_SECONDS = 1200
ROLLING_FAILURE_SECONDS = ROLLBACK_TIMEOUT_SECONDS + 60 + ROLLBACK_TIMEOUT_SECONDS


def planned_release_seconds(release: ReleaseConfig) -> float:
    """The longest planned release of a stack with this config: every optional step included."""
    if release.strategy is Strategy.ROLLING:
        return rolling_release_seconds(release)
    steps = (100,) if release.strategy is Strategy.BLUE_GREEN else release.steps
    backup = RETIRE_SECONDS + 60.0 * release.backup_minutes
    return FIXED_STEP_SECONDS + len(steps) * (SHIFT_SECONDS + 60.0 * release.bake_minutes) + backup


def rolling_release_seconds(release: ReleaseConfig) -> float:
    """The longest rolling release, from its one bake (``release:rolling.bakeMinutes``), not the canary steps.

    It includes a watch that runs to its timeout and the rollback of a failed rollout; it keeps no second colour,
    so it has no backup window.
    """
    watch_overrun = ROLLOUT_TIMEOUT_SECONDS - 600
    return ROLLING_FIXED_STEP_SECONDS + watch_overrun + 60.0 * release.rolling.bake_minutes + ROLLING_FAILURE_SECONDS


def session_seconds(release: ReleaseConfig) -> int:
    """The session a deploy job asks for and the deploy role allows, in whole quarter hours."""
    needed = planned_release_seconds(release) + SETUP_SECONDS + OVERRUN_SECONDS
    rounded = GRANULARITY_SECONDS * math.ceil(needed / GRANULARITY_SECONDS)
    return max(IAM_MIN_SESSION_SECONDS, rounded)


def session_problems(release: ReleaseConfig) -> list[Problem]:
    """Why no deploy job could hold credentials for a whole release of this stack, if it cannot."""
    seconds = session_seconds(release)
    limit = min(IAM_MAX_SESSION_SECONDS, DEPLOY_JOB_MINUTES * 60)
    if seconds <= limit:
        return []
    if release.strategy is Strategy.ROLLING:
        return [Problem(
            "release:rolling.bakeMinutes", release.rolling.bake_minutes,
            f"a rolling release of this stack (a {release.rolling.bake_minutes} min bake, a watch of up to "
            f"{ROLLOUT_TIMEOUT_SECONDS // 60} min and the rollback of a failed rollout) needs credentials for "
            f"{seconds // 60} min; a deploy job holds them for at most {limit // 60} min (its timeout and IAM's "
            f"{IAM_MAX_SESSION_SECONDS // 3600} h session limit): bake for less",
        )]
    # Name the key that tips it over: the backup window when the release would fit without it.
    without_backup = session_seconds(release.model_copy(update={"backup_minutes": 0}))
    key, value = ("release:backupMinutes", release.backup_minutes) if without_backup <= limit \
        else ("release:bakeMinutes", release.bake_minutes)
    return [Problem(
        key, value,
        f"a release of this stack ({len(release.steps)} steps of {release.bake_minutes} min, then a backup window of "
        f"{release.backup_minutes} min) needs credentials for {seconds // 60} min; a deploy job holds them for at most "
        f"{limit // 60} min (its timeout and IAM's {IAM_MAX_SESSION_SECONDS // 3600} h session limit): bake for less or "
        "in fewer steps, or shorten release:backupMinutes",
    )]
