"""Exit codes and the errors that map to them. No traceback is shown for any of these."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What ``python -m release`` exits with."""

    OK = 0
    REFUSED = 1  # a release aborted, refused or rolled back
    BAD_INPUT = 2  # bad config, unknown stack, bad flag
    INFRASTRUCTURE = 3  # AWS or the engine failed


class BadInputError(Exception):
    """Input the user can fix; the message says what and how."""
