"""A Sphinx build started ahead of its notebooks: ``python -m helpers.sitebuild SOURCE BUILT PID``.

``make reproduce`` builds the readers' edition (:mod:`helpers.site`) once the
notebooks have run. About half of that build is Sphinx starting: importing
Sphinx, MyST-NB and the theme, and setting up the HTML builder from
``conf.py``, none of which depends on the notebooks. The runner starts this
process with the run (:func:`helpers.site.prestarted_build`), at a lower CPU
priority, so that start-up takes what the notebooks' kernels leave idle:

1. it runs Sphinx's own command line, ``sphinx -b html -q -E SOURCE BUILT``
   (what :func:`helpers.site.build_site` runs otherwise), up to the point where
   the build would begin: the application is set up;
2. it reads lines from its standard input. ``warm``, which the runner sends
   once a CPU falls idle (a worker has no notebook left), has it do what the
   build's writing would do first on any pages (:func:`warm_up`): compile the
   theme's templates and the regular expressions of the code highlighter and
   of the theme's HTML selectors. ``build`` (the notebooks and the index are
   now in SOURCE) lets the build go on, and the process exits with Sphinx's
   status; anything else, or the end of the input (the run failed or was
   stopped), ends it without building.

Sphinx finds the documents when the build begins, so a pre-started build reads
exactly the sources a plain one would; ``tests/test_site.py`` compares their
pages byte for byte. The process ends with the runner (process PID), even one
killed outright (:func:`helpers.kernels.die_with_parent`).
"""

from __future__ import annotations

import os
import select
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "GO", "HIGHLIGHTED", "NICENESS", "SPHINX_ARGUMENTS", "WARM", "Lines", "main", "wait_then",
    "warm_up",
]  # fmt: skip

#: Sphinx's command line for the site, before the source and output folders (HTML, quiet, a
#: fresh environment): what :mod:`helpers.site` runs when it starts Sphinx itself.
SPHINX_ARGUMENTS = ("-b", "html", "-q", "-E")
#: The line that lets a waiting build go on.
GO = "build"
#: The line that has a waiting build do its warm-up (:func:`warm_up`) and wait on.
WARM = "warm"
#: How much lower than the runner's this process's CPU priority is (``nice``): its start-up
#: yields to the notebooks' kernels and uses what they leave idle.
NICENESS = 10
#: The languages the site's pages highlight: the notebooks' code (IPython), and their text
#: outputs (MyST-NB's ``myst-ansi``, where installed).
HIGHLIGHTED = ("ipython3", "myst-ansi")


def warm_up(app: Any, stop: Callable[[], bool] = lambda: False) -> None:
    """Do the first-use work of writing HTML pages now, before the pages exist.

    Writing the first pages compiles, once per process, every Jinja template
    of the theme a page uses, the regular expressions of each Pygments lexer,
    and those of soupsieve's CSS selectors, through which the theme edits each
    page; about a fifth of the build. Done while the process waits for its
    pages, once the runner says a CPU is idle (:data:`WARM`), that work takes
    CPU the notebooks leave, and the build finds it done. Nothing here depends
    on the pages or changes what is built: compiled templates and lexers are
    cached by name, as the build would cache them (``tests/test_site.py``
    compares the pages with a plain build's).

    It stops early once ``stop()`` is true (the pages have come: the build
    then compiles the rest as it goes), so it never holds the build up by more
    than one template.

    Parameters
    ----------
    app : sphinx.application.Sphinx
        Set up with the HTML builder.
    stop : callable, optional
        Asked before each step; true ends the warm-up there.

    Examples
    --------
    >>> import tempfile
    >>> from sphinx.application import Sphinx
    >>> source = Path(tempfile.mkdtemp())
    >>> _ = (source / "conf.py").write_text("")
    >>> app = Sphinx(source, source, source / "_build", source / "_doctrees", "html",
    ...              status=None)
    >>> warm_up(app)
    >>> len(app.builder.templates.environment.cache) > 10  # compiled templates, by name
    True
    """
    import bs4
    import jinja2
    from pygments.lexers import find_lexer_class_by_name
    from pygments.util import ClassNotFound

    templates = app.builder.templates.environment
    folders = [Path(d) for d in app.builder.theme.get_theme_dirs()]
    folders += [Path(app.confdir, d) for d in app.config.templates_path]  # the theme's parts
    for folder in folders:
        for file in sorted(folder.rglob("*.html")):
            name = file.relative_to(folder).as_posix()
            for named in (name, f"{folder.name}/{name}"):  # as pages extend them
                if stop():
                    return
                try:
                    templates.get_template(named)
                except jinja2.TemplateError:  # not found by that name: nor by the build
                    continue
    for language in HIGHLIGHTED:
        if stop():
            return
        try:
            find_lexer_class_by_name(language)
        except ClassNotFound:  # not installed: the build would not highlight with it either
            continue
        app.builder.highlighter.highlight_block("x = 1\nprint(x)\n", language)
    if stop():
        return
    bs4.BeautifulSoup("<ul><li class='a'><p>x</p></li></ul>", "html.parser").select(
        "ul > li.a:not(.b) p, li a[href]"
    )


def wait_then(
    build: Callable[..., Any],
    readline: Callable[[], str],
    warm: Callable[[Any], None] | None = None,
) -> Callable[..., Any]:
    """Wrap ``build`` so that it first waits for :data:`GO` on ``readline``; else exit 0.

    :data:`WARM` on the way calls ``warm`` with the application (once), then waits on.

    Parameters
    ----------
    build : callable
        ``sphinx.application.Sphinx.build``.
    readline : callable
        Returns the next line of the input ("" at its end).
    warm : callable, optional
        Called with the application on :data:`WARM` (:func:`warm_up`).

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
    >>> warmed = []
    >>> go = wait_then(lambda app: "built", iter(["warm", "warm", "build"]).__next__,
    ...                warmed.append)
    >>> go("app"), warmed
    ('built', ['app'])
    """

    def waiting(self: Any, *args: Any, **kwargs: Any) -> Any:
        warmed = False
        while (line := readline().strip()) == WARM:
            if warm is not None and not warmed:
                warm(self)
                warmed = True
        if line != GO:
            raise SystemExit(0)  # no build was asked for: the run failed or was stopped
        return build(self, *args, **kwargs)

    return waiting


class Lines:
    r"""The lines of a file descriptor, read so that :meth:`pending` sees every unread one.

    (A buffered text stream can hold a line that ``select`` no longer sees.)

    Examples
    --------
    >>> read, write = os.pipe()
    >>> _ = os.write(write, b"warm\nbuild\n")
    >>> lines = Lines(read)
    >>> lines.readline(), lines.pending(), lines.readline(), lines.pending()
    ('warm\n', True, 'build\n', False)
    >>> os.close(write)
    >>> lines.pending(), lines.readline()
    (True, '')
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.ended = False

    def readline(self) -> str:
        """Return the next line with its end, or the rest ("" at the end of the input)."""
        while b"\n" not in self.buffer and not self.ended:
            chunk = os.read(self.fd, 4096)
            self.ended = not chunk
            self.buffer += chunk
        line, end, self.buffer = self.buffer.partition(b"\n")
        return (line + end).decode()

    def pending(self) -> bool:
        """Whether a line (or the end of the input) is there to read without waiting."""
        return bool(self.buffer) or self.ended or bool(select.select([self.fd], [], [], 0)[0])


def main(argv: list[str] | None = None) -> int:
    """Set up Sphinx's HTML build of SOURCE into BUILT, then build it when told to."""
    source, built, parent = argv if argv is not None else sys.argv[1:]
    from helpers.kernels import die_with_parent

    if die_with_parent(signal.SIGTERM, int(parent)):
        return 0  # the runner has gone already
    os.nice(NICENESS)
    from sphinx.application import Sphinx
    from sphinx.cmd.build import main as sphinx_main

    lines = Lines(sys.stdin.fileno())

    def warm(app: Any) -> None:  # until the pages come
        warm_up(app, stop=lines.pending)

    Sphinx.build = wait_then(Sphinx.build, lines.readline, warm)  # type: ignore[method-assign]
    return sphinx_main([*SPHINX_ARGUMENTS, source, built])


if __name__ == "__main__":
    raise SystemExit(main())
