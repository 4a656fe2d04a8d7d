"""The rollback tests' moto session (one per test module) and the stack world most of them drive."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.stack_world import World, aws_session, world


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    with aws_session() as found:
        yield found


@pytest.fixture
def w(session: Any) -> World:
    # A bake ends at its minute: how the low-traffic rule extends a bake is not the subject here (tests/stack_world.py).
    return world(session, extend_minutes=0)
