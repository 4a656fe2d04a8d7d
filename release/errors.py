"""Exit codes, the one condition table that maps to them, and the error of bad input. No traceback is shown for any of these."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What ``python -m release`` exits with."""

    OK = 0
    REFUSED = 1  # a release aborted, refused or rolled back
    BAD_INPUT = 2  # bad config, unknown stack, bad flag
    INFRASTRUCTURE = 3  # AWS or the engine failed


# One exit code per condition; docs/releasing.md tables the same rows (a test keeps them equal).
CONDITIONS: tuple[tuple[str, ExitCode], ...] = (
    ("released, promoted, migrated; status, history, plan, diff or a dry run shown", ExitCode.OK),
    ("a release aborted: a check failed after it started and traffic went back to live", ExitCode.REFUSED),
    ("rolled back (`rollback`), or a release ended from another shell", ExitCode.REFUSED),
    ("promoted, then a check after it failed (the public smoke test; the new live unhealthy or in alarm in the backup "
     "window): the old colour keeps running",
     ExitCode.REFUSED),
    ("a rolling release rolled back: ECS's rollback verified, the old version back in the config", ExitCode.REFUSED),
    ("refused before changing anything: preflight, a release already in progress, no release in progress to act on, "
     "nothing to roll back, an irreversible migration in the way", ExitCode.REFUSED),
    ("another update holds the stack", ExitCode.REFUSED),
    ("interrupted by Ctrl-C or SIGTERM: the weights stay as last verified", ExitCode.REFUSED),
    ("not confirmed at the prompt", ExitCode.REFUSED),
    ("bad flag or output format, unknown stack, `--output json` without `--yes`", ExitCode.BAD_INPUT),
    ("invalid stack config, a corrupt `release:inProgress`", ExitCode.BAD_INPUT),
    ("the Pulumi CLI is not installed", ExitCode.INFRASTRUCTURE),
    ("AWS failed or could not be reached (transient errors only after their retries, named by code)", ExitCode.INFRASTRUCTURE),
    ("a Pulumi update or engine call failed", ExitCode.INFRASTRUCTURE),
    ("a rolling release's rollback ECS did not finish in time: the config left as it was, what to look at named",
     ExitCode.INFRASTRUCTURE),
    ("a file the driver writes is not writable", ExitCode.INFRASTRUCTURE),
    ("an unexpected error (`RELEASE_DEBUG=1` shows its traceback)", ExitCode.INFRASTRUCTURE),
)


class BadInputError(Exception):
    """Input the user can fix; the message says what and how."""


class RefusedError(Exception):
    """A command that will not act in this state (exit 1): what, why, and the command to run instead."""

    def __init__(self, what: str, why: str, next_command: str) -> None:
        super().__init__(f"{what}: {why}")
        self.what = what
        self.why = why
        self.next_command = next_command
