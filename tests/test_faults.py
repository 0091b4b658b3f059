"""Injected faults: a killed kernel, a killed runner, SIGTERM, two runs at once, a folder
that cannot be written, a cell that never ends. Each leaves the last good report as it
was (or replaced by a complete new one), leaves nothing behind, and says one thing.

The notebooks here are tiny ones made by the tests, so each fault costs a kernel start.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import tiny

from helpers.errors import HelpersError, NotebookExecutionError
from helpers.run import _carry_over, _recover, run
from helpers.site import PRESTART_PREFIX, prestarted_build

pytestmark = pytest.mark.slow


def _notebook(folder: Path, name: str, body: str) -> Path:
    return tiny.notebook(folder, name, body, parameters='parameter_set = "x"')


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Path]:
    params = tiny.parameter_set(tmp_path, "case", "description: fault injection\n")
    reports = tmp_path / "reports"
    good = reports / "case"
    (good / "tables").mkdir(parents=True)
    (good / "01_ok.ipynb").write_text("last good notebook 01")
    (good / "02_other.ipynb").write_text("last good notebook 02")
    (good / "tables" / "02_table.csv").write_text("a\n1\n")
    nbs = tmp_path / "nbs"
    return {
        "root": tmp_path,
        "params": params,
        "reports": reports,
        "good": good,
        "ok": _notebook(nbs, "01_ok", "x = 1"),
        "dies": _notebook(nbs, "01_dies", "import os\nos._exit(1)"),
        "sleeps": _notebook(nbs, "01_sleeps", "import time\ntime.sleep(60)"),
    }


def _leftovers(reports: Path) -> list[str]:
    return [p.name for p in reports.iterdir() if ".staging-" in p.name or ".previous-" in p.name]


def test_a_killed_kernel_fails_the_notebook_and_keeps_the_report(project):
    before = tiny.contents(project["good"])
    with pytest.raises(NotebookExecutionError, match="the kernel died") as info:
        run(
            "case",
            [project["dies"]],
            reports_dir=project["reports"],
            params_dir=project["params"],
            progress=False,
        )
    kept = project["reports"] / "case.failed" / "01_dies.ipynb"
    assert kept.exists()
    assert str(kept) in str(info.value)
    assert tiny.contents(project["good"]) == before
    assert not _leftovers(project["reports"])


def test_a_cell_that_runs_too_long_is_stopped(project):
    before = tiny.contents(project["good"])
    start = time.monotonic()
    with pytest.raises(NotebookExecutionError, match="ran longer than the time limit"):
        run(
            "case",
            [project["sleeps"]],
            reports_dir=project["reports"],
            params_dir=project["params"],
            progress=False,
            timeout=2,
        )
    assert time.monotonic() - start < 40
    assert tiny.contents(project["good"]) == before


def test_a_partial_run_replaces_its_notebook_and_keeps_the_others(project):
    out = run(
        "case",
        [project["ok"]],
        reports_dir=project["reports"],
        params_dir=project["params"],
        progress=False,
    )
    files = tiny.contents(out)
    assert files["02_other.ipynb"] == b"last good notebook 02"
    assert files["tables/02_table.csv"] == b"a\n1\n"
    assert files["01_ok.ipynb"] != b"last good notebook 01"
    assert "01_ok.html" in files
    assert not _leftovers(project["reports"])


def test_a_runner_killed_between_the_publish_renames_is_recovered(project, monkeypatch):
    reports, good = project["reports"], project["good"]
    before = tiny.contents(good)
    real_rename = Path.rename

    def rename_then_die(self: Path, target: Path) -> Path:
        result = real_rename(self, target)
        if ".previous-" in str(target):
            raise KeyboardInterrupt("killed between the two renames")
        return result

    monkeypatch.setattr(Path, "rename", rename_then_die)
    with pytest.raises(KeyboardInterrupt):
        run(
            "case",
            [project["ok"]],
            reports_dir=reports,
            params_dir=project["params"],
            progress=False,
        )
    monkeypatch.setattr(Path, "rename", real_rename)
    assert not good.exists(), "the fault was injected between the renames"
    assert [p.name for p in reports.glob(".case.previous-*")]
    _recover(reports, "case")
    assert tiny.contents(good) == before
    assert not _leftovers(reports)


def test_recovery_drops_staging_and_keeps_a_report_that_exists(tmp_path):
    (tmp_path / "s" / "x").mkdir(parents=True)
    (tmp_path / ".s.staging-1").mkdir()
    (tmp_path / ".s.previous-9").mkdir()
    _recover(tmp_path, "s")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_carry_over_skips_what_the_run_produced(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    for f in ["01_a.ipynb", "01_a.html", "02_b.ipynb", "tables/01_t.csv", "tables/02_t.csv"]:
        (old / f).parent.mkdir(parents=True, exist_ok=True)
        (old / f).write_text("old")
    (new / "tables").mkdir(parents=True)
    (new / "01_a.ipynb").write_text("new")
    _carry_over(old, new, ["01_a"])
    assert sorted(str(p.relative_to(new)) for p in new.rglob("*") if p.is_file()) == [
        "01_a.ipynb",
        "02_b.ipynb",
        "tables/02_t.csv",
    ]
    assert (new / "01_a.ipynb").read_text() == "new"


def test_a_second_run_of_the_same_set_is_refused(project):
    project["reports"].mkdir(exist_ok=True)
    with open(project["reports"] / ".case.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.write("4242\n")
        handle.flush()
        with pytest.raises(HelpersError, match=r"another run of parameter set 'case'.*4242"):
            run(
                "case",
                [project["ok"]],
                reports_dir=project["reports"],
                params_dir=project["params"],
                progress=False,
            )


def test_a_folder_that_cannot_be_written_is_one_message(project):
    blocked = project["root"] / "not-a-folder"
    blocked.write_text("a file where the reports folder should be")
    with pytest.raises(HelpersError, match="cannot write the report for parameter set 'case'"):
        run(
            "case",
            [project["ok"]],
            reports_dir=blocked / "reports",
            params_dir=project["params"],
            progress=False,
        )
    assert blocked.read_text() == "a file where the reports folder should be"


def _run_the_sleeping_notebook(
    project: dict[str, Path], *, site: bool = False, **popen: object
) -> subprocess.Popen:
    """Start the runner on the notebook that sleeps a minute, in a process of its own
    (``site``: as ``make reproduce`` does, with the site's Sphinx build started beside it)."""
    also = ", '--site'" if site else ""
    code = (
        "import sys; from helpers.run import main; "
        f"sys.argv[1:] = []; raise SystemExit(main(['--params', '{project['params']}/case.yaml',"
        f" '--reports', '{project['reports']}', '--no-progress', '--notebook', "
        f"'{project['sleeps']}'{also}]))"
    )
    return subprocess.Popen([sys.executable, "-c", code], **popen)


def _alive_after(processes: list[psutil.Process], seconds: float) -> list[psutil.Process]:
    """The processes still running (not zombies) once ``seconds`` have passed, or sooner."""
    deadline = time.monotonic() + seconds
    alive = processes
    while time.monotonic() < deadline and alive:
        time.sleep(0.2)
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    return alive


def test_sigterm_stops_workers_and_kernels_and_leaves_the_report(project):
    """And the site's Sphinx build, started with the run (``make reproduce``), and its folder."""
    before = tiny.contents(project["good"])
    proc = _run_the_sleeping_notebook(
        project, site=True, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        _terminate_during_the_run(proc, project)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert tiny.contents(project["good"]) == before
    assert not _leftovers(project["reports"])
    assert not list(project["reports"].glob(f"{PRESTART_PREFIX}*"))


def _descendants_once_a_kernel_runs(proc: subprocess.Popen) -> list[psutil.Process]:
    """Wait until the runner's kernel has started; return the runner's descendants then."""
    runner = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    kernels: list[psutil.Process] = []
    while time.monotonic() < deadline and not kernels:
        time.sleep(0.5)
        # a kernel forked from the run's zygote (helpers.kernels) is named ipykernel
        kernels = [
            p
            for p in runner.children(recursive=True)
            if "ipykernel" in p.name() or "ipykernel" in " ".join(p.cmdline())
        ]
    assert kernels, "the kernel never started"
    return runner.children(recursive=True)


def _terminate_during_the_run(proc: subprocess.Popen, project: dict[str, Path]) -> None:
    descendants = _descendants_once_a_kernel_runs(proc)
    os.kill(proc.pid, signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    lines = stderr.strip().splitlines()
    assert lines[-1] == (
        "error: interrupted; the last good report is unchanged, or replaced whole if the run "
        "had finished"
    )
    assert not [line for line in lines if "Traceback" in line or "Error" in line]
    time.sleep(1)
    alive = [p for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [" ".join(p.cmdline())[:80] for p in alive]


def test_sigkill_of_the_runner_takes_its_workers_and_kernels_and_the_next_run_cleans_up(project):
    """And the site's Sphinx build started with it (``make reproduce``), whose folder the next
    such run removes."""
    before = tiny.contents(project["good"])
    proc = _run_the_sleeping_notebook(
        project, site=True, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    try:
        descendants = _descendants_once_a_kernel_runs(proc)
        proc.kill()
        proc.wait(timeout=10)
        alive = _alive_after(descendants, 15)
        assert not alive, [" ".join(p.cmdline())[:80] for p in alive]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert tiny.contents(project["good"]) == before
    assert _leftovers(project["reports"]), "a killed runner cannot clean up after itself"
    run(
        "case",
        [project["ok"]],
        reports_dir=project["reports"],
        params_dir=project["params"],
        progress=False,
    )
    assert not _leftovers(project["reports"]), "the next run removes what the killed one left"
    assert list(project["reports"].glob(f"{PRESTART_PREFIX}*"))
    with prestarted_build(project["reports"]) as build:
        assert [p.name for p in project["reports"].glob(f"{PRESTART_PREFIX}*")] == [
            build.folder.name
        ]


def test_a_killed_runner_takes_the_kernels_it_forked_from_a_zygote_its_caller_named(
    project, tmp_path
):
    """A named zygote outlives the run: the run's workers must end the kernels they forked."""
    from helpers import kernels

    zygote, path = kernels.start_zygote(tmp_path, [])
    env = {**os.environ, kernels.ZYGOTE_ENV: path}
    proc = _run_the_sleeping_notebook(
        project, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    try:
        forked: list[psutil.Process] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not forked:
            time.sleep(0.2)
            forked = psutil.Process(zygote.pid).children()
        assert forked, "no kernel was forked from the named zygote"
        proc.kill()
        proc.wait(timeout=10)
        assert not _alive_after(forked, 15), "the kernel outlived its run"
        assert zygote.poll() is None, "the caller's zygote is the caller's to stop"
    finally:
        if proc.poll() is None:
            proc.kill()
        kernels.stop_zygote(zygote)
