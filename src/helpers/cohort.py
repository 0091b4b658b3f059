"""Describing the cohort: Table 1 and visit completeness, labelled from the study definition."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from helpers.data import Cohort
from helpers.precision import format_mean_sd, format_number
from helpers.stats import mean_sd
from helpers.study import Study, label_for

__all__ = ["not_analysed", "table_one", "visit_completeness"]


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
    '**In the data but not analysed here** (set by the parameters): Islet-cell (Langerhans) antibodies (14 values); visit month 3 (7 values of these outcomes).'
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
    left = [f"{label_for(c, study, unit=False)} ({int(counts[c])} values)" for c in left_codes]
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
