"""The words a release is spoken in: the two colours, the strategies, and an image tag.

They sit below both the release config and its record, which each refer to them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints


class Colour(StrEnum):
    """One of the two fleets behind the load balancer."""

    BLUE = "blue"
    GREEN = "green"

    @property
    def other(self) -> Colour:
        """The opposite colour: the candidate when this one is live."""
        return Colour.GREEN if self is Colour.BLUE else Colour.BLUE


class Strategy(StrEnum):
    """How a release moves traffic to its new version."""

    CANARY = "canary"
    BLUE_GREEN = "blue-green"
    ROLLING = "rolling"
    """The live colour's service is updated in place by ECS's rolling deployment; no second colour takes traffic."""


# Docker's tag grammar: 128 characters at most, no leading dot or dash.
ImageTag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
