"""The e-processes' building blocks: each factor's expectation under the null, the mixtures, and Ville's bound."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from release.judgement.significance import (
    ODDS_GRID,
    baseline_log_factors,
    concurrent_log_factors,
    mixture_log_evalue,
    rate_upper_bound,
    sign_log_evalue,
    sign_minutes_needed,
)


@pytest.mark.parametrize(("n_c", "n_l", "k"), [(300, 900, 12), (60, 1140, 25), (1200, 60, 30), (5, 7, 3)])
def test_each_alternatives_ratio_averages_one_at_the_null_and_less_below_it(n_c: int, n_l: int, k: int) -> None:
    margin = 1.1
    xs = np.arange(max(0, k - n_l), min(k, n_c) + 1)
    factors = np.exp(concurrent_log_factors(np.full(xs.shape, n_c), xs, np.full(xs.shape, n_l), k - xs, margin))
    at_null = stats.nchypergeom_fisher.pmf(xs, n_c + n_l, n_c, k, margin)
    below = stats.nchypergeom_fisher.pmf(xs, n_c + n_l, n_c, k, 0.8)
    assert np.allclose(at_null @ factors, 1.0, atol=1e-9)
    assert np.all(below @ factors < 1.0)


def test_a_minute_without_errors_or_without_a_side_carries_nothing() -> None:
    assert not concurrent_log_factors(100, 0, 100, 0, 1.1).any()
    assert not concurrent_log_factors(0, 0, 100, 3, 1.1).any()
    assert not baseline_log_factors(100, 3, 1.0, 1.1).any()


def test_the_baseline_ratio_averages_one_at_the_bound() -> None:
    n, bound, margin = 400, 0.012, 1.1
    odds0 = margin * bound / (1 - bound)
    p0 = odds0 / (1 + odds0)
    es = np.arange(n + 1)
    logs = baseline_log_factors(np.full(es.shape, n), es, np.full(es.shape, bound), margin)
    expectation = np.exp(special.logsumexp(stats.binom.logpmf(es, n, p0)[:, None] + logs, axis=0))
    assert np.allclose(expectation, 1.0, atol=1e-9)


@pytest.mark.parametrize("odds", [(1.6,), (1.4,), (1.5, 2.0, 3.0)])
def test_the_baseline_ratio_is_the_difference_of_scipys_binomial_log_likelihoods(odds: tuple[float, ...]) -> None:
    n = np.array([1, 7, 400, 400, 400, 12_000, 3])
    e = np.array([0, 7, 0, 5, 400, 123, 1])
    bound, margin = np.array([0.2, 0.5, 0.012, 0.012, 0.012, 0.0004, 0.99]), 1.1
    odds0 = margin * bound / (1 - bound)
    p0 = odds0 / (1 + odds0)
    expected = np.stack([stats.binom.logpmf(e, n, r * odds0 / (1 + r * odds0)) - stats.binom.logpmf(e, n, p0) for r in odds], axis=-1)
    assert np.allclose(baseline_log_factors(n, e, bound, margin, odds), expected, rtol=1e-10, atol=1e-9)


def test_a_mixture_of_several_alternatives_is_scipys_log_mean_exp() -> None:
    products = np.array([[0.0, 3.0, -2.0], [50.0, 49.0, -700.0], [-1e3, -1e3, -1e3]])
    assert np.allclose(mixture_log_evalue(products), special.logsumexp(products, axis=-1) - math.log(3))
    single = np.array([[4.0], [-2.5]])
    assert np.array_equal(mixture_log_evalue(single), np.array([4.0, -2.5]))


def test_the_clopper_pearson_bound_is_scipys() -> None:
    ci = stats.binomtest(120, 12_000).proportion_ci(confidence_level=1 - 2 * 0.001, method="exact")
    assert float(rate_upper_bound(12_000, 120, 0.001)) == pytest.approx(ci.high, rel=1e-9)
    assert float(rate_upper_bound(0, 0, 0.001)) == 1.0


@pytest.mark.parametrize(("s", "n"), [(0, 0), (3, 5), (12, 12), (7, 20)])
def test_the_sign_e_value_is_the_uniform_mixture_on_the_upper_half(s: int, n: int) -> None:
    integral, _ = integrate.quad(lambda p: 2 * p**s * (1 - p) ** (n - s) / 0.5**n, 0.5, 1.0)
    assert math.exp(float(sign_log_evalue(s, n))) == pytest.approx(integral, rel=1e-7)


def test_the_sign_test_cannot_fail_before_its_minutes() -> None:
    needed = sign_minutes_needed(0.0018)
    assert float(sign_log_evalue(needed - 1, needed - 1)) < math.log(1 / 0.0018) <= float(sign_log_evalue(needed, needed))


def test_a_mixture_of_equal_products_is_that_product() -> None:
    assert float(mixture_log_evalue(np.full(len(ODDS_GRID), 2.5))) == pytest.approx(2.5)


def test_a_healthy_stream_crosses_one_over_alpha_at_most_alpha_of_the_time_over_every_look() -> None:
    # Ville's inequality, seen: 4,000 releases of 40 minutes, candidate and control at the same 2% rate, alpha 0.05.
    rng = np.random.default_rng(11)
    releases, alpha = 4_000, 0.05
    sums, best = np.zeros((releases, len(ODDS_GRID))), np.zeros(releases)
    for _ in range(40):
        n_c = rng.binomial(600, 0.3, releases)
        n_l = 600 - n_c
        sums += concurrent_log_factors(n_c, rng.binomial(n_c, 0.02), n_l, rng.binomial(n_l, 0.02), 1.0)
        best = np.maximum(best, mixture_log_evalue(sums))
    assert 0 < np.mean(best >= math.log(1 / alpha)) <= alpha
