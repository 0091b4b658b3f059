"""Re-execute a notebook only when something it depends on changed (content, not timestamps).

A notebook's **key** is the SHA-256 of everything its outputs depend on:

* the notebook file;
* the values of its parameters as the runner passes them;
* every file or folder a parameter names (``data_dir``, ``study_file``,
  ``reported_path``, …), by content; a folder by its files' names and contents;
* the source of every helper module the notebook imports, and of the modules
  those import, found by reading the imports (:func:`helper_closure`);
* the runner itself (``helpers/run.py``), the locked environment
  (``requirements-lock.txt``) and the Python version.

The runner records each notebook's key, its inputs' digests and its outputs'
digests in ``reports/<set>/.cache.json`` after a successful run, and the next
run of the set reuses a notebook whose key is unchanged and whose outputs are
intact, saying why it re-runs any other (:func:`reasons`). A failed run
publishes nothing, so it never changes the record.

``python -m helpers.cache --params NAME`` answers in a fraction of a second,
without importing the scientific stack, whether the whole report of a set and
its site are up to date (exit 0, saying so) or not (exit 1, saying why); ``make
reproduce`` runs the notebooks only in the second case. It re-reads every
recorded input and output, so it can only answer "up to date" when a full
check would.

Examples
--------
>>> sorted(helper_closure({"helpers.errors"}))[:1]
['helpers/__init__.py']
"""

from __future__ import annotations

import argparse
import ast
import functools
import hashlib
import json
import os
import platform
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from helpers.paths import INSTALLED_ROOT, PROJECT_ROOT

__all__ = [
    "CHECKED_ENV",
    "MANIFEST",
    "SITE_STAMP",
    "digest",
    "fresh",
    "helper_closure",
    "notebook_imports",
    "notebook_inputs",
    "notebook_key",
    "output_digests",
    "reasons",
    "warm_checked_key",
]

#: The record of the last good run, inside the report folder.
MANIFEST = ".cache.json"
#: The record of the site build, inside the site folder.
SITE_STAMP = ".site.json"
_SOURCE = INSTALLED_ROOT / "src"
_ALWAYS = (
    "helpers/run.py",
    "helpers/report.py",
    "helpers/templates/amsct_report/index.html.j2",
    "helpers/templates/amsct_report/conf.json",
)
_LOCK = "requirements-lock.txt"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(path: Path) -> str:
    """Hash a file's bytes, or a folder's file names and contents (``""`` if absent), SHA-256.

    Parameters
    ----------
    path : Path

    Returns
    -------
    str

    Examples
    --------
    >>> digest(Path("no/such/file"))
    ''
    """
    if path.is_file():
        return _sha(path.read_bytes())
    if path.is_dir():
        parts = [
            f"{p.relative_to(path).as_posix()}:{_sha(p.read_bytes())}"
            for p in sorted(path.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        ]
        return _sha("\n".join(parts).encode())
    return ""


def _module_file(module: str) -> Path | None:
    parts = module.split(".")
    if parts[0] != "helpers":
        return None
    base = _SOURCE.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _modules(tree: ast.AST) -> list[str]:
    """List the modules an AST imports, at any depth, in order of appearance.

    ``from x import y`` lists ``x`` and ``x.y`` (``y`` may be a submodule).
    """
    found: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(dict.fromkeys(a.name for a in node.names))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found[node.module] = None
            found.update(dict.fromkeys(f"{node.module}.{a.name}" for a in node.names))
    return list(found)


def _helper_modules(names: Iterable[str]) -> set[str]:
    """Keep the helper modules among imported names.

    ``from helpers import outcomes`` imports the module ``helpers.outcomes``;
    ``from helpers.precision import format_percent`` imports ``helpers.precision`` only.
    """
    return {
        name
        for name in names
        if name.split(".")[0] == "helpers" and (name == "helpers" or _module_file(name))
    }


@functools.lru_cache(maxsize=256)
def _source_imports(source: str) -> frozenset[str]:
    """Return the helper modules a helper source imports, at any depth (parsed once per text)."""
    return frozenset(_helper_modules(_modules(ast.parse(source))))


def helper_closure(modules: Iterable[str]) -> set[str]:
    """Find the source files of helper modules and of every helper module they import.

    Parameters
    ----------
    modules : iterable of str
        Dotted module names (``helpers.outcomes``).

    Returns
    -------
    set of str
        Paths relative to ``src/`` (``helpers/outcomes.py``); the package's
        ``__init__.py`` is always in.

    Examples
    --------
    >>> "helpers/precision.py" in helper_closure({"helpers.readers"})
    True
    """
    seen: set[str] = set()
    todo = ["helpers", *modules]
    while todo:
        path = _module_file(todo.pop())
        if path is None:
            continue
        relative = path.relative_to(_SOURCE).as_posix()
        if relative in seen:
            continue
        seen.add(relative)
        todo.extend(_source_imports(path.read_text(encoding="utf-8")))
    return seen


def notebook_imports(notebook: Path) -> set[str]:
    """List the helper modules a notebook's code cells import (read as JSON, no nbformat).

    Parameters
    ----------
    notebook : Path

    Returns
    -------
    set of str

    Examples
    --------
    >>> nb = PROJECT_ROOT / "notebooks/02_glycemic_outcomes.ipynb"
    >>> "helpers.outcomes" in notebook_imports(nb)
    True
    """
    return _helper_modules(notebook_modules(notebook))


def notebook_modules(notebook: Path) -> list[str]:
    """List every module a notebook's code cells import, in order (``from x import y``: x, x.y).

    Parameters
    ----------
    notebook : Path

    Returns
    -------
    list of str
        Some names may be attributes rather than modules (``x.y`` for a function y).

    Examples
    --------
    >>> nb = PROJECT_ROOT / "notebooks/02_glycemic_outcomes.ipynb"
    >>> "helpers.outcomes" in notebook_modules(nb)
    True
    """
    found: dict[str, None] = {}
    for tree in _code_cells(notebook):
        found.update(dict.fromkeys(_modules(tree)))
    return list(found)


def _code_cells(notebook: Path) -> Iterator[ast.AST]:
    """Parse each code cell of a notebook (read as JSON, no nbformat); magics are left out."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", [])
        source = "".join(source) if isinstance(source, list) else source
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            yield ast.parse("\n".join(lines))
        except SyntaxError:
            continue


def _named_paths(values: Mapping[str, Any]) -> list[str]:
    """Parameter values that name an existing file or folder of the project."""
    named = []
    for value in values.values():
        if not isinstance(value, str) or not value or "\n" in value or len(value) > 500:
            continue
        path = Path(value) if Path(value).is_absolute() else PROJECT_ROOT / value
        try:
            exists = path.exists()
        except OSError:
            continue
        if exists and path.resolve() != PROJECT_ROOT.resolve():
            named.append(value)
    return sorted(set(named))


def _resolve(name: str) -> Path:
    """Locate a recorded input: ``src:`` names a helper source, anything else a project path."""
    if name.startswith("src:"):
        return _SOURCE / name[4:]
    path = Path(name)
    return path if path.is_absolute() else PROJECT_ROOT / path


def notebook_inputs(
    notebook: Path, values: Mapping[str, Any], *, memo: dict[str, str] | None = None
) -> dict[str, str]:
    """List everything a notebook's outputs depend on, each with its digest.

    Parameters
    ----------
    notebook : Path
    values : mapping
        The parameters the runner passes.
    memo : dict, optional
        Digests already taken in this run, by input name: the notebooks of a run
        share most inputs (helper sources, the lock, the data), each read once.

    Returns
    -------
    dict
        Input name → SHA-256: the notebook (``notebooks/…``), the files and
        folders the parameters name, the helper sources it imports
        (``src:helpers/…``), the runner, and the locked environment.

    Examples
    --------
    >>> nb = PROJECT_ROOT / "notebooks/01_cohort_description.ipynb"
    >>> inputs = notebook_inputs(nb, {"data_dir": "data/standin"})
    >>> "data/standin" in inputs, "src:helpers/cohort.py" in inputs
    (True, True)
    """
    names = [_shown(notebook), *_named_paths(values), _LOCK]
    names += [f"src:{m}" for m in sorted(helper_closure(notebook_imports(notebook)) | set(_ALWAYS))]
    memo = {} if memo is None else memo
    for name in names:
        if name not in memo:
            memo[name] = digest(_resolve(name))
    return {name: memo[name] for name in names}


#: The helpers that check input files; a check's record is keyed on their sources too.
_CHECKERS = ("helpers.data", "helpers.reported", "helpers.study")
#: Where the runner records input files it has checked (inside the reports folder).
CHECKED = ".checked"
#: The environment variable naming, for the runner's kernels, the folder of checked
#: cohorts (``reports/.checked``) that :func:`helpers.data.load_cohort` reads.
CHECKED_ENV = "AMSCT_CHECKED_INPUTS"


def warm_checked_key() -> None:
    """Parse the checking helpers' sources for their imports now, for processes forked later.

    :func:`checked_key` finds the helpers that check a cohort by parsing their
    sources; each text is parsed once per process (:func:`_source_imports`
    caches by the text itself). The kernel zygote (:mod:`helpers.kernels`)
    calls this before it forks, so a kernel reading a checked cohort finds the
    parse done. A source changed since is a text not in the cache, parsed anew.

    Examples
    --------
    >>> _source_imports.cache_clear()
    >>> warm_checked_key()
    >>> _source_imports.cache_info().currsize == len(helper_closure(_CHECKERS))
    True
    """
    helper_closure(_CHECKERS)


def checked_key(paths: Iterable[str]) -> str:
    """Key a check of input files: their contents, the code that checks them, the environment.

    Parameters
    ----------
    paths : iterable of str
        Files and folders (absolute, or relative to the project root).

    Returns
    -------
    str
        SHA-256 of the files' digests, the sources of the checking helpers
        (and every helper they import), the locked environment and Python.

    Examples
    --------
    >>> checked_key(["data/standin"]) == checked_key(["data/standin"])
    True
    >>> checked_key(["data/standin"]) == checked_key(["data/standin", "data/study.yaml"])
    False
    """
    names = {*paths, _LOCK, *(f"src:{m}" for m in helper_closure(_CHECKERS))}
    return notebook_key({}, {name: digest(_resolve(name)) for name in sorted(names)})


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(PROJECT_ROOT.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def _python() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}"


def notebook_key(values: Mapping[str, Any], inputs: Mapping[str, str]) -> str:
    """Compute a notebook's key: SHA-256 of its parameter values, inputs' digests and Python.

    Parameters
    ----------
    values : mapping
        The parameters the runner passes (JSON-serialisable).
    inputs : mapping
        From :func:`notebook_inputs`.

    Returns
    -------
    str

    Examples
    --------
    >>> notebook_key({"alpha": 0.05}, {"x": "1"}) == notebook_key({"alpha": 0.05}, {"x": "1"})
    True
    >>> notebook_key({"alpha": 0.05}, {"x": "1"}) == notebook_key({"alpha": 0.1}, {"x": "1"})
    False
    """
    record = {"python": _python(), "values": values, "inputs": dict(sorted(inputs.items()))}
    return _sha(json.dumps(record, sort_keys=True, default=str).encode())


def output_digests(report: Path, stem: str) -> dict[str, str]:
    """Hash a notebook's outputs in a report: its notebook, HTML and ``tables/NN_*``.

    Parameters
    ----------
    report : Path
    stem : str
        The notebook's file name without ``.ipynb``.

    Returns
    -------
    dict
        Path relative to the report → SHA-256.
    """
    prefix = f"{stem.split('_', 1)[0]}_"
    files = [report / f"{stem}.ipynb", report / f"{stem}.html"]
    tables = report / "tables"
    if tables.is_dir():
        files += sorted(p for p in tables.iterdir() if p.name.startswith(prefix) and p.is_file())
    return {p.relative_to(report).as_posix(): digest(p) for p in files if p.is_file()}


def reasons(
    entry: Mapping[str, Any] | None,
    *,
    key: str,
    values: Mapping[str, Any],
    inputs: Mapping[str, str],
    report: Path,
    stem: str,
) -> list[str]:
    """Say why a notebook must run again; empty when its last good outputs can be reused.

    Parameters
    ----------
    entry : mapping or None
        The notebook's record in the last good run's manifest.
    key, values, inputs
        This run's key, parameter values and input digests.
    report : Path
        The last good report.
    stem : str

    Returns
    -------
    list of str

    Examples
    --------
    >>> reasons(None, key="k", values={}, inputs={}, report=Path("."), stem="01_x")
    ['no earlier run of it in this report']
    """
    if not entry:
        return ["no earlier run of it in this report"]
    why = []
    old_values = entry.get("values", {})
    changed = sorted(
        k
        for k in set(values) | set(old_values)
        if json.dumps(values.get(k), sort_keys=True, default=str)
        != json.dumps(old_values.get(k), sort_keys=True, default=str)
    )
    if changed:
        why.append("parameters changed: " + ", ".join(changed))
    old_inputs = entry.get("inputs", {})
    moved = sorted(k for k in set(inputs) | set(old_inputs) if inputs.get(k) != old_inputs.get(k))
    if moved:
        shown = [m.removeprefix("src:") for m in moved]
        why.append("changed: " + ", ".join(shown[:6]) + (" …" if len(shown) > 6 else ""))
    if entry.get("python") != _python():
        why.append(f"Python changed ({entry.get('python')} → {_python()})")
    if not why and entry.get("key") != key:
        why.append("its key changed")
    if entry.get("outputs") != output_digests(report, stem) or not entry.get("outputs"):
        why.append("its outputs in the report are missing or were changed")
    return why


def entry(key: str, values: Mapping[str, Any], inputs: Mapping[str, str], report: Path,
          stem: str) -> dict[str, Any]:  # fmt: skip
    """Record a notebook that ran, for the manifest (its outputs read from ``report``)."""
    return {
        "key": key,
        "python": _python(),
        "values": json.loads(json.dumps(values, default=str)),
        "inputs": dict(sorted(inputs.items())),
        "outputs": output_digests(report, stem),
    }


def read_record(path: Path) -> dict[str, Any]:
    """Read a JSON record: a manifest or a site stamp (``{}`` when absent or unreadable).

    Examples
    --------
    >>> read_record(Path("no/such/.cache.json"))
    {}
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_manifest(report: Path) -> dict[str, Any]:
    """Read the last good run's record (``{}`` when there is none or it cannot be read)."""
    return read_record(report / MANIFEST)


def write_manifest(report: Path, manifest: Mapping[str, Any]) -> None:
    """Write the record into a (staging) report folder."""
    target = report / MANIFEST
    partial = target.with_name(f"{MANIFEST}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, target)  # whole or not at all


def site_key(report: Path, sources: Iterable[Path]) -> str:
    """Compute the key of a report's site: its notebooks, its tables and the site's sources."""
    parts = [f"{p.name}:{digest(p)}" for p in sorted(report.glob("[0-9][0-9]_*.ipynb"))]
    parts += [f"tables:{digest(report / 'tables')}"]
    parts += [f"{p.name}:{digest(p)}" for p in sources]
    parts += [f"python:{_python()}"]
    return _sha("\n".join(parts).encode())


def site_sources() -> list[Path]:
    """List the files besides the report that the site is built from."""
    return [
        _SOURCE / "helpers" / "site.py",
        _SOURCE / "helpers" / "sitebuild.py",
        PROJECT_ROOT / "CITATION.cff",
        PROJECT_ROOT / _LOCK,
    ]


def fresh(report: Path, *, set_file: Path | None = None) -> tuple[bool, str]:
    """Check whether a report and its site are up to date, by every recorded input and output.

    Parameters
    ----------
    report : Path
        ``reports/<set>``.
    set_file : Path, optional
        The parameter-set file; its digest must equal the recorded one.

    Returns
    -------
    (bool, str)
        Up to date, and what was checked or what changed.
    """
    manifest = read_manifest(report)
    notebooks = manifest.get("notebooks", {})
    if not notebooks:
        return False, f"no record of an earlier run in {report}"
    if set_file is not None and manifest.get("set_file") != digest(set_file):
        return False, f"the parameter set {set_file.name} changed"
    folder = Path(manifest.get("notebook_dir", PROJECT_ROOT / "notebooks"))
    listed = sorted(p.stem for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if listed != manifest.get("listing"):
        return False, f"the notebooks in {folder.name}/ changed"
    checked = 0
    memo: dict[str, str] = {}  # inputs the notebooks share are read once
    for stem, item in sorted(notebooks.items()):
        for name, recorded in item.get("inputs", {}).items():
            checked += 1
            if name not in memo:
                memo[name] = digest(_resolve(name))
            if memo[name] != recorded:
                return False, f"{stem}: {name.removeprefix('src:')} changed"
        if item.get("python") != _python():
            return False, "the Python version changed"
        if item.get("outputs") != output_digests(report, stem):
            return False, f"{stem}: its outputs in the report are missing or were changed"
    site = read_record(report / "site" / SITE_STAMP)
    if not site:
        return False, "the site has not been built from this report"
    if site.get("key") != site_key(report, site_sources()):
        return False, "the site was built from another report or other site sources"
    return True, (
        f"up to date: reused {', '.join(sorted(notebooks))} and the site of {report.name} "
        f"(checked {checked} inputs and every output; make reproduce FORCE=1 re-runs)"
    )


def _set_file(given: str) -> Path:
    """Read ``--params`` as the runner does: a path when it ends in .yaml, else a set's name."""
    path = Path(given)
    if given.endswith((".yaml", ".yml")):
        return path if path.is_absolute() else Path.cwd() / path
    return PROJECT_ROOT / "notebooks" / "params" / f"{given}.yaml"


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m helpers.cache --params NAME``; exit 0 when up to date.

    A set that does not exist is not up to date, and nothing is said of it here: the
    runner, which ``make reproduce`` calls next, refuses it in one message.
    """
    parser = argparse.ArgumentParser(
        prog="python -m helpers.cache", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--params", default="default", help="parameter set name or YAML path")
    parser.add_argument("--reports", default=str(PROJECT_ROOT / "reports"), help="reports folder")
    args = parser.parse_args(argv)
    set_file = _set_file(args.params)
    if not set_file.is_file():  # the runner refuses it, with what there is to choose from
        return 1
    up, message = fresh(Path(args.reports) / set_file.stem, set_file=set_file)
    print(message if up else f"re-running: {message}", file=sys.stdout if up else sys.stderr)
    return 0 if up else 1


if __name__ == "__main__":
    raise SystemExit(main())
