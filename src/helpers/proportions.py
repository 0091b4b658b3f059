"""Binary outcomes reported as counts "x of n": which tests can give a reported p-value.

The audit of means ± SD (:mod:`helpers.audit`) has a counterpart for binary
outcomes. Each p-value is computed through scipy, as the named method defines it.

Paired designs (one group, yes/no before and after)
----------------------------------------------------
Of ``n`` patients, ``a`` stayed yes, ``b`` went yes→no, ``c`` went no→yes and
``d`` stayed no. Only the discordant counts ``b`` and ``c`` enter McNemar's test.

``mcnemar_exact``
    Exact binomial test of ``min(b, c)`` successes in ``b + c`` trials at 0.5,
    two-sided (McNemar 1947; statsmodels ``mcnemar(exact=True)``).
``mcnemar_asymptotic``
    ``chi2 = (b - c)² / (b + c)``, 1 df (statsmodels ``mcnemar(exact=False,
    correction=False)``).
``mcnemar_asymptotic_cc``
    ``chi2 = (|b - c| - 1)² / (b + c)``, 1 df, Edwards' continuity correction
    (statsmodels ``mcnemar(exact=False, correction=True)``; R's ``mcnemar.test``).
    Like both, the correction is not capped: with ``b == c`` it gives
    ``chi2 = 1 / (b + c)`` and p < 1 (e.g. b = c = 1: p = 0.4795).

Independent groups (``x1`` of ``n1`` vs ``x2`` of ``n2``)
-----------------------------------------------------------
``fisher_exact``
    Fisher's exact test, two-sided: the sum of the hypergeometric probabilities
    of all tables with the same margins that are no more probable than the
    observed one (scipy ``fisher_exact``; R's ``fisher.test``).
``chi_square``
    Pearson's chi-square without continuity correction (scipy
    ``chi2_contingency(correction=False)``; SPSS "Pearson Chi-Square").
``chi_square_yates``
    Pearson's chi-square with Yates' continuity correction (scipy
    ``chi2_contingency(correction=True)``; R's ``chisq.test`` default for a 2×2
    table). As in scipy and R, the correction is capped: each ``|O - E|`` is
    reduced by at most 0.5, so it never overshoots zero.

Degenerate cases
----------------
A table with nothing to compare gives p = 1.0 under every test: no discordant
pairs (``b + c == 0``) in a paired design, or a zero column margin (no events in
either group, or events in every patient of both groups) for independent groups.
The chi-square statistic is 0/0 there; Fisher's test gives 1.0 by itself.
"""

from __future__ import annotations

import numbers

import pandas as pd
from scipy import stats

__all__ = [
    "BINARY_TEST_METHODS",
    "INDEPENDENT_BINARY_TESTS",
    "PAIRED_BINARY_TESTS",
    "attainable_paired_binary",
    "independent_binary_p",
    "independent_binary_table",
    "paired_binary_p",
]

PAIRED_BINARY_TESTS: tuple[str, ...] = (
    "mcnemar_exact",
    "mcnemar_asymptotic",
    "mcnemar_asymptotic_cc",
)
INDEPENDENT_BINARY_TESTS: tuple[str, ...] = ("fisher_exact", "chi_square", "chi_square_yates")

#: Plain-language name and published method of each test.
BINARY_TEST_METHODS: dict[str, str] = {
    "mcnemar_exact": "McNemar's test, exact (binomial) — McNemar 1947",
    "mcnemar_asymptotic": "McNemar's chi-square without continuity correction — McNemar 1947",
    "mcnemar_asymptotic_cc": "McNemar's chi-square with Edwards' continuity correction "
    "(Edwards 1948)",
    "fisher_exact": "Fisher's exact test, two-sided (sum of probabilities ≤ observed)",
    "chi_square": "Pearson's chi-square without correction",
    "chi_square_yates": "Pearson's chi-square with Yates' continuity correction",
}

_COLUMNS = ["p", "configuration", "zeros", "tied"]


def _check_test(test: str, allowed: tuple[str, ...]) -> None:
    if test not in allowed:
        raise ValueError(f"unknown test {test!r}; allowed: {', '.join(allowed)}")


def _check_count(value: object, name: str, upper: int | None = None, upper_name: str = "") -> int:
    """Return ``value`` as int if it is an integer in [0, upper]; raise ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} = {value!r} must be an integer count")
    value = int(value)
    if value < 0:
        raise ValueError(f"{name} = {value} must be ≥ 0")
    if upper is not None and value > upper:
        raise ValueError(f"{name} = {value} must satisfy 0 ≤ {name} ≤ {upper_name} = {upper}")
    return value


def _check_n(value: object, name: str) -> int:
    n = _check_count(value, name)
    if n < 1:
        raise ValueError(f"{name} = {n} must be ≥ 1")
    return n


def paired_binary_p(b: int, c: int, test: str) -> float:
    """Return the two-sided p-value of McNemar's test from the discordant counts.

    Parameters
    ----------
    b : int
        Pairs that went yes→no.
    c : int
        Pairs that went no→yes.
    test : str
        One of :data:`PAIRED_BINARY_TESTS`.

    Returns
    -------
    float
        1.0 when there are no discordant pairs (``b + c == 0``).

    Raises
    ------
    ValueError
        If ``test`` is unknown or a count is not a non-negative integer.

    Examples
    --------
    >>> paired_binary_p(0, 6, "mcnemar_exact")  # 2 * 0.5**6
    0.03125
    >>> round(paired_binary_p(0, 6, "mcnemar_asymptotic_cc"), 5)  # chi2 = 25/6
    0.04123
    """
    _check_test(test, PAIRED_BINARY_TESTS)
    b, c = _check_count(b, "b"), _check_count(c, "c")
    m = b + c
    if m == 0:
        return 1.0
    if test == "mcnemar_exact":
        return float(stats.binomtest(min(b, c), m, 0.5).pvalue)
    cc = 1 if test == "mcnemar_asymptotic_cc" else 0
    chi2 = (abs(b - c) - cc) ** 2 / m  # uncapped, as statsmodels and R
    return float(stats.chi2.sf(chi2, 1))


def _check_groups(x1: object, n1: object, x2: object, n2: object) -> tuple[int, int, int, int]:
    n1, n2 = _check_n(n1, "n1"), _check_n(n2, "n2")
    return _check_count(x1, "x1", n1, "n1"), n1, _check_count(x2, "x2", n2, "n2"), n2


def independent_binary_p(x1: int, n1: int, x2: int, n2: int, test: str) -> float:
    """Return the two-sided p-value comparing x1 of n1 with x2 of n2.

    The 2×2 table is ``[[x1, n1 - x1], [x2, n2 - x2]]``.

    Parameters
    ----------
    x1, n1 : int
        Events and patients in group 1.
    x2, n2 : int
        Events and patients in group 2.
    test : str
        One of :data:`INDEPENDENT_BINARY_TESTS`.

    Returns
    -------
    float
        1.0 when a column margin is zero (no events at all, or all events).

    Raises
    ------
    ValueError
        If ``test`` is unknown, a sample size is below 1 or a count lies outside
        0..n.

    Examples
    --------
    >>> round(independent_binary_p(1, 6, 5, 6, "fisher_exact"), 5)  # 74/924
    0.08009
    >>> round(independent_binary_p(1, 6, 5, 6, "chi_square_yates"), 5)  # chi2 = 3
    0.08326
    """
    _check_test(test, INDEPENDENT_BINARY_TESTS)
    x1, n1, x2, n2 = _check_groups(x1, n1, x2, n2)
    events = x1 + x2
    if events == 0 or events == n1 + n2:
        return 1.0
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    if test == "fisher_exact":
        return float(stats.fisher_exact(table, alternative="two-sided").pvalue)
    res = stats.chi2_contingency(table, correction=test == "chi_square_yates")
    return float(res.pvalue)


def attainable_paired_binary(x_before: int, x_after: int, n: int, test: str) -> pd.DataFrame:
    """List the McNemar p-values the reported margins allow, one row per (b, c).

    Only the margins are reported: ``x_before`` = a + b and ``x_after`` = a + c
    of ``n`` patients. Hence ``c - b = x_after - x_before`` and b runs over
    every value that leaves all four cells ≥ 0.

    Parameters
    ----------
    x_before, x_after : int
        Patients with the outcome ("yes") before and after, each in 0..n.
    n : int
        Patients (pairs), at least 1.
    test : str
        One of :data:`PAIRED_BINARY_TESTS`.

    Returns
    -------
    pandas.DataFrame
        ``p``, ``configuration``, ``zeros``, ``tied``; one row per feasible
        (b, c), sorted by p (stable, so equal p-values keep fewer discordant
        pairs first). As in :func:`helpers.audit.attainable_p` the audit picks
        the simplest configuration by sorting on ``zeros`` then ``tied``:
        ``zeros`` is 0 (concordant pairs are the ordinary case for a binary
        outcome, not a contrivance) and ``tied`` is ``b + c``, the discordant
        pairs (all tied at difference ±1), so the simplest reading is the one
        with the fewest patients changing status.

    Raises
    ------
    ValueError
        If ``test`` is unknown, ``n`` is below 1 or a count lies outside 0..n.

    Examples
    --------
    >>> t = attainable_paired_binary(1, 3, 6, "mcnemar_exact")
    >>> t["p"].tolist()  # 2 * 0.5**2 and 2 * (1 + 4) / 2**4
    [0.5, 0.625]
    >>> t["configuration"].iloc[0]
    '0 patients yes→no, 2 no→yes, 1 stayed yes, 3 stayed no'
    """
    _check_test(test, PAIRED_BINARY_TESTS)
    n = _check_n(n, "n")
    x_before = _check_count(x_before, "x_before", n, "n")
    x_after = _check_count(x_after, "x_after", n, "n")
    rows = []
    for b in range(max(0, x_before - x_after), min(x_before, n - x_after) + 1):
        c = b + x_after - x_before
        a, d = x_before - b, n - x_after - b
        patients = "patient" if b == 1 else "patients"
        config = f"{b} {patients} yes→no, {c} no→yes, {a} stayed yes, {d} stayed no"
        rows.append((paired_binary_p(b, c, test), config, 0, b + c))
    table = pd.DataFrame(rows, columns=_COLUMNS)
    return table.sort_values("p", kind="stable").reset_index(drop=True)


def independent_binary_table(x1: int, n1: int, x2: int, n2: int, test: str) -> pd.DataFrame:
    """Return the single p-value of two independent proportions as an attainable-p table.

    The counts fix the 2×2 table, so there is exactly one configuration.

    Parameters
    ----------
    x1, n1, x2, n2 : int
        Events and patients in groups 1 and 2.
    test : str
        One of :data:`INDEPENDENT_BINARY_TESTS`.

    Returns
    -------
    pandas.DataFrame
        ``p``, ``configuration`` ("x1 of n1 vs x2 of n2"), ``zeros`` and ``tied``
        (both 0); one row.

    Raises
    ------
    ValueError
        As :func:`independent_binary_p`.

    Examples
    --------
    >>> t = independent_binary_table(1, 6, 5, 6, "chi_square")
    >>> t["configuration"].iloc[0], round(float(t["p"].iloc[0]), 5)  # chi2 = 16/3
    ('1 of 6 vs 5 of 6', 0.02092)
    """
    p = independent_binary_p(x1, n1, x2, n2, test)
    return pd.DataFrame([(p, f"{x1} of {n1} vs {x2} of {n2}", 0, 0)], columns=_COLUMNS)
