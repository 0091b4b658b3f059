"""Execute the compendium's notebooks with papermill, for a named parameter set.

Usage::

    python -m helpers.run                      # parameter set "default", every notebook
    python -m helpers.run --params private     # notebooks/params/private.yaml
    python -m helpers.run --notebook 01_cohort_description --jobs 1
    python -m helpers.run --refresh-in-place   # re-execute notebooks/*.ipynb with their defaults

Steps, each a function: resolve the parameter set against the parameters each
notebook declares (an unknown name is an error) → execute the notebooks in
parallel processes into a staging folder → on success render HTML, carry over
from the last good report whatever this run did not produce (the other
notebooks of a partial run) and swap the staging folder in as
``reports/<set>/`` → on failure keep the failed notebook in
``reports/<set>.failed/``, leave the last good report untouched and exit
non-zero with the notebook, the cell and the error in one message.

Every parameter value is checked against :mod:`helpers.params` before a
kernel starts. One run of a set at a time: a second run of the same set is
refused while the first holds ``reports/.<set>.lock`` (released by the system
even when a run is killed). A run killed between the two renames of publishing
leaves the last good report as ``reports/.<set>.previous-<pid>``; the next run
of the set puts it back before doing anything else, and removes staging
folders that killed runs left behind. SIGTERM stops the worker processes and
their kernels and removes the staging folder, as Ctrl-C does.

A parameter-set file (``notebooks/params/<set>.yaml``)::

    description: what this set is for
    common:            # passed to every notebook that declares the parameter
      data_dir: data/standin
    notebooks:         # per notebook (file name without .ipynb)
      01_cohort_description: {}

Relative paths in parameters are relative to the project root.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import dataclasses
import fcntl
import functools
import logging
import multiprocessing
import os
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import papermill
import psutil
import yaml
from tqdm import tqdm
from traitlets.config import Config

from helpers import cache, kernels
from helpers.errors import HelpersError, NotebookExecutionError, ParameterError, show_value
from helpers.paths import PROJECT_ROOT, check_checkout
from helpers.yamlfile import UniqueKeyLoader, read_yaml

__all__ = [
    "CELL_TIMEOUT",
    "NOTEBOOK_DIR",
    "PARAMS_DIR",
    "REPORTS_DIR",
    "NotebookResult",
    "ParameterSet",
    "apply_overrides",
    "combine_failures",
    "declared_parameters",
    "discover_notebooks",
    "execute_notebook",
    "load_parameter_set",
    "longest_first",
    "parse_override",
    "refresh_in_place",
    "resolve_parameters",
    "run",
    "strip_volatile_metadata",
    "with_tables_in",
]

logger = logging.getLogger(__name__)

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
PARAMS_DIR = NOTEBOOK_DIR / "params"
REPORTS_DIR = PROJECT_ROOT / "reports"
#: Injected into every notebook that declares it.
SET_PARAMETER = "parameter_set"
#: Injected by the runner: where a notebook writes its result tables, relative to the
#: report folder the notebook runs in (the stored notebooks default to None: no files).
TABLES_PARAMETER = "tables_dir"
TABLES_DIR = "tables"
_ALLOWED_KEYS = {"description", "common", "notebooks", "skip"}


@dataclass(frozen=True)
class ParameterSet:
    """A named set of notebook parameters, read from ``notebooks/params/<name>.yaml``.

    Attributes
    ----------
    name : str
    description : str
    common : dict
        Parameters for every notebook that declares them.
    notebooks : dict
        Parameters for one notebook, keyed by its file name without ``.ipynb``.
    skip : dict
        Notebooks this set does not run (file name without ``.ipynb``), each
        with the reason, e.g. a study without antibodies skips the safety notebook.
    """

    name: str
    description: str = ""
    common: dict[str, Any] = field(default_factory=dict)
    notebooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    skip: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NotebookResult:
    """What became of one notebook's execution."""

    notebook: str
    output: Path
    seconds: float
    error: NotebookExecutionError | None = None


def discover_notebooks(directory: str | Path = NOTEBOOK_DIR) -> list[Path]:
    """List the compendium's numbered notebooks (``NN_name.ipynb``) in order.

    Parameters
    ----------
    directory : str or Path, default ``notebooks/``

    Returns
    -------
    list of Path

    Examples
    --------
    >>> [p.name for p in discover_notebooks()][:1]
    ['01_cohort_description.ipynb']
    """
    return sorted(p for p in Path(directory).glob("[0-9][0-9]_*.ipynb"))


def load_parameter_set(name: str, directory: str | Path = PARAMS_DIR) -> ParameterSet:
    """Read a parameter set.

    Parameters
    ----------
    name : str
        File name without ``.yaml`` in ``directory``.
    directory : str or Path, default ``notebooks/params/``

    Returns
    -------
    ParameterSet

    Raises
    ------
    ParameterError
        If the name is not a plain name (a path, say), the file is missing
        (the message lists the sets there are), empty, not valid YAML, gives a
        key twice, or has keys other than description, common and notebooks.

    Examples
    --------
    >>> load_parameter_set("default").common["data_dir"]
    'data/standin'
    """
    from helpers.params import check_set_name

    check_set_name(name)
    path = (Path(directory) / f"{name}.yaml").absolute()
    if path.is_dir():
        raise ParameterError(f"{path} is a folder; a parameter set is a YAML file")
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in Path(directory).glob("*.yaml"))) or "none"
        raise ParameterError(f"no parameter set {name!r} ({path} not found); available: {known}")
    try:
        raw = read_yaml(path)
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path}: not valid YAML: {exc}") from exc
    if raw is None:
        raise ParameterError(
            f"{path}: the file is empty; a parameter set needs at least 'description' or "
            "'common' (see notebooks/params/default.yaml)"
        )
    if not isinstance(raw, dict) or set(raw) - _ALLOWED_KEYS:
        extra = (
            [show_value(k) for k in raw if k not in _ALLOWED_KEYS][:10]
            if isinstance(raw, dict)
            else [f"a {type(raw).__name__}, not a mapping"]
        )
        allowed = ", ".join(sorted(_ALLOWED_KEYS))
        raise ParameterError(
            f"{path}: unexpected top-level keys [{', '.join(extra)}]; allowed: {allowed}"
        )
    common = raw.get("common", {})
    notebooks = raw.get("notebooks", {})
    description = raw.get("description", "")
    skip = raw.get("skip", {})
    problems = []
    if not isinstance(skip, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in skip.items()
    ):
        problems.append("'skip' must map notebook names to the reason each is not run")
    if not isinstance(description, str):
        problems.append("'description' must be text")
    if not isinstance(common, dict):
        problems.append("'common' must map parameter names to values")
    if not isinstance(notebooks, dict):
        problems.append("'notebooks' must map notebook names to their parameters")
    else:
        problems += [
            f"'notebooks' → {show_value(k)} must map parameter names to values"
            for k, v in notebooks.items()
            if not isinstance(v, dict)
        ]
    for section, values in [
        ("common", common),
        *(notebooks.items() if isinstance(notebooks, dict) else []),
    ]:
        if isinstance(values, dict) and TABLES_PARAMETER in values:
            problems.append(
                f"{show_value(section)}: {TABLES_PARAMETER} is set by the runner (tables go to "
                "the report's tables/ folder); remove it"
            )
    if problems:
        raise ParameterError(f"{path}:\n" + "\n".join(f"  - {p}" for p in problems))
    return ParameterSet(name, description, common, notebooks, skip)


def declared_parameters(notebook: str | Path) -> dict[str, Any]:
    """Return the parameters a notebook declares in its ``parameters`` cell, with defaults.

    A notebook is read once per content: the answer is kept, keyed on the
    file's path, size and modification time, so a run that resolves, checks
    and validates parameters reads each notebook once.

    Parameters
    ----------
    notebook : str or Path

    Returns
    -------
    dict
        Parameter name → default value (a Python literal, evaluated); a fresh copy.

    Examples
    --------
    >>> declared_parameters("notebooks/01_cohort_description.ipynb")["data_dir"]
    'data/standin'
    """
    path = Path(notebook).absolute()
    try:
        stat = path.stat()
        key = (stat.st_size, stat.st_mtime_ns)
    except OSError:
        key = None
    return copy.deepcopy(_declared(str(path), key))


@functools.lru_cache(maxsize=64)
def _declared(path: str, key: tuple[int, int] | None) -> dict[str, Any]:
    """Read a notebook's declared parameters (cached on path, size and modification time)."""
    try:
        info = papermill.inspect_notebook(path)
        return {name: ast.literal_eval(p["default"]) for name, p in info.items()}
    except (OSError, ValueError, SyntaxError, nbformat.ValidationError) as exc:
        raise ParameterError(
            f"cannot read the parameters of {path}: {exc} (the parameters "
            "cell must assign Python literals, and the notebook must name its kernel)"
        ) from exc


def resolve_parameters(
    pset: ParameterSet,
    notebooks: Sequence[str | Path],
    injected: dict[str, Any] | None = None,
) -> dict[Path, dict[str, Any]]:
    """Work out what each notebook receives, refusing any parameter no notebook declares.

    Parameters
    ----------
    pset : ParameterSet
    notebooks : sequence of path
        The notebooks to run.
    injected : dict, optional
        Values the runner provides to every notebook that declares them;
        default ``{"parameter_set": pset.name}``.

    Returns
    -------
    dict
        Notebook path → parameters to inject (runner-provided ones included where declared).

    Raises
    ------
    ParameterError
        Listing every unknown notebook section, every parameter a notebook does
        not declare, and every common parameter no notebook declares.

    Examples
    --------
    >>> nb = discover_notebooks()[0]
    >>> resolve_parameters(ParameterSet("x", common={"data_dir": "d"}), [nb])[nb]
    {'parameter_set': 'x', 'data_dir': 'd'}
    """
    resolved, problems = _resolve(pset, notebooks, injected)
    if problems:
        raise ParameterError(_misfit(pset.name, problems))
    return resolved


def _misfit(name: str, problems: Sequence[str]) -> str:
    """Word the problems of a set's parameter names: one line each under one heading."""
    return f"parameter set {name!r} does not fit the notebooks:\n" + "\n".join(
        f"  - {p}" for p in problems
    )


def _resolve(
    pset: ParameterSet,
    notebooks: Sequence[str | Path],
    injected: dict[str, Any] | None = None,
) -> tuple[dict[Path, dict[str, Any]], list[str]]:
    """Resolve what :func:`resolve_parameters` resolves, returning the names' problems.

    A parameter a notebook does not declare is a problem and is left out of
    what that notebook receives, so the values of the others can be checked
    in the same pass (one message for a misspelt name and a wrong value).
    """
    paths = [Path(nb) for nb in notebooks]
    declared = {p: declared_parameters(p) for p in paths}
    by_stem = {p.stem: p for p in paths}
    problems: list[str] = []
    known_stems = {p.stem for p in discover_notebooks(paths[0].parent)} if paths else set()
    for stem in pset.notebooks:
        if stem not in known_stems and stem not in by_stem:
            problems.append(
                f"section {show_value(stem)} names no notebook "
                f"(known: {', '.join(sorted(known_stems))})"
            )
    # a set's common parameters serve all its notebooks: a partial run (--notebook) of one
    # that does not declare some of them is fine; a name no notebook declares is a mistake
    # (the others are read only when a name is not declared by a notebook being run)
    family = discover_notebooks(paths[0].parent) if paths else []
    for name in pset.common:
        if any(name in d for d in declared.values()):
            continue
        if not any(name in declared_parameters(p) for p in family if p not in declared):
            problems.append(
                f"common parameter {show_value(name)} is declared by no notebook "
                f"(in {paths[0].parent})"
            )
    resolved: dict[Path, dict[str, Any]] = {}
    for path in paths:
        provided = {SET_PARAMETER: pset.name} if injected is None else injected
        params: dict[str, Any] = {k: v for k, v in provided.items() if k in declared[path]}
        params.update({k: v for k, v in pset.common.items() if k in declared[path]})
        for name, value in pset.notebooks.get(path.stem, {}).items():
            if name not in declared[path]:
                allowed = ", ".join(declared[path]) or "none"
                problems.append(
                    f"{path.name}: unknown parameter {show_value(name)} (declared: {allowed})"
                )
                continue
            params[name] = value
        resolved[path] = params
    return resolved, problems


def _failure_from(exc: Exception, notebook: Path) -> NotebookExecutionError:
    if isinstance(exc, papermill.PapermillExecutionError):
        return NotebookExecutionError(
            notebook.name, exc.cell_index, exc.exec_count, f"{exc.ename}: {exc.evalue}"
        )
    name = type(exc).__name__
    if name == "DeadKernelError":
        text = "the kernel died while running the notebook (out of memory, or a crash in a cell)"
    elif name == "CellTimeoutError":
        text = f"a cell ran longer than the time limit and was stopped ({str(exc).strip()})"
    else:
        text = f"{name}: {str(exc).strip()}"
    return NotebookExecutionError(notebook.name, None, None, text[:2000])


#: Default limit on one cell's execution, in seconds (``--timeout``).
CELL_TIMEOUT = 600


class SavingAtEnds(papermill.engines.NotebookExecutionManager):
    """papermill's execution manager, writing the notebook when it starts and when it ends.

    papermill writes the whole notebook, images and all, before and after every cell
    (about 60 writes for one of these notebooks), and the kernel waits for each. This
    manager writes it when execution starts and when it ends: after the last cell, or when
    a cell failed or ran too long or the kernel died (papermill's engine ends each of these
    with ``notebook_complete``); between cells, only when the last write is
    ``autosave_cell_every`` seconds old (papermill's own interval for long cells, 30 s), so
    a long notebook can still be watched as it runs. The notebook written is the same. A
    worker ended by a signal (``os._exit``, no ``finally``) leaves the notebook as it was
    last written, in a staging folder the runner discards in every such case.

    Examples
    --------
    >>> import nbformat, tempfile
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    >>> nb.metadata["papermill"] = {}  # as papermill.execute_notebook prepares it
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = Path(folder) / "out.ipynb"
    ...     manager = SavingAtEnds(nb, output_path=str(out), progress_bar=False)
    ...     manager.notebook_start()
    ...     started = out.stat().st_mtime_ns
    ...     manager.cell_start(nb.cells[0], 0)
    ...     manager.cell_complete(nb.cells[0], 0)
    ...     unchanged = out.stat().st_mtime_ns == started
    ...     manager.notebook_complete()
    ...     status = nbformat.read(out, as_version=4).cells[0].metadata.papermill["status"]
    >>> unchanged, status
    (True, 'completed')
    """

    def save(self, **kwargs: Any) -> None:
        """Between cells: write the notebook only if the last write is old."""
        if (self.now() - self.last_save_time).total_seconds() >= self.autosave_cell_every:
            super().save(**kwargs)

    def notebook_start(self, **kwargs: Any) -> None:
        """Start, and write the notebook as it starts."""
        super().notebook_start(**kwargs)
        super().save()

    def notebook_complete(self, **kwargs: Any) -> None:
        """End, and write the notebook as it ended."""
        super().notebook_complete(**kwargs)
        super().save()


class SavingAtEndsEngine(papermill.engines.NBClientEngine):
    """papermill's nbclient engine with :class:`SavingAtEnds` as its execution manager.

    :meth:`execute_notebook` is papermill's ``Engine.execute_notebook`` with the manager
    replaced; papermill offers no other way to choose it.
    """

    @classmethod
    def execute_notebook(
        cls,
        nb: nbformat.NotebookNode,
        kernel_name: str,
        output_path: str | None = None,
        progress_bar: bool = True,
        log_output: bool = False,
        autosave_cell_every: int = 30,
        **kwargs: Any,
    ) -> nbformat.NotebookNode:
        """Execute ``nb``, writing it to ``output_path`` as :class:`SavingAtEnds` says."""
        nb_man = SavingAtEnds(
            nb,
            output_path=output_path,
            progress_bar=progress_bar,
            log_output=log_output,
            autosave_cell_every=autosave_cell_every,
        )
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb


#: The papermill engine the runner executes notebooks with (registered on import).
ENGINE = "amsct-saving-at-ends"
papermill.engines.papermill_engines.register(ENGINE, SavingAtEndsEngine)


def execute_notebook(
    notebook: str | Path,
    output: str | Path,
    parameters: dict[str, Any],
    cwd: str | Path | None = None,
    timeout: float = CELL_TIMEOUT,
) -> NotebookResult:
    """Execute one notebook with papermill, without raising.

    Parameters
    ----------
    notebook : str or Path
        The source notebook.
    output : str or Path
        Where the executed notebook is written (also when it fails).
    parameters : dict
        Parameters to inject; an empty dict injects none.
    cwd : str or Path, optional
        Working directory of the kernel; default, the notebook's folder (as in
        JupyterLab). Data paths do not depend on it: helpers resolve them
        against the project root.
    timeout : float, default :data:`CELL_TIMEOUT`
        Seconds one cell may run before the notebook fails.

    Returns
    -------
    NotebookResult
        With ``error`` set if the notebook failed.
    """
    notebook, output = Path(notebook), Path(output)
    start = time.perf_counter()
    error = None
    # Local IPC sockets (the kernel never listens on a network port), in a folder of this
    # execution's own: kernels started side by side would otherwise share socket paths.
    with tempfile.TemporaryDirectory(prefix="amsct-kernel-") as sockets:
        _SOCKETS[:] = [sockets]
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(Path(sockets) / "kernel")
        # forked from the run's zygote when the runner started one (helpers.kernels)
        config.NotebookClient.kernel_manager_class = kernels.WarmKernelManager
        # Every output has arrived when the last cell ends: the kernel is then ended at
        # once. A graceful shutdown can stall 2.5 s (ipykernel's control thread may flush
        # to an IOPub thread that has already stopped; jupyter_client then waits half its
        # shutdown_wait_time before SIGTERM).
        config.NotebookClient.shutdown_kernel = "immediate"
        try:
            papermill.execute_notebook(
                str(notebook),
                str(output),
                parameters=parameters,
                engine_name=ENGINE,
                cwd=str(cwd if cwd is not None else notebook.parent),
                progress_bar=False,
                log_output=False,
                config=config,
                execution_timeout=timeout,
            )
        except Exception as exc:  # reported as a structured result, never lost
            error = _failure_from(exc, notebook)
    return NotebookResult(notebook.name, output, time.perf_counter() - start, error)


#: The kernel-socket folder of the notebook a worker is executing (for its SIGTERM handler).
_SOCKETS: list[str] = []


def _worker_context() -> multiprocessing.context.BaseContext:
    """Where the workers come from: a fork server that has imported the runner's imports.

    Each worker is forked from it, so a run imports papermill and the rest once,
    not once per worker, and a process that runs several sets (a test session)
    starts the server once. Being a new process, the server holds none of the
    caller's threads or locks. Workers take the caller's working folder (as
    spawned ones would) and, from :func:`_worker_init`, the run's environment.
    The modules the server preloaded were imported with the environment of the
    first run in the process; the workers read no setting from them (the
    kernels, which do, get the run's environment). The server imports the
    modules this one imports, not this one: under ``python -m helpers.run`` each
    worker runs this module as its main, as a spawned worker would. Where there
    is no fork server (not POSIX) or no pidfd (Linux before 5.3, some seccomp
    profiles), by which a worker ends with the runner, each worker is spawned.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods() or not _pidfd_works():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    imported = {v.__name__ for v in globals().values() if isinstance(v, types.ModuleType)}
    context.set_forkserver_preload(sorted(imported))
    return context


def _pidfd_works() -> bool:
    """Whether this system gives pidfds, by which a forked worker watches the runner."""
    try:
        os.close(os.pidfd_open(os.getpid()))
    except (AttributeError, OSError):
        return False
    return True


def _worker_init(
    log: str | None,
    zygote: str | None = None,
    environ: Mapping[str, str] | None = None,
    runner: int | None = None,
) -> None:
    """Prepare a worker: kernel output to the run's log, SIGTERM ends it and its kernel.

    Kernels inherit the worker's standard output and error; sending them to
    the log keeps kernel chatter (and a kernel's traceback when a run is
    stopped) off the user's terminal. Ctrl-C reaches the runner only.
    ``environ`` is the runner's environment when the run started (a worker
    forked from the fork server would otherwise have the server's), and
    ``runner`` its process id (see :func:`_die_with_runner`).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end_worker)
    _die_with_runner(runner)
    if environ is not None:
        os.environ.clear()
        os.environ.update(environ)
    if zygote is not None:
        os.environ[kernels.ZYGOTE_ENV] = zygote
    else:  # cold kernels, whatever zygote the runner's caller named
        os.environ.pop(kernels.ZYGOTE_ENV, None)
    if log is not None:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)


def _die_with_runner(runner: int | None) -> None:
    """End this worker (and its kernel) when the runner ends, even by SIGKILL.

    Without it, a runner killed outright leaves its workers (and their kernels)
    running to the end of their notebooks. A worker's parent is the fork server
    (:func:`_worker_context`), which itself stays up while any worker lives, so
    a parent-death signal would never come: a thread waits on a Linux pidfd of
    the runner instead. Without pidfds the workers are spawned
    (:func:`_worker_context`), so the runner is their parent, and each asks for
    a signal when it dies (:func:`helpers.kernels.die_with_parent`).
    """
    try:
        watch = os.pidfd_open(runner) if runner is not None else None
    except ProcessLookupError:  # the runner died before the worker started
        _end_worker(signal.SIGTERM, None)
    except (AttributeError, OSError):  # no pidfd_open here (not Linux 5.3 or later)
        watch = None
    if watch is None:
        if kernels.die_with_parent(signal.SIGTERM):  # the parent died before the request
            _end_worker(signal.SIGTERM, None)
        return

    def wait() -> None:
        select.select([watch], [], [])  # readable once the runner has ended
        _end_worker(signal.SIGTERM, None)

    threading.Thread(target=wait, name="runner-watch", daemon=True).start()


def _end_worker(signum: int, frame: object) -> None:
    """Kill this worker's kernels, remove its socket folder and exit at once."""
    kernels.kill_forked_kernels()  # the zygote's children, not this worker's
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.kill()
    for folder in _SOCKETS:
        shutil.rmtree(folder, ignore_errors=True)
    os._exit(128 + signum)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop a pool's workers now (each shuts its kernel down), and wait a moment for them."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(ProcessLookupError, ValueError):
            process.terminate()
    deadline = time.monotonic() + 5
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()


def longest_first(notebooks: Sequence[Path]) -> list[Path]:
    """Order notebooks for the workers, the one expected to take longest first.

    Handing out the longest jobs first (Graham's LPT rule, 1969) keeps a long
    notebook from starting last on a worker while the others sit idle; with the
    compendium's five notebooks on two workers, it shortens a run by about a
    tenth. The expected length of a notebook is the size of its file with the
    stored outputs: the figures and tables it shows are most of its work (the
    sizes of the five stored notebooks order them as their run times do). Ties
    keep the name order. Only the order of execution depends on it, never an
    output.

    Parameters
    ----------
    notebooks : sequence of Path

    Returns
    -------
    list of Path

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name, size in [("01_a.ipynb", 10), ("02_b.ipynb", 30), ("03_c.ipynb", 20)]:
    ...     _ = (folder / name).write_text("x" * size)
    >>> [p.name for p in longest_first(sorted(folder.iterdir()))]
    ['02_b.ipynb', '03_c.ipynb', '01_a.ipynb']
    """
    return sorted(notebooks, key=lambda nb: (-nb.stat().st_size, nb.name))


def _execute_all(
    jobs: dict[Path, tuple[Path, dict[str, Any]]],
    workers: int,
    progress: bool,
    log: Path | None = None,
    timeout: float = CELL_TIMEOUT,
    zygote: str | None = None,
    finish: Callable[[NotebookResult], None] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    draining: Callable[[], object] | None = None,
) -> list[NotebookResult]:
    """Execute notebooks in worker processes; ``finish`` is called here as each one ends.

    ``zygote`` is the socket of the run's zygote (:mod:`helpers.kernels`), which the
    workers' kernels are forked from; None starts each kernel as a new process.
    ``environ`` is the workers' (and so the kernels') environment; default, this
    process's now. ``draining`` is called once, as soon as fewer notebooks are left
    to finish than there are workers (at once when there are fewer notebooks).
    """
    results: list[NotebookResult] = []
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_worker_context(),
        initializer=_worker_init,
        initargs=(
            None if log is None else str(log),
            zygote,
            dict(os.environ if environ is None else environ),
            os.getpid(),
        ),
    )
    try:
        bar = tqdm(total=len(jobs), desc="notebooks", unit="nb", disable=not progress)
        ordered = {nb: jobs[nb] for nb in longest_first(list(jobs))}  # handed out in this order
        futures = {
            pool.submit(execute_notebook, nb, out, params, out.parent, timeout): nb
            for nb, (out, params) in ordered.items()
        }
        if draining is not None and len(jobs) < workers:
            draining()
        for future in as_completed(futures):
            result = future.result()
            status = "failed" if result.error else "done"
            message = f"{result.notebook} {status} in {result.seconds:.1f} s"
            if progress:
                bar.write(message)
            else:
                logger.info(message)
            bar.update()
            results.append(result)
            if draining is not None and len(jobs) - len(results) == workers - 1:
                draining()  # a worker has nothing left to run
            if finish is not None:
                finish(result)
        bar.close()
    except BaseException:
        _stop_workers(pool)
        raise
    pool.shutdown(wait=True)
    return sorted(results, key=lambda r: r.notebook)


def combine_failures(errors: Sequence[NotebookExecutionError], kept_in: Path) -> HelpersError:
    """Merge several notebooks' failures into one error, saying each distinct cause once.

    Parameters
    ----------
    errors : sequence of NotebookExecutionError
    kept_in : Path
        Where the failed notebooks are kept.

    Returns
    -------
    HelpersError

    Examples
    --------
    >>> e = [NotebookExecutionError(f"0{i}_x.ipynb", 5, 3, "ValueError: bad") for i in (1, 2)]
    >>> print(combine_failures(e, Path("reports/default.failed")))
    2 notebooks failed: 01_x.ipynb (cell 5), 02_x.ipynb (cell 5)
    ValueError: bad
    The failed notebooks are kept in reports/default.failed
    """
    causes: dict[str, list[str]] = {}
    for e in errors:
        causes.setdefault(e.error, []).append(f"{e.notebook} (cell {e.cell})")
    parts = [
        f"{len(where)} notebook{'s' if len(where) > 1 else ''} failed: {', '.join(where)}\n{cause}"
        for cause, where in causes.items()
    ]
    return HelpersError("\n\n".join(parts) + f"\nThe failed notebooks are kept in {kept_in}")


def _point_at_final(executed: Path, staging: Path, final: Path) -> None:
    """Make the executed notebook name the published report folder, not the staging one.

    The notebooks wrote their tables into the staging folder, which becomes
    ``final``; the parameters injected into the notebook say so.
    """
    nb = nbformat.read(executed, as_version=4)
    shown = _shown_path(final)
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = cell.source.replace(str(staging), shown)
    params = nb.metadata.get("papermill", {}).get("parameters", {})
    if isinstance(params.get(TABLES_PARAMETER), str):
        params[TABLES_PARAMETER] = params[TABLES_PARAMETER].replace(str(staging), shown)
    nbformat.write(nb, executed)


def _shown_path(path: Path) -> str:
    """Show a path as a parameter would: relative to the project root when inside it."""
    try:
        return path.resolve().relative_to(PROJECT_ROOT.resolve()).as_posix()
    except ValueError:
        return str(path)


#: nbconvert's templates of the runner's HTML reports: ``amsct_report``, the classic one
#: without its second sanitising of highlighted code (see the template).
HTML_TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def _html_exporter() -> Any:
    """One exporter per process: its templates are compiled once, not once per notebook."""
    # The "classic" template writes the figures' alt text (output metadata); "lab" drops it.
    from nbconvert import HTMLExporter  # the parent renders; workers need not import it

    return HTMLExporter(template_name="amsct_report", extra_template_basedirs=[str(HTML_TEMPLATES)])


def _render_html(executed: Path) -> Path:
    html_path = executed.with_suffix(".html")
    body, _ = _html_exporter().from_notebook_node(nbformat.read(executed, as_version=4))
    html_path.write_text(body, encoding="utf-8")
    return html_path


def run(
    params: str = "default",
    notebooks: Sequence[str | Path] | None = None,
    *,
    reports_dir: str | Path = REPORTS_DIR,
    params_dir: str | Path = PARAMS_DIR,
    jobs: int | None = None,
    progress: bool = True,
    timeout: float = CELL_TIMEOUT,
    overrides: Mapping[str, Any] | None = None,
    force: bool = False,
    warm: bool = True,
    when_checked: Callable[[], object] | None = None,
    when_draining: Callable[[], object] | None = None,
) -> Path:
    """Execute notebooks for a parameter set and publish them as ``reports/<set>/``.

    A notebook whose key (:mod:`helpers.cache`: the notebook, its parameter
    values, the files they name, the helper sources it imports, the runner and
    the locked environment) is unchanged since the last good run, and whose
    outputs are intact, is reused rather than executed; the log says which
    were reused and why each other one runs.

    Parameters
    ----------
    params : str, default "default"
        The parameter set's name.
    notebooks : sequence of path, optional
        Notebooks to run; default, every numbered notebook in ``notebooks/``.
    reports_dir : str or Path, default ``reports/``
    params_dir : str or Path, default ``notebooks/params/``
    jobs : int, optional
        Parallel processes; default, one per notebook up to the number of CPUs.
    progress : bool, default True
        Show a progress bar.
    timeout : float, default :data:`CELL_TIMEOUT`
        Seconds one cell may run before its notebook fails.
    overrides : mapping, optional
        Values that replace the set's: ``name`` for every notebook declaring it
        (like ``common``), ``notebook.name`` for one notebook (e.g.
        ``02_glycemic_outcomes.alpha``). They are checked like the set's own;
        each executed notebook shows the values it ran with in its injected cell,
        and the report goes to ``reports/<set>-custom/``, never over the set's own.
    force : bool, default False
        Execute every notebook, whatever the cache says.
    warm : bool, default True
        Fork every kernel from one process that has imported what the notebooks
        import (:mod:`helpers.kernels`): the zygote the caller names in
        ``AMSCT_KERNEL_ZYGOTE`` if any, else one started for this run. False
        starts each kernel as a new process.
    when_checked : callable, optional
        Called once the set, its values and the files they name are checked, before
        anything is written or any notebook runs (``--site`` starts the site's Sphinx
        build there: :func:`helpers.site.prestarted_build`).
    when_draining : callable, optional
        Called once, when fewer notebooks are left to finish than there are
        workers: from then on a CPU the run had used is idle (``--site`` has
        the waiting Sphinx build do its warm-up there:
        :meth:`helpers.site.PrestartedBuild.warm`).

    Returns
    -------
    Path
        The report folder, holding each executed notebook, its HTML, and the
        result tables the notebooks wrote in ``tables/``.

    Raises
    ------
    ParameterError
        Before anything runs, if the parameter set does not fit the notebooks
        or a value is not allowed (:mod:`helpers.params`).
    NotebookExecutionError
        If a notebook fails. The failed notebook is kept in
        ``reports/<set>.failed/`` and the previous ``reports/<set>/`` is untouched.
    HelpersError
        If another run of the set is in progress, or the report cannot be
        written (the last good report is then unchanged).
    """
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ParameterError(f"jobs must be a whole number of 1 or more, got {jobs!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ParameterError(f"timeout must be a number of seconds above 0, got {timeout!r}")
    # the kernels' environment: this run's as it starts, before an import here sets a variable
    # (pandera sets two), so that it is the environment the zygote starts with
    environ = dict(os.environ)
    with contextlib.ExitStack() as stack:
        zygote = None
        if warm:  # started first: it imports while the set, the data and the cache are checked
            candidates = [Path(n) for n in notebooks] if notebooks else discover_notebooks()
            modules = kernels.notebook_imports(candidates)
            zygote = stack.enter_context(kernels.given_or_new_zygote(modules))
        return _run(
            params, notebooks, reports_dir, params_dir, jobs, progress, timeout, overrides,
            force=force, zygote=zygote, environ=environ, when_checked=when_checked,
            when_draining=when_draining,
        )  # fmt: skip


def _run(
    params: str,
    notebooks: Sequence[str | Path] | None,
    reports_dir: str | Path,
    params_dir: str | Path,
    jobs: int | None,
    progress: bool,
    timeout: float,
    overrides: Mapping[str, Any] | None,
    *,
    force: bool,
    zygote: str | None,
    environ: Mapping[str, str] | None = None,
    when_checked: Callable[[], object] | None = None,
    when_draining: Callable[[], object] | None = None,
) -> Path:
    given = load_parameter_set(params, params_dir)
    pset = apply_overrides(given, overrides or {})
    if overrides:  # a changed set never overwrites the set's own report
        pset = dataclasses.replace(pset, name=f"{given.name}-custom")
    selected = [Path(n) for n in notebooks] if notebooks else discover_notebooks()
    unknown = sorted(set(pset.skip) - {p.stem for p in discover_notebooks()})
    if unknown:
        raise ParameterError(
            f"parameter set {pset.name!r} skips unknown "
            f"{'notebook' if len(unknown) == 1 else 'notebooks'} {unknown}"
        )
    for nb in [p for p in selected if p.stem in pset.skip]:
        logger.info("skipped %s: %s", nb.stem, pset.skip[nb.stem])
    selected = [p for p in selected if p.stem not in pset.skip]
    if not selected:
        raise ParameterError("no notebooks to run")
    # the staging folder's tables/ is put in when the run starts (see _run_locked)
    injected = {SET_PARAMETER: pset.name, TABLES_PARAMETER: TABLES_DIR}
    # named as the user named it; the injected name says where the report goes. A name no
    # notebook declares and a value no rule allows are reported together, in one message
    named = dataclasses.replace(pset, name=given.name)
    resolved, misnamed = _resolve(named, selected, injected)
    from helpers.study import StudyDefinitionError, load_study

    if misnamed:
        text = _misfit(named.name, misnamed)
        try:
            wrong = _value_problems(given, resolved, params_dir, overrides or {})
        except StudyDefinitionError:
            wrong = ""  # reported as itself once the names are right
        if wrong:
            text += "\n" + wrong
        if overrides:
            text += f"\n(given on the command line: {_given(overrides)})"
        raise ParameterError(text)
    for study_file in _inputs(resolved, "study_file"):
        load_study(study_file)  # a wrong study definition is reported once, as itself
    if wrong := _value_problems(given, resolved, params_dir, overrides or {}):
        raise ParameterError(wrong)
    reports = Path(reports_dir).absolute()
    _check_inputs(resolved, reports / cache.CHECKED)
    # the kernels read the cohorts checked here rather than check them again (load_cohort)
    environ = {**(os.environ if environ is None else environ),
               cache.CHECKED_ENV: str(reports / cache.CHECKED)}  # fmt: skip
    if reports.exists() and not reports.is_dir():
        raise HelpersError(f"the reports folder {reports} is a file; name a folder")
    if when_checked is not None:
        when_checked()
    final, failed_dir = reports / pset.name, reports / f"{pset.name}.failed"
    try:
        reports.mkdir(parents=True, exist_ok=True)
        with _set_lock(reports, pset.name):
            _recover(reports, pset.name)
            set_file = Path(params_dir) / f"{given.name}.yaml"
            to_run, record = _plan(resolved, final, force=force, set_file=set_file)
            if to_run:
                _run_locked(
                    to_run, final, failed_dir, jobs, progress, timeout,
                    record=record, zygote=zygote, environ=environ, when_draining=when_draining,
                )  # fmt: skip
            else:
                cache.write_manifest(final, record(final))
                logger.info("nothing to run: every notebook of %s is up to date", pset.name)
    except OSError as exc:
        raise HelpersError(
            f"cannot write the report for parameter set {pset.name!r} in {reports}: "
            f"{exc.strerror or exc} ({exc.filename or reports}); the last good report is "
            "unchanged"
        ) from exc
    logger.info("report %s %s", "written to" if to_run else "kept in", final)
    return final


def _plan(
    resolved: dict[Path, dict[str, Any]], final: Path, *, force: bool, set_file: Path
) -> tuple[dict[Path, dict[str, Any]], Callable[[Path], dict[str, Any]]]:
    """Decide which notebooks to execute, and how to record the run (see :mod:`helpers.cache`).

    Returns the notebooks to execute and a function that builds the manifest
    of a report folder: this run's notebooks keyed anew, the others (carried
    over from the last good report) as they were recorded.
    """
    previous = cache.read_manifest(final) if final.is_dir() else {}
    entries = dict(previous.get("notebooks", {}))
    keyed = {}
    to_run: dict[Path, dict[str, Any]] = {}
    memo: dict[str, str] = {}
    for nb, values in resolved.items():
        # files named by the notebook's own defaults are inputs too
        inputs = cache.notebook_inputs(nb, {**declared_parameters(nb), **values}, memo=memo)
        key = cache.notebook_key(values, inputs)
        keyed[nb] = (key, values, inputs)
        why = (
            ["forced (--force)"]
            if force
            else cache.reasons(
                entries.get(nb.stem),
                key=key,
                values=values,
                inputs=inputs,
                report=final,
                stem=nb.stem,
            )
        )
        if why:
            to_run[nb] = values
            logger.info("running %s: %s", nb.stem, "; ".join(why))
        else:
            logger.info("reused %s: nothing it depends on changed", nb.stem)

    folder = next(iter(resolved)).parent.absolute() if resolved else NOTEBOOK_DIR

    def record(report: Path) -> dict[str, Any]:
        notebooks = {
            stem: item for stem, item in entries.items() if (report / f"{stem}.ipynb").is_file()
        }
        for nb, (key, values, inputs) in keyed.items():
            notebooks[nb.stem] = cache.entry(key, values, inputs, report, nb.stem)
        return {
            "version": 1,
            "set_file": cache.digest(set_file),
            "notebook_dir": str(folder),
            "listing": sorted(p.stem for p in discover_notebooks(folder)),
            "notebooks": notebooks,
        }

    return to_run, record


def _value_problems(
    pset: ParameterSet,
    resolved: dict[Path, dict[str, Any]],
    params_dir: str | Path,
    overrides: Mapping[str, Any],
) -> str:
    """Check every notebook's parameter values; one message for the whole set ("" if none).

    A problem several notebooks share (a common parameter) is one line naming
    them; the heading names the set's file and any value given on the command
    line, where a wrong value may come from. A command-line value that no
    notebook of the run takes (``--notebook 01 -p alpha=1.5``) is still checked
    against its rule: a wrong value is refused, used or not.
    """
    from helpers.params import parameter_problems, rule_problems  # the stack: parent only

    found: dict[str, list[str]] = {}
    for path, values in resolved.items():
        for problem in parameter_problems({**declared_parameters(path), **values}):
            found.setdefault(problem, []).append(path.stem)
    for key, value in overrides.items():
        stem, _, name = key.rpartition(".")
        if any((not stem or p.stem == stem) and name in resolved[p] for p in resolved):
            continue  # checked above, with the notebooks that take it
        for problem in rule_problems({name: value}).values():
            found.setdefault(problem, []).append("-p, taken by no notebook of this run")
    if not found:
        return ""
    where = (Path(params_dir) / f"{pset.name}.yaml").absolute()
    head = f"parameter set {pset.name!r} ({where})" + (
        f" with {_given(overrides)} from the command line" if overrides else ""
    )
    count = f"{len(found)} parameter value{'s are' if len(found) > 1 else ' is'} not allowed"
    lines = [f"  - {problem} (in {', '.join(stems)})" for problem, stems in found.items()]
    return f"{head}:\n{count}:\n" + "\n".join(lines)


def _given(overrides: Mapping[str, Any]) -> str:
    """Show the command line's values, as messages show values: ``-p alpha=0.1 -p …``.

    An empty value (``-p alpha=``) is YAML's null, which the notebook receives as
    None: it is shown empty, as it was typed, and the message says what it became.

    Examples
    --------
    >>> _given({"alpha": 0.1, "02_glycemic_outcomes.seed": None})
    '-p alpha=0.1 -p 02_glycemic_outcomes.seed= (an empty value, or null, is None)'
    """
    shown = " ".join(f"-p {k}={'' if v is None else show_value(v)}" for k, v in overrides.items())
    if any(v is None for v in overrides.values()):
        shown += " (an empty value, or null, is None)"
    return shown


def _inputs(resolved: dict[Path, dict[str, Any]], name: str) -> list[Any]:
    """List the distinct values a parameter takes across the notebooks of a run."""
    values = []
    for path, given in resolved.items():
        value = given.get(name, declared_parameters(path).get(name))
        if value is not None and value not in values:
            values.append(value)
    return values


def _check_inputs(resolved: dict[Path, dict[str, Any]], record: Path | None = None) -> None:
    """Validate every data folder and reported-figures table the notebooks will read, once.

    Bad input stops the run here, with one message, before any kernel starts.
    Inputs that passed, with the same contents and the same checking code
    (:func:`cache.checked_key`), are not checked again: a file named by that key
    in ``record`` says they passed. Each cohort checked here is stored in
    ``record`` too, and the run's kernels read it from there (the folder is
    named in :data:`cache.CHECKED_ENV`) rather than validate the same bytes
    again: :func:`helpers.data.load_cohort` keys it on the files as they are
    when the notebook reads them, so changed files are validated afresh, and
    bad data are never stored. Reading and checking two million measurements
    takes seconds, which neither a run that changes one parameter, or nothing,
    nor each of its notebooks need spend.
    """
    from helpers.data import (
        checked_cohort_file,
        load_cohort,
        require_full_validation,
        store_checked_cohort,
    )
    from helpers.reported import load_reported
    from helpers.study import load_study

    require_full_validation()  # before the record, which would skip the checks below

    inputs = set()
    for path, values in resolved.items():
        declared = declared_parameters(path)
        inputs.add(
            tuple(
                values.get(name, declared.get(name))
                for name in ("study_file", "data_dir", "reported_path")
            )
        )
    for study_file, data_dir, reported_path in sorted(inputs, key=str):
        if study_file is None:
            continue
        named = [n for n in (study_file, data_dir, reported_path) if n is not None]
        passed = stored = None
        if record is not None:  # keyed before the files are read
            passed = record / cache.checked_key(named)
            if data_dir is not None:
                stored = checked_cohort_file(study_file, data_dir, record)
            if passed.is_file() and (stored is None or stored.is_file()):
                logger.debug("inputs %s passed their checks before, unchanged", named)
                continue
        study = load_study(study_file)
        cohort = load_cohort(data_dir, study=study) if data_dir is not None else None
        if reported_path is not None:
            load_reported(reported_path, study=study)
        if passed is None or cache.checked_key(named) != passed.name:
            continue  # changed while checked: nothing recorded; the notebooks check what they read
        with contextlib.suppress(OSError):  # a record that cannot be written costs time only
            passed.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            passed.write_text("\n".join(named) + "\n", encoding="utf-8")
        if cohort is not None and stored is not None:  # for the kernels to read
            store_checked_cohort(cohort, study=study_file, file=stored)


@contextlib.contextmanager
def _set_lock(reports: Path, name: str) -> Iterator[None]:
    """Hold the set's lock file for the run; refuse at once if another run holds it.

    The lock is an ``flock`` on ``reports/.<set>.lock``, which the operating
    system releases when the process ends, however it ends.
    """
    path = reports / f".{name}.lock"
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise HelpersError(
                f"another run of parameter set {name!r} is writing {reports / name} "
                f"(process {holder}); wait for it to finish, or stop it, and run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _recover(reports: Path, name: str) -> None:
    """Undo what a killed run of this set left: restore its last good report, drop staging.

    Called under the set's lock, so no live run owns these folders.
    """
    final = reports / name
    for previous in sorted(reports.glob(f".{name}.previous-*")):
        if not final.exists():
            previous.rename(final)
            logger.info("restored the last good report %s (a run was interrupted)", final)
        else:
            shutil.rmtree(previous, ignore_errors=True)
    for staging in reports.glob(f".{name}.staging-*"):
        shutil.rmtree(staging, ignore_errors=True)


def _carry_over(previous: Path, staging: Path, ran: Sequence[str]) -> None:
    """Copy into the new report what the last good one holds and this run did not produce.

    A partial run (``--notebook``) re-executes some notebooks; the others'
    executed notebooks, HTML and tables stay as they were. Files belonging to
    a notebook that ran (``<stem>.*`` and ``tables/<NN>_*``) are not carried
    over, so a table a notebook no longer writes does not linger.
    """
    if not previous.is_dir():
        return
    prefixes = tuple(f"{stem.split('_', 1)[0]}_" for stem in ran)
    for source in sorted(previous.rglob("*")):
        relative = source.relative_to(previous)
        top = relative.parts[0]
        if len(relative.parts) == 1 and any(top.startswith(f"{stem}.") for stem in ran):
            continue
        if top == TABLES_DIR and len(relative.parts) > 1 and relative.name.startswith(prefixes):
            continue
        target = staging / relative
        if target.exists():
            continue
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def with_tables_in(values: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """Return a notebook's resolved values with its tables sent to ``folder`` (if declared).

    Examples
    --------
    >>> with_tables_in({"tables_dir": "tables", "alpha": 0.05}, Path("/r/tables"))["tables_dir"]
    '/r/tables'
    >>> with_tables_in({"alpha": 0.05}, Path("/r/tables"))
    {'alpha': 0.05}
    """
    return {**values, **({TABLES_PARAMETER: str(folder)} if TABLES_PARAMETER in values else {})}


def _run_locked(
    resolved: dict[Path, dict[str, Any]],
    final: Path,
    failed_dir: Path,
    jobs: int | None,
    progress: bool,
    timeout: float = CELL_TIMEOUT,
    *,
    record: Callable[[Path], dict[str, Any]] | None = None,
    zygote: str | None = None,
    environ: Mapping[str, str] | None = None,
    when_draining: Callable[[], object] | None = None,
) -> None:
    """Execute, then publish ``final`` by two renames (see :func:`_recover` for a crash).

    ``record`` builds the cache manifest, written into the new report before it
    is published (so a failed run leaves the last good record untouched).
    """
    reports = final.parent
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.staging-", dir=reports))
    count = f"{len(resolved)} notebook{'' if len(resolved) == 1 else 's'}"
    logger.info("parameter set %r: %s → %s", final.name, count, final)
    try:
        work = {
            nb: (staging / nb.name, with_tables_in(p, staging / TABLES_DIR))
            for nb, p in resolved.items()
        }
        workers = jobs or min(len(work), os.cpu_count() or 1)
        log = reports / f".{final.name}.kernels.log"
        log.write_text("", encoding="utf-8")

        def finish(result: NotebookResult) -> None:  # in this process, as each one ends
            if result.error is None:
                _point_at_final(result.output, staging, final)
                _render_html(result.output)

        results = _execute_all(
            work, workers, progress, log, timeout, zygote, finish,
            environ=environ, draining=when_draining,
        )  # fmt: skip
        errors = [r.error for r in results if r.error is not None]
        if errors:
            failed_dir.mkdir(exist_ok=True)
            for r in results:
                if r.error is not None and r.output.exists():
                    shutil.move(r.output, failed_dir / r.output.name)
                    r.error.kept_at = str(failed_dir / r.output.name)
            raise (errors[0] if len(errors) == 1 else combine_failures(errors, failed_dir))
        _carry_over(final, staging, [nb.stem for nb in resolved])
        if record is not None:
            cache.write_manifest(staging, record(staging))
        previous = reports / f".{final.name}.previous-{os.getpid()}"
        staging.chmod(0o755)  # mkdtemp makes it private; a report is for readers
        if final.exists():
            final.rename(previous)
        staging.rename(final)
        shutil.rmtree(previous, ignore_errors=True)
        for nb in resolved:  # a notebook that now succeeds is no longer a failure
            (failed_dir / nb.name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            failed_dir.rmdir()  # only when nothing failed is left in it
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def strip_volatile_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove timings and run records so a re-executed notebook is byte-stable.

    Parameters
    ----------
    nb : nbformat.NotebookNode

    Returns
    -------
    nbformat.NotebookNode
        The same notebook, modified in place.
    """
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    return nb


def refresh_in_place(
    notebooks: Sequence[str | Path] | None = None, *, warm: bool = True
) -> list[Path]:
    """Re-execute notebooks with their own default parameters and store the outputs in place.

    These stored outputs are what nbval checks. A notebook is only overwritten
    when it ran without error.

    Parameters
    ----------
    notebooks : sequence of path, optional
        Default: every numbered notebook.
    warm : bool, default True
        Fork the kernels from a zygote (:mod:`helpers.kernels`). nbval then checks
        these outputs in a new kernel for notebook 03 and in kernels forked from the
        test session's zygote for the others (``tests/session_zygote.py``), so every
        ``make test`` compares a cold kernel's outputs with warm ones on a real notebook.

    Returns
    -------
    list of Path
        The notebooks refreshed.

    Raises
    ------
    NotebookExecutionError
        If a notebook fails; it is left as it was.
    """
    selected = [Path(n) for n in notebooks] if notebooks else discover_notebooks()
    done = []
    with contextlib.ExitStack() as stack:
        if warm:
            stack.enter_context(kernels.warm_kernels(kernels.notebook_imports(selected)))
        else:  # new kernels, whatever zygote the caller named
            stack.enter_context(kernels.named_zygote(None))
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        for nb in selected:
            result = execute_notebook(nb, Path(tmp) / nb.name, {})
            if result.error is not None:
                raise result.error
            executed = strip_volatile_metadata(nbformat.read(result.output, as_version=4))
            nbformat.write(executed, nb)
            logger.info("refreshed %s in %.1f s", nb.name, result.seconds)
            done.append(nb)
    return done


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; exit status 1 with one message on any failure."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--params",
        default="default",
        help="parameter set: a name in notebooks/params/, or a path to a .yaml file "
        "(default: %(default)s)",
    )
    parser.add_argument("--notebook", action="append", help="run only this notebook (repeatable)")
    parser.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="replace a parameter of the set (YAML value; NOTEBOOK.NAME for one notebook; "
        "repeatable), checked like the set's own",
    )
    parser.add_argument("--jobs", type=int, help="parallel processes")
    parser.add_argument(
        "--timeout",
        type=float,
        default=CELL_TIMEOUT,
        help="seconds one cell may run (default: %(default)s)",
    )
    parser.add_argument("--reports", default=str(REPORTS_DIR), help="reports folder")
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (there is none either when the output is not a terminal: a log)",
    )
    parser.add_argument(
        "--refresh-in-place", action="store_true", help="re-execute the stored notebooks in place"
    )
    parser.add_argument(
        "--force", action="store_true", help="execute every notebook even if nothing changed"
    )
    parser.add_argument(
        "--site",
        action="store_true",
        help="then build the report's readers' edition in this process, as python -m "
        "helpers.site would (make reproduce: one start of Python and its stack, not two)",
    )
    parser.add_argument(
        "--cold-kernels",
        action="store_true",
        help="start each kernel as a new process, not forked from a warm one",
    )
    args = parser.parse_args(argv)
    if args.site and args.refresh_in_place:
        parser.error("--site builds the site of a report; --refresh-in-place writes no report")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        check_checkout()
    except HelpersError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("papermill").setLevel(logging.WARNING)
    chosen = [_notebook_path(n) for n in args.notebook] if args.notebook else None
    with contextlib.ExitStack() as stack:
        prestarted: list[Any] = []

        def start_site() -> None:  # once the run is checked, before any notebook runs
            from helpers import site

            # Sphinx starts now, at a lower priority, and builds once the report is written
            prestarted.append(stack.enter_context(site.prestarted_build(args.reports)))

        def warm_site() -> None:  # a CPU is idle from now on: the build's warm-up takes it
            for build in prestarted:
                build.warm()

        try:
            if args.refresh_in_place:
                refresh_in_place(chosen, warm=not args.cold_kernels)
            else:
                name, params_dir = _set_location(args.params)
                overrides = dict(parse_override(p) for p in args.parameter)
                report = run(
                    name,
                    chosen,
                    reports_dir=args.reports,
                    params_dir=params_dir,
                    jobs=args.jobs,
                    progress=not args.no_progress and sys.stderr.isatty(),
                    timeout=args.timeout,
                    overrides=overrides,
                    force=args.force,
                    warm=not args.cold_kernels,
                    when_checked=start_site if args.site else None,
                    when_draining=warm_site if args.site else None,
                )
        except HelpersError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            # the report is published by renames once every notebook has run; an interruption
            # after that (while the kernels are stopped) leaves the new report, whole
            print(
                "error: interrupted; the last good report is unchanged, or replaced whole "
                "if the run had finished",
                file=sys.stderr,
            )
            return 130
        if args.site:  # never with --refresh-in-place (refused above)
            from helpers import site

            try:
                force = ["--force"] if args.force else []
                return site.main([str(report), *force], prestarted=next(iter(prestarted), None))
            except KeyboardInterrupt:
                print("error: interrupted; the last good site is unchanged", file=sys.stderr)
                return 130
    return 0


def parse_override(text: str) -> tuple[str, Any]:
    """Read one ``-p NAME=VALUE`` of the command line; the value is YAML, as in a parameter set.

    Parameters
    ----------
    text : str

    Returns
    -------
    (name, value)

    Raises
    ------
    ParameterError
        Without ``=``, with an empty name, or with a value that is not valid YAML.

    Examples
    --------
    >>> parse_override("alpha=0.1"), parse_override("02_glycemic_outcomes.visits=[0, 1]")
    (('alpha', 0.1), ('02_glycemic_outcomes.visits', [0, 1]))
    """
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ParameterError(f"-p {show_value(text)}: write NAME=VALUE, e.g. -p alpha=0.1")
    try:
        return name, yaml.load(value, Loader=UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ParameterError(f"-p {show_value(text)}: the value is not valid YAML: {exc}") from None


def apply_overrides(pset: ParameterSet, overrides: Mapping[str, Any]) -> ParameterSet:
    """Return the parameter set with command-line values in place of its own.

    Parameters
    ----------
    pset : ParameterSet
    overrides : mapping
        ``name`` → value for every notebook declaring it; ``notebook.name`` →
        value for one notebook (its file name without ``.ipynb``).

    Returns
    -------
    ParameterSet

    Raises
    ------
    ParameterError
        For a name the runner sets itself (``tables_dir``, ``parameter_set``).

    Examples
    --------
    >>> s = apply_overrides(ParameterSet("x"), {"alpha": 0.1, "04_reproduction_audit.test": "t"})
    >>> s.common, s.notebooks
    ({'alpha': 0.1}, {'04_reproduction_audit': {'test': 't'}})
    """
    common = dict(pset.common)
    notebooks = {k: dict(v) for k, v in pset.notebooks.items()}
    for key, value in overrides.items():
        notebook, _, name = key.rpartition(".")
        if name in (TABLES_PARAMETER, SET_PARAMETER):
            raise ParameterError(f"-p {name}: set by the runner, not on the command line")
        if notebook:
            notebooks.setdefault(notebook, {})[name] = value
        else:
            common[name] = value
            for values in notebooks.values():  # the command line wins over the set's sections
                values.pop(name, None)
    return dataclasses.replace(pset, common=common, notebooks=notebooks)


def _set_location(given: str) -> tuple[str, Path]:
    """Read ``--params``: a set's name, or the path of a YAML file (read, never written).

    A file's set name is its file name without ``.yaml``, and it must be a name
    too: the report goes to ``reports/<name>/``.
    """
    if given.endswith((".yaml", ".yml")):
        path = Path(given).expanduser().absolute()
        if path.is_dir():
            raise ParameterError(f"{path} is a folder; a parameter set is a YAML file")
        if not path.is_file():
            raise ParameterError(f"parameter-set file {path} not found")
        if path.suffix == ".yml":
            raise ParameterError(f"{path}: name parameter-set files <name>.yaml")
        return path.stem, path.parent
    return given, PARAMS_DIR


def _notebook_path(name: str) -> Path:
    path = Path(name)
    if path.suffix != ".ipynb":
        path = NOTEBOOK_DIR / f"{name}.ipynb"
    if not path.is_file():
        known = ", ".join(p.stem for p in discover_notebooks())
        raise SystemExit(f"error: no notebook {name!r}; known: {known}")
    return path


if __name__ == "__main__":
    raise SystemExit(main())
