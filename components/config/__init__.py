"""Typed stack config: one pydantic model per namespace, built once at start-up.

``load`` takes the flat ``namespace:key`` map Pulumi gives a program and returns a
``StackConfig``, or raises ``ConfigError`` listing every problem at once. It is a
pure function; ``from_pulumi`` reads the map from the running program.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from components.config.alerts import AlertsConfig
from components.config.base import ConfigError, ConfigModel, Problem, format_errors, namespace_data
from components.config.data import DataConfig, auth_token_problems
from components.config.delivery import DeliveryConfig, check_provider_owner
from components.config.deployments import DeploymentsConfig, webhook_secret_problems
from components.config.fleet import FleetConfig
from components.config.guardrails import GuardrailsConfig
from components.config.monitoring import MonitoringConfig
from components.config.network import NetworkConfig
from components.config.platform import Environment, PlatformConfig
from components.config.release import Colour, ReleaseConfig, Strategy, Versions
from components.config.session import session_problems
from components.config.traffic import RELEASE_TOKEN_KEY, TrafficConfig, release_token_problems

__all__ = [
    "Colour",
    "ConfigError",
    "DataConfig",
    "DeliveryConfig",
    "DeploymentsConfig",
    "Environment",
    "MonitoringConfig",
    "PlatformConfig",
    "ReleaseConfig",
    "StackConfig",
    "Strategy",
    "Versions",
    "check_provider_owner",
    "from_pulumi",
    "load",
]

# Namespace -> model. Each concern adds its own namespace here.
NAMESPACES: dict[str, type[ConfigModel]] = {
    "platform": PlatformConfig,
    "release": ReleaseConfig,
    "network": NetworkConfig,
    "traffic": TrafficConfig,
    "fleet": FleetConfig,
    "alerts": AlertsConfig,
    "data": DataConfig,
    "deployments": DeploymentsConfig,
    "guardrails": GuardrailsConfig,
    "delivery": DeliveryConfig,
    "monitoring": MonitoringConfig,
}

# Keys whose values are secrets: never part of a model, read with require_secret.
SECRET_KEYS: tuple[str, ...] = (
    "data:cacheAuthToken",
    "deployments:webhookUrl",
    "delivery:pulumiAccessToken",
    "delivery:infrastructureReadToken",
    RELEASE_TOKEN_KEY,
)

# Checks of secret values, run on the config map (where the program sees the plaintext), never echoing it.
SECRET_CHECKS: tuple[Callable[[Mapping[str, str], Mapping[str, Any]], list[Problem]], ...] = (
    auth_token_problems,
    webhook_secret_problems,
    release_token_problems,
)

REGION_KEY = "aws:region"


@dataclass(frozen=True)
class StackConfig:
    """Everything the program needs, validated."""

    stack: str
    region: str
    platform: PlatformConfig
    release: ReleaseConfig
    network: NetworkConfig
    traffic: TrafficConfig
    fleet: FleetConfig
    alerts: AlertsConfig
    data: DataConfig
    deployments: DeploymentsConfig
    guardrails: GuardrailsConfig
    delivery: DeliveryConfig
    monitoring: MonitoringConfig

    @property
    def environment(self) -> Environment:
        """The kind of environment this stack is."""
        return self.platform.environment

    @property
    def is_production(self) -> bool:
        """Whether this stack gets production's stricter settings."""
        return self.platform.environment is Environment.PRODUCTION


def load(raw: Mapping[str, str], stack: str) -> StackConfig:
    """Validate the flat config map of one stack; raise ``ConfigError`` with every problem."""
    problems: list[Problem] = []
    region = raw.get(REGION_KEY, "")
    if not region:
        problems.append(Problem(REGION_KEY, None, "set the AWS region, e.g. `pulumi config set aws:region eu-west-1`"))
    models: dict[str, Any] = {}
    # Every namespace's rules may depend on the environment, so it is known before any model is built.
    platform_data, _ = namespace_data(raw, "platform", skip=SECRET_KEYS)
    environment = platform_data.get("environment") or (stack if stack in set(Environment) else None)
    for namespace, model in NAMESPACES.items():
        data, decode_problems = namespace_data(raw, namespace, skip=SECRET_KEYS)
        problems.extend(decode_problems)
        if namespace == "platform" and "environment" not in data and stack in set(Environment):
            data["environment"] = stack
        context = {"stack": stack, "region": region, "environment": environment}
        try:
            models[namespace] = model.model_validate(data, context=context)
        except ValidationError as exc:
            problems.extend(format_errors(namespace, exc, data))
    for check in SECRET_CHECKS:
        problems.extend(check(raw, models))
    if isinstance(models.get("release"), ReleaseConfig):
        problems.extend(session_problems(models["release"]))
        platform = models.get("platform")
        if platform is not None and platform.environment is Environment.PRODUCTION and models["release"].staging_stack == stack:
            # The staging gate reads another stack's releases (release/judgement/staging_gate.py): this one's cannot gate itself.
            problems.append(Problem("release:stagingStack", stack, f"the stack whose releases production follows, not {stack} "
                                    "itself; default staging"))
    problems.extend(_health_check_problems(models))
    if problems:
        raise ConfigError(problems)
    return StackConfig(stack=stack, region=region, **models)


def _health_check_problems(models: Mapping[str, Any]) -> list[Problem]:
    monitoring, traffic = models.get("monitoring"), models.get("traffic")
    if isinstance(monitoring, MonitoringConfig) and isinstance(traffic, TrafficConfig):
        if monitoring.health_check and traffic.domain_name is None:
            return [Problem("monitoring:healthCheck", True, "needs traffic:domainName: Route 53 probes the name the "
                            "stack serves, and only that one")]
    return []


def from_pulumi() -> StackConfig:
    """Read and validate the running program's config."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    # The runtime keeps the whole map; the public Config API only answers key by key,
    # and an unknown (misspelt) key must be reported rather than ignored.
    raw = {str(k): str(v) for k, v in runtime_config.CONFIG.get().items()}
    return load(raw, pulumi.get_stack())
