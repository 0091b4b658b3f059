"""What every notebook shows about itself: the data source banner and the environment record."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

import pandas as pd

from helpers.paths import resolve_path

__all__ = ["ENVIRONMENT_PACKAGES", "environment_record", "write_tables"]

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
    tables: dict[str, pd.DataFrame], tables_dir: str | Path | None, prefix: str
) -> list[str]:
    """Write result tables as CSV for the manuscript, when a folder is given.

    The runner passes ``tables_dir`` (``tables`` inside the report folder); a
    notebook opened by hand or checked by nbval has ``tables_dir = None`` and
    writes nothing. A relative ``tables_dir`` is relative to the project root,
    like every path parameter.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        File stem → table.
    tables_dir : str, Path or None
    prefix : str
        Prepended to each file name, e.g. the notebook's number.

    Returns
    -------
    list of str
        The files written, relative to ``tables_dir``'s parent; empty when
        ``tables_dir`` is None.

    Examples
    --------
    >>> write_tables({"results": pd.DataFrame({"a": [1]})}, None, "02")
    []
    """
    if tables_dir is None:
        return []
    folder = resolve_path(tables_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, table in tables.items():
        path = folder / f"{prefix}_{stem}.csv"
        table.to_csv(path, index=not isinstance(table.index, pd.RangeIndex), lineterminator="\n")
        written.append(f"{folder.name}/{path.name}")
    return written
