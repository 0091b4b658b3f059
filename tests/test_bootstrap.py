"""tools/bootstrap.py: which Pythons, which .venv can be reused, and uv pointed at pip's indexes."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bootstrap", ROOT / "tools" / "bootstrap.py")
bootstrap = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bootstrap)


@pytest.mark.parametrize(
    ("version", "ok"),
    [((3, 11, 7), True), ((3, 11, 5), True), ((3, 11, 2), False), ((3, 12, 0), False),
     ((3, 10, 14), False)],
)  # fmt: skip
def test_only_pythons_the_lock_installs_on_are_accepted(version, ok):
    assert bootstrap.fits(version) is ok


def _fake_venv(tmp_path: Path, version: str, *, stamp: bool) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(f"#!/bin/sh\necho {version}\n")
    python.chmod(0o755)
    if stamp:
        (venv / ".installed").write_text(json.dumps(bootstrap.wanted_stamp()))
    return venv


def test_a_venv_is_reused_only_when_whole_and_made_by_a_fitting_python(tmp_path):
    assert "missing" in bootstrap.usable(tmp_path / "none")
    ok = _fake_venv(tmp_path / "a", "3.11.7", stamp=True)
    assert bootstrap.usable(ok) is None
    wrong = _fake_venv(tmp_path / "b", "3.12.1", stamp=True)
    assert "made by Python 3.12.1" in bootstrap.usable(wrong)
    half = _fake_venv(tmp_path / "c", "3.11.7", stamp=False)
    assert "did not finish" in bootstrap.usable(half)


def test_uv_is_pointed_at_the_indexes_pip_is_configured_with(tmp_path, monkeypatch):
    local = tmp_path / "simple"
    local.mkdir()
    listed = (
        f"global.extra-index-url='file://{local} file:///no/such/index'\n"
        f"global.find-links='{tmp_path}'\n"
        "global.index-url='https://mirror.example/simple'\n"
        ":env:.cert='/etc/ssl/certs/ca.crt'\n"
    )

    def fake_run(command, **kw):
        assert command[-2:] == ["config", "list"]
        return subprocess.CompletedProcess(command, 0, stdout=listed, stderr="")

    monkeypatch.setattr(bootstrap.subprocess, "run", fake_run)
    options, env = bootstrap.pip_index_options()
    assert options == [
        "--index-url", "https://mirror.example/simple",
        "--extra-index-url", f"file://{local}",  # the missing local index is left out, as pip does
        "--find-links", str(tmp_path),
        "--index-strategy", "unsafe-best-match",
    ]  # fmt: skip
    assert env == {"SSL_CERT_FILE": "/etc/ssl/certs/ca.crt"}


def test_a_wrong_python_is_refused_before_anything_is_built(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bootstrap.sys, "version_info", (3, 12, 3, "final", 0))
    with pytest.raises(SystemExit) as info:
        bootstrap.main(["--venv", str(tmp_path / "v")])
    assert "needs Python 3.11.5 or a later 3.11" in str(info.value)
    assert "nothing was built or removed" in str(info.value)
    assert not (tmp_path / "v").exists()


def test_the_makefile_builds_the_environment_with_the_bootstrap():
    text = (ROOT / "Makefile").read_text()
    quick = "@$(BIN)/python tools/bootstrap.py --venv $(VENV) --ready 2>/dev/null || \\\n"
    assert quick + "\t  $(PYTHON) tools/bootstrap.py --venv $(VENV)\n" in text
    assert sys.version_info[:2] == (3, 11)


def test_only_a_ready_venv_s_own_python_answers_ready(tmp_path, monkeypatch):
    venv = _fake_venv(tmp_path, "3.11.7", stamp=True)
    assert not bootstrap.ready(venv)  # asked by another interpreter: the full check decides
    monkeypatch.setattr(bootstrap.sys, "prefix", str(venv))
    assert bootstrap.ready(venv)
    assert bootstrap.main(["--venv", str(venv), "--ready"]) == 0
    monkeypatch.setattr(bootstrap.sys, "version_info", (3, 12, 3, "final", 0))
    assert not bootstrap.ready(venv)  # a Python the lock does not fit
    monkeypatch.setattr(bootstrap.sys, "version_info", (3, 11, 7, "final", 0))
    stamp = json.loads((venv / ".installed").read_text())
    (venv / ".installed").write_text(json.dumps({**stamp, "lock": "an older lock"}))
    assert not bootstrap.ready(venv)
    assert bootstrap.main(["--venv", str(venv), "--ready"]) == 1
    (venv / ".installed").write_text("half-written {")
    assert not bootstrap.ready(venv)
    (venv / ".installed").unlink()
    assert not bootstrap.ready(venv)
    assert bootstrap.main(["--venv", str(venv), "--ready"]) == 1
    assert sorted(p.name for p in venv.iterdir()) == ["bin"]  # nothing built or removed


def test_the_project_s_python_answers_ready_in_a_built_checkout():
    venv = Path(sys.prefix)
    if venv != ROOT / ".venv" or not (venv / ".installed").exists():
        pytest.skip("not run from the project's .venv")
    command = [sys.executable, str(ROOT / "tools" / "bootstrap.py"), "--venv", str(venv)]
    assert subprocess.run([*command, "--ready"], check=False).returncode == 0


def test_uv_syncs_the_lock_and_is_installed_only_when_missing(tmp_path, monkeypatch):
    venv = tmp_path / "v"
    commands: list[list[str]] = []

    def fake_run(command, **kw):
        commands.append([str(part) for part in command])
        return True

    monkeypatch.setattr(bootstrap, "run", fake_run)
    monkeypatch.setattr(bootstrap, "pip_index_options", lambda: ([], {}))
    versions = iter([False, True])  # no uv yet; then the one just installed
    monkeypatch.setattr(bootstrap, "_reports_version", lambda program, v: next(versions))
    (venv / "tools" / "bin").mkdir(parents=True)
    (venv / "tools" / "bin" / "uv").touch()
    assert bootstrap.install_with_uv(venv)
    assert "--upgrade" in commands[0]
    assert commands[0][-1] == bootstrap.UV
    # sync, not install: packages an earlier lock had and this one drops are removed
    assert commands[1][1:3] == ["pip", "sync"]
    assert commands[1][-1] == str(bootstrap.LOCK)
    assert commands[2][1:3] == ["pip", "install"]
    assert "--no-deps" in commands[2]
    commands.clear()
    assert bootstrap.install_with_uv(venv)  # uv already there: not installed again
    assert [c[1:3] for c in commands] == [["pip", "sync"], ["pip", "install"]]


def test_the_makefile_lets_python_keep_compiled_modules():
    # uv installs without byte-compiling; with PYTHONDONTWRITEBYTECODE set in the shell every
    # process would compile the stack again
    assert "unexport PYTHONDONTWRITEBYTECODE" in (ROOT / "Makefile").read_text()
