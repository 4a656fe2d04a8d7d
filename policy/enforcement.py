"""How the pack knows which stack it guards: one policy config file per stack.

CrossGuard fixes a policy's enforcement level before the policy runs, so the
level cannot depend on the resources it sees. The pack's default is mandatory
for every policy; ``policy/config/<stack>.json``, passed with
``--policy-pack-config`` (or set on the stack's Pulumi Cloud policy group),
lowers production-only policies to advisory in staging. A missing file makes
every policy mandatory: forgetting the flag is stricter, never looser.
The files are generated from the policies' scopes (``python -m policy.enforcement``)
and a test keeps them equal to what the scopes say.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel

from components.config.platform import Environment
from policy.policies import POLICIES, PackPolicy, Scope

CONFIG_DIR = Path(__file__).resolve().parent / "config"
DEFAULT_LEVEL = EnforcementLevel.MANDATORY


class PolicyConfigError(ValueError):
    """A policy config file the engine would reject or misread."""


def pack_config(environment: Environment) -> dict[str, Any]:
    """The policy config for a stack of this environment, as ``--policy-pack-config`` takes it."""
    config: dict[str, Any] = {"all": DEFAULT_LEVEL.value}
    if environment is not Environment.PRODUCTION:
        for policy in POLICIES:
            if policy.scope is Scope.PRODUCTION:
                config[policy.name] = EnforcementLevel.ADVISORY.value
    return config


def config_path(stack: str) -> Path:
    """Where a stack's policy config lives."""
    return CONFIG_DIR / f"{stack}.json"


def load_config(stack: str) -> dict[str, Any]:
    """A stack's policy config file, or ``{}`` (every policy at the pack default) when there is none."""
    path = config_path(stack)
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        message = f"{path}: got {type(data).__name__}; a policy config is a JSON object of policy name -> level"
        raise PolicyConfigError(message)
    return data


def level_of(policy: PackPolicy, config: Mapping[str, Any]) -> EnforcementLevel:
    """The level the engine would enforce ``policy`` at under ``config``: its own entry, else ``all``, else the default."""
    raw = config.get(policy.name, config.get("all", DEFAULT_LEVEL.value))
    if isinstance(raw, Mapping):
        raw = raw.get("enforcementLevel", config.get("all", DEFAULT_LEVEL.value))
    allowed = [level.value for level in EnforcementLevel]
    if raw not in allowed:
        message = f"policy config {policy.name}: got {raw!r}; allowed levels are {', '.join(allowed)}"
        raise PolicyConfigError(message)
    return EnforcementLevel(raw)


def write_configs(stacks: Mapping[str, Environment]) -> list[Path]:
    """Write the config file of each stack; return the paths written."""
    CONFIG_DIR.mkdir(exist_ok=True)
    written = []
    for stack, environment in stacks.items():
        path = config_path(stack)
        path.write_text(json.dumps(pack_config(environment), indent=2) + "\n")
        written.append(path)
    return written


def stack_environments() -> dict[str, Environment]:
    """Each stack of this project and the environment its ``Pulumi.<stack>.yaml`` declares."""
    from offline.stacks import ProjectFiles

    files = ProjectFiles.here()
    environments = {}
    for stack in files.stacks():
        config, _ = files.stack_config(stack)
        environments[stack] = Environment(config.get("platform:environment", stack))
    return environments


if __name__ == "__main__":
    for written_path in write_configs(stack_environments()):
        print(written_path)
