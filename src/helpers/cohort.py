"""Describing the cohort: Table 1, visit completeness, and the check against the abstract."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from helpers.data import Cohort
from helpers.precision import format_mean_sd, format_number, matches_reported
from helpers.schema import OUTCOMES, VISIT_MONTHS, outcome

__all__ = [
    "COHORT_VARIABLES",
    "cohort_statistic",
    "compare_cohort_with_reported",
    "summarise_matches",
    "table_one",
    "visit_completeness",
    "visit_schedule",
]

#: Patient-table variables the abstract describes, with their Table 1 labels.
COHORT_VARIABLES: dict[str, str] = {
    "age_years": "Age, years",
    "cells_infused_million": "Cells infused, ×10^6",
    "culture_weeks": "Culture, weeks",
}

_SEX_GROUPS = {"male": "M", "female": "F"}


def cohort_statistic(patients: pd.DataFrame, variable: str, statistic: str, group: str) -> float:
    """Compute one descriptive figure of the patients table, as the abstract reports them.

    Parameters
    ----------
    patients : pandas.DataFrame
        A validated patients table.
    variable : str
        ``"patients"`` (for counts) or a column of the patients table.
    statistic : {"n", "min", "max", "mean", "sd"}
        ``sd`` is the sample SD (ddof = 1).
    group : {"all", "male", "female"}

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For a variable, statistic or group this function does not compute.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"sex": ["M", "F", "M"], "age_years": [20, 42, 30]})
    >>> cohort_statistic(p, "patients", "n", "male"), cohort_statistic(p, "age_years", "max", "all")
    (2.0, 42.0)
    """
    if group not in ("all", *_SEX_GROUPS):
        raise ValueError(f"group must be 'all', 'male' or 'female', got {group!r}")
    rows = patients if group == "all" else patients[patients["sex"] == _SEX_GROUPS[group]]
    if variable == "patients":
        if statistic != "n":
            raise ValueError(f"for 'patients' only the statistic 'n' is defined, got {statistic!r}")
        return float(len(rows))
    if variable not in patients.columns:
        raise ValueError(f"unknown variable {variable!r}; allowed: patients, {', '.join(patients)}")
    values = rows[variable].astype(float)
    funcs = {"n": "count", "min": "min", "max": "max", "mean": "mean", "sd": "std"}
    if statistic not in funcs:
        raise ValueError(f"statistic must be one of {', '.join(funcs)}, got {statistic!r}")
    return float(values.agg(funcs[statistic]))


def compare_cohort_with_reported(patients: pd.DataFrame, reported: pd.DataFrame) -> pd.DataFrame:
    """Compare every cohort fact the report states with the patients table.

    Parameters
    ----------
    patients : pandas.DataFrame
        A validated patients table.
    reported : pandas.DataFrame
        A reported-figures table (:func:`helpers.data.load_reported`); its rows
        about the patients table (counts, age, cells, culture time) are used.

    Returns
    -------
    pandas.DataFrame
        One row per reported fact: ``figure_id``, ``variable``, ``statistic``,
        ``group``, ``reported`` (as quoted), ``value``, ``relation``,
        ``decimals``, ``observed``, ``match`` (at reported precision, see
        :func:`helpers.precision.matches_reported`).

    Examples
    --------
    >>> from helpers.data import load_cohort, load_reported
    >>> table = compare_cohort_with_reported(load_cohort("data/standin").patients,
    ...     load_reported("data/reported/abstract_figures.csv"))
    >>> bool(table["match"].all())
    True
    """
    facts = reported[reported["variable"].isin(["patients", *COHORT_VARIABLES])].copy()
    facts["observed"] = [
        cohort_statistic(patients, r.variable, r.statistic, r.group) for r in facts.itertuples()
    ]
    facts["match"] = [
        matches_reported(r.observed, r.value, r.relation, r.decimals) for r in facts.itertuples()
    ]
    columns = [
        "figure_id",
        "variable",
        "statistic",
        "group",
        "quote",
        "value",
        "relation",
        "decimals",
        "observed",
        "match",
    ]
    return facts[columns].rename(columns={"quote": "reported"}).reset_index(drop=True)


def table_one(patients: pd.DataFrame, *, decimals: int = 1) -> pd.DataFrame:
    """Build Table 1 (baseline characteristics) as a publication table of text.

    Parameters
    ----------
    patients : pandas.DataFrame
        A validated patients table.
    decimals : int, default 1
        Decimals for means, SDs and percentages.

    Returns
    -------
    pandas.DataFrame
        Indexed by characteristic, one text column headed with the number of patients.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"sex": ["M", "F"], "age_years": [20, 42],
    ...     "cells_infused_million": [95.0, 97.0], "culture_weeks": [3.0, 4.0]})
    >>> table_one(p).loc["Age, years, mean ± SD"].iloc[0]
    '31.0 ± 15.6'
    """
    n = len(patients)
    rows: dict[str, str] = {"Patients, n": str(n)}
    for group, code in _SEX_GROUPS.items():
        k = int((patients["sex"] == code).sum())
        rows[f"{group.capitalize()}, n (%)"] = f"{k} ({format_number(100 * k / n, decimals)})"
    for column, label in COHORT_VARIABLES.items():
        v = patients[column].astype(float)
        rows[f"{label}, mean ± SD"] = format_mean_sd(v.mean(), v.std(), decimals)
        rows[f"{label}, median (range)"] = f"{v.median():g} ({v.min():g}–{v.max():g})"
    return pd.DataFrame({f"All patients (n = {n})": rows}).rename_axis("Characteristic")


def visit_completeness(
    cohort: Cohort,
    outcomes: Sequence[str] | None = None,
    *,
    visits: Sequence[int] = VISIT_MONTHS,
) -> pd.DataFrame:
    """Count, for each outcome and visit, the patients with a measurement.

    Every cell is looked up by its (outcome code, visit) key, never placed by
    position, so the labels cannot drift from the counts.

    Parameters
    ----------
    cohort : Cohort
    outcomes : sequence of str, optional
        Outcome codes to show, in this order; default, every outcome of the
        data dictionary in its order.
    visits : sequence of int, default every study visit
        Visit months, one column each.

    Returns
    -------
    pandas.DataFrame
        Index: outcome label; columns ``month 0`` … ``month 3``; cells
        ``"k/N"`` with N the number of patients.

    Examples
    --------
    >>> from helpers.data import load_cohort
    >>> t = visit_completeness(load_cohort("data/standin"), ["islet_ab", "insulin_dose"])
    >>> t.to_dict("index")["Daily insulin dose"]
    {'month 0': '7/7', 'month 1': '7/7', 'month 2': '0/7', 'month 3': '0/7'}
    """
    n = len(cohort.patients)
    codes = [o.code for o in OUTCOMES] if outcomes is None else list(outcomes)
    counts = cohort.measurements.groupby(["outcome", "visit_month"])["patient_id"].nunique()
    rows = {
        outcome(code).label: {f"month {v}": f"{int(counts.get((code, v), 0))}/{n}" for v in visits}
        for code in codes
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("Outcome")


def visit_schedule(cohort: Cohort, reported: pd.DataFrame) -> pd.DataFrame:
    """Set the visits the report schedules beside the visits present in the data.

    Parameters
    ----------
    cohort : Cohort
    reported : pandas.DataFrame
        Its ``visit_month`` / ``scheduled`` rows are used.

    Returns
    -------
    pandas.DataFrame
        Columns ``visit_month``, ``reported`` (quote), ``measurements`` (rows in
        the data at that visit).

    Examples
    --------
    >>> from helpers.data import load_cohort, load_reported
    >>> visit_schedule(load_cohort("data/standin"),
    ...     load_reported("data/reported/abstract_figures.csv"))["visit_month"].tolist()
    [0, 1, 2, 3]
    """
    sched = reported[
        (reported["variable"] == "visit_month") & (reported["statistic"] == "scheduled")
    ]
    counts = cohort.measurements["visit_month"].value_counts()
    return pd.DataFrame(
        {
            "visit_month": sched["value"].astype(int).to_numpy(),
            "reported": sched["quote"].to_numpy(),
            "measurements": [int(counts.get(int(v), 0)) for v in sched["value"]],
        }
    )


def summarise_matches(comparison: pd.DataFrame) -> str:
    """Say in one sentence how many reported facts the data reproduce, and which do not.

    Parameters
    ----------
    comparison : pandas.DataFrame
        A table with ``figure_id`` and a boolean ``match`` column
        (e.g. from :func:`compare_cohort_with_reported`).

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> summarise_matches(pd.DataFrame({"figure_id": ["a", "b"], "match": [True, False]}))
    '1 of 2 reported figures match the data at reported precision; not matching: b.'
    """
    ok = int(comparison["match"].sum())
    text = f"{ok} of {len(comparison)} reported figures match the data at reported precision"
    misses = comparison.loc[~comparison["match"].astype(bool), "figure_id"].tolist()
    return f"{text}; not matching: {', '.join(misses)}." if misses else f"{text}."
