"""What a delivery config change does to existing resources: replaced only where GitHub or AWS must."""

from __future__ import annotations

from collections.abc import Callable

from offline import Plan, evaluate_stack
from offline.diff import diff
from offline.render import render_diff


def test_renaming_the_image_repository_replaces_it(plan_of: Callable[..., Plan]) -> None:
    result = diff(plan_of("production"), plan_of("production", "delivery:imageRepository=webapp-images"))
    replaced = {d.name for d in result.of_kind("replace")}
    # The lifecycle policy goes with it: its repository is ForceNew (terraform-provider-aws ecr/lifecycle_policy.go).
    assert replaced == {"delivery-images-repository", "delivery-images-lifecycle"}


def test_changing_reviewers_updates_the_environment_in_place(plan_of: Callable[..., Plan]) -> None:
    result = diff(plan_of("production"), plan_of("production", ("delivery:reviewers", ["team:release-approvers"])))
    assert result.of_kind("replace") == []
    assert [d.name for d in result.of_kind("update")] == ["delivery-production-environment"]


def test_a_new_node_version_updates_both_workflow_files_only(plan_of: Callable[..., Plan]) -> None:
    result = diff(plan_of("production"), plan_of("production", "delivery:nodeVersion=24"))
    assert sorted(d.name for d in result.resources) == ["delivery-repository-workflow-production", "delivery-repository-workflow-staging"]
    assert {d.kind for d in result.resources} == {"update"}


def test_a_workflow_change_is_shown_as_the_lines_that_change(plan_of: Callable[..., Plan]) -> None:
    new = plan_of("production", "delivery:nodeVersion=24")
    text = render_diff(diff(plan_of("production"), new), new)
    assert "       -        node-version: '22'\n       +        node-version: '24'\n" in text
    assert "Delivery pipeline of the application" not in text, "unchanged lines stay out of the diff"


def test_two_evaluations_of_a_stack_agree(plan_of: Callable[..., Plan]) -> None:
    # Ids and numeric GitHub ids come from digests: a fresh evaluation must not differ.
    first, second = plan_of("production"), evaluate_stack("production")
    assert not diff(first, second).resources
    assert {r.urn: r.outputs for r in first.resources} == {r.urn: r.outputs for r in second.resources}
    assert first.outputs == second.outputs
