"""Exceptions raised by the helpers package.

One base class, :class:`HelpersError`; each subclass carries structured fields
and a readable ``__str__`` so that a notebook, the runner and a terminal all
show one clear message.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "MAX_LISTED",
    "MAX_VALUE_CHARS",
    "DataValidationError",
    "Failure",
    "HelpersError",
    "NotebookExecutionError",
    "ParameterError",
    "show_value",
]


class HelpersError(Exception):
    """Base class for every error the helpers package raises on purpose."""


@dataclass(frozen=True)
class Failure:
    """One broken rule in one input file.

    Parameters
    ----------
    file : str
        The file, as the user named it.
    row : int or None
        1-based data row: the first row under the header is row 1 and the
        file's line number is ``row + 1``. ``None`` for a problem with the
        header or the whole table.
    column : str or None
        The column concerned, ``None`` for a table-wide problem.
    value : str or None
        The offending value as it stands in the file.
    rule : str
        The rule broken, in words.
    line : int or None, default None
        The line the row starts on, when it is not ``row + 1`` (a quoted value
        with a line break moves the rows below it down).

    Examples
    --------
    >>> print(Failure("patients.csv", 2, "age_years", "forty", "must be an integer"))
    patients.csv, row 2 (line 3), column 'age_years', value 'forty': must be an integer
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    line: int | None = None

    def where(self) -> str:
        """Say where the problem is: file, row and line, column."""
        parts = [self.file]
        if self.row is not None:
            line = self.line if self.line is not None else self.row + 1
            parts.append(f"row {self.row} (line {line})")
        elif self.column is not None:
            parts.append("header")
        if self.column is not None:
            parts.append(f"column {show_value(self.column)}")
        return ", ".join(parts)

    def __str__(self) -> str:
        value = "" if self.value is None else f", value {show_value(self.value)}"
        return f"{self.where()}{value}: {self.rule}"


#: How many characters of a value a message echoes, and how many problems it lists.
MAX_VALUE_CHARS = 60
MAX_LISTED = 20


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxset = 3, 8, 8, 8, 8
_REPR.maxstring = _REPR.maxother = MAX_VALUE_CHARS


def show_value(value: object) -> str:
    """Quote a value for a message, cut to a readable size without building it whole.

    Text longer than :data:`MAX_VALUE_CHARS` is cut and its length said; other
    values (lists, mappings, which a YAML file can make huge through aliases)
    are shown by :mod:`reprlib`, which stops early.

    Parameters
    ----------
    value : object

    Returns
    -------
    str

    Examples
    --------
    >>> show_value("x" * 70).endswith("'… (70 characters)")
    True
    >>> show_value(list(range(20)))
    '[0, 1, 2, 3, 4, 5, 6, 7, ...]'
    """
    if isinstance(value, str):
        if len(value) <= MAX_VALUE_CHARS:
            return repr(value)
        return repr(value[:MAX_VALUE_CHARS]) + f"… ({len(value)} characters)"
    text = _REPR.repr(value)
    limit = MAX_VALUE_CHARS + 20
    return text if len(text) <= limit else text[: limit - 1] + "…"


class DataValidationError(HelpersError):
    """Input data broke one or more rules of the data dictionary.

    All problems found in one pass over all files are carried together, so a
    user fixes them in one go.

    Parameters
    ----------
    failures : sequence of Failure
        Every problem found, in file and row order.
    """

    def __init__(self, failures: Sequence[Failure]) -> None:
        files = list(dict.fromkeys(f.file for f in failures))
        self.failures = sorted(
            failures,
            key=lambda f: (files.index(f.file), -1 if f.row is None else f.row, f.column or ""),
        )
        super().__init__(str(self))

    def __reduce__(self) -> tuple[type, tuple[list[Failure]]]:
        return (type(self), (self.failures,))

    def __str__(self) -> str:
        files = list(dict.fromkeys(f.file for f in self.failures))
        n = len(self.failures)
        head = f"{n} problem{'s' if n != 1 else ''} in {', '.join(files)}; the data were rejected:"
        lines = [head, *(f"  - {f}" for f in self.failures[:MAX_LISTED])]
        if n > MAX_LISTED:
            lines.append(f"  … and {n - MAX_LISTED} more problems of the same kinds")
        return "\n".join(lines)


class ParameterError(HelpersError):
    """A parameter set names something a notebook does not declare, or is malformed."""


class NotebookExecutionError(HelpersError):
    """A notebook failed while the runner executed it.

    Parameters
    ----------
    notebook : str
        The notebook's file name.
    cell : int or None
        0-based index of the failing cell in the executed notebook.
    execution_count : int or None
        The failing cell's execution count, as Jupyter shows it (``In [n]``).
    error : str
        The exception's name and message.
    kept_at : str or None
        Where the failed notebook was kept for inspection.
    """

    def __init__(
        self,
        notebook: str,
        cell: int | None,
        execution_count: int | None,
        error: str,
        kept_at: str | None = None,
    ) -> None:
        self.notebook = notebook
        self.cell = cell
        self.execution_count = execution_count
        self.error = error
        self.kept_at = kept_at
        super().__init__(str(self))

    def __reduce__(self) -> tuple[type, tuple[str, int | None, int | None, str, str | None]]:
        return (
            type(self),
            (self.notebook, self.cell, self.execution_count, self.error, self.kept_at),
        )

    def __str__(self) -> str:
        where = f"notebook {self.notebook}"
        if self.cell is not None:
            where += f", cell {self.cell}"
        if self.execution_count is not None:
            where += f" (In [{self.execution_count}])"
        kept = f"\nThe failed notebook is kept at {self.kept_at}" if self.kept_at else ""
        return f"{where} failed:\n{self.error}{kept}"
