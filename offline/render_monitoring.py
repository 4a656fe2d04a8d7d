"""Review lines for monitoring resources: when an alarm fires, what a rule matches, what a dashboard shows."""

from __future__ import annotations

import json
from typing import Any

from offline.plan import Plan, PlannedResource

COMPARISONS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


def _series(inputs: dict[str, Any]) -> str:
    if inputs.get("metricName"):
        stat = inputs.get("statistic") or inputs.get("extendedStatistic") or ""
        return f"{inputs['metricName']} {stat}".strip()
    for query in inputs.get("metricQueries") or []:
        if query.get("returnData") and query.get("expression"):
            return str(query["expression"])
    return "(no metric)"


def alarm_lines(resource: PlannedResource, plan: Plan) -> list[str]:
    """``when CPUUtilization Average > 85 in 3 of 3 periods of 60 s``: the condition a reviewer checks."""
    i = resource.inputs
    operator = COMPARISONS.get(str(i.get("comparisonOperator")), str(i.get("comparisonOperator")))
    period = i.get("period") or next((q["metric"].get("period") for q in i.get("metricQueries") or [] if q.get("metric")), "?")
    breaching = i.get("datapointsToAlarm") or i.get("evaluationPeriods")
    return [f"when {_series(i)} {operator} {i.get('threshold')} in {breaching} of {i.get('evaluationPeriods')} "
            f"periods of {period} s"]


def rule_lines(resource: PlannedResource, plan: Plan) -> list[str]:
    """The sources and detail types an EventBridge rule matches."""
    try:
        pattern = json.loads(str(resource.inputs.get("eventPattern") or "{}"))
    except json.JSONDecodeError:
        return ["event pattern is not JSON"]
    return [f"matches {', '.join(pattern.get('source', []))}: {', '.join(pattern.get('detail-type', []))}"]


def dashboard_lines(resource: PlannedResource, plan: Plan) -> list[str]:
    """The graph titles of a dashboard, in order."""
    try:
        widgets = json.loads(str(resource.inputs.get("dashboardBody") or "{}")).get("widgets", [])
    except json.JSONDecodeError:
        return ["dashboard body is not JSON"]
    titles = [w["properties"]["title"] for w in widgets if w.get("type") == "metric" and "title" in w.get("properties", {})]
    return [f"{len(widgets)} widgets: {'; '.join(titles)}"]
