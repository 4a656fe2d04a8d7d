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
