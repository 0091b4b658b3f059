"""Reading and validating the compendium's input files.

Every file is read as text and validated against the data dictionary
(:mod:`helpers.schema`) with pandera, collecting *all* problems before
raising a single :class:`~helpers.errors.DataValidationError` that names
file, row, column, value and rule. Nothing is coerced silently: a value that
does not parse is an error, not a missing value.

The same code reads the reconstructed stand-in cohort (``data/standin``) and
the investigators' real files (``data/private``, never committed): only
``data_dir`` changes.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa

from helpers.errors import DataValidationError, Failure
from helpers.paths import PROJECT_ROOT, resolve_path
from helpers.schema import (
    PatientsModel,
    ReportedFiguresModel,
    identifier_reason,
    measurements_schema,
    outcome,
)

__all__ = [
    "MEASUREMENTS_FILE",
    "PATIENTS_FILE",
    "PROVENANCE_FILE",
    "Cohort",
    "display_path",
    "load_cohort",
    "load_reported",
    "read_csv_text",
    "validate_table",
]

logger = logging.getLogger(__name__)

PATIENTS_FILE = "patients.csv"
MEASUREMENTS_FILE = "measurements.csv"
#: A data directory holding this file describes where its data came from;
#: the stand-in cohort's says it is reconstructed.
PROVENANCE_FILE = "provenance.json"


def display_path(path: str | Path) -> str:
    """Show a path relative to the project root when it lies inside it.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str

    Examples
    --------
    >>> display_path(PROJECT_ROOT / "data" / "standin" / "patients.csv")
    'data/standin/patients.csv'
    """
    p = resolve_path(path)
    try:
        return p.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(p)


def read_csv_text(path: str | Path) -> tuple[pd.DataFrame | None, list[Failure]]:
    """Read a CSV file with every cell as text, reporting problems instead of raising.

    Empty cells become missing values; nothing else is interpreted (``NA`` stays
    the text ``"NA"``, so the schema, not the reader, decides).

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    frame : pandas.DataFrame or None
        The table, or ``None`` if it could not be read.
    failures : list of Failure
        Problems with the file as a whole (missing, unreadable, repeated header).

    Examples
    --------
    >>> frame, failures = read_csv_text("data/standin/patients.csv")
    >>> failures, str(frame["age_years"].dtype)
    ([], 'str')
    """
    name = display_path(path)
    p = resolve_path(path)
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), None)
        if header is None:
            return None, [Failure(name, None, None, None, "file is empty; a header row is needed")]
        repeated = sorted({c for c in header if header.count(c) > 1})
        if repeated:
            return None, [
                Failure(name, None, c, None, "column appears more than once in the header")
                for c in repeated
            ]
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    except FileNotFoundError:
        return None, [Failure(name, None, None, None, "file not found")]
    except UnicodeDecodeError as exc:
        return None, [Failure(name, None, None, None, f"not UTF-8 text ({exc.reason})")]
    except pd.errors.ParserError as exc:
        return None, [Failure(name, None, None, None, f"not a well-formed CSV table: {exc}")]
    return frame, []


def _is_missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


#: Table-wide checks and the one column each is about.
_TABLE_CHECK_COLUMN = {"plausible_range": "value", "p_values_are_comparisons": "value"}


def _rule_text(check: str, column: str | None, schema: pa.DataFrameSchema) -> str:
    """Turn a pandera check label into a sentence a data manager can act on."""
    col = schema.columns.get(column) if column is not None else None
    meta: dict[str, Any] = (col.metadata or {}) if col is not None else {}
    unit = f" {meta['unit']}" if meta.get("unit") else ""
    source = f" ({meta['source']})" if meta.get("source") else ""
    if m := re.fullmatch(r"coerce_dtype\('(\w+)'\)", check):
        kind = {"int64": "a whole number", "float64": "a number"}.get(m.group(1), m.group(1))
        return f"must be {kind}" + (f" ({meta['unit']})" if meta.get("unit") else "")
    if check == "field_uniqueness":
        return "must be unique; the same value appears in another row"
    if check == "multiple_fields_uniqueness":
        return "this combination must be unique; it appears in another row"
    if check == "not_nullable":
        return "must not be empty (leave out the row of a measurement that was not made)"
    if m := re.fullmatch(r"isin\((.*)\)", check):
        return f"must be one of {m.group(1)}"
    if m := re.fullmatch(r"in_range\((.*), (.*)\)", check):
        return f"must be between {m.group(1)} and {m.group(2)}{unit}{source}"
    if check.startswith("str_matches"):
        return (
            "must be a pseudonymous id: a letter or digit, then letters, digits, '_' or '-', "
            "32 characters at most"
        )
    if check.startswith("plausible_range:"):
        o = outcome(check.split(":", 1)[1])
        return (
            f"{o.label} must be between {o.minimum:g} and {o.maximum:g} {o.unit} "
            f"(plausibility bound: {o.source})"
        )
    if check == "p_values_are_comparisons":
        return (
            "a p_value row needs either a reference_visit (paired) or a reference_group "
            "(independent groups), and a value between 0 and 1"
        )
    return check


def _schema_failures(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Run pandera lazily and return its failure cases (empty when the frame is valid)."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.copy()
        cases["check"] = cases["check"].astype(str)
        return cases
    return pd.DataFrame(columns=["schema_context", "column", "check", "failure_case", "index"])


def _collect_failure_cases(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Collect every failure, including range checks on the parseable part of a column.

    pandera cannot run a column's value checks once some of its values fail to
    parse. So a second pass leaves out the rows with unparseable cells (already
    reported) and keeps what it finds about the other cells of those columns.
    """
    cases = _schema_failures(frame, schema)
    unparsed = cases[cases["check"].str.startswith("coerce_dtype")]
    if unparsed.empty:
        return cases
    columns = set(unparsed["column"])
    parseable = frame.drop(index=unparsed["index"].unique())
    again = _schema_failures(parseable, schema)
    extra = again[
        again["column"].isin(columns)
        & again["schema_context"].eq("Column")
        & ~again["check"].str.startswith("dtype(")
    ]
    keep = ~(cases["column"].isin(columns) & (cases["schema_context"] == "Column")) | cases[
        "check"
    ].str.startswith("coerce_dtype")
    return pd.concat([cases[keep], extra], ignore_index=True)


def _failures_from_cases(
    cases: pd.DataFrame, schema: pa.DataFrameSchema, name: str, skip_columns: set[str]
) -> list[Failure]:
    """Convert pandera's ``failure_cases`` into :class:`Failure` records."""
    out: list[Failure] = []
    table_level: dict[tuple[str, int], list[tuple[str, str]]] = {}
    allowed = ", ".join(schema.columns)
    for rec in cases.itertuples(index=False):
        check, column, idx, value = rec.check, rec.column, rec.index, rec.failure_case
        if check == "column_in_schema":
            if str(value) not in skip_columns:
                rule = f"column is not in the data dictionary (allowed: {allowed})"
                out.append(Failure(name, None, str(value), None, rule))
        elif check == "column_in_dataframe":
            out.append(Failure(name, None, str(value), None, "required column is missing"))
        elif rec.schema_context == "DataFrameSchema" and not _is_missing(idx):
            table_level.setdefault((check, int(idx)), []).append((str(column), str(value)))
        else:
            row = None if _is_missing(idx) else int(idx) + 1
            shown = None if _is_missing(value) else str(value)
            out.append(Failure(name, row, column, shown, _rule_text(check, column, schema)))
    for (check, idx), cells in table_level.items():
        target = _TABLE_CHECK_COLUMN.get(check.split(":", 1)[0])
        cells = [c for c in cells if c[0] == target] or cells
        column = " + ".join(c for c, _ in cells)
        value = ", ".join(v for _, v in cells)
        out.append(Failure(name, idx + 1, column, value, _rule_text(check, None, schema)))
    return out


def validate_table(
    frame: pd.DataFrame, schema: pa.DataFrameSchema, name: str
) -> tuple[pd.DataFrame | None, list[Failure]]:
    """Validate a text table against a schema, collecting every problem.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as read by :func:`read_csv_text` (all text).
    schema : pandera.DataFrameSchema
        The schema (e.g. ``PatientsModel.to_schema()``).
    name : str
        The file name to put in messages.

    Returns
    -------
    frame : pandas.DataFrame or None
        The parsed, typed table, or ``None`` if any rule was broken.
    failures : list of Failure
        Every problem (:class:`~helpers.errors.DataValidationError` sorts them).

    Examples
    --------
    >>> import pandas as pd
    >>> bad = pd.DataFrame({"patient_id": ["P1"], "sex": ["X"], "age_years": ["40"],
    ...                     "cells_infused_million": ["96"], "culture_weeks": ["3"]})
    >>> _, failures = validate_table(bad, PatientsModel.to_schema(), "patients.csv")
    >>> print(failures[0])
    patients.csv, row 1 (line 2), column 'sex', value 'X': must be one of ['M', 'F']
    """
    failures: list[Failure] = []
    identifiers = set()
    for column in frame.columns:
        reason = identifier_reason(column)
        if reason is not None:
            identifiers.add(str(column))
            rule = (
                f"looks like a direct identifier ({reason}); patient-level files must be "
                "pseudonymous, so remove this column"
            )
            failures.append(Failure(name, None, str(column), None, rule))
    cases = _collect_failure_cases(frame, schema)
    failures += _failures_from_cases(cases, schema, name, identifiers)
    if failures:
        return None, failures
    return schema.validate(frame), []


@dataclass(frozen=True)
class Cohort:
    """A validated patient-level data set.

    Attributes
    ----------
    patients : pandas.DataFrame
        One row per patient (:class:`~helpers.schema.PatientsModel`).
    measurements : pandas.DataFrame
        One row per patient × visit × outcome (:class:`~helpers.schema.MeasurementsModel`).
    data_dir : str
        Where the files were read from, as given.
    provenance : dict
        The data directory's ``provenance.json``, or ``{}`` if it has none.
    """

    patients: pd.DataFrame
    measurements: pd.DataFrame
    data_dir: str
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def is_reconstructed(self) -> bool:
        """Whether the data are the stand-in reconstructed from the abstract."""
        return self.provenance.get("kind") == "reconstructed"

    def source_statement(self) -> str:
        """Say in one paragraph which data these are, for the top of every notebook."""
        if self.provenance.get("kind") == "simulated":
            return (
                f"SIMULATED DATA — NOT PATIENT RECORDS. The files in {self.data_dir} were "
                f"simulated ({self.provenance.get('method', 'see provenance.json')}) to exercise "
                "the analysis; they say nothing about the study."
            )
        if self.is_reconstructed:
            return (
                f"STAND-IN DATA — RECONSTRUCTED, NOT PATIENT RECORDS. The files in "
                f"{self.data_dir} were generated by the compendium from the figures the "
                f"abstract reports ({self.provenance.get('method', 'see provenance.json')}). "
                "They show how the analysis works; they are not the study's measurements."
            )
        return (
            f"Data read from {self.data_dir}, which carries no provenance.json marking it as "
            "reconstructed: treated as the investigators' patient-level files."
        )


def load_cohort(data_dir: str | Path) -> Cohort:
    """Read and validate ``patients.csv`` and ``measurements.csv`` from a data directory.

    Parameters
    ----------
    data_dir : str or Path
        Absolute, or relative to the project root (e.g. ``"data/standin"`` or
        ``"data/private"``).

    Returns
    -------
    Cohort

    Raises
    ------
    DataValidationError
        Listing every problem in both files (types, allowed values, plausible
        ranges, unique keys, identifier columns, measurements of unknown patients).

    Examples
    --------
    >>> cohort = load_cohort("data/standin")
    >>> len(cohort.patients), cohort.is_reconstructed
    (7, True)
    """
    root = resolve_path(data_dir)
    logger.info("reading cohort from %s", root)
    p_path, m_path = root / PATIENTS_FILE, root / MEASUREMENTS_FILE
    p_text, failures = read_csv_text(p_path)
    m_text, m_failures = read_csv_text(m_path)
    failures += m_failures
    patients = measurements = None
    if p_text is not None:
        patients, p_failures = validate_table(
            p_text, PatientsModel.to_schema(), display_path(p_path)
        )
        failures += p_failures
    if m_text is not None:
        measurements, m_failures = validate_table(
            m_text, measurements_schema(), display_path(m_path)
        )
        failures += m_failures
    if p_text is not None and m_text is not None and {"patient_id"} <= {*p_text, *m_text}:
        known = p_text["patient_id"] if "patient_id" in p_text else pd.Series([], dtype=str)
        ids = m_text.get("patient_id", pd.Series([], dtype=str))
        failures += [
            Failure(
                display_path(m_path),
                int(i) + 1,
                "patient_id",
                pid,
                f"patient is not in {PATIENTS_FILE}",
            )
            for i, pid in ids[~ids.isin(known)].items()
        ]
    if failures or patients is None or measurements is None:
        raise DataValidationError(failures)
    prov_path = root / PROVENANCE_FILE
    provenance = json.loads(prov_path.read_text(encoding="utf-8")) if prov_path.exists() else {}
    return Cohort(patients, measurements, str(data_dir), provenance)


def load_reported(path: str | Path) -> pd.DataFrame:
    """Read and validate a reported-figures table.

    Parameters
    ----------
    path : str or Path
        A CSV in the format of ``data/reported/abstract_figures.csv``.

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
    frame, failures = read_csv_text(path)
    table = None
    if frame is not None:
        table, failures = validate_table(
            frame, ReportedFiguresModel.to_schema(), display_path(path)
        )
    if failures or table is None:
        raise DataValidationError(failures)
    return table
