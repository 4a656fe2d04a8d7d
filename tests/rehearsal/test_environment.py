"""Whose fault is it: a fault both colours share is not the candidate's, and neither are its extra error lines."""

from __future__ import annotations

import pytest

from tests.rehearsals import QUICK, QUICK_BACKUP, rehearsed

pytestmark = pytest.mark.rehearsal


def test_a_shared_fault_at_the_last_step_is_not_blamed_on_the_candidate() -> None:
    # Default 5-minute bakes at 10 requests a second: the shared fault lasts 4 minutes of the last one; the backup
    # window is a minute.
    done = rehearsed("staging", "shared-fault", QUICK_BACKUP)
    assert done.summary["outcome"] == "promoted", done.summary["failed"]
    assert done.result.exit_code == 0
    assert done.summary["failed"] is None, "nothing was blamed on the candidate"
    # The bake held, naming the environment: the candidate's own 5xx rose at the last step, its earlier steps were
    # like live's baseline, and it was no worse than live's control share in the same minutes.
    assert len(done.summary["holds"]) == 1, "the bake held while the dependency failed"
    assert "the environment changed at this step, not the candidate" in done.summary["holds"][0]
    # The candidate did answer 5xx, and so did live's control share in the same minutes: the concurrent comparison
    # finds the candidate no worse than the control.
    assert done.summary["traffic"]["green"]["target_5xx"] > 0
    # The control share stayed on blue through the last step and the promotion, and ended after the backup window.
    assert [u["weights"]["blue"] for u in done.updates][-4:] == [5, 5, 0, 0]


def test_a_candidate_writing_three_error_lines_per_failing_request_at_lives_rate_is_promoted() -> None:
    done = rehearsed("staging", "verbose-errors", QUICK)
    assert done.summary["outcome"] == "promoted", done.summary["failed"]
    assert done.summary["failed"] is None
    traffic = done.summary["traffic"]
    # The filter counted requests with an error, about 1% on both colours, not the candidate's three lines for each.
    assert traffic["green"]["error_lines"] > 0
    assert traffic["green"]["error_lines_per_request"] < 0.025
    assert traffic["blue"]["error_lines_per_request"] > 0
