"""The ``alerts`` namespace: who hears about a release going wrong, and what counts as wrong."""

from __future__ import annotations

from pydantic import Field, field_validator

from components.config.base import ConfigModel
from components.config.text import Email, HttpsUrl


class AlertsConfig(ConfigModel):
    """The ``alerts`` namespace."""

    emails: tuple[Email, ...] = ()
    """Addresses subscribed to the alert topic (each confirms by email). Default none."""
    https_endpoints: tuple[HttpsUrl, ...] = ()
    """HTTPS URLs subscribed to the alert topic (e.g. a pager's webhook). Default none."""
    unhealthy_hosts: int = Field(default=1, ge=1, le=100)
    """Unhealthy tasks in a colour that raise its alarm, 1-100. Default 1."""
    error_rate_percent: float = Field(default=5.0, gt=0, le=100)
    """Share of a colour's requests answered 5xx by the app that raises its alarm, in percent. Default 5."""
    min_requests: int = Field(default=50, ge=1)
    """Requests a period needs before the error rate counts, so one failure of two is not an outage. Default 50."""
    p99_latency_seconds: float = Field(default=1.5, gt=0, le=60)
    """99th percentile response time that raises a colour's alarm, in seconds. Default 1.5."""
    period_seconds: int = 60
    """Length of one alarm period: 10, 30 or a multiple of 60. Default 60."""
    evaluation_periods: int = Field(default=3, ge=1, le=100)
    """Periods in a row over the threshold before an alarm fires, 1-100. Default 3."""

    @field_validator("period_seconds")
    @classmethod
    def _period(cls, seconds: int) -> int:
        if seconds not in (10, 30) and (seconds <= 0 or seconds % 60):
            message = "an alarm period of 10, 30 or a multiple of 60 seconds"
            raise ValueError(message)
        return seconds
