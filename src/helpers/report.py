"""What every notebook shows about itself: the data source banner and the environment record."""

from __future__ import annotations

import platform
from importlib import metadata

import pandas as pd

__all__ = ["ENVIRONMENT_PACKAGES", "environment_record"]

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
