"""Defaults that depend on the kind of environment a stack is (staging or production).

A model declares its production-only settings once, as a mapping of field alias to
value per environment; this fills the keys the user did not set before validation,
so the documented field default is what staging gets and production differs only
where it says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationInfo


def environment_of(info: ValidationInfo) -> str | None:
    """The ``environment`` of the validation context: ``staging``, ``production`` or None."""
    context = info.context or {}
    value = context.get("environment")
    return str(value) if value is not None else None


def fill_defaults(data: Any, info: ValidationInfo, by_environment: Mapping[str, Mapping[str, Any]]) -> Any:
    """Add the environment's defaults for keys absent from ``data`` (camelCase or snake_case)."""
    if not isinstance(data, dict):
        return data
    defaults = by_environment.get(environment_of(info) or "", {})
    filled = dict(data)
    for alias, value in defaults.items():
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in alias)
        if alias not in filled and snake not in filled:
            filled[alias] = value
    return filled


# CloudWatch Logs accepts only these retention periods, in days.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


def check_retention(days: int) -> int:
    """Refuse a retention CloudWatch Logs would refuse."""
    if days not in LOG_RETENTION_DAYS:
        message = f"a CloudWatch Logs retention in days: one of {', '.join(map(str, LOG_RETENTION_DAYS))}"
        raise ValueError(message)
    return days
