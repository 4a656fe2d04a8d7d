"""The dashboard body: typed pieces rendered to the JSON CloudWatch reads, laid out on its 24-unit grid."""

from __future__ import annotations

import json
import re

from components.config import Colour
from components.dashboard import (
    GRID_WIDTH,
    DashboardValues,
    Expression,
    Graph,
    Metric,
    Text,
    environment_dashboard,
    named_dimensions,
    render,
)

VALUES = DashboardValues(
    load_balancer="app/web/1",
    target_groups={Colour.BLUE: "targetgroup/web-blue/2", Colour.GREEN: "targetgroup/web-green/3"},
    cluster="web",
    services={Colour.BLUE: "web-blue", Colour.GREEN: "web-green"},
    database="web-db",
    cache_nodes=("web-redis-001", "web-redis-002"),
    alarm_arns=("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-blue-release",),
)


def widgets(body: str) -> list[dict]:
    return json.loads(body)["widgets"]


def test_a_metric_row_is_namespace_name_dimension_pairs_then_options() -> None:
    row = Metric("AWS/ECS", "CPUUtilization", (("ClusterName", "c"), ("ServiceName", "s")), "Average", "blue",
                 colour="#1f77b4").to_json()
    assert row == ["AWS/ECS", "CPUUtilization", "ClusterName", "c", "ServiceName", "s",
                   {"stat": "Average", "label": "blue", "color": "#1f77b4"}]


def test_a_hidden_metric_keeps_its_id_for_expressions() -> None:
    row = Metric("AWS/ApplicationELB", "RequestCount", (), "Sum", id="requests", visible=False).to_json()
    assert row[-1] == {"stat": "Sum", "id": "requests", "visible": False}
    assert Expression("100 * e / r", "rate", "rate").to_json() == [{"expression": "100 * e / r", "label": "rate", "id": "rate"}]


def test_widgets_wrap_at_the_grid_width_without_overlapping() -> None:
    body = render([Text("# t"), Graph("a", ()), Graph("b", ()), Graph("c", (), width=8)], "eu-west-1", 60)
    placed = [(w["x"], w["y"], w["width"], w["height"]) for w in widgets(body)]
    assert placed == [(0, 0, 24, 2), (0, 2, 12, 6), (12, 2, 12, 6), (0, 8, 8, 6)]
    assert all(x + w <= GRID_WIDTH for x, _, w, _ in placed)


def test_graphs_carry_region_and_period() -> None:
    graph = widgets(render([Graph("a", ())], "eu-west-1", 300))[0]
    assert graph["type"] == "metric"
    assert (graph["properties"]["region"], graph["properties"]["period"]) == ("eu-west-1", 300)


def test_the_environment_dashboard_compares_colours_in_every_traffic_graph() -> None:
    body = environment_dashboard(VALUES, "web-staging", (50, 99), "eu-west-1", 60)
    by_title = {w["properties"].get("title"): w for w in widgets(body)}
    for title in ("Requests by colour", "Healthy hosts by colour", "Response time by colour",
                  "Service CPU by colour", "Service memory by colour"):
        labels = [row[-1].get("label", "") for row in by_title[title]["properties"]["metrics"]]
        assert any(label.startswith("blue") for label in labels), title
        assert any(label.startswith("green") for label in labels), title
    rates = [row[0]["label"] for row in by_title["5xx rate by colour"]["properties"]["metrics"] if "expression" in row[0]]
    assert rates == ["blue 5xx %", "green 5xx %", "load balancer 5xx %"]


def test_response_time_draws_each_configured_percentile_per_colour() -> None:
    body = environment_dashboard(VALUES, "t", (50, 90, 99.9), "eu-west-1", 60)
    latency = next(w for w in widgets(body) if w["properties"].get("title") == "Response time by colour")
    stats = sorted({row[-1]["stat"] for row in latency["properties"]["metrics"]})
    assert stats == ["p50", "p90", "p99.9"]
    assert len(latency["properties"]["metrics"]) == 6


def test_expressions_only_reference_ids_defined_in_their_widget() -> None:
    body = environment_dashboard(VALUES, "t", (99,), "eu-west-1", 60)
    for widget in widgets(body):
        rows = widget["properties"].get("metrics", [])
        ids = {row[-1]["id"] for row in rows if "id" in row[-1] and "expression" not in row[-1]}
        for row in rows:
            if "expression" in row[0]:
                # Metric ids start lowercase; metric-math functions (FILL, MAX) are uppercase.
                used = set(re.findall(r"\b[a-z][A-Za-z0-9_]*", row[0]["expression"]))
                assert used, row
                assert used <= ids, (row, ids)


def test_named_dimensions_lists_every_dimension_the_body_uses() -> None:
    body = environment_dashboard(VALUES, "t", (99,), "eu-west-1", 60)
    named = set(named_dimensions(body))
    values = {value for _, _, value in named}
    assert values == {"app/web/1", "targetgroup/web-blue/2", "targetgroup/web-green/3", "web", "web-blue", "web-green",
                      "web-db", "web-redis-001", "web-redis-002"}
    assert ("TargetResponseTime", "TargetGroup", "targetgroup/web-green/3") in named
    assert ("Evictions", "CacheClusterId", "web-redis-002") in named


def test_without_database_or_cache_there_are_no_data_widgets() -> None:
    bare = DashboardValues(VALUES.load_balancer, VALUES.target_groups, VALUES.cluster, VALUES.services)
    body = environment_dashboard(bare, "t", (99,), "eu-west-1", 60)
    namespaces = {row[0] for w in widgets(body) for row in w["properties"].get("metrics", []) if isinstance(row[0], str)}
    assert namespaces == {"AWS/ApplicationELB", "AWS/ECS"}
    assert all(w["type"] != "alarm" for w in widgets(body))


def test_the_release_alarms_head_the_dashboard() -> None:
    body = environment_dashboard(VALUES, "t", (99,), "eu-west-1", 60)
    alarm = widgets(body)[1]
    assert alarm["type"] == "alarm"
    assert alarm["properties"]["alarms"] == list(VALUES.alarm_arns)
