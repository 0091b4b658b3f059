"""Putting it together: every reported figure, recomputed, matched, and judged by the audit."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from helpers.audit import audit
from helpers.cohort import compare_cohort_with_reported
from helpers.data import Cohort
from helpers.outcomes import reproduce_reported

__all__ = [
    "describe_test_choice",
    "granularity_matrix",
    "reachability_by_rule",
    "reachability_matrix",
    "reproduction_table",
    "summarise_reproduction",
]


def reproduction_table(
    cohort: Cohort,
    reported: pd.DataFrame,
    verdicts: pd.DataFrame,
    test: str,
    rule: str = "round",
    variables: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every reported cohort and outcome figure: reported, recomputed, match, audit verdict.

    Parameters
    ----------
    cohort : Cohort
    reported : pandas.DataFrame
        A reported-figures table.
    verdicts : pandas.DataFrame
        The audit of the same table (:func:`helpers.audit.audit`), including ``test``.
    test : str
        The paired test used to recompute p-values.
    rule : {"round", "truncate"}, default "round"
    variables : sequence of str, optional
        Keep only the figures about these variables (e.g. two outcomes).

    Returns
    -------
    pandas.DataFrame
        ``figure_id``, ``statistic``, ``reported`` (quote), ``value``,
        ``relation``, ``decimals``, ``recomputed``, ``match``, and for p-values
        ``reachable_by_test`` (the audit's verdict: can any data give it?) and
        ``audit_note``.

    Examples
    --------
    >>> from helpers.audit import audit
    >>> from helpers.data import load_cohort, load_reported
    >>> rep = load_reported("data/reported/abstract_figures.csv")
    >>> table = reproduction_table(load_cohort("data/standin"), rep,
    ...                            audit(rep, ["paired_t"]), "paired_t")
    >>> len(table)
    34
    """
    facts = compare_cohort_with_reported(cohort.patients, reported).rename(
        columns={"observed": "recomputed"}
    )
    outcomes = reproduce_reported(cohort.measurements, reported, test, rule)
    columns = [
        "figure_id",
        "statistic",
        "reported",
        "value",
        "relation",
        "decimals",
        "recomputed",
        "match",
    ]
    table = pd.concat([facts[columns], outcomes[columns]], ignore_index=True)
    mine = verdicts[verdicts["test"] == test].set_index("p_figure_id")
    table["reachable_by_test"] = table["figure_id"].map(mine["reachable"]).astype("boolean")
    notes = mine["implies"].where(mine["reachable"], mine["reason"])
    table["audit_note"] = table["figure_id"].map(notes).fillna("")
    if variables is not None:
        about = reported.set_index("figure_id")["variable"]
        table = table[table["figure_id"].map(about).isin(variables)].reset_index(drop=True)
    return table


def reachability_matrix(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Comparison × test table of whether the reported p is reachable, with a total row.

    Parameters
    ----------
    verdicts : pandas.DataFrame
        The audit (:func:`helpers.audit.audit`).

    Returns
    -------
    pandas.DataFrame
        Booleans, comparisons as rows (in audit order), tests as columns (in
        audit order), and a last row ``reachable (of N)`` with counts.

    Examples
    --------
    >>> v = pd.DataFrame({"comparison": ["a", "a", "b", "b"], "test": ["t", "w", "t", "w"],
    ...                   "reachable": [True, False, True, True]})
    >>> reachability_matrix(v).loc["reachable (of 2)"].tolist()
    [2, 1]
    """
    matrix = verdicts.pivot(index="comparison", columns="test", values="reachable")
    matrix = matrix.loc[verdicts["comparison"].unique(), verdicts["test"].unique()]
    matrix.columns.name = None
    counts = matrix.sum().astype(int).to_frame(f"reachable (of {len(matrix)})").T
    return pd.concat([matrix.astype(object), counts.astype(object)])


def summarise_reproduction(table: pd.DataFrame, test: str) -> str:
    """Say in plain words what reproduces, what cannot, and why (Markdown).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`reproduction_table`.
    test : str
        The test used.

    Returns
    -------
    str

    Examples
    --------
    >>> t = pd.DataFrame({"figure_id": ["a.p"], "statistic": ["p_value"], "reported": ["p=0,5"],
    ...     "match": [False], "reachable_by_test": [False], "audit_note": ["none can"]})
    >>> print(summarise_reproduction(t, "paired_t"))  # doctest: +NORMALIZE_WHITESPACE
    - 0 of 1 reported figures reproduce at reported precision with the paired_t test.
    - 1 cannot be reproduced by any data analysed with this test:
      **a.p** (reported p=0,5): none can.
    """
    n, ok = len(table), int(table["match"].sum())
    lines = [
        f"- {ok} of {n} reported figures reproduce at reported precision with the {test} test."
    ]
    missed = table[~table["match"].astype(bool)]
    impossible = missed[missed["reachable_by_test"].eq(False).fillna(False)]
    possible = missed.drop(impossible.index)
    if len(impossible):
        items = "; ".join(
            f"**{r.figure_id}** (reported {r.reported}): {r.audit_note}"
            for r in impossible.itertuples()
        )
        lines.append(
            f"- {len(impossible)} cannot be reproduced by any data analysed with this test:\n"
            f"  {items}."
        )
    if len(possible):
        items = ", ".join(f"**{r.figure_id}**" for r in possible.itertuples())
        lines.append(
            f"- {len(possible)} could be reproduced by some data but are not by these: {items}."
        )
    if ok == n:
        lines.append("- Nothing is left unexplained.")
    return "\n".join(lines)


def reachability_by_rule(
    reported: pd.DataFrame, tests: Sequence[str] | None, rules: Sequence[str]
) -> pd.DataFrame:
    """Count, per test, the reported p-values it can reach under each precision rule.

    Parameters
    ----------
    reported : pandas.DataFrame
    tests : sequence of str or None
        Candidate tests (None: all for each design).
    rules : sequence of str
        Precision rules, e.g. ``("round", "truncate")``.

    Returns
    -------
    pandas.DataFrame
        Tests as rows, one column per rule, counts of reachable comparisons.

    Examples
    --------
    >>> from helpers.data import load_reported
    >>> rep = load_reported("data/reported/abstract_figures.csv")
    >>> reachability_by_rule(rep, ["wilcoxon_exact"], ["round", "truncate"]).values.tolist()
    [[1, 3]]
    """
    counts = {
        rule: audit(reported, tests, rule).groupby("test", sort=False)["reachable"].sum()
        for rule in rules
    }
    table = pd.DataFrame(counts).astype(int)
    table.index.name = "test"
    return table


def describe_test_choice(verdicts: pd.DataFrame, chosen: str) -> str:
    """State, from the audit, how the chosen test compares with the other candidates.

    Parameters
    ----------
    verdicts : pandas.DataFrame
        The audit.
    chosen : str
        The test the compendium uses by default.

    Returns
    -------
    str

    Examples
    --------
    >>> v = pd.DataFrame({"comparison": ["a", "b"] * 2, "test": ["t", "t", "w", "w"],
    ...                   "reachable": [True, True, True, False]})
    >>> describe_test_choice(v, "t")
    't reaches 2 of 2 reported p-values; the most any candidate reaches is 2 (t).'
    """
    counts = verdicts.groupby("test", sort=False)["reachable"].sum().astype(int)
    total = verdicts["comparison"].nunique()
    best = counts.max()
    leaders = ", ".join(counts[counts == best].index)
    return (
        f"{chosen} reaches {counts.get(chosen, 0)} of {total} reported p-values; "
        f"the most any candidate reaches is {best} ({leaders})."
    )


def granularity_matrix(grains: pd.DataFrame) -> pd.DataFrame:
    """Pivot the granularity check: one row per reported mean ± SD, one column per granularity.

    Parameters
    ----------
    grains : pandas.DataFrame
        From :func:`helpers.audit.granularity`.

    Returns
    -------
    pandas.DataFrame
        Index (variable, visit, n, "mean ± SD"); cells "yes" (GRIM and GRIMMER
        consistent), "mean only" (GRIM only) or "no".

    Examples
    --------
    >>> g = pd.DataFrame({"variable": ["x", "x"], "visit": [0, 0], "n": [7, 7],
    ...     "mean": ["1.5", "1.5"], "sd": ["0.5", "0.5"], "granularity": [1.0, 0.5],
    ...     "grim": [False, True], "grimmer": [False, True], "consistent": [False, True]})
    >>> granularity_matrix(g).values.tolist()
    [['no', 'yes']]
    """
    cells = grains.assign(
        cell=[
            "yes" if c else ("mean only" if m else "no")
            for c, m in zip(grains["consistent"], grains["grim"], strict=True)
        ],
        summary=grains["mean"] + " ± " + grains["sd"],
        column=[f"{g:g}" for g in grains["granularity"]],
    )
    table = cells.pivot(
        index=["variable", "visit", "n", "summary"], columns="column", values="cell"
    )
    order = list(dict.fromkeys(cells["column"]))
    table = table.loc[cells.set_index(["variable", "visit", "n", "summary"]).index.unique(), order]
    table.columns.name = "granularity"
    return table
