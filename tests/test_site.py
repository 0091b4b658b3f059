"""The readers' edition, built from a real run and opened in headless Chromium with no network.

The browser is Debian's ``chromium`` driven by Playwright (PyPI). Where it is
missing the test says what to install; in CI (``CI=true``) a missing browser is
a failure, not a skip (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import psutil
import pytest
import tiny
from studydef import STUDY

from helpers.site import FINDING_TAG, build_site, finding, prepare_notebook

from conftest import REPORTED, STANDIN

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
INSTALL = (
    "the browser test needs Debian's Chromium: `apt-get install -y chromium` "
    "(Playwright, from PyPI, is installed by `make setup` and drives it)"
)


def _browser_or_skip() -> str:
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(f"no browser in CI: {INSTALL}")
    pytest.skip(INSTALL)


def test_prepared_notebooks_hide_code_and_remove_parameter_cells():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("alpha = 0.05"),
        nbformat.v4.new_code_cell("alpha = 0.1"),
        nbformat.v4.new_code_cell("check_parameters(globals())"),
        nbformat.v4.new_code_cell("table"),
        nbformat.v4.new_markdown_cell("# Title"),
    ]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.cells[1].metadata["tags"] = ["injected-parameters"]
    tags = [c.metadata.get("tags", []) for c in prepare_notebook(nb).cells]
    assert [("remove-cell" in t, "hide-input" in t) for t in tags[:4]] == [
        (True, False),
        (True, False),
        (True, False),
        (False, True),
    ]
    assert "tags" not in nb.cells[3].metadata  # the original is left alone


def test_every_notebook_has_a_finding_cell():
    from helpers.run import discover_notebooks

    for path in discover_notebooks():
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if FINDING_TAG in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        assert finding(nb), path.name


#: Elements of the page's content that hide part of their text: clipped sideways or
#: downwards with no scroll bar, shown with an ellipsis, or text ending in "…"/"...".
CLIPPED_TEXT = """() => {
  const main = document.querySelector('main') || document.body;
  const found = [];
  for (const el of main.querySelectorAll('*')) {
    const s = getComputedStyle(el);
    const text = (el.innerText || '').trim();
    if (!text || s.display === 'none' || s.visibility === 'hidden') continue;
    const clipsX = ['hidden', 'clip'].includes(s.overflowX) || s.textOverflow === 'ellipsis';
    const clipsY = ['hidden', 'clip'].includes(s.overflowY);
    if ((clipsX && el.scrollWidth > el.clientWidth + 1) ||
        (clipsY && el.scrollHeight > el.clientHeight + 1)) {
      found.push(el.tagName + ' ' + el.className + ': ' + text.slice(0, 60));
    }
  }
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const t = walker.currentNode.textContent.trim();
    if (t.endsWith('…') || t.endsWith('...')) found.push('text: ' + t.slice(-60));
  }
  return found;
}"""


def test_binder_link_comes_from_the_citation_file(tmp_path):
    from helpers.site import binder_link

    cff = tmp_path / "CITATION.cff"
    assert binder_link(cff) is None  # no file
    cff.write_text("cff-version: 1.2.0\n", encoding="utf-8")
    assert binder_link(cff) is None  # no address
    cff.write_text("repository-code: https://gitlab.com/a/b\n", encoding="utf-8")
    assert binder_link(cff) is None  # Binder's gh/ route needs GitHub
    cff.write_text("repository-code: https://github.com/org/compendium\n", encoding="utf-8")
    assert binder_link(cff) == ("https://mybinder.org/v2/gh/org/compendium/HEAD?labpath=notebooks")


def test_index_says_what_the_study_was_from_its_definition(tmp_path):
    from helpers.site import study_in_brief

    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {
        "parameters": {"study_file": "data/examples/bhansali_2014_abmsct_t2dm/study.yaml"}
    }
    text = study_in_brief(nb)
    assert text.startswith("Ten adults with type 2 diabetes")
    assert "doi:10.4103/2230-8210.140257" in text


@pytest.fixture(scope="module")
def site(default_report, tmp_path_factory) -> Path:
    # built beside, not inside, the shared report
    return build_site(default_report, out=tmp_path_factory.mktemp("readers") / "site")


@pytest.mark.slow
def test_every_figure_on_the_site_says_which_data_it_came_from(site):
    """A figure saved from the site carries the label printed under it and as its description
    (read by Pillow): the stand-in's, or, for the audit's figure, the abstract's."""
    labels = tiny.file_labels(site / "_images")
    assert len(labels) >= 5
    assert set(labels.values()) == {
        "STAND-IN DATA — RECONSTRUCTED, NOT PATIENT RECORDS",
        "COMPUTED FROM THE PUBLISHED FIGURES ALONE, NOT FROM PATIENT-LEVEL DATA",
    }


@pytest.mark.parametrize("minor", [4, 5])
def test_the_statement_goes_under_the_title_once_and_keeps_the_notebook_valid(minor):
    """After the title cell (not the first Markdown cell), once however often a notebook is
    prepared, with a fixed id where the format has ids and none where it has not."""
    import nbformat

    from helpers.site import prepare_notebook

    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = minor
    printed = nbformat.v4.new_code_cell("display(Markdown(cohort.source_statement()))")
    printed.outputs = [nbformat.v4.new_output("display_data", {"text/markdown": "> **S.**"})]
    nb.cells = [nbformat.v4.new_markdown_cell("Note"), nbformat.v4.new_markdown_cell("# Title"),
                printed]  # fmt: skip
    for i, cell in enumerate(nb.cells):
        cell.pop("id", None)
        if minor >= 5:
            cell["id"] = f"c{i}"
    once = prepare_notebook(nb)
    twice = prepare_notebook(once)
    for out in (once, twice):
        nbformat.validate(out)
        assert [c.source for c in out.cells[:3]] == ["Note", "# Title", "> **S.**"]
        assert len(out.cells) == 4
    assert once.cells[2].get("id") == ("data-statement" if minor >= 5 else None)


@pytest.mark.slow
def test_every_page_says_which_data_it_shows_under_its_title(site, default_report):
    """Each notebook's page has the statement of its data (read from the executed notebook's
    Data section) under its title, before its first section, and in that section too."""
    import html as html_lib

    for page in sorted(site.glob("0*.html")):
        text = html_lib.unescape(page.read_text(encoding="utf-8"))
        shown = tiny.shown(default_report / f"{page.stem}.ipynb")
        label = "STAND-IN DATA — RECONSTRUCTED, NOT PATIENT RECORDS. The files in data/standin"
        assert label in shown, page.name
        article = text.index("<article")  # the page's own content, after the theme's navigation
        title, first_section = text.index("<h1", article), text.index("<h2", article)
        assert title < text.index(label, article) < first_section, page.name
        assert text.count(label) == 2, page.name  # under the title, and in the Data section


@pytest.mark.slow
def test_the_site_reads_offline_in_a_real_browser(site):
    from playwright.sync_api import sync_playwright

    browser_path = _browser_or_skip()
    pages = sorted(
        p.name for p in site.glob("*.html") if p.name not in ("genindex.html", "search.html")
    )
    assert pages[0] == "01_cohort_description.html"
    assert "index.html" in pages
    shots = site.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    titles = set()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=browser_path,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        outside: list[str] = []

        def guard(route):
            url = route.request.url
            if urlparse(url).scheme in ("file", "data", "blob"):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        context.route("**/*", guard)
        for name in pages:
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
            page.goto((site / name).as_uri())
            page.wait_for_load_state("load")
            assert not errors, f"{name}: console errors {errors}"
            body = page.inner_text("body")
            if name == "index.html":  # the data statement of the run, read from its notebook
                assert "STAND-IN DATA — RECONSTRUCTED, NOT PATIENT RECORDS" in body
                # the study in brief, from the definition the run used
                assert " ".join(STUDY.summary.split()) in " ".join(body.split())
                assert "Run it yourself" in body
            assert "\\pm" not in body, f"{name}: raw LaTeX shown"
            titles.add(page.title())
            # every internal link resolves to a file of the site
            for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                parsed = urlparse(href)
                if parsed.scheme == "file":
                    assert Path(parsed.path).is_file(), f"{name}: broken link {href}"
            # every image has loaded
            broken = page.eval_on_selector_all(
                "img", "els => els.filter(e => !(e.complete && e.naturalWidth > 0)).map(e => e.src)"
            )
            assert not broken, f"{name}: images not loaded {broken}"
            # every figure has words for its alternative text, not its file name
            alts = page.eval_on_selector_all("main img", "els => els.map(e => e.alt)")
            bad = [a for a in alts if not a.startswith("Figure")]
            assert not bad, f"{name}: images without alternative text {bad[:3]}"
            # nothing is wider than the viewport
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 1280, f"{name}: the page is {wide} px wide"
            # no text is cut: no element clips its text, none ends in an ellipsis
            cut = page.evaluate(CLIPPED_TEXT)
            assert not cut, f"{name}: text cut {cut[:5]}"
            if name.startswith("0"):
                # code is hidden until revealed, and a click reveals it
                inputs = page.locator("div.cell_input")
                assert inputs.count() > 0, name
                assert page.locator("div.cell_input:visible").count() == 0, f"{name}: code shown"
                page.locator("details.hide.above-input > summary").first.click()
                assert inputs.first.is_visible(), f"{name}: code cannot be revealed"
                assert "check_parameters" not in page.content()
                assert "injected-parameters" not in page.content()
            page.screenshot(path=str(shots / f"{Path(name).stem}.png"))
            page.close()
        browser.close()
    assert not outside, f"requests left the machine: {outside[:5]}"
    assert len(titles) == len(pages), f"pages share titles: {sorted(titles)}"
    assert sorted(p.name for p in shots.glob("*.png")) == sorted(
        f"{Path(n).stem}.png" for n in pages
    )


@pytest.mark.slow
def test_the_truncation_check_can_fail(tmp_path):
    """The check above finds a clipped cell and an ellipsis when a page has them."""
    from playwright.sync_api import sync_playwright

    browser_path = _browser_or_skip()
    page_file = tmp_path / "cut.html"
    page_file.write_text(
        "<html><body><main>"
        '<div style="width: 50px; overflow: hidden; white-space: nowrap">'
        "a reason far longer than fifty pixels</div>"
        "<p>cut at fifty characters…</p><p>whole</p>"
        "</main></body></html>",
        encoding="utf-8",
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(page_file.as_uri())
        found = page.evaluate(CLIPPED_TEXT)
        browser.close()
    assert any("a reason far longer" in f for f in found)
    assert any(f.startswith("text: ") and "fifty characters…" in f for f in found)
    assert not any("whole" in f for f in found)


def test_reproduction_status_counts_from_the_table(tmp_path):
    """The index's sentence, recomputed from a table where the unreachable row is not last."""
    import pandas as pd

    from helpers.site import _reproduction_status

    (tmp_path / "tables").mkdir()
    assert "was not run" in _reproduction_status(tmp_path)
    pd.DataFrame(
        {
            "figure_id": ["b.p", "a.mean", "c.p", "d.sd"],
            "reported": ["$p=0,485$", "7", "p < 0,05", "1,2"],
            "match": [False, True, False, True],
            "reachable_by_test": [False, None, True, None],
        }
    ).to_csv(tmp_path / "tables" / "04_reproduction.csv", index=False)
    text = _reproduction_status(tmp_path)
    assert text.startswith("2 of 4 reported figures reproduced")
    assert "the reported “p=0,485” (b.p)" in text
    assert "c.p" not in text  # reachable: not claimed impossible
    assert "checks the reconstruction, not the study" not in text
    assert text.startswith("2 of 4 reported figures reproduced from the patient-level data")
    stand_in = _reproduction_status(tmp_path, data_kind="reconstructed")
    assert stand_in.startswith("2 of 4 reported figures reproduced from the stand-in data;")
    assert stand_in.split(";", 1)[1].startswith(text.split(";", 1)[1])
    assert "checks the reconstruction, not the study" in stand_in
    assert "no data analysed with the audit's test could give the reported" in text
    named = _reproduction_status(tmp_path, words={"b.p": "HbA1c, month 3 against baseline"})
    assert "the reported “p=0,485” for HbA1c, month 3 against baseline, as the" in named
    assert "b.p" not in named
    by_test = _reproduction_status(tmp_path, test="sign_test")
    assert "no data analysed with the sign test, exact binomial could give" in by_test
    assert "audit's test" not in by_test


def test_the_status_of_an_edited_copy_says_it_was_edited(tmp_path):
    """The kind is read from the data folder a run named: an edited copy of the stand-in (its
    provenance records the edit) is 'a copy of the stand-in data edited by hand', and the
    count is said to check neither the reconstruction nor the study."""
    import pandas as pd

    from helpers.site import _data_kind, _reproduction_status
    from helpers.standin import main as standin

    copy = tmp_path / "copy"
    shutil.copytree(STANDIN, copy)
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"parameters": {"data_dir": str(copy)}}
    assert _data_kind(nb) == "reconstructed"
    with open(copy / "patients.csv", "a", encoding="utf-8") as f:
        f.write("P08,M,30,96,3\n")
    assert standin(["--edited", str(copy)]) == 0
    assert _data_kind(nb) == "edited reconstructed"
    (tmp_path / "tables").mkdir()
    pd.DataFrame(
        {"figure_id": ["a.mean", "b.p"], "reported": ["7", "p < 0,05"], "match": [True, False],
         "reachable_by_test": [None, True]}
    ).to_csv(tmp_path / "tables" / "04_reproduction.csv", index=False)  # fmt: skip
    assert _reproduction_status(tmp_path, data_kind="edited reconstructed") == (
        "1 of 2 reported figures reproduced from a copy of the stand-in data edited by hand. "
        "These data are a copy of the stand-in data edited by hand: the count checks neither "
        "the reconstruction nor the study."
    )


@pytest.mark.slow
def test_the_index_names_each_figure_no_data_could_give_in_words(site, default_report):
    """Not by its id: by its outcome and visits, recomputed here from notebook 04's table,
    the reported-figures table (pandas) and the study definition's labels; and with the
    test the audit ran with (the default set's paired t-test), not a parameter code."""
    import pandas as pd

    table = pd.read_csv(default_report / "tables" / "04_reproduction.csv")
    unreachable = table.loc[table["reachable_by_test"].astype("string") == "False", "figure_id"]
    assert len(unreachable) >= 1
    reported = pd.read_csv(REPORTED).set_index("figure_id")
    page = (site / "index.html").read_text(encoding="utf-8")

    def lower_first(text: str) -> str:
        return text[0].lower() + text[1:]

    for figure_id in unreachable:
        row = reported.loc[figure_id]
        words = (
            f"{lower_first(STUDY.outcome(row['variable']).label)}, "
            f"{lower_first(STUDY.visit_label(int(row['visit'])))} against "
            f"{lower_first(STUDY.visit_label(int(row['reference_visit'])))}"
        )
        assert f" for {words}, as the audit explains" in page, words
        assert figure_id not in page
    assert "no data analysed with the paired t-test could give the reported" in page
    assert "paired_t" not in page
    title = page.split("<title>")[1].split("</title>")[0]
    assert title.count("edition") == 1, title  # the page's own title, then the site's, once
    assert "'" not in title, title  # one kind of apostrophe, the one the text is set in


@pytest.mark.slow
def test_a_prestarted_build_gives_the_pages_a_plain_build_gives(site, default_report, tmp_path):
    """``make reproduce`` starts Sphinx with the run (helpers.sitebuild), at a lower priority,
    has it warm up when a worker falls idle, and gives it the pages once the report is
    written: the site is the one a plain Sphinx build gives (the ``site`` fixture's), file
    for file and byte for byte, and its folder in the reports folder is gone afterwards."""
    from helpers.site import PRESTART_PREFIX, prestarted_build
    from helpers.sitebuild import NICENESS

    reports = tmp_path / "reports"
    with prestarted_build(reports) as build:
        assert build.waiting()
        assert build.folder.parent == reports
        worker = psutil.Process(build.process.pid)
        deadline = time.monotonic() + 30
        while worker.nice() == os.nice(0) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.nice() == min(19, os.nice(0) + NICENESS)
        build.warm()  # as the runner does when a worker has no notebook left: once is done
        build.warm()
        built = build_site(default_report, out=reports / "site", prestarted=build)
        assert build.process.poll() == 0  # it built the site: Sphinx was not started again
    assert tiny.contents(built) == tiny.contents(site)
    assert [p.name for p in reports.iterdir()] == ["site"]
    assert not list(reports.glob(f"{PRESTART_PREFIX}*"))


@pytest.mark.slow
# the book theme uses an attribute Sphinx 11 removes; Sphinx's command line shows it, not fails
@pytest.mark.filterwarnings("ignore:.*Check CHANGES for Sphinx API modifications")
def test_the_waiting_build_has_compiled_the_templates_its_pages_need(tmp_path, monkeypatch):
    """``helpers.sitebuild.warm_up``, run while the pre-started build waits: a page written
    afterwards compiles no template file but the two the theme names by a relative path, where
    the same page without the warm-up compiles dozens (the site's settings, a fresh Sphinx
    each). A warm-up told to stop compiles nothing."""
    import io

    import jinja2
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    from helpers.site import _write_settings
    from helpers.sitebuild import warm_up

    compiled: list[str | None] = []
    original = jinja2.Environment.compile

    def counting(self, source, name=None, *args, **kwargs):
        compiled.append(name)
        return original(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)

    def compiled_by_the_build(warm: bool) -> list[str | None]:
        source = tmp_path / f"warm-{warm}" / "source"
        _write_settings(source)
        with docutils_namespace():
            app = Sphinx(source, source, source.parent / "html", source.parent / "doctrees",
                         "html", status=None, warning=io.StringIO(), freshenv=True)  # fmt: skip
            if warm:
                cached = len(app.builder.templates.environment.cache)
                warm_up(app, stop=lambda: True)  # the pages have come: nothing more is done
                assert len(app.builder.templates.environment.cache) == cached
                warm_up(app)
            (source / "index.md").write_text("# A page\n\n```ipython3\nx = 1\n```\n")
            before = len(compiled)
            app.build(force_all=True)
            assert (source.parent / "html" / "index.html").is_file()
            return compiled[before:]

    assert len(compiled_by_the_build(warm=False)) >= 20
    left = compiled_by_the_build(warm=True)
    # what is left: strings rendered once (no name), and parts named by a relative path
    assert all(name is None or name.startswith("../") for name in left), left
    assert len(left) <= 6, left


@pytest.mark.slow
def test_a_prestarted_build_not_told_to_build_ends_and_is_removed(tmp_path):
    """A run that fails or is stopped never gives the build its pages: the process is ended
    and its folder removed. A folder left by a runner killed outright (its process id no
    longer running) is removed by the next one; another running runner's is kept."""
    from helpers.site import PRESTART_PREFIX, prestarted_build

    reports = tmp_path / "reports"
    gone = psutil.Popen(["true"])  # a process id that no longer runs
    gone.wait()
    left = reports / f"{PRESTART_PREFIX}{gone.pid}-x1"
    other = reports / f"{PRESTART_PREFIX}{os.getppid()}-x2"
    for folder in (left, other):
        (folder / "source").mkdir(parents=True)
    with prestarted_build(reports) as build:
        process, folder = build.process, build.folder
        assert folder.is_dir()
        assert build.waiting()
        assert not left.exists()
        assert other.is_dir()
    assert process.poll() is not None
    assert not folder.exists()
    assert other.is_dir()


@pytest.mark.slow
def test_the_command_line_says_when_the_site_is_up_to_date(site, default_report, capsys):
    """The command line keeps a site built from the same notebooks and says so; a report
    without notebooks is one error line and exit 1."""
    from helpers.site import main

    before = (site / "index.html").stat().st_mtime_ns
    assert main([str(default_report), "--out", str(site)]) == 0
    assert capsys.readouterr().out.startswith("site up to date (built from these notebooks")
    assert (site / "index.html").stat().st_mtime_ns == before
    empty = site.parent / "no-notebooks"
    empty.mkdir()
    assert main([str(empty)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "holds no executed notebook" in err
