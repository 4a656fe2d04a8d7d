"""Waivers: findings accepted on purpose, each with a reason, from the stack config key ``check:waivers``.

The value is a list of ``{finding: "<resource>:<rule>", reason: "..."}``. It is
validated like every other config key: a bad entry names the key, the value
and what is allowed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from offline.check.findings import Waiver

KEY = "check:waivers"


class BadWaiverError(ValueError):
    """``check:waivers`` is not a list of ``{finding, reason}``."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    finding: str = Field(pattern=r"^[^:\s]+(?: [^:\s]+)?:[a-z0-9-]+$")
    """``<resource>:<rule>``, as the check prints it."""
    reason: str = Field(min_length=10)
    """Why the finding is accepted: a reviewer reads it on every run."""


def load(config: Mapping[str, str]) -> tuple[Waiver, ...]:
    """The waivers of a stack's flat config map (none when the key is absent)."""
    raw = config.get(KEY)
    if raw is None:
        return ()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        message = f"{KEY}: got {raw!r}; a list of {{finding: <resource>:<rule>, reason: <text>}} ({exc})"
        raise BadWaiverError(message) from None
    if not isinstance(data, list):
        message = f"{KEY}: got {raw!r}; a list of {{finding: <resource>:<rule>, reason: <text>}}"
        raise BadWaiverError(message)
    waivers = []
    for index, item in enumerate(data):
        try:
            entry = _Entry.model_validate(item)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors())
            message = (f"{KEY}[{index}]: got {json.dumps(item)}; {problems} (finding is <resource>:<rule>, "
                       "reason at least 10 characters)")
            raise BadWaiverError(message) from None
        resource, _, rule = entry.finding.rpartition(":")
        waivers.append(Waiver(resource, rule, entry.reason))
    return tuple(waivers)
