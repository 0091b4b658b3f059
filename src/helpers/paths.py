"""Where things are: the project root and paths relative to it."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PROJECT_ROOT", "ROOT_ENV", "resolve_path"]

#: Environment variable that points the helpers at another copy of the project
#: (used by tests that must change data without touching the checkout).
ROOT_ENV = "AMSCT_PROJECT_ROOT"

#: The checkout the helpers are installed from (``pip install -e .``), unless
#: ``AMSCT_PROJECT_ROOT`` names another.
PROJECT_ROOT: Path = Path(os.environ.get(ROOT_ENV) or Path(__file__).resolve().parents[2])


def resolve_path(path: str | Path) -> Path:
    """Resolve a path given in a parameter set or notebook.

    Relative paths are taken relative to the project root, so the same
    parameter value works from JupyterLab, papermill and pytest alike.

    Parameters
    ----------
    path : str or Path
        Absolute, or relative to the project root.

    Returns
    -------
    Path
        An absolute path.

    Examples
    --------
    >>> resolve_path("data/standin") == PROJECT_ROOT / "data" / "standin"
    True
    """
    p = Path(path).expanduser()
    return p if p.is_absolute() else PROJECT_ROOT / p
