"""What monitoring adds to each stack: alarms, the metrics they watch, rules, and the dashboard's size.

Counts, not timings. ``metrics_watched`` is what CloudWatch evaluates (an alarm over
metric math watches each metric it combines); ``widget_share`` is the dashboard's
widgets as a share of the 500 a dashboard body may hold; ``dimensions_found`` of
``dimensions_named`` says how many dashboard dimensions match a resource of the
same plan (they must be equal).
"""

from __future__ import annotations

import json

MAX_WIDGETS = 500  # a DashboardBody holds 0 to 500 widgets


def run() -> list[dict[str, object]]:
    """One row a stack."""
    from components.dashboard import named_dimensions
    from offline import evaluate_stack
    from offline.stacks import ProjectFiles

    rows: list[dict[str, object]] = []
    for stack in ProjectFiles.here().stacks():
        plan = evaluate_stack(stack)
        root = next(r.urn for r in plan.resources if r.type == "release:monitoring:Monitoring")
        inside = {root}
        for resource in plan.resources:  # registration order: a parent comes before its children
            if resource.parent in inside:
                inside.add(resource.urn)
        ours = [r for r in plan.resources if r.urn in inside and r.urn != root]
        alarms = [r for r in ours if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"]
        metrics = sum(len([q for q in a.inputs.get("metricQueries") or [] if q.get("metric")]) or 1 for a in alarms)
        dashboard = next(r for r in ours if r.type == "aws:cloudwatch/dashboard:Dashboard")
        body = dashboard.inputs["dashboardBody"]
        known = {str(v) for r in plan.resources for v in (*r.inputs.values(), *r.outputs.values()) if isinstance(v, str)}
        known |= {m for r in plan.resources for m in r.outputs.get("memberClusters") or []}
        named = {value for _, _, value in named_dimensions(body)}
        widgets = len(json.loads(body)["widgets"])
        rows.append({
            "benchmark": "monitoring",
            "stack": stack,
            "metric_alarms": len(alarms),
            "composite_alarms": len([r for r in ours if r.type == "aws:cloudwatch/compositeAlarm:CompositeAlarm"]),
            "metrics_watched": metrics,
            "event_rules": len([r for r in ours if r.type == "aws:cloudwatch/eventRule:EventRule"]),
            "dashboard_widgets": widgets,
            "widget_share": round(widgets / MAX_WIDGETS, 3),
            "dashboard_bytes": len(body.encode()),
            "dimensions_named": len(named),
            "dimensions_found": len(named & known),
        })
    return rows
