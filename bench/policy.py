"""What the policy pack costs and covers per stack: a ratio to the plan it checks, and counts.

The pack runs on every preview, so it must stay cheap next to evaluating the
program: the figure is the median time of one pack run over a stack's offline
plan, as a ratio to the median time of evaluating that plan in the same process
(target: at most 0.25). Coverage is counted as the (policy, resource) pairs
checked, and how many resources no policy looks at.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial

RUNS = 5
TARGET_RATIO = 0.25


def median_seconds(work: Callable[[], object], runs: int = RUNS) -> float:
    """Median wall time of ``runs`` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run() -> list[dict[str, object]]:
    """One row a stack: pack/plan time ratio, checks made, unchecked resource types, findings."""
    from offline import evaluate_stack
    from offline.stacks import ProjectFiles
    from policy.offline import evaluate_policies
    from policy.policies import POLICIES, ResourcePolicy

    rows: list[dict[str, object]] = []
    for stack in ProjectFiles.here().stacks():
        plan_seconds = median_seconds(partial(evaluate_stack, stack))
        plan = evaluate_stack(stack)
        pack_seconds = median_seconds(partial(evaluate_policies, plan))
        findings = evaluate_policies(plan)
        custom = [r for r in plan.resources if r.custom]
        resource_policies = [p for p in POLICIES if isinstance(p, ResourcePolicy)]
        checks = sum(1 for r in custom for p in resource_policies if r.type in p.types)
        unchecked = sorted({r.type for r in custom if not any(r.type in p.types for p in resource_policies)})
        rows.append({
            "benchmark": "policy pack",
            "stack": stack,
            "plan_s": round(plan_seconds, 3),
            "pack_s": round(pack_seconds, 4),
            "ratio": round(pack_seconds / plan_seconds, 3),
            "target_ratio": TARGET_RATIO,
            "resources": len(custom),
            "resource_checks": checks,
            "stack_policies": len(POLICIES) - len(resource_policies),
            "unchecked_types": len(unchecked),
            "mandatory_findings": sum(f.mandatory for f in findings),
            "advisory_findings": sum(not f.mandatory for f in findings),
        })
    return rows
