"""Tests computed as SPSS and R compute them, cross-checked against other libraries and by hand."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pingouin as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.descriptivestats import sign_test as sm_sign_test

from helpers.stats import independent_test, mean_sd, paired_p, paired_test, paired_values

from conftest import examples

# Hollander & Wolfe (1973), as in R's ?wilcox.test: wilcox.test(x, y, paired = TRUE)
X = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]


def test_r_textbook_wilcoxon():
    row = paired_test(Y, X, "wilcoxon_r").iloc[0]
    assert row["statistic"] == 40  # R: V = 40
    assert row["p_val"] == pytest.approx(0.0390625)  # R: p-value = 0.03906 (exact)


def _z_by_hand(d: np.ndarray, cc: bool) -> float:
    """Normal approximation of the signed-rank test, written out (Lehmann 1975)."""
    d = d[d != 0]
    m = len(d)
    ranks = stats.rankdata(np.abs(d))
    w_plus = ranks[d > 0].sum()
    _, counts = np.unique(np.abs(d), return_counts=True)
    var = m * (m + 1) * (2 * m + 1) / 24 - (counts**3 - counts).sum() / 48
    dev = abs(w_plus - m * (m + 1) / 4) - (0.5 if cc else 0.0)
    return 2 * stats.norm.sf(max(dev, 0.0) / math.sqrt(var))


@settings(max_examples=examples(60), deadline=None)
@given(
    st.lists(st.integers(min_value=-4, max_value=4), min_size=5, max_size=12).filter(
        lambda d: sum(v != 0 for v in d) >= 2
    )
)
def test_asymptotic_wilcoxon_with_ties_and_zeros_matches_the_formula(d):
    diff = np.array(d, dtype=float)
    zero = np.zeros_like(diff)
    assert paired_p(zero, diff, "wilcoxon_asymptotic") == pytest.approx(_z_by_hand(diff, False))
    assert paired_p(zero, diff, "wilcoxon_asymptotic_cc") == pytest.approx(_z_by_hand(diff, True))


def test_paired_t_agrees_with_pingouin():
    rng = np.random.default_rng(7)
    x = rng.normal(50, 10, 7)
    y = x + rng.normal(-5, 6, 7)
    ours = paired_test(x, y, "paired_t").iloc[0]
    theirs = pg.ttest(y, x, paired=True).iloc[0]
    assert ours["p_val"] == pytest.approx(theirs["p_val"])
    assert ours["statistic"] == pytest.approx(theirs["T"])


def test_wilcoxon_exact_agrees_with_pingouin():
    ours = paired_test(Y, X, "wilcoxon_exact").iloc[0]["p_val"]
    assert ours == pytest.approx(pg.wilcoxon(X, Y, method="exact").iloc[0]["p_val"])


def test_exact_wilcoxon_refuses_ties_and_zeros():
    with pytest.raises(ValueError, match="only without zero differences and ties"):
        paired_p([0, 0, 0, 0], [1, 1, 2, 3], "wilcoxon_exact")
    with pytest.raises(ValueError, match="only without zero differences and ties"):
        paired_p([0, 0, 0, 0], [0, 1, 2, 3], "wilcoxon_exact")


def test_r_default_switches_to_continuity_corrected_with_ties():
    before, after = np.zeros(6), np.array([1.0, 1.0, 2.0, 3.0, -4.0, 5.0])
    assert paired_p(before, after, "wilcoxon_r") == paired_p(
        before, after, "wilcoxon_asymptotic_cc"
    )
    after = np.array([1.0, 2.0, 3.0, -4.0, 5.0, 6.0])
    assert paired_p(before, after, "wilcoxon_r") == paired_p(before, after, "wilcoxon_exact")


def test_sign_test_agrees_with_statsmodels():
    d = np.array([1.2, -0.4, 2.0, 0.0, 3.1, 0.7, -1.0, 2.2])
    assert paired_p(np.zeros(8), d, "sign_test") == pytest.approx(sm_sign_test(d, 0)[1])


@pytest.mark.parametrize(
    ("test", "kwargs"),
    [("student_t", {"correction": False}), ("welch_t", {"correction": True})],
)
def test_independent_t_agrees_with_pingouin(test, kwargs):
    a, b = [5.1, 6.3, 4.8, 7.0, 5.5], [6.9, 8.1, 7.7, 6.0, 9.2, 8.8]
    assert independent_test(a, b, test)["p_val"].item() == pytest.approx(
        pg.ttest(a, b, **kwargs)["p_val"].item()
    )


def test_mann_whitney_variants():
    a, b = [5.1, 6.3, 4.8, 7.0, 5.5], [6.9, 8.1, 7.7, 6.0, 9.2, 8.8]
    exact = independent_test(a, b, "mann_whitney_exact")["p_val"].item()
    assert exact == pytest.approx(pg.mwu(a, b, method="exact")["p_val"].item())
    plain = independent_test(a, b, "mann_whitney_asymptotic")["p_val"].item()
    cc = independent_test(a, b, "mann_whitney_asymptotic_cc")["p_val"].item()
    assert plain < cc
    with pytest.raises(ValueError, match="without ties"):
        independent_test([1, 2], [2, 3], "mann_whitney_exact")


def test_unknown_test_and_bad_input():
    with pytest.raises(ValueError, match="unknown test 'ttest'; allowed: paired_t"):
        paired_p([1, 2], [2, 3], "ttest")
    with pytest.raises(ValueError, match="missing values"):
        paired_p([1, float("nan")], [2, 3], "paired_t")
    with pytest.raises(ValueError, match="differ in length"):
        paired_p([1, 2, 3], [2, 3], "paired_t")


def test_paired_values_drops_incomplete_pairs():
    import pandas as pd

    long = pd.DataFrame(
        {"id": ["a", "a", "b", "c", "c"], "visit": [0, 1, 0, 0, 1], "v": [1.0, 2.0, 3.0, 4.0, 6.0]}
    )
    pairs = paired_values(long, dv="v", within="visit", subject="id", before=0, after=1)
    assert pairs.index.tolist() == ["a", "c"]
    assert pairs["after"].tolist() == [2.0, 6.0]


@pytest.mark.slow
def test_many_vectors_at_once_give_each_vector_s_own_p():
    """paired_p_many batches SciPy's signed-rank calls (its axis); each row's p must be the p
    paired_p gives that row alone, bit for bit (paired_p is checked against R, pingouin and
    the formula above): rows with zeros, ties, differing numbers of non-zero differences,
    all zeros, non-integer differences on a recording grid, and 60 pairs, where R's
    wilcox.test leaves the exact test (wilcoxon_r) and SciPy's exact test still applies."""
    from helpers.stats import PAIRED_TESTS, paired_p, paired_p_many

    rng = np.random.default_rng(7)
    short = np.vstack(
        [
            rng.integers(-3, 4, size=(60, 8)).astype(float),  # zeros and ties
            rng.normal(size=(20, 8)).round(1),  # ties on a 0.1 grid, now and then
            np.zeros((1, 8)),
            np.arange(1.0, 9.0)[None, :],
        ]
    )
    distinct = rng.permutation(np.arange(1.0, 61.0)) * rng.choice([-1.0, 1.0], size=60)
    long = np.vstack([distinct, -distinct, rng.integers(-5, 6, size=(5, 60)).astype(float)])
    for rows in (short, long):
        n = rows.shape[1]
        for test in PAIRED_TESTS:
            batch = rows
            if test == "wilcoxon_exact":  # defined only without zeros and ties
                batch = np.array(
                    [r for r in rows if (r != 0).all() and len(set(np.abs(r))) == len(r)]
                )
                assert len(batch) >= 2
            one_by_one = [paired_p(np.zeros(n), r, test) for r in batch]
            np.testing.assert_array_equal(paired_p_many(batch, test), one_by_one, err_msg=test)
    with pytest.raises(ValueError, match="missing values"):
        paired_p_many(np.array([[1.0, np.nan, 2.0]]), "wilcoxon_r")
    with pytest.raises(ValueError, match="two-dimensional"):
        paired_p_many(np.array([1.0, 2.0]), "wilcoxon_r")


# ---- mean and SD from exactly rounded sums ------------------------------------------------

EIGHT_DOSES = [63.4, 45.4, 50.5, 50.3, 33.3, 41.6, 70.2, 51.9]  # mean exactly 50.825


def test_mean_sd_is_the_same_in_every_row_order_of_a_tie():
    """Eight doses whose mean is exactly 50.825: pandas' running sum gave 50.825 or
    50.824999999999996 by row order (pandas 3.0.6), which print 50.83 and 50.82."""
    rng = np.random.default_rng(0)
    results = {mean_sd(rng.permutation(EIGHT_DOSES)) for _ in range(200)}
    assert len(results) == 1
    mean, sd = results.pop()
    assert mean == statistics.mean(EIGHT_DOSES)
    assert f"{mean:.2f} ± {sd:.2f}" == "50.83 ± 11.69"


@settings(max_examples=examples(200), deadline=None)
@given(
    tenths=st.lists(st.integers(-100_000, 100_000), min_size=1, max_size=60),
    offset=st.sampled_from([0.0, 1e9, -1e12]),
    seed=st.integers(0, 2**32 - 1),
)
def test_mean_sd_is_the_exact_mean_and_sd_in_any_order(tenths, offset, seed):
    x = [t / 10 + offset for t in tenths]
    mean, sd = mean_sd(x)
    again, sd_again = mean_sd(np.random.default_rng(seed).permutation(x))
    assert mean == again == statistics.mean(x)  # the exact mean, rounded once
    if len(x) > 1:
        assert sd == sd_again
        assert sd == pytest.approx(statistics.stdev(x), rel=4.5e-16, abs=1e-300)
    else:
        assert math.isnan(sd)
        assert math.isnan(sd_again)


@pytest.mark.parametrize("scale", [1e-300, 1e-5, 1.0, 1e150, 1e300])
def test_mean_sd_neither_overflows_nor_underflows(scale):
    x = np.array([1.0, 2.0, 4.0, -3.5]) * scale
    mean, sd = mean_sd(x)
    assert mean == statistics.mean(x.tolist())
    assert sd == pytest.approx(statistics.stdev(x.tolist()), rel=1e-15)


def test_mean_sd_refuses_missing_and_infinite_values():
    for bad in ([1.0, math.nan], [1.0, math.inf]):
        with pytest.raises(ValueError, match="finite"):
            mean_sd(bad)


def test_mean_sd_of_nothing_is_missing():
    assert all(math.isnan(v) for v in mean_sd([]))
