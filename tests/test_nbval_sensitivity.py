"""nbval really guards the stored outputs: one changed age in the data makes notebook 01 fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.paths import PROJECT_ROOT, ROOT_ENV

from conftest import rewrite

NB01 = "01_cohort_description.ipynb"


def _project_copy(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "data", root / "data", ignore=shutil.ignore_patterns("private"))
    (root / "notebooks").mkdir()
    for name in (NB01, "sanitize.cfg"):
        shutil.copy(PROJECT_ROOT / "notebooks" / name, root / "notebooks" / name)
    (root / "pytest.ini").write_text("[pytest]\n")
    return root


def _nbval(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, ROOT_ENV: str(root)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            "notebooks/sanitize.cfg",
            f"notebooks/{NB01}",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow
def test_one_changed_age_fails_nbval(tmp_path):
    root = _project_copy(tmp_path)
    control = _nbval(root)
    assert control.returncode == 0, control.stdout[-2000:]

    patients = root / "data" / "standin" / "patients.csv"
    line = patients.read_text().splitlines()[1]  # first patient
    fields = line.split(",")
    fields[2] = str(int(fields[2]) + 1)
    rewrite(patients, line, ",".join(fields))
    changed = _nbval(root)
    assert changed.returncode == 1, changed.stdout[-2000:]
    assert "Table 1" in changed.stdout or "hc.table_one" in changed.stdout
