"""The content-keyed cache: a notebook re-runs only when something it depends on changed."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import cache
from helpers.errors import NotebookExecutionError
from helpers.paths import PROJECT_ROOT
from helpers.run import discover_notebooks, run

# Run in a new interpreter: import the libraries the helpers stand on (no helper), then fork
# one child per notebook that imports what the notebook imports and lists the helpers loaded.
_CLOSURE_PROBE = """\
import importlib, json, os, sys
for name in STACK:
    importlib.import_module(name)
assert not [m for m in sys.modules if m.split(".")[0] == "helpers"]
found = {}
for notebook, modules in PLAN.items():
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        for m in modules:
            importlib.import_module(m)
        loaded = sorted(m for m in sys.modules if m.split(".")[0] == "helpers")
        os.write(w, json.dumps(loaded).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as answer:
        text = answer.read()
    _, status = os.waitpid(pid, 0)
    found[notebook] = json.loads(text) if status == 0 else None
print(json.dumps(found))
"""


@pytest.mark.slow
def test_helper_closure_covers_every_module_a_notebook_imports_at_run_time():
    """Independent check: import what each notebook imports, list the helpers loaded.

    Each notebook's imports run in a child forked from one interpreter that has
    imported only third-party libraries, so each list is that notebook's alone.
    """
    notebooks = discover_notebooks()
    plan = {nb.name: sorted(cache.notebook_imports(nb)) for nb in notebooks}
    stack = ["numpy", "pandas", "scipy.stats", "statsmodels.api", "matplotlib.pyplot", "seaborn",
             "pingouin", "pandera.pandas", "yaml", "IPython.display"]  # fmt: skip
    code = f"STACK = {stack!r}\nPLAN = {plan!r}\n" + _CLOSURE_PROBE
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    found = json.loads(done.stdout)
    for nb in notebooks:
        assert found[nb.name] is not None, f"{nb.name}: importing its modules failed"
        files = {m.replace(".", "/") + ".py" for m in found[nb.name] if m != "helpers"}
        closure = cache.helper_closure(cache.notebook_imports(nb))
        assert files <= closure, (nb.name, sorted(files - closure))
        assert "helpers/site.py" not in closure  # the site is not an input of a notebook


@pytest.mark.slow
def test_the_helpers_one_notebook_uses_are_in_its_closure_alone():
    """What the README promises: a change to safety.py re-runs 03 only, to design.py 05 only,
    to site.py none (every module a notebook imports, transitively, is in its closure)."""
    closures = {nb.stem[:2]: cache.helper_closure(cache.notebook_imports(nb))
                for nb in discover_notebooks()}  # fmt: skip
    users = {m: sorted(k for k, c in closures.items() if f"helpers/{m}.py" in c)
             for m in ("safety", "design", "site")}  # fmt: skip
    assert users == {"safety": ["03"], "design": ["05"], "site": []}


def test_reasons_name_what_changed():
    inputs = {"notebooks/01_x.ipynb": "a", "src:helpers/stats.py": "b"}
    entry = {"key": "k", "python": cache._python(), "values": {"alpha": 0.05},
             "inputs": inputs, "outputs": {}}  # fmt: skip
    why = cache.reasons(
        entry,
        key="k2",
        values={"alpha": 0.1},
        inputs={**inputs, "src:helpers/stats.py": "c"},
        report=Path("/nonexistent"),
        stem="01_x",
    )
    assert why == [
        "parameters changed: alpha",
        "changed: helpers/stats.py",
        "its outputs in the report are missing or were changed",
    ]


def _notebook(folder: Path, name: str, params: str, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(body)]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def small(tmp_path: Path) -> dict[str, Path]:
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    data = tmp_path / "data.txt"
    data.write_text("3\n")
    _notebook(
        nbs,
        "01_reads",
        f'parameter_set = "x"\ndata_file = {str(data)!r}',
        "from helpers import errors\nprint(open(data_file).read())",
    )
    _notebook(nbs, "02_checks", 'parameter_set = "x"\nlimit = 5', "assert limit < 10, limit")
    params = tmp_path / "params"
    params.mkdir()
    (params / "small.yaml").write_text("description: cache\nnotebooks:\n  02_checks: {limit: 5}\n")
    return {"nbs": nbs, "data": data, "params": params, "reports": tmp_path / "reports"}


def _run(small, caplog, **kw) -> tuple[Path, dict[str, str]]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="helpers.run"):
        out = run(
            "small",
            sorted(small["nbs"].glob("*.ipynb")),
            reports_dir=small["reports"],
            params_dir=small["params"],
            progress=False,
            **kw,
        )
    said = {}
    for record in caplog.records:
        text = record.getMessage()
        for word in ("reused", "running"):
            if text.startswith(f"{word} "):
                stem, _, why = text.removeprefix(f"{word} ").partition(": ")
                said[stem] = f"{word}: {why}"
    return out, said


@pytest.mark.slow
@pytest.mark.usefixtures("warm_session")
def test_a_second_run_reuses_and_each_change_reruns_only_what_depends_on_it(small, caplog):
    out, said = _run(small, caplog)
    assert said == {"01_reads": "running: no earlier run of it in this report",
                    "02_checks": "running: no earlier run of it in this report"}  # fmt: skip
    first = {p.name: p.read_bytes() for p in out.glob("*.ipynb")}

    out, said = _run(small, caplog)  # nothing changed
    assert all(s.startswith("reused") for s in said.values()), said
    assert {p.name: p.read_bytes() for p in out.glob("*.ipynb")} == first

    small["data"].write_text("4\n")  # a file a parameter names
    out, said = _run(small, caplog)
    assert said["01_reads"] == f"running: changed: {small['data']}"
    assert said["02_checks"].startswith("reused")

    (small["params"] / "small.yaml").write_text(
        "description: cache\nnotebooks:\n  02_checks: {limit: 6}\n"
    )  # one notebook's parameter
    out, said = _run(small, caplog)
    assert said == {"01_reads": "reused: nothing it depends on changed",
                    "02_checks": "running: parameters changed: limit"}  # fmt: skip

    (out / "01_reads.html").write_text("edited by hand")  # an output changed
    out, said = _run(small, caplog)
    assert said["01_reads"] == "running: its outputs in the report are missing or were changed"

    out, said = _run(small, caplog, force=True)
    assert set(said.values()) == {"running: forced (--force)"}


@pytest.mark.slow
@pytest.mark.usefixtures("warm_session")
def test_a_failed_run_leaves_the_record_and_the_report_untouched(small, caplog):
    out, _ = _run(small, caplog)
    record = (out / cache.MANIFEST).read_bytes()
    (small["params"] / "small.yaml").write_text(
        "description: cache\nnotebooks:\n  02_checks: {limit: 50}\n"
    )
    with pytest.raises(NotebookExecutionError, match="AssertionError: 50"):
        _run(small, caplog)
    assert (out / cache.MANIFEST).read_bytes() == record
    (small["params"] / "small.yaml").write_text(
        "description: cache\nnotebooks:\n  02_checks: {limit: 5}\n"
    )
    _, said = _run(small, caplog)  # back as it was: the failure was never recorded
    assert all(s.startswith("reused") for s in said.values()), said


@pytest.mark.slow
@pytest.mark.usefixtures("warm_session")
def test_fresh_checks_every_recorded_input_output_and_the_site(small, caplog):
    out, _ = _run(small, caplog)
    set_file = small["params"] / "small.yaml"
    up, why = cache.fresh(out, set_file=set_file)
    assert (up, why) == (False, "the site has not been built from this report")
    (out / "site").mkdir()
    (out / "site" / cache.SITE_STAMP).write_text(
        json.dumps({"key": cache.site_key(out, cache.site_sources())})
    )
    up, why = cache.fresh(out, set_file=set_file)
    assert up, why
    assert "reused 01_reads, 02_checks and the site" in why
    small["data"].write_text("5\n")
    assert cache.fresh(out, set_file=set_file) == (False, f"01_reads: {small['data']} changed")
    small["data"].write_text("3\n")
    assert cache.fresh(out, set_file=set_file)[0]
    set_file.write_text(set_file.read_text() + "# a comment\n")
    assert cache.fresh(out, set_file=set_file) == (False, "the parameter set small.yaml changed")


def test_the_command_line_says_why_and_exits_1_when_there_is_no_record(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "helpers.cache", "--params", "default", "--reports",
         str(tmp_path)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("re-running: no record of an earlier run")


@pytest.mark.slow  # it runs make, and the runner
def test_a_set_that_does_not_exist_is_left_to_the_runner_to_refuse(tmp_path, capsys):
    """``make reproduce PARAMS=nosuch``: the up-to-date check says nothing and answers "not up
    to date"; the runner then refuses the set in one message, naming the sets there are."""
    from helpers import cache

    assert cache.main(["--params", "nosuch", "--reports", str(tmp_path)]) == 1
    assert capsys.readouterr() == ("", "")
    done = subprocess.run(
        ["make", "--no-print-directory", "reproduce", "PARAMS=nosuch"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if not line.startswith("make")]
    assert errors == [errors[0]]
    assert errors[0].startswith("error: no parameter set 'nosuch'")
    assert "available: " in errors[0]
    assert "default" in errors[0]
    assert done.stdout == ""
