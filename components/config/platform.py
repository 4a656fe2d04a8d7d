"""The ``platform`` namespace: which environment a stack is, and how its resources are named."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from components.config.base import ConfigModel


class Environment(StrEnum):
    """The kind of environment a stack deploys; production gets the stricter settings."""

    STAGING = "staging"
    PRODUCTION = "production"


# Short, DNS- and AWS-name-safe: resource names are built from it and must fit 32 characters.
AppName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,14}[a-z0-9]$")]


class PlatformConfig(ConfigModel):
    """The ``platform`` namespace."""

    environment: Environment
    """``staging`` or ``production``. Default: the stack name, when it is one of those."""
    app_name: AppName = "webapp"
    """Application name used in every AWS resource name: 2-16 characters, lowercase letters, digits, dashes. Default ``webapp``."""
    owner: str = Field(default="platform-team", min_length=1, max_length=64)
    """Team that owns the stack, written into tags. Default ``platform-team``."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Extra tags for every AWS resource. Default none."""
