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

import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import logging
import math
import os
import pickle
import re
import shlex
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from helpers.errors import MAX_LISTED, DataValidationError, Failure, HelpersError
from helpers.paths import PROJECT_ROOT, resolve_path
from helpers.schema import FACTOR, FACTORS, identifier_reason, measurements_schema, patients_schema
from helpers.study import Study, load_study

__all__ = [
    "FACTORS",
    "MEASUREMENTS_FILE",
    "PATIENTS_FILE",
    "PROVENANCE_FILE",
    "PROVENANCE_KINDS",
    "Cohort",
    "as_factors",
    "checked_cohort_file",
    "coerce_per_distinct",
    "display_path",
    "file_checksums",
    "load_cohort",
    "read_csv_text",
    "read_provenance",
    "record_edits",
    "require_full_validation",
    "store_checked_cohort",
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

    Accepted: UTF-8 text (a byte-order mark is allowed), commas between
    fields, values with commas or line breaks inside double quotes, LF or CRLF
    line ends, blank lines at the end. Empty cells become missing values;
    nothing else is interpreted (``NA`` stays the text ``"NA"``, so the
    schema, not the reader, decides). Problems with the file as a whole, and
    rows whose number of fields differs from the header's, are reported with
    the row and line they are on.

    Parameters
    ----------
    path : str or Path
        The file; relative paths are relative to the project root.

    Returns
    -------
    frame : pandas.DataFrame or None
        The table, or ``None`` if it could not be read.
    failures : list of Failure
        Problems with the file (named by its absolute path).

    Examples
    --------
    >>> frame, failures = read_csv_text("data/standin/patients.csv")
    >>> failures, str(frame["age_years"].dtype)
    ([], 'str')
    """
    p = resolve_path(path)
    name = str(p)

    def fail(rule: str, row: int | None = None, value: str | None = None) -> list[Failure]:
        return [Failure(name, row, None, value, rule)]

    if p.is_dir():
        return None, fail("is a folder; a CSV file is needed here")
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return None, fail("file not found")
    except PermissionError:
        return None, fail("cannot be read: permission denied")
    except OSError as exc:
        return None, fail(f"cannot be read: {exc.strerror or exc}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, fail(
            f"not UTF-8 text (byte {exc.start} cannot be decoded: {exc.reason}); save the file "
            "as UTF-8 (in Excel: 'CSV UTF-8')"
        )
    if (plain := _read_plain(text)) is not None:
        return plain, []
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        end = 0
        for row in reader:
            rows.append((end + 1, row))  # the line the record starts on
            end = reader.line_num
    except csv.Error as exc:
        return None, fail(f"not a well-formed CSV table: {exc} (line {reader.line_num})")
    while rows and not any(cell.strip() for cell in rows[-1][1]):
        rows.pop()  # blank lines at the end of the file
    if not rows:
        return None, fail("file is empty; a header row is needed")
    header = rows[0][1]
    if not any(cell.strip() for cell in header):
        return None, fail("the first line is blank; the header must be on line 1")
    if len(header) <= 2 and header[0].strip().lower().startswith("sep="):
        return None, fail(
            "the first line is Excel's 'sep=' hint, not the header; delete that line",
            value=",".join(header),
        )
    for sep, word in ((";", "semicolons"), ("\t", "tabs")):
        if len(header) == 1 and sep in header[0]:
            return None, fail(
                f"the header has one column, and {word} inside it: the file seems to separate "
                f"its columns with {word}; save it as CSV with commas",
                value=header[0],
            )
    failures = [
        Failure(name, None, c, None, "column appears more than once in the header")
        for c in sorted({c for c in header if header.count(c) > 1})
    ]
    if len(header) > 1 and not header[-1].strip() and all(c.strip() for c in header[:-1]):
        failures.append(
            Failure(name, None, None, None, "the header ends with an extra comma; remove it")
        )
    elif any(not c.strip() for c in header):
        failures.append(Failure(name, None, None, None, "a column of the header has no name"))
    if failures:
        return None, failures
    data = rows[1:]
    width = len(header)
    extra = [(i, line, row) for i, (line, row) in enumerate(data, start=1) if len(row) != width]
    if (
        extra
        and len(extra) == len(data)
        and all(len(r) == width + 1 and not r[-1].strip() for _, _, r in extra)
    ):
        return None, fail(
            f"every row ends with an extra comma: rows have {width + 1} fields but the header "
            f"has {width}; remove the trailing commas"
        )
    widths = {len(r) for _, _, r in extra}
    if extra and len(extra) == len(data) and len(widths) == 1 and len(data) > 1:
        return None, fail(
            f"every row has {widths.pop()} fields but the header has {width}: the header and "
            "the rows do not match (a column name missing from the header, or an extra field "
            "in every row)",
            value=",".join(header),
        )
    for i, line, row in extra:
        shown = ",".join(row)
        hint = (
            ": an unquoted comma inside a value (a decimal comma such as 63,3?) or a stray "
            "comma; quote the value or use a decimal point"
            if len(row) > width
            else ""
        )
        rule = f"has {len(row)} fields but the header has {width}{hint}"
        failures.append(Failure(name, i, None, shown, rule, line))
    if failures:
        return None, failures
    frame = pd.DataFrame([row for _, row in data], columns=header, dtype=str)
    frame = frame.mask(frame == "")
    frame.attrs["lines"] = SourceLines(line for line, _ in data)
    return frame, []


def _read_plain(text: str) -> pd.DataFrame | None:
    """Read a plain table with pandas' C parser, or return ``None`` for the careful reader.

    Plain: no quotes, NUL characters or byte-order marks, and carriage returns
    only in Windows line ends (CRLF), so each line is one record; a header the
    careful reader accepts; every line as many fields as the header, and none
    longer than the csv module's field limit; a last line that is not blank.
    That table is what the careful reader (:mod:`csv`, record by record) builds
    too, with line *i + 1* for row *i*; it is read here in C, which matters for
    a file of millions of rows. Any other file, and every file with a problem,
    goes to the careful reader, which alone words the messages.
    """
    if '"' in text or "\x00" in text or "\ufeff" in text:  # pandas drops a BOM at its start
        return None
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")  # the careful reader ends a record at either
    head, _, body = text.rstrip("\n").partition("\n")
    header = head.split(",")
    if (
        not body
        or len(header) < 2
        or header[0].strip().lower().startswith("sep=")
        or len(set(header)) < len(header)
        or not all(c.strip() for c in header)
        or not any(c.strip() for c in body[body.rfind("\n") + 1 :].split(","))
    ):
        return None
    raw = np.frombuffer(body.encode(), dtype=np.uint8)
    ends = np.r_[np.flatnonzero(raw == ord("\n")), raw.size]  # where each line ends
    commas_before = np.searchsorted(np.flatnonzero(raw == ord(",")), ends)
    if (np.diff(commas_before, prepend=0) != len(header) - 1).any():
        return None
    # a line longer (in bytes, so at least as long) than the limit may hold a field the
    # careful reader refuses as too large
    longest = max(len(head), int(np.diff(ends, prepend=-1).max()) - 1)
    if longest > csv.field_size_limit():
        return None
    # an empty field is missing, as in the careful reader; nothing else is
    frame = pd.read_csv(
        io.StringIO(body), header=None, names=header, dtype=str, keep_default_na=False,
        na_values=[""], skip_blank_lines=False, engine="c",
    )  # fmt: skip
    frame.attrs["lines"] = SourceLines(range(2, len(frame) + 2))
    return frame


class SourceLines(tuple):
    """The line of the file each row of a table starts on (row 1 is the first after the header).

    Kept in the table's ``attrs``, which pandas deep-copies into the result of
    nearly every operation. Being immutable, one record is shared rather than
    copied: a copy per operation cost pandera minutes on a two-million-row file.

    Examples
    --------
    >>> import copy
    >>> lines = SourceLines([2, 3, 5])
    >>> copy.deepcopy(lines) is lines, lines[2]
    (True, 5)
    """

    __slots__ = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> SourceLines:
        return self


def _with_lines(failures: list[Failure], frame: pd.DataFrame) -> list[Failure]:
    """Give each row's failure the line its row starts on, as read from the file."""
    lines = frame.attrs.get("lines")
    if not lines:
        return failures
    return [
        dataclasses.replace(f, line=lines[f.row - 1])
        if f.row is not None and f.line is None and 0 < f.row <= len(lines)
        else f
        for f in failures
    ]


def _is_missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


#: Table-wide checks and the one column each is about.
_TABLE_CHECK_COLUMN = {
    "plausible_range": "value",
    "p_values_are_comparisons": "value",
    "figures_are_possible": "value",
}


#: The rules of a value, or a combination of values, given in more than one row: each
#: failure's rule is then completed by :func:`_name_the_other_rows`.
_UNIQUE_VALUE = "must be unique; the same value appears in another row"
_UNIQUE_COMBINATION = "this combination must be unique; it appears in another row"
#: Rows named in a duplicate's rule, at most.
_OTHER_ROWS_NAMED = 3


def _name_the_other_rows(failures: list[Failure]) -> list[Failure]:
    """Say in each duplicate's rule which other rows hold the same value (with their lines).

    pandera reports every row of a duplicated value, each on its own; the rule
    of each then names the others (the first :data:`_OTHER_ROWS_NAMED`, and how
    many more), so they can be found without a search.

    Examples
    --------
    >>> rows = [Failure("m.csv", r, "patient_id", "P01", _UNIQUE_VALUE) for r in (1, 4, 6)]
    >>> print(_name_the_other_rows(rows)[0].rule)
    must be unique; the same value also appears in rows 4 (line 5) and 6 (line 7)
    """
    groups: dict[tuple[str, str | None, str | None, str], list[Failure]] = {}
    for f in failures:
        if f.rule in (_UNIQUE_VALUE, _UNIQUE_COMBINATION) and f.row is not None:
            groups.setdefault((f.file, f.column, f.value, f.rule), []).append(f)
    named = {}
    for group in groups.values():
        group.sort(key=lambda f: f.row or 0)
        for f in group:
            # the first rows other than f's own (not the whole group: a value may repeat in
            # every row of a large file)
            others = [o for o in group[: _OTHER_ROWS_NAMED + 1] if o is not f][:_OTHER_ROWS_NAMED]
            if not others:
                continue
            places = [
                f"{o.row} (line {o.line if o.line is not None else o.row + 1})" for o in others
            ]
            more = len(group) - 1 - len(places)
            if more:
                listed = ", ".join(places) + f" and {more} more"
            else:
                listed = " and ".join(
                    [", ".join(places[:-1]), places[-1]] if len(places) > 1 else places
                )
            where = f"row {listed}" if len(group) == 2 else f"rows {listed}"
            named[id(f)] = dataclasses.replace(
                f, rule=f.rule.replace("appears in another row", f"also appears in {where}")
            )
    return [named.get(id(f), f) for f in failures]


#: A number written with a decimal comma (``9,47``), as in the abstract.
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


def _hint_decimal_commas(failures: list[Failure]) -> list[Failure]:
    """Say what to do about a number written with a decimal comma, where one is refused.

    Examples
    --------
    >>> f = Failure("m.csv", 3, "value", "9,47", "must be a number (%)")
    >>> print(_hint_decimal_commas([f])[0].rule)
    must be a number (%); write the decimal point as '.', not ','
    """
    return [
        dataclasses.replace(f, rule=f"{f.rule}; write the decimal point as '.', not ','")
        if f.value is not None
        and f.rule.startswith(("must be a number", "must be a whole number"))
        and _DECIMAL_COMMA.fullmatch(f.value.strip())
        else f
        for f in failures
    ]


def _rule_text(check: str, column: str | None, schema: pa.DataFrameSchema) -> str:
    """Turn a pandera check label into a sentence a data manager can act on."""
    col = schema.columns.get(column) if column is not None else None
    meta: dict[str, Any] = (col.metadata or {}) if col is not None else {}
    unit = f" {meta['unit']}" if meta.get("unit") else ""
    source = f" ({meta['source']})" if meta.get("source") else ""
    if m := re.fullmatch(r"coerce_dtype\('(\w+)'\)", check):
        kind = {"int64": "a whole number", "float64": "a number"}.get(m.group(1), m.group(1))
        return f"must be {kind}" + (f" ({meta['unit']})" if meta.get("unit") else "")
    if check == "dtype('Int64')" or check == "coerce_dtype('Int64')":
        return "must be a whole number"
    if m := re.fullmatch(
        r"(greater_than_or_equal_to|less_than_or_equal_to|greater_than|less_than)\((.*)\)", check
    ):
        words = {
            "greater_than_or_equal_to": "at least",
            "less_than_or_equal_to": "at most",
            "greater_than": "greater than",
            "less_than": "less than",
        }
        return f"must be {words[m.group(1)]} {m.group(2)}"
    if check.startswith("str_length"):
        return "must not be empty"
    if check == "field_uniqueness":
        return _UNIQUE_VALUE
    if check == "multiple_fields_uniqueness":
        return _UNIQUE_COMBINATION
    if check == "not_nullable":
        return "must not be empty (leave out the row of a measurement that was not made)"
    if m := re.fullmatch(r"isin\((.*)\)", check):
        listed = f" ({meta['allowed_from']})" if meta.get("allowed_from") else ""
        return f"must be one of {m.group(1)}{listed}"
    if m := re.fullmatch(r"in_range\((.*), (.*)\)", check):
        return f"must be between {m.group(1)} and {m.group(2)}{unit}{source}"
    if check == "id_without_spaces":
        return "must not contain spaces or line breaks (a look-alike of another id)"
    if check == "id_unique_ignoring_case":
        return "differs from another id only in upper or lower case; use one spelling"
    if check == "pseudonymous_id":
        return (
            "looks like a direct identifier, not a pseudonym (a run of 7+ digits, a date, or no "
            "digit at all, like a name); use study codes such as P01"
        )
    if check.startswith("str_matches"):
        return (
            "must be a pseudonymous id: a letter or digit, then letters, digits, '_' or '-', "
            "32 characters at most"
        )
    rules = (schema.metadata or {}).get("rules", {})
    if check in rules:
        return str(rules[check])
    if check == "figures_are_possible":
        return (
            "must be a finite number; a count (n) a whole number, at least 1 for patients and "
            "2 for an outcome; an SD not negative"
        )
    if check == "p_values_are_comparisons":
        return (
            "a p_value row needs either a reference_visit (paired) or a reference_group "
            "(independent groups), and a value between 0 and 1"
        )
    return check


def _schema_failures(
    frame: pd.DataFrame, schema: pa.DataFrameSchema
) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Run pandera lazily: the typed table when it is valid, and the failure cases."""
    try:
        typed = schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.copy()
        cases["check"] = cases["check"].astype(str)
        return None, cases
    columns = ["schema_context", "column", "check", "failure_case", "index"]
    return typed, pd.DataFrame(columns=columns)


def _collect_failure_cases(
    frame: pd.DataFrame, schema: pa.DataFrameSchema
) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Collect every failure, including range checks on the parseable part of a column.

    pandera cannot run a column's value checks once some of its values fail to
    parse, nor a table-wide check that reads that column (each outcome's
    plausible range reads the value with its outcome). So a second pass leaves
    out the rows with unparseable cells (already reported) and keeps what it
    finds about the other cells of those columns, and what the table-wide
    checks that could not run find in the other rows. The typed table is
    returned with the cases when there are none (one pass).
    """
    typed, cases = _schema_failures(frame, schema)
    unparsed = cases[cases["check"].str.startswith("coerce_dtype")]
    if unparsed.empty:
        return typed, cases
    columns = set(unparsed["column"])
    parseable = frame.drop(index=unparsed["index"].unique())
    _, again = _schema_failures(parseable, schema)
    extra = again[
        again["column"].isin(columns)
        & again["schema_context"].eq("Column")
        & ~again["check"].str.startswith("dtype(")
    ]
    # a table-wide check that could not run (no row: index missing) and ran on the parseable
    # rows: its failures there are kept, and it no longer counts as not run
    table, table_again = (
        cases["schema_context"].eq("DataFrameSchema"),
        again["schema_context"].eq("DataFrameSchema"),
    )
    ran = set(cases.loc[table & cases["index"].isna(), "check"]) - set(
        again.loc[table_again & again["index"].isna(), "check"]
    )
    found = again[table_again & again["check"].isin(ran) & again["index"].notna()]
    keep = (
        ~(cases["column"].isin(columns) & (cases["schema_context"] == "Column"))
        | cases["check"].str.startswith("coerce_dtype")
    ) & ~(table & cases["check"].isin(ran) & cases["index"].isna())
    return None, pd.concat([cases[keep], extra, found], ignore_index=True)


def _failures_from_cases(
    cases: pd.DataFrame,
    schema: pa.DataFrameSchema,
    name: str,
    skip_columns: set[str],
    texts: pd.DataFrame | None = None,
) -> list[Failure]:
    """Convert pandera's ``failure_cases`` into :class:`Failure` records.

    A row that breaks a table-wide rule (a value outside its outcome's range, a
    repeated combination) is shown with its cells as ``texts`` (the table as
    read) holds them, '-3' as written rather than pandera's typed '-3.0'.
    """
    out: list[Failure] = []
    table_level: dict[tuple[str, int], list[tuple[str, str, str]]] = {}
    allowed = ", ".join(schema.columns)
    could_not_run: list[str] = []
    for rec in cases.itertuples(index=False):
        check, column, idx, value = rec.check, rec.column, rec.index, rec.failure_case
        if (
            rec.schema_context == "DataFrameSchema"
            and _is_missing(idx)
            and check.split(":", 1)[0] in _TABLE_CHECK_COLUMN
        ):
            # a table-wide check that could not run because a column it reads is missing or
            # did not parse; that column's own failure says what is wrong
            could_not_run.append(check.split(":", 1)[0])
            continue
        if check == "column_in_schema":
            if str(value) not in skip_columns:
                rule = f"column is not in the data dictionary (allowed: {allowed})"
                out.append(Failure(name, None, str(value), None, rule))
        elif check == "column_in_dataframe":
            out.append(Failure(name, None, str(value), None, "required column is missing"))
        elif rec.schema_context == "DataFrameSchema" and not _is_missing(idx):
            written = _as_written(texts, int(idx), str(column), str(value))
            table_level.setdefault((check, int(idx)), []).append((str(column), str(value), written))
        else:
            row = None if _is_missing(idx) else int(idx) + 1
            shown = None if _is_missing(value) else str(value)
            if check == "pseudonymous_id" and shown is not None:
                shown = f"{shown[:2]}… (hidden: {len(shown)} characters)"  # not echoed whole
            out.append(Failure(name, row, column, shown, _rule_text(check, column, schema)))
    if could_not_run and not out and not table_level:
        rule = f"the table could not be checked ({', '.join(sorted(set(could_not_run)))})"
        out.append(Failure(name, None, None, None, rule))
    order = {c: i for i, c in enumerate(schema.columns)}
    for (check, idx), cells in table_level.items():
        target = _TABLE_CHECK_COLUMN.get(check.split(":", 1)[0])
        cells = [c for c in cells if c[0] == target] or cells
        # in the schema's order, whatever order pandera reports a row's cells in
        cells = sorted(cells, key=lambda c: order.get(c[0], len(order)))
        column = " + ".join(c for c, _, _ in cells)
        rule = _rule_text(check, None, schema)
        # a repeated row by its typed values, which find the rows it repeats (" 0" and "00"
        # are the visit 0); any other rule's cells as the file holds them ("-3", not "-3.0")
        unique = rule in (_UNIQUE_VALUE, _UNIQUE_COMBINATION)
        value = ", ".join(typed if unique else written for _, typed, written in cells)
        out.append(Failure(name, idx + 1, column, value, rule))
    return out


def _as_written(texts: pd.DataFrame | None, row: int, column: str, typed: str) -> str:
    """Return a cell's text as the file holds it; ``typed`` where it has none (empty).

    Examples
    --------
    >>> _as_written(pd.DataFrame({"value": ["-3", None]}), 0, "value", "-3.0")
    '-3'
    >>> _as_written(pd.DataFrame({"value": ["-3", None]}), 1, "value", "nan")
    'nan'
    """
    if texts is None or not texts.columns.is_unique or column not in texts:
        return typed
    text = texts[column].get(row)
    return typed if text is None or _is_missing(text) else str(text)


def validate_table(
    frame: pd.DataFrame, schema: pa.DataFrameSchema, name: str
) -> tuple[pd.DataFrame | None, list[Failure]]:
    """Validate a text table against a schema, collecting every problem.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as read by :func:`read_csv_text` (all text).
    schema : pandera.DataFrameSchema
        The schema (e.g. :func:`~helpers.schema.patients_schema` of a study).
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
    >>> from helpers.schema import patients_schema
    >>> bad = pd.DataFrame({"patient_id": ["P1"], "sex": ["X"], "age_years": ["40"],
    ...                     "cells_infused_million": ["96"], "culture_weeks": ["3"]})
    >>> schema = patients_schema(load_study("data/study.yaml"))
    >>> _, failures = validate_table(bad, schema, "patients.csv")
    >>> print(failures[0])
    patients.csv, row 1 (line 2), column 'sex', value 'X': must be one of ['M', 'F']
    """
    require_full_validation()
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
    original = frame
    parsed = _numbers(frame, schema)
    not_numbers = _not_numbers(frame, parsed, name)
    if not_numbers:  # reported here; the rest of those rows is checked without them
        failures += not_numbers
        frame = frame.drop(index=sorted({f.row - 1 for f in not_numbers if f.row is not None}))
    flood = _unparseable_flood(frame, parsed, schema, name)
    if flood:
        return None, _hint_decimal_commas(_with_lines(failures + flood, original))
    frame = coerce_per_distinct(frame, schema)
    typed, cases = _collect_failure_cases(frame, schema)
    failures += _failures_from_cases(cases, schema, name, identifiers, original)
    if failures:
        return None, _hint_decimal_commas(_name_the_other_rows(_with_lines(failures, original)))
    if typed is None:  # cases that name no failure of ours: let pandera say what they are
        typed = schema.validate(frame)
    typed.attrs = {}  # the line record is the text table's; analyses do not carry it along
    return typed, []


#: The column types :func:`coerce_per_distinct` coerces ahead of pandera (as pandera names them).
_COERCED_PER_DISTINCT = ("int64", "float64", "category")


def coerce_per_distinct(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Coerce a text table's number and factor columns as pandera would, each distinct text once.

    pandera coerces a column by converting every cell (its dtype's
    ``try_coerce``: ``astype``, one cell at a time); a long file repeats few
    texts (a visit month on every row, a patient's id on each of their rows,
    values with one decimal). Here the column's own pandera dtype coerces the
    distinct texts, and the result is spread back to the rows that hold them:
    the same values and type as coercing the whole column, so pandera's
    coercion then has nothing left to change, and its checks run as before. A
    column where any distinct text does not coerce is left as text, for pandera
    to coerce and report cell by cell. Left as they are too: columns of other
    types (text, nullable whole numbers), columns that are not text (pandas'
    string dtype; Python objects may be equal yet differ, as 0.0 and -0.0), and
    every column of a table whose column names repeat or whose schema coerces
    otherwise than column by column (a table-wide dtype, or parsers run first, the table's
    or the column's).

    Parameters
    ----------
    frame : pandas.DataFrame
        A table as :func:`read_csv_text` reads it (every cell text).
    schema : pandera.DataFrameSchema
        The schema the table is about to be validated against (e.g.
        :func:`~helpers.schema.measurements_schema` of a study), with ``coerce``.

    Returns
    -------
    pandas.DataFrame
        A copy with those columns typed; ``frame`` itself if none was.

    Examples
    --------
    >>> from helpers.schema import measurements_schema
    >>> text = pd.DataFrame({"patient_id": ["P2", "P1", "P2"], "visit_month": ["0", "1", "x"],
    ...                      "outcome": ["hba1c"] * 3, "value": ["7.5", "7.5", "8"]}, dtype=str)
    >>> schema = measurements_schema(load_study("data/study.yaml"))
    >>> typed = coerce_per_distinct(text, schema)
    >>> [str(t) for t in typed.dtypes], list(typed["patient_id"].cat.categories)
    (['category', 'str', 'category', 'float64'], ['P1', 'P2'])
    """
    if schema.dtype is not None or schema.parsers or not frame.columns.is_unique:
        # pandera coerces the table as a whole, after its parsers, or each same-named column
        return frame
    typed: dict[str, pd.Series] = {}
    for column, spec in schema.columns.items():
        if (
            column not in frame
            or spec.dtype is None
            or not (schema.coerce or spec.coerce)
            or spec.parsers  # run before the column is coerced
            or str(spec.dtype) not in _COERCED_PER_DISTINCT
            or not isinstance(frame[column].dtype, pd.StringDtype)
        ):
            continue
        values = frame[column]
        codes, distinct = pd.factorize(values, use_na_sentinel=False)
        texts = pd.Series(np.asarray(distinct, dtype=object), dtype=values.dtype, name=column)
        try:
            coerced = spec.dtype.try_coerce(texts)
        except pa.errors.ParserError:
            continue  # pandera coerces it cell by cell, and says which cells fail
        if isinstance(coerced.dtype, pd.CategoricalDtype):
            spread = pd.Categorical.from_codes(
                coerced.cat.codes.to_numpy()[codes], dtype=coerced.dtype
            )
        else:
            spread = coerced.to_numpy()[codes]
        typed[column] = pd.Series(spread, index=values.index, name=column)
    if not typed:
        return frame
    out = frame.copy()
    for column, series in typed.items():  # by item: a column may be named "self"
        out[column] = series
    return out


def require_full_validation() -> None:
    """Refuse to read data that pandera is configured not to check, or to check only in part.

    ``PANDERA_VALIDATION_ENABLED=False`` or ``PANDERA_VALIDATION_DEPTH`` other
    than ``SCHEMA_AND_DATA`` would make pandera return a table unchecked, and
    the analyses would run on it as if it had passed. Called before every
    validation, by :func:`load_cohort` even when it reads a stored cohort, and
    by the runner before it looks at its record of checked inputs.

    Raises
    ------
    HelpersError
        Naming the setting to unset.

    Examples
    --------
    >>> require_full_validation()  # pandera as installed: checks everything
    """
    from pandera.config import ValidationDepth, get_config_context

    config = get_config_context()
    depth = config.validation_depth
    if config.validation_enabled and depth in (None, ValidationDepth.SCHEMA_AND_DATA):
        return
    setting = (
        "validation is switched off (PANDERA_VALIDATION_ENABLED)"
        if not config.validation_enabled
        else f"validation is limited to {depth.value} (PANDERA_VALIDATION_DEPTH)"
    )
    raise HelpersError(
        f"pandera's {setting}: the compendium checks every value of every file before "
        "analysing it, so unset PANDERA_VALIDATION_ENABLED and PANDERA_VALIDATION_DEPTH "
        "and run again"
    )


#: Texts that parse as a float but are not a measurement (a missing value is an empty cell).
_NOT_A_NUMBER = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


def _numbers(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> dict[str, pd.Series]:
    """Parse each numeric column of a text table once (NaN where a cell does not parse).

    ``pandas.to_numeric`` reads each distinct text of a column once, and the
    result is spread back to the rows that hold it: a long file repeats few
    texts (a visit month on every row, values with one decimal), and parsing
    text is the costly part. The result is ``to_numeric`` of the whole column:
    the same numbers, NaN where a cell does not parse or is empty, the same
    type. An empty cell is one of the distinct values parsed, because it
    changes how ``to_numeric`` reads the others (whole numbers as floats).
    """
    out = {}
    for column, spec in schema.columns.items():
        if column not in frame or str(spec.dtype) not in ("int64", "float64", "Int64"):
            continue
        codes, texts = pd.factorize(frame[column], use_na_sentinel=False)
        numbers = pd.to_numeric(np.asarray(texts, dtype=object), errors="coerce")
        out[column] = pd.Series(numbers[codes], index=frame.index, name=column)
    return out


def _not_numbers(frame: pd.DataFrame, parsed: dict[str, pd.Series], name: str) -> list[Failure]:
    """Refuse 'NaN' and 'inf' in numeric columns: they would parse, silently, as numbers."""
    out = []
    for column, numbers in parsed.items():
        values = frame[column]
        # a text of the set parses as NaN or ±inf, or not at all: only those are read as words
        candidates = values.notna() & (numbers.isna() | np.isinf(numbers))
        texts = values[candidates].astype(str).str.strip().str.lower()
        for i in texts[texts.isin(_NOT_A_NUMBER)].index:
            out.append(
                Failure(
                    name,
                    int(i) + 1,
                    column,
                    str(values[i]),
                    "is not a measurement; leave the cell empty for a missing value",
                )
            )
    return out


#: Above this many unparseable cells in a column, a file is reported by a sample of them.
FLOOD = 1000


def _unparseable_flood(
    frame: pd.DataFrame, parsed: dict[str, pd.Series], schema: pa.DataFrameSchema, name: str
) -> list[Failure]:
    """Report a column full of values that are not numbers by its first ones, cheaply.

    Validating a huge file of bad values cell by cell costs memory and time in
    proportion to the damage; past :data:`FLOOD` bad cells in a numeric column
    the first few are listed with the count of the rest, and nothing else is
    checked.
    """
    for column, spec in schema.columns.items():
        if column not in frame or str(spec.dtype) not in ("int64", "float64"):
            continue
        values = frame[column]
        bad = values.notna() & parsed[column].loc[values.index].isna()
        count = int(bad.sum())
        if count > FLOOD:
            rule = _rule_text(f"coerce_dtype('{spec.dtype}')", column, schema)
            rows = bad[bad].index[: MAX_LISTED - 1]
            sample = [Failure(name, int(i) + 1, column, str(values[i]), rule) for i in rows]
            rest = (
                f"{count - len(sample)} more rows have values that are not numbers in this "
                "column; the rest of the file was not checked"
            )
            return [*sample, Failure(name, None, column, None, rest)]
    return []


@dataclass(frozen=True)
class Cohort:
    """A validated patient-level data set.

    Attributes
    ----------
    patients : pandas.DataFrame
        One row per patient (:func:`~helpers.schema.patients_schema`).
    measurements : pandas.DataFrame
        One row per patient × visit × outcome (:func:`~helpers.schema.measurements_schema`).
        As :func:`load_cohort` returns it, ``patient_id`` and ``outcome`` are
        categorical (:data:`FACTORS`).
    data_dir : str
        Where the files were read from, as given.
    provenance : dict
        The data directory's ``provenance.json``, or ``{}`` if it has none.
    study : Study or None
        The study definition the files were validated against.
    """

    patients: pd.DataFrame
    measurements: pd.DataFrame
    data_dir: str
    provenance: dict[str, Any] = field(default_factory=dict)
    study: Study | None = None

    @property
    def is_reconstructed(self) -> bool:
        """Whether the data are the stand-in reconstructed from the abstract (edited or not)."""
        return self.provenance.get("kind") == "reconstructed"

    @property
    def edited_files(self) -> list[str]:
        """The files edited by hand after they were generated (:func:`record_edits`)."""
        return sorted({f for entry in self.provenance.get("edited", []) for f in entry["files"]})

    @property
    def built_from_figures(self) -> bool:
        """Whether the data are the stand-in as generated to match the abstract's figures.

        An edited copy (:attr:`edited_files`) is still reconstructed, not patient
        records, but no longer what the reconstruction built: what the notebooks
        say of the reconstruction (the correlations it chose, the figures it was
        built to match) is not said of it.
        """
        return self.is_reconstructed and not self.edited_files

    @property
    def data_label(self) -> str | None:
        """The warning every file made from these data carries; None for patient records.

        The first sentence of :meth:`source_statement`: figures written by
        :func:`helpers.figures.save_figures` print it under the figure, and the
        statement heads the note :func:`helpers.report.write_tables` writes beside
        the tables, so a file taken away from the notebook still says what it shows.

        Examples
        --------
        >>> Cohort(pd.DataFrame(), pd.DataFrame(), "d", {"kind": "simulated"}).data_label
        'SIMULATED DATA — NOT PATIENT RECORDS'
        >>> Cohort(pd.DataFrame(), pd.DataFrame(), "d").data_label is None
        True
        """
        edited = "EDITED BY HAND, " if self.edited_files else ""
        if self.provenance.get("kind") == "simulated":
            return f"SIMULATED DATA — {edited}NOT PATIENT RECORDS"
        if self.is_reconstructed:
            return f"STAND-IN DATA — RECONSTRUCTED, {edited}NOT PATIENT RECORDS"
        return None

    def source_statement(self) -> str:
        """Say in one paragraph which data these are, and of which study, for every notebook."""
        about = (
            f" Study: {self.study.title} (definition: {self.study.path or self.study.id})."
            if self.study is not None
            else ""
        )
        empty = (
            " The measurements file holds no measurement yet: every analysis below is empty."
            if self.measurements.empty
            else ""
        )
        return self._data_statement() + empty + about

    def _edited(self) -> str:
        """Say which files were edited after they were generated (:func:`record_edits`)."""
        files = self.edited_files
        return f", and {' and '.join(files)} then edited by hand" if files else ""

    def _data_statement(self) -> str:
        if self.provenance.get("kind") == "simulated":
            return (
                f"{self.data_label}. The files in {self.data_dir} were "
                f"simulated ({self.provenance.get('method', 'see provenance.json')}) to exercise "
                f"the analysis{self._edited()}; they say nothing about the study."
            )
        if self.is_reconstructed:
            return (
                f"{self.data_label}. The files in "
                f"{self.data_dir} were generated by the compendium from the figures the "
                f"abstract reports ({self.provenance.get('method', 'see provenance.json')})"
                f"{self._edited()}. "
                "They show how the analysis works; they are not the study's measurements."
            )
        return (
            f"Data read from {self.data_dir}, which carries no provenance.json marking it as "
            "reconstructed: treated as the investigators' patient-level files."
        )


def load_cohort(
    data_dir: str | Path, *, study: str | Path | Study, checked: str | Path | None = None
) -> Cohort:
    """Read and validate ``patients.csv`` and ``measurements.csv`` from a data directory.

    A cohort that passed its checks once need not be checked again: given a
    folder of checked cohorts (the runner's ``reports/.checked``), a cohort
    stored there by :func:`store_checked_cohort` from the same bytes, the same
    study file, the same checking code and the same environment
    (:func:`helpers.cache.checked_key`) is read back as it was returned then,
    and not validated again. The key is computed from the files as they are
    now, so changed data, a changed study file or a changed helper is validated
    afresh; a stored cohort that cannot be read is ignored. Only a cohort that
    passed is ever stored, so bad data are refused every time.

    Parameters
    ----------
    data_dir : str or Path
        Absolute, or relative to the project root (e.g. ``"data/standin"`` or
        ``"data/private"``).
    study : str, Path or Study
        The study definition the files follow (e.g. ``"data/study.yaml"``):
        its characteristics, visits, outcomes and bounds.
    checked : str or Path, optional
        The folder of checked cohorts to read from; nothing is written there.
        Default: the folder the environment variable
        :data:`~helpers.cache.CHECKED_ENV` names, if any (the runner names its
        ``reports/.checked`` there for its kernels, which so skip checking again
        what the runner checked before they started). A stored cohort is used
        only when ``study`` is a file, whose contents the key covers. It is a
        pickle, which can run code as it is read: name only a folder that you
        alone write to, as the runner's own reports folder is.

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
    >>> cohort = load_cohort("data/standin", study="data/study.yaml")
    >>> len(cohort.patients), cohort.is_reconstructed
    (7, True)
    """
    definition = load_study(study)
    root = resolve_path(data_dir)
    logger.debug("reading cohort from %s", root)
    p_path, m_path = root / PATIENTS_FILE, root / MEASUREMENTS_FILE
    if not root.is_dir():
        where = "is a file; a data folder is needed here" if root.exists() else "not found"
        hint = (
            f"; a relative data_dir is relative to the project root {PROJECT_ROOT}"
            if not Path(data_dir).expanduser().is_absolute()
            else ""
        )
        raise DataValidationError(
            [Failure(str(root), None, None, None, f"data folder {where} (data_dir){hint}")]
        )
    require_full_validation()  # also when the cohort was checked before: one rule, one message
    stored = _stored_cohort(study, root, checked)
    if stored is not None and (found := _read_stored(stored)) is not None:
        logger.debug("cohort %s read from %s, checked before", root, stored)
        return Cohort(found[0], found[1], str(data_dir), found[2], definition)
    p_text, failures = read_csv_text(p_path)
    if p_text is not None and p_text.empty:
        failures.append(Failure(str(p_path), None, None, None, "has a header but no patients"))
        p_text = None
    m_text, m_failures = read_csv_text(m_path)
    failures += m_failures
    patients = measurements = None
    if p_text is not None:
        patients, p_failures = validate_table(p_text, patients_schema(definition), str(p_path))
        failures += p_failures
    if m_text is not None:
        measurements, m_failures = validate_table(
            m_text, measurements_schema(definition), str(m_path)
        )
        failures += m_failures
    if p_text is not None and m_text is not None and {"patient_id"} <= {*p_text, *m_text}:
        known = p_text["patient_id"] if "patient_id" in p_text else pd.Series([], dtype=str)
        ids = m_text.get("patient_id", pd.Series([], dtype=str))
        failures += _with_lines(
            [
                Failure(
                    str(m_path),
                    int(i) + 1,
                    "patient_id",
                    pid,
                    f"patient is not in {PATIENTS_FILE}",
                )
                for i, pid in ids[~ids.isin(known)].items()
            ],
            m_text,
        )
    provenance, prov_failures = read_provenance(root)
    failures += prov_failures
    if failures or patients is None or measurements is None:
        raise DataValidationError(failures)
    return Cohort(patients, measurements, str(data_dir), provenance, definition)


def checked_cohort_file(study: str | Path, data_dir: str | Path, checked: str | Path) -> Path:
    """Name the file a checked cohort of these files is stored in: keyed on them as they are now.

    The key (:func:`helpers.cache.checked_key`) covers the study file's and
    the data folder's contents, the sources of the helpers that check them,
    the locked environment and Python.

    Parameters
    ----------
    study : str or Path
        The study file.
    data_dir : str or Path
        The data folder (absolute, or relative to the project root).
    checked : str or Path
        The folder of checked cohorts.

    Returns
    -------
    Path

    Examples
    --------
    >>> a = checked_cohort_file("data/study.yaml", "data/standin", "reports/.checked")
    >>> a == checked_cohort_file("data/study.yaml", PROJECT_ROOT / "data/standin", a.parent)
    True
    """
    from helpers import cache  # light: no part of the scientific stack

    key = cache.checked_key([str(resolve_path(study)), str(resolve_path(data_dir))])
    return resolve_path(checked) / f"{key}{_STORED_SUFFIX}"


def store_checked_cohort(cohort: Cohort, *, study: str | Path, file: Path) -> bool:
    """Store a cohort that passed its checks, for :func:`load_cohort` to read back.

    ``file`` is named by :func:`checked_cohort_file` *before* the files are
    read; the cohort is stored only if the files still have that key, so a
    file changed while it was being checked is never stored under its new
    contents. Written whole or not at all (a temporary file, then renamed),
    readable by its owner only, in a folder git ignores (it holds patient-level
    data wherever the reports go); the folder keeps the :data:`KEEP_CHECKED`
    most recently stored. A cohort that cannot be stored costs its readers
    time only: the failure is logged, not raised.

    Parameters
    ----------
    cohort : Cohort
        As :func:`load_cohort` returned it, from ``cohort.data_dir``.
    study : str or Path
        The study file it was validated against.
    file : Path
        From :func:`checked_cohort_file`, before the files were read.

    Returns
    -------
    bool
        Whether the cohort was stored.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     file = checked_cohort_file("data/study.yaml", "data/standin", folder)
    ...     cohort = load_cohort("data/standin", study="data/study.yaml")
    ...     stored = store_checked_cohort(cohort, study="data/study.yaml", file=file)
    ...     again = load_cohort("data/standin", study="data/study.yaml", checked=folder)
    >>> stored, again.measurements.equals(cohort.measurements)
    (True, True)
    """
    if checked_cohort_file(study, cohort.data_dir, file.parent) != file:
        logger.warning(
            "not stored: the files of %s changed while they were checked", cohort.data_dir
        )
        return False
    return _store(file, (cohort.patients, cohort.measurements, cohort.provenance))


def as_factors(measurements: pd.DataFrame) -> pd.DataFrame:
    """Make the identifying text columns categorical (:data:`FACTORS`), as R's factors.

    :func:`load_cohort` returns measurements typed so (the measurements schema
    declares these columns :data:`helpers.schema.FACTOR`); this gives a table
    built in code, such as a simulated cohort's, the same types.
    Grouping, selecting and pairing by a categorical column works on integer
    codes instead of text: at 100,000 patients the analyses of notebook 02 run
    twice as fast. The categories are the values present, sorted, so the
    columns sort and group as the text does and every table computed from
    them is the same (a test compares them all, in shuffled row orders).
    Unlike text, an unordered categorical cannot be compared with ``<`` and
    takes no new value; ``.astype(str)`` gives the text back for that.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Validated measurements.

    Returns
    -------
    pandas.DataFrame
        A copy with ``patient_id`` and ``outcome`` categorical.

    Examples
    --------
    >>> m = pd.DataFrame({"patient_id": ["b", "a"], "outcome": ["hba1c", "hba1c"]})
    >>> as_factors(m)["patient_id"].cat.categories.tolist()
    ['a', 'b']
    """
    present = [c for c in FACTORS if c in measurements]
    return measurements.astype(dict.fromkeys(present, FACTOR))


#: Checked cohorts kept in a checked folder, the most recently stored first.
KEEP_CHECKED = 4
_STORED_SUFFIX = ".cohort.pickle"


def _stored_cohort(
    study: str | Path | Study, root: Path, checked: str | Path | None
) -> Path | None:
    """Name the file a checked cohort of ``root`` is read from, or None when none is used."""
    from helpers import cache  # light: no part of the scientific stack

    folder = checked if checked is not None else os.environ.get(cache.CHECKED_ENV)
    if not folder or isinstance(study, Study):
        return None  # a Study object may differ from any file; only a file's contents key
    return checked_cohort_file(study, root, folder)


def _read_stored(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]] | None:
    """Read a checked cohort back; None if there is none or it cannot be read as one."""
    try:
        with open(path, "rb") as handle:
            found = pickle.load(handle)  # written by _store, in the reports folder
    except FileNotFoundError:
        return None
    except Exception as exc:  # unreadable, whatever the error: validate the files instead
        logger.warning("ignored the checked cohort %s, which cannot be read: %s", path, exc)
        return None
    if (
        isinstance(found, tuple)
        and len(found) == 3
        and isinstance(found[0], pd.DataFrame)
        and isinstance(found[1], pd.DataFrame)
        and isinstance(found[2], dict)
    ):
        return found
    logger.warning("ignored the checked cohort %s, which is not a stored cohort", path)
    return None


#: A part-written cohort older than this (seconds) was left by a killed process: removed.
_STALE_PART = 3600


def _store(path: Path, cohort: tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]) -> bool:
    """Store a checked cohort whole or not at all; keep the newest :data:`KEEP_CHECKED`."""
    folder = path.parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.is_file():  # patient-level data, wherever the reports folder is
            ignore.write_text("# checked cohorts: patient-level data, never committed\n*\n")
        fd, name = tempfile.mkstemp(dir=folder, prefix=".", suffix=f"{_STORED_SUFFIX}.part")
        try:
            with os.fdopen(fd, "wb") as handle:  # mkstemp: readable by its owner only
                pickle.dump(cohort, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(name, path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
    except OSError as exc:
        logger.warning("could not store the checked cohort in %s: %s", folder, exc)
        return False
    _prune(folder)
    return True


def _prune(folder: Path) -> None:
    """Keep the newest :data:`KEEP_CHECKED` cohorts; remove parts a killed process left."""

    def age(p: Path) -> float | None:
        try:
            return p.stat().st_mtime
        except OSError:  # removed meanwhile by another run's pruning
            return None

    dated = [(t, p) for p in folder.glob(f"*{_STORED_SUFFIX}") if (t := age(p)) is not None]
    old = [p for _, p in sorted(dated, reverse=True)[KEEP_CHECKED:]]
    now = time.time()
    old += [
        p
        for p in folder.glob(f".*{_STORED_SUFFIX}.part")
        if (t := age(p)) is not None and now - t > _STALE_PART
    ]
    for p in old:
        with contextlib.suppress(OSError):
            p.unlink(missing_ok=True)


#: Labels a provenance file may give; each must record the checksums of the files it labels.
PROVENANCE_KINDS = ("reconstructed", "simulated")


def file_checksums(data_dir: str | Path) -> dict[str, str]:
    """SHA-256 of the patients and measurements files, as a provenance file records them.

    Parameters
    ----------
    data_dir : str or Path

    Returns
    -------
    dict
        File name → hexadecimal SHA-256.

    Examples
    --------
    >>> sorted(file_checksums("data/standin"))
    ['measurements.csv', 'patients.csv']
    """
    root = resolve_path(data_dir)
    return {
        name: hashlib.sha256((root / name).read_bytes()).hexdigest()
        for name in (PATIENTS_FILE, MEASUREMENTS_FILE)
    }


def read_provenance(data_dir: str | Path) -> tuple[dict[str, Any], list[Failure]]:
    """Read a data folder's ``provenance.json`` and check that it describes these very files.

    A provenance file labels data as reconstructed or simulated, and every
    notebook then says so. So the label must not be able to disagree with the
    files: it records their SHA-256 checksums (``"files"``), and a label whose
    checksums are missing or do not match the files is an error, not a label.
    A folder without ``provenance.json`` holds real data.

    Parameters
    ----------
    data_dir : str or Path

    Returns
    -------
    provenance : dict
        ``{}`` when there is no provenance file or it is not valid.
    failures : list of Failure

    Examples
    --------
    >>> provenance, failures = read_provenance("data/standin")
    >>> provenance["kind"], failures
    ('reconstructed', [])
    """
    root = resolve_path(data_dir)
    path = root / PROVENANCE_FILE
    name = str(path)
    if not path.exists():
        return {}, []

    def fail(rule: str) -> tuple[dict[str, Any], list[Failure]]:
        return {}, [Failure(name, None, None, None, rule)]

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return fail(f"cannot be read as UTF-8 text ({exc})")
    except json.JSONDecodeError as exc:
        return fail(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
    if not isinstance(data, dict):
        return fail("must be a JSON object with a 'kind' and the 'files' it describes")
    kind = data.get("kind")
    if kind not in PROVENANCE_KINDS:
        return fail(
            f"'kind' is {kind!r}; it must be one of {', '.join(PROVENANCE_KINDS)} (remove "
            "provenance.json if these are the investigators' real data)"
        )
    recorded = data.get("files")
    if not isinstance(recorded, dict):
        return fail(
            f"labels the data {kind} but records no 'files' checksums, so the label cannot be "
            "checked against the files; regenerate the data (make standin) or remove "
            "provenance.json if these are real data"
        )
    try:
        actual = file_checksums(root)
    except OSError:
        return {}, []  # the missing or unreadable data file is reported on its own
    if (problem := _edits_problem(data.get("edited", []))) is not None:
        return fail(problem)
    wrong = [f for f, digest in actual.items() if recorded.get(f) != digest]
    if wrong:
        return fail(
            f"labels the data {kind}, but the SHA-256 of {', '.join(wrong)} does not match the "
            "one it records: these are not the files it describes. If these are the "
            "investigators' real data, remove provenance.json. If they are a copy of the "
            f"{kind} data that you edited on purpose, keep the label: `python -m helpers.standin "
            f"--edited {shlex.quote(str(root))}` records the edit (the label then says "
            "'EDITED BY HAND'). Otherwise regenerate the data it describes"
        )
    return data, []


def _edits_problem(edited: object) -> str | None:
    """Say what is wrong with a provenance file's ``"edited"`` record (None: nothing).

    Examples
    --------
    >>> _edits_problem([{"files": ["measurements.csv"], "before": {}, "after": {}}]) is None
    True
    >>> _edits_problem("measurements.csv")
    "'edited' must be a list of records of edits, each naming the files edited"
    """
    names = {PATIENTS_FILE, MEASUREMENTS_FILE}
    if isinstance(edited, list) and all(
        isinstance(e, dict)
        and isinstance(e.get("files"), list)
        and e["files"]
        and all(isinstance(f, str) and f in names for f in e["files"])
        for e in edited
    ):
        return None
    return "'edited' must be a list of records of edits, each naming the files edited"


def record_edits(data_dir: str | Path) -> list[str]:
    r"""Keep a labelled data folder's label after its files were edited on purpose.

    A copy of the stand-in (or of simulated data) edited by hand no longer
    matches the checksums its ``provenance.json`` records, and is refused
    (:func:`read_provenance`). Deleting the label would make the files pass as
    the investigators' real data; this records the edit instead: the new
    checksums, and in the ``"edited"`` list which files changed with their
    checksums before and after, so the record shows the edit began from the
    files the label was written for. Every notebook then labels the data
    "… EDITED BY HAND, NOT PATIENT RECORDS" (:attr:`Cohort.data_label`) and
    names the files edited (:meth:`Cohort.source_statement`). Only a label
    that records the files it was written for can be kept; the file is
    replaced whole, with its permissions, never half written.

    Parameters
    ----------
    data_dir : str or Path
        A folder with ``provenance.json``, ``patients.csv`` and ``measurements.csv``.

    Returns
    -------
    list of str
        The files whose checksums changed (empty: nothing to record).

    Raises
    ------
    HelpersError
        No readable provenance file of a known kind that records its files'
        checksums, or a malformed record of earlier edits: there is no label to keep.
    OSError
        A data file cannot be read, or the provenance file cannot be written.

    Examples
    --------
    >>> import shutil, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = shutil.copytree("data/standin", Path(tmp) / "copy")
    ...     with open(folder / "measurements.csv", "a") as f:
    ...         _ = f.write("P01,3,hba1c,8.2\n")
    ...     edits = record_edits(folder), record_edits(folder)
    ...     record = read_provenance(folder)[0]["edited"]
    >>> edits, record[0]["files"]
    ((['measurements.csv'], []), ['measurements.csv'])
    """
    root = resolve_path(data_dir)
    path = root / PROVENANCE_FILE

    def refuse(why: str) -> HelpersError:
        return HelpersError(f"{path}: {why}; there is no label to keep")

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise refuse(f"no readable provenance file ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") not in PROVENANCE_KINDS:
        raise refuse(f"labels the data with no known kind (one of {', '.join(PROVENANCE_KINDS)})")
    recorded = data.get("files")
    if not isinstance(recorded, dict) or not all(isinstance(v, str) for v in recorded.values()):
        raise refuse("records no checksums of the files it was written for")
    if (problem := _edits_problem(data.get("edited", []))) is not None:
        raise refuse(problem)
    actual = file_checksums(root)
    changed = [f for f, digest in actual.items() if recorded.get(f) != digest]
    if not changed:
        return []
    edit = {
        "files": changed,
        "before": {f: recorded.get(f) for f in changed},
        "after": {f: actual[f] for f in changed},
    }
    data["files"] = actual
    data["edited"] = [*data.get("edited", []), edit]
    mode = path.stat().st_mode & 0o777
    fd, name = tempfile.mkstemp(dir=root, prefix=".provenance-", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(name, mode)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return changed
