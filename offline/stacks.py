"""This repository's Pulumi project files: the project name, the stacks and their config.

Pulumi gives a program its config as a flat map of ``namespace:key`` to strings
(objects and lists JSON-encoded). This module builds the same map from a
``Pulumi.<stack>.yaml`` file, so the offline evaluator sees what the engine
would pass. Encrypted (``secure:``) values cannot be decrypted here; they, and
required secrets a user sets on their own machine, are given placeholders that
are marked secret and print as ``[secret]``.

A stack file may import Pulumi ESC environments (``environment:``); the
release state lives in one, ``<project>/<stack>-release``, whose initial
definition is committed as ``environments/<stack>-release.yaml``. Other
imports with a committed definition there are read the same way; one without
(the stack's secrets) gives nothing offline, where secrets get placeholders.
Their ``values.pulumiConfig`` is merged the way the Pulumi CLI does: imports in order,
later ones overriding earlier ones, and a key set in the stack file overriding
them all (Pulumi docs, "Use Pulumi ESC with Pulumi IaC": environments "are
merged in order, with later values overriding earlier ones"; "ESC Outputs",
Precedence: "pulumiConfig resolves against explicit stack configuration: there,
the explicit stack value wins"). The release keys may not be set in a stack
file at all: there they would shadow what every release writes.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.config.base import ConfigError

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = "environments"

# The release state: written by every release, so it lives in the stack's ESC environment, never in its file.
RELEASE_STATE_KEYS: tuple[str, ...] = (
    "release:live",
    "release:versions",
    "release:canaryWeight",
    "release:inProgress",
    "release:lastRelease",
    "release:candidateTasks",
)


class UnknownStackError(Exception):
    """The named stack has no ``Pulumi.<stack>.yaml``."""

    def __init__(self, stack: str, known: Iterable[str]) -> None:
        self.stack = stack
        self.known = sorted(known)
        super().__init__(f"unknown stack {stack!r}; the stacks are: {', '.join(self.known) or '(none)'}")


class BadOverrideError(ValueError):
    """A ``-c KEY=VALUE`` override that cannot be applied."""


def encode(value: Any) -> str:
    """Encode one YAML or JSON config value the way Pulumi passes it to a program."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def secret_placeholder(key: str) -> str:
    """The stand-in for a secret value offline (never printed: it is marked secret).

    A key named ``...Url`` holds a URL that the config checks (e.g. for https), so
    its stand-in is one, on the reserved ``.invalid`` domain that never resolves.
    """
    slug = key.replace(":", "-")
    if key.endswith("Url"):
        return f"https://offline-placeholder.invalid/{slug}"
    return f"offline-placeholder-for-{slug}"


# LibYAML's parser when PyYAML was built with it: the same documents, parsed in C.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=32)
def _parse(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader (CSafeLoader or SafeLoader)


def read_yaml(path: Path) -> Any:
    """A YAML file's content, each caller with its own copy to change.

    A text already parsed is not parsed again: a plan reads ``Pulumi.yaml`` once per config key.
    """
    return copy.deepcopy(_parse(path.read_text()))


@dataclass(frozen=True)
class ProjectFiles:
    """The project at ``root``: ``Pulumi.yaml`` and its ``Pulumi.<stack>.yaml`` files."""

    root: Path

    @classmethod
    def here(cls) -> ProjectFiles:
        """This repository's project."""
        return cls(ROOT)

    @property
    def project(self) -> str:
        """The project name from ``Pulumi.yaml``."""
        data = read_yaml(self.root / "Pulumi.yaml")
        return str(data["name"])

    def stacks(self) -> list[str]:
        """The stacks that have a config file."""
        return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in self.root.glob("Pulumi.*.yaml"))

    def stack_file(self, stack: str) -> Path:
        """The config file of a stack; UnknownStackError when there is none."""
        path = self.root / f"Pulumi.{stack}.yaml"
        if stack not in self.stacks():
            raise UnknownStackError(stack, self.stacks())
        return path

    def imports(self, stack: str) -> list[str]:
        """The ESC environments a stack file imports, in order (``environment:`` as a list or ``{imports: [...]}``)."""
        data = read_yaml(self.stack_file(stack)) or {}
        found = data.get("environment") or []
        if isinstance(found, dict):
            found = found.get("imports") or []
        return [str(name) for name in found]

    def environment_file(self, name: str) -> Path:
        """The committed initial definition of an imported environment: ``environments/<env>.yaml``."""
        return self.root / ENVIRONMENTS / f"{name.rsplit('/', 1)[-1]}.yaml"

    def release_environment(self, stack: str) -> str:
        """The environment holding a stack's release state: ``<project>/<stack>-release``."""
        return f"{self.project}/{stack}-release"

    def environment_config(self, stack: str) -> dict[str, str]:
        """The flat ``pulumiConfig`` of every environment the stack imports, merged in order."""
        merged: dict[str, str] = {}
        missing: list[str] = []
        for name in self.imports(stack):
            path = self.environment_file(name)
            if not path.exists():
                # An environment of secrets has no committed definition: offline, its secrets get placeholders.
                # The release environment must have one: it is where the offline store starts from.
                if name == self.release_environment(stack):
                    missing.append(f"environment {name} (imported by Pulumi.{stack}.yaml): no committed definition at "
                                   f"{path.relative_to(self.root)}")
                continue
            merged.update({self.full_key(k): v for k, v in definition_values(read_yaml(path) or {}).items()})
        if missing:
            raise ConfigError(missing)
        return merged

    def stack_config(self, stack: str, required_secrets: Iterable[str] | None = None) -> tuple[dict[str, str], tuple[str, ...]]:
        """The flat config map of a stack (its imported environments, then its file) and the keys that are secret."""
        data = read_yaml(self.stack_file(stack)) or {}
        config: dict[str, str] = self.environment_config(stack)
        secrets: list[str] = []
        stray = [self.full_key(str(k)) for k in (data.get("config") or {}) if self.full_key(str(k)) in RELEASE_STATE_KEYS]
        if stray:
            raise ConfigError([
                f"{key} (Pulumi.{stack}.yaml): release state does not belong in the stack file; it lives in the ESC "
                f"environment {self.release_environment(stack)} (initially environments/{stack}-release.yaml, "
                f"under values.pulumiConfig), which the stack imports"
                for key in stray
            ])
        for key, value in (data.get("config") or {}).items():
            full = self.full_key(str(key))
            if isinstance(value, dict) and set(value) == {"secure"}:
                config[full] = secret_placeholder(full)
                secrets.append(full)
            else:
                config[full] = encode(value)
        if required_secrets is None:
            from components.config import SECRET_KEYS

            required_secrets = SECRET_KEYS
        for key in required_secrets:
            if key not in config:
                config[key] = secret_placeholder(key)
                secrets.append(key)
        return config, tuple(secrets)

    def full_key(self, key: str) -> str:
        """A key with its namespace; a bare key belongs to the project's namespace."""
        return key if ":" in key else f"{self.project}:{key}"


def definition_values(definition: dict[str, Any]) -> dict[str, str]:
    """The flat config map an environment definition gives a stack: its ``values.pulumiConfig``, encoded."""
    values = definition.get("values") or {}
    config = values.get("pulumiConfig") or {}
    return {str(key): encode(value) for key, value in config.items()}


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``KEY=VALUE``; a VALUE that parses as JSON is JSON, else a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        message = f"-c {text!r}: expected KEY=VALUE, e.g. -c release:canaryWeight=25"
        raise BadOverrideError(message)
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def apply_overrides(config: dict[str, str], overrides: Iterable[tuple[str, Any]], files: ProjectFiles) -> dict[str, str]:
    """Apply overrides to a flat config map. ``ns:key.sub`` sets a field of an object value; ``null`` removes a key."""
    result = dict(config)
    for key, value in overrides:
        full = files.full_key(key)
        namespace, _, path = full.partition(":")
        base, *fields = path.split(".")
        # Pulumi's config keys are NAMESPACE:NAME, both non-empty (Pulumi docs, "Configuration": structured keys).
        if not namespace or not base or any(not f for f in fields):
            message = (f"-c {key!r}: not a config key; allowed: NAMESPACE:KEY or NAMESPACE:KEY.FIELD, e.g. "
                       f"release:canaryWeight or release:analysis.errors.confidence (a bare KEY is {files.project}:KEY)")
            raise BadOverrideError(message)
        if not fields:
            if value is None:
                # As `pulumi config rm`: the program sees the key unset and its default applies.
                result.pop(full, None)
            else:
                result[full] = encode(value)
            continue
        base_key = f"{namespace}:{base}"
        try:
            current = json.loads(result.get(base_key, "{}"))
        except json.JSONDecodeError:
            current = None
        if not isinstance(current, dict):
            message = f"-c {key}: {base_key} is not an object, so {key} cannot be set"
            raise BadOverrideError(message)
        node = current
        for depth, field in enumerate(fields[:-1], start=1):
            node = node.setdefault(field, {})
            if not isinstance(node, dict):
                # An earlier -c (or the stack file) set this field to a value, so it has no fields to set.
                parent = ".".join([base_key, *fields[:depth]])
                message = (f"-c {key}: {parent} is {json.dumps(node)}, not an object, so {key} cannot be set; set "
                           f"{parent} to an object (e.g. -c '{parent}={{\"{fields[depth]}\": ...}}') or drop one of the two")
                raise BadOverrideError(message)
        node[fields[-1]] = value
        result[base_key] = encode(current)
    return result
