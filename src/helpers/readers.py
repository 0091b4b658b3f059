"""Result tables written for readers: plain-language headers with units, numbers rounded by kind.

The analysis functions return full tables (every column, full precision), which
the runner writes as CSV for reanalysis. A reader sees these versions instead:
outcome and visit as words, p-values as ``0.012`` or ``< 0.001``, estimates to
two decimals with their confidence interval in one cell, the method named, and
a missing value said in words, never ``NaN``. Every cell is taken from the full
table by its (outcome, visit) key, so nothing can land on the wrong row.
"""

from __future__ import annotations

import pandas as pd

from helpers.precision import format_estimate, format_p, format_percent, format_signed
from helpers.study import Study, label_for

__all__ = ["MISSING", "mixed_model_for_readers", "omnibus_for_readers", "safety_for_readers"]

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


def _count(value: object) -> int | str:
    return MISSING if _missing(value) else int(value)


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
    """Write :func:`helpers.safety.safety_analysis` for readers, in eight columns that fit a page.

    Parameters
    ----------
    safety : pandas.DataFrame
    study : Study, optional
        Outcome labels and units.

    Returns
    -------
    pandas.DataFrame
        Indexed by outcome and visit: the mean change with its two-sided
        interval, the largest rise excluded, the margin, and the adjusted
        p-values of the rise, equivalence and non-inferiority tests with their
        verdicts in words.

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["x"], "visit_month": [3], "n": [7], "mean_change": [1.5],
    ...     "ci_low": [-1.0], "ci_high": [4.0], "largest_rise_excluded": [3.5], "margin": [5.0],
    ...     "p_increase_adj": [0.2], "p_equivalence_adj": [0.04], "equivalent": [True],
    ...     "p_noninferiority_adj": [0.01], "noninferior": [True], "ci_level": [0.95]})
    >>> safety_for_readers(t).iloc[0]["Equivalence (p adjusted)"]
    'shown (0.040)'
    """
    levels = set(safety["ci_level"]) if "ci_level" in safety else set()
    if len(levels) > 1:
        raise ValueError(f"the safety table must carry one ci_level, found {sorted(levels)}")
    level = f"{format_percent(float(levels.pop()))} " if levels else ""

    def verdict(shown: object, p: object) -> str:
        if p is None or pd.isna(p):
            return MISSING
        return f"{'shown' if bool(shown) else 'not shown'} ({_p(p)})"

    rows = [
        {
            "Outcome": label_for(r.outcome, study),
            "Visit": _visit(r.visit_month),
            "Patients": _count(r.n),
            f"Mean change ({level}CI)": _interval(r.mean_change, r.ci_low, r.ci_high),
            "Largest rise excluded": _num(r.largest_rise_excluded),
            "Margin (±)": _num(r.margin),
            "Unit": _unit(r.outcome, study),
            "Rise (p adjusted)": _p(r.p_increase_adj),
            "Equivalence (p adjusted)": verdict(r.equivalent, r.p_equivalence_adj),
            "Non-inferiority (p adjusted)": verdict(r.noninferior, r.p_noninferiority_adj),
        }
        for r in safety.itertuples()
    ]
    return _indexed(rows)
