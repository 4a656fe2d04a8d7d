"""Shared pieces of the typed stack config: the base model and error reporting.

Pulumi hands a program its config as a flat map of ``namespace:key`` to strings
(objects and lists arrive JSON-encoded). Each namespace is one pydantic model;
this module turns that map into model input and turns validation failures into
messages that name the full key, the value given and what is allowed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel


class ConfigModel(BaseModel):
    """Base of every config model: camelCase keys, unknown keys refused, frozen."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_enum_values=False,
    )


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the config: the full key, the value given, what is allowed."""

    key: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        shown = "(missing)" if self.value is MISSING else _show(self.value)
        return f"{self.key}: got {shown}; {self.allowed}"


def _show(value: Any) -> str:
    # Config arrives as strings; a "140" the user typed as 140 is shown as they typed it.
    if isinstance(value, str):
        try:
            if not isinstance(json.loads(value), str):
                return value
        except json.JSONDecodeError:
            pass
    return json.dumps(value, default=str)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class CrossFieldError(ValueError):
    """Raised by model validators with every cross-field problem found at once.

    Keys are relative to the model being validated (``canaryWeight``); the
    formatter prefixes the namespace and the model's location.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = list(problems)


def cross_field(problems: list[Problem]) -> None:
    """Raise the collected problems of a model validator, if there are any."""
    if problems:
        raise CrossFieldError(problems)


class ConfigError(pulumi.RunError):
    """The stack config is invalid; ``problems`` lists every problem found.

    A ``RunError``, so the engine reports it without a stack trace.
    """

    def __init__(self, problems: Iterable[Problem | str]) -> None:
        self.problems = [str(p) for p in problems]
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid stack config ({len(self.problems)} problem(s)):\n{lines}")


def parse_value(raw: str) -> Any:
    """Decode one config value the way Pulumi encodes it: objects and lists as JSON."""
    text = raw.strip()
    if text[:1] and text[0] in "[{":
        return json.loads(text)
    return raw


def namespace_data(raw: Mapping[str, str], namespace: str, skip: Iterable[str] = ()) -> tuple[dict[str, Any], list[Problem]]:
    """Collect the keys of one namespace from the flat config map, decoded."""
    prefix = f"{namespace}:"
    skipped = set(skip)
    data: dict[str, Any] = {}
    problems: list[Problem] = []
    for full_key, value in raw.items():
        if not full_key.startswith(prefix) or full_key in skipped:
            continue
        key = full_key[len(prefix):]
        try:
            data[key] = parse_value(value)
        except json.JSONDecodeError as exc:
            problems.append(Problem(full_key, value, f"it looks like JSON but does not parse ({exc.msg})"))
    return data, problems


def _key_path(namespace: str, loc: Sequence[str | int]) -> str:
    path = f"{namespace}:"
    for i, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += part if i == 0 else f".{part}"
    return path


def _lookup(data: Any, loc: Sequence[str | int]) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return data


def _allowed(message: str) -> str:
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if message == "Field required":
        return "this key is required"
    if message == "Extra inputs are not permitted":
        return "unknown key: remove it or check its spelling"
    return message[:1].lower() + message[1:]


def format_errors(namespace: str, error: ValidationError, data: Mapping[str, Any]) -> list[Problem]:
    """Turn a pydantic failure into problems naming full keys, values and what is allowed."""
    problems: list[Problem] = []
    for item in error.errors():
        # Validators on a union or a tagged model report the model name in loc; keep the key parts.
        loc = [p for p in item["loc"] if isinstance(p, int) or not p[:1].isupper()]
        cause = item.get("ctx", {}).get("error")
        if isinstance(cause, CrossFieldError):
            for problem in cause.problems:
                parts = [int(p) if p.isdigit() else p for p in problem.key.split(".") if p]
                full = _key_path(namespace, [*loc, *parts])
                problems.append(Problem(full, problem.value, problem.allowed))
            continue
        value = item.get("input", MISSING) if item["type"] != "missing" else MISSING
        if item["type"] == "extra_forbidden":
            value = _lookup(data, loc)
        problems.append(Problem(_key_path(namespace, loc), value, _allowed(item["msg"])))
    return problems
