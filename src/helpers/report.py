"""What every notebook shows about itself: the data source banner and the environment record."""

from __future__ import annotations

import platform
import textwrap
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.paths import resolve_path

__all__ = [
    "ENVIRONMENT_PACKAGES",
    "environment_record",
    "readme_text",
    "significant",
    "to_csv_text",
    "write_tables",
]

#: Packages whose versions a reader needs to reproduce the numbers.
ENVIRONMENT_PACKAGES: tuple[str, ...] = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "pingouin",
    "pandera",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbval",
    "amsct-t1dm-compendium",
)


def environment_record(packages: tuple[str, ...] = ENVIRONMENT_PACKAGES) -> pd.DataFrame:
    """List the Python version and the versions of the packages that produced the results.

    Only the Python minor version is shown: the patch release differs between
    machines without changing results, and would make stored outputs unstable.

    Parameters
    ----------
    packages : tuple of str
        Distribution names.

    Returns
    -------
    pandas.DataFrame
        Columns ``package`` and ``version``.

    Examples
    --------
    >>> environment_record(("pandas",))["package"].tolist()
    ['python', 'pandas']
    """
    python = ".".join(platform.python_version_tuple()[:2])
    rows = [("python", python)] + [(p, metadata.version(p)) for p in packages]
    return pd.DataFrame(rows, columns=["package", "version"])


def write_tables(
    tables: dict[str, pd.DataFrame], tables_dir: str | Path | None, prefix: str, *, source: str
) -> list[str]:
    """Write result tables as CSV for the manuscript, with a note of which data they came from.

    The runner passes ``tables_dir`` (``tables`` inside the report folder); a
    notebook opened by hand or checked by nbval has ``tables_dir = None`` and
    writes nothing. A relative ``tables_dir`` is relative to the project root,
    like every path parameter. A CSV file has no place for a label, so beside
    the tables goes ``<prefix>_README.txt``: the data's source statement
    (:meth:`helpers.data.Cohort.source_statement`), for every file of the
    notebook, figures included. A table taken away from the report thus still
    has, next to it, the words "reconstructed" or "simulated" when it is.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        File stem → table.
    tables_dir : str, Path or None
    prefix : str
        Prepended to each file name, e.g. the notebook's number.
    source : str
        Which data the tables were computed from, in one paragraph.

    Returns
    -------
    list of str
        The files written (the note last), relative to ``tables_dir``'s
        parent; empty when ``tables_dir`` is None.

    Examples
    --------
    >>> write_tables({"results": pd.DataFrame({"a": [1]})}, None, "02", source="Data: ...")
    []
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()) / "tables"
    >>> write_tables({"results": pd.DataFrame({"a": [1]})}, folder, "02", source="Data: ...")
    ['tables/02_results.csv', 'tables/02_README.txt']
    """
    if tables_dir is None:
        return []
    folder = resolve_path(tables_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, full in tables.items():
        path = folder / f"{prefix}_{stem}.csv"
        table = significant(full)
        if isinstance(table.index, pd.RangeIndex):
            path.write_bytes(to_csv_text(table).encode("utf-8"))
        else:
            table.to_csv(path, lineterminator="\n")
        written.append(f"{folder.name}/{path.name}")
    note = folder / f"{prefix}_README.txt"
    note.write_bytes(readme_text(prefix, source).encode("utf-8"))
    written.append(f"{folder.name}/{note.name}")
    return written


#: Significant digits of a number written to CSV: as R's ``write.csv`` prints them.
CSV_DIGITS = 15


def significant(table: pd.DataFrame, digits: int = CSV_DIGITS) -> pd.DataFrame:
    """Round a table's floating-point columns to ``digits`` significant digits for CSV.

    A double holds 15 to 17 significant digits; the last one or two carry
    binary rounding noise that a printed number should not show: the mean
    change 64.4 / 7 is 9.200000000000001 in binary and 9.2 on paper, the
    difference 18.5 − 14.2 is 4.300000000000001. Fifteen significant digits
    (R's ``write.csv``) drop the noise and keep every digit a computation
    can vouch for. Each distinct value is rounded once, and a value is replaced
    only where its rounding differs from it; missing and infinite values, zeros
    (with their sign), and every column that is not floating point, are kept as
    they are.

    Parameters
    ----------
    table : pandas.DataFrame
    digits : int, default 15

    Returns
    -------
    pandas.DataFrame
        A copy when a column changed, else ``table`` itself.

    Examples
    --------
    >>> t = pd.DataFrame({"x": [64.4 / 7, 18.5 - 14.2, float("nan"), 1 / 3], "n": [1, 2, 3, 4]})
    >>> significant(t)["x"].tolist()[:2], significant(t)["x"].tolist()[3]
    ([9.2, 4.3], 0.333333333333333)
    """
    out = table
    for name in table.columns:
        column = table[name]
        if column.dtype.kind != "f":
            continue
        values = column.to_numpy(dtype="float64", na_value=np.nan)
        # distinct values by hashing (sorting a million values took a fifth of a second);
        # a missing value is coded -1 and has no entry
        codes, unique = pd.factorize(values)
        rounded = np.array([float(f"{v:.{digits}g}") for v in unique.tolist()], dtype="float64")
        changed = rounded != unique  # an infinity, or a zero of either sign, is its own rounding
        if not changed.any():
            continue
        if out is table:
            out = table.copy()
        rounds = (codes >= 0) & changed[codes]  # (code -1 reads the last entry, unused)
        written = np.where(rounds, rounded[codes], values)
        out[name] = pd.Series(written, index=table.index, dtype=column.dtype)
    return out


def readme_text(prefix: str, source: str) -> str:
    """Return the note written beside a notebook's tables and figures.

    Examples
    --------
    >>> print(readme_text("02", "SIMULATED DATA — NOT PATIENT RECORDS. Made up."), end="")
    Where the files in this folder whose names begin with "02_" (tables as CSV,
    figures as PNG and SVG) come from:
    <BLANKLINE>
    SIMULATED DATA — NOT PATIENT RECORDS. Made up.
    """
    head = (
        f'Where the files in this folder whose names begin with "{prefix}_" (tables as CSV, '
        "figures as PNG and SVG) come from:"
    )
    return (
        "\n\n".join(
            textwrap.fill(part, width=80, break_long_words=False, break_on_hyphens=False)
            for part in (head, source)
        )
        + "\n"
    )


#: Rows joined into text at a time (bounds the memory the joined lines take).
_CSV_CHUNK = 100_000
#: Tables with fewer rows are written by ``to_csv`` itself: formatting each column's distinct
#: values costs a few milliseconds a column, more than pandas takes to write a short table
#: (measured: even at 3,000 rows of six columns, one of them all distinct).
_SHORTCUT_FROM_ROWS = 10_000


def to_csv_text(table: pd.DataFrame) -> str:
    r"""Return ``table.to_csv(index=False, lineterminator="\n")``: the same text, sooner.

    pandas formats and writes a CSV row by row, which takes seconds for the
    per-patient tables of a large cohort. Here pandas formats each *distinct*
    value of a column once (with ``to_csv`` itself, so quoting and number
    formatting are pandas' own), and the rows are joined from those fields.
    A column of numbers with few distinct values (one-decimal measurements,
    visits) or of repeated text (ids, outcomes) is formatted a handful of
    times instead of once per row. Tables this shortcut cannot reproduce
    exactly are written by ``to_csv`` itself: fewer than two columns (a lone
    empty field is quoted), columns other than numbers, booleans and text,
    float16, text with line breaks, and negative zeros (equal to zero when
    values are compared, though written ``-0.0``). So are tables of fewer than
    :data:`_SHORTCUT_FROM_ROWS` rows, which ``to_csv`` writes sooner. A test
    compares the two on every table the notebooks write and on generated
    tables, with the shortcut taken at any size.

    Parameters
    ----------
    table : pandas.DataFrame
        Written without its index.

    Returns
    -------
    str
        The CSV text, ``\n`` line ends.

    Examples
    --------
    >>> t = pd.DataFrame({"id": ["P1", "P2", "P1"], "change": [0.1, float("nan"), -2.5]})
    >>> print(to_csv_text(t), end="")
    id,change
    P1,0.1
    P2,
    P1,-2.5
    """
    columns = _every_column_fields(table) if len(table) >= _SHORTCUT_FROM_ROWS else None
    if columns is None:
        return table.to_csv(index=False, lineterminator="\n")
    parts = [table.iloc[:0].to_csv(index=False, lineterminator="\n")]
    for start in range(0, len(table), _CSV_CHUNK):
        chunk = [fields[codes[start : start + _CSV_CHUNK]].tolist() for codes, fields in columns]
        rows = zip(*chunk, strict=True)
        parts.append("\n".join(map(",".join, rows)) + "\n")
    return "".join(parts)


def _every_column_fields(table: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Return :func:`_distinct_fields` of each column, or None as soon as one has none.

    None also for fewer than two columns: a row of one empty field is written quoted.
    """
    if table.shape[1] < 2:
        return None
    columns = []
    for i in range(table.shape[1]):
        fields = _distinct_fields(table.iloc[:, i])
        if fields is None:  # the rest need not be formatted: pandas writes the table
            return None
        columns.append(fields)
    return columns


def _distinct_fields(column: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Return a column's codes and the CSV field of each distinct value (pandas' own), or None.

    ``None`` when a field might not be the same written alone as in its row,
    or when equal values are written differently.
    """
    dtype = column.dtype
    kind = dtype.categories.dtype if isinstance(dtype, pd.CategoricalDtype) else dtype
    if kind.kind in "fiub":
        if kind.kind == "f":
            if kind.itemsize < 4:
                return None  # float16: pandas has no index of it to factorize into
            values = column.to_numpy(dtype="float64", na_value=np.nan)
            if (np.signbit(values) & (values == 0)).any():
                return None  # -0.0 == 0.0: one distinct value, two texts
    elif not pd.api.types.is_string_dtype(kind):  # text: str, or object (checked below)
        return None
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    # of the column's own type: a categorical is written as pandas writes categoricals (its
    # values as Python objects, so float32 categories as 64-bit floats), not as its categories
    distinct = pd.Series(uniques, dtype=dtype)
    if kind.kind not in "fiub":
        present = distinct.dropna()
        if not all(type(v) is str for v in present) or present.str.contains("[\r\n]").any():
            return None  # a line break is quoted across lines; other objects print as they like
    text = pd.DataFrame({"_": 0, "v": distinct}).to_csv(
        index=False, header=False, lineterminator="\n"
    )
    fields = [line[2:] for line in text.split("\n")[:-1]]
    # the last field, for code -1: a missing value, written as pandas writes one in a row
    return codes, np.array([*fields, ""], dtype=object)
