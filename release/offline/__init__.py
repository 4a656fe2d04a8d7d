"""Offline evaluation of the Pulumi program under Pulumi's own mocks: plan and diff."""

from release.offline.evaluator import evaluate, evaluate_stack
from release.offline.plan import Plan, PlannedResource

__all__ = ["Plan", "PlannedResource", "evaluate", "evaluate_stack"]
