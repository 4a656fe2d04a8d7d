"""Offline models of Pulumi Cloud resources: ids in the provider's import formats, stable across evaluations."""

from __future__ import annotations

import re

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import OfflineMocks

STACK = {"organization": "acme-platform", "project": "release-platform", "stack": "staging"}


def register(type_: str, name: str, inputs: dict[str, object]) -> tuple[str | None, dict[str, object]]:
    mocks = OfflineMocks(project="release-platform", stack="staging", region="eu-west-1")
    return mocks.new_resource(MockResourceArgs(type_, name, inputs, custom=True))


def test_deployment_settings_are_addressed_by_their_stack() -> None:
    physical_id, _ = register("pulumiservice:index:DeploymentSettings", "deployments-settings", STACK)
    assert physical_id == "acme-platform/release-platform/staging"


def test_drift_schedule_ids_are_stable_uuids_under_the_stack() -> None:
    args = ("pulumiservice:index:DriftSchedule", "deployments-drift", {**STACK, "scheduleCron": "0 6 * * *"})
    first, second = register(*args), register(*args)
    assert first == second
    schedule_id = str(first[1]["scheduleId"])
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", schedule_id)
    assert first[0] == f"acme-platform/release-platform/staging/{schedule_id}"


def test_webhooks_get_a_service_name_and_the_default_format() -> None:
    inputs = {"organizationName": "acme-platform", "projectName": "release-platform", "stackName": "staging",
              "displayName": "alerts", "payloadUrl": "https://hooks.example.com/x", "active": True}
    physical_id, state = register("pulumiservice:index:Webhook", "deployments-notify", inputs)
    assert state["format"] == "raw"
    assert physical_id == f"acme-platform/release-platform/staging/{state['name']}"
    _, slack = register("pulumiservice:index:Webhook", "deployments-notify", {**inputs, "format": "slack"})
    assert slack["format"] == "slack"


def test_stack_tags_are_addressed_by_name() -> None:
    physical_id, _ = register("pulumiservice:index:StackTag", "deployments-tag-owner", {**STACK, "name": "owner", "value": "x"})
    assert physical_id == "acme-platform/release-platform/staging/owner"
