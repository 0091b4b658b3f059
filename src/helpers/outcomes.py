"""Outcome analysis shared by the outcome notebooks: summaries per visit and visit comparisons.

Every function takes the tidy measurements table (patient_id, visit_month,
outcome, value) and works with whatever patients, visits and outcomes it holds.
Missing measurements are missing rows: a summary uses the patients measured at
that visit; a paired comparison uses the patients measured at both visits, and
says how many that was.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from helpers.precision import matches_reported
from helpers.stats import paired_test, paired_values

__all__ = ["compare_visits", "describe_visits", "reproduce_reported"]


def describe_visits(
    measurements: pd.DataFrame,
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
        One row per outcome × visit present: ``outcome``, ``visit_month``,
        ``n``, ``mean``, ``sd`` (sample SD, ddof = 1), ``median``, ``q1``,
        ``q3``, ``min``, ``max``.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"patient_id": ["a", "b"], "visit_month": [0, 0],
    ...                   "outcome": ["hba1c", "hba1c"], "value": [8.0, 9.0]})
    >>> describe_visits(m)[["n", "mean", "sd"]].round(3).values.tolist()
    [[2.0, 8.5, 0.707]]
    """
    data = measurements
    if outcomes is not None:
        data = data[data["outcome"].isin(outcomes)]
    if visits is not None:
        data = data[data["visit_month"].isin(visits)]
    grouped = data.groupby(["outcome", "visit_month"], sort=True)["value"]
    table = grouped.agg(
        n="count",
        mean="mean",
        sd="std",
        median="median",
        q1=lambda v: v.quantile(0.25),
        q3=lambda v: v.quantile(0.75),
        min="min",
        max="max",
    )
    return table.reset_index()


def compare_visits(
    measurements: pd.DataFrame, outcome: str, visit: int, baseline: int, test: str
) -> pd.DataFrame:
    """Compare one outcome between a follow-up visit and baseline, paired by patient.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Tidy measurements.
    outcome : str
    visit, baseline : int
        Visit months.
    test : str
        A key of :data:`helpers.stats.PAIRED_TESTS`.

    Returns
    -------
    pandas.DataFrame
        One row: ``outcome``, ``visit_month``, ``baseline``, ``test``, ``n``
        (patients with both visits), ``n_used``, ``statistic``, ``p_val``,
        ``mean_change``.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"patient_id": list("aabbcc"), "visit_month": [0, 1] * 3,
    ...                   "outcome": ["hba1c"] * 6, "value": [9, 8, 10, 9.5, 8, 7.9]})
    >>> compare_visits(m, "hba1c", 1, 0, "paired_t")[["n", "mean_change"]].round(2).values.tolist()
    [[3.0, -0.53]]
    """
    data = measurements[measurements["outcome"] == outcome]
    pairs = paired_values(
        data, dv="value", within="visit_month", subject="patient_id", before=baseline, after=visit
    )
    result = paired_test(pairs["before"], pairs["after"], test)
    result.insert(0, "baseline", baseline)
    result.insert(0, "visit_month", visit)
    result.insert(0, "outcome", outcome)
    result["mean_change"] = float((pairs["after"] - pairs["before"]).mean())
    return result


def reproduce_reported(
    measurements: pd.DataFrame, reported: pd.DataFrame, test: str, rule: str = "round"
) -> pd.DataFrame:
    """Recompute every reported outcome figure (mean, SD, p) from patient-level data.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Tidy measurements.
    reported : pandas.DataFrame
        A reported-figures table; its mean, sd and p_value rows are used.
    test : str
        The paired test for p-values (:data:`helpers.stats.PAIRED_TESTS`).
    rule : {"round", "truncate"}, default "round"
        How printed figures relate to the values behind them.

    Returns
    -------
    pandas.DataFrame
        One row per reported figure: ``figure_id``, ``variable``,
        ``statistic``, ``visit``, ``reference_visit``, ``reported`` (quote),
        ``value``, ``relation``, ``decimals``, ``n`` (patients used),
        ``recomputed``, ``match`` (at reported precision).

    Examples
    --------
    >>> from helpers.data import load_reported
    >>> import pandas as pd
    >>> empty = pd.DataFrame(columns=["patient_id", "visit_month", "outcome", "value"])
    >>> table = reproduce_reported(empty, load_reported("data/reported/abstract_figures.csv"),
    ...                            "paired_t")
    >>> len(table), bool(table["match"].any())
    (25, False)
    """
    rows = reported[reported["statistic"].isin(["mean", "sd", "p_value"])]
    summary = describe_visits(measurements).set_index(["outcome", "visit_month"])
    out = []
    for r in rows.itertuples():
        n, value = 0, float("nan")
        if r.statistic in ("mean", "sd") and (r.variable, r.visit) in summary.index:
            n = int(summary.loc[(r.variable, r.visit), "n"])
            value = float(summary.loc[(r.variable, r.visit), r.statistic])
        elif r.statistic == "p_value":
            data = measurements[measurements["outcome"] == r.variable]
            pairs = paired_values(
                data,
                dv="value",
                within="visit_month",
                subject="patient_id",
                before=r.reference_visit,
                after=r.visit,
            )
            n = len(pairs)
            if n >= 2:
                value = float(paired_test(pairs["before"], pairs["after"], test)["p_val"].iloc[0])
        out.append(
            {
                "figure_id": r.figure_id,
                "variable": r.variable,
                "statistic": r.statistic,
                "visit": r.visit,
                "reference_visit": r.reference_visit,
                "reported": r.quote,
                "value": r.value,
                "relation": r.relation,
                "decimals": r.decimals,
                "n": n,
                "recomputed": value,
                "match": matches_reported(value, r.value, r.relation, r.decimals, rule),
            }
        )
    return pd.DataFrame(out)
