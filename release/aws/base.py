"""What every AWS wrapper shares: the domain error, retries on throttling, bounded waits.

Retries are explicit and only for throttling: any other client error is an
answer, not noise, and goes to the caller. Every wait has a timeout and sleeps
on the injected clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError

from release.clock import Clock

T = TypeVar("T")

THROTTLING = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
    "TooManyRequestsException", "RequestThrottled", "SlowDown",
})


class AwsError(Exception):
    """An AWS call or wait failed: what, why, and the next command to run."""

    def __init__(self, what: str, why: str, next_command: str = "") -> None:
        super().__init__(f"{what}: {why}")
        self.what = what
        self.why = why
        self.next_command = next_command


class WaitTimeoutError(AwsError):
    """A condition did not hold within its timeout."""


def error_code(exc: ClientError) -> str:
    """The AWS error code of a client error."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def with_retries(call: Callable[[], T], clock: Clock, *, what: str, attempts: int = 5, base_delay: float = 0.5) -> T:
    """Run ``call``; on throttling, retry with exponential backoff up to ``attempts`` times."""
    for attempt in range(attempts):
        try:
            return call()
        except ClientError as exc:
            if error_code(exc) not in THROTTLING:
                raise
            if attempt == attempts - 1:
                raise AwsError(what, f"still throttled after {attempts} attempts ({error_code(exc)})", "retry in a minute") from exc
            clock.sleep(min(base_delay * 2**attempt, 20.0))
    msg = "unreachable"
    raise AssertionError(msg)  # pragma: no cover


def wait_until(
    check: Callable[[], tuple[bool, str]],
    clock: Clock,
    *,
    what: str,
    timeout: float,
    interval: float,
    next_command: str = "",
) -> str:
    """Poll ``check`` (done, state) every ``interval`` seconds until done; WaitTimeoutError after ``timeout``."""
    deadline = clock.monotonic() + timeout
    while True:
        done, state = check()
        if done:
            return state
        if clock.monotonic() + interval > deadline:
            raise WaitTimeoutError(what, f"not done after {timeout:g}s (last seen: {state})", next_command)
        clock.sleep(interval)
