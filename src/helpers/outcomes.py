"""Outcome analysis shared by the outcome notebooks: summaries per visit and visit comparisons.

Every function takes the tidy measurements table (patient_id, visit_month,
outcome, value) and works with whatever patients, visits and outcomes it holds.
Missing measurements are missing rows: a summary uses the patients measured at
that visit; a paired comparison uses the patients measured at both visits, and
says how many that was.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pingouin as pg
import statsmodels.formula.api as smf
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests

from helpers.choices import MULTIPLICITY_FAMILIES, MULTIPLICITY_METHODS, MULTIPLICITY_NAMES
from helpers.clinical import add_derived
from helpers.precision import (
    format_count,
    format_estimate,
    format_mean_sd,
    format_number,
    format_p,
    format_percent,
    plural,
    round_to_recording,
    round_to_recording_by_row,
)
from helpers.stats import PAIRED_TESTS, hedges_g_av, mean_sd, paired_test, paired_values
from helpers.study import Study, in_sentence, label_for

__all__ = [
    "EFFECT_NAMES",
    "MIXED_MODEL_METHOD",
    "MULTIPLICITY_FAMILIES",
    "MULTIPLICITY_METHODS",
    "adjust_family",
    "adjust_pvalues",
    "change_from_baseline",
    "compare_to_baseline",
    "comparison_table",
    "describe_visits",
    "family_label",
    "first_visit",
    "follow_up_pairs",
    "median_ci",
    "mixed_model",
    "omnibus_tests",
    "outcome_pairs",
    "plural",
    "rank_biserial",
    "rank_biserial_along",
    "rank_biserial_ci",
    "summarise_comparisons",
    "summary_table",
    "untested_comparisons",
    "visit_means_ci",
]

_OMNIBUS_NAMES = {
    "friedman": "Friedman test",
    "rm_anova": "repeated-measures ANOVA",
}


def describe_visits(
    measurements: pd.DataFrame,
    *,
    outcomes: Sequence[str] | None = None,
    visits: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Summarise each outcome at each visit.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Tidy measurements.
    outcomes, visits : sequence, optional
        Restrict to these; default, all present.

    Returns
    -------
    pandas.DataFrame
        One row per outcome × visit present, outcomes in the order of
        ``outcomes`` (given) or of their codes: ``outcome``, ``visit_month``,
        ``n``, ``mean``, ``sd`` (sample SD, ddof = 1; both from exactly rounded
        sums, :func:`~helpers.stats.mean_sd`, so they do not depend on the order
        of the rows), ``median``, ``q1``, ``q3``, ``min``, ``max``.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"patient_id": ["a", "b"], "visit_month": [0, 0],
    ...                   "outcome": ["hba1c", "hba1c"], "value": [8.0, 9.0]})
    >>> describe_visits(m)[["n", "mean", "sd"]].round(3).values.tolist()
    [[2.0, 8.5, 0.707]]
    """
    data = _select(measurements, outcomes, visits)
    grouped = data.groupby(["outcome", "visit_month"], sort=True)["value"]
    table = grouped.agg(
        n="count",
        median="median",
        q1=lambda v: v.quantile(0.25),
        q3=lambda v: v.quantile(0.75),
        min="min",
        max="max",
    )
    # exact sums: the same in any row order (one call per group gives both)
    moments = [mean_sd(v.dropna().to_numpy()) for _, v in grouped]
    table.insert(1, "mean", [m for m, _ in moments])
    table.insert(2, "sd", [s for _, s in moments])
    table = table.reset_index()
    if outcomes is None:
        return table
    order = {code: i for i, code in enumerate(outcomes)}  # the order asked for, not the alphabet
    return table.sort_values(
        ["outcome", "visit_month"],
        key=lambda c: c.astype(object).map(order) if c.name == "outcome" else c,
        kind="stable",
    ).reset_index(drop=True)


def outcome_pairs(
    measurements: pd.DataFrame, *, outcome: str, visit: int, baseline: int
) -> pd.DataFrame:
    """Pair one outcome's values at a visit with baseline, patients with both only.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Tidy measurements.
    outcome : str
    visit, baseline : int
        Visit months.

    Returns
    -------
    pandas.DataFrame
        Indexed by patient, columns ``before`` (baseline) and ``after``.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"patient_id": list("aabbc"), "visit_month": [0, 1, 0, 1, 0],
    ...                   "outcome": ["hba1c"] * 5, "value": [9, 8, 10, 9.5, 8]})
    >>> outcome_pairs(m, outcome="hba1c", visit=1, baseline=0).index.tolist()
    ['a', 'b']
    """
    data = measurements[measurements["outcome"] == outcome]
    return paired_values(
        data, dv="value", within="visit_month", subject="patient_id", before=baseline, after=visit
    )


def follow_up_pairs(
    measurements: pd.DataFrame,
    *,
    outcomes: Sequence[str],
    visits: Sequence[int] | None,
    baseline: int,
) -> Iterator[tuple[str, int, pd.DataFrame]]:
    """Pair each outcome's follow-up visits with baseline, outcome by outcome.

    The loop every paired analysis shares (comparisons with baseline, the
    safety analyses): each outcome's rows are selected once, then each visit
    is paired with baseline by :func:`outcome_pairs`.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Tidy measurements.
    outcomes : sequence of str
        In the order wanted.
    visits : sequence of int or None
        Visits to pair with baseline, in order; baseline itself is skipped.
        ``None``: the visits at which the outcome was measured, in time order.
    baseline : int

    Yields
    ------
    tuple of (str, int, pandas.DataFrame)
        The outcome, the visit and its pairs (possibly empty).

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"patient_id": list("aabbc"), "visit_month": [0, 1, 0, 1, 3],
    ...                   "outcome": ["hba1c"] * 5, "value": [9, 8, 10, 9.5, 8]})
    >>> [(o, v, len(p)) for o, v, p in follow_up_pairs(m, outcomes=["hba1c"], visits=None,
    ...                                                 baseline=0)]
    [('hba1c', 1, 2), ('hba1c', 3, 0)]
    """
    for code in outcomes:
        own = measurements[measurements["outcome"] == code]  # once per outcome, not per visit
        wanted = visits if visits is not None else sorted(set(own["visit_month"].unique().tolist()))
        for visit in wanted:
            if visit != baseline:
                yield code, visit, outcome_pairs(own, outcome=code, visit=visit, baseline=baseline)


def first_visit(measurements: pd.DataFrame) -> int:
    """Return the earliest visit in the data: the baseline when none is named.

    Parameters
    ----------
    measurements : pandas.DataFrame

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the data hold no visit.

    Examples
    --------
    >>> first_visit(pd.DataFrame({"visit_month": [3, 1, 6]}))
    1
    """
    if measurements.empty:
        raise ValueError("no measurements: name the baseline visit")
    return int(measurements["visit_month"].min())


def _select(
    measurements: pd.DataFrame, outcomes: Sequence[str] | None, visits: Sequence[int] | None
) -> pd.DataFrame:
    data = measurements
    if outcomes is not None:
        data = data[data["outcome"].isin(outcomes)]
    if visits is not None:
        data = data[data["visit_month"].isin(visits)]
    return data


def summary_table(
    measurements: pd.DataFrame,
    *,
    outcomes: Sequence[str] | None = None,
    visits: Sequence[int] | None = None,
    decimals: int = 2,
    derived: bool = False,
    study: Study | None = None,
) -> pd.DataFrame:
    """Describe each outcome at each visit as a publication table of text.

    Parameters
    ----------
    measurements : pandas.DataFrame
    outcomes, visits : sequence, optional
    decimals : int, default 2
    derived : bool, default False
        Also show the study's derived outcomes (e.g. HbA1c in mmol/mol), each
        right after the outcome it is converted from.
    study : Study, optional
        Labels and derived outcomes; without it outcomes are named by code.

    Returns
    -------
    pandas.DataFrame
        Index (outcome label, visit); columns ``n``, ``mean ± SD``, ``with
        decimal commas`` (the same, written as the abstract writes numbers; to
        the recording precision, not the abstract's rounding), ``median
        [IQR]``, ``min–max``.

    Examples
    --------
    >>> from helpers.study import load_study
    >>> m = pd.DataFrame({"patient_id": ["a", "b"], "visit_month": [0, 0],
    ...                   "outcome": ["hba1c", "hba1c"], "value": [8.0, 9.0]})
    >>> t = summary_table(m, derived=True, study=load_study("data/study.yaml"))
    >>> t.index.get_level_values("outcome").tolist(), t.iloc[0]["with decimal commas"]
    (['HbA1c (%)', 'HbA1c, IFCC (mmol/mol)'], '8,50 ± 0,71')
    """
    codes = list(outcomes) if outcomes is not None else list(dict.fromkeys(measurements["outcome"]))
    if derived and study is not None:
        measurements = add_derived(measurements, study=study)
        for d in study.derived:
            if d.source_outcome in codes:
                codes.insert(codes.index(d.source_outcome) + 1, d.code)
    desc = describe_visits(measurements, outcomes=codes, visits=visits)  # in the order of codes

    def fmt(v: float) -> str:
        return format_number(v, decimals)

    table = pd.DataFrame(
        {
            "outcome": [label_for(c, study) for c in desc["outcome"]],
            "visit": [f"month {v}" for v in desc["visit_month"]],
            "n": desc["n"].astype(int).to_numpy(),
            "mean ± SD": [
                format_mean_sd(m, s, decimals)
                for m, s in zip(desc["mean"], desc["sd"], strict=True)
            ],
            "with decimal commas": [
                format_mean_sd(m, s, decimals, comma=True)
                for m, s in zip(desc["mean"], desc["sd"], strict=True)
            ],
            "median [IQR]": [
                f"{fmt(m)} [{fmt(a)}, {fmt(b)}]"
                for m, a, b in zip(desc["median"], desc["q1"], desc["q3"], strict=True)
            ],
            "min–max": [
                f"{fmt(a)}–{fmt(b)}" for a, b in zip(desc["min"], desc["max"], strict=True)
            ],
        }
    )
    return table.set_index(["outcome", "visit"])


#: The note of a change whose baseline is zero (:func:`change_from_baseline`).
ZERO_BASELINE_NOTE = "baseline is zero: percent change undefined"


def change_from_baseline(
    measurements: pd.DataFrame,
    *,
    outcomes: Sequence[str] | None = None,
    baseline: int | None = None,
) -> pd.DataFrame:
    """Compute each patient's change from baseline at every later visit.

    Parameters
    ----------
    measurements : pandas.DataFrame
    outcomes : sequence of str, optional
    baseline : int, optional
        The visit compared with; default, the earliest visit in the data.

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``outcome``, ``visit_month``, ``baseline_value``,
        ``value``, ``change``, ``percent_change``, ``note``; only patients
        measured at baseline and at that visit. A percent change from a
        baseline of zero is undefined: it is left missing and ``note`` says why.

    Examples
    --------
    >>> m = pd.DataFrame({"patient_id": ["a", "a", "b", "b"], "visit_month": [0, 1, 0, 1],
    ...                   "outcome": ["gad_ab"] * 4, "value": [10.0, 9.0, 0.0, 2.0]})
    >>> change_from_baseline(m)[["change", "percent_change"]].values.tolist()
    [[-1.0, -10.0], [2.0, nan]]
    """
    baseline = first_visit(measurements) if baseline is None else baseline
    data = _select(measurements, outcomes, None)
    base = data[data["visit_month"] == baseline][["patient_id", "outcome", "value"]]
    later = data[data["visit_month"] != baseline]
    merged = later.merge(base, on=["patient_id", "outcome"], suffixes=("", "_base"))
    merged = merged.rename(columns={"value_base": "baseline_value"})
    merged["change"] = round_to_recording(merged["value"] - merged["baseline_value"], data["value"])
    zero = merged["baseline_value"] == 0
    merged["percent_change"] = (100 * merged["change"] / merged["baseline_value"]).where(~zero)
    # each row shares one of two strings (np.where would first build a fixed-width text array
    # of 172 bytes a row: 0.55 s and 200 MB for a million rows, against 0.01 s)
    notes = np.array(["", ZERO_BASELINE_NOTE], dtype=object)[zero.to_numpy(dtype=np.intp)]
    merged["note"] = pd.Series(notes, index=merged.index, dtype="str")
    columns = [
        "patient_id",
        "outcome",
        "visit_month",
        "baseline_value",
        "value",
        "change",
        "percent_change",
        "note",
    ]
    return (
        merged[columns].sort_values(["outcome", "visit_month", "patient_id"]).reset_index(drop=True)
    )


def rank_biserial(before: np.ndarray, after: np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation of after − before (Kerby 2014).

    ``(W+ − W−) / (W+ + W−)`` over the non-zero differences: +1 when every
    patient rose, −1 when every patient fell. Differences are rounded to the
    values' recording precision first, so true ties share their rank. One
    sample of :func:`rank_biserial_along`, which computes it.

    Parameters
    ----------
    before, after : array-like

    Returns
    -------
    float
        NaN when every difference is zero, or there are none.

    Examples
    --------
    >>> rank_biserial(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 2.5]))
    0.6666666666666666
    """
    return float(rank_biserial_along(before, after))


def rank_biserial_along(
    before: Sequence[float] | np.ndarray, after: Sequence[float] | np.ndarray, *, axis: int = -1
) -> np.ndarray:
    """:func:`rank_biserial` of every sample along ``axis`` at once (for the bootstrap).

    Each sample's differences are rounded to its own values' recording
    precision (:func:`helpers.precision.round_to_recording_by_row`), as they
    would be alone; zeros are ranked with the rest and then taken out, which
    lowers every other rank by the number of zeros. The ranks are multiples
    of ½, so every sum is exact: each value is, to the bit, the definition
    computed on the sample alone (W± from the non-zero differences' ranks).
    Because it takes ``axis``, pingouin's ``compute_bootci`` (SciPy's
    ``bootstrap``) evaluates all resamples in one call instead of one Python
    call per resample.

    Parameters
    ----------
    before, after : array-like
        Paired samples, the pairs along ``axis`` (broadcast against each other).
    axis : int, default -1
        The axis that holds a sample's pairs; every other axis indexes samples.

    Returns
    -------
    numpy.ndarray
        One r per sample, the shape of the inputs without ``axis`` (a 0-d array
        for one sample); NaN where every difference is zero or there are none.

    Examples
    --------
    >>> b = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    >>> rank_biserial_along(b, np.array([[2.0, 4.0, 2.5], [1.0, 2.0, 3.0]])).tolist()
    [0.6666666666666666, nan]
    """
    b, a = np.broadcast_arrays(np.asarray(before, float), np.asarray(after, float))
    b, a = np.moveaxis(b, axis, -1), np.moveaxis(a, axis, -1)
    shape, n = b.shape[:-1], b.shape[-1]
    b, a = b.reshape(math.prod(shape), n), a.reshape(math.prod(shape), n)
    d = round_to_recording_by_row(a - b, np.concatenate([b, a], axis=1))
    nonzero = d != 0
    ranks = stats.rankdata(np.abs(d), axis=1) - (~nonzero).sum(axis=1, keepdims=True)
    plus = np.where(d > 0, ranks, 0.0).sum(axis=1)
    minus = np.where(d < 0, ranks, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (plus - minus) / (plus + minus)  # exact sums: plus + minus is the ranks' sum
    r[~nonzero.any(axis=1)] = math.nan
    return r.reshape(shape)


#: Up to this many pairs the rank-biserial and median intervals are percentile bootstraps;
#: above, large-sample intervals (:func:`rank_biserial_ci`, :func:`median_ci`) whose cost
#: does not multiply n by the number of resamples.
BOOTSTRAP_UP_TO = 1000


def rank_biserial_ci(
    before: np.ndarray, after: np.ndarray, *, ci_level: float
) -> tuple[float, float]:
    """Large-sample interval for the matched-pairs rank-biserial r (U-statistic variance).

    Among the m non-zero differences (rounded as in :func:`rank_biserial`),
    r = 2 W⁺/S − 1 with S = m(m + 1)/2, and W⁺/S estimates θ = P(D₁ + D₂ > 0)
    (+ ½ P(D₁ + D₂ = 0)), a U-statistic. Its variance is 4 ζ₁/m with ζ₁ the
    variance of h(x) = P(x + D > 0) + ½ P(x + D = 0) (Hoeffding 1948), estimated
    from the structural components h(dᵢ) as DeLong, DeLong & Clarke-Pearson
    (1988) do for the area under the ROC curve. The interval is
    r ± z·4·√(ζ₁/m), clipped to [−1, 1]; each h(dᵢ) is counted from the sorted
    differences, so the cost is that of one sort.

    Parameters
    ----------
    before, after : array-like
    ci_level : float

    Returns
    -------
    tuple of float
        (low, high); NaN when fewer than two differences are non-zero.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> b = rng.normal(size=5000)
    >>> low, high = rank_biserial_ci(b, b + 0.3 + rng.normal(size=5000), ci_level=0.95)
    >>> round(low, 3), round(high, 3)
    (0.324, 0.383)
    """
    b, a = np.asarray(before, float), np.asarray(after, float)
    d = round_to_recording(a - b, np.concatenate([b, a]))
    d = np.sort(d[d != 0])
    m = len(d)
    if m < 2:
        return math.nan, math.nan
    r = rank_biserial(b, a)
    # h(d_i): the share of d_j with d_i + d_j > 0, ties (d_i + d_j = 0) counting one half
    right = np.searchsorted(d, -d, side="right")
    above, tied = m - right, right - np.searchsorted(d, -d, side="left")
    h = (above + 0.5 * tied) / m
    half = stats.norm.ppf(0.5 + ci_level / 2) * 4 * math.sqrt(float(np.var(h, ddof=1)) / m)
    return float(max(r - half, -1.0)), float(min(r + half, 1.0))


def median_ci(d: np.ndarray, *, ci_level: float) -> tuple[float, float]:
    """Distribution-free interval for a median from order statistics (binomial).

    The k-th smallest and k-th largest of n values bound the median with
    probability at least ``ci_level``, where k is the largest count with
    P(Binomial(n, ½) < k) ≤ (1 − ci_level)/2 (Conover 1999, section 3.2).

    Parameters
    ----------
    d : array-like
    ci_level : float

    Returns
    -------
    tuple of float
        (low, high); NaN when n is too small for the level.

    Examples
    --------
    >>> median_ci(np.arange(1.0, 101.0), ci_level=0.95)  # the 40th and the 61st of 100
    (40.0, 61.0)
    """
    values = np.sort(np.asarray(d, float))
    n = len(values)
    k = int(stats.binom.ppf((1 - ci_level) / 2, n, 0.5))  # P(B ≤ k) ≥ α/2 first here
    if stats.binom.cdf(k, n, 0.5) > (1 - ci_level) / 2:
        k -= 1  # P(B < k + 1) = P(B ≤ k) must not exceed α/2: the k-th order statistic is k+1
    if k < 0:
        return math.nan, math.nan
    return float(values[k]), float(values[n - 1 - k])


def _effect_and_change(
    before: np.ndarray, after: np.ndarray, test: str, ci_level: float, n_boot: int, seed: int
) -> dict[str, object]:
    n = len(before)
    d = round_to_recording(after - before, np.concatenate([before, after]))
    nan = math.nan
    if test == "paired_t":
        out: dict[str, object] = {"effect_measure": "hedges_g_av", "change_measure": "mean change"}
        if n < 3:
            return {
                **out,
                "effect": nan,
                "effect_ci_low": nan,
                "effect_ci_high": nan,
                "change_estimate": float(d.mean()) if n else nan,
                "change_ci_low": nan,
                "change_ci_high": nan,
            }
        g = hedges_g_av(before, after, ci_level=ci_level)
        m_ci = stats.ttest_rel(after, before).confidence_interval(ci_level)
        return {
            **out,
            "effect": g["g"],
            "effect_ci_low": g["ci_low"],
            "effect_ci_high": g["ci_high"],
            "change_estimate": float(d.mean()),
            "change_ci_low": float(m_ci.low),
            "change_ci_high": float(m_ci.high),
        }
    out = {"effect_measure": "rank_biserial", "change_measure": "median change"}
    if n < 3 or np.all(d == 0):
        return {
            **out,
            "effect": rank_biserial(before, after),
            "effect_ci_low": nan,
            "effect_ci_high": nan,
            "change_estimate": float(np.median(d)) if n else nan,
            "change_ci_low": nan,
            "change_ci_high": nan,
        }
    if n > BOOTSTRAP_UP_TO:
        r_low, r_high = rank_biserial_ci(before, after, ci_level=ci_level)
        m_low, m_high = median_ci(d, ci_level=ci_level)
        return {
            "effect_measure": "rank_biserial_normal",
            "change_measure": "median change (order statistics)",
            "effect": rank_biserial(before, after),
            "effect_ci_low": r_low,
            "effect_ci_high": r_high,
            "change_estimate": float(np.median(d)),
            "change_ci_low": m_low,
            "change_ci_high": m_high,
        }
    r_ci = pg.compute_bootci(
        before,
        after,
        func=rank_biserial_along,
        paired=True,
        method="per",
        confidence=ci_level,
        n_boot=n_boot,
        seed=seed,
        decimals=10,
    )
    med_ci = pg.compute_bootci(
        d, func=np.median, method="per", confidence=ci_level, n_boot=n_boot, seed=seed, decimals=10
    )
    return {
        **out,
        "effect": rank_biserial(before, after),
        "effect_ci_low": float(r_ci[0]),
        "effect_ci_high": float(r_ci[1]),
        "change_estimate": float(np.median(d)),
        "change_ci_low": float(med_ci[0]),
        "change_ci_high": float(med_ci[1]),
        "n_boot": n_boot,
    }


def compare_to_baseline(
    measurements: pd.DataFrame,
    *,
    outcomes: Sequence[str] | None = None,
    visits: Sequence[int] | None = None,
    baseline: int | None = None,
    primary: str = "paired_t",
    sensitivity: str | None = "wilcoxon_r",
    ci_level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Compare every follow-up visit with baseline: primary test, sensitivity test, effect sizes.

    Parameters
    ----------
    measurements : pandas.DataFrame
    outcomes, visits : sequence, optional
        Default, all present; visits other than ``baseline`` are compared with it.
    baseline : int, optional
        The visit compared with; default, the earliest visit in the data.
    primary : str, default "paired_t"
        A key of :data:`helpers.stats.PAIRED_TESTS`.
    sensitivity : str or None, default "wilcoxon_r"
        A second test, reported beside the primary one; None for none.
    ci_level : float, default 0.95
    n_boot : int, default 2000
        Bootstrap resamples for rank-based effect sizes and median changes.
    seed : int, default 0
        Seed of those bootstraps.

    Returns
    -------
    pandas.DataFrame
        One row per outcome × visit × analysis: ``outcome``, ``visit_month``,
        ``baseline``, ``analysis`` (primary / sensitivity), ``test``, ``n``
        (patients with both visits), ``n_used``, ``statistic``, ``p_val``,
        ``effect_measure`` (``hedges_g_av``: Hedges' g_av, the mean change over
        the root mean square of the two SDs, small-sample corrected, with the
        Algina–Keselman (2003) noncentral-t interval for δ_av, see
        :func:`helpers.stats.hedges_g_av`; ``rank_biserial``: with a seeded
        percentile bootstrap CI), ``effect``, ``effect_ci_low``,
        ``effect_ci_high``, ``change_measure`` (mean change with its t CI for the
        t-test; median change with a bootstrap CI otherwise),
        ``change_estimate``, ``change_ci_low``, ``change_ci_high``,
        ``ci_level``, ``n_boot`` (the resamples of the bootstrap intervals;
        missing where no bootstrap was run). A visit
        with fewer than two patients measured at both visits gets a row with
        ``n`` and missing results.

    Raises
    ------
    ValueError
        For an unknown test or a CI level outside (0, 1).

    Examples
    --------
    >>> from helpers.simulate import simulate_cohort
    >>> from helpers.study import load_study
    >>> STUDY = load_study("data/study.yaml")
    >>> m = simulate_cohort(12, study=STUDY, seed=2).measurements
    >>> t = compare_to_baseline(m, outcomes=["hba1c"], n_boot=200)
    >>> t[["visit_month", "analysis", "n"]].values.tolist()[:2]
    [[1, 'primary', 12], [1, 'sensitivity', 12]]
    """
    baseline = first_visit(measurements) if baseline is None else baseline
    for test in (primary, sensitivity):
        if test is not None and test not in PAIRED_TESTS:
            raise ValueError(f"unknown test {test!r}; allowed: {', '.join(PAIRED_TESTS)}")
    if not 0 < ci_level < 1:
        raise ValueError(f"ci_level must be between 0 and 1, got {ci_level}")
    data = _select(measurements, outcomes, None)
    codes = list(outcomes) if outcomes is not None else list(dict.fromkeys(data["outcome"]))
    rows = []
    for code, visit, pairs in follow_up_pairs(
        data, outcomes=codes, visits=visits, baseline=baseline
    ):
        before, after = pairs["before"].to_numpy(), pairs["after"].to_numpy()
        for analysis, test in (("primary", primary), ("sensitivity", sensitivity)):
            if test is None:
                continue
            row: dict[str, object] = {
                "outcome": code,
                "visit_month": visit,
                "baseline": baseline,
                "analysis": analysis,
                "test": test,
                "n": len(pairs),
                "ci_level": ci_level,
            }
            if len(pairs) >= 2:
                res = paired_test(before, after, test).iloc[0]
                row.update(
                    method=res["method"],
                    n_used=int(res["n_used"]),
                    statistic=float(res["statistic"]),
                    p_val=float(res["p_val"]),
                )
                row.update(_effect_and_change(before, after, test, ci_level, n_boot, seed))
            rows.append(row)
    columns = [
        "outcome",
        "visit_month",
        "baseline",
        "analysis",
        "test",
        "method",
        "n",
        "n_used",
        "statistic",
        "p_val",
        "effect_measure",
        "effect",
        "effect_ci_low",
        "effect_ci_high",
        "change_measure",
        "change_estimate",
        "change_ci_low",
        "change_ci_high",
        "ci_level",
        "n_boot",
    ]
    # counts, missing where no test (or no bootstrap) was run: whole numbers, not 7.0
    return (
        pd.DataFrame(rows).reindex(columns=columns).astype({"n_used": "Int64", "n_boot": "Int64"})
    )


def adjust_family(
    p_values: Sequence[float] | pd.Series, *, method: str, planned: int
) -> np.ndarray:
    """Adjust one family's p-values for multiplicity, counting comparisons that were not made.

    A family is fixed before the data are seen: for example every outcome at
    every planned follow-up visit. A planned comparison that could not be made
    (no patient measured at both visits) still belongs to it; it is counted as
    a hypothesis that is not rejected (p = 1), so the family's size does not
    depend on which visits happen to have data. For Holm, Bonferroni and
    Benjamini–Hochberg this is exactly the procedure with ``planned``
    hypotheses.

    Parameters
    ----------
    p_values : array-like of float
        The family's p-values; missing ones are comparisons that were not made.
    method : {"holm", "bonferroni", "fdr_bh", "hommel", "none"}
        Holm by pingouin's ``multicomp``; the others by statsmodels'
        ``multipletests`` (whose Holm branch runs a full garbage collection on
        every call, seconds in a large session); "none" returns the raw p.
    planned : int
        The size of the family (at least the number of p-values given).

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, missing where the input was missing.

    Examples
    --------
    >>> adjust_family([0.01, 0.04, float("nan")], method="holm", planned=3).round(2).tolist()
    [0.03, 0.08, nan]
    >>> adjust_family([0.01, 0.04], method="bonferroni", planned=9).round(2).tolist()
    [0.09, 0.36]
    """
    if method not in MULTIPLICITY_METHODS:
        raise ValueError(f"method must be one of {', '.join(MULTIPLICITY_METHODS)}, got {method!r}")
    p = np.asarray(p_values, dtype=float)
    ok = ~np.isnan(p)
    if planned < len(p):
        raise ValueError(f"planned family size {planned} is smaller than the {len(p)} p-values")
    out = np.full(len(p), np.nan)
    if not ok.any():
        return out
    if method == "none":
        out[ok] = p[ok]
        return out
    padded = np.concatenate([p[ok], np.ones(planned - len(p) + int((~ok).sum()))])
    if method == "holm":
        adjusted = np.asarray(pg.multicomp(padded, method="holm")[1], dtype=float)
    else:
        adjusted = multipletests(padded, method=method)[1]
    out[ok] = adjusted[: int(ok.sum())]
    return out


def family_label(*, method: str, planned: int, tested: int, what: str) -> str:
    """Name a multiplicity family for the reader, beside the p-values it adjusts.

    Parameters
    ----------
    method : str
        The adjustment (``"none"`` for unadjusted).
    planned, tested : int
        Comparisons in the family, and how many of them could be made.
    what : str
        What the family is, e.g. ``"primary tests: 3 outcomes × 3 follow-up visits"``.

    Returns
    -------
    str

    Examples
    --------
    >>> family_label(method="holm", planned=9, tested=3, what="3 outcomes")
    'Holm over 9 comparisons — 3 outcomes; 6 of them have no data and count as not rejected'
    >>> family_label(method="holm", planned=2, tested=1, what="2 outcomes")
    'Holm over 2 comparisons — 2 outcomes; 1 of them has no data and counts as not rejected'

    A dash, not parentheses: the label is itself put in parentheses beside
    the p-values it adjusts.
    """
    if method == "none":
        return f"unadjusted — {what}"
    untested = planned - tested
    verbs = ("has", "counts") if untested == 1 else ("have", "count")
    extra = f"; {untested} of them {verbs[0]} no data and {verbs[1]} as not rejected"
    extra = extra if untested else ""
    name = MULTIPLICITY_NAMES.get(method, method)
    return f"{name} over {plural(planned, 'comparison')} — {what}{extra}"


def adjust_pvalues(
    table: pd.DataFrame,
    *,
    method: str = "holm",
    alpha: float = 0.05,
    family: str = "planned",
) -> pd.DataFrame:
    """Add multiplicity-adjusted p-values, one family per analysis (primary, sensitivity).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`compare_to_baseline`: one row per outcome × planned
        follow-up visit × analysis, with ``p_val`` missing where the comparison
        could not be made.
    method : {"holm", "bonferroni", "fdr_bh", "hommel", "none"}, default "holm"
        Passed to statsmodels ``multipletests``; "none" copies the raw p.
    alpha : float, default 0.05
    family : {"planned", "tested"}, default "planned"
        ``"planned"``: every row of the analysis is in the family (every
        outcome at every planned follow-up visit), and comparisons without data
        count as not rejected (:func:`adjust_family`), so the family does not
        shrink when visits are missing. ``"tested"``: only the comparisons
        that could be made.

    Returns
    -------
    pandas.DataFrame
        The table with ``p_adj``, ``significant`` (p_adj < alpha; missing
        without a p-value) and ``family`` (what each adjusted p was adjusted
        over, in words).

    Raises
    ------
    ValueError
        For an unknown method or family.

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["a", "b", "c", "d"], "analysis": ["primary"] * 4,
    ...                   "p_val": [0.01, 0.04, 0.03, float("nan")]})
    >>> adjust_pvalues(t)["p_adj"].round(2).tolist()
    [0.04, 0.09, 0.09, nan]
    >>> adjust_pvalues(t, family="tested")["p_adj"].round(2).tolist()
    [0.03, 0.06, 0.06, nan]
    """
    if family not in MULTIPLICITY_FAMILIES:
        allowed = ", ".join(MULTIPLICITY_FAMILIES)
        raise ValueError(f"family must be one of {allowed}, got {family!r}")
    out = table.copy()
    out["p_adj"] = np.nan
    out["family"] = ""
    for analysis, idx in out.groupby("analysis", sort=False).groups.items():
        p = out.loc[idx, "p_val"].astype(float)
        tested = int(p.notna().sum())
        planned = len(p) if family == "planned" else tested
        if family == "tested":
            p = p[p.notna()]
        if len(p):
            out.loc[p.index, "p_adj"] = adjust_family(p, method=method, planned=planned)
        sub = out.loc[idx]
        what = (
            f"{analysis} tests: {plural(sub['outcome'].nunique(), 'outcome')} × "
            f"{plural(sub['visit_month'].nunique(), 'follow-up visit')}"
            if {"outcome", "visit_month"} <= set(sub.columns) and family == "planned"
            else f"{analysis} tests that could be made"
        )
        out.loc[idx, "family"] = family_label(
            method=method, planned=planned, tested=tested, what=what
        )
    out["significant"] = (out["p_adj"] < alpha).where(out["p_adj"].notna())
    return out


def omnibus_tests(
    measurements: pd.DataFrame,
    *,
    outcomes: Sequence[str] | None = None,
    visits: Sequence[int] | None = None,
    multiplicity: str = "holm",
) -> pd.DataFrame:
    """Test for any change across visits: Friedman, and repeated-measures ANOVA.

    Both need every visit of a patient, so they use complete cases only; the
    table says how many patients and values that was. The ANOVA reports the
    Greenhouse–Geisser corrected p when there are three or more visits
    (pingouin ``rm_anova(correction=True)``).

    Each method's p-values are adjusted across the outcomes (one family per
    method; an outcome that cannot be tested counts as not rejected, see
    :func:`adjust_family`); the ANOVA's adjusted p starts from the
    Greenhouse–Geisser p where there is one.

    Parameters
    ----------
    measurements : pandas.DataFrame
    outcomes, visits : sequence, optional
    multiplicity : str, default "holm"
        See :data:`MULTIPLICITY_METHODS`.

    Returns
    -------
    pandas.DataFrame
        One row per outcome × method: ``outcome``, ``method``, ``visits``,
        ``n_patients``, ``n_values``, ``statistic`` (Friedman Q or F),
        ``df1``, ``df2``, ``p_val``, ``epsilon`` (Greenhouse–Geisser),
        ``p_gg`` (corrected), ``p_adj``, ``family``, ``test`` (the method's
        name for readers), ``note``.

    Examples
    --------
    >>> from helpers.simulate import simulate_cohort
    >>> from helpers.study import load_study
    >>> STUDY = load_study("data/study.yaml")
    >>> c = simulate_cohort(10, study=STUDY, missing=[("S01", 2)], seed=3)
    >>> omnibus_tests(c.measurements, outcomes=["hba1c"])[["method", "n_patients"]].values.tolist()
    [['friedman', 9], ['rm_anova', 9]]
    """
    data = _select(measurements, outcomes, visits)
    codes = list(outcomes) if outcomes is not None else list(dict.fromkeys(data["outcome"]))
    rows = []
    for code in codes:
        sub = data[data["outcome"] == code]
        # patients sorted (pivot keeps categorical ids in row order): the sums in the tests
        # then run in one order, whatever the order of the rows
        wide = sub.pivot(index="patient_id", columns="visit_month", values="value").sort_index()
        complete = wide.dropna()
        k, n = wide.shape[1], len(complete)
        base = {
            "outcome": code,
            "visits": ", ".join(map(str, wide.columns)),
            "n_patients": n,
            "n_values": n * k,
        }
        if k < 2 or n < 2:
            note = "needs at least two visits with at least two patients measured at all of them"
            rows += [{**base, "method": m, "note": note} for m in ("friedman", "rm_anova")]
            continue
        if k >= 3:  # scipy ranks every patient at once (pingouin loops over patients)
            fr = stats.friedmanchisquare(*complete.to_numpy(dtype=float).T)
            q, p_fr = float(fr.statistic), float(fr.pvalue)
        else:  # scipy needs three visits; pingouin's Friedman takes two
            long = complete.reset_index().melt(
                id_vars="patient_id", var_name="visit_month", value_name="value"
            )
            pgf = pg.friedman(long, dv="value", within="visit_month", subject="patient_id")
            q, p_fr = float(pgf["Q"].iloc[0]), float(pgf["p_unc"].iloc[0])
        rows.append(
            {
                **base,
                "method": "friedman",
                "statistic": q,
                "df1": float(k - 1),
                "p_val": p_fr,
                "note": (
                    "two visits: the Friedman test is the sign test, here with its chi-square "
                    "approximation, which is anti-conservative with few patients"
                    if k == 2
                    else ""
                ),
            }
        )
        # the wide table (patients × visits) directly: the same result as the long form,
        # without pingouin pivoting it back by patient id
        aov = pg.rm_anova(complete, correction=True).iloc[0]
        row = {
            **base,
            "method": "rm_anova",
            "statistic": float(aov["F"]),
            "df1": float(aov["ddof1"]),
            "df2": float(aov["ddof2"]),
            "p_val": float(aov["p_unc"]),
            "epsilon": float(aov["eps"]),
            "note": "two visits: sphericity holds trivially" if k == 2 else "",
        }
        if "p_GG_corr" in aov:
            row["p_gg"] = float(aov["p_GG_corr"])
        rows.append(row)
    columns = [
        "outcome",
        "method",
        "visits",
        "n_patients",
        "n_values",
        "statistic",
        "df1",
        "df2",
        "p_val",
        "epsilon",
        "p_gg",
        "p_adj",
        "family",
        "test",
        "note",
    ]
    table = pd.DataFrame(rows).reindex(columns=columns)
    # with three visits or more the p is Greenhouse–Geisser corrected; with two, no correction
    table["test"] = (
        table["method"]
        .map(_OMNIBUS_NAMES)
        .where(table["p_gg"].isna(), table["method"].map(_OMNIBUS_NAMES) + ", Greenhouse–Geisser p")
    )
    table["family"] = ""
    for method, idx in table.groupby("method", sort=False).groups.items():
        p = table.loc[idx, "p_gg"].fillna(table.loc[idx, "p_val"]).astype(float)
        table.loc[idx, "p_adj"] = adjust_family(p, method=multiplicity, planned=len(p))
        table.loc[idx, "family"] = family_label(
            method=multiplicity,
            planned=len(p),
            tested=int(p.notna().sum()),
            what=f"{_OMNIBUS_NAMES[method]}: {plural(len(p), 'outcome')}",
        )
    return table


def _fit_mixed(sub: pd.DataFrame, formula: str) -> tuple[object, object, list[str]]:
    """Fit one REML random-intercept model to tight tolerance; return it and its warnings.

    statsmodels' default optimiser stops with a relative error of about 1e-6
    in the standard errors; a BFGS refinement from its optimum with a gradient
    tolerance of 1e-10 (or 1e-8, where the numerical gradient cannot get
    below 1e-10) reaches the REML optimum (on complete two-visit data the
    closed form SD(difference)/√n to about 1e-10). The messages of a
    refinement that did not converge are dropped with it. At a boundary
    (between-patient variance zero) the gradient cannot vanish, and the first
    fit is kept.
    """
    model = smf.mixedlm(formula, sub, groups=sub["patient_id"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = model.fit(reml=True)
        for gtol in (1e-10, 1e-8) if not _on_boundary(fit) else ():
            with warnings.catch_warnings(record=True) as tried:
                warnings.simplefilter("always")
                refined = model.fit(
                    reml=True, start_params=fit.params, method=["bfgs"], gtol=gtol, maxiter=2000
                )
            if refined.converged:
                fit = refined
                caught.extend(tried)
                break
    messages = [str(w.message).split("\n")[0] for w in caught]
    return model, fit, messages


def _fixed_effects_cov(model: object, fit: object) -> np.ndarray:
    """Covariance of the fixed effects, (Σ X_i' V_i⁻¹ X_i)⁻¹ with V_i = σ² I + τ² J.

    This is the generalized-least-squares covariance at the REML estimates of
    the variance components, the one R's nlme and lme4 report (Laird & Ware
    1982; Pinheiro & Bates 2000, section 2.2). statsmodels' ``bse_fe`` comes
    from the joint information matrix of fixed effects and variance
    components instead, which differs from it when visits are missing.
    """
    tau2, sigma2 = float(np.asarray(fit.cov_re)[0, 0]), float(fit.scale)
    information = sum(
        x.T @ np.linalg.solve(sigma2 * np.eye(len(x)) + tau2 * np.ones((len(x), len(x))), x)
        for x in model.exog_li
    )
    return np.linalg.inv(information)


def _on_boundary(fit: object) -> bool:
    """Say whether a statsmodels fit's between-patient variance sits at its boundary (zero)."""
    return _at_boundary(float(np.asarray(fit.cov_re)[0, 0]), float(fit.scale))


def _at_boundary(tau2: float, sigma2: float) -> bool:
    """Say whether a between-patient variance is at its boundary: zero, relative to σ²."""
    return tau2 <= 1e-6 * sigma2


def _mixed_fit(sub: pd.DataFrame, baseline: int, levels: list[int]) -> dict[str, Any]:
    """Fit one outcome's random-intercept model; visit contrasts with their GLS standard errors.

    statsmodels (refined to tight tolerance, :func:`_fit_mixed`) up to
    :data:`DIRECT_REML_ABOVE` patients; above, the same REML estimates computed
    directly from per-patient sums (:func:`reml_random_intercept`).
    """
    follow_ups = [v for v in levels if v != baseline]
    if sub["patient_id"].nunique() > DIRECT_REML_ABOVE:
        visit = sub["visit_month"].to_numpy()
        x = np.column_stack([np.ones(len(sub))] + [(visit == v).astype(float) for v in follow_ups])
        direct = reml_random_intercept(sub["value"].to_numpy(), x, sub["patient_id"].to_numpy())
        beta, cov = direct["beta"], direct["cov"]
        return {
            "estimate": {v: float(beta[k + 1]) for k, v in enumerate(follow_ups)},
            "se": {v: math.sqrt(float(cov[k + 1, k + 1])) for k, v in enumerate(follow_ups)},
            "tau2": float(direct["tau2"]),
            "sigma2": float(direct["sigma2"]),
            "converged": bool(direct["converged"]),
            "messages": [],
        }
    formula = f"value ~ C(visit_month, Treatment(reference={baseline}))"
    model, fit, messages = _fit_mixed(sub, formula)
    cov = pd.DataFrame(
        _fixed_effects_cov(model, fit), index=model.exog_names, columns=model.exog_names
    )
    terms = {v: f"C(visit_month, Treatment(reference={baseline}))[T.{v}]" for v in follow_ups}
    return {
        "estimate": {v: float(fit.fe_params[t]) for v, t in terms.items()},
        "se": {v: math.sqrt(float(cov.loc[t, t])) for v, t in terms.items()},
        "tau2": float(np.asarray(fit.cov_re)[0, 0]),
        "sigma2": float(fit.scale),
        "converged": bool(fit.converged),
        "messages": messages,
    }


#: Above this many patients the REML fit is computed directly (:func:`reml_random_intercept`)
#: rather than by statsmodels, whose MixedLM loops over patients in Python (9 s at 3,000).
DIRECT_REML_ABOVE = 1000


def reml_random_intercept(y: np.ndarray, x: np.ndarray, groups: np.ndarray) -> dict[str, object]:
    """REML fit of ``y = X β + b_patient + e`` (random intercept), from per-patient sums.

    With r = τ²/σ², each patient's covariance is σ²(I + rJ), whose inverse is
    (I − w J)/σ² with w = r/(1 + nr) for a patient with n values. Every term of
    the restricted likelihood (Harville 1977; Pinheiro & Bates 2000, section
    2.2) is then a sum over patients of products of the column sums of X and
    the sum of y, weighted by w: it is gathered once per distinct number of
    values, so one evaluation costs nothing that grows with the number of
    patients. σ² is profiled out, r ≥ 0 is found by a bounded one-dimensional
    search on log r (and r = 0, the boundary, is compared), and β and its
    generalized-least-squares covariance σ²(X'V⁻¹X)⁻¹ follow. The same
    estimator statsmodels' ``mixedlm(reml=True)`` fits; ``tests/test_published_methods.py``
    checks both against R's nlme to 1e-6.

    Parameters
    ----------
    y : array of shape (N,)
    x : array of shape (N, p)
        Fixed-effects design (intercept included).
    groups : array of shape (N,)
        Patient of each value.

    Returns
    -------
    dict
        ``beta`` (p,), ``cov`` (p, p), ``tau2``, ``sigma2``, ``converged``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(50), 2)
    >>> x = np.column_stack([np.ones(100), np.tile([0.0, 1.0], 50)])
    >>> y = 2 * x[:, 1] + rng.normal(size=50)[g] + rng.normal(size=100)
    >>> fit = reml_random_intercept(y, x, g)
    >>> round(float(fit["beta"][1]), 3), fit["converged"]
    (1.945, True)
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    # np.unique's patient numbers (in sorted order), by hashing: np.unique sorts every value,
    # which for a million text ids is most of the fit's time
    index, _ = pd.factorize(np.asarray(groups), sort=True, use_na_sentinel=False)
    n_total, p = x.shape
    counts = np.bincount(index)
    s = np.zeros((len(counts), p))
    np.add.at(s, index, x)  # per-patient column sums of X
    t = np.bincount(index, weights=y)  # per-patient sums of y
    xx, xy, yy = x.T @ x, x.T @ y, float(y @ y)
    sizes, per_size = np.unique(counts, return_counts=True)
    groups_of = [counts == k for k in sizes]  # the patients with k values, for each k
    ss = np.array([s[g].T @ s[g] for g in groups_of])
    st = np.array([s[g].T @ t[g] for g in groups_of])
    tt = np.array([float(t[g] @ t[g]) for g in groups_of])

    def parts(gamma: float) -> tuple[np.ndarray, np.ndarray, float, float]:
        w = gamma / (1 + sizes * gamma)
        a = xx - np.tensordot(w, ss, axes=1)
        b = xy - w @ st
        c = yy - float(w @ tt)
        logdet = float(per_size @ np.log1p(sizes * gamma))
        return a, b, c, logdet

    def minus_loglik(gamma: float) -> float:  # REML log-likelihood, σ² profiled out
        a, b, c, logdet = parts(gamma)
        quad = c - float(b @ np.linalg.solve(a, b))
        return 0.5 * ((n_total - p) * math.log(quad) + logdet + np.linalg.slogdet(a)[1])

    found = optimize.minimize_scalar(
        lambda log_gamma: minus_loglik(math.exp(log_gamma)),
        bounds=(-30.0, 15.0),
        method="bounded",
        options={"xatol": 1e-12},
    )

    def slope(log_gamma: float) -> float:  # d(minus_loglik)/d(log r), in closed form
        gamma = math.exp(log_gamma)
        a, b, c, _ = parts(gamma)
        dw = gamma / (1 + sizes * gamma) ** 2  # dw/d(log r)
        da, db, dc = -np.tensordot(dw, ss, axes=1), -(dw @ st), -float(dw @ tt)
        a_inv_b = np.linalg.solve(a, b)
        quad = c - float(b @ a_inv_b)
        dquad = dc - 2 * float(a_inv_b @ db) + float(a_inv_b @ da @ a_inv_b)
        dlogdet = float(per_size @ (sizes * gamma / (1 + sizes * gamma)))
        return 0.5 * ((n_total - p) * dquad / quad + dlogdet + np.trace(np.linalg.solve(a, da)))

    log_gamma = float(found.x)
    low, high = log_gamma - 1.0, log_gamma + 1.0
    if low > -30 and high < 15 and slope(low) < 0 < slope(high):
        log_gamma = optimize.brentq(slope, low, high, xtol=1e-14, rtol=1e-15)  # score = 0
    gamma = math.exp(log_gamma)
    if minus_loglik(0.0) <= minus_loglik(gamma):
        gamma = 0.0  # the boundary: no between-patient variance
    a, b, c, _ = parts(gamma)
    beta = np.linalg.solve(a, b)
    sigma2 = (c - float(b @ beta)) / (n_total - p)
    return {
        "beta": beta,
        "cov": sigma2 * np.linalg.inv(a),
        "tau2": gamma * sigma2,
        "sigma2": sigma2,
        "converged": bool(found.success),
    }


#: The mixed model, named as the table shows it.
MIXED_MODEL_METHOD = (
    "linear mixed model (REML, random intercept per patient); t reference with "
    "between–within degrees of freedom (as R's nlme)"
)

_BOUNDARY_NOTE = (
    "the between-patient variance was estimated as zero (a boundary): patients who were high "
    "at one visit were not high at the others (e.g. a negative before–after correlation), so "
    "the model treats the visits' values as unrelated and does not use the pairing; with a "
    "negative correlation its standard error is then smaller than the paired analysis' and "
    "its p-value too small: read the paired test instead"
)


def mixed_model(
    measurements: pd.DataFrame,
    *,
    outcomes: Sequence[str] | None = None,
    visits: Sequence[int] | None = None,
    baseline: int | None = None,
    ci_level: float = 0.95,
    multiplicity: str = "holm",
) -> pd.DataFrame:
    """Fit a linear mixed model per outcome: value ~ visit, random intercept per patient.

    Unlike the omnibus tests it keeps patients with missing visits (REML,
    statsmodels ``mixedlm``, fitted to tight tolerance). Estimates are
    differences from baseline; their standard errors are the generalized
    least-squares ones at the REML variance components, as R's nlme reports
    them. Tests and intervals use a t reference with the
    between–within degrees of freedom of R's nlme (Pinheiro & Bates 2000,
    section 2.4.2): a visit contrast varies within patients, so its df are the
    number of values minus the number of patients minus the number of visit
    contrasts. With seven patients and two visits that is 6, where a normal
    reference would make every p-value too small.

    A between-patient variance estimated at zero (the boundary) is said in
    words in ``note``; other fitting messages are reported there too, rather
    than printed as warnings. p-values are adjusted in one family: every
    outcome at every planned follow-up visit (``visits`` other than
    ``baseline``; a contrast without data counts as not rejected), or the
    contrasts with data when ``visits`` is not given (``p_adj``, ``family``).

    Parameters
    ----------
    measurements : pandas.DataFrame
    outcomes, visits : sequence, optional
    baseline : int, optional
        The visit compared with; default, the earliest visit in the data.
    ci_level : float, default 0.95
    multiplicity : str, default "holm"
        See :data:`MULTIPLICITY_METHODS`.

    Returns
    -------
    pandas.DataFrame
        One row per outcome × follow-up visit with data: ``outcome``,
        ``visit_month``, ``estimate``, ``se``, ``df``, ``ci_low``,
        ``ci_high``, ``p_val``, ``p_adj``, ``family``, ``n_patients``,
        ``n_values``, ``between_patient_sd``, ``converged``, ``method``,
        ``note``.

    Examples
    --------
    >>> from helpers.simulate import simulate_cohort
    >>> from helpers.study import load_study
    >>> STUDY = load_study("data/study.yaml")
    >>> c = simulate_cohort(12, study=STUDY, missing=[("S01", 2)], seed=4)
    >>> mm = mixed_model(c.measurements, outcomes=["hba1c"])
    >>> mm[["visit_month", "n_patients", "n_values"]].values.tolist()[0], mm["df"].iloc[0]
    ([1, 12, 47], np.float64(32.0))
    """
    baseline = first_visit(measurements) if baseline is None else baseline
    if not 0 < ci_level < 1:
        raise ValueError(f"ci_level must be between 0 and 1, got {ci_level}")
    data = _select(measurements, outcomes, visits)
    codes = list(outcomes) if outcomes is not None else list(dict.fromkeys(data["outcome"]))
    rows = []
    for code in codes:
        # sorted, so that the fit (and the last digits of its estimates) does not depend on
        # the order of the file's rows
        sub = (
            data[data["outcome"] == code]
            .sort_values(["patient_id", "visit_month"], kind="stable")
            .reset_index(drop=True)
        )
        levels = sorted(set(sub["visit_month"].unique().tolist()))
        n_patients = sub["patient_id"].nunique()
        base = {"outcome": code, "n_patients": n_patients, "n_values": len(sub)}
        if baseline not in levels or len(levels) < 2 or n_patients < 3:
            rows.append(
                {**base, "note": "needs baseline, another visit and at least three patients"}
            )
            continue
        fit = _mixed_fit(sub, baseline, levels)
        boundary = _at_boundary(fit["tau2"], fit["sigma2"])
        notes = [_BOUNDARY_NOTE] if boundary else []
        notes += sorted({m for m in fit["messages"] if not boundary or not _is_boundary_message(m)})
        df = float(len(sub) - n_patients - (len(levels) - 1))
        quantile = stats.t.ppf(0.5 + ci_level / 2, df)
        for visit in levels:
            if visit == baseline:
                continue
            estimate, se = fit["estimate"][visit], fit["se"][visit]
            rows.append(
                {
                    **base,
                    "visit_month": visit,
                    "estimate": estimate,
                    "se": se,
                    "df": df,
                    "ci_low": estimate - quantile * se,
                    "ci_high": estimate + quantile * se,
                    "p_val": float(2 * stats.t.sf(abs(estimate / se), df)),
                    "between_patient_sd": math.sqrt(max(fit["tau2"], 0.0)),
                    "converged": fit["converged"],
                    "method": MIXED_MODEL_METHOD,
                    "note": "; ".join(notes),
                }
            )
    columns = [
        "outcome",
        "visit_month",
        "estimate",
        "se",
        "df",
        "ci_low",
        "ci_high",
        "p_val",
        "p_adj",
        "family",
        "n_patients",
        "n_values",
        "between_patient_sd",
        "converged",
        "method",
        "note",
    ]
    table = pd.DataFrame(rows).reindex(columns=columns)
    table["family"] = ""
    tested = table["p_val"].notna()
    follow_ups = None if visits is None else [v for v in visits if v != baseline]
    planned = int(tested.sum()) if follow_ups is None else len(codes) * len(follow_ups)
    planned = max(planned, int(tested.sum()))
    if tested.any():
        table.loc[tested, "p_adj"] = adjust_family(
            table.loc[tested, "p_val"], method=multiplicity, planned=planned
        )
        what = (
            "mixed-model contrasts with data"
            if follow_ups is None
            else f"mixed-model contrasts: {plural(len(codes), 'outcome')} × "
            f"{plural(len(follow_ups), 'follow-up visit')}"
        )
        table.loc[tested, "family"] = family_label(
            method=multiplicity, planned=planned, tested=int(tested.sum()), what=what
        )
    return table


def _is_boundary_message(message: str) -> bool:
    """Say whether a statsmodels message is about the boundary the note already explains."""
    return any(
        key in message
        for key in ("boundary", "singular", "failed to converge", "optimizer", "Gradient")
    )


def visit_means_ci(
    measurements: pd.DataFrame,
    *,
    outcomes: Sequence[str] | None = None,
    visits: Sequence[int] | None = None,
    ci_level: float = 0.95,
) -> pd.DataFrame:
    """Mean of each outcome at each visit with its t-based confidence interval.

    Parameters
    ----------
    measurements : pandas.DataFrame
    outcomes, visits : sequence, optional
    ci_level : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        ``outcome``, ``visit_month``, ``n``, ``mean``, ``ci_low``, ``ci_high``,
        ``ci_level`` (so that whatever shows the intervals can say their level).

    Examples
    --------
    >>> m = pd.DataFrame({"patient_id": ["a", "b", "c"], "visit_month": [0] * 3,
    ...                   "outcome": ["hba1c"] * 3, "value": [8.0, 9.0, 10.0]})
    >>> visit_means_ci(m)[["mean", "ci_low"]].round(2).values.tolist()
    [[9.0, 6.52]]
    """
    desc = describe_visits(measurements, outcomes=outcomes, visits=visits)
    half = [
        stats.t.ppf(0.5 + ci_level / 2, n - 1) * sd / math.sqrt(n) if n >= 2 else math.nan
        for n, sd in zip(desc["n"], desc["sd"], strict=True)
    ]
    return desc[["outcome", "visit_month", "n", "mean"]].assign(
        ci_low=desc["mean"] - half, ci_high=desc["mean"] + half, ci_level=ci_level
    )


#: Readers' names of the effect sizes and changes, with the interval each comes with.
EFFECT_NAMES = {
    "hedges_g_av": "Hedges' g (mean change / the two visits' pooled SD, small-sample "
    "corrected); Algina & Keselman (2003) CI of δav",
    "rank_biserial": "matched-pairs rank-biserial r; percentile bootstrap CI",
    "mean change": "mean change; t interval",
    "median change": "median change; percentile bootstrap CI",
    "rank_biserial_normal": "matched-pairs rank-biserial r; normal CI with the U-statistic "
    "variance (Hoeffding 1948)",
    "median change (order statistics)": "median change; distribution-free order-statistic CI",
}


def comparison_table(
    comparisons: pd.DataFrame,
    *,
    ci_level: float = 0.95,
    decimals: int = 2,
    study: Study | None = None,
) -> pd.DataFrame:
    """Format the comparisons that could be made (:func:`compare_to_baseline`) for readers.

    Comparisons without a p-value (too few patients measured at both visits)
    are left out; :func:`untested_comparisons` says which they were, in one
    sentence for under the table.

    Parameters
    ----------
    comparisons : pandas.DataFrame
        From :func:`adjust_pvalues`.
    ci_level : float, default 0.95
        The confidence level the intervals were computed at (shown in the headers).
    decimals : int, default 2
        Decimals of estimates; p-values get three.

    Returns
    -------
    pandas.DataFrame
        Index (outcome, visit, analysis); columns ``test``, ``n``, ``p``,
        ``p (adjusted)``, ``adjusted over``, ``effect size (CI)``,
        ``change (CI)``, each header with the confidence level, and the
        methods named in the cells.

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["hba1c"], "visit_month": [1], "baseline": [0],
    ...     "analysis": ["primary"], "test": ["paired_t"], "n": [7], "p_val": [0.0925],
    ...     "p_adj": [0.2], "family": ["Holm over 3"], "effect_measure": ["hedges_g_av"],
    ...     "effect": [-0.6], "effect_ci_low": [-1.4], "effect_ci_high": [0.2],
    ...     "change_measure": ["mean change"], "change_estimate": [-0.94], "change_ci_low": [-2.1],
    ...     "change_ci_high": [0.2]})
    >>> comparison_table(t, ci_level=0.9).iloc[0]["change (90% CI)"]
    'mean change; t interval: −0.94 (−2.10 to 0.20)'
    """
    level = format_percent(ci_level)

    def estimate(kind: str, value: float, low: float, high: float, n_boot: object) -> str:
        name = EFFECT_NAMES.get(kind, kind)
        if "bootstrap" in name and not pd.isna(n_boot):
            name += f" of {format_count(int(n_boot))} resamples"
        return f"{name}: {format_estimate(value, low, high, decimals)}"

    rows = []
    for r in comparisons[comparisons["p_val"].notna()].itertuples():
        boot = getattr(r, "n_boot", None)
        rows.append(
            {
                "outcome": label_for(r.outcome, study),
                "visit": f"month {r.visit_month} vs month {r.baseline}",
                "analysis": r.analysis,
                "test": _test_run(r.test, getattr(r, "method", r.test)),
                "n": int(r.n),
                "p": format_p(r.p_val),
                "p (adjusted)": format_p(getattr(r, "p_adj", math.nan)),
                "adjusted over": getattr(r, "family", ""),
                f"effect size ({level} CI)": estimate(
                    r.effect_measure, r.effect, r.effect_ci_low, r.effect_ci_high, boot
                ),
                f"change ({level} CI)": estimate(
                    r.change_measure, r.change_estimate, r.change_ci_low, r.change_ci_high, boot
                ),
            }
        )
    columns = [
        "outcome",
        "visit",
        "analysis",
        "test",
        "n",
        "p",
        "p (adjusted)",
        "adjusted over",
        f"effect size ({level} CI)",
        f"change ({level} CI)",
    ]
    return pd.DataFrame(rows, columns=columns).set_index(["outcome", "visit", "analysis"])


def untested_comparisons(comparisons: pd.DataFrame, *, study: Study | None = None) -> str:
    """Say in one sentence which planned comparisons could not be made, and why.

    Parameters
    ----------
    comparisons : pandas.DataFrame
        From :func:`compare_to_baseline`.

    Returns
    -------
    str
        Empty when every planned comparison was made.

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["hba1c", "leptin", "hba1c"], "visit_month": [2, 2, 3],
    ...     "baseline": [0, 0, 0], "n": [0, 1, 7], "p_val": [None, None, 0.2]})
    >>> from helpers.study import load_study
    >>> untested_comparisons(t, study=load_study("data/study.yaml"))
    'Not compared with month 0 (fewer than two patients measured at both visits): month 2 (HbA1c: 0 patients; leptin: 1 patient).'
    """  # noqa: E501
    missing = comparisons[comparisons["p_val"].isna()].drop_duplicates(["outcome", "visit_month"])
    if missing.empty:
        return ""
    parts = []
    for visit, sub in missing.groupby("visit_month", sort=True):
        who = "; ".join(
            f"{in_sentence(label_for(r.outcome, study, unit=False))}: {int(r.n)} "
            f"patient{'s' if r.n != 1 else ''}"
            for r in sub.itertuples()
        )
        parts.append(f"month {visit} ({who})")
    baseline = int(missing["baseline"].iloc[0])
    return (
        f"Not compared with month {baseline} (fewer than two patients measured at both visits): "
        + ", ".join(parts)
        + "."
    )


def _test_run(test: str, method: object) -> str:
    """Name the test a comparison ran: R's default rule named by the test it picked.

    Examples
    --------
    >>> _test_run("wilcoxon_r", "wilcoxon_exact")
    "Wilcoxon signed-rank, exact (R's default for these data)"
    >>> _test_run("paired_t", "paired_t")
    'paired t-test'
    """
    if test == "wilcoxon_r" and method != test and method in PAIRED_TESTS:
        return f"{PAIRED_TESTS[method]} (R's default for these data)"
    return PAIRED_TESTS.get(test, test)


def summarise_comparisons(
    comparisons: pd.DataFrame, *, alpha: float, method: str, study: Study | None = None
) -> str:
    """Say in plain words what the primary comparisons show, before and after adjustment.

    Parameters
    ----------
    comparisons : pandas.DataFrame
        With ``p_adj`` and ``family`` (:func:`adjust_pvalues`).
    alpha : float
    method : str
        The multiplicity method used.

    Returns
    -------
    str
        Markdown.

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["hba1c", "leptin"], "visit_month": [1, 1],
    ...     "analysis": ["primary"] * 2, "test": ["paired_t"] * 2, "n": [7, 7],
    ...     "p_val": [0.04, 0.3], "p_adj": [0.08, 0.3], "family": ["Holm over 2 comparisons"] * 2})
    >>> from helpers.study import load_study
    >>> print(summarise_comparisons(t, alpha=0.05, method="holm",
    ...                             study=load_study("data/study.yaml")))
    ... # doctest: +NORMALIZE_WHITESPACE
    - Primary analysis (paired t-test): 2 comparisons with baseline; 1 with p < 0.05 before
      adjustment, 0 after adjustment (Holm over 2 comparisons).
    - Below 0.05 before adjustment only: HbA1c at month 1.
    - 2 of these comparisons rest on fewer than 10 patients: estimates are imprecise and a
      single patient can change the conclusion.
    """
    prim = comparisons[(comparisons["analysis"] == "primary") & comparisons["p_val"].notna()]
    if prim.empty:
        return (
            "- No comparison with baseline could be made: too few patients measured at both visits."
        )
    test = PAIRED_TESTS.get(prim["test"].iloc[0], prim["test"].iloc[0])
    family = prim["family"].iloc[0] if "family" in prim else method
    raw = prim[prim["p_val"] < alpha]
    adj = prim[prim["p_adj"] < alpha]
    lines = [
        f"- Primary analysis ({test}): {plural(len(prim), 'comparison')} with baseline; "
        f"{len(raw)} with "
        f"p < {alpha:g} before adjustment, {len(adj)} after adjustment ({family})."
    ]
    lost = raw[~raw.index.isin(adj.index)]
    if len(lost):
        names = ", ".join(
            f"{in_sentence(label_for(r.outcome, study, unit=False))} at month {r.visit_month}"
            for r in lost.itertuples()
        )
        lines.append(f"- Below {alpha:g} before adjustment only: {names}.")
    small = prim[prim["n"] < 10]
    if len(small):
        lines.append(
            f"- {len(small)} of these comparisons rest{'s' if len(small) == 1 else ''} on fewer "
            "than 10 patients: estimates are "
            "imprecise and a single patient can change the conclusion."
        )
    return "\n".join(lines)
