"""Offline evaluation of the Pulumi program under Pulumi's own mocks: plan and diff."""

from offline.evaluator import evaluate, evaluate_stack
from offline.plan import Plan, PlannedResource

__all__ = ["Plan", "PlannedResource", "evaluate", "evaluate_stack"]
