"""What every AWS wrapper shares: the domain error, retries on transient errors, bounded waits.

Retries are explicit and only for transient errors (throttling, a busy or
failing service): any other client error is an answer, not noise, and goes to
the caller. Every retry and wait sleeps on the injected clock and is bounded;
when retries run out the error names the AWS error code, and ``wait_until``
polls again at its own pace (still within its timeout).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError

from release.clock import Clock

T = TypeVar("T")

# Error codes botocore's own retry policies treat as transient: the throttling and transient
# checkers of botocore/retries/standard.py and the policies of botocore/data/_retry.json
# (throttling, throttling_exception, throttled_exception, request_throttled_exception,
# throughput_exceeded; ec2's request_limit_exceeded and ec2_throttled_exception).
TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "RequestThrottled",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "EC2ThrottledException", "BandwidthLimitExceeded", "SlowDown", "PriorRequestNotComplete",
    "RequestTimeout", "RequestTimeoutException",
    # AWS API reference, "Common Errors": ServiceUnavailable (503), InternalFailure (500).
    "ServiceUnavailable", "InternalFailure",
})
# HTTP statuses of botocore/data/_retry.json's too_many_requests (429), general_server_error (500),
# bad_gateway (502), service_unavailable (503), gateway_timeout (504) and limit_exceeded (509).
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504, 509})
ATTEMPTS = 8  # with the delays below, 51.5 s of backoff before a read gives up
MAX_DELAY = 20.0
# How long a bake tolerates reads that keep failing transiently before the candidate counts as unobserved.
TRANSIENT_GRACE_SECONDS = 120.0


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


def is_transient(exc: ClientError) -> bool:
    """Whether botocore's retry rules call this error transient (worth asking again)."""
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error_code(exc) in TRANSIENT_CODES or status in TRANSIENT_STATUSES


class TransientAwsError(AwsError):
    """AWS kept answering with a transient error (``code``) after every retry."""

    def __init__(self, what: str, why: str, next_command: str, code: str) -> None:
        super().__init__(what, why, next_command)
        self.code = code


def with_retries(
    call: Callable[[], T], clock: Clock, *, what: str, attempts: int = ATTEMPTS, base_delay: float = 0.5,
) -> T:
    """Run ``call``; on a transient error, retry with exponential backoff (capped) up to ``attempts`` times."""
    for attempt in range(attempts):
        try:
            return call()
        except ClientError as exc:
            if not is_transient(exc):
                raise
            if attempt == attempts - 1:
                code = error_code(exc) or str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?"))
                raise TransientAwsError(
                    what, f"AWS answered {code} {attempts} times in a row", "retry in a minute", code,
                ) from exc
            clock.sleep(min(base_delay * 2**attempt, MAX_DELAY))
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
    """Poll ``check`` (done, state) every ``interval`` seconds until done; WaitTimeoutError after ``timeout``.

    A check that fails with a transient AWS error counts as not done yet.
    """
    deadline = clock.monotonic() + timeout
    while True:
        try:
            done, state = check()
        except TransientAwsError as exc:
            # A throttled read says nothing about the condition: poll again, within the same timeout.
            done, state = False, f"AWS answered {exc.code}"
        if done:
            return state
        if clock.monotonic() + interval > deadline:
            raise WaitTimeoutError(what, f"not done after {timeout:g}s (last seen: {state})", next_command)
        clock.sleep(interval)


class TransientGrace:
    """A run of transient read failures, tolerated for ``seconds`` of the clock from the first one."""

    def __init__(self, clock: Clock, seconds: float = TRANSIENT_GRACE_SECONDS) -> None:
        self.clock = clock
        self.seconds = seconds
        self.since: float | None = None

    def tolerate(self) -> bool:
        """Record one more failure; True while the run is younger than the grace period."""
        now = self.clock.monotonic()
        if self.since is None:
            self.since = now
        return now - self.since < self.seconds

    def clear(self) -> None:
        """A read succeeded: the run is over."""
        self.since = None
