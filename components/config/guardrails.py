"""The ``guardrails`` namespace: whether Pulumi Cloud enforces the policy pack on this stack.

With it on, every update of the stack (a Pulumi Deployments run as much as a
``pulumi up`` on a laptop) runs the pack, with this stack's policy config, and
no flag can be forgotten. No stack publishes the pack: the pack project
(``pack/``) does, deliberately, before any stack's group names the version.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import model_validator

from components.config.base import ConfigModel, Problem, cross_field
from components.config.deployments import OrganizationName


class Mode(StrEnum):
    """What the policy group does with a mandatory violation."""

    PREVENTATIVE = "preventative"
    AUDIT = "audit"


class GuardrailsConfig(ConfigModel):
    """The ``guardrails`` namespace."""

    enabled: bool = False
    """Declare this stack's Pulumi Cloud policy group. Default false (run the pack with --policy-pack instead)."""
    organization: OrganizationName | None = None
    """The Pulumi organisation that owns the stack and the pack. Required when enabled."""
    publish: bool = False
    """Refused when true: the pack project publishes the pack, no stack does (docs/security.md). Default false."""
    mode: Mode = Mode.PREVENTATIVE
    """``preventative`` blocks an update on a mandatory violation; ``audit`` only records it. Default preventative."""

    @model_validator(mode="after")
    def _check(self) -> GuardrailsConfig:
        problems: list[Problem] = []
        if self.enabled and self.organization is None:
            problems.append(Problem("organization", None, "required when guardrails:enabled is true: the Pulumi organisation"))
        if self.publish:
            problems.append(Problem("publish", True, (
                "no stack publishes the policy pack: the pack project does, with a token that may publish "
                "(`pulumi up -C pack -s pack`, docs/security.md \"Publishing a pack version\"); remove the key"
            )))
        cross_field(problems)
        return self
