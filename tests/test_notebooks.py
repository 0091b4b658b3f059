"""Structure of the stored notebooks and their parameters."""

from __future__ import annotations

import nbformat
import pytest

from helpers.run import (
    declared_parameters,
    discover_notebooks,
    load_parameter_set,
    resolve_parameters,
)

NOTEBOOKS = discover_notebooks()


def test_there_are_notebooks():
    assert [nb.name for nb in NOTEBOOKS][:1] == ["01_cohort_description.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_structure(path):
    nb = nbformat.read(path, as_version=4)
    first, second = nb.cells[0], nb.cells[1]
    assert first.cell_type == "markdown"
    assert first.source.startswith("# ")
    assert "Purpose" in first.source
    assert second.cell_type == "code"
    assert "parameters" in second.metadata.get("tags", [])
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "reconstructed" in text.lower()
    assert "not patient records" in text
    headings = [line.lower() for line in text.splitlines() if line.startswith("## ")]
    assert any("caveat" in h or "limitation" in h for h in headings)
    assert "hrep.environment_record()" in nb.cells[-1].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_declares_data_dir_and_parameter_set(path):
    assert {"data_dir", "parameter_set"} <= set(declared_parameters(path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_are_clean(path):
    nb = nbformat.read(path, as_version=4)
    assert "papermill" not in nb.metadata
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "run top to bottom"
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error", cell.source[:60]
            assert not (out.output_type == "stream" and out.name == "stderr"), out.text
        assert "papermill" not in cell.metadata
        assert "execution" not in cell.metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_stored_output_is_truncated(path):
    """pandas cuts long cells and wide tables with '...'; nothing a reader needs may be cut."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for kind in ("text/plain", "text/html", "text/markdown"):
                text = "".join(out.get("data", {}).get(kind, ""))
                assert "..." not in text, (cell.source[:60], kind)
                assert "…" not in text, (cell.source[:60], kind)


def test_default_set_equals_the_notebooks_own_defaults():
    """So the stored notebooks show exactly what `make reproduce` produces."""
    resolved = resolve_parameters(load_parameter_set("default"), NOTEBOOKS)
    for path, params in resolved.items():
        declared = declared_parameters(path)
        assert {k: declared[k] for k in params} == params, path.name


def test_every_parameter_set_fits_the_notebooks():
    from helpers.run import PARAMS_DIR

    for path in sorted(PARAMS_DIR.glob("*.yaml")):
        resolve_parameters(load_parameter_set(path.stem), NOTEBOOKS)


def test_reproduction_notebook_defaults_to_the_study_test():
    from studydef import STUDY

    declared = declared_parameters(NOTEBOOKS[0].parent / "04_reproduction_audit.ipynb")
    assert declared["test"] == STUDY.reading.test
    assert declared["precision_rule"] == STUDY.reading.precision_rule


def test_safety_notebook_cutoffs_default_to_the_documented_ones():
    from studydef import STUDY

    declared = declared_parameters(NOTEBOOKS[0].parent / "03_immunologic_safety.ipynb")
    documented = {o.code: o.cutoff.value for o in STUDY.outcomes if o.cutoff is not None}
    assert declared["cutoffs"] == documented
