"""The protection policy reads ``protect`` from the resource options the engine reports."""

from __future__ import annotations

import pytest

from tests.policy_support import violations


@pytest.mark.parametrize("type_", ["aws:rds/instance:Instance", "aws:s3/bucket:Bucket", "aws:ecr/repository:Repository"])
def test_protected_stateful_resource_passes_and_unprotected_is_caught(type_: str) -> None:
    assert violations("stateful-resources-protected", type_, {}, protect=True) == []
    assert violations("stateful-resources-protected", type_, {}, protect=False) == [
        f"protect: got false; {type_} holds state: register it with pulumi.ResourceOptions(protect=True) so no "
        "update can delete or replace it",
    ]


def test_stateless_resources_are_not_judged() -> None:
    assert violations("stateful-resources-protected", "aws:ecs/service:Service", {}, protect=False) == []
