"""Every manual clock under test fails the test that sleeps on it past a day (tests/conftest.py), never hangs it."""

from __future__ import annotations

import pytest

from rehearsal.world.seams import ScheduledClock
from release.aws.base import wait_until
from release.clock import ManualClock
from tests.conftest import CLOCK_LIMIT_SECONDS


@pytest.mark.parametrize("made", [ManualClock, ScheduledClock])
def test_a_clock_slept_on_to_a_day_goes_on_and_past_it_fails_the_test(made: type[ManualClock]) -> None:
    clock = made()
    clock.sleep(CLOCK_LIMIT_SECONDS)
    assert clock.monotonic() == CLOCK_LIMIT_SECONDS
    with pytest.raises(RuntimeError, match=r"a manual clock ran past a day \(86405 s\): a wait that never ends"):
        clock.sleep(5.0)


def test_a_wait_whose_bound_is_lost_fails_at_a_day_instead_of_polling_for_ever() -> None:
    clock = ManualClock()
    with pytest.raises(RuntimeError, match="ran past a day"):
        wait_until(lambda: (False, "never"), clock, what="a colour that never gets healthy", timeout=float("inf"), interval=15)
    assert CLOCK_LIMIT_SECONDS < clock.monotonic() <= CLOCK_LIMIT_SECONDS + 15
