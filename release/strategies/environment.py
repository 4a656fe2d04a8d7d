"""Is it the environment, not the candidate? The seam between a failing verdict and the blame.

A verdict compares the candidate with live. When both colours degrade together (a database, a shared dependency,
the network), the candidate may look worse than live's *earlier* traffic without being worse than live's traffic
of the same minutes, and aborting would blame it for the environment. So, before the bake aborts on a failed
verdict, and before it lets a step pass, it asks this check:

1. live's own release alarms: one in ALARM means live is degraded;
2. live against itself: live's traffic of the last ``RECENT_MINUTES`` (within this step) against live's own traffic
   of the ``baselineMinutes`` before the release started, with the analysis's own tests (``decide``, the same
   confidence, minimum effect and samples): failing means live degraded;
3. at a step where live keeps only the control share (``release:controlWeight``), when the verdict failed: the
   candidate against live's control over the same recent minutes; not worse than the control means the failure
   came from the baseline, which the environment may have left behind;
4. while a bake holds: the candidate's recent minutes against live's baseline, when its minutes before this step
   were no worse than it (the analysis's ``environment`` verdict for a step where the candidate's own rate rose:
   the same version, so what changed is not the version) and the candidate is no worse than the control over the
   same recent minutes. It keeps the hold while the change lasts; the analysis's verdict starts it.

Any of them makes the environment unhealthy: the bake holds (weights kept, an alert naming the environment) instead
of aborting, and does not let the step pass while live degrades alone. The judgement itself is the analysis's
(``release/judgement/analysis.py``); this module only calls its public ``figures`` and ``decide``, and holds at once
when the analysis's own verdict is a hold (its state ``environment`` or ``live``: ``Verdict.hold``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from components.config import Colour
from components.config.release_analysis import AnalysisConfig
from release.judgement.analysis import Analysis, Verdict, alarm_names, decide
from release.judgement.checks import steady_before

RECENT_MINUTES = 5
"""How far back "now" reaches for live's own comparison: the stack's alarms look at 3 (staging) to 5 (production)
one-minute periods (``monitoring:evaluationPeriods``), so a recovered environment reads healthy as soon as they do."""
HOLD_MINUTES = 30
"""How long a bake holds for an unhealthy environment before it gives up: then the candidate goes back to 0 (the
safe state) with the environment named as the reason and exit 3, as for any other infrastructure failure. The same
30 minutes as ``release:backupMinutes``' default, six times the slowest alarm."""


@dataclass(frozen=True)
class Environment:
    """Whether the environment is unhealthy, and a sentence naming what was seen."""

    unhealthy: bool
    why: str = ""


@dataclass(frozen=True)
class Window:
    """The minutes a bake's environment check reads."""

    released: datetime
    """The first shift of the release: live's own baseline ends here."""
    step: datetime
    """This step's shift."""
    now: datetime
    control: bool
    """Live keeps only the control share at this step."""
    held: bool = False
    """The bake holds already: rule 4 keeps a hold the analysis's own verdict began."""


EnvironmentCheck = Callable[[Colour, Window, Verdict], Environment]
"""(candidate, window, verdict) -> whether the environment, not the candidate, explains what the bake sees."""


def live_against_itself(
    analysis: Analysis, metrics: Any, outputs: Mapping[str, Any], limits: AnalysisConfig,
) -> EnvironmentCheck:
    """The default check: live's alarms, live against its own earlier traffic, and the candidate against the control."""

    def check(candidate: Colour, window: Window, verdict: Verdict) -> Environment:
        if verdict.hold:
            # The analysis itself tells the environment (both colours worse than live's baseline) or live alone apart.
            return Environment(True, verdict.summary)
        live = candidate.other
        names = alarm_names(outputs, live)
        firing = sorted(n for n, s in metrics.alarm_states(names).items() if s == "ALARM") if names else []
        if firing:
            return Environment(True, f"the environment is unhealthy: live ({live}) is degraded too, its release alarms "
                                     f"{', '.join(firing)} are in ALARM")
        if any(state == "ALARM" for state in verdict.alarms.values()):
            # The candidate's own alarm with live's quiet is a gate (docs/releasing.md): it is blamed, never held.
            return Environment(False)
        recent_from = max(window.step, window.now - timedelta(minutes=RECENT_MINUTES))
        baseline_from = window.released - timedelta(minutes=max(limits.baseline_minutes, RECENT_MINUTES))
        before = analysis.figures(baseline_from, window.released, live)[live]
        recent = analysis.figures(recent_from, window.now, live)[live]
        own = decide({}, recent, before, limits)
        if not own.ok:
            return Environment(True, f"the environment is unhealthy: live ({live}) is degraded too, against its own "
                                     f"traffic before the release: {'; '.join(own.reasons)}")
        if window.control and not verdict.ok:
            mine = analysis.figures(recent_from, window.now, candidate)[candidate]
            same = decide({}, mine, recent, limits)
            if same.ok:
                return Environment(True, f"the environment may be unhealthy: {candidate} is worse than live's earlier "
                                         f"traffic but not than live's control over the same minutes "
                                         f"({same.summary})")
        if window.held and window.step > window.released:
            return changed(analysis, limits, candidate, window, before, recent)
        return Environment(False)

    return check


def changed(analysis: Analysis, limits: AnalysisConfig, candidate: Colour, window: Window, before: Any,
            recent_live: Any) -> Environment:
    """Rule 4: the candidate's own rate rose at this step, and not against the control.

    Its recent minutes are worse than live's baseline, its minutes before this step look like the baseline rather than
    like them, and it is no worse than live's control over the same recent minutes.
    """
    recent_from = max(window.step, window.now - timedelta(minutes=RECENT_MINUTES))
    mine = analysis.figures(recent_from, window.now, candidate)[candidate]
    earlier = analysis.figures(window.released, window.step, candidate)[candidate]
    steady = bool(steady_before(earlier.requests, earlier.errors, before.error_rate, mine.requests, mine.errors))
    worse = decide({}, mine, before, limits)
    same = decide({}, mine, recent_live, limits) if recent_live.requests else worse
    if steady and not worse.ok and same.ok:
        return Environment(True, f"the environment changed at this step, not the candidate: {candidate}'s recent "
                                 f"{'; '.join(worse.reasons)}, where its earlier steps were not ({earlier.errors:.0f}/"
                                 f"{earlier.requests:.0f}), and no worse than live's control over the same minutes")
    return Environment(False)
