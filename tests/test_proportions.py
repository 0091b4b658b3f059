"""Binary outcomes: McNemar, Fisher and chi-square p-values and the attainable-p tables."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.contingency_tables import Table2x2, mcnemar

from helpers.proportions import (
    BINARY_TEST_METHODS,
    INDEPENDENT_BINARY_TESTS,
    PAIRED_BINARY_TESTS,
    attainable_paired_binary,
    independent_binary_p,
    independent_binary_table,
    paired_binary_p,
)

from conftest import cases, examples

COLUMNS = ["p", "configuration", "zeros", "tied"]
# Every (b, c) with up to 12 discordant pairs; every pair of groups of up to 7 patients.
DISCORDANT = [(b, c) for b in range(13) for c in range(13) if b + c > 0]
GROUPS = [
    (x1, n1, x2, n2)
    for n1, n2 in itertools.product(range(1, 8), repeat=2)
    for x1 in range(n1 + 1)
    for x2 in range(n2 + 1)
]


def _chi2_1df_sf(x: float) -> float:
    """Upper tail of chi-square with 1 df without scipy: P(|Z| > sqrt(x)) = erfc(sqrt(x / 2))."""
    return math.erfc(math.sqrt(x / 2))


def _margins_zero(x1: int, n1: int, x2: int, n2: int) -> bool:
    return x1 + x2 in (0, n1 + n2)


def _parse(configuration: str) -> tuple[int, int, int, int]:
    """(a, b, c, d) from '2 patients yes→no, 5 no→yes, 3 stayed yes, 0 stayed no'."""
    parts = [int(part.split()[0]) for part in configuration.split(", ")]
    b, c, a, d = parts
    return a, b, c, d


# --- reference values computed by hand ------------------------------------------------------


@pytest.mark.parametrize(
    ("b", "c", "test", "expected"),
    [
        # exact: 0 of 6 discordant pairs went yes→no; 2 * 0.5**6 = 2/64
        (0, 6, "mcnemar_exact", 0.03125),
        # exact: min(1, 5) = 1 of 6; 2 * (C(6,0) + C(6,1)) / 2**6 = 2 * 7 / 64
        (1, 5, "mcnemar_exact", 0.21875),
        # exact: b = c, two-sided p capped at 1
        (3, 3, "mcnemar_exact", 1.0),
        # asymptotic: chi2 = (0 - 6)**2 / 6 = 6; P(chi2_1 > 6) = erfc(sqrt(3)) = 0.014306
        (0, 6, "mcnemar_asymptotic", _chi2_1df_sf(6.0)),
        # corrected: chi2 = (|0 - 6| - 1)**2 / 6 = 25/6; erfc(sqrt(25/12)) = 0.041227
        (0, 6, "mcnemar_asymptotic_cc", _chi2_1df_sf(25 / 6)),
        # corrected: chi2 = (|2 - 9| - 1)**2 / 11 = 36/11; erfc(sqrt(18/11)) = 0.070440
        (2, 9, "mcnemar_asymptotic_cc", _chi2_1df_sf(36 / 11)),
        # corrected, b = c = 1: chi2 = (0 - 1)**2 / 2 = 1/2 (uncapped, as R and statsmodels);
        # erfc(sqrt(1/4)) = erfc(0.5) = 0.479500
        (1, 1, "mcnemar_asymptotic_cc", math.erfc(0.5)),
    ],
)
def test_mcnemar_reference_values(b, c, test, expected):
    assert paired_binary_p(b, c, test) == pytest.approx(expected, rel=1e-9)


def test_mcnemar_reference_values_to_printed_decimals():
    assert round(paired_binary_p(0, 6, "mcnemar_asymptotic"), 5) == 0.01431
    assert round(paired_binary_p(0, 6, "mcnemar_asymptotic_cc"), 5) == 0.04123


@pytest.mark.parametrize(
    ("table", "test", "expected"),
    [
        # 1 of 6 vs 5 of 6: hypergeometric N = 12, 6 events, 6 in group 1; C(12,6) = 924 and
        # P(k) * 924 = 1, 36, 225, 400, 225, 36, 1 for k = 0..6. Observed k = 1 (36);
        # tables no more probable: k = 0, 1, 5, 6 -> (1 + 36 + 36 + 1) / 924 = 74/924
        ((1, 6, 5, 6), "fisher_exact", 74 / 924),
        # 0 of 6 vs 6 of 6: only k = 0 and k = 6 are as improbable -> 2/924
        ((0, 6, 6, 6), "fisher_exact", 2 / 924),
        # 1 of 6 vs 5 of 6: ad - bc = 1*1 - 5*5 = -24, N = 12, margins 6, 6, 6, 6;
        # chi2 = 12 * 24**2 / 6**4 = 6912/1296 = 16/3; p = erfc(sqrt(8/3)) = 0.020921
        ((1, 6, 5, 6), "chi_square", _chi2_1df_sf(16 / 3)),
        # Yates: chi2 = 12 * (24 - 12/2)**2 / 6**4 = 12 * 324 / 1296 = 3; p = erfc(sqrt(1.5))
        ((1, 6, 5, 6), "chi_square_yates", _chi2_1df_sf(3.0)),
        # 3 of 6 vs 3 of 6: ad - bc = 0, so chi2 = 0 and p = 1 with or without correction
        ((3, 6, 3, 6), "chi_square", 1.0),
        ((3, 6, 3, 6), "chi_square_yates", 1.0),
        ((3, 6, 3, 6), "fisher_exact", 1.0),
    ],
)
def test_independent_reference_values(table, test, expected):
    assert independent_binary_p(*table, test) == pytest.approx(expected, rel=1e-9)


def test_independent_reference_values_to_printed_decimals():
    assert round(independent_binary_p(1, 6, 5, 6, "fisher_exact"), 5) == 0.08009
    assert round(independent_binary_p(1, 6, 5, 6, "chi_square"), 5) == 0.02092
    assert round(independent_binary_p(1, 6, 5, 6, "chi_square_yates"), 5) == 0.08326


# --- cross-checks against second implementations --------------------------------------------


@pytest.mark.parametrize(("b", "c"), cases(DISCORDANT))
def test_mcnemar_matches_statsmodels(b, c):
    table = [[4, b], [c, 2]]  # concordant cells do not enter the test
    exact = mcnemar(table, exact=True).pvalue
    plain = mcnemar(table, exact=False, correction=False).pvalue
    corrected = mcnemar(table, exact=False, correction=True).pvalue
    assert paired_binary_p(b, c, "mcnemar_exact") == pytest.approx(exact, rel=1e-12)
    assert paired_binary_p(b, c, "mcnemar_asymptotic") == pytest.approx(plain, rel=1e-12)
    assert paired_binary_p(b, c, "mcnemar_asymptotic_cc") == pytest.approx(corrected, rel=1e-12)


@pytest.mark.parametrize(("b", "c"), cases(DISCORDANT))
def test_mcnemar_matches_hand_formulas(b, c):
    m, k = b + c, min(b, c)
    # exact: two-sided binomial at 0.5 is twice the lower tail of min(b, c), capped at 1
    exact = min(1.0, 2 * sum(math.comb(m, j) for j in range(k + 1)) / 2**m)
    assert paired_binary_p(b, c, "mcnemar_exact") == pytest.approx(exact, rel=1e-12)
    assert stats.binomtest(k, m, 0.5).pvalue == pytest.approx(exact, rel=1e-12)
    plain = _chi2_1df_sf((b - c) ** 2 / m)
    # Edwards' correction, uncapped as in statsmodels and R: b == c gives chi2 = 1 / m
    corrected = _chi2_1df_sf((abs(b - c) - 1) ** 2 / m)
    assert paired_binary_p(b, c, "mcnemar_asymptotic") == pytest.approx(plain, rel=1e-9)
    assert paired_binary_p(b, c, "mcnemar_asymptotic_cc") == pytest.approx(corrected, rel=1e-9)
    assert stats.chi2.sf((b - c) ** 2 / m, 1) == pytest.approx(plain, rel=1e-9)


def _fisher_by_hand(x1: int, n1: int, x2: int, n2: int) -> float:
    """Sum of hypergeometric probabilities ≤ the observed one (R's relative tolerance 1e-7)."""
    events, total = x1 + x2, n1 + n2

    def prob(k: int) -> float:
        return math.comb(n1, k) * math.comb(n2, events - k) / math.comb(total, events)

    support = range(max(0, events - n2), min(n1, events) + 1)
    observed = prob(x1)
    return min(1.0, sum(prob(k) for k in support if prob(k) <= observed * (1 + 1e-7)))


def _chi_square_by_hand(x1: int, n1: int, x2: int, n2: int, yates: bool) -> float:
    """N (|ad - bc| - N/2)² / (r1 r2 c1 c2); the correction capped at |ad - bc| as in R/scipy.

    Each |O - E| of a 2×2 table equals |ad - bc| / N, and R and scipy reduce it by
    min(0.5, |O - E|), i.e. |ad - bc| by min(N/2, |ad - bc|).
    """
    a, b, c, d = x1, n1 - x1, x2, n2 - x2
    total = n1 + n2
    diff = abs(a * d - b * c)
    if yates:
        diff -= min(total / 2, diff)
    chi2 = total * diff**2 / (n1 * n2 * (a + c) * (b + d))
    return _chi2_1df_sf(chi2)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), cases(GROUPS))
def test_independent_tests_match_second_implementations(x1, n1, x2, n2):
    fisher = independent_binary_p(x1, n1, x2, n2, "fisher_exact")
    pearson = independent_binary_p(x1, n1, x2, n2, "chi_square")
    yates = independent_binary_p(x1, n1, x2, n2, "chi_square_yates")
    if _margins_zero(x1, n1, x2, n2):
        assert (fisher, pearson, yates) == (1.0, 1.0, 1.0)
        return
    assert fisher == pytest.approx(_fisher_by_hand(x1, n1, x2, n2), rel=1e-9)
    assert pearson == pytest.approx(_chi_square_by_hand(x1, n1, x2, n2, False), rel=1e-9)
    assert yates == pytest.approx(_chi_square_by_hand(x1, n1, x2, n2, True), rel=1e-9)
    table = Table2x2(np.array([[x1, n1 - x1], [x2, n2 - x2]]), shift_zeros=False)
    assert pearson == pytest.approx(table.test_nominal_association().pvalue, rel=1e-9)


# --- the key property: 6 paired binary outcomes cannot give P < 0.001 ------------------------


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        ("mcnemar_exact", 0.03125),  # 2 * 0.5**6
        ("mcnemar_asymptotic", _chi2_1df_sf(6.0)),  # chi2 = 36/6 = 6; p = 0.014306
        ("mcnemar_asymptotic_cc", _chi2_1df_sf(25 / 6)),  # chi2 = 25/6; p = 0.041227
    ],
)
def test_all_six_patients_changing_is_the_only_configuration(test, expected):
    table = attainable_paired_binary(0, 6, 6, test)
    assert len(table) == 1
    assert (
        table["configuration"].iloc[0] == "0 patients yes→no, 6 no→yes, 0 stayed yes, 0 stayed no"
    )
    assert table["p"].iloc[0] == pytest.approx(expected, rel=1e-9)
    assert table["p"].iloc[0] > 0.001


@pytest.mark.parametrize("test", PAIRED_BINARY_TESTS)
def test_no_configuration_of_six_pairs_reaches_p_below_0001(test):
    ps = [
        p
        for x_before, x_after in itertools.product(range(7), repeat=2)
        for p in attainable_paired_binary(x_before, x_after, 6, test)["p"]
    ]
    assert min(ps) > 0.001
    # the smallest attainable p is the all-six-change configuration's
    assert min(ps) == pytest.approx(attainable_paired_binary(0, 6, 6, test)["p"].iloc[0])


def test_smallest_exact_p_for_six_pairs_is_0_03125():
    ps = [
        paired_binary_p(b, c, "mcnemar_exact") for b in range(7) for c in range(7 - b) if b + c > 0
    ]
    assert min(ps) == 0.03125  # 2 * 0.5**6, exactly representable


# --- attainable tables ------------------------------------------------------------------------


@pytest.mark.parametrize("test", PAIRED_BINARY_TESTS)
@pytest.mark.parametrize("n", [1, 2, 5, 6])
def test_attainable_paired_lists_every_feasible_table_once(n, test):
    for x_before, x_after in itertools.product(range(n + 1), repeat=2):
        table = attainable_paired_binary(x_before, x_after, n, test)
        assert list(table.columns) == COLUMNS
        assert table["p"].is_monotonic_increasing
        cells = [_parse(cfg) for cfg in table["configuration"]]
        brute = {
            (a, b, c, n - a - b - c)
            for a, b, c in itertools.product(range(n + 1), repeat=3)
            if a + b + c <= n and a + b == x_before and a + c == x_after
        }
        assert len(cells) == len(set(cells))
        assert set(cells) == brute
        for (_, b, c, _), p, zeros, tied in zip(
            cells, table["p"], table["zeros"], table["tied"], strict=True
        ):
            assert p == paired_binary_p(b, c, test)
            assert (zeros, tied) == (0, b + c)


def test_attainable_paired_simplest_has_fewest_discordant_pairs():
    # 3 -> 3 of 6: b = c in every table, so all give p = 1; the consumer sorts by zeros then
    # tied and must pick "nobody changed" over "3 went each way".
    table = attainable_paired_binary(3, 3, 6, "mcnemar_exact")
    assert list(table["p"]) == [1.0] * 4
    simplest = table.sort_values(["zeros", "tied"], kind="stable").iloc[0]
    assert simplest["configuration"] == "0 patients yes→no, 0 no→yes, 3 stayed yes, 3 stayed no"
    # equal p-values keep fewer discordant pairs first in the p-sorted table too
    assert list(table["tied"]) == [0, 2, 4, 6]


def test_attainable_paired_singular_wording():
    table = attainable_paired_binary(2, 3, 6, "mcnemar_exact")
    assert "1 patient yes→no, 2 no→yes, 1 stayed yes, 2 stayed no" in set(table["configuration"])


@pytest.mark.parametrize("test", INDEPENDENT_BINARY_TESTS)
def test_independent_table_is_one_row(test):
    table = independent_binary_table(1, 6, 5, 6, test)
    assert list(table.columns) == COLUMNS
    assert len(table) == 1
    row = table.iloc[0]
    assert row["configuration"] == "1 of 6 vs 5 of 6"
    assert (row["zeros"], row["tied"]) == (0, 0)
    assert row["p"] == independent_binary_p(1, 6, 5, 6, test)


# --- degenerate cases and symmetries -----------------------------------------------------------


@pytest.mark.parametrize("test", PAIRED_BINARY_TESTS)
def test_no_discordant_pairs_gives_p_one(test):
    assert paired_binary_p(0, 0, test) == 1.0


@pytest.mark.parametrize("test", INDEPENDENT_BINARY_TESTS)
@pytest.mark.parametrize("counts", [(0, 6, 0, 7), (6, 6, 7, 7), (0, 1, 0, 1), (1, 1, 1, 1)])
def test_zero_margin_gives_p_one(counts, test):
    assert independent_binary_p(*counts, test) == 1.0


@pytest.mark.slow
@settings(derandomize=True, max_examples=examples(200), deadline=None)
@given(st.integers(0, 60), st.integers(0, 60))
def test_mcnemar_symmetric_and_ordered(b, c):
    exact, plain, corrected = (paired_binary_p(b, c, t) for t in PAIRED_BINARY_TESTS)
    assert (exact, plain, corrected) == tuple(paired_binary_p(c, b, t) for t in PAIRED_BINARY_TESTS)
    assert all(0.0 < p <= 1.0 for p in (exact, plain, corrected))
    if b != c:  # the continuity correction shrinks chi2 unless b == c (uncapped, see module)
        assert corrected >= plain


@pytest.mark.slow
@settings(derandomize=True, max_examples=examples(200), deadline=None)
@given(st.data())
def test_independent_symmetric(data):
    n1, n2 = data.draw(st.integers(1, 40)), data.draw(st.integers(1, 40))
    x1, x2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    for test in INDEPENDENT_BINARY_TESTS:
        p = independent_binary_p(x1, n1, x2, n2, test)
        assert 0.0 < p <= 1.0
        # swapping the groups, or events with non-events, changes nothing
        assert independent_binary_p(x2, n2, x1, n1, test) == pytest.approx(p, rel=1e-9)
        assert independent_binary_p(n1 - x1, n1, n2 - x2, n2, test) == pytest.approx(p, rel=1e-9)
    assert independent_binary_p(x1, n1, x2, n2, "chi_square_yates") >= independent_binary_p(
        x1, n1, x2, n2, "chi_square"
    )


# --- constants and input validation ------------------------------------------------------------


def test_every_test_has_a_method_description():
    assert set(BINARY_TEST_METHODS) == set(PAIRED_BINARY_TESTS) | set(INDEPENDENT_BINARY_TESTS)
    assert "Edwards" in BINARY_TEST_METHODS["mcnemar_asymptotic_cc"]
    assert "Yates" in BINARY_TEST_METHODS["chi_square_yates"]


def test_numpy_integers_are_accepted():
    assert paired_binary_p(np.int64(0), np.int64(6), "mcnemar_exact") == 0.03125
    assert (
        len(attainable_paired_binary(np.int32(1), np.int32(3), np.int64(6), "mcnemar_exact")) == 2
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: paired_binary_p(0, 6, "mcnemar"), "unknown test 'mcnemar'"),
        (lambda: paired_binary_p(-1, 6, "mcnemar_exact"), r"b = -1 must be ≥ 0"),
        (lambda: paired_binary_p(0, 6.0, "mcnemar_exact"), r"c = 6\.0 must be an integer"),
        (lambda: paired_binary_p(True, 6, "mcnemar_exact"), r"b = True must be an integer"),
        (lambda: independent_binary_p(1, 6, 5, 6, "fisher"), "unknown test 'fisher'"),
        (lambda: independent_binary_p(7, 6, 5, 6, "fisher_exact"), r"x1 = 7 .*≤ n1 = 6"),
        (lambda: independent_binary_p(1, 6, -1, 6, "chi_square"), r"x2 = -1 must be ≥ 0"),
        (lambda: independent_binary_p(0, 0, 1, 6, "chi_square"), r"n1 = 0 must be ≥ 1"),
        (lambda: independent_binary_p(1, 6, 1, "6", "chi_square"), r"n2 = '6' must be an integer"),
        (lambda: independent_binary_table(1, 6, 9, 6, "chi_square"), r"x2 = 9 .*≤ n2 = 6"),
        (lambda: attainable_paired_binary(0, 7, 6, "mcnemar_exact"), r"x_after = 7 .*≤ n = 6"),
        (lambda: attainable_paired_binary(2.5, 3, 6, "mcnemar_exact"), r"x_before = 2\.5"),
        (lambda: attainable_paired_binary(0, 0, 0, "mcnemar_exact"), r"n = 0 must be ≥ 1"),
        (lambda: attainable_paired_binary(0, 1, 6, "chi_square"), "unknown test 'chi_square'"),
    ],
)
def test_bad_inputs_raise_value_error_naming_value_and_rule(call, match):
    with pytest.raises(ValueError, match=match):
        call()
