"""The stack world most rollback tests drive (the moto session is tests/release/conftest.py's)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stack_world import World, world


@pytest.fixture
def w(session: Any) -> World:
    # A bake ends at its minute: how the low-traffic rule extends a bake is not the subject here (tests/stack_world.py).
    return world(session, extend_minutes=0)
