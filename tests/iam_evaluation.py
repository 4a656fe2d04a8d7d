"""A small evaluator of IAM policy documents, enough to ask what a permissions boundary leaves a role.

It follows the IAM User Guide's "Policy evaluation logic" for one policy: an explicit
Deny wins, else an Allow is needed. Action, NotAction and Resource match with ``*``
and ``?`` wildcards, case-insensitively for actions; the only conditions understood are
``StringEquals`` on ``aws:ResourceTag/<key>`` (a missing tag never matches), and any
other condition fails the test rather than being guessed.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from typing import Any


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _matches(patterns: list[str], value: str, *, fold: bool) -> bool:
    if fold:
        return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


def _condition_holds(condition: Mapping[str, Any], tags: Mapping[str, str]) -> bool:
    for operator, tests in condition.items():
        if operator != "StringEquals":
            raise AssertionError(f"condition operator {operator} is not modelled here")
        for key, expected in tests.items():
            if not key.startswith("aws:ResourceTag/"):
                raise AssertionError(f"condition key {key} is not modelled here")
            tag = tags.get(key.removeprefix("aws:ResourceTag/"))
            if tag is None or tag not in _listed(expected):
                return False
    return True


def _applies(statement: Mapping[str, Any], action: str, resource: str, tags: Mapping[str, str]) -> bool:
    if "Action" in statement and not _matches(_listed(statement["Action"]), action, fold=True):
        return False
    if "NotAction" in statement and _matches(_listed(statement["NotAction"]), action, fold=True):
        return False
    if not _matches(_listed(statement["Resource"]), resource, fold=False):
        return False
    return _condition_holds(statement.get("Condition", {}), tags)


def allows(document: str, action: str, resource: str, tags: Mapping[str, str] | None = None) -> bool:
    """Whether the policy allows ``action`` on ``resource`` (with these resource tags)."""
    statements = json.loads(document)["Statement"]
    found = [s["Effect"] for s in statements if _applies(s, action, resource, tags or {})]
    return "Deny" not in found and "Allow" in found
