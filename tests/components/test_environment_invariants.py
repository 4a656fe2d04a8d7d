"""The release invariants of the environment, proven with the offline diff of whole-stack plans.

Production is green-live with blue as the candidate (versions differ), so every
canary weight is allowed there without overrides.
"""

from __future__ import annotations

import itertools
import json

import pytest

from offline.diff import diff

WEIGHTS = (0, 10, 25, 50, 100)
LISTENER = "webapp-traffic-https"
STATEFUL = (
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/targetGroup:TargetGroup",
    "aws:s3/bucket:Bucket",
    "aws:ecs/cluster:Cluster",
    "aws:ecs/service:Service",
    "aws:ecs/taskDefinition:TaskDefinition",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
)


def weight(w: int) -> str:
    return f"release:canaryWeight={w}"


@pytest.mark.parametrize(("before", "after"), list(itertools.permutations(WEIGHTS, 2)))
def test_a_canary_shift_updates_only_the_weighted_listener(plan_of, before: int, after: int) -> None:
    result = diff(plan_of("production", weight(before)), plan_of("production", weight(after)))
    assert [(d.kind, d.name) for d in result.resources] == [("update", LISTENER)]
    paths = {c.path for c in result.resources[0].changes}
    assert paths <= {f"defaultActions[0].forward.targetGroups[{i}].weight" for i in (0, 1)}


def test_a_shift_in_staging_is_the_same_single_update(plan_of) -> None:
    candidate = "release:versions.green=4a7be210"
    result = diff(plan_of("staging", candidate), plan_of("staging", candidate, weight(25)))
    assert [(d.kind, d.name) for d in result.resources] == [("update", "webapp-traffic-https")]


def test_both_target_groups_stay_in_the_forward_at_every_weight(plan_of) -> None:
    groups = {r.outputs["arn"] for r in plan_of("production").of_type("aws:lb/targetGroup:TargetGroup")}
    for w in WEIGHTS:
        listener = plan_of("production", weight(w)).named(LISTENER)
        forward = listener.inputs["defaultActions"][0]["forward"]["targetGroups"]
        assert {g["arn"] for g in forward} == groups
        assert sorted(g["weight"] for g in forward) == sorted([w, 100 - w])


def test_a_new_candidate_version_touches_only_the_candidate_task_and_service(plan_of) -> None:
    # Production's candidate is blue.
    result = diff(plan_of("production"), plan_of("production", "release:versions.blue=5e6f7a8b"))
    touched = {(d.kind, d.name) for d in result.resources}
    # The migration task runs the candidate's image, so it is revised with the candidate.
    # The candidate's listener rule also takes the token of its new version (components/traffic.py, colour_token),
    # a secret the offline diff cannot compare: test_traffic.py holds it.
    assert touched == {("replace", "webapp-fleet-blue"), ("update", "webapp-fleet-blue"), ("replace", "webapp-migration-task")}
    kinds = {d.type: d.kind for d in result.resources}
    assert kinds == {"aws:ecs/taskDefinition:TaskDefinition": "replace", "aws:ecs/service:Service": "update"}
    service = next(d for d in result.resources if d.type == "aws:ecs/service:Service")
    assert [c.path for c in service.changes] == ["taskDefinition"]


def test_flipping_the_live_colour_at_weight_zero_replaces_nothing(plan_of) -> None:
    result = diff(plan_of("production"), plan_of("production", "release:live=blue"))
    assert result.resources, "a flip must change the forward"
    # The only new revision is the migration task's, which follows the new candidate's image.
    assert {(d.kind, d.name) for d in result.resources if d.kind != "update"} == {("replace", "webapp-migration-task")}
    changed = {d.name for d in result.resources}
    assert LISTENER in changed
    # The candidate's route is static: each colour's rule stays as it was whichever colour is live.
    assert not {n for n in changed if n.endswith("-candidate")}
    # Nothing stateful is recreated, and neither colour's task definition changes.
    assert not any(d.type == "aws:ecs/taskDefinition:TaskDefinition" and d.name.startswith("webapp-fleet-") for d in result.resources)


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_no_stateful_name_embeds_a_version_or_a_weight(plan_of, stack: str) -> None:
    overrides = ("release:versions.blue=7c0ffee1", "release:versions.green=b1ab1ab2", weight(25))
    plan = plan_of(stack, *overrides)
    forbidden = ("7c0ffee1", "b1ab1ab2", "25")
    checked = 0
    for res in plan.resources:
        if res.type not in STATEFUL:
            continue
        physical = [str(res.inputs.get(k, "")) for k in ("name", "family", "bucket")]
        for text in (res.urn, *physical):
            assert not any(f in text for f in forbidden), f"{res.type} {res.name}: {text!r} embeds a version or weight"
        checked += 1
    assert checked >= 14
    # Stronger than a substring check: the names are the same whatever the versions and weights are.
    assert stateful_names(plan) == stateful_names(plan_of(stack))


def stateful_names(plan) -> dict[str, list[str]]:
    return {
        res.urn: [str(res.inputs.get(k, "")) for k in ("name", "family", "bucket")]
        for res in plan.resources if res.type in STATEFUL
    }


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_load_balancer_and_target_group_names_fit_aws_limits(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    # Target groups are named by AWS from a prefix (tested in test_traffic); their completed names count here too.
    names = [r.outputs["name"] for t in ("aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup") for r in plan.of_type(t)]
    assert len(names) == 3
    assert all(len(n) <= 32 for n in names), names


def test_the_exports_follow_the_stack_output_contract(plan_of) -> None:
    outputs = plan_of("production").outputs
    contract = {
        "endpoint_url", "candidate_route", "release_token_secret_arn", "load_balancer_arn", "load_balancer_arn_suffix",
        "listener_arn", "listener_urn", "target_group_arns", "target_group_arn_suffixes", "target_group_names", "cluster_name",
        "service_names", "health_check_path", "alarm_names", "alert_topic_arn",
    }
    assert contract <= set(outputs)
    for key in ("target_group_arns", "target_group_arn_suffixes", "target_group_names", "service_names", "alarm_names"):
        assert set(outputs[key]) == {"blue", "green"}, key
    # The name the certificate covers, never the load balancer's own DNS name (hostname verification would fail).
    assert outputs["endpoint_url"] == "https://webapp.example.com"
    assert not {"test_endpoint_url", "test_listener_arn", "test_port"} & set(outputs)
    assert outputs["listener_urn"].endswith("aws:lb/listener:Listener::webapp-traffic-https")
    assert outputs["target_group_arn_suffixes"]["blue"].startswith(f"targetgroup/{outputs['target_group_names']['blue']}/")
    assert outputs["load_balancer_arn"].endswith(outputs["load_balancer_arn_suffix"])
    assert outputs["cluster_name"] == "webapp-production"
    assert outputs["health_check_path"] == "/healthz"
    assert json.dumps(outputs["alarm_names"]["green"]) == json.dumps([
        "webapp-production-green-unhealthy-hosts", "webapp-production-green-5xx-rate", "webapp-production-green-p99-latency",
    ])
