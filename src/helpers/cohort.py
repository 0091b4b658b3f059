"""Describing the cohort: Table 1 and visit completeness, labelled from the study definition."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.choices import PAIRED_TESTS
from helpers.data import MEASUREMENTS_FILE, Cohort
from helpers.precision import format_mean_sd, format_number
from helpers.stats import mean_sd
from helpers.study import Study, in_sentence, label_for

__all__ = [
    "describe_pairing",
    "not_analysed",
    "pairing_assumptions",
    "table_one",
    "visit_completeness",
]


def table_one(patients: pd.DataFrame, *, study: Study, decimals: int = 1) -> pd.DataFrame:
    """Build Table 1 (baseline characteristics) as a publication table of text.

    Rows follow the study definition's characteristics marked ``table_one``:
    a category gives ``n (%)`` per level; a number gives mean ± SD (sample SD)
    and median (range), of the patients with a value.

    Parameters
    ----------
    patients : pandas.DataFrame
        A validated patients table.
    study : Study
        Says which characteristics to show, their labels, units and levels.
    decimals : int, default 1
        Decimals for means, SDs and percentages.

    Returns
    -------
    pandas.DataFrame
        Indexed by characteristic, one text column headed with the number of patients.

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.study import load_study
    >>> p = pd.DataFrame({"sex": ["M", "F"], "age_years": [20, 42],
    ...     "cells_infused_million": [95.0, 97.0], "culture_weeks": [3.0, 4.0]})
    >>> table_one(p, study=load_study("data/study.yaml")).loc["Age, years, mean ± SD"].iloc[0]
    '31.0 ± 15.6'
    """
    n = len(patients)
    rows: dict[str, str] = {"Patients, n": str(n)}
    for c in study.characteristics:
        if not c.table_one or c.code not in patients:
            continue
        if c.type == "category":
            for level in c.levels:
                k = int((patients[c.code] == level.value).sum())
                rows[f"{level.label}, n (%)"] = f"{k} ({format_number(100 * k / n, decimals)})"
            continue
        v = patients[c.code].astype(float).dropna()
        label = f"{c.label}, {c.unit}" if c.unit else c.label
        rows[f"{label}, mean ± SD"] = format_mean_sd(*mean_sd(v), decimals)
        rows[f"{label}, median (range)"] = f"{v.median():g} ({v.min():g}–{v.max():g})"
    return pd.DataFrame({f"All patients (n = {n})": rows}).rename_axis("Characteristic")


def visit_completeness(
    cohort: Cohort,
    *,
    outcomes: Sequence[str] | None = None,
    visits: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Count, for each outcome and visit, the patients with a measurement.

    Every cell is looked up by its (outcome code, visit) key, never placed by
    position, so the labels cannot drift from the counts.

    Parameters
    ----------
    cohort : Cohort
        A cohort read with its study definition.
    outcomes : sequence of str, optional
        Outcome codes to show, in this order; default, every outcome of the
        study definition in its order.
    visits : sequence of int, optional
        Visit months, one column each; default, every visit of the study.

    Returns
    -------
    pandas.DataFrame
        Index: outcome label; one column per visit (``month 0`` …); cells
        ``"k/N"`` with N the number of patients.

    Examples
    --------
    >>> from helpers.data import load_cohort
    >>> cohort = load_cohort("data/standin", study="data/study.yaml")
    >>> t = visit_completeness(cohort, outcomes=["islet_ab", "insulin_dose"])
    >>> t.to_dict("index")["Daily insulin dose"]
    {'month 0': '7/7', 'month 1': '7/7', 'month 2': '0/7', 'month 3': '0/7'}
    """
    study = cohort.study
    if study is None:
        raise ValueError("the cohort was read without a study definition (load_cohort(study=...))")
    n = len(cohort.patients)
    codes = list(study.outcome_codes if outcomes is None else outcomes)
    months = list(study.visit_months if visits is None else visits)
    counts = cohort.measurements.groupby(["outcome", "visit_month"])["patient_id"].nunique()
    rows = {
        study.label(code, unit=False): {
            f"month {v}": f"{int(counts.get((code, v), 0))}/{n}" for v in months
        }
        for code in codes
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("Outcome")


def not_analysed(
    cohort: Cohort,
    *,
    outcomes: Sequence[str],
    visits: Sequence[int],
    role: str | None = None,
) -> str:
    """Say which outcomes and visits of the data an analysis leaves out, so none is dropped silently.

    Parameters
    ----------
    cohort : Cohort
        Read with its study definition.
    outcomes, visits : sequence
        What the analysis covers.
    role : {"efficacy", "safety"}, optional
        Only outcomes of this role count as left out (the others belong to another notebook).

    Returns
    -------
    str
        Markdown, or ``""`` when the analysis covers every outcome and visit with data.

    Examples
    --------
    >>> from helpers.data import load_cohort
    >>> cohort = load_cohort("data/standin", study="data/study.yaml")
    >>> not_analysed(cohort, outcomes=["gad_ab"], visits=[0, 1], role="safety")
    '**In the data but not analysed here** (set by the parameters): islet-cell (Langerhans) antibodies (14 values); visit month 3 (7 values of these outcomes).'
    """  # noqa: E501
    study = cohort.study
    m = cohort.measurements
    if study is not None and role is not None:
        m = m[m["outcome"].isin([o.code for o in study.outcomes if o.role == role])]
    counts = m.groupby("outcome")["value"].size()
    order = {c: i for i, c in enumerate(study.outcome_codes if study is not None else [])}
    left_codes = sorted(
        (c for c in counts.index if c not in outcomes), key=lambda c: order.get(c, 0)
    )
    left = [
        f"{in_sentence(label_for(c, study, unit=False))} ({int(counts[c])} values)"
        for c in left_codes
    ]
    shown = m[m["outcome"].isin(outcomes)]
    months = shown.groupby("visit_month")["value"].size()
    left_visits = [
        f"visit month {v} ({int(n)} values of these outcomes)"
        for v, n in months.items()
        if v not in visits
    ]
    parts = [", ".join(left)] if left else []
    parts += left_visits
    if not parts:
        return ""
    return (
        "**In the data but not analysed here** (set by the parameters): " + "; ".join(parts) + "."
    )


#: Provenance bases of a reconstructed pair's correlation that are assumptions, not data.
_ASSUMED_BASES = {
    "p_bound": "the abstract gives its p only as a bound",
    "p_unreachable": "no data give the p the abstract reports",
}


def pairing_assumptions(cohort: Cohort, *, outcomes: Sequence[str] | None = None) -> pd.DataFrame:
    """List the before-after correlations a reconstructed cohort was built with, and their basis.

    An abstract reports each visit's mean and SD, not how each patient's two
    values go together; the stand-in's pairing, and so its Pearson correlation
    *r* between the two visits, is set by the reported p where that p pins it,
    and is otherwise an assumption (``provenance.json``, ``r_basis``). The SD of
    the change, sqrt(SD₀² + SD₁² − 2 r SD₀ SD₁), and with it every paired
    interval, test and sample size, follows from *r*.

    Parameters
    ----------
    cohort : Cohort
        A loaded cohort; patient records (no provenance), and a stand-in whose
        measurements were edited by hand (no longer the pairing it was built
        with), give an empty table.
    outcomes : sequence of str, optional
        Outcome codes to keep; default, every reconstructed comparison.

    Returns
    -------
    pandas.DataFrame
        One row per reconstructed comparison (``outcome``, ``baseline_month``,
        ``visit_month``, ``r``: Pearson's r of the patients with both values,
        recomputed from the measurements; ``basis``: the provenance's
        ``r_basis``; ``assumed``; ``sd_baseline``, ``sd_visit``, ``sd_change``:
        sample SDs of those patients).

    Examples
    --------
    >>> from helpers.data import load_cohort
    >>> cohort = load_cohort("data/standin", study="data/study.yaml")
    >>> t = pairing_assumptions(cohort, outcomes=["islet_ab", "gad_ab"])
    >>> t[["outcome", "r", "basis"]].round(2).to_dict("records")
    [{'outcome': 'gad_ab', 'r': 0.5, 'basis': 'p_bound'}, {'outcome': 'islet_ab', 'r': 0.5, 'basis': 'p_unreachable'}]
    """  # noqa: E501
    columns = [
        "outcome",
        "baseline_month",
        "visit_month",
        "r",
        "basis",
        "assumed",
        "sd_baseline",
        "sd_visit",
        "sd_change",
    ]
    recorded = cohort.provenance.get("measurements", {}).get("comparisons", [])
    if MEASUREMENTS_FILE in cohort.edited_files:
        recorded = []  # the pairs are the editor's now, not the reconstruction's
    m = cohort.measurements
    rows = []
    for entry in recorded:
        code = entry.get("outcome")
        if code is None or (outcomes is not None and code not in outcomes):
            continue
        first, second = entry["baseline_month"], entry["visit_month"]
        values = m[m["outcome"] == code].pivot_table(
            index="patient_id", columns="visit_month", values="value", observed=True
        )
        if first not in values or second not in values:
            continue
        pairs = values[[first, second]].dropna().to_numpy(dtype=float)
        r = float(np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1])
        sd0, sd1 = pairs.std(axis=0, ddof=1)
        sd_change = float(np.std(pairs[:, 1] - pairs[:, 0], ddof=1))
        basis = entry.get("r_basis", "")
        rows.append((code, first, second, r, basis, basis in _ASSUMED_BASES, sd0, sd1, sd_change))
    table = pd.DataFrame(rows, columns=columns)
    if cohort.study is not None and not table.empty:
        order = {c: i for i, c in enumerate(cohort.study.outcome_codes)}
        table = table.sort_values(
            ["outcome", "visit_month"], key=lambda c: c.map(order) if c.name == "outcome" else c
        ).reset_index(drop=True)
    return table


def describe_pairing(
    assumptions: pd.DataFrame,
    *,
    study: Study | None = None,
    compare_r: Sequence[float] = (0.0, 0.9),
    decimals: int = 2,
) -> str:
    """Say which of the stand-in's before-after correlations are assumed, and what they decide.

    For each assumed correlation, the SD of the change it gives is set beside
    the SD the same two visits' SDs would give at the correlations of
    ``compare_r`` (sqrt(SD₀² + SD₁² − 2 r SD₀ SD₁)), so a reader sees how much
    of the intervals, equivalence tests and sample sizes rests on it.

    Parameters
    ----------
    assumptions : pandas.DataFrame
        From :func:`pairing_assumptions`.
    study : Study, optional
        Names the outcomes and their units.
    compare_r : sequence of float, default (0.0, 0.9)
        Other correlations to show the SD of the change at.
    decimals : int, default 2

    Returns
    -------
    str
        Markdown; ``""`` when no correlation is assumed (patient records, or
        every correlation set by a reported p).

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["x"], "baseline_month": [0], "visit_month": [3],
    ...     "r": [0.5], "basis": ["p_bound"], "assumed": [True], "sd_baseline": [3.0],
    ...     "sd_visit": [4.0], "sd_change": [13 ** 0.5]})
    >>> print(describe_pairing(t, compare_r=[0.0]))
    **Assumed, not reported: how each patient's two values pair up.** The abstract reports each visit's mean and SD, not how each patient's values go together. On this reconstructed cohort the correlation *r* between the two visits is an assumption for x, month 3 vs month 0 (r = 0.50: the abstract gives its p only as a bound). It sets the SD of the change, and with it every paired interval, test and sample size for this comparison: with the same two visits' SDs, the SD of the change is 3.61 for x (5.00 at r = 0.00).
    """  # noqa: E501
    assumed = assumptions[assumptions["assumed"]]
    if assumed.empty:
        return ""
    parts, sds = [], []
    for row in assumed.itertuples():
        name = in_sentence(label_for(row.outcome, study, unit=False))
        unit = f" {study.unit(row.outcome)}" if study is not None else ""
        r = format_number(row.r, decimals)
        parts.append(
            f"{name}, month {row.visit_month} vs month {row.baseline_month} "
            f"(r = {r}: {_ASSUMED_BASES[row.basis]})"
        )
        others = ", ".join(
            f"{format_number(_sd_change(row.sd_baseline, row.sd_visit, q), decimals)} "
            f"at r = {format_number(q, decimals)}"
            for q in compare_r
        )
        sds.append(f"{format_number(row.sd_change, decimals)}{unit} for {name} ({others})")
    test = PAIRED_TESTS.get(study.reading.test, "") if study is not None else ""
    pinned = (
        " is set by the reported p for the other comparisons"
        + (f" (taken as the {test}'s, the study definition's reading)" if test else "")
        + ", but"
        if len(assumed) < len(assumptions)
        else ""
    )
    these = "these comparisons" if len(assumed) > 1 else "this comparison"
    return (
        "**Assumed, not reported: how each patient's two values pair up.** The abstract "
        "reports each visit's mean and SD, not how each patient's values go together. On this "
        f"reconstructed cohort the correlation *r* between the two visits{pinned} is an "
        f"assumption for {_and(parts)}. It sets the SD of the change, and with it every "
        f"paired interval, test and sample size for {these}: with the same two visits' SDs, "
        f"the SD of the change is {_and(sds)}."
    )


def _sd_change(sd0: float, sd1: float, r: float) -> float:
    """SD of a difference of two variables with SDs sd0, sd1 and correlation r."""
    return float(np.sqrt(sd0**2 + sd1**2 - 2 * r * sd0 * sd1))


def _and(items: Sequence[str]) -> str:
    """Join phrases with commas and a final "and"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
