"""The analysis's tests, valid under continuous monitoring: test supermartingales checked at every look.

Each test keeps an *e-process*: a non-negative number that starts at 1 and is
multiplied each minute by a likelihood ratio whose expectation, given the past,
is at most 1 when the candidate is healthy. Ville's inequality (J. Ville,
*Étude critique de la notion de collectif*, 1939; stated as Lemma 1 of Howard,
Ramdas, McAuliffe and Sekhon, "Time-uniform, nonparametric, nonasymptotic
confidence sequences", *Annals of Statistics* 49(2), 2021) bounds the chance
that such a process *ever* reaches ``1/alpha`` by ``alpha``: the driver may
look every minute, extend a bake or stop at any time, and a healthy candidate
is still failed by the test with probability at most ``alpha``. A count test's
e-process averages its alternatives' products (``ODDS_GRID``: today one, the
likelihood ratio of a sequential probability ratio test; Robbins' method of
mixtures for more: H. Robbins, "Statistical methods related to the law of the
iterated logarithm", *Annals of Mathematical Statistics* 41(5), 1970; a mixture
of test supermartingales is one). That is the mixture sequential probability
ratio test (mSPRT) of Johari, Pekelis and Walsh, "Always valid inference:
continuous monitoring of A/B tests", *Operations Research* 70(3), 2022, section
4, with a discrete mixing distribution and an exact likelihood in place of their
normal approximation.

- ``concurrent_log_factors``: the candidate's 5xx (or error) proportion against
  the control's in the same minute. Given the minute's request counts and its
  total errors, the candidate's errors follow Fisher's noncentral
  hypergeometric law with the odds ratio of the two colours (A. Agresti,
  *Categorical Data Analysis*, 3rd ed., 2013, section 16.6.4 "conditional
  inference" / section 3.5 Fisher's exact test); its log-likelihood is linear in
  the log odds ratio, an exponential family, so the ratio of an alternative
  above the null's bound to the bound has expectation at most 1 whenever the
  true odds ratio is at most the bound (monotone likelihood ratio: Lehmann and
  Romano, *Testing Statistical Hypotheses*, 3rd ed., 2005, section 3.4). The
  distribution is scipy's ``nchypergeom_fisher``.
- ``baseline_log_factors``: a minute with no control traffic (a blue-green
  switch, or the 100% step without a control share) is judged against live's
  baseline: the binomial likelihood ratio of the candidate's errors against
  ``margin`` times a Clopper-Pearson upper bound of live's baseline rate
  (C. J. Clopper and E. S. Pearson, *Biometrika* 26(4), 1934), which fails
  with probability at most its own alpha; both are spent from the test's
  alpha.
- ``sign_log_evalue``: per-minute latency percentiles, one a colour a minute,
  compared as a sign: does the candidate's minute exceed ``margin`` times the
  control's? Healthy, at most half do. The e-process mixes the binomial
  likelihood ratio over a uniform prior on [1/2, 1]: a one-sided conjugate
  (beta-binomial) mixture, Howard et al. 2021, section 3.2 and Proposition 6.
  A minute carries at most one bit, so ``log2(1/alpha)`` minutes or more are
  needed before it can fail at all (``sign_log_evalue(n, n)``).

The functions take numpy arrays (one entry per release, or one release), so
the benchmark runs exactly the driver's arithmetic over many releases at once.
numpy and scipy are imported when a test runs, never by ``plan`` or ``check``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike

ODDS_GRID = (1.6,)
"""The alternatives mixed, as multiples of the null's odds-ratio bound: one, 1.6. An e-value is designed for the
smallest effect it must catch (GROW at a minimal effect: Grünwald, de Heide and Koolen, "Safe testing", *JRSS-B*
86(5), 2024, section 3; for 2x2 tables, Turner, Ly and Grünwald, "Generic E-variables for exact sequential k-sample
tests that allow for optional stopping", *Journal of Statistical Planning and Inference* 230, 2024, which also tests
"larger than a minimal effect size"): a candidate at twice live's rate is 1.9 times
a 1.05 bound. Of the alternatives the benchmark tried (single 1.3-1.75; mixtures of 1.5, 2 and 3), 1.6 crossed
1/alpha by the end of the second step most often (94.8% at a 1.1 bound, the mixture of 1.5, 2 and 3: 91.4%):
the mixture pays log 3 for its three points, and below the true effect the product grows more steadily. A larger
effect still crosses, only later than on its own alternative; any choice keeps the guarantee. The price: one error
is worth log 1.6 where the mixture's 3x point gave log 3, so rare errors far above the bound (a doubled 0.1% rate)
cross later (docs/releasing.md, "What the benchmark says")."""
BASELINE_SHARE = 0.1
"""The share of a count test's alpha spent on the Clopper-Pearson bound of live's baseline rate."""


def _arrays(*values: ArrayLike) -> list[np.ndarray]:
    import numpy as np

    return [np.asarray(v, dtype=float) for v in values]


def concurrent_log_factors(n_c: ArrayLike, e_c: ArrayLike, n_l: ArrayLike, e_l: ArrayLike, margin: float) -> np.ndarray:
    """Log of each alternative's likelihood ratio for one minute of both colours (last axis: ``ODDS_GRID``).

    The null: the candidate's odds of an error are at most ``margin`` times the
    control's. A minute with no request on either side, or no error at all,
    carries no information (factor 1).
    """
    import numpy as np
    from scipy.stats import nchypergeom_fisher

    nc, ec, nl, el = (np.rint(a) for a in _arrays(n_c, e_c, n_l, e_l))
    k = ec + el
    out = np.zeros((*nc.shape, len(ODDS_GRID)))
    live = (nc > 0) & (nl > 0) & (k > 0)
    if not live.any():
        return out
    x, total, drawn, good = ec[live], (nc + nl)[live], k[live], nc[live]
    null = nchypergeom_fisher.logpmf(x, total, good, drawn, margin)
    for j, ratio in enumerate(ODDS_GRID):
        out[live, j] = nchypergeom_fisher.logpmf(x, total, good, drawn, margin * ratio) - null
    return out


def rate_upper_bound(requests: ArrayLike, errors: ArrayLike, alpha: float) -> np.ndarray:
    """The one-sided Clopper-Pearson upper confidence bound of an error rate at level ``1 - alpha`` (1 with no request)."""
    import numpy as np
    from scipy.stats import beta

    n, e = (np.rint(a) for a in _arrays(requests, errors))
    e = np.minimum(e, n)
    bound = np.ones_like(n)
    some = (n > 0) & (e < n)
    bound[some] = beta.ppf(1.0 - alpha, e[some] + 1, n[some] - e[some])
    return bound


def baseline_log_factors(n_c: ArrayLike, e_c: ArrayLike, rate_bound: ArrayLike, margin: float,
                         odds: tuple[float, ...] = ODDS_GRID) -> np.ndarray:
    """Log of each alternative's binomial likelihood ratio for the candidate's minute against a baseline rate bound.

    The null: each request fails with probability at most ``p0``, the rate whose
    odds are ``margin`` times the bound's; alternative j has ``odds[j]`` (default ``ODDS_GRID``)
    times those odds. A bound of 1 (no baseline) carries no information.

    The binomial coefficient is common to both likelihoods, so the log ratio is
    ``e log(p1/p0) + (n - e) log((1 - p1)/(1 - p0))``; with ``p = odds/(1 + odds)``
    that is ``e log(ratio) - n log((1 + ratio odds0)/(1 + odds0))``, exact for any
    ``e`` in 0..n (the tests hold it to the difference of scipy's ``binom.logpmf``).
    """
    import numpy as np

    nc, ec, bound = _arrays(n_c, e_c, rate_bound)
    nc, ec = np.rint(nc), np.rint(ec)
    nc, ec, bound = np.broadcast_arrays(nc, ec, bound)
    out = np.zeros((*nc.shape, len(odds)))
    live = (nc > 0) & (bound < 1.0)
    if not live.any():
        return out
    odds0 = margin * bound[live] / (1.0 - bound[live])
    for j, ratio in enumerate(odds):
        out[live, j] = ec[live] * math.log(ratio) - nc[live] * np.log1p((ratio - 1.0) * odds0 / (1.0 + odds0))
    return out


def mixture_log_evalue(log_products: ArrayLike) -> np.ndarray:
    """Log of the equal-weight mixture of the alternatives' running products (last axis: the alternatives).

    One alternative is its own mixture (its product, unchanged: no call into scipy, which costs the driver's every
    minute of every test more than the minute's arithmetic).
    """
    import numpy as np

    values = np.asarray(log_products, dtype=float)
    if values.shape[-1] == 1:
        return values[..., 0].copy()
    from scipy.special import logsumexp

    return np.asarray(logsumexp(values, axis=-1) - math.log(values.shape[-1]))


def sign_log_evalue(exceeded: ArrayLike, minutes: ArrayLike) -> np.ndarray:
    """Log of the sign test's e-value after ``minutes`` compared minutes of which ``exceeded`` were worse.

    E = integral over p in [1/2, 1] of the binomial likelihood ratio p^s (1-p)^(n-s) / (1/2)^n, under a
    uniform prior on [1/2, 1]: 2^(n+1) B(s+1, n-s+1) P(Beta(s+1, n-s+1) > 1/2).
    """
    import numpy as np
    from scipy.special import betainc, betaln

    s, n = _arrays(exceeded, minutes)
    # P(Beta(a, b) > 1/2) = I_{1/2}(b, a) by the symmetry of the regularised incomplete beta function.
    upper = betainc(n - s + 1, s + 1, 0.5)
    return np.asarray((n + 1) * math.log(2.0) + betaln(s + 1, n - s + 1) + np.log(upper))


def sign_minutes_needed(alpha: float, limit: int = 1440) -> int:
    """The fewest compared minutes whose e-value can reach ``1/alpha`` (every minute worse), up to ``limit``."""
    for n in range(limit + 1):
        if float(sign_log_evalue(n, n)) >= math.log(1.0 / alpha):
            return n
    return limit + 1


def median_bound_alpha(minutes: int) -> float:
    """The chance that the largest of ``minutes`` independent draws is below their median: 2^-minutes."""
    return 0.5 ** minutes


def as_float(value: Any) -> float:
    """A numpy scalar or one-element array as a float."""
    return float(value)
