"""The ``fleet`` namespace: the container image, task size, counts, logs and autoscaling."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from components.config.base import ConfigModel, Problem, cross_field
from components.config.by_environment import check_retention, fill_defaults
from components.config.text import EcrRepository, EnvName

# Fargate's task sizes: CPU units -> the memory sizes (MiB) it accepts.
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}



class Autoscaling(ConfigModel):
    """Target tracking of the live colour: CPU and requests per task."""

    enabled: bool = False
    """Scale the live colour between min and max capacity. Default off; production on."""
    min_capacity: int = Field(default=2, ge=1, le=100)
    """Fewest live tasks, 1-100. Default 2."""
    max_capacity: int = Field(default=6, ge=1, le=100)
    """Most live tasks, 1-100, at least minCapacity. Default 6."""
    cpu_target_percent: int = Field(default=60, ge=10, le=90)
    """Average CPU the live colour is kept at, 10-90. Default 60."""
    requests_per_target: int = Field(default=1000, ge=1, le=100000)
    """Requests per task per minute the live colour is kept at. Default 1000."""

    @model_validator(mode="after")
    def _check(self) -> Autoscaling:
        if self.max_capacity < self.min_capacity:
            cross_field([Problem("maxCapacity", self.max_capacity, f"at least minCapacity ({self.min_capacity})")])
        return self


class FleetConfig(ConfigModel):
    """The ``fleet`` namespace."""

    image_repository: EcrRepository | None = None
    """ECR repository URL; a colour runs ``<imageRepository>:<release:versions[colour]>``. Required by the environment."""
    container_port: int = Field(default=8080, ge=1024, le=65535)
    """Port the application listens on, 1024-65535. Default 8080."""
    cpu: int = 256
    """Fargate CPU units per task: 256, 512, 1024, 2048, 4096, 8192 or 16384. Default 256."""
    memory: int = 512
    """MiB per task, one Fargate accepts with ``cpu``. Default 512."""
    desired_count: int = Field(default=1, ge=0, le=100)
    """Tasks of the live colour (the autoscaling start point when it is on), 0-100. Default 1; production 2."""
    candidate_count: int | None = Field(default=None, ge=0, le=100)
    """Tasks of the candidate colour. Default: as many as desiredCount, so after a promotion the previous colour stays
    running as the backup; set 0 to decommission it once the release is verified."""
    health_check_grace_seconds: int = Field(default=60, ge=0, le=3600)
    """Seconds a new task's failed load-balancer checks are ignored, 0-3600. Default 60."""
    log_retention_days: int = 14
    """Days container logs are kept (a CloudWatch Logs retention). Default 14; production 90."""
    environment: dict[EnvName, str] = Field(default_factory=dict)
    """Extra plain environment variables for both colours. Default none. Secrets never go here."""
    autoscaling: Autoscaling = Field(default_factory=Autoscaling)
    """Autoscaling of the live colour. Default off; production on."""

    @model_validator(mode="before")
    @classmethod
    def _environment(cls, data: Any, info: ValidationInfo) -> Any:
        filled = fill_defaults(data, info, {"production": {"desiredCount": 2, "logRetentionDays": 90}})
        if isinstance(filled, dict):
            scaling = filled.get("autoscaling", {})
            filled["autoscaling"] = fill_defaults(scaling, info, {"production": {"enabled": True}})
        return filled

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, days: int) -> int:
        return check_retention(days)

    @model_validator(mode="after")
    def _check(self) -> FleetConfig:
        problems: list[Problem] = []
        if self.cpu not in FARGATE_SIZES:
            problems.append(Problem("cpu", self.cpu, f"Fargate CPU units are one of {', '.join(map(str, FARGATE_SIZES))}"))
        elif self.memory not in FARGATE_SIZES[self.cpu]:
            sizes = FARGATE_SIZES[self.cpu]
            problems.append(Problem("memory", self.memory,
                                    f"with cpu {self.cpu} Fargate accepts {sizes[0]}-{sizes[-1]} MiB in steps of "
                                    f"{sizes[1] - sizes[0]} ({', '.join(map(str, sizes[:3]))}, ...)"))
        scaling = self.autoscaling
        if scaling.enabled and not scaling.min_capacity <= self.desired_count <= scaling.max_capacity:
            problems.append(Problem("desiredCount", self.desired_count,
                                    f"with autoscaling on, between autoscaling.minCapacity ({scaling.min_capacity}) "
                                    f"and autoscaling.maxCapacity ({scaling.max_capacity})"))
        cross_field(problems)
        return self

    @property
    def standby_count(self) -> int:
        """Tasks of the candidate colour."""
        return self.desired_count if self.candidate_count is None else self.candidate_count
