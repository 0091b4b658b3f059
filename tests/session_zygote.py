"""pytest plugin (``-p session_zygote``): one kernel zygote per test process, for nbval too.

The zygote (:mod:`helpers.kernels`) has imported every notebook's imports; kernels
forked from it spare importing the stack (about 3 s of CPU each). Runs of tests that
ask for it (the ``session_zygote`` fixture, through ``warm_session`` and
``default_report`` in conftest.py) fork their kernels from it, and so does nbval for
every notebook but one (:data:`COLD_NBVAL`). A plugin rather than conftest.py, whose
hooks would reach only the tests under tests/, not the notebooks.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import pytest

from helpers.paths import PROJECT_ROOT

#: The zygote of this test process (:func:`the_session_zygote`), closed when the session ends.
_ZYGOTE = contextlib.ExitStack()


@functools.cache
def the_session_zygote() -> str:
    """One kernel zygote for this test process, which has imported every notebook's imports.

    Started at the first call, unless pytest was given one (``--session-zygote``,
    :data:`_GIVEN`). Runs of tests that use it (``warm_session``) fork their
    kernels from it instead of starting a zygote each (helpers.kernels.given_or_new_zygote),
    and so do nbval's kernels (:func:`pytest_runtest_setup`), so each spares importing
    the stack once more. Tests of the zygote itself (test_kernels, test_faults) do not use
    it: their runs start their own.
    """
    from helpers import kernels
    from helpers.run import discover_notebooks

    if _GIVEN:
        return _GIVEN[0]
    return _ZYGOTE.enter_context(kernels.zygote(kernels.notebook_imports(discover_notebooks())))


#: The zygote given by ``--session-zygote`` (set when pytest is configured): a pytest run
#: that a test starts (tests/test_nbval_sensitivity.py) forks its kernels from the test
#: session's. Only an explicit option, never an inherited environment variable.
_GIVEN: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--session-zygote",
        default=None,
        metavar="SOCKET",
        help="fork nbval's kernels from this running zygote instead of starting one",
    )


def pytest_configure(config: pytest.Config) -> None:
    given = config.getoption("--session-zygote")
    _GIVEN[:] = [given] if given else []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _ZYGOTE.close()


#: The notebook nbval re-executes in a kernel started the usual way, a new process: the check
#: that a cold kernel gives the outputs stored from warm ones, on a real notebook (the one that
#: imports the most helpers); tests/test_kernels.py pins the details and that it exists. The
#: others' kernels are forked from the session's zygote, which spares each importing the stack
#: (about 3 s of CPU).
COLD_NBVAL = PROJECT_ROOT / "notebooks" / "03_immunologic_safety.ipynb"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    """Fork nbval's kernel for a notebook (started at its first cell's set-up) from the
    session's zygote, but for :data:`COLD_NBVAL` (matched by file, wherever pytest runs)."""
    path = Path(item.path)
    if path.suffix != ".ipynb" or path.resolve() == COLD_NBVAL.resolve():
        yield
        return
    from helpers import kernels

    with kernels.forked_by_default(the_session_zygote()):
        yield


@pytest.fixture(scope="session")
def session_zygote() -> str:
    """The socket of :func:`the_session_zygote`."""
    return the_session_zygote()
