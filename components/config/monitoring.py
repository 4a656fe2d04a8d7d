"""The ``monitoring`` namespace: alarm thresholds, how long a breach must last, the dashboard, the health check.

Every threshold has a default per environment: production pages earlier than
staging. A stack overrides single thresholds with
``pulumi config set --path 'monitoring:thresholds.ecsCpuPercent' 70``; the others
keep their environment's default.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from components.config.base import ConfigModel, Problem, cross_field


def _number(value: Any) -> Any:
    # pydantic reads true as 1.0; a threshold written as a boolean is a mistake, not a number.
    if isinstance(value, bool):
        message = "a number is required, not a boolean"
        raise ValueError(message)  # noqa: TRY004 - pydantic reports ValueError as a validation problem
    return value


# A threshold is a finite number, never negative: "nan" and "inf" parse as floats, and must not pass.
NonNegative = Annotated[float, BeforeValidator(_number), Field(ge=0, allow_inf_nan=False)]
Percent = Annotated[float, BeforeValidator(_number), Field(ge=0, le=100, allow_inf_nan=False)]
Percentile = Annotated[float, BeforeValidator(_number), Field(gt=0, lt=100, allow_inf_nan=False)]

HEALTH_PATH = re.compile(r"^/[A-Za-z0-9._~/-]{0,254}$")


class Thresholds(ConfigModel):
    """When each resource alarm fires. Defaults shown as staging / production."""

    load_balancer_5xx_percent: Percent = Field(default=5.0, alias="loadBalancer5xxPercent")
    """Percent of requests answered 5xx by the load balancer itself (no healthy target, timeouts). Default 5 / 2."""
    ecs_cpu_percent: Percent = 85.0
    """Average CPU of a colour's service, percent of its reservation. Default 85 / 80."""
    ecs_memory_percent: Percent = 90.0
    """Average memory of a colour's service, percent of its reservation. Default 90 / 85."""
    rds_cpu_percent: Percent = 85.0
    """Average database CPU, percent. Default 85 / 80."""
    rds_free_storage_gib: NonNegative = 2.0
    """The database alarms when its free storage falls below this many GiB. Default 2 / 10."""
    rds_connections: NonNegative = 80.0
    """Open database connections; set it to about 80% of the instance class's max_connections. Default 80 / 400."""
    redis_memory_percent: Percent = 80.0
    """Redis memory used, percent of the node's maxmemory, on the fullest node. Default 80 / 75."""
    redis_evictions: NonNegative = 1000.0
    """Keys evicted per period on the busiest node; evictions mean the cache is too small. Default 1000 / 100."""
    error_lines_percent: Percent = 5.0
    """A colour's error log lines per 100 of its requests; above it the colour's release alarm fires. Default 5 / 2."""


# Production's defaults, by config key; a key the stack sets wins.
PRODUCTION_THRESHOLDS: dict[str, float] = {
    "loadBalancer5xxPercent": 2.0,
    "ecsCpuPercent": 80.0,
    "ecsMemoryPercent": 85.0,
    "rdsCpuPercent": 80.0,
    "rdsFreeStorageGib": 10.0,
    "rdsConnections": 400.0,
    "redisMemoryPercent": 75.0,
    "redisEvictions": 100.0,
    "errorLinesPercent": 2.0,
}

# CloudWatch accepts these periods for standard-resolution metrics: 10, 30, or a multiple of 60 seconds.
SHORT_PERIODS = (10, 30)


# CloudWatch Logs' limits (botocore logs PutMetricFilter: FilterPattern max 1024 characters).
FILTER_PATTERN_MAX = 1024
# A JSON field name the saved queries name: letters, digits, '_' and '.', so no query text can be injected.
LOG_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,63}$")


LOG_LEVEL = re.compile(r"^[A-Za-z]{1,16}$")


class LogSignals(ConfigModel):
    """How the application's log lines are read: which count as errors, where the message and the duration are."""

    level_field: str = "level"
    """JSON field holding a line's level. Default ``level``."""
    error_levels: tuple[str, ...] = ("error", "fatal")
    """Levels that make a line an error line, letters only. Default error, fatal."""
    error_pattern: str | None = Field(default=None, min_length=1, max_length=FILTER_PATTERN_MAX)
    """CloudWatch Logs filter pattern of a failed request's line, for logs that are not structured JSON. Default: built
    from ``durationField``, ``levelField`` and ``errorLevels``: a request's access line (the one line per request that
    carries its duration, ``docs/health-contract.md``) at an error level, e.g.
    ``{ ($.durationMs >= 0) && (($.level = "error") || ($.level = "fatal")) }``, so a request counts once however
    many error lines it also writes."""
    message_field: str = "message"
    """JSON field holding a line's message; the saved "errors by message" query groups by it. Default ``message``."""
    duration_field: str = "durationMs"
    """JSON field holding a request's duration; the saved "slowest requests" query sorts by it. Default ``durationMs``."""

    @field_validator("level_field", "message_field", "duration_field")
    @classmethod
    def _check_field(cls, name: str) -> str:
        if not LOG_FIELD.match(name):
            message = "a JSON field name: a letter or _, then letters, digits, _ or . (at most 64), e.g. durationMs"
            raise ValueError(message)
        return name

    @field_validator("error_levels")
    @classmethod
    def _check_levels(cls, levels: tuple[str, ...]) -> tuple[str, ...]:
        if not levels or not all(LOG_LEVEL.match(level) for level in levels):
            message = "one or more levels of letters only (at most 16 each), e.g. [error, fatal]"
            raise ValueError(message)
        return levels

    @field_validator("error_pattern")
    @classmethod
    def _check_pattern(cls, pattern: str | None) -> str | None:
        # CloudWatch Logs "Filter pattern syntax for metric filters": a JSON pattern is one brace-enclosed expression;
        # an unbalanced brace or quote is refused by PutMetricFilter.
        if pattern is not None and (pattern.count("{") != pattern.count("}") or pattern.count('"') % 2):
            message = 'a CloudWatch Logs filter pattern with balanced braces and quotes, e.g. { $.level = "error" }'
            raise ValueError(message)
        return pattern

    @property
    def pattern(self) -> str:
        """The metric filter's pattern: the one given, else a request's access line at one of the error levels.

        One access line per request carries the duration and the request's error state (its level); other lines a
        failing request writes carry no duration, so the metric counts requests with an error, not lines. A numeric
        comparison matches only a line where the property exists and is a number (CloudWatch Logs User Guide,
        "Filter pattern syntax for metric filters", "Match terms in JSON log events").
        """
        if self.error_pattern is not None:
            return self.error_pattern
        terms = " || ".join(f'($.{self.level_field} = "{level}")' for level in self.error_levels)
        return f"{{ ($.{self.duration_field} >= 0) && ({terms}) }}"


class MonitoringConfig(ConfigModel):
    """The ``monitoring`` namespace."""

    thresholds: Thresholds = Field(default_factory=Thresholds)
    """Alarm thresholds, ``{ecsCpuPercent: 80, ...}``; unset keys take the environment's default."""
    period_seconds: int = Field(default=60, ge=10, le=86400)
    """Length of one evaluation period in seconds: 10, 30 or a multiple of 60. Default 60."""
    evaluation_periods: int = Field(default=3, ge=1, le=100)
    """How many recent periods an alarm looks at, at least 1. Default 3 in staging, 5 in production."""
    datapoints_to_alarm: int | None = Field(default=None, ge=1)
    """How many of those periods must breach, 1 to ``evaluationPeriods``. Default: all of them."""
    percentiles: tuple[Percentile, ...] = (50.0, 99.0)
    """Response-time percentiles drawn on the dashboard, each above 0 and below 100. Default 50, 99."""
    health_check: bool = False
    """Whether Route 53 probes the stack's served name, ``traffic:domainName``, over HTTPS. Default false."""
    domain: str | None = None
    """Refused when set: the probed name is ``traffic:domainName`` alone, the name the stack serves and certifies."""
    health_path: str | None = None
    """Path the Route 53 health check probes (see docs/health-contract.md). Default: the load balancer's, ``traffic:healthCheck.path``."""
    health_check_failures: int = Field(default=3, ge=1, le=10)
    """Consecutive failed probes before the Route 53 health check is unhealthy, 1-10. Default 3."""
    logs: LogSignals = Field(default_factory=LogSignals)
    """Which log lines count as errors and which fields the saved queries read. Defaults: see ``LogSignals``."""

    @model_validator(mode="before")
    @classmethod
    def _environment_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or (info.context or {}).get("environment") != "production":
            return data
        result = dict(data)
        given = result.get("thresholds", {})
        if isinstance(given, dict):
            result["thresholds"] = {**PRODUCTION_THRESHOLDS, **given}
        result.setdefault("evaluationPeriods", 5)
        return result

    @field_validator("period_seconds")
    @classmethod
    def _check_period(cls, period: int) -> int:
        if period not in SHORT_PERIODS and period % 60:
            message = "allowed periods are 10, 30 or a multiple of 60 seconds"
            raise ValueError(message)
        return period

    @field_validator("domain")
    @classmethod
    def _check_domain(cls, domain: str | None) -> str | None:
        # A second name for the same site drifts from the one the stack aliases and certifies: the health
        # check then watches another site, or (missing data treated as breaching) pages forever.
        if domain is not None:
            message = ("no longer a setting: Route 53 probes traffic:domainName, the name the stack serves; "
                       "remove monitoring:domain and set monitoring:healthCheck: true")
            raise ValueError(message)
        return domain

    @field_validator("health_path")
    @classmethod
    def _check_health_path(cls, path: str | None) -> str | None:
        if path is not None and not HEALTH_PATH.match(path):
            message = "a URL path starting with / such as /health (letters, digits and . _ ~ / - only, no query)"
            raise ValueError(message)
        return path

    @field_validator("percentiles")
    @classmethod
    def _check_percentiles(cls, percentiles: tuple[float, ...]) -> tuple[float, ...]:
        if not percentiles:
            message = "at least one percentile is required, e.g. [50, 99]"
            raise ValueError(message)
        if len(set(percentiles)) != len(percentiles):
            message = f"each percentile once: {list(percentiles)} repeats one"
            raise ValueError(message)
        return percentiles

    @model_validator(mode="after")
    def _check(self) -> MonitoringConfig:
        problems: list[Problem] = []
        if self.datapoints_to_alarm is not None and self.datapoints_to_alarm > self.evaluation_periods:
            problems.append(Problem(
                "datapointsToAlarm", self.datapoints_to_alarm,
                f"at most evaluationPeriods ({self.evaluation_periods}): an alarm cannot need more breaching "
                "periods than it looks at",
            ))
        if self.period_seconds * self.evaluation_periods > 86400:
            problems.append(Problem(
                "evaluationPeriods", self.evaluation_periods,
                f"periodSeconds x evaluationPeriods must be at most one day (86400 s); with periodSeconds "
                f"{self.period_seconds} that is at most {86400 // self.period_seconds}",
            ))
        cross_field(problems)
        return self

    @property
    def breaching_datapoints(self) -> int:
        """How many periods must breach before an alarm fires."""
        return self.datapoints_to_alarm or self.evaluation_periods
