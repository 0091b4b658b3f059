"""The readers' edition, built from a real run and opened in headless Chromium with no network.

The browser is Debian's ``chromium`` driven by Playwright (PyPI). Where it is
missing the test says what to install; in CI (``CI=true``) a missing browser is
a failure, not a skip (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from helpers.site import FINDING_TAG, build_site, finding, prepare_notebook

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


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    from helpers.run import run

    reports = tmp_path_factory.mktemp("reports")
    report = run("default", reports_dir=reports, progress=False)
    return build_site(report)


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
            # nothing is wider than the viewport
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 1280, f"{name}: the page is {wide} px wide"
            if name.startswith("0"):
                # code is hidden until revealed, and a click reveals it
                inputs = page.locator("div.cell_input")
                assert inputs.count() > 0, name
                assert page.locator("div.cell_input:visible").count() == 0, f"{name}: code shown"
                page.locator("details.hide.above-input > summary").first.click()
                assert inputs.first.is_visible(), f"{name}: code cannot be revealed"
                assert "check_parameters" not in page.content()
                assert "injected-parameters" not in page.content()
            page.screenshot(path=str(shots / f"{Path(name).stem}.png"), full_page=True)
            page.close()
        browser.close()
    assert not outside, f"requests left the machine: {outside[:5]}"
    assert len(titles) == len(pages), f"pages share titles: {sorted(titles)}"
    assert sorted(p.name for p in shots.glob("*.png")) == sorted(
        f"{Path(n).stem}.png" for n in pages
    )
