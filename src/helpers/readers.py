"""Result tables written for readers: plain-language headers with units, numbers rounded by kind.

The analysis functions return full tables (every column, full precision), which
the runner writes as CSV for reanalysis. A reader sees these versions instead:
outcome and visit as words, p-values as ``0.012`` or ``< 0.001``, estimates to
two decimals with their confidence interval in one cell, the method named, and
a missing value said in words, never ``NaN``. Every cell is taken from the full
table by its (outcome, visit) key, so nothing can land on the wrong row.
"""

from __future__ import annotations

import contextlib
import html
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.precision import (
    format_count,
    format_estimate,
    format_p,
    format_percent,
    format_signed,
    p_phrase,
    recording_decimals,
)
from helpers.study import Study, label_for

__all__ = [
    "COLUMNS",
    "MAX_ROWS",
    "MISSING",
    "STATISTIC_NAMES",
    "Column",
    "ReaderTable",
    "mixed_model_for_readers",
    "omnibus_for_readers",
    "safety_for_readers",
    "show",
]

#: What a reader sees where a value could not be computed.
MISSING = "not computed"


def _missing(value: object) -> bool:
    return value is None or bool(pd.isna(value))


def _num(value: object, decimals: int = 2) -> str:
    return MISSING if _missing(value) else format_signed(float(value), decimals)


def _interval(estimate: object, low: object, high: object) -> str:
    if any(_missing(v) for v in (estimate, low, high)):
        return MISSING
    return format_estimate(float(estimate), float(low), float(high))


def _p(value: object) -> str:
    return MISSING if _missing(value) else format_p(float(value))


def _count(value: object) -> str:
    """Write a count as the text does, its digits grouped by a narrow space ("30 622").

    Examples
    --------
    >>> from helpers.precision import THOUSANDS
    >>> _count(7), _count(100_000.0).replace(THOUSANDS, " "), _count(float("nan")) == MISSING
    ('7', '100 000', True)
    """
    return MISSING if _missing(value) else format_count(int(value))


def _visit(value: object) -> str:
    return "no visit compared" if _missing(value) else f"month {int(value)}"


def _indexed(
    rows: list[dict[str, object]], by: tuple[str, str] = ("Outcome", "Visit")
) -> pd.DataFrame:
    """Index the rows by outcome and visit (or test); an empty table keeps its index names."""
    if not rows:
        return pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=list(by)))
    return pd.DataFrame(rows).set_index(list(by))


def _text(value: object) -> str:
    return "" if _missing(value) else str(value)


def _unit(code: str, study: Study | None) -> str:
    try:
        return study.unit(code) if study is not None else ""
    except ValueError:
        return ""


def omnibus_for_readers(omnibus: pd.DataFrame, *, study: Study | None = None) -> pd.DataFrame:
    """Write :func:`helpers.outcomes.omnibus_tests` for readers.

    Parameters
    ----------
    omnibus : pandas.DataFrame
    study : Study, optional
        Outcome labels.

    Returns
    -------
    pandas.DataFrame
        Indexed by outcome and test; columns ``Visits (months)``,
        ``Patients``, ``p``, ``p (adjusted)``, ``Adjusted over``, ``Note``.

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["hba1c"], "test": ["Friedman test"], "visits": ["0, 1"],
    ...     "n_patients": [7], "p_val": [0.00042], "p_adj": [float("nan")], "family": ["x"],
    ...     "note": [None]})
    >>> omnibus_for_readers(t).iloc[0][["p", "p (adjusted)"]].tolist()
    ['< 0.001', 'not computed']
    """
    rows = [
        {
            "Outcome": label_for(r.outcome, study),
            "Test": r.test,
            "Visits (months)": r.visits,
            "Patients": _count(r.n_patients),
            "p": _p(r.p_val),
            "p (adjusted)": _p(r.p_adj),
            "Adjusted over": _text(r.family),
            "Note": _text(r.note),
        }
        for r in omnibus.itertuples()
    ]
    return _indexed(rows, by=("Outcome", "Test"))


def mixed_model_for_readers(
    mixed: pd.DataFrame, *, ci_level: float, study: Study | None = None
) -> pd.DataFrame:
    """Write :func:`helpers.outcomes.mixed_model` for readers.

    The change from baseline and its confidence interval share one cell, in
    the outcome's unit; the header states the confidence level the table was
    computed with.

    Parameters
    ----------
    mixed : pandas.DataFrame
    ci_level : float
        The confidence level the table was computed with.
    study : Study, optional
        Outcome labels and units.

    Returns
    -------
    pandas.DataFrame
        Indexed by outcome and visit.

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["x"], "visit_month": [1], "estimate": [-1.234],
    ...     "ci_low": [-2.0], "ci_high": [-0.5], "df": [6.0], "p_val": [0.012], "p_adj": [0.03],
    ...     "family": ["holm"], "n_patients": [7], "method": ["m"], "note": [None]})
    >>> mixed_model_for_readers(t, ci_level=0.9).columns[0]
    'Change from baseline (90% CI)'
    >>> mixed_model_for_readers(t, ci_level=0.9).iloc[0, 0]
    '−1.23 (−2.00 to −0.50)'
    """
    header = f"Change from baseline ({format_percent(ci_level)} CI)"
    rows = [
        {
            "Outcome": label_for(r.outcome, study),
            "Visit": _visit(r.visit_month),
            header: _interval(r.estimate, r.ci_low, r.ci_high),
            "Unit": _unit(r.outcome, study),
            "df": _num(r.df, 0),
            "p": _p(r.p_val),
            "p (adjusted)": _p(r.p_adj),
            "Adjusted over": _text(r.family),
            "Patients": _count(r.n_patients),
            "Note": _text(r.note),
        }
        for r in mixed.itertuples()
    ]
    return _indexed(rows)


def safety_for_readers(safety: pd.DataFrame, *, study: Study | None = None) -> pd.DataFrame:
    """Write :func:`helpers.safety.safety_analysis` for readers, in nine columns that fit a page.

    Parameters
    ----------
    safety : pandas.DataFrame
    study : Study, optional
        Outcome labels and units.

    Returns
    -------
    pandas.DataFrame
        Indexed by outcome and visit: the mean change with its two-sided
        interval, the largest rise excluded, the margin, the one-sided p of
        the rise test before and after adjustment (a rise is flagged on the
        first), and the adjusted p-values of the equivalence and
        non-inferiority tests with their verdicts in words.

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["x"], "visit_month": [3], "n": [7], "mean_change": [1.5],
    ...     "ci_low": [-1.0], "ci_high": [4.0], "largest_rise_excluded": [3.5], "margin": [5.0],
    ...     "p_increase": [0.1], "p_increase_adj": [0.2], "p_equivalence_adj": [0.04],
    ...     "equivalent": [True],
    ...     "p_noninferiority_adj": [0.01], "noninferior": [True], "ci_level": [0.95]})
    >>> safety_for_readers(t).iloc[0]["Equivalence (p adjusted)"]
    'shown (p = 0.040)'
    """
    levels = set(safety["ci_level"]) if "ci_level" in safety else set()
    if len(levels) > 1:
        raise ValueError(f"the safety table must carry one ci_level, found {sorted(levels)}")
    level = f"{format_percent(float(levels.pop()))} " if levels else ""

    def verdict(shown: object, p: object) -> str:
        if p is None or pd.isna(p):
            return MISSING
        return f"{'shown' if bool(shown) else 'not demonstrated'} ({p_phrase(float(p))})"

    rows = [
        {
            "Outcome": label_for(r.outcome, study),
            "Visit": _visit(r.visit_month),
            "Patients": _count(r.n),
            f"Mean change ({level}CI)": _interval(r.mean_change, r.ci_low, r.ci_high),
            f"Largest rise excluded (one-sided {level}CI, unadjusted)": _num(
                r.largest_rise_excluded
            ),
            "Margin (±)": _num(r.margin),
            "Unit": _unit(r.outcome, study),
            "Rise (one-sided p)": _p(r.p_increase),
            "Rise (p adjusted)": _p(r.p_increase_adj),
            "Equivalence (p adjusted)": verdict(r.equivalent, r.p_equivalence_adj),
            "Non-inferiority (p adjusted)": verdict(r.noninferior, r.p_noninferiority_adj),
        }
        for r in safety.itertuples()
    ]
    return _indexed(rows)


# ---------------------------------------------------------------------------
# Any other table a notebook shows: one vocabulary of column names, one
# formatter per kind of value, no index column.
# ---------------------------------------------------------------------------

#: The kinds of value a column can hold and how each is printed.
#: ``measure`` is a value in the row's outcome unit, printed to the outcome's
#: recording precision (plus ``extra`` decimals for derived values such as SDs).
KINDS = (
    "text",
    "name",
    "outcome",
    "comparison",
    "visit",
    "p",
    "count",
    "number",
    "measure",
    "percent",
    "flag",
    "test",
    "statistic",
)

#: The statistics a reported-figures table may hold (``helpers.schema``), as readers see them.
STATISTIC_NAMES = {
    "n": "number of patients",
    "count": "patients with the outcome",
    "min": "minimum",
    "max": "maximum",
    "mean": "mean",
    "sd": "SD",
    "p_value": "p-value",
    "scheduled": "scheduled visit",
}


@dataclass(frozen=True)
class Column:
    """How a reader sees one column: a plain-language header and the kind of its values.

    Examples
    --------
    >>> Column("Visit", "visit").label
    'Visit'
    """

    label: str
    kind: str = "text"
    extra: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}; kinds: {list(KINDS)}")


#: Column names of the helpers' full tables and what a reader sees instead.
COLUMNS: dict[str, Column] = {
    "alpha": Column("α (one-sided)", "number"),
    "analytic": Column("Analytic power", "number"),
    "basis": Column("Planned for"),
    "ci_high": Column("Upper confidence bound", "measure", 1),
    "ci_low": Column("Lower confidence bound", "measure", 1),
    "ci_level": Column("Confidence level", "percent"),
    "design": Column("Design"),
    "effect": Column("Effect planned for", "measure", 1),
    "enrol_single_arm": Column("Single arm: enrolled", "count"),
    "enrol_two_arm": Column("Two arms: enrolled in all", "count"),
    "enrol_on_baseline_sd": Column(
        "Two arms: enrolled in all, planned on the baseline SD", "count"
    ),
    "enrol_on_followup_sd": Column(
        "Two arms: enrolled in all, planned on the follow-up SD", "count"
    ),
    "exact": Column("Analytic power exact", "flag"),
    "mc_se": Column("Monte Carlo SE", "number"),
    "mean_change": Column("Mean change", "measure", 1),
    "n_per_arm": Column("Two arms: analysed per arm", "count"),
    "n_analysed": Column("Patients analysed (per arm for two arms)", "count"),
    "n_single_arm": Column("Single arm: analysed", "count"),
    "note": Column("Note"),
    "r": Column("r (baseline, follow-up)", "number"),
    "sd_baseline": Column("SD at baseline", "measure", 1),
    "sd_followup": Column("SD at follow-up", "measure", 1),
    "simulated": Column("Simulated power", "number"),
    "z": Column("z = (simulated − analytic) / SE", "number"),
    "all_match": Column("All figures match", "flag"),
    "analysis": Column("Analysis"),
    "attainable": Column("p-values the test can give"),
    "audit_note": Column("Audit note"),
    "baseline_month": Column("Baseline visit", "visit"),
    "baseline_value": Column("Value at baseline", "measure"),
    "change": Column("Change", "measure"),
    "comparison": Column("Comparison", "comparison"),
    "crossing": Column("Cut-off crossing"),
    "decimals": Column("Decimals printed in the report", "count"),
    "detectable_rise": Column("Detectable rise", "measure", 1),
    "df": Column("df", "number"),
    "effect_size": Column("Effect size dz (rise / SD of the change)", "number"),
    "figure": Column("Figure"),
    "figure_id": Column("Id in the reported-figures file"),
    "figures": Column("Figures", "count"),
    "recomputed_as_printed": Column("Recomputed, printed as the report prints it"),
    "recomputed_in_test_patients": Column("Recomputed, patients in the test only, as printed"),
    "granularity": Column("Values recorded in steps of"),
    "group": Column("Group"),
    "implies": Column("What the reported p implies"),
    "ties_needed": Column("Needs zero or tied differences", "flag"),
    "fewest_ties": Column("Data with the fewest zero or tied differences"),
    "match": Column("Matches", "flag"),
    "matching": Column("Matching", "count"),
    "meaningful_rise": Column("Meaningful rise: more than", "measure", 1),
    "measurements": Column("Measurements", "count"),
    "n": Column("Patients", "count"),
    "observed": Column("Recomputed", "measure", 2),
    "outcome": Column("Outcome", "outcome"),
    "p": Column("p", "p"),
    "package": Column("Package"),
    "patient_id": Column("Patient"),
    "power": Column("Power", "percent"),
    "reachable": Column("Reachable", "flag"),
    "reachable_by_test": Column("Reachable by the test used", "flag"),
    "reason": Column("Why"),
    "recomputed": Column("Recomputed (2 more decimals than printed; counts whole)", "measure", 2),
    "relation": Column("Printed as (=, < or >)"),
    "reported": Column("Reported (as printed)"),
    "reported_values": Column("Reported values, printed the abstract's way (its + read as ±)"),
    "rose_meaningfully": Column("Rose meaningfully", "flag"),
    "round": Column("Comparisons reachable, figures rounded", "count"),
    "round_sem": Column("Comparisons reachable, figures rounded, ± read as SEM", "count"),
    "sd_change": Column("SD of change", "measure", 1),
    "source": Column("Source"),
    "statistic": Column("Statistic", "statistic"),
    "summary": Column("Reported mean ± SD"),
    "test": Column("Test", "test"),
    "truncate": Column("Comparisons reachable, figures truncated", "count"),
    "truncate_sem": Column("Comparisons reachable, figures truncated, ± read as SEM", "count"),
    "value": Column("Value", "measure"),  # at the row's visit
    "value_as_read": Column("Reported value, as read", "measure"),
    "variable": Column("Variable", "name"),
    "version": Column("Version"),
    "visit": Column("Visit", "visit"),
    "visit_month": Column("Visit", "visit"),
}

_CODE = re.compile(r"[a-z][a-z0-9_]*")

#: Statistical symbols a header may start with, kept in lower case.
_SYMBOLS = frozenset({"p", "n", "df", "r"})


def _test_name(code: object) -> str:
    from helpers.stats import INDEPENDENT_TESTS, PAIRED_TESTS

    text = str(code)
    return PAIRED_TESTS.get(text, INDEPENDENT_TESTS.get(text, text))


def _column(name: object, columns: dict[str, Column]) -> Column:
    """Look up a header's reader column; a code-like header not in the vocabulary is refused."""
    text = str(name)
    if text in columns:
        return columns[text]
    if _CODE.fullmatch(text):
        named = _test_name(text)
        if named != text:
            return Column(named[0].upper() + named[1:], "flag")
        raise ValueError(
            f"column {text!r} has no reader's label; add it to helpers.readers.COLUMNS "
            "or pass columns={...}"
        )
    first = text.split(" ", 1)[0]
    if first in _SYMBOLS or not text[:1].islower():
        return Column(text, "text")
    return Column(text[0].upper() + text[1:], "text")


def _name(code: object, study: Study | None) -> str:
    """Name an outcome or a characteristic from the study definition, else the code."""
    text = str(code)
    if study is None:
        return text
    try:
        return study.label(text)
    except ValueError:
        pass
    try:
        return study.characteristic(text).label
    except ValueError:
        return text


def _decimals(outcome: object, study: Study | None, extra: int, seen: dict[str, int]) -> int:
    """Count the decimals of a value in an outcome's unit, plus ``extra`` for derived values.

    As recorded: by the study definition, or more where the table's values carry more.
    """
    recorded = seen.get(str(outcome))
    if study is not None and outcome is not None:
        with contextlib.suppress(ValueError):
            recorded = max(study.measured(str(outcome)).decimals, recorded or 0)
    return (2 if recorded is None else recorded) + extra


def _recorded_decimals(frame: pd.DataFrame, specs: list[Column]) -> dict[str, int]:
    """Per outcome, the decimals the table's raw values (measures with no extra) carry."""
    key = "outcome" if "outcome" in frame else "variable" if "variable" in frame else None
    if key is None:
        return {}
    raw = [c for c, spec in zip(frame.columns, specs, strict=True)
           if spec.kind == "measure" and spec.extra == 0]  # fmt: skip
    seen: dict[str, int] = {}
    for outcome, rows in frame.groupby(key, sort=False):
        values = pd.to_numeric(rows[raw].stack(), errors="coerce").dropna() if raw else []
        found = recording_decimals(values, max_decimals=4) if len(values) else None
        if found is not None:
            seen[str(outcome)] = found
    return seen


def _plain_number(value: float, decimals: int | None = None) -> str:
    """Print a number with the digits it needs: integers as integers, else up to three decimals.

    ``decimals`` (a column's, from :func:`_column_decimals`) prints every value
    with that many, whole ones too, so a column's numbers line up (1.000 and
    0.500 beside 0.602); a column of whole numbers has none.
    """
    if decimals is not None and (decimals == 0 or value == 0 or abs(value) >= 0.001):
        return format_signed(float(value), decimals)
    if float(value).is_integer():
        return format_signed(float(value), 0)
    if abs(value) < 0.001:
        return f"{value:.2e}".replace("-", "−")
    return format_signed(float(value), 3).rstrip("0").rstrip(".")


def _column_decimals(values: pd.Series) -> int:
    """Decimals a column of plain numbers needs: the most any of its numbers needs, up to three."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    shown = numbers[np.isfinite(numbers) & (numbers.abs() >= 0.001) & (numbers % 1 != 0)]
    needed = [len(f"{abs(v):.3f}".rstrip("0").partition(".")[2]) for v in shown.tolist()]
    return max(needed, default=0)


def _text_cell(text: str, column: Column, study: Study | None) -> str:
    """Print a value that is already text: codes become names, anything else is kept."""
    if not text:
        return text
    if column.kind in ("outcome", "name"):
        return _name(text, study)
    if column.kind == "comparison" and ": " in text:
        head, tail = text.split(": ", 1)
        return f"{_name(head, study)}: {tail}"
    if column.kind == "test":
        return _test_name(text)
    if column.kind == "statistic":
        return STATISTIC_NAMES.get(text, text)
    return text


def _cell(
    value: object,
    column: Column,
    row: pd.Series,
    study: Study | None,
    missing: str,
    seen: dict[str, int],
    decimals: int | None = None,
) -> str:
    if isinstance(value, str):
        return _text_cell(value, column, study)
    if _missing(value):
        return missing
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    kind = column.kind
    if kind == "visit":
        return f"month {int(value)}"
    if kind == "p":
        return format_p(float(value))
    if kind == "count":  # digits grouped as the text writes them (helpers.precision)
        return format_count(int(value))
    if kind == "percent":
        return format_percent(float(value))
    if kind == "measure":
        if row.get("statistic") == "n" and float(value).is_integer():
            # a count of patients, recomputed or printed: no decimals
            return format_count(int(value))
        if "decimals" in row and not _missing(row["decimals"]):
            # a figure as the report printed it; a recomputed one with two digits more
            return format_signed(float(value), int(row["decimals"]) + column.extra)
        outcome = row.get("outcome", row.get("variable"))
        return format_signed(float(value), _decimals(outcome, study, column.extra, seen))
    if isinstance(value, int | np.integer):
        return str(int(value))
    return _plain_number(float(value), decimals)


@dataclass(frozen=True)
class ReaderTable:
    """A table as a reader sees it: plain headers, every value printed, no index column.

    Shows as HTML in JupyterLab and on the site (inside a box that scrolls
    sideways when the table is wider than the page) and as plain text
    elsewhere. ``frame`` holds the printed cells.

    Examples
    --------
    >>> t = show(pd.DataFrame({"visit_month": [0, 3], "n": [7, 6]}))
    >>> t.frame.columns.tolist(), t.frame.iloc[1].tolist()
    (['Visit', 'Patients'], ['month 3', '6'])
    """

    frame: pd.DataFrame
    note: str = ""  # said under the table (that only its first rows are shown)

    def _repr_html_(self) -> str:
        if self.frame.empty:
            return f'<p class="reader-table-note"><em>{html.escape(self.note)}</em></p>'
        table = self.frame.to_html(index=False, border=0, classes="dataframe reader-table")
        box = 'class="reader-table-box" style="overflow-x: auto; max-width: 100%;"'
        note = f'<p class="reader-table-note"><em>{html.escape(self.note)}</em></p>'
        return f"<div {box}>{table}</div>" + (note if self.note else "")

    def __repr__(self) -> str:
        if self.frame.empty:
            return self.note
        return self.frame.to_string(index=False) + (f"\n{self.note}" if self.note else "")


#: What a table without rows shows instead of pandas' "Empty DataFrame".
NO_ROWS = "No rows: there is nothing to show here."

#: A reader's table shows at most this many rows (a per-patient table of a large cohort would
#: not be read, and would take minutes to print); the rest are in the table the helper returned.
MAX_ROWS = 100


def show(
    table: pd.DataFrame,
    *,
    study: Study | None = None,
    missing: str = MISSING,
    index_label: str | None = None,
    columns: dict[str, Column] | None = None,
    max_rows: int = MAX_ROWS,
) -> ReaderTable:
    """Print any table of the helpers for a reader.

    The index becomes ordinary columns (an unnamed index is named by
    ``index_label``; a default 0, 1, 2 … index is dropped). Every header is
    looked up in :data:`COLUMNS` (a header that looks like a code and is not
    there is refused, so no ``snake_case`` reaches a reader); test codes become
    the tests' names. Values are printed by kind: outcome codes as their labels
    with units, visits as ``month 3``, p as ``0.012`` or ``< 0.001``, values in
    an outcome's unit to its recording precision (or, in a table of reported
    figures, to the decimals each figure was printed with), true/false as
    yes/no and a missing value as ``missing``. Strings are kept as they are;
    a lower-case header gets a capital letter unless it starts with a
    statistical symbol (p, n, df, r). A table longer than ``max_rows`` shows
    its first rows and says how many there are.

    Parameters
    ----------
    table : pandas.DataFrame
    study : Study, optional
        Labels, units and recording precisions.
    missing : str, default "not computed"
        What a missing value reads as ("not measured" for measurements).
    index_label : str, optional
        Header for an unnamed index.
    columns : dict, optional
        Extra or overriding entries for the vocabulary.
    max_rows : int, default :data:`MAX_ROWS`
        Rows shown at most.

    Returns
    -------
    ReaderTable

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["x", "x"], "p": [0.0004, float("nan")],
    ...     "match": [True, False]})
    >>> show(t).frame.values.tolist()
    [['x', '< 0.001', 'yes'], ['x', 'not computed', 'no']]
    >>> show(t.iloc[:0])
    No rows: there is nothing to show here.
    """
    vocabulary = {**COLUMNS, **(columns or {})}
    frame = table.copy()
    if isinstance(frame.columns, pd.MultiIndex):
        frame.columns = [
            " ".join(str(part) for part in parts if str(part)) for parts in frame.columns
        ]
    elif frame.columns.name is not None:
        head = _column(frame.columns.name, vocabulary).label
        frame.columns = [
            f"{head} {_plain_number(c) if isinstance(c, int | float) else c}" for c in frame.columns
        ]
    default_index = isinstance(frame.index, pd.RangeIndex) and frame.index.equals(
        pd.RangeIndex(len(frame))
    )
    if default_index:
        frame = frame.reset_index(drop=True)
    else:
        names = list(frame.index.names)
        if any(n is None for n in names):
            if index_label is None or len(names) > 1:
                raise ValueError("the table's index has no name; pass index_label=")
            frame.index.name = index_label
        frame = frame.reset_index()
    specs = [_column(c, vocabulary) for c in frame.columns]
    seen = _recorded_decimals(frame, specs)  # of the whole table, shown whole or not
    places = [
        _column_decimals(frame.iloc[:, j]) if spec.kind == "number" else None
        for j, spec in enumerate(specs)
    ]
    rows = [
        [
            _cell(value, spec, row, study, missing, seen, places[j])
            for j, (value, spec) in enumerate(zip(row, specs, strict=True))
        ]
        for _, row in frame.head(max_rows).iterrows()
    ]
    shown = pd.DataFrame(rows, columns=[s.label for s in specs])
    if frame.empty:
        return ReaderTable(shown, note=NO_ROWS)
    if len(frame) <= max_rows:
        return ReaderTable(shown)
    return ReaderTable(
        shown, note=f"The first {format_count(max_rows)} of {format_count(len(frame))} rows."
    )
