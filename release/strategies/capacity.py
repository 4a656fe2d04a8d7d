"""How many tasks the candidate needs before it takes a share of live's traffic.

Before each shift the candidate is scaled to carry ``weight`` percent of the
load live carries now, with headroom: ``ceil(live_running * weight / 100 *
headroom)``, never below its standby count. The count goes through the stack
(``release:candidateTasks``), which sets the candidate's service count and,
when autoscaling is on, its scalable target's minimum, so it survives every
later update.
"""

from __future__ import annotations

import math

CANDIDATE_TASKS = "release:candidateTasks"
DEFAULT_HEADROOM = 1.2
"""20% more tasks than the share of live's running tasks, so the candidate is not at its limit the moment it takes traffic."""


def required_tasks(live_running: int, weight: int, headroom: float, standby: int) -> int:
    """Tasks the candidate needs to take ``weight`` percent of what ``live_running`` tasks serve now."""
    # Rounded to 6 places first so that 1.2 * 25 / 100 * 10 is 3, not 3.0000000000000004 -> 4.
    share = round(live_running * weight / 100 * headroom, 6)
    return max(standby, math.ceil(share))
