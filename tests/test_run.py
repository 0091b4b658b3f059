"""The papermill runner: parameters, reports, failures that keep the last good report."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys

import nbformat
import pytest
import tiny

from helpers.errors import DataValidationError, ParameterError
from helpers.run import (
    ParameterSet,
    discover_notebooks,
    load_parameter_set,
    refresh_in_place,
    resolve_parameters,
    run,
    strip_volatile_metadata,
)

from conftest import STANDIN

NB01 = discover_notebooks()[0]


def test_unknown_parameter_is_an_error():
    pset = ParameterSet("x", notebooks={NB01.stem: {"data_dri": "data/standin"}})
    with pytest.raises(ParameterError, match="unknown parameter 'data_dri'") as info:
        resolve_parameters(pset, [NB01])
    assert "declared: " in str(info.value)
    assert "data_dir" in str(info.value)


def test_common_parameter_declared_nowhere_is_an_error():
    with pytest.raises(ParameterError, match="common parameter 'alpah'"):
        resolve_parameters(ParameterSet("x", common={"alpah": 0.05}), [NB01])


def test_section_for_unknown_notebook_is_an_error():
    with pytest.raises(ParameterError, match="names no notebook"):
        resolve_parameters(ParameterSet("x", notebooks={"09_nothing": {}}), [NB01])


def test_parameter_set_file_errors(tmp_path):
    with pytest.raises(ParameterError, match="available: bhansali2014, default, private"):
        load_parameter_set("nope")
    directory = tiny.parameter_set(tmp_path, "odd", "commons:\n  data_dir: x\n")
    with pytest.raises(ParameterError, match="unexpected top-level keys"):
        load_parameter_set("odd", directory)
    directory = tiny.parameter_set(tmp_path, "broken", "common: [\n")
    with pytest.raises(ParameterError, match="not valid YAML"):
        load_parameter_set("broken", directory)


@pytest.mark.slow
@pytest.mark.usefixtures("warm_session")
def test_a_notebook_is_written_when_it_starts_and_ends_not_at_every_cell(tmp_path, monkeypatch):
    """papermill's manager writes the notebook before and after each cell (10 writes for 4
    cells, 11 with papermill's own last write); the runner's engine (SavingAtEnds) when it
    starts and when it ends (2, and papermill's last write, which this does not count), also
    when a cell fails: the notebook kept shows the error, and the cells after it unrun."""
    import papermill.engines

    from helpers.run import execute_notebook

    writes = []
    real = papermill.engines.write_ipynb

    def counted(nb, path):
        writes.append(path)
        return real(nb, path)

    monkeypatch.setattr(papermill.engines, "write_ipynb", counted)
    ok = tiny.notebook(tmp_path, "ok", "x = 6", "print(x * 7)", "y = [1]", "print(len(y))")
    result = execute_notebook(ok, tmp_path / "ok-run.ipynb", {})
    assert result.error is None
    assert writes == [str(tmp_path / "ok-run.ipynb")] * 2
    printed = [c.outputs[0]["text"] for c in nbformat.read(result.output, 4).cells if c.outputs]
    assert printed == ["42\n", "1\n"]
    writes.clear()
    fails = tiny.notebook(tmp_path, "fails", "x = 1", "print(x / 0)", "print('not reached')")
    result = execute_notebook(fails, tmp_path / "fails-run.ipynb", {})
    assert "ZeroDivisionError" in str(result.error)
    assert len(writes) == 2
    cells = [c for c in nbformat.read(result.output, 4).cells if c.cell_type == "code"]
    assert cells[-2].outputs[0]["ename"] == "ZeroDivisionError"
    assert cells[-1].outputs == []
    assert cells[-1].execution_count is None


@pytest.mark.slow
def test_a_run_reads_each_notebook_once_and_skips_what_the_set_skips(tmp_path, monkeypatch):
    """Parameters are resolved, checked and the inputs validated on one reading per notebook."""
    import papermill

    import helpers.run as hr

    calls = []
    real = papermill.inspect_notebook
    monkeypatch.setattr(papermill, "inspect_notebook", lambda p: calls.append(p) or real(p))
    hr._declared.cache_clear()
    directory = tiny.parameter_set(
        tmp_path,
        "skipping",
        "common:\n  data_dir: nowhere\nskip:\n  03_immunologic_safety: no antibodies here\n",
    )
    with pytest.raises(DataValidationError, match="data folder not found"):
        hr.run("skipping", reports_dir=tmp_path / "reports", params_dir=directory, progress=False)
    ran = [nb for nb in discover_notebooks() if not nb.name.startswith("03_")]
    assert sorted(calls) == sorted(str(nb.absolute()) for nb in ran)
    assert not (tmp_path / "reports" / "skipping").exists()
    directory = tiny.parameter_set(tmp_path, "odd", "skip:\n  09_nothing: why\n")
    with pytest.raises(ParameterError, match="skips unknown notebook"):
        hr.run("odd", reports_dir=tmp_path / "reports", params_dir=directory, progress=False)


def test_parameter_set_name_is_injected():
    resolved = resolve_parameters(load_parameter_set("default"), [NB01])
    assert resolved[NB01]["parameter_set"] == "default"


@pytest.mark.slow
@pytest.mark.usefixtures("warm_session")
def test_run_writes_notebook_and_html_then_a_failure_keeps_the_report(tmp_path, default_report):
    bad = tmp_path / "bad"
    shutil.copytree(STANDIN, bad)
    (bad / "patients.csv").write_text(
        (bad / "patients.csv").read_text().replace("P02,F,", "P02,F,forty-", 1)
    )
    directory = tiny.parameter_set(tmp_path, "good", "common:\n  data_dir: data/standin\n")
    tiny.parameter_set(tmp_path, "bad", f"common:\n  data_dir: {bad}\n")
    reports = tmp_path / "reports"

    # every notebook, side by side in two processes (kernels must not share sockets):
    # the shared run of the default set (conftest.default_report)
    notebooks = discover_notebooks()
    assert len(notebooks) >= 2
    out = default_report
    expected = sorted([nb.name for nb in notebooks] + [f"{nb.stem}.html" for nb in notebooks])
    shown = sorted(p.name for p in out.iterdir() if p.is_file() and not p.name.startswith("."))
    assert shown == expected
    assert (out / ".cache.json").is_file()  # the record the next run reuses notebooks by
    written = {p.name for p in (out / "tables").iterdir()}
    for name in ("01_table_one.csv", "02_abstract_format.csv", "04_verdicts.csv"):
        assert name in written
    for stem in ("01_patients", "02_trajectories", "02_changes", "03_patients", "04_reachability"):
        assert {f"{stem}.png", f"{stem}.svg"} <= written, stem
    executed = nbformat.read(out / NB01.name, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'parameter_set = "default"' in injected[0].source
    html = (out / f"{NB01.stem}.html").read_text()
    assert 'alt="Figure: Age; Cells infused; Culture time' in html
    assert "Culture time. STAND-IN DATA — RECONSTRUCTED, NOT PATIENT RECORDS" in html

    # bad data stop the run before any kernel, and touch no report
    good = run("good", [NB01], reports_dir=reports, params_dir=directory, progress=False)
    good_bytes = (good / NB01.name).read_bytes()
    (reports / "bad").mkdir()
    (reports / "bad" / "keep.txt").write_text("last good report")
    with pytest.raises(DataValidationError) as info:
        run("bad", [NB01], reports_dir=reports, params_dir=directory, progress=False)
    message = str(info.value)
    assert "age_years" in message
    assert str(bad / "patients.csv") in message
    assert (reports / "bad" / "keep.txt").read_text() == "last good report"
    assert not (reports / "bad.failed").exists()
    assert (good / NB01.name).read_bytes() == good_bytes
    leftovers = [p for p in reports.iterdir() if ".staging-" in p.name or ".previous-" in p.name]
    assert not leftovers, "staging left behind"


@pytest.mark.slow
def test_every_file_in_tables_says_which_data_it_came_from(default_report):
    """A table or figure taken away from tables/ still says the data are reconstructed: each
    notebook's note holds the statement the notebook shows under its title, and each figure
    file records the label, as does each figure the notebook shows. Notebook 04's audit reads
    only the abstract's figures: its note
    says which of its files come from them alone, and its figure is labelled so. Checked
    against the data folder's provenance.json and the executed notebooks, not against the
    helpers that wrote the files."""
    import json

    provenance = json.loads((STANDIN / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["kind"] == "reconstructed"
    label = "STAND-IN DATA — RECONSTRUCTED, NOT PATIENT RECORDS"
    audit_label = "COMPUTED FROM THE PUBLISHED FIGURES ALONE, NOT FROM PATIENT-LEVEL DATA"
    tables = default_report / "tables"
    notebooks = discover_notebooks()
    prefixes = [nb.name.split("_")[0] for nb in notebooks]
    assert sorted({p.name.split("_")[0] for p in tables.iterdir()}) == sorted(prefixes)
    for nb, prefix in zip(notebooks, prefixes, strict=True):
        head, about = (tables / f"{prefix}_README.txt").read_text(encoding="utf-8").split("\n\n", 1)
        assert f'names begin with "{prefix}_"' in " ".join(head.split())
        about = " ".join(about.split())
        statement = about[about.index(label) :]
        if prefix == "04":
            assert about.startswith("The audit's verdicts and its reachability figure are ")
            assert "figures (data/reported/abstract_figures.csv) alone, not from patient-" in about
        else:
            assert about == statement
        assert statement.startswith(f"{label}. The files in data/standin were generated")
        assert provenance["method"] in statement
        assert f"> **{statement}**" in tiny.shown(default_report / nb.name), nb.name
    figures = tiny.figure_files(tables)
    assert len(figures) >= 2 * len(notebooks)  # a PNG and an SVG of at least one each
    assert tiny.file_labels(tables) == {
        name: audit_label if name.startswith("04_reachability.") else label for name in figures
    }
    # the figures shown in the notebooks (and so in their HTML and on the site) say it too
    for nb, prefix in zip(notebooks, prefixes, strict=True):
        shown = tiny.image_labels(default_report / nb.name)
        assert shown, nb.name
        assert set(shown) == {audit_label if prefix == "04" else label}, nb.name


@pytest.mark.slow
def test_the_visits_tables_are_the_numbers_behind_the_summaries(default_report):
    """02_visits.csv and 03_visits.csv hold each outcome's visit as numbers (the summary tables
    hold them formatted): recomputed here with a pandas groupby of the measurements."""
    import pandas as pd

    m = pd.read_csv(STANDIN / "measurements.csv")
    stats = m.groupby(["outcome", "visit_month"])["value"]
    want = pd.DataFrame({
        "n": stats.size(), "mean": stats.mean(), "sd": stats.std(), "median": stats.median(),
        "q1": stats.quantile(0.25), "q3": stats.quantile(0.75), "min": stats.min(),
        "max": stats.max(),
    })  # fmt: skip
    codes = {"02": ["insulin_dose", "hba1c", "leptin"], "03": ["gad_ab", "islet_ab"]}
    for prefix, outcomes in codes.items():
        got = pd.read_csv(default_report / "tables" / f"{prefix}_visits.csv")
        assert list(dict.fromkeys(got["outcome"])) == outcomes  # the study's order
        got = got.set_index(["outcome", "visit_month"])
        expected = want.loc[got.index]
        assert len(got) == len(want.loc[outcomes])  # every visit measured, no other
        for column in want.columns:
            assert got[column].to_numpy() == pytest.approx(expected[column].to_numpy()), column


@pytest.mark.slow
@pytest.mark.usefixtures("warm_session")
def test_command_line_exit_status_and_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "helpers.run", "--params", "nope", "--no-progress"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: no parameter set 'nope'")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.usefixtures("warm_session")
def test_refresh_in_place_is_byte_stable(tmp_path, capfd):
    """One refresh of a copy gives the stored notebook's bytes, which an earlier refresh wrote;
    its forked kernel prints nothing of its own (ipykernel's banner for a kernel started from a
    terminal, "Ctrl-C will not work", is for a kernel without a parent)."""
    copy = tmp_path / NB01.name
    shutil.copy(NB01, copy)
    refresh_in_place([copy])
    assert copy.read_bytes() == NB01.read_bytes(), "stored notebook is stale: run `make notebooks`"
    printed = capfd.readouterr()
    assert "Ctrl-C will not work" not in printed.out + printed.err
    assert "--existing" not in printed.out + printed.err


def test_site_flag_builds_the_site_of_the_report_just_written(monkeypatch, tmp_path):
    """``make reproduce`` is one command, ``helpers.run --site``: the report the run returns
    goes to ``helpers.site``'s command line in the same process, with ``--force`` passed on
    and the Sphinx build started once the run is checked, in the reports folder of the run,
    and told to warm up when the run drains (a CPU falls idle); without the flag no site is
    built, and a failed site build is the command's failure. The progress bar is drawn only
    on a terminal (in a log it is a stream of fragments)."""
    import helpers.run as runner
    from helpers import site

    report = tmp_path / "reports" / "default"
    calls, progress, warmed = [], [], []

    def fake_run(*args, **kwargs):
        progress.append(kwargs["progress"])
        assert (kwargs["when_checked"] is None) == (kwargs["when_draining"] is None)
        if kwargs["when_checked"] is not None:  # the run is checked: Sphinx may start
            kwargs["when_checked"]()
            kwargs["when_draining"]()  # a worker has no notebook left
        return report

    monkeypatch.setattr(runner, "run", fake_run)
    monkeypatch.setattr(runner, "check_checkout", lambda: None)
    started = []

    class Build(str):
        def warm(self):
            warmed.append(str(self))

    @contextlib.contextmanager
    def prestarted(reports):  # Sphinx started with the run (helpers.sitebuild)
        started.append(reports)
        yield Build(f"build {len(started)}")

    monkeypatch.setattr(site, "prestarted_build", prestarted)
    record = lambda argv, prestarted: calls.append((argv, prestarted)) or 0  # noqa: E731
    monkeypatch.setattr(site, "main", record)
    assert runner.main(["--site"]) == 0
    assert runner.main(["--site", "--force", "--reports", "elsewhere"]) == 0
    assert runner.main([]) == 0
    assert calls == [([str(report)], "build 1"), ([str(report), "--force"], "build 2")]
    assert started == [str(runner.REPORTS_DIR), "elsewhere"]
    assert warmed == ["build 1", "build 2"]
    assert progress == [False] * 3  # the output here is not a terminal: no progress bar
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert runner.main([]) == 0
    assert runner.main(["--no-progress"]) == 0
    assert progress[-2:] == [True, False]
    monkeypatch.setattr(site, "main", lambda argv, prestarted: 1)
    assert runner.main(["--site"]) == 1
    with pytest.raises(SystemExit) as refused:  # argparse's usage error: exit status 2
        runner.main(["--site", "--refresh-in-place"])
    assert refused.value.code == 2


@pytest.mark.slow
def test_the_html_report_is_nbconvert_s_classic_page(default_report, tmp_path):
    """The runner's template (``amsct_report``) leaves out the classic template's second
    sanitising of highlighted code, which Pygments has escaped already: every executed
    notebook, and a cell whose code and outputs are markup, give the classic page byte for
    byte, and the code's markup is shown, never run."""
    from nbconvert import HTMLExporter

    from helpers.run import _html_exporter

    classic = HTMLExporter(template_name="classic")
    hostile = nbformat.v4.new_notebook()
    code = "x = \"<script>alert('&amp;')</script>\"  # <b>bold</b> &lt; é\ndisplay(x)"
    cell = nbformat.v4.new_code_cell(code, execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="<script>1</script>")]
    hostile.cells = [cell, nbformat.v4.new_markdown_cell("<i>a</i> & <script>2</script>")]
    hostile.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    notebooks = [nbformat.read(p, as_version=4) for p in sorted(default_report.glob("*.ipynb"))]
    for nb in [*notebooks, hostile]:
        assert _html_exporter().from_notebook_node(nb)[0] == classic.from_notebook_node(nb)[0]
    page = _html_exporter().from_notebook_node(hostile)[0]
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert('&amp;amp;')&lt;/script&gt;" in page
    assert "# &lt;b&gt;bold&lt;/b&gt; &amp;lt; é" in page


def test_strip_volatile_metadata():
    nb = nbformat.v4.new_notebook(metadata={"papermill": {"duration": 1.0}})
    nb.cells = [
        nbformat.v4.new_code_cell("1", metadata={"execution": {}, "papermill": {}, "tags": ["x"]})
    ]
    strip_volatile_metadata(nb)
    assert nb.metadata == {}
    assert nb.cells[0].metadata == {"tags": ["x"]}


def test_command_line_overrides_are_read_as_yaml_and_checked(tmp_path, capsys):
    from helpers.run import apply_overrides, main, parse_override

    assert parse_override("outcomes=[hba1c, leptin]") == ("outcomes", ["hba1c", "leptin"])
    assert parse_override("04_reproduction_audit.precision_rule=truncate") == (
        "04_reproduction_audit.precision_rule",
        "truncate",
    )
    with pytest.raises(ParameterError, match="write NAME=VALUE"):
        parse_override("alpha")
    with pytest.raises(ParameterError, match="not valid YAML"):
        parse_override("outcomes=[hba1c")
    with pytest.raises(ParameterError, match="set by the runner"):
        apply_overrides(ParameterSet("x"), {"tables_dir": "/tmp"})
    merged = apply_overrides(
        ParameterSet("x", common={"alpha": 0.05}, notebooks={"02_x": {"alpha": 0.01}}),
        {"alpha": 0.1},
    )
    assert merged.common == {"alpha": 0.1}
    assert merged.notebooks == {"02_x": {}}
    code = main(["-p", "alpha=1.5", "-p", "visits=[0, 9]", "--reports", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "alpha = 1.5: must be a number greater than 0 and less than 0.5" in err
    assert "visits = [0, 9]: must hold visit months of the study amsct_t1dm" in err
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
@pytest.mark.usefixtures("warm_session")
def test_an_override_runs_into_its_own_report(tmp_path):
    from helpers.run import main

    nb04 = "04_reproduction_audit"
    args = ["-p", f"{nb04}.precision_rule=truncate", "--notebook", nb04]
    assert main([*args, "--reports", str(tmp_path), "--no-progress"]) == 0
    executed = nbformat.read(tmp_path / "default-custom" / f"{nb04}.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'precision_rule = "truncate"' in injected[0].source
    assert not (tmp_path / "default").exists()


def test_help_notebook_shows_every_parameter_with_its_type():
    import re

    import papermill

    for nb in discover_notebooks():
        info = papermill.inspect_notebook(str(nb))
        cell = next(c for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code")
        assigned = re.findall(r"^([a-z_]+)\s*[:=]", cell.source, flags=re.M)
        assert list(info) == assigned, nb.name
        untyped = [k for k, v in info.items() if v["inferred_type_name"] == "None"]
        assert not untyped, f"{nb.name}: no type for {untyped}"


def test_a_partial_run_takes_the_common_parameters_its_notebook_does_not_declare():
    """--notebook 05 with the default set: reported_path serves other notebooks, not an error;
    a common name no notebook of the folder declares still is."""
    nb05 = next(nb for nb in discover_notebooks() if nb.name.startswith("05_"))
    resolved = resolve_parameters(load_parameter_set("default"), [nb05])
    assert "reported_path" not in resolved[nb05]
    assert resolved[nb05]["data_dir"] == "data/standin"
    typo = ParameterSet("x", common={"data_dri": "data/standin"})
    with pytest.raises(ParameterError, match="common parameter 'data_dri' is declared by no"):
        resolve_parameters(typo, [nb05])


@pytest.mark.slow
def test_inputs_that_passed_are_not_checked_again_until_they_change(tmp_path, data_copy,
                                                                    monkeypatch):  # fmt: skip
    """The runner's early check is skipped for inputs it passed before, byte for byte."""
    from helpers import data as hd
    from helpers import run

    checked: list[tuple] = []
    real = hd.load_cohort
    monkeypatch.setattr(hd, "load_cohort", lambda *a, **k: checked.append(a) or real(*a, **k))
    values = {"study_file": "data/study.yaml", "data_dir": str(data_copy),
              "reported_path": "data/reported/abstract_figures.csv"}  # fmt: skip
    resolved = {run.discover_notebooks()[0]: values}
    record = tmp_path / "reports" / ".checked"
    run._check_inputs(resolved, record)
    run._check_inputs(resolved, record)
    assert len(checked) == 1
    assert len(list(record.glob("*.cohort.pickle"))) == 1  # the cohort, for the kernels
    assert len(list(record.glob("[!.]*"))) == 2
    # changed data are checked again: a bad value is refused, and its refusal not recorded
    path = data_copy / "measurements.csv"
    path.write_text(path.read_text().replace("63.3", "-63.3", 1))
    with pytest.raises(DataValidationError) as refused:
        run._check_inputs(resolved, record)
    assert refused.value.failures[0].value == "-63.3"
    with pytest.raises(DataValidationError):
        run._check_inputs(resolved, record)
    assert len(checked) == 3
    assert len(list(record.glob("[!.]*"))) == 2
    path.write_text(path.read_text().replace("-63.3", "63.3", 1))  # as it was: recorded
    run._check_inputs(resolved, record)
    assert len(checked) == 3
    run._check_inputs(resolved, None)  # without a record, always checked
    assert len(checked) == 4


@pytest.mark.slow
def test_a_pruned_cohort_is_checked_and_stored_again_and_a_changing_one_not_at_all(
    tmp_path, data_copy, monkeypatch
):
    from helpers import data as hd
    from helpers import run

    loads: list[tuple] = []
    real = hd.load_cohort
    monkeypatch.setattr(hd, "load_cohort", lambda *a, **k: loads.append(a) or real(*a, **k))
    values = {"study_file": "data/study.yaml", "data_dir": str(data_copy)}
    resolved = {run.discover_notebooks()[0]: values}
    record = tmp_path / "reports" / ".checked"
    run._check_inputs(resolved, record)
    (stored,) = record.glob("*.cohort.pickle")
    stored.unlink()  # pruned (another data folder was checked since)
    run._check_inputs(resolved, record)
    assert len(loads) == 2
    assert stored.is_file()
    run._check_inputs(resolved, record)
    assert len(loads) == 2

    def changing(*a, **k):  # the file is edited while it is being checked
        cohort = real(*a, **k)
        path = data_copy / "measurements.csv"
        path.write_text(path.read_text().replace("63.3", "99.9", 1))
        return cohort

    monkeypatch.setattr(hd, "load_cohort", changing)
    fresh = tmp_path / "other" / ".checked"
    run._check_inputs(resolved, fresh)
    assert not fresh.exists()  # neither a record nor a cohort: the notebooks check the files


@pytest.mark.slow
def test_kernels_read_the_cohort_the_runner_checked(tmp_path):
    """A notebook run by the runner reads the cohort checked before it started, unvalidated."""
    from helpers import cache
    from helpers.run import run

    body = (
        "import os\n"
        "from helpers import data\n"
        "data.validate_table = None  # validating again would fail here\n"
        "cohort = data.load_cohort(data_dir, study=study_file)\n"
        "assert len(cohort.patients) == 7, cohort\n"
        f"assert os.environ[{cache.CHECKED_ENV!r}] == {str(tmp_path / 'reports' / '.checked')!r}"
    )
    parameters = 'parameter_set = "x"\nstudy_file = "data/study.yaml"\ndata_dir = "data/standin"'
    nb = tiny.notebook(tmp_path / "nbs", "01_reads", body, parameters=parameters)
    params = tiny.parameter_set(tmp_path, "case", "description: the kernels read checked cohorts\n")
    run("case", [nb], reports_dir=tmp_path / "reports", params_dir=params, progress=False)
    assert len(list((tmp_path / "reports" / ".checked").glob("*.cohort.pickle"))) == 1


@pytest.mark.slow  # 0.3 s or more alone (make check leaves it to make test)
def test_the_checked_key_changes_with_the_checking_code(monkeypatch):
    from helpers import cache

    closure = cache.helper_closure(cache._CHECKERS)
    assert {"helpers/data.py", "helpers/schema.py", "helpers/study.py", "helpers/reported.py",
            "helpers/errors.py"} <= closure  # fmt: skip
    before = cache.checked_key(["data/standin"])
    real = cache.digest
    monkeypatch.setattr(cache, "digest", lambda p: "edited" if p.name == "schema.py" else real(p))
    assert cache.checked_key(["data/standin"]) != before


def test_longest_first_orders_by_file_size_then_name(tmp_path):
    from helpers.run import longest_first

    sizes = {"01_a.ipynb": 10, "02_b.ipynb": 300, "03_c.ipynb": 300, "04_d.ipynb": 20}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    ordered = longest_first([tmp_path / n for n in sorted(sizes)])
    assert [p.name for p in ordered] == ["02_b.ipynb", "03_c.ipynb", "04_d.ipynb", "01_a.ipynb"]


@pytest.mark.slow
def test_one_worker_runs_the_notebook_expected_to_take_longest_first(tmp_path, caplog):
    """With one worker the notebooks end in the order they were handed out."""
    import logging

    from helpers.run import run

    folder = tmp_path / "nbs"
    small = tiny.notebook(folder, "01_small", "x = 1", parameters='parameter_set = "x"')
    large = tiny.notebook(
        folder, "02_large", "x = 2  # " + "padding " * 2000, parameters='parameter_set = "x"'
    )
    params = tiny.parameter_set(tmp_path, "case", "description: scheduling\n")
    with caplog.at_level(logging.INFO, logger="helpers.run"):
        run(
            "case",
            [small, large],
            reports_dir=tmp_path / "reports",
            params_dir=params,
            jobs=1,
            progress=False,
        )
    done = [r.getMessage().split()[0] for r in caplog.records if " done in " in r.getMessage()]
    assert done == ["02_large.ipynb", "01_small.ipynb"]


@pytest.mark.slow
def test_the_run_says_once_when_a_worker_has_no_notebook_left(tmp_path, caplog):
    """``when_draining`` (``--site`` warms the waiting Sphinx build there) is called once, as
    soon as fewer notebooks are left to finish than there are workers: with one worker when
    the last has ended, with two when the first of two has, with three before any has."""
    import logging

    from helpers.run import run

    folder = tmp_path / "nbs"
    books = [
        tiny.notebook(folder, f"0{i}_nb", f"x = {i}", parameters='parameter_set = "x"')
        for i in (1, 2)
    ]
    params = tiny.parameter_set(tmp_path, "case", "description: draining\n")
    ended_when_drained = {}
    for jobs in (1, 2, 3):
        calls = []
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="helpers.run"):

            def drained(calls=calls):
                calls.append(sum(" done in " in r.getMessage() for r in caplog.records))

            run("case", books, reports_dir=tmp_path / f"reports{jobs}", params_dir=params,
                jobs=jobs, progress=False, when_draining=drained)  # fmt: skip
        ended_when_drained[jobs] = calls
    assert ended_when_drained == {1: [2], 2: [1], 3: [0]}
