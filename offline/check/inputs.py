"""Check 2: the rules AWS and the provider enforce that the service models do not encode.

The rules are registered beside each type's offline model
(``offline.models.knowledge.input_rule``), each with its source; this runs them.
"""

from __future__ import annotations

from collections.abc import Iterator

from offline.check.findings import Finding, RuleClass, Severity
from offline.models.knowledge import RULES, PlanView
from offline.plan import Plan


def check(plan: Plan) -> Iterator[Finding]:
    """Findings for every registered rule a resource breaks."""
    view = PlanView([(r.type, r.name, r.inputs, r.outputs) for r in plan.resources])
    by_type: dict[str, list[int]] = {}
    for index, rule in enumerate(RULES):
        by_type.setdefault(rule.type, []).append(index)
    for resource in plan.resources:
        for index in by_type.get(resource.type, ()):
            rule = RULES[index]
            for violation in rule.test(dict(resource.inputs), view):
                yield Finding(resource.name, resource.type, violation.path, violation.value, rule.id, RuleClass.INPUT_RULE,
                              rule.source, violation.message, Severity(rule.severity))
