"""nbval really guards the stored outputs: a changed age, or a changed figure, fails notebook 01."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.data import file_checksums
from helpers.paths import PROJECT_ROOT, ROOT_ENV

from conftest import rewrite

NB01 = "01_cohort_description.ipynb"


def _project_copy(tmp_path: Path, *, data: bool) -> Path:
    """The notebook 01 of a project copy, with its data when ``data`` (else the checkout's)."""
    root = tmp_path / "project"
    if data:
        shutil.copytree(
            PROJECT_ROOT / "data", root / "data", ignore=shutil.ignore_patterns("private")
        )
    (root / "notebooks").mkdir(parents=True)
    for name in (NB01, "sanitize.cfg"):
        shutil.copy(PROJECT_ROOT / "notebooks" / name, root / "notebooks" / name)
    for plugin in ("nbval_images.py", "session_zygote.py"):
        shutil.copy(PROJECT_ROOT / "tests" / plugin, root / plugin)
    (root / "pytest.ini").write_text("[pytest]\n")
    return root


def _nbval(root: Path, zygote: str | None) -> subprocess.Popen:
    """Start nbval on the copy's notebook 01 (collect it with ``_done``).

    With its own data (``zygote`` None) the copy is the project root of the helpers the
    kernel imports, which starts as a new process. Without, the kernel forks from the
    session's ``zygote`` (which imported the checkout's helpers), as nbval's kernels do in
    the session itself.
    """
    env = {**os.environ}
    plugins = ["-p", "nbval_images"]
    if zygote is None:
        env[ROOT_ENV] = str(root)
    else:
        plugins += ["-p", "session_zygote", f"--session-zygote={zygote}"]
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *plugins,
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            "notebooks/sanitize.cfg",
            f"notebooks/{NB01}",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _done(proc: subprocess.Popen) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=300)
    return proc.returncode, out


def _change_an_age(root: Path) -> None:
    patients = root / "data" / "standin" / "patients.csv"
    line = patients.read_text().splitlines()[1]  # first patient
    fields = line.split(",")
    fields[2] = str(int(fields[2]) + 1)
    rewrite(patients, line, ",".join(fields))
    # the stand-in's provenance records its files' checksums: record the edited one's too,
    # so that the changed age is the only difference
    provenance = root / "data" / "standin" / "provenance.json"
    record = json.loads(provenance.read_text())
    record["files"] = file_checksums(root / "data" / "standin")
    provenance.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")


def _change_a_figure(root: Path) -> None:
    path = root / "notebooks" / NB01
    nb = nbformat.read(path, as_version=4)
    figures = [
        out
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    ]
    assert figures, "notebook 01 stores a figure"
    png = base64.b64decode(figures[0]["data"]["image/png"])
    changed_png = png[:-40] + bytes(b ^ 0xFF for b in png[-40:-20]) + png[-20:]
    figures[0]["data"]["image/png"] = base64.b64encode(changed_png).decode()
    nbformat.write(nb, path)


@pytest.mark.slow
def test_a_changed_age_and_a_changed_figure_each_fail_nbval(tmp_path, session_zygote):
    """On copies of the project: a changed age fails at Table 1, and a changed stored figure
    fails on its image and nowhere else (so the copy itself passes: it is the control).
    The two runs go side by side; the second on the checkout's data, its kernel forked."""
    age = _project_copy(tmp_path / "age", data=True)
    figure = _project_copy(tmp_path / "figure", data=False)
    _change_an_age(age)
    _change_a_figure(figure)
    runs = {"age": _nbval(age, None), "figure": _nbval(figure, session_zygote)}
    results = {name: _done(proc) for name, proc in runs.items()}
    code, out = results["age"]
    assert code == 1, out[-2000:]
    assert "Table 1" in out or "hc.table_one" in out
    assert "Cell outputs differ" in out  # a changed output, not a failing cell
    code, out = results["figure"]
    assert code == 1, out[-2000:]
    assert "image/png" in out
    summary = out.strip().splitlines()[-1]
    assert re.match(r"1 failed, \d+ passed in ", summary), summary
