"""The driver tests' moto session: one per test module, shared by the stack worlds the module builds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.stack_world import aws_session


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    with aws_session() as found:
        yield found
