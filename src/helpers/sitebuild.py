"""A Sphinx build started ahead of its notebooks: ``python -m helpers.sitebuild SOURCE BUILT PID``.

``make reproduce`` builds the readers' edition (:mod:`helpers.site`) once the
notebooks have run. About half of that build is Sphinx starting: importing
Sphinx, MyST-NB and the theme, and setting up the HTML builder from
``conf.py``, none of which depends on the notebooks. The runner starts this
process with the run (:func:`helpers.site.prestarted_build`), at a lower CPU
priority, so that start-up takes what the notebooks' kernels leave idle:

1. it runs Sphinx's own command line, ``sphinx -b html -q -E SOURCE BUILT``
   (what :func:`helpers.site.build_site` runs otherwise), up to the point where
   the build would begin: the application is set up and waiting;
2. it reads one line from its standard input: ``build`` (the notebooks and the
   index are now in SOURCE) lets the build go on, and the process exits with
   Sphinx's status; anything else, or the end of the input (the run failed or
   was stopped), ends it without building.

Sphinx finds the documents when the build begins, so a pre-started build reads
exactly the sources a plain one would; ``tests/test_site.py`` compares their
pages byte for byte. The process ends with the runner (process PID), even one
killed outright (:func:`helpers.kernels.die_with_parent`).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["GO", "NICENESS", "SPHINX_ARGUMENTS", "main", "wait_then"]

#: Sphinx's command line for the site, before the source and output folders (HTML, quiet, a
#: fresh environment): what :mod:`helpers.site` runs when it starts Sphinx itself.
SPHINX_ARGUMENTS = ("-b", "html", "-q", "-E")
#: The line that lets a waiting build go on.
GO = "build"
#: How much lower than the runner's this process's CPU priority is (``nice``): its start-up
#: yields to the notebooks' kernels and uses what they leave idle.
NICENESS = 10


def wait_then(build: Callable[..., Any], readline: Callable[[], str]) -> Callable[..., Any]:
    """Wrap ``build`` so that it first waits for :data:`GO` on ``readline``; else exit 0.

    Parameters
    ----------
    build : callable
        ``sphinx.application.Sphinx.build``.
    readline : callable
        Returns the next line of the input ("" at its end).

    Returns
    -------
    callable

    Examples
    --------
    >>> go = wait_then(lambda app: "built", iter(["build"]).__next__)
    >>> go(None)
    'built'
    >>> stop = wait_then(lambda app: "built", iter([""]).__next__)
    >>> stop(None)
    Traceback (most recent call last):
    SystemExit: 0
    """

    def waiting(self: Any, *args: Any, **kwargs: Any) -> Any:
        if readline().strip() != GO:
            raise SystemExit(0)  # no build was asked for: the run failed or was stopped
        return build(self, *args, **kwargs)

    return waiting


def main(argv: list[str] | None = None) -> int:
    """Set up Sphinx's HTML build of SOURCE into BUILT, then build it when told to."""
    source, built, parent = argv if argv is not None else sys.argv[1:]
    from helpers.kernels import die_with_parent

    if die_with_parent(signal.SIGTERM, int(parent)):
        return 0  # the runner has gone already
    os.nice(NICENESS)
    from sphinx.application import Sphinx
    from sphinx.cmd.build import main as sphinx_main

    Sphinx.build = wait_then(Sphinx.build, sys.stdin.readline)  # type: ignore[method-assign]
    return sphinx_main([*SPHINX_ARGUMENTS, source, built])


if __name__ == "__main__":
    raise SystemExit(main())
