"""Two-sample tests, each computed exactly as a named software computes it, through scipy.

Paired designs (before/after in one group)
-------------------------------------------
``paired_t``
    Student's paired t-test (scipy ``ttest_rel``; SPSS and R agree).
``wilcoxon_exact``
    Wilcoxon signed-rank, exact null distribution. Defined only without zero
    differences and without ties (R's ``exact = TRUE`` case; SPSS Exact Tests).
``wilcoxon_asymptotic``
    Wilcoxon signed-rank, normal approximation with tie-corrected variance, no
    continuity correction, zero differences dropped: SPSS's "Asymp. Sig.".
``wilcoxon_asymptotic_cc``
    The same with a continuity correction of 0.5: R's ``wilcox.test(paired =
    TRUE)`` whenever it cannot be exact (ties or zeros present).
``wilcoxon_r``
    R's default: ``wilcoxon_exact`` when there are fewer than 50 non-zero
    differences and no ties or zeros, otherwise ``wilcoxon_asymptotic_cc``.
``sign_test``
    Exact binomial sign test, zero differences dropped (SPSS and R agree).

Independent groups
------------------
``student_t`` and ``welch_t`` (scipy ``ttest_ind``), ``mann_whitney_exact``,
``mann_whitney_asymptotic`` (SPSS: no continuity correction, tie-corrected) and
``mann_whitney_asymptotic_cc`` (R's normal approximation).

P-values are two-sided unless a one-sided ``alternative`` is asked for. Differences are
rounded to the recording precision of the values before ranking and before
zeros are counted (:func:`helpers.precision.round_to_recording`). Missing
values are not allowed here: callers pair and drop them first (see
:func:`paired_values`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy import optimize, stats

from helpers.choices import PAIRED_TESTS
from helpers.precision import round_to_recording

__all__ = [
    "INDEPENDENT_TESTS",
    "PAIRED_TESTS",
    "hedges_g_av",
    "independent_p",
    "independent_test",
    "mean_sd",
    "paired_p",
    "paired_p_many",
    "paired_test",
    "paired_values",
]


def _exact_sum(x: np.ndarray) -> Fraction:
    """Add finite floats exactly, as a fraction (vectorised; no rounding at all).

    Each value is m · 2^e with m a 53-bit integer (``numpy.frexp``), and m is split
    into a high and a low 26-bit half. Summed by exponent with ``numpy.bincount``,
    every partial sum is an integer below 2^53, which a float holds exactly, as long
    as a chunk has fewer than 2^26 values.
    """
    total = Fraction(0)
    chunk = 1 << 25
    for start in range(0, len(x), chunk):
        mantissa, exponent = np.frexp(x[start : start + chunk])
        m = (mantissa * 2.0**53).astype(np.int64)  # exact: |mantissa| < 1 has 53 bits
        e = exponent - exponent.min()
        high = np.bincount(e, weights=(m >> 26).astype(float))  # m = high · 2^26 + low
        low = np.bincount(e, weights=(m & ((1 << 26) - 1)).astype(float))
        lowest = int(exponent.min()) - 53
        for k in np.flatnonzero(high.astype(bool) | low.astype(bool)).tolist():
            integer = (int(high[k]) << 26) + int(low[k])
            total += Fraction(integer) * Fraction(2) ** (k + lowest)
    return total


def mean_sd(values: Sequence[float] | np.ndarray | pd.Series) -> tuple[float, float]:
    """Return the mean and sample SD (ddof = 1) of values, the same in any row order.

    The mean is the exact mean of the values rounded once to the nearest float
    (as Python's ``statistics.mean`` gives it), whatever order the rows come in:
    the values are summed exactly as integers times powers of two. A running sum
    depends on the order: the mean of eight doses recorded to one decimal,
    exactly 50.825, came out of pandas as 50.825 or 50.824999999999996 by row
    order, and printed as 50.83 or 50.82. A decimal tie (50.825) prints as its
    nearest float does, by Python's correctly rounded formatting. The SD is the
    corrected two-pass formula (Chan, Golub & LeVeque 1983, *Am Stat*
    37:242–247), Σ(x − m)² − (Σ(x − m))²/n over n − 1, with both sums correctly
    rounded: within a unit or two in the last place of the exact SD, and the
    same in any order.

    Parameters
    ----------
    values : array-like of float
        Finite values, no missing ones.

    Returns
    -------
    mean, sd : float
        NaN where there are too few values (none for the mean, fewer than two for the SD).

    Raises
    ------
    ValueError
        For a missing or infinite value.

    Examples
    --------
    >>> mean, sd = mean_sd([63.4, 45.4, 50.5, 50.3, 33.3, 41.6, 70.2, 51.9])
    >>> f"{mean:.2f} ± {sd:.2f}"
    '50.83 ± 11.69'
    >>> mean_sd([0.1, 0.1, 0.1])[0]
    0.1
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return math.nan, math.nan
    if not np.isfinite(x).all():
        raise ValueError("mean_sd takes finite values only; drop missing values first")
    mean = float(_exact_sum(x) / n)
    if n < 2:
        return mean, math.nan
    d = x - mean
    largest = float(np.abs(d).max())
    if largest == 0:
        return mean, 0.0
    scale = math.ldexp(1.0, math.frexp(largest)[1] - 1)  # a power of two: d / scale is exact
    d = d / scale  # squares neither overflow nor underflow
    c = float(_exact_sum(d))  # both sums correctly rounded, as math.fsum's, but vectorised
    ss = float(_exact_sum(d * d)) - c * (c / n)
    return mean, scale * math.sqrt(max(ss, 0.0) / (n - 1))


INDEPENDENT_TESTS: dict[str, str] = {
    "student_t": "Student's t-test (equal variances)",
    "welch_t": "Welch's t-test",
    "mann_whitney_exact": "Mann-Whitney U, exact",
    "mann_whitney_asymptotic": "Mann-Whitney U, normal approximation, no continuity "
    "correction (SPSS)",
    "mann_whitney_asymptotic_cc": "Mann-Whitney U, normal approximation with continuity "
    "correction (R)",
}

#: Short names of the tests, for a figure's axis.
SHORT_NAMES: dict[str, str] = {
    "paired_t": "paired t",
    "wilcoxon_exact": "Wilcoxon, exact",
    "wilcoxon_asymptotic": "Wilcoxon, normal (SPSS)",
    "wilcoxon_asymptotic_cc": "Wilcoxon, normal, corrected",
    "wilcoxon_r": "Wilcoxon (R default)",
    "sign_test": "sign test",
    "student_t": "Student t",
    "welch_t": "Welch t",
    "mann_whitney_exact": "Mann-Whitney, exact",
    "mann_whitney_asymptotic": "Mann-Whitney, normal (SPSS)",
    "mann_whitney_asymptotic_cc": "Mann-Whitney, normal, corrected",
}


def _check_test(test: str, allowed: dict[str, str]) -> None:
    if test not in allowed:
        raise ValueError(f"unknown test {test!r}; allowed: {', '.join(allowed)}")


def _as_array(x: Sequence[float] | np.ndarray | pd.Series, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if np.isnan(arr).any():
        raise ValueError(f"{name} has missing values; pair and drop them first")
    return arr


def _checked_pair(
    before: Sequence[float] | np.ndarray, after: Sequence[float] | np.ndarray, test: str
) -> tuple[np.ndarray, np.ndarray]:
    """Check a paired test's name and inputs; return both as float arrays."""
    _check_test(test, PAIRED_TESTS)
    b, a = _as_array(before, "before"), _as_array(after, "after")
    if len(b) != len(a):
        raise ValueError(f"before and after differ in length ({len(b)} and {len(a)})")
    return b, a


def _has_ties(values: np.ndarray) -> bool:
    return len(np.unique(values)) < len(values)


def _wilcoxon(
    d: np.ndarray, *, method: str, correction: bool, alternative: str = "two-sided"
) -> tuple[np.ndarray, np.ndarray]:
    """SciPy's Wilcoxon signed-rank test of ``d`` (one vector, or one per row)."""
    with warnings.catch_warnings():
        # scipy warns that n < 10 is small for the normal approximation; emulating SPSS
        # and R at n = 7 is the point here, and the audit reports what that implies.
        warnings.filterwarnings("ignore", message=".*[Ss]ample size too small.*")
        res = stats.wilcoxon(
            d, zero_method="wilcox", correction=correction, method=method,
            alternative=alternative, axis=-1,
        )  # fmt: skip
    return res.statistic, res.pvalue


def _signed_rank_plan(d: np.ndarray, test: str) -> tuple[np.ndarray, str]:
    """Return the non-zero differences a signed-rank test ranks, and the test it runs.

    ``wilcoxon_r`` becomes what R's ``wilcox.test`` runs: exact without zeros and
    ties below 50 pairs, else the normal approximation with continuity correction.
    """
    nonzero = d[d != 0]
    m = len(nonzero)
    exact_ok = m == len(d) and not _has_ties(np.abs(nonzero))
    if test == "wilcoxon_r":
        test = "wilcoxon_exact" if exact_ok and m < 50 else "wilcoxon_asymptotic_cc"
    if test == "wilcoxon_exact" and not exact_ok:
        raise ValueError(
            "the exact Wilcoxon test is defined only without zero differences and ties; "
            "use wilcoxon_asymptotic, wilcoxon_asymptotic_cc or wilcoxon_r"
        )
    return nonzero, test


def _wilcoxon_options(test: str) -> dict[str, object]:
    return {
        "method": "exact" if test == "wilcoxon_exact" else "approx",
        "correction": test == "wilcoxon_asymptotic_cc",
    }


def _recorded_differences(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``after − before`` rounded to the values' recording precision (true ties and zeros)."""
    return round_to_recording(after - before, np.concatenate([before, after]))


def _paired(
    before: np.ndarray, after: np.ndarray, test: str, alternative: str = "two-sided"
) -> tuple[int, float, float, str]:
    """Return (n used, statistic, p, test run) for a paired test; statistic per test's convention.

    Differences are rounded to the values' recording precision first, so that
    true ties and zeros are seen as such by the rank and sign tests. The test run
    is ``test``, but for ``wilcoxon_r``, which runs the signed-rank test its rule
    picks for these differences (:func:`_signed_rank_plan`).
    """
    d = _recorded_differences(before, after)
    nonzero = d[d != 0]
    m = len(nonzero)
    if test == "paired_t":
        res = stats.ttest_rel(after, before, alternative=alternative)
        return len(d), float(res.statistic), float(res.pvalue), test
    if test == "sign_test":
        if m == 0:
            return 0, 0.0, 1.0, test
        k = int((nonzero > 0).sum())
        p = stats.binomtest(k, m, 0.5, alternative=alternative).pvalue
        return m, float(k), float(p), test
    if m == 0:
        return 0, 0.0, 1.0, test
    nonzero, run = _signed_rank_plan(d, test)
    w_plus = float(stats.rankdata(np.abs(nonzero))[nonzero > 0].sum())
    p = _wilcoxon(nonzero, alternative=alternative, **_wilcoxon_options(run))[1]
    return m, w_plus, float(p), run


def paired_p_many(differences: np.ndarray, test: str) -> np.ndarray:
    """Return the two-sided p of a paired test for many vectors of differences at once.

    Row *i* gives ``paired_p(np.zeros(n), differences[i], test)``. For the
    signed-rank tests, rows that run the same test on the same number of
    non-zero differences go to SciPy in one call (its ``axis``): the audit
    enumerates thousands of configurations, one SciPy call each was most of
    its time.

    Parameters
    ----------
    differences : numpy.ndarray
        One vector of paired differences (after − before) per row, no missing
        values (a 2-D array; rows of different lengths go in separate calls).
    test : str
        A key of :data:`PAIRED_TESTS`.

    Returns
    -------
    numpy.ndarray
        One p per row.

    Examples
    --------
    >>> d = np.array([[1.0, 2, -3, 4, 5], [-1.0, -2, 3, 4, 5]])
    >>> bool((paired_p_many(d, "wilcoxon_exact") == [paired_p(np.zeros(5), r, "wilcoxon_exact")
    ...                                             for r in d]).all())
    True
    """
    _check_test(test, PAIRED_TESTS)
    rows = np.asarray(differences, dtype=float)
    if rows.ndim != 2:
        raise ValueError("differences must be two-dimensional: one vector of differences per row")
    if np.isnan(rows).any():
        raise ValueError("differences has missing values; pair and drop them first")
    if test in ("paired_t", "sign_test"):
        return np.array([paired_p(np.zeros(len(r)), r, test) for r in rows])
    out = np.ones(len(rows))  # no non-zero difference: p = 1
    groups: dict[tuple[str, int], list[tuple[int, np.ndarray]]] = {}
    for i, row in enumerate(rows):
        d = _recorded_differences(np.zeros(len(row)), row)
        if (d != 0).any():
            nonzero, here = _signed_rank_plan(d, test)
            groups.setdefault((here, len(nonzero)), []).append((i, nonzero))
    for (here, _), members in groups.items():
        index = [i for i, _ in members]
        out[index] = _wilcoxon(np.vstack([v for _, v in members]), **_wilcoxon_options(here))[1]
    return out


def paired_p(
    before: Sequence[float] | np.ndarray, after: Sequence[float] | np.ndarray, test: str
) -> float:
    """Return the two-sided p-value of a paired test (fast path for searches).

    Parameters
    ----------
    before, after : array-like
        Paired values, same length, no missing values.
    test : str
        A key of :data:`PAIRED_TESTS`.

    Returns
    -------
    float

    Examples
    --------
    >>> from scipy import stats
    >>> x, y = [1.83, 0.50, 1.62, 2.48, 1.68], [0.88, 0.65, 0.60, 2.05, 1.06]
    >>> bool(paired_p(x, y, "paired_t") == stats.ttest_rel(y, x).pvalue)
    True
    """
    return _paired(*_checked_pair(before, after, test), test)[2]


def paired_test(
    before: Sequence[float] | np.ndarray,
    after: Sequence[float] | np.ndarray,
    test: str,
    alternative: str = "two-sided",
) -> pd.DataFrame:
    """Run a paired test and return a one-row tidy table.

    Parameters
    ----------
    before, after : array-like
        Paired values, same length, no missing values.
    test : str
        A key of :data:`PAIRED_TESTS`.
    alternative : {"two-sided", "greater", "less"}, default "two-sided"
        "greater" tests for an increase from before to after.

    Returns
    -------
    pandas.DataFrame
        ``test``, ``method`` (the test run: for ``wilcoxon_r``, the exact or the
        normal-approximation test R's rule picks for these data; else ``test``),
        ``n`` (pairs), ``n_used`` (pairs the test used: non-zero
        differences for rank and sign tests), ``statistic`` (t for the t-test;
        W+, the sum of positive ranks, as R's V, for Wilcoxon; the number of
        positive differences for the sign test), ``p_val``.

    See Also
    --------
    scipy.stats.ttest_rel, scipy.stats.wilcoxon, scipy.stats.binomtest

    Examples
    --------
    >>> x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    >>> y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    >>> row = paired_test(y, x, "wilcoxon_exact")  # R: V = 40, p-value = 0.03906
    >>> row[["statistic", "p_val"]].round(5).values.tolist()
    [[40.0, 0.03906]]
    >>> paired_test(y, x, "wilcoxon_r")["method"].item()  # no ties, no zeros: R runs it exact
    'wilcoxon_exact'
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be two-sided, greater or less, got {alternative!r}")
    b, a = _checked_pair(before, after, test)
    n_used, statistic, p, method = _paired(b, a, test, alternative)
    row = {"test": test, "method": method, "n": len(b), "n_used": n_used}
    return pd.DataFrame([{**row, "statistic": statistic, "p_val": p}])


def independent_p(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, test: str
) -> float:
    """Return the two-sided p-value of a two-independent-groups test.

    Parameters
    ----------
    x, y : array-like
        The two groups' values, no missing values.
    test : str
        A key of :data:`INDEPENDENT_TESTS`.

    Returns
    -------
    float

    Examples
    --------
    >>> from scipy import stats
    >>> p = stats.ttest_ind([1, 2, 3], [4, 5, 7], equal_var=False).pvalue
    >>> bool(independent_p([1, 2, 3], [4, 5, 7], "welch_t") == p)
    True
    """
    return float(independent_test(x, y, test)["p_val"].iloc[0])


def independent_test(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, test: str
) -> pd.DataFrame:
    """Run a two-independent-groups test and return a one-row tidy table.

    Parameters
    ----------
    x, y : array-like
        The two groups' values, no missing values.
    test : str
        A key of :data:`INDEPENDENT_TESTS`.

    Returns
    -------
    pandas.DataFrame
        ``test``, ``n1``, ``n2``, ``statistic`` (t, or U of ``x``), ``p_val``.

    Raises
    ------
    ValueError
        For ``mann_whitney_exact`` with tied values (the exact distribution
        assumes none).

    Examples
    --------
    >>> independent_test([1, 2, 3], [4, 5, 6], "mann_whitney_exact")["p_val"].item()
    0.1
    """
    _check_test(test, INDEPENDENT_TESTS)
    a, b = _as_array(x, "x"), _as_array(y, "y")
    if test in ("student_t", "welch_t"):
        res = stats.ttest_ind(a, b, equal_var=test == "student_t")
    else:
        if test == "mann_whitney_exact" and _has_ties(np.concatenate([a, b])):
            raise ValueError("the exact Mann-Whitney test is defined only without ties")
        method = "exact" if test == "mann_whitney_exact" else "asymptotic"
        res = stats.mannwhitneyu(
            a, b, method=method, use_continuity=test == "mann_whitney_asymptotic_cc"
        )
    return pd.DataFrame(
        [
            {
                "test": test,
                "n1": len(a),
                "n2": len(b),
                "statistic": float(res.statistic),
                "p_val": float(res.pvalue),
            }
        ]
    )


def paired_values(
    data: pd.DataFrame, *, dv: str, within: str, subject: str, before: object, after: object
) -> pd.DataFrame:
    """Pair a long table's values at two levels of ``within``, dropping incomplete pairs.

    Parameters
    ----------
    data : pandas.DataFrame
        Long format: one row per subject and level.
    dv, within, subject : str
        Column names of the value, the repeated factor (e.g. visit) and the subject.
    before, after : object
        The two levels of ``within`` to compare.

    Returns
    -------
    pandas.DataFrame
        Indexed by subject, columns ``before`` and ``after``; only subjects with both.

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({"id": ["a", "a", "b"], "visit": [0, 1, 0], "v": [1.0, 2.0, 3.0]})
    >>> paired_values(long, dv="v", within="visit", subject="id", before=0, after=1).to_dict()
    {'before': {'a': 1.0}, 'after': {'a': 2.0}}
    """
    chosen = data[data[within].isin([before, after])]
    if chosen.duplicated([subject, within]).any():
        raise ValueError(f"a {subject} has two {dv} values at one {within}")
    # two aligned columns rather than a pivot: the same table, without reshaping by strings
    columns = {
        name: chosen.loc[chosen[within] == level].set_index(subject)[dv].astype(float)
        for name, level in (("before", before), ("after", after))
    }
    return pd.DataFrame(columns).dropna().sort_index()


def _noncentrality_limit(t: float, df: float, tail: float, step: float) -> float:
    """Find the noncentrality λ with P(T ≤ t | df, λ) = tail, searching from t in ``step``s."""

    def f(lam: float) -> float:
        return float(stats.nct.cdf(t, df, lam)) - tail

    a, b = t, t + step
    while f(a) * f(b) > 0:  # the cdf falls as λ rises: walk outwards until it crosses
        a, b = b, b + step
    return float(optimize.brentq(f, min(a, b), max(a, b), xtol=1e-13, rtol=1e-13))


def hedges_g_av(
    before: Sequence[float] | np.ndarray,
    after: Sequence[float] | np.ndarray,
    *,
    ci_level: float = 0.95,
) -> dict[str, float]:
    """Hedges' g_av for a before/after design, with the Algina–Keselman confidence interval.

    The standardized mean change uses the average of the two variances as
    standardizer, d_av = mean(after − before) / √((s²_before + s²_after) / 2)
    (the pooled SD of the two visits, which have the same n), and Hedges'
    small-sample correction g_av = d_av × (1 − 3 / (8n − 9)) (Lakens 2013, Front
    Psychol 4:863, and his ``Superpower`` R code; pingouin's ``compute_effsize``
    with ``paired=True, eftype="hedges"``; the δ_av of Algina & Keselman 2003).
    Some software divides by the plain mean of the two SDs instead (e.g. R's
    MOTE ``d_dep_t_avg``), which gives a larger value when the SDs differ.

    The interval is Algina & Keselman's (2003, Educ Psychol Meas 63:537-553)
    approximate interval for the population δ_av in a dependent-samples design:
    the paired t statistic t = mean(d) / (s_d / √n) follows a noncentral t
    with n − 1 degrees of freedom; the confidence limits of its noncentrality
    are found by inverting that distribution, and each limit λ is converted to
    the δ_av scale as λ · s_d / (√n · s_av). It respects the before–after
    correlation (through s_d) and excludes 0 exactly when the paired t-test
    rejects at 1 − ci_level.

    Parameters
    ----------
    before, after : array-like
        Paired values, same length, at least 3, no missing values.
    ci_level : float, default 0.95

    Returns
    -------
    dict
        ``g`` (Hedges' g_av), ``d`` (Cohen's d_av), ``ci_low``, ``ci_high``
        (interval for δ_av), ``t``, ``df``.

    Examples
    --------
    >>> r = hedges_g_av([10, 12, 9, 14, 11], [9, 10, 9, 12, 10])
    >>> round(r["g"], 3), round(r["ci_low"], 3), round(r["ci_high"], 3)
    (-0.672, -1.4, -0.054)
    """
    if not 0 < ci_level < 1:
        raise ValueError(f"ci_level must be between 0 and 1, got {ci_level}")
    b, a = _as_array(before, "before"), _as_array(after, "after")
    n = len(b)
    if n != len(a) or n < 3:
        raise ValueError("hedges_g_av needs at least 3 pairs of equal length")
    d = a - b
    s_av = float(np.sqrt((b.var(ddof=1) + a.var(ddof=1)) / 2))
    s_d = float(d.std(ddof=1))
    d_av = float(d.mean()) / s_av
    g = d_av * (1 - 3 / (8 * n - 9))
    nan = float("nan")
    if s_d == 0 or s_av == 0:
        return {"g": g, "d": d_av, "ci_low": nan, "ci_high": nan, "t": nan, "df": n - 1.0}
    t = float(d.mean()) / (s_d / np.sqrt(n))
    tail = (1 - ci_level) / 2
    lam_low = _noncentrality_limit(t, n - 1, 1 - tail, -1.0)
    lam_high = _noncentrality_limit(t, n - 1, tail, 1.0)
    scale = s_d / (np.sqrt(n) * s_av)
    return {
        "g": g,
        "d": d_av,
        "ci_low": float(lam_low * scale),
        "ci_high": float(lam_high * scale),
        "t": float(t),
        "df": n - 1.0,
    }
