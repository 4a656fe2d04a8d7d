"""The CloudWatch dashboard, built from typed pieces and rendered to the JSON body AWS expects.

Pieces are plain frozen dataclasses holding resolved strings, so the body is a
pure function of the stack's values: the ``Monitoring`` component resolves its
Inputs once and calls ``environment_dashboard``. Every graph puts blue and green
side by side, so a canary is read against the live colour at a glance.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.config.monitoring import LogSignals
from components.config.release import Colour
from components.log_queries import errors_by_message, with_source

GRID_WIDTH = 24  # CloudWatch dashboards are 24 units wide
COLOURS = {Colour.BLUE: "#1f77b4", Colour.GREEN: "#2ca02c"}
ELB = "AWS/ApplicationELB"
ECS = "AWS/ECS"
RDS = "AWS/RDS"
CACHE = "AWS/ElastiCache"


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric drawn (or used by an expression, when hidden)."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str = "Average"
    label: str | None = None
    id: str | None = None
    visible: bool = True
    colour: str | None = None

    def to_json(self) -> list[Any]:
        """The metric as one row of a widget's ``metrics`` array."""
        row: list[Any] = [self.namespace, self.name]
        for key, value in self.dimensions:
            row.extend([key, value])
        options: dict[str, Any] = {"stat": self.stat}
        if self.label:
            options["label"] = self.label
        if self.id:
            options["id"] = self.id
        if not self.visible:
            options["visible"] = False
        if self.colour:
            options["color"] = self.colour
        row.append(options)
        return row


@dataclass(frozen=True)
class Expression:
    """A metric-math series over metrics of the same widget, referenced by their ids."""

    expression: str
    label: str
    id: str
    colour: str | None = None

    def to_json(self) -> list[Any]:
        """The expression as one row of a widget's ``metrics`` array."""
        options: dict[str, Any] = {"expression": self.expression, "label": self.label, "id": self.id}
        if self.colour:
            options["color"] = self.colour
        return [options]


Series = Metric | Expression


@dataclass(frozen=True)
class Graph:
    """A time-series widget."""

    title: str
    series: tuple[Series, ...]
    width: int = 12
    height: int = 6
    y_label: str = ""
    y_min: float | None = 0

    def properties(self, region: str, period: int) -> dict[str, Any]:
        """The widget's ``properties`` object."""
        y_axis: dict[str, Any] = {"label": self.y_label, "showUnits": not self.y_label}
        if self.y_min is not None:
            y_axis["min"] = self.y_min
        return {
            "title": self.title,
            "view": "timeSeries",
            "region": region,
            "period": period,
            "stacked": False,
            "metrics": [s.to_json() for s in self.series],
            "yAxis": {"left": y_axis},
        }

    @property
    def kind(self) -> str:
        """The widget type in the dashboard body."""
        return "metric"


@dataclass(frozen=True)
class Text:
    """A markdown widget: headings and what to look at."""

    markdown: str
    width: int = GRID_WIDTH
    height: int = 2

    def properties(self, region: str, period: int) -> dict[str, Any]:
        """The widget's ``properties`` object."""
        return {"markdown": self.markdown}

    @property
    def kind(self) -> str:
        """The widget type in the dashboard body."""
        return "text"


@dataclass(frozen=True)
class AlarmStatus:
    """The current state of a list of alarms, by ARN."""

    title: str
    alarm_arns: tuple[str, ...]
    width: int = GRID_WIDTH
    height: int = 2

    def properties(self, region: str, period: int) -> dict[str, Any]:
        """The widget's ``properties`` object."""
        return {"title": self.title, "alarms": list(self.alarm_arns)}

    @property
    def kind(self) -> str:
        """The widget type in the dashboard body."""
        return "alarm"


@dataclass(frozen=True)
class LogTable:
    """A Logs Insights query's results as a table.

    CloudWatch "Dashboard body structure and syntax": a ``log`` widget's ``query``
    names its log groups with ``SOURCE '<group>'`` ahead of the query.
    """

    title: str
    query: str
    log_groups: tuple[str, ...]
    width: int = 12
    height: int = 6

    def properties(self, region: str, period: int) -> dict[str, Any]:
        """The widget's ``properties`` object."""
        return {"title": self.title, "region": region, "view": "table",
                "query": with_source(self.query, list(self.log_groups))}

    @property
    def kind(self) -> str:
        """The widget type in the dashboard body."""
        return "log"


Widget = Graph | Text | AlarmStatus | LogTable


def render(widgets: Sequence[Widget], region: str, period: int) -> str:
    """The dashboard body: widgets laid out left to right, wrapping at the grid's width."""
    x = y = row_height = 0
    rendered = []
    for widget in widgets:
        if x + widget.width > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        rendered.append({
            "type": widget.kind, "x": x, "y": y, "width": widget.width, "height": widget.height,
            "properties": widget.properties(region, period),
        })
        x += widget.width
        row_height = max(row_height, widget.height)
    return json.dumps({"widgets": rendered}, sort_keys=True)


def named_dimensions(body: str) -> Iterator[tuple[str, str, str]]:
    """Every ``(metric, dimension, value)`` a rendered body names: what must exist in the stack."""
    for widget in json.loads(body)["widgets"]:
        for row in widget["properties"].get("metrics", []):
            names = [part for part in row if not isinstance(part, dict)]
            if len(names) < 2:
                continue  # an expression row names no dimensions
            pairs = names[2:]
            for key, value in zip(pairs[::2], pairs[1::2], strict=True):
                yield names[1], key, value


@dataclass(frozen=True)
class DashboardValues:
    """The stack's resolved identifiers the dashboard draws."""

    load_balancer: str
    """ARN suffix of the load balancer (``app/<name>/<id>``)."""
    target_groups: Mapping[Colour, str]
    """ARN suffix of each colour's target group."""
    cluster: str
    """ECS cluster name."""
    services: Mapping[Colour, str]
    """ECS service name of each colour."""
    database: str | None = None
    """RDS instance identifier, when the stack has a database."""
    cache_nodes: tuple[str, ...] = ()
    """ElastiCache cluster id of each Redis node, when the stack has a cache."""
    alarm_arns: tuple[str, ...] = field(default=())
    """Alarms whose state heads the dashboard (the composite release alarms)."""
    log_groups: Mapping[Colour, str] = field(default_factory=dict)
    """Each colour's log group, when the stack reads its logs."""
    log_fields: LogSignals = field(default_factory=LogSignals)
    """The fields the log widgets' queries read."""


def _per_colour_target(values: DashboardValues, name: str, stat: str, label: str) -> tuple[Metric, ...]:
    return tuple(
        Metric(ELB, name, (("TargetGroup", values.target_groups[c]), ("LoadBalancer", values.load_balancer)),
               stat=stat, label=f"{c} {label}".strip(), colour=COLOURS[c])
        for c in Colour
    )


def _error_rate(values: DashboardValues) -> tuple[Series, ...]:
    series: list[Series] = []
    for c in Colour:
        dims = (("TargetGroup", values.target_groups[c]), ("LoadBalancer", values.load_balancer))
        series.append(Metric(ELB, "HTTPCode_Target_5XX_Count", dims, "Sum", id=f"errors_{c}", visible=False))
        series.append(Metric(ELB, "RequestCount", dims, "Sum", id=f"requests_{c}", visible=False))
        # FILL: a colour with no requests has no error rate, not a gap that hides the other line's scale.
        series.append(Expression(f"100 * FILL(errors_{c}, 0) / FILL(requests_{c}, 1)", f"{c} 5xx %", f"rate_{c}",
                                 COLOURS[c]))
    lb = (("LoadBalancer", values.load_balancer),)
    series.append(Metric(ELB, "HTTPCode_ELB_5XX_Count", lb, "Sum", id="elb_errors", visible=False))
    series.append(Metric(ELB, "RequestCount", lb, "Sum", id="elb_requests", visible=False))
    series.append(Expression("100 * FILL(elb_errors, 0) / FILL(elb_requests, 1)", "load balancer 5xx %", "elb_rate"))
    return tuple(series)


def _latency(values: DashboardValues, percentiles: Sequence[float]) -> tuple[Metric, ...]:
    return tuple(
        Metric(ELB, "TargetResponseTime", (("TargetGroup", values.target_groups[c]), ("LoadBalancer", values.load_balancer)),
               stat=f"p{p:g}", label=f"{c} p{p:g}", colour=COLOURS[c])
        for p in percentiles for c in Colour
    )


def _per_service(values: DashboardValues, name: str) -> tuple[Metric, ...]:
    return tuple(
        Metric(ECS, name, (("ClusterName", values.cluster), ("ServiceName", values.services[c])),
               label=str(c), colour=COLOURS[c])
        for c in Colour
    )


def _data_widgets(values: DashboardValues) -> list[Widget]:
    widgets: list[Widget] = []
    if values.database:
        db = (("DBInstanceIdentifier", values.database),)
        widgets.append(Text("## Database", height=1))
        widgets.append(Graph("Database CPU", (Metric(RDS, "CPUUtilization", db, label="CPU"),), width=8, y_label="%"))
        widgets.append(Graph("Database connections", (Metric(RDS, "DatabaseConnections", db, "Maximum", "connections"),),
                             width=8))
        widgets.append(Graph("Database free storage", (Metric(RDS, "FreeStorageSpace", db, "Minimum", "free"),), width=8))
    if values.cache_nodes:
        widgets.append(Text("## Redis", height=1))
        for title, name, stat in (("Redis engine CPU", "EngineCPUUtilization", "Average"),
                                  ("Redis memory used", "DatabaseMemoryUsagePercentage", "Maximum"),
                                  ("Redis evictions", "Evictions", "Sum")):
            series = tuple(Metric(CACHE, name, (("CacheClusterId", node),), stat, node) for node in values.cache_nodes)
            widgets.append(Graph(title, series, width=8))
    return widgets


def environment_dashboard(values: DashboardValues, title: str, percentiles: Sequence[float], region: str, period: int) -> str:
    """The dashboard body of one environment: traffic, errors and latency by colour, then the fleet and its data."""
    widgets: list[Widget] = [Text(f"# {title}\nBlue and green side by side: a canary is read against the live colour.")]
    if values.alarm_arns:
        widgets.append(AlarmStatus("Release health (the signal a release watches)", values.alarm_arns))
    widgets += [
        Graph("Requests by colour", _per_colour_target(values, "RequestCount", "Sum", "requests"), y_label="requests"),
        Graph("5xx rate by colour", _error_rate(values), y_label="%"),
        Graph("Response time by colour", _latency(values, percentiles), y_label="seconds"),
        Graph("Healthy hosts by colour", _per_colour_target(values, "HealthyHostCount", "Minimum", "healthy")
              + _per_colour_target(values, "UnHealthyHostCount", "Maximum", "unhealthy"), y_label="hosts"),
        Graph("Service CPU by colour", _per_service(values, "CPUUtilization"), y_label="%"),
        Graph("Service memory by colour", _per_service(values, "MemoryUtilization"), y_label="%"),
    ]
    if values.log_groups:
        widgets.append(Text("## Logs\nError lines by message, per colour (saved as Logs Insights queries too).", height=1))
        widgets += [LogTable(f"{c} errors by message", errors_by_message(values.log_fields), (values.log_groups[c],))
                    for c in Colour if c in values.log_groups]
    widgets += _data_widgets(values)
    return render(widgets, region, period)
