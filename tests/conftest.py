"""Shared fixtures: copies of the stand-in data to break on purpose."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import settings

from helpers.paths import PROJECT_ROOT

T = TypeVar("T")

# Property tests explore new examples when run by hand, and run a fixed, derived set in
# CI (CI=true), so that CI's verdict never depends on chance.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", print_blob=True)
PROFILE = "ci" if os.environ.get("CI") else "explore"
settings.load_profile(PROFILE)


def quick_properties(environ: Mapping[str, str]) -> bool:
    """Whether property tests run a quarter of their examples: in the edit loop only.

    `make check` sets QUICK_PROPERTIES=1; `make test` clears it, and in CI (CI set) it is
    ignored, so a value left in a shell or a CI service's settings cannot thin them there.
    """
    return environ.get("QUICK_PROPERTIES") == "1" and not environ.get("CI")


QUICK_PROPERTIES = quick_properties(os.environ)
if QUICK_PROPERTIES:
    settings.register_profile("quick", settings.get_profile(PROFILE), max_examples=25)
    settings.load_profile("quick")


def examples(n: int) -> int:
    """A property test's number of examples: ``n``, or a quarter of it (at least 10, at most
    ``n``) in the edit loop."""
    return min(n, max(10, n // 4)) if QUICK_PROPERTIES else n


def cases(grid: Sequence[T]) -> list[T]:
    """An exhaustive grid of parametrized cases: all of them, or every fourth (at least 10, in
    order) in the edit loop, as :func:`examples` thins a property test.

    >>> len(cases(range(40))) == (10 if QUICK_PROPERTIES else 40)
    True
    """
    grid = list(grid)
    return grid[:: max(1, min(4, len(grid) // 10))] if QUICK_PROPERTIES else grid


STANDIN = PROJECT_ROOT / "data" / "standin"
REPORTED = PROJECT_ROOT / "data" / "reported" / "abstract_figures.csv"
ABSTRACT = PROJECT_ROOT / "data" / "reported" / "abstract.md"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the stand-in data, without its provenance (so: treated as real).

    The stand-in's provenance.json records the checksums of the files it labels; a
    test that edits the files would otherwise also (rightly) be told the label no
    longer fits them.
    """
    target = tmp_path / "data"
    shutil.copytree(STANDIN, target)
    (target / "provenance.json").unlink()
    return target


def rewrite(path: Path, old: str, new: str) -> None:
    """Replace one exact piece of a text file (fails loudly if it is not there)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


#: Test files by running time on the development machine, longest first (test_site after
#: test_run and others: both wait for the shared default run). ``make test`` hands whole files
#: to the pytest-xdist workers in this order (``--dist loadfile --no-loadscope-reorder``), so
#: that no long file starts last and leaves one worker running alone at the end.
LONGEST_FIRST = (
    "tests/test_run.py",
    "tests/test_run_end_to_end.py",
    "tests/test_cache.py",
    "tests/test_faults.py",
    "tests/test_site.py",
    "tests/test_kernels.py",
    "tests/test_nbval_sensitivity.py",
    "tests/test_reconstruct.py",
    "tests/test_figure_layout.py",
    "tests/test_second_study.py",
    "tests/test_study.py",
    "tests/test_bad_inputs.py",
    "tests/test_tables_recomputed.py",
    "notebooks/02_glycemic_outcomes.ipynb",
    "tests/test_design.py",
    "notebooks/05_follow_up_design.ipynb",
    "notebooks/03_immunologic_safety.ipynb",
    "tests/test_data_validation.py",
    "tests/test_outcomes.py",
    "notebooks/04_reproduction_audit.ipynb",
    "notebooks/01_cohort_description.ipynb",
    "tests/test_proportions.py",
    "tests/test_audit.py",
)


#: The helpers' doctests that took a quarter of a second or more when timed on 2026-11-27, one
#: after another in one process with the stack already imported (they draw a figure, audit
#: every test, or write and check the stand-in): marked slow like the tests so marked, and so
#: left out of ``make check``. A snapshot, not a rule the tests enforce: the first doctest of a
#: kind in a process also pays for what the next ones reuse. ``tests/test_environment.py``
#: checks each names a doctest.
SLOW_DOCTESTS = frozenset(
    {
        "helpers.audit.audit",
        "helpers.audit.consistent_tests",
        "helpers.cache.notebook_inputs",  # reads every notebook's imports: 0.5 s (2026-11-28)
        "helpers.figures.changes_figure",
        "helpers.figures.cohort_figure",
        "helpers.figures.plot_trajectories",
        "helpers.figures.trajectories_figure",  # 0.44 s (2026-11-28)
        "helpers.reconstruct.reconstruct_measurements",
        "helpers.reproduction.abstract_format_table",
        "helpers.reproduction.reachability_by_rule",
        "helpers.reproduction.reproduction_table",
        "helpers.sitebuild.warm_up",  # sets up Sphinx: 1.3 s (2026-11-28)
        "helpers.standin.write_standin",
    }
)


def is_slow_doctest(item: pytest.Item) -> bool:
    """Whether ``item`` is one of the helpers' doctests named in :data:`SLOW_DOCTESTS`."""
    return isinstance(item, pytest.DoctestItem) and item.name in SLOW_DOCTESTS


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m deselection
def pytest_collection_modifyitems(config, items):
    """Mark nbval items slow (they re-execute whole notebooks), and the slow doctests.

    ``make check`` leaves out what is marked slow. Then order the files longest first
    (:data:`LONGEST_FIRST`; the others after them, as collected); the order within a file
    is kept, which nbval needs.
    """
    for item in items:
        nbval = item.nodeid.split("::")[0].endswith(".ipynb")
        if (item.nodeid.startswith("notebooks/") and nbval) or is_slow_doctest(item):
            item.add_marker(pytest.mark.slow)
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable


@pytest.fixture
def warm_session(session_zygote, monkeypatch) -> str:
    """Name the session's zygote to the runs of a test (and to the processes it starts)."""
    from helpers import kernels

    monkeypatch.setenv(kernels.ZYGOTE_ENV, session_zygote)
    return session_zygote


@pytest.fixture(scope="session")
def default_report(tmp_path_factory, request, session_zygote) -> Path:
    """The default parameter set run once through the runner, shared by every test and worker.

    Workers of pytest-xdist share the folder; the first to take the lock runs the
    notebooks, the others find them up to date (the runner's cache) and reuse them.
    Tests read it and must not change it.
    """
    import fcntl

    from helpers import kernels
    from helpers.run import run

    base = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):  # an xdist worker: share with the others
        base = base.parent
    with open(base / "default-report.lock", "w") as lock, kernels.named_zygote(session_zygote):
        fcntl.flock(lock, fcntl.LOCK_EX)
        return run("default", reports_dir=base / "shared-reports", progress=False)
