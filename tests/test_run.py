"""The papermill runner: parameters, reports, failures that keep the last good report."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.errors import NotebookExecutionError, ParameterError
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


def _params(tmp_path: Path, name: str, text: str) -> Path:
    directory = tmp_path / "params"
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.yaml").write_text(text)
    return directory


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
    with pytest.raises(ParameterError, match="available: default, private"):
        load_parameter_set("nope")
    directory = _params(tmp_path, "odd", "commons:\n  data_dir: x\n")
    with pytest.raises(ParameterError, match="unexpected top-level keys"):
        load_parameter_set("odd", directory)
    directory = _params(tmp_path, "broken", "common: [\n")
    with pytest.raises(ParameterError, match="not valid YAML"):
        load_parameter_set("broken", directory)


def test_parameter_set_name_is_injected():
    resolved = resolve_parameters(load_parameter_set("default"), [NB01])
    assert resolved[NB01]["parameter_set"] == "default"


@pytest.mark.slow
def test_run_writes_notebook_and_html_then_a_failure_keeps_the_report(tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(STANDIN, bad)
    (bad / "patients.csv").write_text(
        (bad / "patients.csv").read_text().replace("P02,F,", "P02,F,forty-", 1)
    )
    directory = _params(tmp_path, "good", "common:\n  data_dir: data/standin\n")
    _params(tmp_path, "bad", f"common:\n  data_dir: {bad}\n")
    reports = tmp_path / "reports"

    # every notebook, side by side in two processes (kernels must not share sockets)
    notebooks = discover_notebooks()
    assert len(notebooks) >= 2
    out = run("good", notebooks, reports_dir=reports, params_dir=directory, jobs=2, progress=False)
    expected = sorted([nb.name for nb in notebooks] + [f"{nb.stem}.html" for nb in notebooks])
    assert sorted(p.name for p in out.iterdir()) == expected
    executed = nbformat.read(out / NB01.name, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'parameter_set = "good"' in injected[0].source
    assert 'alt="Figure: Age at infusion' in (out / f"{NB01.stem}.html").read_text()

    # a failing set writes .failed and never touches another set's report
    good_bytes = (out / NB01.name).read_bytes()
    (reports / "bad").mkdir()
    (reports / "bad" / "keep.txt").write_text("last good report")
    with pytest.raises(NotebookExecutionError) as info:
        run("bad", [NB01], reports_dir=reports, params_dir=directory, progress=False)
    message = str(info.value)
    assert NB01.name in message
    assert "DataValidationError" in message
    assert "age_years" in message
    assert "cell" in message
    assert (reports / "bad" / "keep.txt").read_text() == "last good report"
    assert (reports / "bad.failed" / NB01.name).exists()
    assert (out / NB01.name).read_bytes() == good_bytes
    assert not [p for p in reports.iterdir() if p.name.startswith(".")], "staging left behind"


@pytest.mark.slow
def test_command_line_exit_status_and_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "helpers.run", "--params", "nope", "--no-progress"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: no parameter set 'nope'")
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_refresh_in_place_is_byte_stable(tmp_path):
    copy = tmp_path / NB01.name
    shutil.copy(NB01, copy)
    refresh_in_place([copy])
    first = copy.read_bytes()
    refresh_in_place([copy])
    assert copy.read_bytes() == first
    assert first == NB01.read_bytes(), "stored notebook is stale: run `make notebooks`"


def test_strip_volatile_metadata():
    nb = nbformat.v4.new_notebook(metadata={"papermill": {"duration": 1.0}})
    nb.cells = [
        nbformat.v4.new_code_cell("1", metadata={"execution": {}, "papermill": {}, "tags": ["x"]})
    ]
    strip_volatile_metadata(nb)
    assert nb.metadata == {}
    assert nb.cells[0].metadata == {"tags": ["x"]}
