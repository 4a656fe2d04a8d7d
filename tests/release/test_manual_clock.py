"""Every manual clock under test fails the test that sleeps on it past a day, or in place for ever (tests/conftest.py)."""

from __future__ import annotations

import pytest

from rehearsal.world.seams import ScheduledClock
from release.aws.base import wait_until
from release.clock import ManualClock
from tests.conftest import CLOCK_LIMIT_SECONDS, STILL_SLEEPS_LIMIT


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


def test_a_loop_that_sleeps_for_no_time_fails_after_so_many_sleeps_in_a_row() -> None:
    clock = ManualClock()
    for _ in range(STILL_SLEEPS_LIMIT - 1):
        clock.sleep(0.0)
    clock.sleep(1.0)  # a sleep that moves the clock starts the count again
    for _ in range(STILL_SLEEPS_LIMIT - 1):
        clock.sleep(-5.0)
    with pytest.raises(RuntimeError, match="slept on 10000 times in a row without moving: a loop that never ends"):
        clock.sleep(0.0)
