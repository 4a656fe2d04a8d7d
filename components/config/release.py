"""The release state: which colour is live, what each colour runs, and how traffic is split.

These keys are the user-facing interface of a release. A canary shift is
``pulumi config set release:canaryWeight 25`` and ``pulumi up``; a promotion sets
``release:live`` to the candidate and ``release:canaryWeight`` back to 0.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from components.config.base import ConfigModel, Problem, cross_field
from components.config.release_analysis import AnalysisConfig
from components.config.release_record import ReleaseRecord
from components.config.release_terms import Colour, ImageTag, Strategy

# A first step of 25% gives the analysis evidence early at 20 requests a second with 5-minute bakes: 0.08% false
# aborts (its bound 0.9%) and a doubled 5xx rate caught by the end of the second step in 91% of releases
# (bench/canary.py; docs/releasing.md, "What the benchmark says").
DEFAULT_STEPS = (25, 50, 100)
# The live colour's share at the 100% step and through the backup window: a concurrent control for the candidate.
DEFAULT_CONTROL = 5
# Above half, the "control" would carry more of the traffic than the candidate at its full step.
MAX_CONTROL = 50

# How long an update waits for another update's lock (release/engine/waiting.py). A push-triggered Deployments
# update of an unchanged stack takes a few minutes; the bound keeps a waiting driver inside its 35-minute lease.
DEFAULT_LOCK_WAIT_MINUTES = 15


class Versions(ConfigModel):
    """The image tag each colour runs."""

    blue: ImageTag
    """Image tag of the blue fleet. Required."""
    green: ImageTag
    """Image tag of the green fleet. Required."""

    def of(self, colour: Colour) -> str:
        """The tag the given colour runs."""
        return self.blue if colour is Colour.BLUE else self.green


class Rolling(ConfigModel):
    """How ECS replaces the live colour's tasks in a rolling release (botocore ecs ``DeploymentConfiguration``)."""

    minimum_healthy_percent: int = Field(default=100, ge=0, le=100)
    """Tasks that must keep running during the rollout, percent of the desired count, 0-100: ECS's lower limit
    on RUNNING tasks. Default 100 (new tasks start before old ones stop)."""
    maximum_percent: int = Field(default=200, ge=100, le=400)
    """Tasks that may run or start during the rollout, percent of the desired count, 100-400: ECS's upper limit
    on RUNNING and PENDING tasks, the batch size. Default 200 (ECS's default for a replica service)."""
    bake_minutes: int = Field(default=10, ge=0, le=1440)
    """Minutes the driver watches the alarms after the rollout completes, 0-1440. Default 10."""

    @model_validator(mode="after")
    def _check(self) -> Rolling:
        # ECS must be able to start a task before the lower limit lets it stop one, or the rollout never moves.
        if self.maximum_percent <= self.minimum_healthy_percent:
            cross_field([Problem(
                "maximumPercent", self.maximum_percent,
                f"more than minimumHealthyPercent ({self.minimum_healthy_percent}): otherwise ECS can neither start a "
                "new task nor stop an old one",
            )])
        return self


class ReleaseConfig(ConfigModel):
    """The ``release`` namespace."""

    strategy: Strategy = Strategy.CANARY
    """``canary`` shifts traffic in steps; ``blue-green`` switches at once. Default ``canary``."""
    live: Colour = Colour.BLUE
    """The colour serving stable traffic. Default ``blue``."""
    versions: Versions
    """Image tag per colour, ``{blue: ..., green: ...}``. Required."""
    canary_weight: int = Field(default=0, ge=0, le=100)
    """Percent of traffic sent to the candidate (the colour that is not live), 0-100. Default 0."""
    steps: tuple[int, ...] = DEFAULT_STEPS
    """Canary weights a release walks through: strictly increasing, ending at 100. Default 25, 50, 100."""
    candidate_tasks: int = Field(default=0, ge=0, le=100)
    """Tasks the candidate runs while it takes traffic, 0-100, set by the release driver before each shift so the
    candidate carries its share of live's load; 0 means its standby count (``fleet:candidateCount``). The bound is
    ``fleet:desiredCount``'s. Default 0."""
    bake_minutes: int = Field(default=5, ge=0, le=1440)
    """Minutes each step is observed before the next, 0-1440. Default 5."""
    control_weight: int = Field(default=DEFAULT_CONTROL, ge=0, le=MAX_CONTROL)
    """Percent of traffic the old colour keeps as a concurrent control at the 100% step and through the backup
    window, 0-50: the candidate gets ``100 - controlWeight`` there, and a last step after the backup window sends the
    control to the new live colour. 0 turns the control off: the candidate takes all traffic at its last step, and
    it is judged there against live's earlier traffic only, so a fault shared by both colours (a database, a
    dependency) during that step reads as the candidate's. Default 5."""
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    """How sure the driver must be before it calls the candidate worse than live (``release_analysis``). Default: the tests' defaults."""
    rolling: Rolling = Field(default_factory=Rolling)
    """The rollout of a rolling release, ``{minimumHealthyPercent, maximumPercent, bakeMinutes}``. Defaults 100, 200, 10."""
    backup_minutes: int = Field(default=30, ge=0, le=1440)
    """Minutes the previous live colour keeps running as the backup after a promotion, 0-1440, while the driver
    watches the new live colour's health and release alarms; only if it stayed healthy with no alarm is the backup
    then scaled to its standby count. 0 scales it down as soon as the new live runs its count. Default 30: the
    stack's alarms need up to 5 one-minute periods to fire, and full traffic on a new version surfaces faults
    (memory growth, pool exhaustion, hourly jobs) that a canary share does not, while a flip back to a running
    colour is one listener update; 30 minutes keeps that fast way back for six times the slowest alarm."""
    lock_wait_minutes: int = Field(default=DEFAULT_LOCK_WAIT_MINUTES, ge=0, le=25)
    """Minutes a release's update waits while another update (a push's Deployments run, drift remediation, another
    shell) holds the stack, 0-25, before the step fails as a busy stack; 0 fails at once. At most 25: the driver
    writes nothing while it waits, and its last lease renewal (at most ``RENEW_AFTER``, 5 minutes, before) plus the
    wait plus the update stay inside the 35-minute lease (release/state/record.py). Default 15."""
    staging_soak_minutes: int = Field(default=60, ge=0, le=10080)
    """Production only: minutes a version must have run promoted on staging, with no rollback, before production
    takes it, 0-10080 (a week). Default 60."""
    staging_stack: str = Field(default="staging", pattern=r"^[A-Za-z0-9._-]{1,100}$")
    """Production only: the stack whose releases the staging gate reads. Default ``staging``."""
    in_progress: ReleaseRecord | None = None
    """The release being driven now, written by ``python -m release deploy``. Default none."""
    last_release: ReleaseRecord | None = None
    """The last finished release, with its outcome. Default none."""

    @property
    def candidate(self) -> Colour:
        """The colour that is not live: where a canary or blue-green release puts its new version."""
        return self.live.other

    @property
    def target(self) -> Colour:
        """The colour a release puts its version on: the live one when rolling, else the candidate."""
        return self.live if self.strategy is Strategy.ROLLING else self.candidate

    @property
    def migration_version(self) -> str:
        """The image tag the migration task runs: the target colour's.

        During a rolling release it is the version being released: its migration runs before the rollout (no second
        colour keeps the old code), so the driver revises the migration task first, and the rollout's own update then
        changes only the live colour's task definition and service.
        """
        if self.strategy is Strategy.ROLLING and self.in_progress is not None and self.in_progress.ending is None:
            return self.in_progress.version
        return self.versions.of(self.target)

    def step_weight(self, step: int) -> int:
        """The candidate's share at a step: all of it, but for the control share live keeps at the last step."""
        return min(step, 100 - self.control_weight)

    def weight_of(self, colour: Colour) -> int:
        """The percent of listener traffic the given colour receives."""
        return self.canary_weight if colour is self.candidate else 100 - self.canary_weight

    @field_validator("steps")
    @classmethod
    def _check_steps(cls, steps: tuple[int, ...]) -> tuple[int, ...]:
        problems: list[Problem] = []
        if not steps:
            problems.append(Problem("", list(steps), "at least one step is required, ending at 100"))
        for i, step in enumerate(steps):
            if not 1 <= step <= 100:
                problems.append(Problem(str(i), step, "each step is a percent from 1 to 100"))
        if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
            problems.append(Problem("", list(steps), "steps must be strictly increasing"))
        if steps and steps[-1] != 100:
            problems.append(Problem("", list(steps), "the last step must be 100"))
        cross_field(problems)
        return steps

    @model_validator(mode="after")
    def _check(self) -> ReleaseConfig:
        problems: list[Problem] = []
        if self.strategy is Strategy.ROLLING and self.canary_weight != 0:
            problems.append(Problem(
                "canaryWeight", self.canary_weight,
                "the rolling strategy updates the live colour in place and sends the other colour no traffic: allowed 0",
            ))
        switched = sorted({0, self.control_weight, 100 - self.control_weight, 100})
        if self.strategy is Strategy.BLUE_GREEN and self.canary_weight not in switched:
            problems.append(Problem(
                "canaryWeight", self.canary_weight,
                "the blue-green strategy switches all traffic at once, but for the control share "
                f"(controlWeight {self.control_weight}): allowed weights are {', '.join(map(str, switched))}",
            ))
        before_last = self.steps[-2] if len(self.steps) > 1 else 0
        if self.control_weight and before_last >= 100 - self.control_weight:
            problems.append(Problem(
                "controlWeight", self.control_weight,
                f"at the last step the candidate gets 100 - controlWeight = {100 - self.control_weight}%, which must be "
                f"more than the step before it ({before_last}%): allowed 0 to {min(MAX_CONTROL, 99 - before_last)} "
                "with these steps",
            ))
        if self.canary_weight > 0 and self.versions.blue == self.versions.green:
            problems.append(Problem(
                "canaryWeight", self.canary_weight,
                f"sending traffic to the candidate ({self.candidate}) needs a candidate version that "
                f"differs from the live one (both are {self.versions.blue!r}): set "
                f"release:versions.{self.candidate} first",
            ))
        if self.in_progress is not None:
            problems.extend(self._check_in_progress(self.in_progress))
        if self.last_release is not None and self.last_release.outcome is None:
            problems.append(Problem("lastRelease.outcome", None, "a finished release records its outcome: promoted, aborted or refused"))
        cross_field(problems)
        return self

    def _check_in_progress(self, record: ReleaseRecord) -> list[Problem]:
        problems: list[Problem] = []
        if record.outcome is not None:
            problems.append(Problem("inProgress.outcome", record.outcome.value, "a release in progress has no outcome yet"))
        # A promotion (or a rollback's flip) makes the record's colour live before the record moves to lastRelease.
        promoting = record.ending is not None and record.ending.outcome.value in ("promoted", "rolled-back")
        if record.colour is not self.target and not promoting:
            which = "the live colour, which a rolling release updates in place" if self.strategy is Strategy.ROLLING \
                else "the candidate colour, not the live one"
            problems.append(Problem(
                "inProgress.colour", record.colour.value, f"the release in progress must target {self.target}: {which}",
            ))
        return problems

