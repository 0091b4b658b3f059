"""The reported-figures table: reading it, its comparisons, its sample sizes, its look-ups.

A reported-figures table (``data/reported/abstract_figures.csv`` for this
study) holds one row per number a publication prints, with the decimals it was
printed with and the verbatim quote (:class:`helpers.schema.ReportedFiguresModel`).
Every other module asks this one for what the table says:

* :func:`load_reported` reads and validates a table (against a study
  definition, when one is given);
* :func:`figure` returns the one row of a variable, statistic, group and visit;
* :func:`sample_size` finds the n a figure is based on;
* :func:`comparisons_from_reported` collects each reported p-value with the
  figures it compares: two visits of one group (paired) or two groups at one
  visit (independent), of means ± SD or of counts ("x of n").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.data import read_csv_text, validate_table
from helpers.errors import DataValidationError, Failure
from helpers.paths import resolve_path
from helpers.precision import format_number, reported_interval
from helpers.schema import ReportedFiguresModel
from helpers.study import Study, in_sentence

__all__ = [
    "DESIGNS",
    "Comparison",
    "Reported",
    "comparisons_from_reported",
    "figure",
    "figure_in_words",
    "figures_in_words",
    "load_reported",
    "sample_size",
]

#: Comparison designs: two visits of one group, or two groups at one visit; of means or counts.
DESIGNS = ("paired", "independent", "paired_binary", "independent_binary")
#: Variables of a reported table that are not outcomes or characteristics.
_COHORT_VARIABLES = ("patients", "visit_month")


@dataclass(frozen=True)
class Reported:
    """A reported number: value, relation and printed decimals."""

    value: float
    decimals: int
    relation: str = "="
    quote: str = ""
    figure_id: str = ""

    def interval(self, rule: str = "round") -> tuple[float, float]:
        """Return the interval of values the printed figure stands for."""
        return reported_interval(self.value, self.decimals, rule)

    def text(self) -> str:
        """Print as the report does, with a decimal point."""
        return f"{self.relation} {format_number(self.value, self.decimals)}"


@dataclass(frozen=True)
class Comparison:
    """One reported comparison: two summaries and a p-value.

    For a paired design, 1 is the reference visit (before) and 2 the later
    visit; for independent groups, 1 is the reference group. Means and SDs are
    set for comparisons of means; ``count1`` and ``count2`` (patients with the
    outcome, of ``n1`` and ``n2``) for comparisons of a binary outcome.
    """

    comparison_id: str
    variable: str
    design: str
    label1: str
    label2: str
    n1: int
    n2: int
    mean1: Reported | None
    sd1: Reported | None
    mean2: Reported | None
    sd2: Reported | None
    p: Reported
    visit1: int | None = None
    visit2: int | None = None
    count1: Reported | None = None
    count2: Reported | None = None
    group1: str = "all"
    group2: str = "all"

    @property
    def n(self) -> int:
        """Pairs (paired) or total size (independent)."""
        return self.n1 if self.design.startswith("paired") else self.n1 + self.n2

    @property
    def binary(self) -> bool:
        """Whether the comparison is of counts ("x of n") rather than means."""
        return self.design.endswith("binary")


def _study_failures(table: pd.DataFrame, study: Study, name: str) -> list[Failure]:
    """Check the variables, groups and visits of a reported table against a study definition."""
    variables = {
        *_COHORT_VARIABLES,
        *study.outcome_codes,
        *(d.code for d in study.derived),
        *(c.code for c in study.characteristics),
    }
    groups = set(study.reported_groups())
    months = set(study.visit_months)
    where = f"the study definition {study.path or study.id}"
    out = []
    for i, r in enumerate(table.itertuples(), start=1):
        if r.variable not in variables:
            out.append(
                Failure(
                    name,
                    i,
                    "variable",
                    r.variable,
                    f"is not a variable of {where} (outcomes: {', '.join(study.outcome_codes)}; "
                    f"characteristics; patients; visit_month)",
                )
            )
        for column in ("group", "reference_group"):
            value = getattr(r, column)
            if not pd.isna(value) and value not in groups:
                rule = f"is not a group of {where} ({', '.join(sorted(groups))})"
                out.append(Failure(name, i, column, value, rule))
        for column in ("visit", "reference_visit"):
            value = getattr(r, column)
            if not pd.isna(value) and int(value) not in months:
                rule = f"is not a visit month of {where} ({', '.join(map(str, sorted(months)))})"
                out.append(Failure(name, i, column, str(value), rule))
    return out


def load_reported(path: str | Path, *, study: Study | None = None) -> pd.DataFrame:
    """Read and validate a reported-figures table.

    Parameters
    ----------
    path : str or Path
        A CSV in the format of ``data/reported/abstract_figures.csv`` (relative
        paths from the project root).
    study : Study, optional
        When given, every variable, group and visit must be one of the study's.
        Without it the table may describe any study (the audit's use).

    Returns
    -------
    pandas.DataFrame
        One row per reported number (:class:`~helpers.schema.ReportedFiguresModel`).

    Raises
    ------
    DataValidationError
        Listing every problem in the file.

    Examples
    --------
    >>> reported = load_reported("data/reported/abstract_figures.csv")
    >>> reported.set_index("figure_id").loc["cohort.n", "value"]
    np.float64(7.0)
    """
    name = str(resolve_path(path))
    frame, failures = read_csv_text(path)
    table = None
    if frame is not None and frame.empty:
        failures = [Failure(name, None, None, None, "has a header but no rows")]
    elif frame is not None:
        table, failures = validate_table(frame, ReportedFiguresModel.to_schema(), name)
    if table is not None and study is not None:
        failures = _study_failures(table, study, name)
    if failures or table is None:
        raise DataValidationError(failures)
    return table


def figure(
    reported: pd.DataFrame,
    *,
    variable: str,
    statistic: str,
    group: str = "all",
    visit: int | None = None,
) -> pd.Series:
    """Return the one row of a reported table for a variable, statistic, group and visit.

    Parameters
    ----------
    reported : pandas.DataFrame
        A reported-figures table (:func:`load_reported`).
    variable, statistic : str
    group : str, default "all"
    visit : int, optional
        The visit month; ``None`` matches rows without a visit and, when there
        are none, any visit.

    Returns
    -------
    pandas.Series
        The row (``figure_id``, ``value``, ``decimals``, ``relation``, ``quote`` …).

    Raises
    ------
    ValueError
        If the table has no such figure, or more than one.

    Examples
    --------
    >>> rep = load_reported("data/reported/abstract_figures.csv")
    >>> figure(rep, variable="age_years", statistic="max")["value"]
    np.float64(42.0)
    >>> figure(rep, variable="hba1c", statistic="mean", visit=1)["figure_id"]
    'hba1c.mean.m1'
    """
    rows = reported[
        (reported["variable"] == variable)
        & (reported["statistic"] == statistic)
        & (reported["group"] == group)
    ]
    if visit is not None:
        rows = rows[rows["visit"] == visit]
    elif rows["visit"].isna().any():
        rows = rows[rows["visit"].isna()]
    if len(rows) != 1:
        at = "" if visit is None else f", visit {visit}"
        raise ValueError(
            f"expected one reported {statistic} of {variable} (group {group}{at}), "
            f"found {len(rows)}"
        )
    return rows.iloc[0]


def sample_size(reported: pd.DataFrame, *, variable: str, group: str, visit: object) -> int:
    """Find the n a figure of a variable is based on, for a group at a visit.

    Looks, in order, for an ``n`` row of the variable at that visit, an ``n``
    row of the variable without a visit, and the group's ``patients`` count.

    Parameters
    ----------
    reported : pandas.DataFrame
    variable, group : str
    visit : int or None

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If no sample size is reported.

    Examples
    --------
    >>> sample_size(load_reported("data/reported/abstract_figures.csv"),
    ...             variable="hba1c", group="all", visit=1)
    7
    """
    n_rows = reported[(reported["statistic"] == "n") & (reported["group"] == group)]
    for candidates in (
        n_rows[(n_rows["variable"] == variable) & (n_rows["visit"] == visit)],
        n_rows[(n_rows["variable"] == variable) & n_rows["visit"].isna()],
        n_rows[n_rows["variable"] == "patients"],
    ):
        if len(candidates) == 1:
            return int(candidates["value"].iloc[0])
    raise ValueError(f"no sample size reported for {variable}, group {group}, visit {visit}")


def _as_reported(row: pd.Series) -> Reported:
    return Reported(
        float(row["value"]),
        int(row["decimals"]),
        str(row["relation"]),
        str(row["quote"]),
        str(row["figure_id"]),
    )


def comparisons_from_reported(reported: pd.DataFrame) -> list[Comparison]:
    """Collect the comparisons (p-value rows with the figures they compare) of a reported table.

    A p-value of a variable with ``count`` rows compares counts (a binary
    outcome); otherwise it compares means ± SD.

    Parameters
    ----------
    reported : pandas.DataFrame
        A reported-figures table (:func:`load_reported`).

    Returns
    -------
    list of Comparison

    Raises
    ------
    ValueError
        If a comparison lacks its means and SDs (or counts), or its sample size.

    Examples
    --------
    >>> cs = comparisons_from_reported(load_reported("data/reported/abstract_figures.csv"))
    >>> [c.comparison_id for c in cs][:2]
    ['insulin_dose: month 1 vs month 0', 'leptin: month 1 vs month 0']
    """
    out = []
    for p in reported[reported["statistic"] == "p_value"].itertuples():
        var = p.variable
        if pd.isna(p.reference_group):
            design, g1, g2, v1, v2 = "paired", p.group, p.group, p.reference_visit, p.visit
            label1, label2 = f"month {v1}", f"month {v2}"
        else:
            design, g1, g2, v1, v2 = "independent", p.reference_group, p.group, p.visit, p.visit
            label1, label2 = str(g1), str(g2)
            if not pd.isna(p.visit):
                label1, label2 = f"{g1} (month {v1})", f"{g2} (month {v2})"
        cid = f"{var}: {label2} vs {label1}"
        binary = bool(((reported["variable"] == var) & (reported["statistic"] == "count")).any())

        def pick(stat: str, group: str, visit: object, cid: str = cid, var: str = var) -> Reported:
            try:
                return _as_reported(
                    figure(
                        reported,
                        variable=var,
                        statistic=stat,
                        group=group,
                        visit=None if pd.isna(visit) else int(visit),
                    )
                )
            except ValueError as exc:
                raise ValueError(f"{cid}: {exc}") from None

        n1 = sample_size(reported, variable=var, group=g1, visit=v1)
        n2 = sample_size(reported, variable=var, group=g2, visit=v2)
        visits = (None if pd.isna(v1) else int(v1), None if pd.isna(v2) else int(v2))
        if binary:
            c = Comparison(
                cid, var, f"{design}_binary", label1, label2, n1, n2, None, None, None, None,
                _as_reported(pd.Series(p._asdict())), *visits,
                count1=pick("count", g1, v1), count2=pick("count", g2, v2),
                group1=str(g1), group2=str(g2),
            )  # fmt: skip
        else:
            c = Comparison(
                cid, var, design, label1, label2, n1, n2,
                pick("mean", g1, v1), pick("sd", g1, v1), pick("mean", g2, v2), pick("sd", g2, v2),
                _as_reported(pd.Series(p._asdict())), *visits,
                group1=str(g1), group2=str(g2),
            )  # fmt: skip
        out.append(c)
    return out


def figure_in_words(row: Any, study: Study) -> str:
    """Say what a reported figure is about, for a sentence: its outcome and comparison.

    Parameters
    ----------
    row : namedtuple or Series
        A row of the reported-figures table (:func:`helpers.reported.load_reported`):
        ``variable``, ``group``, ``visit``, ``reference_visit``, ``reference_group``.
    study : Study
        Labels of the outcomes and visits.

    Returns
    -------
    str

    Examples
    --------
    >>> from helpers.study import load_study
    >>> study = load_study("data/study.yaml")
    >>> row = pd.Series({"variable": "hba1c", "group": "all", "visit": 3,
    ...                  "reference_visit": 0, "reference_group": None})
    >>> figure_in_words(row, study)
    'HbA1c, month 3 against baseline (before AMSCT)'
    >>> cohort = pd.Series({"variable": "patients", "group": "male", "visit": None,
    ...                     "reference_visit": None, "reference_group": None})
    >>> age = cohort.replace({"patients": "age_years", "male": "all"})
    >>> figure_in_words(cohort, study), figure_in_words(age, study)
    ('patients, male', 'age')
    """
    variable = str(row.variable)
    group = getattr(row, "group", "all")
    subgroup = isinstance(group, str) and group != "all" and pd.isna(row.reference_group)
    if variable == "patients":  # the cohort: "patients", "patients, male"
        return f"patients, {group}" if subgroup else "patients"
    if variable == "visit_month":
        what = "visit schedule"
    elif variable in study.outcome_codes:
        what = in_sentence(study.label(variable, unit=False))
    elif variable in {c.code for c in study.characteristics}:
        what = in_sentence(study.characteristic(variable).label)
    else:
        what = variable
    parts = [what, group] if subgroup else [what]
    if pd.notna(row.visit):
        parts.append(in_sentence(study.visit_label(int(row.visit))))
    if pd.notna(row.reference_visit):
        parts[-1] += f" against {in_sentence(study.visit_label(int(row.reference_visit)))}"
    elif pd.notna(row.reference_group):
        parts.append(f"{row.group} against {row.reference_group}")
    return ", ".join(parts)


def figures_in_words(reported: pd.DataFrame, study: Study) -> dict[str, str]:
    """Name every figure of a reported-figures table in words (:func:`figure_in_words`).

    Parameters
    ----------
    reported : pandas.DataFrame
        A reported-figures table (:func:`load_reported`, or the file read as it is).
    study : Study

    Returns
    -------
    dict of str to str
        Each ``figure_id``'s words.

    Examples
    --------
    >>> from helpers.study import load_study
    >>> study = load_study("data/study.yaml")
    >>> words = figures_in_words(load_reported("data/reported/abstract_figures.csv"), study)
    >>> words["islet_ab.p.m3_vs_m0"]
    'islet-cell (Langerhans) antibodies, month 3 against baseline (before AMSCT)'
    """
    return {str(r.figure_id): figure_in_words(r, study) for r in reported.itertuples()}
