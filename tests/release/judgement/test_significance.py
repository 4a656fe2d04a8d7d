"""The two tests of the analysis against figures computed another way: enumeration and textbook values."""

from __future__ import annotations

import itertools
import math

import pytest

from release.judgement.significance import _u_distribution, fisher_greater, mann_whitney_greater


def _hypergeometric_upper(e_c: int, n_c: int, e_l: int, n_l: int) -> float:
    k = e_c + e_l
    return sum(math.comb(n_c, x) * math.comb(n_l, k - x) for x in range(e_c, min(k, n_c) + 1)) / math.comb(n_c + n_l, k)


@pytest.mark.parametrize(("m", "n"), [(1, 1), (2, 3), (3, 4), (4, 4), (5, 2)])
def test_the_u_distribution_counts_every_arrangement(m: int, n: int) -> None:
    counts = [0] * (m * n + 1)
    for positions in itertools.combinations(range(m + n), m):
        counts[sum(p + 1 for p in positions) - m * (m + 1) // 2] += 1
    assert list(_u_distribution(m, n)) == counts


@pytest.mark.parametrize("counts", [(3, 10, 1, 12), (12, 600, 54, 5400), (5, 5, 0, 5), (0, 40, 3, 40), (25, 1200, 54, 5400)])
def test_fisher_matches_the_hypergeometric_tail(counts: tuple[int, int, int, int]) -> None:
    assert fisher_greater(*counts).p_value == pytest.approx(_hypergeometric_upper(*counts), rel=1e-9)


def test_fisher_tea_tasting() -> None:
    # Fisher's lady tasting tea: all 4 cups right of 8 has p = 1/70.
    assert fisher_greater(4, 4, 0, 4).p_value == pytest.approx(1 / 70)


def test_a_margin_makes_the_same_counts_less_significant() -> None:
    plain = fisher_greater(25, 1200, 54, 5400).p_value
    assert fisher_greater(25, 1200, 54, 5400, margin=1.5).p_value > plain


def test_no_errors_anywhere_is_no_evidence() -> None:
    assert fisher_greater(0, 600, 0, 5400).p_value == 1.0


def test_mann_whitney_exact_when_every_candidate_sample_is_larger() -> None:
    outcome = mann_whitney_greater([5.0, 6.0, 7.0], [1.0, 2.0, 3.0, 4.0])
    assert outcome.statistic == 12
    assert outcome.p_value == pytest.approx(1 / math.comb(7, 3))
    assert "exact" in outcome.method


def test_mann_whitney_margin_scales_live() -> None:
    # Twice live's values: the candidate is no longer larger.
    assert mann_whitney_greater([5.0, 6.0, 7.0], [3.0, 3.5, 4.0, 4.5], margin=2.0).p_value > 0.5


def test_mann_whitney_with_ties_uses_the_normal_approximation() -> None:
    outcome = mann_whitney_greater([0.3, 0.3, 0.4, 0.5, 0.6], [0.1, 0.1, 0.2, 0.2, 0.3])
    assert "normal" in outcome.method
    assert 0 < outcome.p_value < 0.05
