"""Audit of reported statistics: which tests can have produced each reported p-value.

For every comparison in a reported-figures table (one group before/after, or
two independent groups) and every candidate test, the audit says whether the
reported p (with its relation ``=``, ``<``, ``>``) can be reached, what can be
reached, what that implies and, when it cannot, why. Every reported number is
treated as the interval its printed decimals allow (:mod:`helpers.precision`).

* Tests whose p is continuous in the unknowns (paired t: the before-after
  correlation r; Student and Welch t) give a **range** of attainable p over
  r in [-1, 1] and the rounding intervals of means and SDs.
* Rank and sign tests give the **set** of attainable p-values at the sample
  size. For the signed-rank tests every pattern of zero differences and ties
  is enumerated (up to ``TIE_ENUMERATION_MAX_N`` pairs), and each distinct
  configuration's p is computed by :mod:`helpers.stats`, i.e. by scipy. The
  set says which p a data set of that size can give; whether one can give it
  together with the reported means and SDs is shown by the reconstruction.

Every "±" is read as a standard deviation unless ``dispersion="sem"`` reads it
as a standard error of the mean: the SD is then the printed figure times √n
(:func:`as_standard_deviations`), and the t-tests' ranges change with it.

The granularity check (GRIM, Brown & Heathers 2017; GRIMMER, Anaya 2016) says,
for each mean and SD at its n, whether raw values recorded as multiples of a
granularity (integers, halves, tenths, hundredths) can produce them.

Run ``python -m helpers.audit data/reported/abstract_figures.csv``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from helpers.precision import (
    PRECISION_RULES,
    format_number,
    format_signed,
    matches_reported,
    plural,
    range_meets_reported,
    reported_interval,
)
from helpers.proportions import (
    INDEPENDENT_BINARY_TESTS,
    PAIRED_BINARY_TESTS,
    attainable_paired_binary,
    independent_binary_table,
)
from helpers.reported import (
    Comparison,
    Reported,
    comparisons_from_reported,
    figure,
    load_reported,
    sample_size,
)
from helpers.stats import INDEPENDENT_TESTS, PAIRED_TESTS, independent_p, paired_p, paired_p_many

__all__ = [
    "DISPERSIONS",
    "GRANULARITIES",
    "SD_TESTS",
    "TESTS_BY_DESIGN",
    "TIE_ENUMERATION_MAX_N",
    "as_standard_deviations",
    "attainable_p",
    "audit",
    "consistent_tests",
    "granularity",
    "grim_sums",
    "grimmer_consistent",
    "paired_t_implied_r",
    "paired_t_p_range",
    "paired_t_r_range",
]

#: How a printed "±" figure can be read: a standard deviation or a standard error of the mean.
DISPERSIONS: tuple[str, ...] = ("sd", "sem")
#: The tests whose attainable p-values the reported SDs set (the others use none).
SD_TESTS: tuple[str, ...] = ("paired_t", "student_t", "welch_t")


@dataclass(frozen=True)
class _ScaledReported(Reported):
    """A reported figure times a known factor: its interval is the printed one's, scaled."""

    scale: float = 1.0

    def interval(self, rule: str = "round") -> tuple[float, float]:
        low, high = reported_interval(self.value / self.scale, self.decimals, rule)
        return low * self.scale, high * self.scale


def _check_dispersion(dispersion: str) -> None:
    if dispersion not in DISPERSIONS:
        raise ValueError(f"dispersion must be one of {', '.join(DISPERSIONS)}, got {dispersion!r}")


def as_standard_deviations(c: Comparison, dispersion: str = "sd") -> Comparison:
    """Give a comparison its SDs under a reading of the printed "±" figures.

    Read as standard errors of the mean (``"sem"``), each SD is the printed
    figure times √n of its visit or group (n1 for both visits of a paired
    comparison), and so is the interval the printing allows.

    Parameters
    ----------
    c : Comparison
    dispersion : {"sd", "sem"}

    Returns
    -------
    Comparison
        ``c`` itself for ``"sd"`` and for comparisons of counts.

    Examples
    --------
    >>> cs = comparisons_from_reported(load_reported("data/reported/abstract_figures.csv"))
    >>> sd = as_standard_deviations(cs[0], "sem").sd1  # insulin dose, 13.71 read as a SEM of 7
    >>> round(sd.value, 2), [round(v, 3) for v in sd.interval()]
    (36.27, [36.26, 36.286])
    """
    _check_dispersion(dispersion)
    if dispersion == "sd" or c.binary or c.sd1 is None or c.sd2 is None:
        return c
    n2 = c.n1 if c.design == "paired" else c.n2

    def scaled(r: Reported, n: int) -> Reported:
        factor = math.sqrt(n)
        return _ScaledReported(
            r.value * factor, r.decimals, r.relation, r.quote, r.figure_id, scale=factor
        )

    return replace(c, sd1=scaled(c.sd1, c.n1), sd2=scaled(c.sd2, n2))


#: Granularities of raw values checked by default: integers, halves, tenths, hundredths.
GRANULARITIES: tuple[float, ...] = (1.0, 0.5, 0.1, 0.01)
#: Above this many pairs, signed-rank tie patterns are not enumerated (2^(n-1) compositions).
TIE_ENUMERATION_MAX_N = 12
_EPS = 1e-9


# --- attainable p-values of rank and sign tests -------------------------------------------


def _compositions(m: int) -> Iterator[tuple[int, ...]]:
    """Ordered tie-group sizes summing to m (2^(m-1) of them)."""
    for cuts in range(2 ** (m - 1)):
        sizes, size = [], 1
        for bit in range(m - 1):
            if cuts >> bit & 1:
                sizes.append(size)
                size = 1
            else:
                size += 1
        sizes.append(size)
        yield tuple(sizes)


def _describe_config(n: int, m: int, w_plus: float, sizes: tuple[int, ...]) -> str:
    ties = [g for g in sizes if g > 1]
    # the smaller of the two rank sums (W+ and W−): a two-sided p is the same for either,
    # and a data set and its mirror image read alike
    smaller = min(w_plus, m * (m + 1) / 2 - w_plus)
    parts = [f"smaller rank sum {smaller:g}; {plural(m, 'non-zero difference')}"]
    if n > m:
        parts.append(plural(n - m, "zero difference"))
    parts.append("tie groups of " + ", ".join(map(str, ties)) if ties else "no ties")
    return ", ".join(parts)


@cache
def _signed_rank_configs(n: int, ties: bool, zeros: bool) -> tuple[tuple[object, ...], ...]:
    """Distinct (m, W+, tie sizes) configurations with one representative difference vector."""
    seen: dict[tuple[int, float, tuple[int, ...]], tuple[object, ...]] = {}
    for m in range(1, n + 1) if zeros else (n,):
        comps = _compositions(m) if ties and n <= TIE_ENUMERATION_MAX_N else iter([(1,) * m])
        for sizes in comps:
            key_ties = tuple(sorted(g for g in sizes if g > 1))
            midranks, start = [], 1
            for g in sizes:
                midranks.append(start + (g - 1) / 2)
                start += g
            states: dict[float, tuple[int, ...]] = {0.0: ()}
            for g, r in zip(sizes, midranks, strict=True):
                states = {w + j * r: (*pos, j) for w, pos in states.items() for j in range(g + 1)}
            for w, positives in states.items():
                key = (m, w, key_ties)
                if key in seen:
                    continue
                d = [0.0] * (n - m)
                for level, (g, j) in enumerate(zip(sizes, positives, strict=True), start=1):
                    d += [float(level)] * j + [-float(level)] * (g - j)
                seen[key] = (m, w, sizes, tuple(d))
    return tuple(seen.values())


@cache
def _attainable_paired(n: int, test: str) -> pd.DataFrame:
    rows = []
    if test == "sign_test":
        for m in range(1, n + 1):
            for k in range(m + 1):
                d = [0.0] * (n - m) + [1.0] * k + [-1.0] * (m - k)
                desc = f"{k} of {plural(m, 'non-zero difference')} positive" + (
                    f", {plural(n - m, 'zero difference')}" if n > m else ""
                )
                rows.append((paired_p(np.zeros(n), d, test), desc, n - m, 0))
    else:
        exact_only = test == "wilcoxon_exact"
        configs = _signed_rank_configs(n, not exact_only, not exact_only)
        # one SciPy call per group of configurations (paired_p_many), not one each
        ps = paired_p_many(np.array([d for *_, d in configs]), test)
        for p, (m, w, sizes, _) in zip(ps.tolist(), configs, strict=True):
            ties = sum(g for g in sizes if g > 1)
            rows.append((p, _describe_config(n, m, w, sizes), n - m, ties))
    table = pd.DataFrame(rows, columns=["p", "configuration", "zeros", "tied"])
    return table.sort_values(["p", "zeros", "tied"], kind="stable").reset_index(drop=True)


def _mann_whitney_samples(n1: int, n2: int, u: int) -> tuple[np.ndarray, np.ndarray]:
    """Two tie-free samples whose U statistic (of x) is u."""
    counts, left = [], u
    for _ in range(n2):
        c = min(n1, left)
        counts.append(c)
        left -= c
    x = np.arange(n1, dtype=float)
    # y_j lies just below n1 - c_j x-values; distinct offsets keep the y-values untied
    y = np.array([n1 - c - 0.75 + j / (2 * n2) for j, c in enumerate(counts)])
    return x, y


@cache
def _attainable_independent(n1: int, n2: int, test: str) -> pd.DataFrame:
    rows = []
    for u in range(n1 * n2 + 1):
        x, y = _mann_whitney_samples(n1, n2, u)
        rows.append((independent_p(x, y, test), f"U = {u} (no ties)", 0, 0))
    table = pd.DataFrame(rows, columns=["p", "configuration", "zeros", "tied"])
    return table.sort_values("p", kind="stable").reset_index(drop=True)


def attainable_p(test: str, n1: int, n2: int | None = None) -> pd.DataFrame:
    """List the p-values a rank or sign test can give at a sample size, with a configuration.

    Parameters
    ----------
    test : str
        A rank or sign test of :data:`helpers.stats.PAIRED_TESTS` (needs ``n1``
        pairs) or a Mann-Whitney test of :data:`helpers.stats.INDEPENDENT_TESTS`
        (needs ``n1`` and ``n2``).
    n1 : int
    n2 : int, optional

    Returns
    -------
    pandas.DataFrame
        ``p``, ``configuration`` (how to get it), ``zeros``, ``tied``; one row
        per distinct configuration, sorted by p.

    Examples
    --------
    >>> sorted(set(attainable_p("wilcoxon_exact", 7)["p"].round(6)))[:3]
    [0.015625, 0.03125, 0.046875]
    """
    if test in PAIRED_TESTS and test != "paired_t":
        return _attainable_paired(n1, test)
    if test.startswith("mann_whitney") and n2 is not None:
        return _attainable_independent(n1, n2, test)
    raise ValueError(f"{test!r} has no finite set of p-values (or n2 is missing)")


# --- t-tests: ranges ------------------------------------------------------------------------


def _abs_range(low: float, high: float) -> tuple[float, float]:
    if low <= 0 <= high:
        return 0.0, max(-low, high)
    return min(abs(low), abs(high)), max(abs(low), abs(high))


def _mean_change_range(c: Comparison, rule: str) -> tuple[float, float]:
    """Bound |mean2 − mean1| over every pair of means that round to the printed ones."""
    (m1l, m1h), (m2l, m2h) = c.mean1.interval(rule), c.mean2.interval(rule)
    return _abs_range(m2l - m1h, m2h - m1l)


def paired_t_p_range(c: Comparison, rule: str = "round") -> tuple[float, float]:
    """Range of paired-t p-values over r in [-1, 1] and the rounding intervals.

    The SD of the differences is ``sqrt(s1² + s2² - 2 r s1 s2)``, between
    ``|s1 - s2|`` (r = 1) and ``s1 + s2`` (r = -1); t = |mean change| √n / SD.

    Parameters
    ----------
    c : Comparison
        A paired comparison.
    rule : {"round", "truncate"}

    Returns
    -------
    (p_min, p_max) : tuple of float

    Examples
    --------
    >>> cs = comparisons_from_reported(load_reported("data/reported/abstract_figures.csv"))
    >>> round(paired_t_p_range(cs[-1])[1], 3)  # islet-cell antibodies: p at most 0.452
    0.452
    """
    (s1l, s1h), (s2l, s2h) = c.sd1.interval(rule), c.sd2.interval(rule)
    d_min, d_max = _mean_change_range(c, rule)
    sd_min, sd_max = max(0.0, s1l - s2h, s2l - s1h), s1h + s2h
    df = c.n1 - 1
    t_max = math.inf if sd_min == 0 else d_max * math.sqrt(c.n1) / sd_min
    t_min = d_min * math.sqrt(c.n1) / sd_max
    return float(2 * stats.t.sf(t_max, df)), float(2 * stats.t.sf(t_min, df))


def paired_t_implied_r(c: Comparison, p: float) -> float:
    """Compute the before-after correlation a paired t-test needs to give p, at reported values.

    Uses the identity ``sd_diff² = s1² + s2² - 2 r s1 s2``. A value outside
    [-1, 1] means no data with these means and SDs give p.

    Parameters
    ----------
    c : Comparison
    p : float
        Two-sided p-value, in (0, 1).

    Returns
    -------
    float

    Examples
    --------
    >>> c = comparisons_from_reported(load_reported("data/reported/abstract_figures.csv"))[0]
    >>> round(paired_t_implied_r(c, 0.04), 2)  # insulin dose
    0.63
    """
    t = stats.t.isf(p / 2, c.n1 - 1)
    sd_diff = abs(c.mean2.value - c.mean1.value) * math.sqrt(c.n1) / t
    s1, s2 = c.sd1.value, c.sd2.value
    return float((s1**2 + s2**2 - sd_diff**2) / (2 * s1 * s2))


def paired_t_r_range(c: Comparison, rule: str = "round") -> tuple[float, float]:
    """Range of the before-after r a paired t-test needs, over everything the rounding allows.

    :func:`paired_t_implied_r` solves for r at the printed means and SDs; data
    whose means and SDs only round to the printed ones need an r in a wider
    range. With ``D = |mean change| √n / t`` the SD of the differences,
    ``r = (s1² + s2² - D²) / (2 s1 s2)`` falls as D grows, so its extremes lie
    at the ends of the mean change's and the p's intervals; each SD is taken on
    a grid of 9 points across its interval, ends included. Clipped to [-1, 1].

    Parameters
    ----------
    c : Comparison
        A paired comparison with ``p`` reported as ``=``.
    rule : {"round", "truncate"}

    Returns
    -------
    (r_min, r_max) : tuple of float

    Examples
    --------
    >>> cs = comparisons_from_reported(load_reported("data/reported/abstract_figures.csv"))
    >>> hba1c = next(c for c in cs if c.variable == "hba1c")
    >>> [round(r, 3) for r in paired_t_r_range(hba1c)]
    [0.704, 0.736]
    """
    d_min, d_max = _mean_change_range(c, rule)
    lo, hi = c.p.interval(rule)
    df = c.n1 - 1
    t_small = stats.t.isf(min(hi, 1.0) / 2, df)  # the largest p: the smallest t
    t_large = stats.t.isf(max(lo, 1e-12) / 2, df)
    s1 = np.linspace(*c.sd1.interval(rule), 9)[:, None]
    s2 = np.linspace(*c.sd2.interval(rule), 9)[None, :]
    rs = [
        (s1**2 + s2**2 - (d * math.sqrt(c.n1) / t) ** 2) / (2 * s1 * s2)
        for d, t in ((d_max, t_small), (d_min, t_large))
    ]
    return float(np.clip(rs[0].min(), -1, 1)), float(np.clip(rs[1].max(), -1, 1))


def _independent_t_range(c: Comparison, test: str, rule: str) -> tuple[float, float]:
    (s1l, s1h), (s2l, s2h) = c.sd1.interval(rule), c.sd2.interval(rule)
    d_min, d_max = _mean_change_range(c, rule)
    ps = [
        stats.ttest_ind_from_stats(0.0, s1, c.n1, d, s2, c.n2, equal_var=test == "student_t").pvalue
        for d in (d_min, d_max)
        for s1 in np.linspace(s1l, s1h, 5)
        for s2 in np.linspace(s2l, s2h, 5)
    ]
    return float(min(ps)), float(max(ps))


# --- verdicts -------------------------------------------------------------------------------


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _p_text(p: float) -> str:
    """Print a p-value to four significant digits; below 0.0001 as 6.819 × 10⁻⁸, not 6.819e-08."""
    if p == 0 or p >= 1e-4:
        return f"{p:.4g}"
    mantissa, exponent = f"{p:.3e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")  # as the general format drops them
    return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def _verdict_set(c: Comparison, test: str, table: pd.DataFrame, rule: str) -> dict[str, object]:
    hit = table[
        [matches_reported(p, c.p.value, c.p.relation, c.p.decimals, rule) for p in table["p"]]
    ]
    lo, hi = c.p.interval(rule)
    if not hit.empty:
        simplest = hit.sort_values(["zeros", "tied"], kind="stable").iloc[0]
        # the fit with the fewest zero and tied differences in all (then the fewest zeros)
        plainest = hit.assign(_k=hit["zeros"] + hit["tied"]).sort_values(
            ["_k", "zeros"], kind="stable"
        )
        values = sorted(set(hit["p"].round(6)))
        shown = ", ".join(_p_text(v) for v in values[:6])
        if len(values) > 6:
            shown += f" and {len(values) - 6} more up to {_p_text(values[-1])}"
        nearest = min(values, key=lambda v: abs(v - c.p.value))
        return {
            "reachable": True,
            "attainable": f"{plural(len(values), 'attainable value')} "
            f"{'fits' if len(values) == 1 else 'fit'}: {shown}",
            "nearest_p": nearest,
            "implies": "e.g. " + simplest["configuration"],
            "reason": "",
            "ties_needed": bool(plainest["_k"].iloc[0] > 0),
            "fewest_ties": plainest["configuration"].iloc[0],
        }
    below = table.loc[table["p"] < lo, "p"]
    above = table.loc[table["p"] > hi, "p"]
    around = [
        v
        for v in (below.max() if len(below) else None, above.min() if len(above) else None)
        if v is not None
    ]
    nearest = min(around, key=lambda v: abs(v - c.p.value))
    scope = {
        "wilcoxon_exact": "the exact test allows no ties or zero differences",
        "sign_test": "zero differences enumerated",
    }.get(test, "zero differences and ties enumerated")
    if c.design == "paired" and test != "sign_test" and c.n1 > TIE_ENUMERATION_MAX_N:
        scope = f"ties not enumerated above n = {TIE_ENUMERATION_MAX_N}"
    if c.design == "independent":
        scope = "ties not enumerated"
    if scope.startswith("ties not enumerated") and test not in ("sign_test", "wilcoxon_exact"):
        # tied values give p-values the tie-free set lacks: not shown impossible
        return {
            "reachable": None,
            "attainable": "no tie-free data set fits; nearest tie-free: "
            + " and ".join(_p_text(v) for v in around),
            "nearest_p": nearest,
            "implies": "",
            "reason": (
                f"undetermined: no tie-free data set of this size gives p {c.p.text()} (nearest: "
                f"{' and '.join(_p_text(v) for v in around)}), and tied values, which give "
                f"other p-values, are not enumerated"
                + ("" if c.design == "independent" else f" above n = {TIE_ENUMERATION_MAX_N}")
            ),
        }
    return {
        "reachable": False,
        "attainable": "nearest attainable: " + " and ".join(_p_text(v) for v in around),
        "nearest_p": nearest,
        "implies": "",
        "reason": (
            f"no data set of this size gives p {c.p.text()}"
            + (
                f" (interval {_p_text(lo)}–{_p_text(hi)} under the '{rule}' rule); "
                if c.p.relation == "="
                else "; "
            )
            + f"nearest attainable: {' and '.join(_p_text(v) for v in around)} ({scope})"
        ),
    }


def _distinct_decimals(a: float, b: float, least: int = 2, most: int = 6) -> int:
    """Decimals enough to print two different numbers differently (2 unless they need more)."""
    d = least
    while d < most and f"{a:.{d}f}" == f"{b:.{d}f}" and a != b:
        d += 1
    return d


def _verdict_paired_t(c: Comparison, rule: str) -> dict[str, object]:
    p_min, p_max = paired_t_p_range(c, rule)
    reachable = range_meets_reported(p_min, p_max, c.p.value, c.p.relation, c.p.decimals, rule)
    lo, hi = c.p.interval(rule)
    if c.p.relation in "<>":
        bound = paired_t_implied_r(c, c.p.value)
        digits = 2  # enough decimals that a bound just inside ±1 does not print as ±1
        while abs(round(bound, digits)) == 1 and abs(bound) != 1 and digits < 6:
            digits += 1
        side = "below" if c.p.relation == ">" else "above"
        r_text = f"needs r {side} {format_signed(bound, digits)}"
        if (bound >= 1) if c.p.relation == ">" else (bound <= -1):
            r_text = "any before-after correlation r gives it"
    else:
        r_a, r_b = sorted(paired_t_implied_r(c, p) for p in (max(lo, 1e-12), min(hi, 1.0)))
        d = _distinct_decimals(r_a, r_b)
        r_text = (
            "needs a before-after correlation r between "
            f"{format_signed(r_a, d)} and {format_signed(r_b, d)}"
        )
    r_text += " (at the reported means and SDs"
    if c.p.relation == "=" and reachable:
        r_lo, r_hi = paired_t_r_range(c, rule)
        r_text += (
            f"; {format_signed(r_lo, d)} to {format_signed(r_hi, d)} over every mean and SD "
            "that rounds to them"
        )
    r_text += ")"
    nearest = min(max(c.p.value, p_min), p_max)
    reason = ""
    if not reachable:
        if p_max < lo or (c.p.relation == ">" and p_max <= c.p.value):
            reason = (
                f"even with r = −1 (the largest SD of differences, s1 + s2) and the smallest mean "
                f"change the rounding allows, p is at most {_p_text(p_max)}"
            )
        else:
            reason = (
                f"even with r = 1 (the smallest SD of differences, |s1 - s2|) and the largest mean "
                f"change the rounding allows, p is at least {_p_text(p_min)}"
            )
        r_text = r_text.replace("needs", "would need") + ": impossible"
    return {
        "reachable": reachable,
        "attainable": f"p in [{_p_text(p_min)}, {_p_text(p_max)}] over r in [−1, 1]",
        "nearest_p": nearest,
        "implies": r_text,
        "reason": reason,
    }


def _verdict_independent_t(c: Comparison, test: str, rule: str) -> dict[str, object]:
    p_min, p_max = _independent_t_range(c, test, rule)
    reachable = range_meets_reported(p_min, p_max, c.p.value, c.p.relation, c.p.decimals, rule)
    return {
        "reachable": reachable,
        "attainable": f"p in [{_p_text(p_min)}, {_p_text(p_max)}] over the rounding intervals",
        "nearest_p": min(max(c.p.value, p_min), p_max),
        "implies": f"p between {_p_text(p_min)} and {_p_text(p_max)}, set by the reported "
        "means, SDs and group sizes within their rounding",
        "reason": ""
        if reachable
        else (
            f"the reported means, SDs and group sizes give p between {_p_text(p_min)} and "
            f"{_p_text(p_max)} only"
        ),
    }


#: Candidate tests for each comparison design of :mod:`helpers.reported`.
TESTS_BY_DESIGN: dict[str, tuple[str, ...]] = {
    "paired": tuple(PAIRED_TESTS),
    "independent": tuple(INDEPENDENT_TESTS),
    "paired_binary": PAIRED_BINARY_TESTS,
    "independent_binary": INDEPENDENT_BINARY_TESTS,
}


def _count(r: Reported | None) -> int:
    if r is None or r.value % 1 or r.relation != "=":
        raise ValueError("a count must be an exact whole number")
    return int(r.value)


def _binary_table(c: Comparison, test: str) -> pd.DataFrame:
    """List the attainable p-values of a comparison of counts: every split of unknown cells."""
    if c.design == "paired_binary":
        if c.n1 != c.n2:
            raise ValueError(
                f"{c.comparison_id}: a paired comparison of counts needs one n for both visits "
                f"(got {c.n1} and {c.n2})"
            )
        return attainable_paired_binary(_count(c.count1), _count(c.count2), c.n1, test)
    return independent_binary_table(_count(c.count1), c.n1, _count(c.count2), c.n2, test)


def _verdict_binary(c: Comparison, test: str, rule: str) -> dict[str, object]:
    table = _binary_table(c, test)
    if c.design == "independent_binary":  # name the groups the counts belong to
        table = table.assign(
            configuration=f"{c.group1}: {_count(c.count1)} of {c.n1}, "
            f"{c.group2}: {_count(c.count2)} of {c.n2}"
        )
    verdict = _verdict_set(c, test, table, rule)
    verdict.pop("ties_needed", None)  # counts have no differences to tie
    verdict.pop("fewest_ties", None)
    if not verdict["reachable"]:
        scope = (
            "every split of the discordant pairs enumerated"
            if c.design == "paired_binary"
            else "the counts fix the 2×2 table"
        )
        verdict["reason"] = str(verdict["reason"]).rsplit(" (", 1)[0] + f" ({scope})"
    return verdict


def audit(
    reported: pd.DataFrame,
    *,
    tests: Sequence[str] | None = None,
    rule: str = "round",
    dispersion: str = "sd",
) -> pd.DataFrame:
    """Say, for every reported comparison and candidate test, whether the reported p is reachable.

    Parameters
    ----------
    reported : pandas.DataFrame
        A reported-figures table (:func:`helpers.reported.load_reported`).
    tests : sequence of str, optional
        Candidate tests; default, every test for the comparison's design
        (:data:`TESTS_BY_DESIGN`: paired or independent means, paired or
        independent counts). Tests that do not fit a design are skipped for it.
    rule : {"round", "truncate"}, default "round"
        How printed figures relate to the values behind them.
    dispersion : {"sd", "sem"}, default "sd"
        What a printed "±" figure is (:func:`as_standard_deviations`); it
        matters to the t-tests only.

    Returns
    -------
    pandas.DataFrame
        One row per comparison × test: ``comparison``, ``variable``,
        ``design``, ``n1``, ``n2``, ``group1``, ``group2`` (1 is the reference
        visit's or group's side), ``test``, ``reported_p`` (as printed, with a
        decimal point), ``p_figure_id``, ``reachable`` (True, False, or None
        when undetermined: tied values not enumerated), ``attainable`` (range
        or fitting values), ``nearest_p`` (the attainable p closest to the
        reported one), ``implies`` and ``reason`` (why not, when not),
        ``ties_needed`` and ``fewest_ties`` (for a rank or sign test that
        reaches the reported p: whether every data set giving it has a zero
        or tied difference, and the one with the fewest of them; missing for
        t-tests, counts and unreachable p-values).

    Raises
    ------
    ValueError
        For an unknown test, precision rule or dispersion.

    Examples
    --------
    >>> table = audit(load_reported("data/reported/abstract_figures.csv"), tests=["paired_t"])
    >>> table[["variable", "reachable"]].values.tolist()[-1]
    ['islet_ab', False]
    """
    if rule not in PRECISION_RULES:
        raise ValueError(f"rule must be one of {', '.join(PRECISION_RULES)}, got {rule!r}")
    _check_dispersion(dispersion)  # before any comparison is read, even with none to read
    known = {t for design_tests in TESTS_BY_DESIGN.values() for t in design_tests}
    unknown = [t for t in tests or [] if t not in known]
    if unknown:
        raise ValueError(f"unknown test(s) {unknown}; allowed: {', '.join(sorted(known))}")
    rows = []
    for read in comparisons_from_reported(reported):
        c = as_standard_deviations(read, dispersion)
        allowed = TESTS_BY_DESIGN[c.design]
        for test in [t for t in (tests or allowed) if t in allowed]:
            if c.binary:
                verdict = _verdict_binary(c, test, rule)
            elif test == "paired_t":
                verdict = _verdict_paired_t(c, rule)
            elif test in ("student_t", "welch_t"):
                verdict = _verdict_independent_t(c, test, rule)
            else:
                verdict = _verdict_set(c, test, attainable_p(test, c.n1, c.n2), rule)
            rows.append(
                {
                    "comparison": c.comparison_id,
                    "variable": c.variable,
                    "design": c.design,
                    "n1": c.n1,
                    "n2": c.n2,
                    "group1": c.group1,
                    "group2": c.group2,
                    "test": test,
                    "reported_p": f"p {c.p.text()}",
                    "p_figure_id": c.p.figure_id,
                    **verdict,
                }
            )
            # only a rank or sign test that reaches the p says what ties it needs
            rows[-1].setdefault("ties_needed", pd.NA)
            rows[-1].setdefault("fewest_ties", "")
    table = pd.DataFrame(rows)
    if len(table):
        table["ties_needed"] = table["ties_needed"].astype("boolean")
    return table


def consistent_tests(verdicts: pd.DataFrame) -> str:
    """Name the tests consistent with every reported p-value of a table, design by design.

    A test is consistent with a design's comparisons when no reported p of
    that design is shown out of its reach (undetermined verdicts, where tied
    values were not enumerated, are said as such); the sentence also says when
    no test reaches them all, and which comparison no test reaches.

    Parameters
    ----------
    verdicts : pandas.DataFrame
        From :func:`audit`.

    Returns
    -------
    str
        One line per design.

    Examples
    --------
    >>> v = audit(load_reported("data/reported/abstract_figures.csv"))
    >>> print(consistent_tests(v))  # doctest: +NORMALIZE_WHITESPACE
    paired (5 comparisons): no candidate test reaches every reported p; no test reaches
      islet_ab: month 3 vs month 0.
    """
    lines = []
    for design, block in verdicts.groupby("design", sort=False):
        n = block["comparison"].nunique()
        state = block.assign(
            shown=block["reachable"].map(lambda v: v is True),
            open=block["reachable"].map(lambda v: v is not False),
        )
        per_test = state.groupby("test", sort=False)[["shown", "open"]].all()
        tests = [
            t if row.shown else f"{t} (where ties were not enumerated, undetermined)"
            for t, row in per_test.iterrows()
            if row.open
        ]
        head = f"{design} ({n} comparison{'s' if n != 1 else ''})"
        if tests:
            lines.append(f"{head}: consistent with every reported p: {', '.join(tests)}.")
            continue
        by_comparison = state.groupby("comparison", sort=False)["open"].any()
        none = [cid for cid, ok in by_comparison.items() if not ok]
        tail = f"; no test reaches {', '.join(none)}" if none else ""
        lines.append(f"{head}: no candidate test reaches every reported p{tail}.")
    return "\n".join(lines)


# --- granularity (GRIM / GRIMMER) -----------------------------------------------------------


def grim_sums(mean: Reported, n: int, granularity: float, rule: str = "round") -> list[int]:
    """List the sums (in units of ``granularity``) of n values whose mean prints as reported.

    This is GRIM (Brown & Heathers 2017) for any recording granularity.

    Parameters
    ----------
    mean : Reported
    n : int
    granularity : float
        Raw values are multiples of this (1 = integers, 0.1 = tenths).
    rule : {"round", "truncate"}

    Returns
    -------
    list of int
        Empty when the mean is GRIM-inconsistent.

    Examples
    --------
    >>> grim_sums(Reported(5.19, 2), 28, 1.0)  # Brown & Heathers (2017): inconsistent
    []
    >>> grim_sums(Reported(5.18, 2), 28, 1.0)
    [145]
    """
    lo, hi = mean.interval(rule)
    first = math.ceil(lo * n / granularity - _EPS)
    last = math.floor(hi * n / granularity + _EPS)
    return list(range(first, last + 1))


#: Above this many values every sum of squares of the right parity, at or above the most even
#: split's, is reached by some integers with the given sum (checked by enumeration for 5 to 7
#: values, and it follows from Lagrange's four-square theorem); at or below it some are not
#: (three values with sum 0 reach no sum of squares 12), so those are searched for exactly.
_PARITY_SUFFICES_ABOVE = 4

#: The widest search, in values either side of the mean, for 3 or 4 values (a larger one
#: keeps the parity test alone, which can only err towards "consistent").
_EXACT_SEARCH_RADIUS = 3000


def squares_reachable(n: int, total: int, squares: int) -> bool:
    """Tell whether n integers can have sum ``total`` and sum of squares ``squares``.

    Exact for up to four values (two: the difference of the pair is a whole
    square root; three or four: the first one or two values are searched, the
    last two solved as for two); above four, the parity and least-spread
    conditions of GRIMMER decide, which are then sufficient.

    Examples
    --------
    >>> squares_reachable(3, 0, 12), squares_reachable(3, 0, 8), squares_reachable(5, 0, 12)
    (False, True, True)
    """
    if n < 1:
        raise ValueError(f"n must be 1 or more, got {n}")
    base, rest = divmod(total, n)
    least = (n - rest) * base**2 + rest * (base + 1) ** 2
    if squares < least or squares % 2 != total % 2:
        return False
    if n == 1:
        return squares == total * total
    if n > _PARITY_SUFFICES_ABOVE:
        return True
    radius = math.isqrt(max(squares * n - total * total, 0) // n) + 1
    if n > 2 and radius > _EXACT_SEARCH_RADIUS:
        return True
    centre = total // n
    ks = np.arange(centre - radius - 1, centre + radius + 2, dtype=np.int64)
    if n == 2:
        rest_total, rest_squares = np.array([total]), np.array([squares])
    elif n == 3:
        rest_total, rest_squares = total - ks, squares - ks * ks
    else:
        k1, k2 = np.meshgrid(ks, ks, indexing="ij")
        rest_total = (total - k1 - k2).ravel()
        rest_squares = (squares - k1 * k1 - k2 * k2).ravel()
    # two integers a + b = t, a² + b² = q: (a − b)² = 2q − t², a − b of t's parity
    d2 = 2 * rest_squares - rest_total * rest_total
    d = np.sqrt(np.maximum(d2, 0)).round().astype(np.int64)
    return bool(((d2 >= 0) & (d * d == d2) & ((rest_total - d) % 2 == 0)).any())


def grimmer_consistent(
    mean: Reported, sd: Reported, n: int, granularity: float, rule: str = "round"
) -> bool:
    """Check whether a mean and SD can come from n values on a granularity (GRIM + GRIMMER).

    With values x_i = k_i × g (integers k_i), the sum of squares Q = Σk_i² is an
    integer of the same parity as the sum S = Σk_i, at least the most even
    split's, and (n - 1) SD² / g² = Q - S²/n. The SD is consistent when some such
    Q gives an SD within its rounding interval and some integers reach it: for
    more than four values every such Q is reached; for up to four, not all are
    (three values with sum 0 reach no Q of 12), and each is checked exactly
    (:func:`squares_reachable`).

    Parameters
    ----------
    mean, sd : Reported
    n : int
    granularity : float
    rule : {"round", "truncate"}

    Returns
    -------
    bool

    Examples
    --------
    >>> grimmer_consistent(Reported(16.9, 1), Reported(8.31, 2), 7, 1.0)
    False
    >>> grimmer_consistent(Reported(16.9, 1), Reported(8.31, 2), 7, 0.1)
    True

    Three whole numbers with mean 4 and SD 2.45 would need squared deviations
    summing to 12, which no three integers summing to 0 give:

    >>> grimmer_consistent(Reported(4.0, 2), Reported(2.45, 2), 3, 1.0)
    False
    """
    s_lo, s_hi = sd.interval(rule)
    for total in grim_sums(mean, n, granularity, rule):
        q_lo = (n - 1) * (max(s_lo, 0.0) / granularity) ** 2 + total**2 / n
        q_hi = (n - 1) * (s_hi / granularity) ** 2 + total**2 / n
        q = math.ceil(q_lo - _EPS)
        while q <= q_hi + _EPS:
            if squares_reachable(n, total, q):
                return True
            q += 1
    return False


def granularity(
    reported: pd.DataFrame,
    *,
    granularities: Sequence[float] = GRANULARITIES,
    rule: str = "round",
) -> pd.DataFrame:
    """Check every reported mean ± SD against recording granularities (GRIM / GRIMMER).

    Parameters
    ----------
    reported : pandas.DataFrame
        A reported-figures table.
    granularities : sequence of float, default (1, 0.5, 0.1, 0.01)
    rule : {"round", "truncate"}, default "round"

    Returns
    -------
    pandas.DataFrame
        One row per variable × group × visit × granularity: ``variable``,
        ``group``, ``visit``, ``n``, ``mean``, ``sd`` (as printed), ``mean_id``,
        ``sd_id``, ``granularity``, ``grim`` (mean possible), ``grimmer`` (SD
        possible too), ``consistent``.

    Examples
    --------
    >>> g = granularity(load_reported("data/reported/abstract_figures.csv"))
    >>> g.query("variable == 'hba1c' and visit == 1 and consistent")["granularity"].tolist()
    [0.01]
    """
    means = reported[reported["statistic"] == "mean"]
    rows = []
    for m in means.itertuples():
        visit = None if pd.isna(m.visit) else int(m.visit)
        try:
            s = figure(reported, variable=m.variable, statistic="sd", group=m.group, visit=visit)
        except ValueError:
            continue  # a mean without its SD: GRIMMER needs both
        n = sample_size(reported, variable=m.variable, group=m.group, visit=m.visit)
        mean = Reported(float(m.value), int(m.decimals), quote=m.quote, figure_id=m.figure_id)
        sd = Reported(float(s["value"]), int(s["decimals"]), figure_id=s["figure_id"])
        for g in granularities:
            grim = bool(grim_sums(mean, n, g, rule))
            grimmer = grim and grimmer_consistent(mean, sd, n, g, rule)
            rows.append(
                {
                    "variable": m.variable,
                    "group": m.group,
                    "visit": m.visit,
                    "n": n,
                    "mean": format_number(mean.value, mean.decimals),
                    "sd": format_number(sd.value, sd.decimals),
                    "mean_id": mean.figure_id,
                    "sd_id": sd.figure_id,
                    "granularity": g,
                    "grim": grim,
                    "grimmer": grimmer,
                    "consistent": grimmer,
                }
            )
    return pd.DataFrame(rows)


# --- command line ---------------------------------------------------------------------------


def _print_verdicts(table: pd.DataFrame, out: object) -> None:
    for cid, block in table.groupby("comparison", sort=False):
        first = block.iloc[0]
        paired = first.design.startswith("paired")
        size = (
            f"n = {first.n1}"
            if paired
            else f"n = {first.n2} ({first.group2}) + {first.n1} ({first.group1})"
        )
        print(f"\n{cid} ({first.design}, {size}); reported {first.reported_p}", file=out)
        for r in block.itertuples():
            verdict = {True: "reachable    ", None: "undetermined "}.get(
                r.reachable, "NOT reachable"
            )
            detail = r.implies if r.reachable else r.reason
            print(f"  {r.test:<27} {verdict}  {detail}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m helpers.audit PATH [--csv OUT] [--tests ...] [--precision ...]``.

    ``--dispersion sem`` reads every "±" figure as a standard error of the mean.
    """
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m helpers.audit",
        description="Which tests can have produced each reported p-value, and which "
        "recording granularities fit each reported mean and SD.",
    )
    parser.add_argument("path", help="reported-figures table (CSV)")
    parser.add_argument("--tests", nargs="+", help="candidate tests (default: all for the design)")
    parser.add_argument("--precision", choices=PRECISION_RULES, default="round")
    parser.add_argument(
        "--dispersion",
        choices=DISPERSIONS,
        default="sd",
        help='what a printed "±" figure is: an SD (default) or a standard error of the mean',
    )
    parser.add_argument("--csv", help="write the verdict table to this CSV file")
    parser.add_argument("--granularity-csv", help="write the granularity table to this CSV file")
    args = parser.parse_args(argv)
    from helpers.errors import HelpersError

    path = Path(args.path).expanduser().absolute()  # a command line's paths are from the cwd
    try:
        reported = load_reported(path)
        verdicts = audit(
            reported, tests=args.tests, rule=args.precision, dispersion=args.dispersion
        )
        grains = granularity(reported, rule=args.precision)
    except (HelpersError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"Audit of {path} (precision rule: {args.precision}; ± read as "
        f"{'an SD' if args.dispersion == 'sd' else 'a standard error of the mean'})"
    )
    _print_verdicts(verdicts, sys.stdout)
    print("\nTests consistent with every reported p-value:")
    print(consistent_tests(verdicts))
    print(
        "\nGranularity of raw values consistent with each mean ± SD (GRIM + GRIMMER; ± read "
        "as an SD):"
    )
    if grains.empty:
        print("(the table reports no mean ± SD)")
    else:
        fits = (
            grains[grains["consistent"]]
            .groupby(["variable", "visit", "mean", "sd"], sort=False)["granularity"]
            .apply(lambda g: ", ".join(f"{v:g}" for v in g))
        )
        print(fits.to_frame("recording steps that fit").to_string())
    for target, table in ((args.csv, verdicts), (args.granularity_csv, grains)):
        if target:
            out = Path(target).expanduser().absolute()
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                table.to_csv(out, index=False, lineterminator="\n")
            except OSError as exc:
                print(f"error: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
                return 1
            print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
