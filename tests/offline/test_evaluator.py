"""An evaluation leaves Pulumi's SDK as it found it: registrations outside it keep their stack traces."""

from __future__ import annotations

import pytest
from pulumi.runtime import resource as pulumi_resource

from components.config import ConfigError
from offline import evaluate_stack


def test_an_evaluation_puts_pulumis_stack_trace_back_whether_it_plans_or_fails() -> None:
    before = pulumi_resource._get_stack_trace  # noqa: SLF001
    assert evaluate_stack("staging").resources
    assert pulumi_resource._get_stack_trace is before  # noqa: SLF001
    with pytest.raises(ConfigError):
        evaluate_stack("production", (("release:bakeMinutes", 60),))
    assert pulumi_resource._get_stack_trace is before  # noqa: SLF001
