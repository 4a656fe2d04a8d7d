"""A non-default ``fleet:containerPort`` reaches every place traffic meets the container.

With the default port (8080) a resource that hard-codes 8080 would pass every
other test; 9137 exposes it: the task definition's port mapping and health
check, the service's load balancer mapping, the target groups, and the security
groups between the load balancer and the tasks must all carry the configured port.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from offline import Plan

PORT = 9137


@pytest.fixture(scope="module")
def plan(plan_of: Callable[..., Plan]) -> Plan:
    return plan_of("staging", f"fleet:containerPort={PORT}")


def _by_colour(plan: Plan, kind: str) -> dict[str, Any]:
    return {r.name.rsplit("-", 1)[-1]: r for r in plan.of_type(kind) if r.name.rsplit("-", 1)[-1] in ("blue", "green")}


def test_the_task_definitions_listen_and_health_check_on_the_configured_port(plan: Plan) -> None:
    tasks = _by_colour(plan, "aws:ecs/taskDefinition:TaskDefinition")
    assert set(tasks) == {"blue", "green"}
    for task in tasks.values():
        (app,) = json.loads(task.inputs["containerDefinitions"])
        assert app["portMappings"] == [{"containerPort": PORT, "protocol": "tcp"}]
        assert f"http://localhost:{PORT}/" in app["healthCheck"]["command"][1]


def test_the_services_register_the_configured_port_with_their_target_groups(plan: Plan) -> None:
    services = _by_colour(plan, "aws:ecs/service:Service")
    groups = _by_colour(plan, "aws:lb/targetGroup:TargetGroup")
    assert set(services) == set(groups) == {"blue", "green"}
    for colour, svc in services.items():
        (mapping,) = svc.inputs["loadBalancers"]
        assert mapping["containerPort"] == PORT
        assert mapping["targetGroupArn"] == groups[colour].outputs["arn"]
        assert groups[colour].inputs["port"] == PORT


def test_the_load_balancer_may_reach_the_tasks_on_the_configured_port_and_no_other(plan: Plan) -> None:
    alb = plan.named("webapp-network-alb").inputs
    service = plan.named("webapp-network-service").inputs
    assert [(e["fromPort"], e["toPort"]) for e in alb["egress"]] == [(PORT, PORT)]
    assert [(i["fromPort"], i["toPort"]) for i in service["ingress"]] == [(PORT, PORT)]
