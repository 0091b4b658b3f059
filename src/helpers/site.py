"""The readers' edition: a static site of a report's executed notebooks, readable offline.

Built with Sphinx, MyST-NB and the Sphinx Book Theme (the Jupyter Book 1 engine):
MyST-NB renders notebooks that were already executed (``nb_execution_mode =
"off"``), so the site shows exactly what the runner produced, and every script,
style and font the theme uses is copied into the site, so pages load with no
network. Chosen over MkDocs with mkdocs-jupyter because MyST-NB hides code by
cell tags (revealable with a button), removes cells by tags, and gives each
notebook its title and navigation without hand-written HTML.

From ``reports/<set>/`` it writes ``reports/<set>/site/``:

* ``index.html`` — the study in brief (from the study definition), which data
  these are, the reproduction status computed by notebook 04, a card per
  notebook with its one-line finding (the output of the cell tagged
  ``finding``), the parameter set, commit, date and environment, and the
  Binder launch link once ``CITATION.cff`` names the repository's address;
* one page per notebook: code hidden until revealed, the parameters cell, the
  injected parameters and the check cell removed.

Run ``python -m helpers.site reports/default`` (``make reproduce`` does it).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import nbformat
import pandas as pd
import psutil

from helpers import cache, sitebuild
from helpers.choices import PAIRED_TESTS
from helpers.errors import HelpersError
from helpers.paths import PROJECT_ROOT, resolve_path
from helpers.precision import plain_quote
from helpers.study import load_study

__all__ = [
    "FINDING_TAG",
    "PRESTART_PREFIX",
    "PrestartedBuild",
    "binder_link",
    "build_site",
    "data_statement",
    "finding",
    "main",
    "prepare_notebook",
    "prestarted_build",
    "study_in_brief",
]

#: Tag of the cell whose first output line is a notebook's one-line finding.
FINDING_TAG = "finding"
_REMOVED = ("parameters", "injected-parameters", "check-parameters", "report-files")


def prepare_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Tag an executed notebook's cells for readers: code hidden, parameter cells removed.

    Cells tagged ``report-files`` (the list of files a run wrote) are removed
    too, and a figure's alternative text is passed to MyST-NB. The statement
    of which data the run read (:func:`data_statement`: "STAND-IN DATA —
    RECONSTRUCTED, NOT PATIENT RECORDS. …") is put under the page's title as
    well, so it heads every page and not only its Data section.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An executed notebook (it is not changed; a copy is returned).

    Returns
    -------
    nbformat.NotebookNode

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    >>> nb.cells[0].metadata["tags"] = ["parameters"]
    >>> nb.cells.append(nbformat.v4.new_code_cell("x"))
    >>> [c.metadata["tags"] for c in prepare_notebook(nb).cells]
    [['parameters', 'remove-cell'], ['hide-input']]
    """
    out = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in out.cells:
        if cell.cell_type != "code":
            continue
        tags = list(cell.metadata.get("tags", []))
        check = "check_parameters(" in cell.source
        if check or any(t in tags for t in _REMOVED):
            tags.append("remove-cell")
        elif "hide-input" not in tags:
            tags.append("hide-input")
        alts = [
            o.get("metadata", {}).get("image/png", {}).get("alt")
            for o in cell.get("outputs", [])
            if "image/png" in o.get("data", {})
        ]
        if alts and all(alts) and len(set(alts)) == 1:
            # the figure's alternative text, which MyST-NB reads from the cell, not the output
            cell.metadata.setdefault("mystnb", {})["image"] = {"alt": alts[0]}
        cell.metadata["tags"] = tags
    statement = data_statement(nb)
    there = any(
        c.get("id") == _STATEMENT_ID or (c.cell_type == "markdown" and c.source == statement)
        for c in out.cells
    )
    if statement and not there:  # once, however often a notebook is prepared
        title = next(
            (
                i
                for i, c in enumerate(out.cells)
                if c.cell_type == "markdown" and c.source.lstrip().startswith("# ")
            ),
            -1,
        )
        cell = nbformat.v4.new_markdown_cell(statement)
        if out.get("nbformat_minor", 0) >= 5:
            cell["id"] = _STATEMENT_ID  # fixed: nbformat draws a random one, which would vary
        else:
            cell.pop("id", None)  # cells of notebooks before format 4.5 have none
        out.cells.insert(title + 1, cell)
    return out


#: The id of the cell :func:`prepare_notebook` puts the data statement in.
_STATEMENT_ID = "data-statement"


def finding(nb: nbformat.NotebookNode) -> str:
    """Return a notebook's one-line finding: the first line of its ``finding`` cell's output.

    Parameters
    ----------
    nb : nbformat.NotebookNode

    Returns
    -------
    str
        Plain text (Markdown emphasis and list marks removed), or ``""``.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook()
    >>> cell = nbformat.v4.new_code_cell("")
    >>> cell.metadata["tags"] = ["finding"]
    >>> cell.outputs = [nbformat.v4.new_output("display_data",
    ...     {"text/markdown": "- **9 of 9** facts match." + chr(10) + "- more"})]
    >>> nb.cells = [cell]
    >>> finding(nb)
    '9 of 9 facts match.'
    """
    for cell in nb.cells:
        if FINDING_TAG not in cell.metadata.get("tags", []):
            continue
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/markdown") or output.get("text", "")
            if text:
                first = str(text).strip().splitlines()[0]
                return first.lstrip("-> ").replace("**", "").strip()
    return ""


def data_statement(nb: nbformat.NotebookNode) -> str:
    """Return the statement of which data a run used: the output of ``source_statement()``.

    Read from the cell that prints it, whatever the data are (stand-in,
    simulated or the investigators' own), not recognised by its words.

    Parameters
    ----------
    nb : nbformat.NotebookNode

    Returns
    -------
    str
        Markdown, or ``""`` if the notebook has no such cell.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook()
    >>> cell = nbformat.v4.new_code_cell("display(Markdown(cohort.source_statement()))")
    >>> cell.outputs = [nbformat.v4.new_output("display_data",
    ...     {"text/markdown": "> **Data read from data/private ...**"})]
    >>> nb.cells = [cell]
    >>> data_statement(nb)
    '> **Data read from data/private ...**'
    """
    for cell in nb.cells:
        if cell.cell_type == "code" and "source_statement()" in cell.source:
            for output in cell.get("outputs", []):
                text = output.get("data", {}).get("text/markdown")
                if text:
                    return str(text).strip()
    return ""


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            return cell.source.lstrip()[2:].splitlines()[0].strip()
    return fallback


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def _author(citation: Path = PROJECT_ROOT / "CITATION.cff") -> str:
    """Name the compendium's authors as ``CITATION.cff`` does, for the pages' footer."""
    from helpers.yamlfile import read_yaml

    authors = (read_yaml(citation) or {}).get("authors", []) if citation.is_file() else []
    names = [
        a.get("name") or " ".join(filter(None, (a.get("given-names"), a.get("family-names"))))
        for a in authors
    ]
    return ", ".join(n for n in names if n) or "the compendium's authors"


def _audit_values(notebooks: Mapping[str, nbformat.NotebookNode]) -> dict[str, Any]:
    """Give the parameter values the reproduction audit (notebook 04) ran with, if it ran.

    ``notebooks``: the report's executed notebooks, by name.
    """
    audits = sorted(stem for stem in notebooks if stem.startswith("04_"))
    if not audits:
        return {}
    return dict(notebooks[audits[0]].metadata.get("papermill", {}).get("parameters", {}))


def _figures_in_words(values: Mapping[str, Any]) -> dict[str, str]:
    """Name each reported figure in words (:func:`helpers.reported.figures_in_words`).

    From the reported-figures table and the study definition the audit ran
    with (``values``, :func:`_audit_values`), which checked them; none where
    they cannot be read. The table is read as it is (pandas), not checked
    again: only its figures' names are taken.
    """
    try:
        study = load_study(resolve_path(values["study_file"]))
        reported = pd.read_csv(resolve_path(values["reported_path"]), dtype={"group": str})
        from helpers.reported import figures_in_words  # with helpers.data: imported by need

        return figures_in_words(reported, study)
    except (KeyError, AttributeError, OSError, ValueError, HelpersError):
        return {}  # the sentence names the figures by their ids instead


def _reproduction_status(
    report: Path,
    *,
    data_kind: str = "",
    words: Mapping[str, str] | None = None,
    test: str | None = None,
) -> str:
    """Count what notebook 04 reproduced, and say what that means for these data.

    ``words`` names figures (:func:`helpers.reported.figures_in_words`); a figure without
    is named by its id.
    ``test`` is the audit's test (its parameter value, named as in
    :data:`helpers.choices.PAIRED_TESTS`); without it, "the audit's test".
    """
    table_path = report / "tables" / "04_reproduction.csv"
    if not table_path.is_file():
        return "The reproduction audit (notebook 04) was not run for this report."
    table = pd.read_csv(table_path)
    ok = int(table["match"].sum())
    source = {
        "reconstructed": "the stand-in data",
        "simulated": "the simulated data",
        "edited reconstructed": "a copy of the stand-in data edited by hand",
        "edited simulated": "simulated data edited by hand",
    }.get(data_kind, "the patient-level data")
    text = f"{ok} of {len(table)} reported figures reproduced from {source}"
    impossible = table[table["reachable_by_test"].astype("string") == "False"]
    if len(impossible):
        words = words or {}
        ids = ", ".join(
            f"the reported “{plain_quote(r.reported)}” for {words[r.figure_id]}"
            if r.figure_id in words
            else f"the reported “{plain_quote(r.reported)}” ({r.figure_id})"
            for r in impossible.itertuples()
        )
        named = f"the {PAIRED_TESTS.get(test, test)}" if test else "the audit's test"
        text += f"; no data analysed with {named} could give {ids}, as the audit explains"
        text += " (notebook 04)"
    text += "."
    if data_kind == "reconstructed":
        text += (
            " These data are the stand-in, built to reproduce the abstract: the count checks "
            "the reconstruction, not the study. Only the investigators' files can reproduce "
            "the study's figures."
        )
    elif data_kind == "simulated":
        text += " These data are simulated: the count says nothing about the study."
    elif data_kind.startswith("edited"):
        text += (
            f" These data are {source}: the count checks neither the reconstruction nor the study."
        )
    return text


def _data_kind(nb: nbformat.NotebookNode) -> str:
    """Say whether a run read reconstructed, simulated or the investigators' data."""
    from helpers.data import read_provenance

    data_dir = nb.metadata.get("papermill", {}).get("parameters", {}).get("data_dir")
    if not data_dir:
        return ""
    provenance, _ = read_provenance(data_dir)
    if provenance.get("edited"):
        return f"edited {provenance['kind']}"
    return str(provenance.get("kind", "investigators"))


def study_in_brief(nb: nbformat.NotebookNode) -> str:
    """Say what the study of a run was, from the study definition the run used.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An executed notebook; its papermill parameters name the ``study_file``.

    Returns
    -------
    str
        The definition's ``summary`` (its title when it has none) and its citation.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.metadata["papermill"] = {"parameters": {"study_file": "data/study.yaml"}}
    >>> study_in_brief(nb).startswith("Seven adults with type 1 diabetes")
    True
    """
    from helpers.study import load_study

    parameters = nb.metadata.get("papermill", {}).get("parameters", {})
    path = Path(parameters.get("study_file", "data/study.yaml"))
    study = load_study(path if path.is_absolute() else PROJECT_ROOT / path)
    return f"{study.summary or study.title + '.'} *Source:* {study.citation}"


def binder_link(citation: Path = PROJECT_ROOT / "CITATION.cff") -> str | None:
    """Build the Binder launch link from the repository address in ``CITATION.cff``.

    Parameters
    ----------
    citation : Path
        The citation file; its ``repository-code`` must be a GitHub address.

    Returns
    -------
    str or None
        ``https://mybinder.org/v2/gh/<owner>/<repo>/HEAD?labpath=notebooks``, or
        None while the repository has no public GitHub address.

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "CITATION.cff"
    >>> _ = f.write_text("repository-code: https://github.com/someone/amsct.git")
    >>> binder_link(f)
    'https://mybinder.org/v2/gh/someone/amsct/HEAD?labpath=notebooks'
    """
    from helpers.yamlfile import read_yaml

    if not citation.is_file():
        return None
    url = str((read_yaml(citation) or {}).get("repository-code", ""))
    parsed = urlparse(url)
    parts = [p for p in parsed.path.split("/") if p]
    if parsed.netloc != "github.com" or len(parts) < 2:
        return None
    owner, repo = parts[0], parts[1].removesuffix(".git")
    return f"https://mybinder.org/v2/gh/{owner}/{repo}/HEAD?labpath=notebooks"


def _binder_line() -> str:
    link = binder_link()
    if link:
        return f"- Run it yourself: [launch on Binder]({link}) (JupyterLab in the browser)"
    return (
        "- Run it yourself: `make reproduce` in a clone (see the README). A Binder link appears "
        "here once `repository-code` in `CITATION.cff` gives the repository's GitHub address."
    )


def _index(
    report: Path,
    pages: list[tuple[str, str, str]],
    set_name: str,
    notebooks: Mapping[str, nbformat.NotebookNode],
) -> str:
    """Write the index page; ``notebooks`` are the report's executed notebooks, by name."""
    first = notebooks[pages[0][0]]
    audit = _audit_values(notebooks)
    banner = data_statement(first)
    packages = ["numpy", "pandas", "scipy", "statsmodels", "pingouin", "matplotlib", "seaborn"]
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in packages)
    lines = [
        "# Overview",
        "",
        f"A re-analysis of a published study, told by {len(pages)} notebooks. Every number, "
        "table and figure below was computed by the notebooks from the data; the code is "
        "hidden and can be shown under each result.",
        "",
        f"**The study.** {study_in_brief(first)}",
        "",
        banner,
        "",
        "**Reproduction status.** "
        + _reproduction_status(
            report,
            data_kind=_data_kind(first),
            words=_figures_in_words(audit),
            test=audit.get("test"),
        ),
        "",
        "## The notebooks",
        "",
    ]
    for stem, title, line in pages:
        lines += [f"- [{title}]({stem}.ipynb) — {line or 'see the page'}"]
    lines += [
        "",
        "## This edition",
        "",
        f"- Parameter set: `{set_name}`",
        f"- Commit: `{_commit()}`",
        f"- Built: {dt.date.today().isoformat()}",
        f"- Environment: Python {sys.version.split()[0]}; {versions}",
        _binder_line(),
        "",
        "```{toctree}",
        ":hidden:",
        "",
        *[stem for stem, _, _ in pages],
        "```",
        "",
    ]
    return "\n".join(lines)


_CONF = """# Generated by helpers.site: the Sphinx configuration of the readers' edition.
project = {project!r}
html_title = {project!r}
author = {author!r}
extensions = ["myst_nb"]
nb_execution_mode = "off"
nb_merge_streams = True
html_theme = "sphinx_book_theme"
# no right-hand contents column: tables and figures get its width (the left sidebar links
# the pages, and each page's sections are in its own headings)
html_theme_options = {{"show_toc_level": 2, "use_download_button": False,
                      "use_fullscreen_button": False, "home_page_in_toc": True,
                      "secondary_sidebar_items": []}}
html_context = {{"default_mode": "light"}}  # a set theme mode: no console error on file://
html_static_path = ["_static"]
html_css_files = ["readers.css"]
html_show_sourcelink = False
html_copy_source = False
myst_enable_extensions = []
exclude_patterns = []
"""


#: The one style rule the theme lacks: with no right-hand contents column, the article
#: takes its width (the theme keeps it reserved), so wide result tables fit.
_CSS = """/* Generated by helpers.site. */
@media (min-width: 960px) {
  .bd-main .bd-content .bd-article-container { max-width: 100%; }
}
"""


def _stamp(site: Path) -> dict[str, Any]:
    return cache.read_record(site / cache.SITE_STAMP)


def build_site(
    report: str | Path,
    *,
    out: str | Path | None = None,
    force: bool = False,
    prestarted: PrestartedBuild | None = None,
) -> Path:
    """Build the static site of a report's executed notebooks (without executing them again).

    Parameters
    ----------
    report : str or Path
        A report folder written by the runner (``reports/<set>/``).
    out : str or Path, optional
        Where to write the site; default ``<report>/site``. It is built in a
        temporary folder and moved into place whole, so a failed build never
        leaves half a site over a good one.
    force : bool, default False
        Build even when the site was built from exactly these notebooks, tables
        and sources (recorded in its ``.site.json``; see :mod:`helpers.cache`).
    prestarted : PrestartedBuild, optional
        A build started ahead (:func:`prestarted_build`), which builds it if it
        is still waiting; default, Sphinx is started here. The pages are the same.

    Returns
    -------
    Path
        The site folder; open its ``index.html``.

    Raises
    ------
    HelpersError
        If the report holds no executed notebook, or Sphinx fails.
    """
    return _build_site(report, out=out, force=force, prestarted=prestarted)[0]


def _build_site(
    report: str | Path,
    *,
    out: str | Path | None,
    force: bool,
    prestarted: PrestartedBuild | None = None,
) -> tuple[Path, bool]:
    """:func:`build_site`, and whether it was built (False: the last build was up to date).

    ``prestarted`` (:func:`prestarted_build`) builds it if it is still waiting; else (none,
    or it has ended) Sphinx is started here.
    """
    report = Path(report).absolute()
    notebooks = sorted(report.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise HelpersError(f"{report} holds no executed notebook; run the notebooks first")
    target = Path(out).absolute() if out else report / "site"
    key = cache.site_key(report, cache.site_sources())
    if not force and _stamp(target).get("key") == key and (target / "index.html").is_file():
        return target, False  # built from exactly these notebooks, tables and sources
    with contextlib.ExitStack() as stack:
        if prestarted is not None and prestarted.waiting():
            folder = prestarted.folder  # removed by prestarted_build when the run ends
        else:
            prestarted = None
            folder = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix=".site-", dir=target.parent))
            )
            _write_settings(folder / "source")
        source, built = folder / "source", folder / "html"
        pages, read = [], {}
        for path in notebooks:
            nb = read[path.stem] = nbformat.read(path, as_version=4)
            nbformat.write(prepare_notebook(nb), source / path.name)
            pages.append((path.stem, _title(nb, path.stem), finding(nb)))
        index = _index(report, pages, report.name, read)
        (source / "index.md").write_text(index, encoding="utf-8")
        if prestarted is not None:
            status, errors = prestarted.build()
        else:
            # Sphinx runs in its own process: its global state and warnings stay out of ours
            command = [sys.executable, "-m", "sphinx", *sitebuild.SPHINX_ARGUMENTS]
            done = subprocess.run(
                [*command, str(source), str(built)],
                capture_output=True,
                text=True,
                check=False,
            )
            status, errors = done.returncode, done.stderr
        if status != 0:
            raise HelpersError(
                f"the site of {report} could not be built (Sphinx exit {status}):\n"
                + errors[-2000:]
            )
        shutil.rmtree(built / ".doctrees", ignore_errors=True)
        (built / cache.SITE_STAMP).write_text(json.dumps({"key": key}) + "\n", encoding="utf-8")
        old = target.with_name(target.name + ".previous")
        if target.exists():
            target.rename(old)
        built.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    return target, True


def _write_settings(source: Path) -> None:
    """Write the site's Sphinx settings and style sheet: all of its sources but the pages."""
    (source / "_static").mkdir(parents=True)
    (source / "_static" / "readers.css").write_text(_CSS, encoding="utf-8")
    project = "AMSCT in type 1 diabetes — readers\u2019 edition"
    conf = _CONF.format(project=project, author=_author())
    (source / "conf.py").write_text(conf, encoding="utf-8")


#: Name prefix of a pre-started build's folder in the reports folder, followed by the
#: runner's process id; one left by a runner that was killed is removed by the next.
PRESTART_PREFIX = ".site-prestarted-"


class PrestartedBuild:
    """A Sphinx build of a site, started and waiting for its pages (:mod:`helpers.sitebuild`).

    Parameters
    ----------
    folder : Path
        Holds ``source/`` (the settings written, the pages to come) and, once
        built, ``html/``.
    process : subprocess.Popen
        The waiting ``python -m helpers.sitebuild``.
    """

    def __init__(self, folder: Path, process: subprocess.Popen[str]) -> None:
        self.folder = folder
        self.process = process

    def waiting(self) -> bool:
        """Whether it can still be told to build (it has not ended)."""
        return self.process.poll() is None

    def warm(self) -> None:
        """Have it do its warm-up now (:func:`helpers.sitebuild.warm_up`); once is enough.

        The runner calls this when a CPU falls idle (a worker has no notebook left),
        so that the warm-up does not take CPU from the notebooks still running.
        A build that has ended is left alone.
        """
        if self.process.stdin is None or self.process.poll() is not None:
            return
        with contextlib.suppress(OSError):  # it ended meanwhile: build() will say so
            self.process.stdin.write(sitebuild.WARM + "\n")
            self.process.stdin.flush()

    def build(self) -> tuple[int, str]:
        """Let it build ``source/`` into ``html/``; its exit status and error output."""
        _, errors = self.process.communicate(sitebuild.GO + "\n")
        return self.process.returncode, errors

    def stop(self) -> None:
        """End it if it has not ended (never told to build, nothing of it is kept); reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


@contextlib.contextmanager
def prestarted_build(reports: str | Path) -> Iterator[PrestartedBuild]:
    """Start the site's Sphinx build now, to be given its pages later by :func:`main`.

    Sphinx's start-up (about half of a build) then runs while the notebooks do,
    at a lower CPU priority (:mod:`helpers.sitebuild`). The build's folder is
    in ``reports``, so the built site is moved into its report by a rename;
    it is removed when the context ends, built or not, and the process is
    ended if it has not ended (a failed or interrupted run waits for
    nothing). A folder left by a runner that was killed outright is removed
    here.

    Parameters
    ----------
    reports : str or Path
        The reports folder (the parent of the report whose site it builds).

    Yields
    ------
    PrestartedBuild
    """
    reports = Path(reports).absolute()
    reports.mkdir(parents=True, exist_ok=True)
    for left in reports.glob(f"{PRESTART_PREFIX}*"):
        pid = left.name[len(PRESTART_PREFIX) :].split("-")[0]
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(left, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{PRESTART_PREFIX}{os.getpid()}-", dir=reports))
    try:
        source = folder / "source"
        _write_settings(source)
        process = subprocess.Popen(
            [sys.executable, "-m", "helpers.sitebuild", str(source), str(folder / "html"),
             str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        build = PrestartedBuild(folder, process)
        try:
            yield build
        finally:
            build.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None, *, prestarted: PrestartedBuild | None = None) -> int:
    """Command line: ``python -m helpers.site REPORT [--out DIR]``.

    ``prestarted`` (:func:`prestarted_build`): the runner's build, started with its run.
    """
    parser = argparse.ArgumentParser(
        prog="python -m helpers.site", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("report", help="a report folder, e.g. reports/default")
    parser.add_argument("--out", help="site folder (default: REPORT/site)")
    parser.add_argument("--force", action="store_true", help="build even if up to date")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        site, built = _build_site(
            args.report, out=args.out, force=args.force, prestarted=prestarted
        )
    except HelpersError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not built:
        print(f"site up to date (built from these notebooks and tables): {site / 'index.html'}")
    else:
        print(f"site written to {site / 'index.html'} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
