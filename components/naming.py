"""Physical names of the stateful AWS resources, checked against AWS's limits at config time.

Names are built from ``platform:appName`` and the stack name, plus a colour or a
role; never from a version or a weight, because a renamed load balancer or target
group is a new one (the engine deletes and recreates it). A name that cannot fit
is reported as a config error before anything is registered, not left to fail
half-way through a deployment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.config.base import ConfigError, Problem
from components.config.release import Colour

# Load balancer and target group names: 32 characters, letters, digits and dashes
# (botocore elbv2 CreateLoadBalancerInput.Name and CreateTargetGroupInput.Name).
ELB_NAME_LIMIT = 32
# A target group's name_prefix: "Cannot be longer than 6 characters" (pulumi-aws lb.TargetGroup, name_prefix);
# the provider appends 26 characters, so the name stays within ELB_NAME_LIMIT.
TARGET_GROUP_PREFIX_LIMIT = 6
_NOT_ALLOWED = re.compile(r"[^a-z0-9-]+")


def stack_slug(stack: str) -> str:
    """The stack name as an AWS name part: lowercase, dashes for anything else, no edge dashes."""
    return _NOT_ALLOWED.sub("-", stack.lower()).strip("-")


@dataclass(frozen=True)
class Names:
    """Every generated physical name of one stack."""

    prefix: str

    @property
    def load_balancer(self) -> str:
        """The application load balancer."""
        return self.prefix

    @staticmethod
    def target_group_prefix(colour: Colour) -> str:
        """The start of one colour's target group name; AWS names it uniquely, so a replacement can create first.

        The tags (Application, Stack, Colour) say whose group it is; the prefix only the colour.
        """
        return f"{colour.value}-"[:TARGET_GROUP_PREFIX_LIMIT]

    @property
    def cluster(self) -> str:
        """The ECS cluster."""
        return self.prefix

    def service(self, colour: Colour) -> str:
        """One colour's ECS service."""
        return f"{self.prefix}-{colour.value}"

    def family(self, colour: Colour) -> str:
        """One colour's task definition family (its revisions carry the versions)."""
        return f"{self.prefix}-{colour.value}"

    @property
    def alert_key_alias(self) -> str:
        """The alias of the alert topic's KMS key."""
        return f"alias/{self.prefix}-alerts"

    def alarm(self, colour: Colour, signal: str) -> str:
        """One colour's release alarm for a signal such as ``5xx-rate``."""
        return f"{self.prefix}-{colour.value}-{signal}"


def name_problems(app_name: str, stack: str) -> list[Problem]:
    """What is wrong with the names of a stack: each name longer than AWS allows."""
    names = _names(app_name, stack)
    longest = names.load_balancer
    if len(longest) <= ELB_NAME_LIMIT:
        return []
    room = ELB_NAME_LIMIT - len(longest) + len(app_name)
    return [Problem(
        "platform:appName", app_name,
        f"with stack {stack!r} the load balancer name {longest!r} has {len(longest)} characters and AWS allows "
        f"{ELB_NAME_LIMIT}: use an appName of at most {max(room, 0)} characters or a shorter stack name",
    )]


def names_for(app_name: str, stack: str) -> Names:
    """The names of a stack; ``ConfigError`` when the longest does not fit AWS's limit."""
    problems = name_problems(app_name, stack)
    if problems:
        raise ConfigError(problems)
    return _names(app_name, stack)


def _names(app_name: str, stack: str) -> Names:
    slug = stack_slug(stack)
    return Names(prefix=f"{app_name}-{slug}" if slug else app_name)
