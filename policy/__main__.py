"""The CrossGuard pack: ``pulumi preview --policy-pack policy`` runs this file.

Constructing ``PolicyPack`` starts the analyzer server and blocks, so nothing
else builds it. The engine runs this file from inside ``policy/``; the package
lives one directory up, so that directory goes on the import path first.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy.pack import DESCRIPTION, NAME  # noqa: E402
from policy.policies import POLICIES  # noqa: E402

# Mandatory unless the stack's policy config (policy/config/<stack>.json) lowers a policy.
PolicyPack(
    name=NAME,
    description=DESCRIPTION,
    policies=list(POLICIES),
    enforcement_level=EnforcementLevel.MANDATORY,
)
