"""Where things are: the project root, and paths relative to it.

The project root is the checkout the helpers are installed from (``pip install
-e .`` in its own ``.venv``), unless ``AMSCT_PROJECT_ROOT`` names another. Every
relative path in a parameter (``data_dir``, ``reported_path``, ``tables_dir``)
is relative to it, whoever runs the notebook and from wherever.

A copy of the project folder made together with its ``.venv`` still runs the
original's helpers, which would read the original's data and write into the
original's reports. :func:`check_checkout` finds the checkout the user is
working in from the working directory (the folder holding this project's
``pyproject.toml``) and refuses, with a message saying what to do, when the
installed helpers belong to another.
"""

from __future__ import annotations

import os
from pathlib import Path

from helpers.errors import HelpersError

__all__ = [
    "INSTALLED_ROOT",
    "PROJECT_NAME",
    "PROJECT_ROOT",
    "ROOT_ENV",
    "check_checkout",
    "resolve_path",
    "working_checkout",
]

#: Environment variable that points the helpers at another copy of the project
#: (used by tests that must change data without touching the checkout).
ROOT_ENV = "AMSCT_PROJECT_ROOT"

#: The distribution name in ``pyproject.toml``, which marks a checkout of this project.
PROJECT_NAME = "amsct-t1dm-compendium"

#: The checkout these helpers were installed from.
INSTALLED_ROOT: Path = Path(__file__).resolve().parents[2]

#: The project root every relative path is resolved against.
PROJECT_ROOT: Path = Path(os.environ.get(ROOT_ENV) or INSTALLED_ROOT)


def working_checkout(start: str | Path | None = None) -> Path | None:
    """Find the checkout of this project that a folder lies in, from its marker file.

    Parameters
    ----------
    start : str or Path, optional
        Default, the working directory.

    Returns
    -------
    Path or None
        The folder holding this project's ``pyproject.toml``, or ``None``
        outside any checkout.

    Examples
    --------
    >>> working_checkout(PROJECT_ROOT / "notebooks") == PROJECT_ROOT
    True
    """
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        marker = folder / "pyproject.toml"
        try:
            if marker.is_file() and f'name = "{PROJECT_NAME}"' in marker.read_text("utf-8"):
                return folder
        except (OSError, UnicodeDecodeError):
            continue
    return None


def check_checkout(start: str | Path | None = None) -> None:
    """Refuse to work when the installed helpers belong to another checkout than this one.

    Parameters
    ----------
    start : str or Path, optional
        Default, the working directory.

    Raises
    ------
    HelpersError
        When the working directory lies in a checkout other than the one the
        helpers are installed from (and ``AMSCT_PROJECT_ROOT`` is not set).

    Examples
    --------
    >>> check_checkout(PROJECT_ROOT)
    """
    if os.environ.get(ROOT_ENV):
        return
    here = working_checkout(start)
    if here is not None and here != INSTALLED_ROOT:
        raise HelpersError(
            f"you are working in {here}, but the helpers in use are installed from "
            f"{INSTALLED_ROOT}: they would read that checkout's data and write its reports. "
            f"Give this copy its own environment (cd {here} && rm -rf .venv && make setup), "
            "then run its own .venv/bin/python"
        )


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

    Raises
    ------
    HelpersError
        When the helpers belong to another checkout than the working one
        (:func:`check_checkout`).

    Examples
    --------
    >>> resolve_path("data/standin") == PROJECT_ROOT / "data" / "standin"
    True
    """
    check_checkout()
    p = Path(path).expanduser()
    return p if p.is_absolute() else PROJECT_ROOT / p
