"""The three tests of a poll, each an e-process fed minute by minute (sources: ``significance.py``).

``CountEvidence`` and ``SignEvidence`` hold a test's running state over arrays (one entry a release): the
driver feeds one release's minutes, the benchmark thousands at once, through the same arithmetic. Each keeps
five e-processes: the candidate against the control (the test: it aborts; a minute without control traffic is
judged against live's baseline), the same over the minutes with control traffic alone (``control``: what still
blames the candidate while the environment is unhealthy), and, against live's baseline, live's own minutes, the
candidate's, and the candidate's minutes of the current step alone (restarted at each step's shift: ``new_step``).
The last three tell the environment from the candidate.

Why ``control`` stays valid in an unhealthy environment: given a minute's request counts and its total errors, the
candidate's errors follow Fisher's noncentral hypergeometric law, which depends on the two colours' odds ratio
alone, not on the rate they share (``significance.py``, ``concurrent_log_factors``). A fault that raises both
colours' rates alike leaves a healthy candidate's factors at expectation at most 1, so its minutes may join the
same e-process, and Ville's inequality bounds the chance that it *ever* reaches 1/alpha, holds included. A minute
judged against live's baseline has no such guarantee then: the baseline no longer bounds what a healthy candidate
answers in an environment that changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from components.config.release_analysis import ErrorTest, LatencyTest
from release.judgement.figures import Figures, Minute
from release.judgement.significance import (
    BASELINE_SHARE,
    ODDS_GRID,
    baseline_log_factors,
    concurrent_log_factors,
    median_bound_alpha,
    mixture_log_evalue,
    rate_upper_bound,
    sign_log_evalue,
    sign_minutes_needed,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike

PASS, FAIL, UNDECIDED, HOLD = "pass", "fail", "undecided", "hold"
CHANGE_ALPHA = 0.05
"""The level of the step's own test (``step_change``): it never aborts, it names the environment and holds, so a false
alarm costs a hold (at most 5% of a step in an unchanged environment, by Ville's inequality), not a blame."""
CHANGE_BOUND_SHARE = 0.8
"""At a step where live keeps only a control share (``release:controlWeight``), the share of ``CHANGE_ALPHA`` spent
on the step's own Clopper-Pearson bound of live's baseline rate; its e-process gets the rest (``change_alphas``).
There the control's few requests cannot show live's own rise, so the candidate's own change is what names a shared
fault; at the other steps live keeps its traffic, and the step's e-process uses the abort test's bound (alpha
0.0005 at confidence 0.995) at 1/``CHANGE_ALPHA``. At 18,000 baseline requests and a 1% rate the bound is 1.14% at
0.04 instead of 1.27% at 0.0005: a shared fault's 2% stands further above it. 0.5 (a bound at 0.025, 1/alpha 40)
named the environment as often, and named it in more healthy releases (docs/releasing.md, "What the benchmark
says")."""
CHANGE_ODDS = (1.4,)
"""The alternative of the step's e-process at a step where live keeps a control share, as a multiple of its null's
odds (elsewhere and in the abort test: ``ODDS_GRID``, 1.6). Its product is above 1 (leaning, ``step_change``: the step waits) when
the step's rate is nearer the alternative than the null, the point where the two binomial likelihoods are equal (the
law of likelihood: R. Royall, *Statistical Evidence*, 1997, section 1.2); a nearer alternative moves that point down
towards the null: 1.42% at 1.4 against a 1.20% null, where 1.6 against a 1.33% null put it at 1.69%, and a shared
fault's step at 2% falls below it less often. Any alternative keeps the guarantee (Ville's inequality); 1.25, 1.3 and
a mixture of 1.2, 1.4 and 1.6 named the environment as often and held more healthy releases (docs/releasing.md)."""
STEP_KEYS = ("step", "shared")
"""The step's own e-processes: they start again at each shift (``new_step``) and after a hold (``rebake``)."""
DRIFTS = ("live", "candidate")
"""The e-processes against live's baseline that tell the environment from the candidate (``afresh``)."""


@dataclass(frozen=True)
class Check:
    """One test's verdict: pass, fail, undecided (or hold), a sentence naming the figures, and the drifts seen."""

    name: str
    state: str
    summary: str
    p_value: float | None = None
    """The anytime-valid p-value, 1 / the e-process's largest value (Vovk and Wang 2021, section 2)."""
    drift_live: str = ""
    """Non-empty when live's own minutes are worse than its baseline: the sentence saying so."""
    drift_candidate: str = ""
    """Non-empty when the candidate's minutes are worse than live's baseline."""
    changed: str = ""
    """Non-empty when the candidate's minutes of this step are worse than live's baseline, its earlier steps were not."""
    against_control: bool = False
    """Failed on the minutes with control traffic alone too: worse than live in the same minutes, whatever the
    environment (the e-process ``control``)."""


def alphas(confidence: float) -> tuple[float, float]:
    """(the e-process's alpha, the baseline bound's alpha): together ``1 - confidence``."""
    alpha = 1.0 - confidence
    return alpha * (1.0 - BASELINE_SHARE), alpha * BASELINE_SHARE


def change_alphas() -> tuple[float, float]:
    """(the step's e-process's alpha, its baseline bound's alpha): together ``CHANGE_ALPHA``.

    An unchanged environment is named at a step only if the bound falls below live's true rate (Clopper-Pearson:
    at most the bound's alpha) or, above it, the e-process ever reaches 1/its alpha (Ville's inequality): at most
    their sum (Bonferroni's inequality).
    """
    return CHANGE_ALPHA * (1.0 - CHANGE_BOUND_SHARE), CHANGE_ALPHA * CHANGE_BOUND_SHARE


class CountEvidence:
    """A proportion test's e-processes over a batch of releases, fed one minute at a time."""

    def __init__(self, base_requests: ArrayLike, base_errors: ArrayLike, test: ErrorTest) -> None:
        import numpy as np

        alpha, alpha_bound = alphas(test.confidence)
        self.margin = 1.0 + test.min_relative_increase
        self.threshold = math.log(1.0 / alpha)
        self.bound = rate_upper_bound(base_requests, base_errors, alpha_bound)
        self.base_rate = np.asarray(base_errors, dtype=float) / np.maximum(np.asarray(base_requests, dtype=float), 1.0)
        keys = ("test", "control", "live", "candidate", "step", "shared")
        change_alpha, change_bound_alpha = change_alphas()
        self.change_bound = rate_upper_bound(base_requests, base_errors, change_bound_alpha)
        """Live's baseline bound for the step's own e-process, at the change test's own share of ``CHANGE_ALPHA``."""
        self.change_threshold = math.log(1.0 / change_alpha)
        self.controlled = np.zeros(self.bound.shape, dtype=bool)
        """Where live keeps only a control share at the current step: its step's own test is ``shared``'s."""
        self.sums = {k: np.zeros((*self.bound.shape, len(CHANGE_ODDS if k == "shared" else ODDS_GRID))) for k in keys}
        self.best = {k: np.zeros(self.bound.shape) for k in keys}
        self.now = {k: np.zeros(self.bound.shape) for k in keys}
        self.earlier: tuple[np.ndarray, np.ndarray] = (np.zeros(self.bound.shape), np.zeros(self.bound.shape))
        """The candidate's requests and errors in the steps before the current one."""
        self.current: tuple[np.ndarray, np.ndarray] = (np.zeros(self.bound.shape), np.zeros(self.bound.shape))

    def new_step(self, where: ArrayLike, controlled: ArrayLike = False) -> None:
        """A shift (where ``where``): the current step's minutes become earlier ones, and its e-processes start at 1.

        ``controlled``: live keeps only a control share at the new step.
        """
        import numpy as np

        mask = np.broadcast_to(np.asarray(where, dtype=bool), self.bound.shape)
        (n_before, e_before), (n_now, e_now) = self.earlier, self.current
        self.earlier = (np.where(mask, n_before + n_now, n_before), np.where(mask, e_before + e_now, e_before))
        self.current = (np.where(mask, 0.0, n_now), np.where(mask, 0.0, e_now))
        self.controlled = np.where(mask, np.broadcast_to(np.asarray(controlled, dtype=bool), self.bound.shape),
                                   self.controlled)
        self._restart(mask, STEP_KEYS)

    def rebake(self, where: ArrayLike) -> None:
        """Where ``where``, the step bakes again after a hold for the environment: its own e-processes start at 1.

        The minutes of the hold's fault would otherwise keep a recovered step leaning for as long again. The step's
        minutes stay this step's (``steady_before`` reads them all), and the tests against the control keep every
        minute; each start is a test of its own at ``CHANGE_ALPHA``, read at its current value, as the drifts are.
        """
        self._restart(where, STEP_KEYS)

    def step_evidence(self) -> tuple[np.ndarray, np.ndarray]:
        """The step's own e-process (its log) and its threshold.

        Where live keeps only a control share, ``shared``: against the bound at ``CHANGE_BOUND_SHARE`` of
        ``CHANGE_ALPHA``, on ``CHANGE_ODDS``, at 1/the rest (``change_alphas``); elsewhere ``step``: against the abort
        test's bound, on ``ODDS_GRID``, at 1/``CHANGE_ALPHA``.
        """
        import numpy as np

        return (np.where(self.controlled, self.now["shared"], self.now["step"]),
                np.where(self.controlled, self.change_threshold, math.log(1.0 / CHANGE_ALPHA)))

    def afresh(self, where: ArrayLike) -> None:
        """Where ``where``, live's and the candidate's e-processes against the baseline (the drifts) start again at 1.

        A hold asks them whether the environment is unhealthy *now*: summed over the whole release, minutes of a
        fault would outweigh the healthy ones after it for as long again. The test's e-processes keep every minute.
        """
        self._restart(where, DRIFTS)

    def _restart(self, where: ArrayLike, keys: tuple[str, ...]) -> None:
        """Where ``where``, the e-processes ``keys`` start again at 1 (their sums, best and current values at 0)."""
        import numpy as np

        mask = np.broadcast_to(np.asarray(where, dtype=bool), self.bound.shape)
        for key in keys:
            self.sums[key] = np.where(mask[..., None], 0.0, self.sums[key])
            self.best[key] = np.where(mask, 0.0, self.best[key])
            self.now[key] = np.where(mask, 0.0, self.now[key])

    def step_change(self) -> tuple[np.ndarray, np.ndarray]:
        """(changed, leaning): where the candidate's own rate changed at this step, and where it leans that way.

        Changed: what changed is not the version. Its minutes of this step are worse than live's baseline (their
        e-process, restarted at the step's shift, reached its threshold: ``step_evidence``) while its earlier steps,
        of the same version, look like the baseline rather than like this step (``steady_before``).

        Leaning: this step's minutes favour a change they have not yet shown, and the step does not pass on them. The
        step's e-process is above 1 (its minutes are likelier at its alternative than at its null: the law of
        likelihood, R. Royall, *Statistical Evidence*, 1997, section 1.2) and below its threshold, with the earlier
        steps like the baseline: what "changed" would name once its evidence is in. Five minutes of a doubled 2% rate
        at ~1,140 requests a minute reach the threshold in about 95% of releases only (docs/releasing.md, "What the
        benchmark says"); the bake waits for the rest (its extension) instead of passing the step.
        """
        step, threshold = self.step_evidence()
        steady = steady_before(*self.earlier, self.base_rate, *self.current)
        return (step >= threshold) & steady, (step > 0.0) & (step < threshold) & steady

    def update(self, n_c: ArrayLike, e_c: ArrayLike, n_l: ArrayLike, e_l: ArrayLike) -> None:
        """One minute of both colours (``n_l`` 0: no control traffic that minute, the baseline judges it)."""
        import numpy as np

        n_c, e_c, n_l, e_l = (np.asarray(a, dtype=float) for a in (n_c, e_c, n_l, e_l))
        e_c, e_l = np.minimum(e_c, n_c), np.minimum(e_l, n_l)
        candidate_vs_base = baseline_log_factors(n_c, e_c, self.bound, self.margin)
        concurrent = concurrent_log_factors(n_c, e_c, n_l, e_l, self.margin)
        steps = {
            "test": np.where((n_l > 0)[..., None], concurrent, candidate_vs_base),
            "control": concurrent,
            "live": baseline_log_factors(n_l, e_l, self.bound, self.margin),
            "candidate": candidate_vs_base,
            "step": candidate_vs_base,
            "shared": baseline_log_factors(n_c, e_c, self.change_bound, self.margin, CHANGE_ODDS),
        }
        self.current = (np.asarray(self.current[0] + n_c), np.asarray(self.current[1] + e_c))
        for key, step in steps.items():
            self.sums[key] = self.sums[key] + step
            self.now[key] = mixture_log_evalue(self.sums[key])
            self.best[key] = np.maximum(self.best[key], self.now[key])

    def crossed(self, key: str) -> np.ndarray:
        """Where the e-process ``key`` has reached 1/alpha at some look."""
        return self.best[key] >= self.threshold

    def shows(self, key: str) -> np.ndarray:
        """Where the e-process ``key`` is at 1/alpha or above now (a drift: it clears when the minutes recover)."""
        return self.now[key] >= self.threshold


class SignEvidence:
    """The latency sign test's e-processes over a batch of releases, fed one minute at a time."""

    def __init__(self, base_latencies: ArrayLike, base_minutes: ArrayLike, test: LatencyTest) -> None:
        import numpy as np

        alpha, alpha_bound = alphas(test.confidence)
        self.margin, self.floor = 1.0 + test.min_relative_increase, test.floor_ms / 1000.0
        self.threshold = math.log(1.0 / alpha)
        self.needed = sign_minutes_needed(alpha)
        # The baseline's largest minute bounds live's median minute unless all fell below it: 2^-minutes.
        enough = np.asarray(base_minutes) >= 1
        usable = np.array([median_bound_alpha(int(b)) <= alpha_bound if b else False
                           for b in np.ravel(base_minutes)]).reshape(np.shape(base_minutes))
        self.reference = np.where(enough & usable, np.asarray(base_latencies, dtype=float), np.nan)
        zeros = np.zeros(np.shape(base_minutes))
        keys = ("test", "control", "live", "candidate")
        self.counts = {k: [zeros.copy(), zeros.copy()] for k in keys}
        self.best = {k: zeros.copy() for k in keys}
        self.now = {k: zeros.copy() for k in keys}

    def afresh(self, where: ArrayLike) -> None:
        """Where ``where``, the drifts' sign counts start again (``CountEvidence.afresh``)."""
        import numpy as np

        mask = np.broadcast_to(np.asarray(where, dtype=bool), self.reference.shape)
        for key in DRIFTS:
            self.counts[key] = [np.where(mask, 0.0, c) for c in self.counts[key]]
            self.best[key] = np.where(mask, 0.0, self.best[key])
            self.now[key] = np.where(mask, 0.0, self.now[key])

    def update(self, candidate: ArrayLike, control: ArrayLike) -> None:
        """One minute: each colour's latency statistic (NaN: no datapoint)."""
        import numpy as np

        c, ctl = np.asarray(candidate, dtype=float), np.asarray(control, dtype=float)
        ref = np.where(np.isnan(ctl), self.reference, ctl)
        pairs = {
            "test": (c, ref),
            "control": (c, ctl),
            "live": (ctl, self.reference),
            "candidate": (c, self.reference),
        }
        for key, (value, against) in pairs.items():
            seen = ~np.isnan(value) & ~np.isnan(against)
            with np.errstate(invalid="ignore"):
                worse = seen & (value > self.margin * against) & (value > self.floor)
            self.counts[key][0] = self.counts[key][0] + worse
            self.counts[key][1] = self.counts[key][1] + seen
            self.now[key] = sign_log_evalue(*self.counts[key])
            self.best[key] = np.maximum(self.best[key], self.now[key])

    def crossed(self, key: str) -> np.ndarray:
        """Where the e-process ``key`` has reached 1/alpha at some look."""
        return self.best[key] >= self.threshold

    def shows(self, key: str) -> np.ndarray:
        """Where the e-process ``key`` is at 1/alpha or above now (a drift: it clears when the minutes recover)."""
        return self.now[key] >= self.threshold


def steady_before(n_before: ArrayLike, e_before: ArrayLike, base_rate: ArrayLike, n_now: ArrayLike,
                  e_now: ArrayLike) -> np.ndarray:
    """Whether the candidate's earlier minutes are likelier at live's baseline rate than at this step's rate.

    The binomial likelihood of the earlier errors at the two rates, compared (the law of likelihood: R. Royall,
    *Statistical Evidence: A Likelihood Paradigm*, 1997, section 1.2); no earlier minute: not steady.
    """
    import numpy as np
    from scipy.special import xlog1py, xlogy

    n, e, p_base, m, k = (np.asarray(a, dtype=float) for a in (n_before, e_before, base_rate, n_now, e_now))
    p_now = np.clip(k / np.maximum(m, 1.0), 1e-12, 1 - 1e-12)
    p_base = np.clip(p_base, 1e-12, 1 - 1e-12)
    at_base = xlogy(e, p_base) + xlog1py(n - e, -p_base)
    at_now = xlogy(e, p_now) + xlog1py(n - e, -p_now)
    return np.asarray((n > 0) & (at_base >= at_now))


@dataclass(frozen=True)
class Outcome:
    """A test's outcome over a batch: where it is undecided, failed, and where each drift shows."""

    undecided: np.ndarray
    failed: np.ndarray
    drift_live: np.ndarray
    drift_candidate: np.ndarray
    changed: np.ndarray
    against_control: np.ndarray
    """Failed, and its e-process over the minutes with control traffic alone reached 1/alpha too."""


def count_outcome(evidence: CountEvidence, candidate_requests: ArrayLike, live_requests: ArrayLike,
                  test: ErrorTest) -> Outcome:
    """The count test's outcome: undecided below the minimum sample on either side, or while the step leans.

    The minimum sample: the candidate's requests, and live's (control and baseline); leaning: this step's minutes
    favour a change not yet shown (``CountEvidence.step_change``).
    """
    import numpy as np

    short = (np.asarray(candidate_requests) < test.min_requests) | (np.asarray(live_requests) < test.min_requests)
    judged = ~short
    failed = judged & evidence.crossed("test")
    changed, leaning = evidence.step_change()
    return Outcome(short | (judged & leaning), failed, judged & evidence.shows("live"),
                   judged & evidence.shows("candidate"), judged & changed, failed & evidence.crossed("control"))


def sign_outcome(evidence: SignEvidence, candidate_minutes: ArrayLike, live_minutes: ArrayLike,
                 test: LatencyTest) -> Outcome:
    """The latency test's outcome: undecided below the minimum minutes on either side, or while it cannot fail."""
    import numpy as np

    short = (np.asarray(candidate_minutes) < test.min_samples) | (np.asarray(live_minutes) < test.min_samples)
    crossed = evidence.crossed("test")
    cannot = ~crossed & (evidence.counts["test"][1] < evidence.needed)
    undecided = short | cannot
    judged = ~undecided
    return Outcome(undecided, judged & crossed, judged & evidence.shows("live"), judged & evidence.shows("candidate"),
                   np.zeros(np.shape(undecided), dtype=bool), judged & crossed & evidence.crossed("control"))


def _p(log_e: float) -> float:
    return min(1.0, math.exp(-log_e))


def _e(log_e: float) -> str:
    return f"{math.exp(log_e):.3g}" if log_e < 700 else f"e^{log_e:.0f}"


def _fmt(p: float) -> str:
    return f"{p:.2g}" if p >= 0.0001 else f"{p:.1e}"


def count_check(name: str, candidate: Figures, control: Figures, baseline: Figures, test: ErrorTest,
                count: Callable[[Minute], float], step: Any = None, fresh: Any = None, controlled: bool = False,
                rebaked: Any = None) -> Check:
    """A proportion test: the candidate's minutes against the control's same minutes, else live's baseline.

    ``step``: when this step's shift happened (a minute's ``at``); the minutes from it on are the current step's.
    ``controlled``: live keeps only a control share at this step (``CountEvidence.new_step``). ``rebaked``: when the
    step began baking again after a hold for the environment; its own e-processes count the minutes from it on alone
    (``CountEvidence.rebake``).
    ``fresh``: the drifts count the minutes from it on alone (``CountEvidence.afresh``); None: every minute.
    """
    what = "5xx" if name == "5xx" else "requests with an error"
    counted = (lambda f: True) if name == "5xx" else (lambda f: f.error_lines is not None)  # noqa: ARG005
    # A side without the metric (no log signal) has nothing to compare with: it is no sample, not a clean one.
    mine = candidate.blocks() if counted(candidate) else ()
    theirs = {m.at: m for m in control.blocks()} if counted(control) else {}
    base = baseline.blocks() if counted(baseline) else ()
    base_n, base_e = sum(m.requests for m in base), sum(min(count(m), m.requests) for m in base)
    n_c, e_c = sum(m.requests for m in mine), sum(min(count(m), m.requests) for m in mine)
    n_l, e_l = sum(m.requests for m in theirs.values()), sum(min(count(m), m.requests) for m in theirs.values())
    figures = (f"{what} {e_c:.0f}/{n_c:.0f} ({e_c / n_c if n_c else 0:.2%}) against control {e_l:.0f}/{n_l:.0f} "
               f"({e_l / n_l if n_l else 0:.2%}) and live's baseline {base_e:.0f}/{base_n:.0f} "
               f"({base_e / base_n if base_n else 0:.2%})")
    evidence = CountEvidence(base_n, base_e, test)
    stepped = restarted = again = False
    for minute in mine:
        if step is not None and not stepped and minute.at >= step:
            evidence.new_step(True, controlled)
            stepped = True
        if rebaked is not None and stepped and not again and minute.at >= rebaked:
            evidence.rebake(True)
            again = True
        if fresh is not None and not restarted and minute.at >= fresh:
            evidence.afresh(True)
            restarted = True
        other = theirs.get(minute.at)
        evidence.update(minute.requests, count(minute), other.requests if other else 0.0, count(other) if other else 0.0)
    if fresh is not None and not restarted:
        evidence.afresh(True)
    for at, other in theirs.items():
        if at not in {m.at for m in mine} and (fresh is None or at >= fresh):
            evidence.update(0.0, 0.0, other.requests, count(other))
    outcome = count_outcome(evidence, n_c, n_l + base_n, test)
    if n_c < test.min_requests:
        return Check(name, UNDECIDED, f"{figures}: not judged below {test.min_requests} candidate requests")
    now_n, now_e = (float(v) for v in evidence.current)
    before_n, before_e = (float(v) for v in evidence.earlier)
    if n_l + base_n < test.min_requests:
        return Check(name, UNDECIDED, f"{figures}: not judged, live has {n_l + base_n:.0f} requests to compare with, "
                                      f"below {test.min_requests}")
    log_e = float(evidence.best["test"])
    alpha = math.exp(-evidence.threshold)
    # Judged: a failed test fails; else a step leaning towards a change it has not shown does not pass yet.
    state = FAIL if bool(outcome.failed) else UNDECIDED if bool(outcome.undecided) else PASS
    text = (f"{figures}: e-process over every look, odds above {evidence.margin:g}x: e={_e(log_e)} "
            f"({'reached' if state == FAIL else 'below'} 1/alpha = {1 / alpha:.0f}; p={_fmt(_p(log_e))})")
    if state == UNDECIDED:
        step_log_e, step_threshold = (float(v) for v in evidence.step_evidence())
        text += (f"; not passed yet, the candidate's {what} of this step {now_e:.0f}/{now_n:.0f} lean above live's "
                 f"baseline (e={_e(step_log_e)}, a change at 1/alpha = {math.exp(step_threshold):.0f}), its "
                 f"earlier steps {before_e:.0f}/{before_n:.0f} like the baseline")
    drift_live = (f"live's {what} {e_l:.0f}/{n_l:.0f} above its baseline {base_e:.0f}/{base_n:.0f}"
                  if bool(outcome.drift_live) else "")
    drift_candidate = (f"the candidate's {what} {e_c:.0f}/{n_c:.0f} above live's baseline {base_e:.0f}/{base_n:.0f}"
                       if bool(outcome.drift_candidate) else "")
    changed = (f"the candidate's {what} of this step {now_e:.0f}/{now_n:.0f} above live's baseline {base_e:.0f}/{base_n:.0f}, "
               f"its earlier steps {before_e:.0f}/{before_n:.0f} like the baseline" if bool(outcome.changed) else "")
    return Check(name, state, text, _p(log_e), drift_live, drift_candidate, changed, bool(outcome.against_control))


def latency_check(candidate: Figures, control: Figures, baseline: Figures, test: LatencyTest, fresh: Any = None) -> Check:
    """The sign test on per-minute latency: each candidate minute against the control's, else the baseline's largest.

    ``fresh``: the drifts count the minutes from it on alone (``SignEvidence.afresh``); None: every minute.
    """
    import numpy as np

    stat = test.statistic
    mine = [m for m in candidate.blocks() if m.latency is not None]
    theirs = {m.at: m.latency for m in control.blocks() if m.latency is not None}
    base = [m.latency for m in baseline.blocks() if m.latency is not None]
    evidence = SignEvidence(max(base) if base else np.nan, len(base), test)
    restarted = False
    for minute in mine:
        if fresh is not None and not restarted and minute.at >= fresh:
            evidence.afresh(True)
            restarted = True
        evidence.update(minute.latency or np.nan, theirs.get(minute.at) or np.nan)
    if fresh is not None and not restarted:
        evidence.afresh(True)
    compared, worse = (float(v) for v in reversed(evidence.counts["test"]))
    c_ms, l_ms = (candidate.latency or 0.0) * 1000, (Figures(latencies=(*theirs.values(), *base)).latency or 0.0) * 1000
    figures = (f"{stat} latency median {c_ms:.0f} ms over {len(mine)} min against live {l_ms:.0f} ms over "
               f"{len(theirs) + len(base)} min")
    outcome = sign_outcome(evidence, len(mine), len(theirs) + len(base), test)
    log_e = float(evidence.best["test"])
    if len(mine) < test.min_samples:
        return Check("latency", UNDECIDED, f"{figures}: not judged below {test.min_samples} candidate minutes")
    if len(theirs) + len(base) < test.min_samples:
        return Check("latency", UNDECIDED, f"{figures}: not judged below {test.min_samples} live minutes")
    if bool(outcome.undecided):
        return Check("latency", UNDECIDED, f"{figures}: {compared:.0f} compared minute(s); the test cannot fail before "
                                           f"{evidence.needed}", _p(log_e))
    state = FAIL if bool(outcome.failed) else PASS
    text = (f"{figures}: sign test over every look, {worse:.0f} of {compared:.0f} minutes above {evidence.margin:g}x "
            f"live and {test.floor_ms:g} ms: e={_e(log_e)} ({'reached' if state == FAIL else 'below'} "
            f"1/alpha = {math.exp(evidence.threshold):.0f})")
    drift_live = "live's latency above its baseline's largest minute" if bool(outcome.drift_live) else ""
    drift_candidate = "the candidate's latency above live's baseline's largest minute" if bool(outcome.drift_candidate) else ""
    return Check("latency", state, text, _p(log_e), drift_live, drift_candidate, against_control=bool(outcome.against_control))
