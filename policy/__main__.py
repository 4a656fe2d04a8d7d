"""The CrossGuard pack: ``pulumi preview --policy-pack policy`` runs this file.

Constructing ``PolicyPack`` starts the analyzer server and blocks, so nothing
else builds it. The engine runs this file by path; a published pack is unpacked
into a directory with another name. So this directory is registered as the
``policy`` package by path, and the pack needs nothing but pulumi-policy.
"""

import importlib.util
import sys
from pathlib import Path

if "policy" not in sys.modules:
    _here = Path(__file__).resolve().parent
    _spec = importlib.util.spec_from_file_location("policy", _here / "__init__.py", submodule_search_locations=[str(_here)])
    if _spec is None or _spec.loader is None:
        raise ImportError(f"cannot load the policy package from {_here}")  # noqa: EM102
    sys.modules["policy"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["policy"])

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
