"""The release state: which colour is live, what each colour runs, and how traffic is split.

These keys are the user-facing interface of a release. A canary shift is
``pulumi config set release:canaryWeight 25`` and ``pulumi up``; a promotion sets
``release:live`` to the candidate and ``release:canaryWeight`` back to 0.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, StringConstraints, field_validator, model_validator

from components.config.base import ConfigModel, Problem, cross_field

if TYPE_CHECKING:
    from components.config.release_record import ReleaseRecord


class Colour(StrEnum):
    """One of the two fleets behind the load balancer."""

    BLUE = "blue"
    GREEN = "green"

    @property
    def other(self) -> Colour:
        """The opposite colour: the candidate when this one is live."""
        return Colour.GREEN if self is Colour.BLUE else Colour.BLUE


class Strategy(StrEnum):
    """How a release moves traffic to the candidate colour."""

    CANARY = "canary"
    BLUE_GREEN = "blue-green"


# Docker's tag grammar: 128 characters at most, no leading dot or dash.
ImageTag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]

DEFAULT_STEPS = (10, 25, 50, 100)


class Versions(ConfigModel):
    """The image tag each colour runs."""

    blue: ImageTag
    """Image tag of the blue fleet. Required."""
    green: ImageTag
    """Image tag of the green fleet. Required."""

    def of(self, colour: Colour) -> str:
        """The tag the given colour runs."""
        return self.blue if colour is Colour.BLUE else self.green


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
    """Canary weights a release walks through: strictly increasing, ending at 100. Default 10, 25, 50, 100."""
    bake_minutes: int = Field(default=5, ge=0, le=1440)
    """Minutes each step is observed before the next, 0-1440. Default 5."""
    in_progress: ReleaseRecord | None = None
    """The release being driven now, written by ``python -m release deploy``. Default none."""
    last_release: ReleaseRecord | None = None
    """The last finished release, with its outcome. Default none."""

    @property
    def candidate(self) -> Colour:
        """The colour that is not live: where a release puts its new version."""
        return self.live.other

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
        if self.strategy is Strategy.BLUE_GREEN and self.canary_weight not in (0, 100):
            problems.append(Problem(
                "canaryWeight", self.canary_weight,
                "the blue-green strategy switches all traffic at once: allowed weights are 0 or 100",
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
        if record.colour is not self.candidate and not promoting:
            problems.append(Problem(
                "inProgress.colour", record.colour.value,
                f"the release in progress must target the candidate colour ({self.candidate}), not the live one",
            ))
        return problems


# The record refers to Colour and Strategy above, so it is imported once they exist.
from components.config.release_record import ReleaseRecord  # noqa: E402

ReleaseConfig.model_rebuild()
