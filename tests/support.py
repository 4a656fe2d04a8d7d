"""Shared test data: the smallest flat config map every namespace accepts.

Config tests start from it and change one key, so a namespace that gains a
required key is updated here once.
"""

from __future__ import annotations

import json

MINIMAL_CONFIG: dict[str, str] = {
    "aws:region": "eu-west-1",
    "release:versions": json.dumps({"blue": "1.0.0", "green": "1.1.0"}),
    "delivery:applicationRepository": "acme/webapp",
    "delivery:infrastructureRepository": "acme/release-platform",
    "delivery:repositoryOwnerStack": "production",
    "delivery:automationAppId": "1183467",
    "delivery:reviewers": json.dumps(["team:release-approvers"]),
}


def load_problems(base: dict[str, str], stack: str = "staging", **values: object) -> list[str]:
    """Load ``base`` changed by ``values`` (``ns__key=value``; None removes the key), expecting a ConfigError."""
    import pytest

    from components.config import ConfigError, load

    raw = dict(base)
    for key, value in values.items():
        full = key.replace("__", ":")
        if value is None:
            raw.pop(full, None)
        else:
            raw[full] = value if isinstance(value, str) else json.dumps(value)
    with pytest.raises(ConfigError) as caught:
        load(raw, stack)
    return caught.value.problems
