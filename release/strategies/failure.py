"""The failure of one step of a release: what failed, why, and the next command to run."""

from __future__ import annotations

from components.config.release_record import ReleaseRecord


class StepFailure(Exception):
    """A step did not succeed: what, why, and the next command to run."""

    def __init__(
        self, what: str, why: str, next_command: str = "", *, infrastructure: bool = False, elsewhere: bool = False,
        record: ReleaseRecord | None = None,
    ) -> None:
        super().__init__(f"{what}: {why}")
        self.what = what
        self.why = why
        self.next_command = next_command
        self.infrastructure = infrastructure
        self.elsewhere = elsewhere
        self.record = record
        """The record as the step left it, when the step got past a durable write before failing."""


class UnfinishedEndingError(StepFailure):
    """An ending (promotion, abort, rollback) whose update applied and was verified, but whose record was not finished.

    ``record`` is the record as the ending left it (still in progress, marked); the command in ``next_command``
    finishes it. Nothing is to be undone: the outcome happened.
    """


class UnknownStateError(StepFailure):
    """An update was applied but what AWS serves could not be read (every read refused as transient): neither old nor new.

    Nothing is put back on it: putting the config back would tell the next update to undo what may well be served
    already. The record stays marked, as after a kill between the update and the final write, so the same command
    run again (once AWS answers) verifies and finishes it.
    """
