"""Independent recomputations of what the compendium shows, for the tests.

Each function here recomputes a table from the tidy measurements by another
code path than the helpers take: plain loops over patients, scipy or
statsmodels called directly, or formulas typed from their papers. Nothing here
imports the helpers' analysis code; only the study definition's labels.

``tricky_cohort`` is the data these checks run on: outcomes in an order that
is neither alphabetical nor the data dictionary's, visits nobody attended for
some outcomes, a patient with only a baseline value, ties in the differences,
and a zero baseline.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize, stats
from studydef import STUDY

from helpers.data import Cohort
from helpers.simulate import simulate_cohort

#: The outcome order of the tricky cohort: neither alphabetical nor the dictionary's.
TRICKY_OUTCOMES = ["leptin", "insulin_dose", "islet_ab", "hba1c", "gad_ab"]
LABELS = {o.code: o.label for o in STUDY.outcomes}
CODE_OF_LABEL = {o.label: o.code for o in STUDY.outcomes}
UNIT_LABELS = {f"{o.label} ({o.unit})": o.code for o in STUDY.outcomes}


#: Each outcome as a sentence names it, by hand: a capital that only starts a label goes.
IN_TEXT = {
    "insulin_dose": "daily insulin dose",
    "hba1c": "HbA1c",
    "leptin": "leptin",
    "gad_ab": "GAD antibodies",
    "islet_ab": "islet-cell (Langerhans) antibodies",
}


def grouped(n: int) -> str:
    """A count as ISO 80000-1 writes it: "8845", "30\u202f622" (narrow no-break space)."""
    digits = str(int(n))
    if len(digits) < 5:
        return digits
    head = len(digits) % 3 or 3
    return "\u202f".join([digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)])


def tricky_cohort() -> Cohort:
    """Nine simulated patients with every awkwardness a table can hide a mistake behind."""
    c = simulate_cohort(
        9,
        study=STUDY,
        outcomes=TRICKY_OUTCOMES,
        missing=[("S02", 2), ("S04", 1), ("S04", 3)],
        seed=4,
    )
    m = c.measurements
    gone = ((m["outcome"] == "hba1c") & (m["visit_month"] == 2)) | (
        (m["outcome"] == "islet_ab") & (m["visit_month"] == 1)
    )
    gone |= (m["outcome"] == "leptin") & (m["patient_id"] == "S05") & (m["visit_month"] > 0)
    m = m[~gone].reset_index(drop=True)
    zero = (m["outcome"] == "gad_ab") & (m["patient_id"] == "S01") & (m["visit_month"] == 0)
    m.loc[zero, "value"] = 0.0
    return Cohort(c.patients, m, "tricky", {"kind": "simulated"}, STUDY)


def values(m: pd.DataFrame, code: str, visit: int) -> dict[str, float]:
    """One outcome at one visit, patient by patient, by a plain loop."""
    out: dict[str, float] = {}
    for r in m.itertuples():
        if r.outcome == code and r.visit_month == visit:
            out[r.patient_id] = float(r.value)
    return out


def pairs(m: pd.DataFrame, code: str, visit: int, baseline: int) -> tuple[np.ndarray, np.ndarray]:
    """Baseline and follow-up values of the patients measured at both, by a plain loop."""
    b, a = values(m, code, baseline), values(m, code, visit)
    ids = sorted(set(b) & set(a))
    return np.array([b[i] for i in ids]), np.array([a[i] for i in ids])


def differences(before: np.ndarray, after: np.ndarray, decimals: int) -> np.ndarray:
    """Differences in whole units of the recording precision, so ties are exact integers."""
    return (np.rint(after * 10**decimals) - np.rint(before * 10**decimals)) / 10**decimals


def hedges_g_av_by_hand(before: np.ndarray, after: np.ndarray, level: float) -> tuple[float, ...]:
    """Hedges' g_av (Lakens 2013, eq. 10) and Algina & Keselman's (2003) interval for δ_av.

    The interval inverts the noncentral t distribution of the paired t statistic by
    bisection over a grid (not the helpers' bracketing), then scales by s_d / (√n · s_av).
    """
    n = len(before)
    d = after - before
    s_av = math.sqrt((np.var(before, ddof=1) + np.var(after, ddof=1)) / 2)
    s_d = float(np.std(d, ddof=1))
    t = float(np.mean(d)) / (s_d / math.sqrt(n))

    def limit(q: float) -> float:
        grid = np.linspace(t - 12, t + 12, 2401)
        cdf = stats.nct.cdf(t, n - 1, grid)
        ok = ~np.isnan(cdf)
        grid, cdf = grid[ok], cdf[ok]
        i = int(np.argmax(cdf < q))  # the cdf falls as λ rises
        return optimize.bisect(
            lambda lam: stats.nct.cdf(t, n - 1, lam) - q, grid[i - 1], grid[i], xtol=1e-12
        )

    scale = s_d / (math.sqrt(n) * s_av)
    g = float(np.mean(d)) / s_av * (1 - 3 / (8 * n - 9))
    tail = (1 - level) / 2
    return g, limit(1 - tail) * scale, limit(tail) * scale


def fmt(x: float, decimals: int = 2) -> str:
    """Print as the tables do (fixed decimals, a true minus sign where the helpers use one)."""
    return f"{x:.{decimals}f}"


def holm(p: list[float], m: int) -> list[float]:
    """Holm's step-down adjustment over a family of m hypotheses, typed from Holm (1979)."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    adjusted = [0.0] * len(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


# --------------------------------------------------------------------------------------
# Expected tables, computed from the tidy data alone
# --------------------------------------------------------------------------------------


def decimals_of(m: pd.DataFrame, code: str) -> int:
    """The recording precision of one outcome, read off its values as text."""
    texts = [f"{v:.10f}".rstrip("0") for v in m.loc[m["outcome"] == code, "value"]]
    return max(len(t.split(".")[1]) for t in texts)


def expected_comparisons(
    m: pd.DataFrame,
    *,
    codes: list[str],
    visits: list[int],
    baseline: int,
    ci_level: float,
    method_m: str = "planned",
) -> dict[tuple[str, int, str], dict[str, float]]:
    """Every comparison with baseline: paired t (primary) and R's Wilcoxon (sensitivity)."""
    out: dict[tuple[str, int, str], dict[str, float]] = {}
    for code in codes:
        dec = decimals_of(m, code)
        for visit in visits:
            if visit == baseline:
                continue
            b, a = pairs(m, code, visit, baseline)
            n = len(b)
            nan = math.nan
            prim = {"n": n, "p": nan}
            sens = {"n": n, "p": nan}
            if n >= 2:
                t = stats.ttest_rel(a, b)
                prim["p"] = float(t.pvalue)
                d = differences(b, a, dec)
                nz = d[d != 0]
                tied = len(nz) < n or len(np.unique(np.abs(nz))) < len(nz)
                w = stats.wilcoxon(nz, method="approx" if tied else "exact", correction=tied)
                sens["p"] = float(w.pvalue)
                sens["median_change"] = float(np.median(d))
            if n >= 3:
                g, lo, hi = hedges_g_av_by_hand(b, a, ci_level)
                ci = stats.t.interval(ci_level, n - 1, loc=np.mean(a - b), scale=stats.sem(a - b))
                prim.update(g=g, g_low=lo, g_high=hi, change=float(np.mean(a - b)))
                prim.update(change_low=float(ci[0]), change_high=float(ci[1]))
            out[(code, visit, "primary")] = prim
            out[(code, visit, "sensitivity")] = sens
    for analysis in ("primary", "sensitivity"):
        keys = [k for k in out if k[2] == analysis and not math.isnan(out[k]["p"])]
        planned = sum(1 for k in out if k[2] == analysis) if method_m == "planned" else len(keys)
        for k, adj in zip(keys, holm([out[k]["p"] for k in keys], planned), strict=True):
            out[k]["p_adj"] = adj
    return out


def expected_safety(
    m: pd.DataFrame,
    *,
    codes: list[str],
    visits: list[int],
    baseline: int,
    margins: dict[str, float],
    alpha: float,
    ci_level: float,
) -> dict[tuple[str, int], dict[str, float]]:
    """One-sided test for a rise, TOST, non-inferiority and the largest rise excluded."""
    out: dict[tuple[str, int], dict[str, float]] = {}
    follow = [v for v in visits if v != baseline]
    for code in codes:
        for visit in follow:
            b, a = pairs(m, code, visit, baseline)
            if len(b) < 3:
                continue
            d = a - b
            margin = margins[code]
            lower = stats.ttest_1samp(d, -margin, alternative="greater").pvalue
            upper = stats.ttest_1samp(d, margin, alternative="less").pvalue
            q = stats.t.ppf(ci_level, len(d) - 1)
            out[(code, visit)] = {
                "n": len(d),
                "p_increase": float(stats.ttest_rel(a, b, alternative="greater").pvalue),
                "p_equivalence": float(max(lower, upper)),
                "p_noninferiority": float(upper),
                "largest_rise_excluded": float(np.mean(d) + q * stats.sem(d)),
                "mean_change": float(np.mean(d)),
            }
    planned = len(codes) * len(follow)
    keys = list(out)
    for column in ("p_increase", "p_equivalence", "p_noninferiority"):
        for k, adj in zip(keys, holm([out[k][column] for k in keys], planned), strict=True):
            out[k][f"{column}_adj"] = adj
    return out
