"""The pins, the lock, environment.yml and pyproject.toml name the same packages and versions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib

import pytest
import yaml

from helpers.paths import PROJECT_ROOT

SPEC = re.compile(r"^([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)$")


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(filename: str) -> dict[str, str]:
    pins = {}
    for line in (PROJECT_ROOT / filename).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = SPEC.match(line)
        assert match, f"{filename}: not an exact pin: {line!r}"
        pins[_canon(match.group(1))] = match.group(2)
    return pins


@pytest.fixture(scope="module")
def env_yml() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())


def test_environment_yml_is_a_conda_environment(env_yml):
    assert set(env_yml) == {"name", "channels", "dependencies"}
    assert env_yml["channels"][0] == "conda-forge"
    conda_specs = [d for d in env_yml["dependencies"] if isinstance(d, str)]
    pip_sections = [d["pip"] for d in env_yml["dependencies"] if isinstance(d, dict)]
    assert len(pip_sections) == 1
    assert pip_sections[0][-1] == "-e ."
    assert "python=3.11" in conda_specs
    assert "pip" in conda_specs
    for spec in conda_specs:
        assert re.fullmatch(r"[a-z0-9_.\-]+((==|=)[A-Za-z0-9_.+\-]+)?", spec), spec


def test_environment_yml_matches_requirements(env_yml):
    specs = []
    for dep in env_yml["dependencies"]:
        specs += dep["pip"] if isinstance(dep, dict) else [dep]
    named = {}
    for spec in specs:
        if "==" in spec:
            name, version = spec.split("==")
            named[_canon(name)] = version
    assert named == _pins("requirements.txt")


def test_lock_contains_every_pin_at_the_same_version():
    lock, pins = _pins("requirements-lock.txt"), _pins("requirements.txt")
    assert {n: lock.get(n) for n in pins} == pins


def test_pyproject_dependencies_are_pinned():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins("requirements.txt")
    unpinned = [d for d in project["dependencies"] if _canon(d) not in pins]
    assert not unpinned


@pytest.mark.slow
def test_installed_versions_are_the_locked_ones():
    from importlib import metadata

    lock = _pins("requirements-lock.txt")
    installed = {_canon(d.metadata["Name"]): d.version for d in metadata.distributions()}
    wrong = {n: (v, installed.get(n)) for n, v in lock.items() if installed.get(n) != v}
    assert not wrong, f"installed packages differ from the lock (run `make setup`): {wrong}"


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )


def test_private_data_and_reports_are_ignored():
    if _git("rev-parse", "--is-inside-work-tree").returncode != 0:
        pytest.skip("not a git checkout")
    for path in (
        "data/private/patients.csv",
        "data/private/x/measurements.csv",
        "reports/default/a.html",
    ):
        assert _git("check-ignore", "-q", path).returncode == 0, f"{path} is not ignored"
    assert _git("check-ignore", "-q", "data/standin/patients.csv").returncode == 1


def test_nothing_under_data_private_is_tracked():
    if _git("rev-parse", "--is-inside-work-tree").returncode != 0:
        pytest.skip("not a git checkout")
    tracked = _git("ls-files", "data/private").stdout.split()
    assert tracked == []


def test_the_longest_first_order_names_existing_files_once():
    """conftest.LONGEST_FIRST orders make test's files; a renamed file must not drop out of it
    unnoticed, and the Makefile must keep xdist from reordering them by test count."""
    from conftest import LONGEST_FIRST

    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
    missing = [name for name in LONGEST_FIRST if not (PROJECT_ROOT / name).is_file()]
    assert not missing
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--dist loadfile --no-loadscope-reorder" in makefile


def _recipe(target: str) -> str:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    return makefile.split(f"\n{target}: ", 1)[1].split("\n\n", 1)[0]


def test_only_the_edit_loop_runs_fewer_property_examples():
    """make check runs a quarter of each property test's examples and of each exhaustive grid's
    cases; make test and CI all."""
    from conftest import QUICK_PROPERTIES, cases, examples, quick_properties

    assert "QUICK_PROPERTIES=1 " in _recipe("check")
    assert "QUICK_PROPERTIES= " in _recipe("test")  # cleared, whatever the shell holds
    assert quick_properties({"QUICK_PROPERTIES": "1"})
    assert not quick_properties({"QUICK_PROPERTIES": "1", "CI": "true"})
    assert not quick_properties({"QUICK_PROPERTIES": ""})
    assert not quick_properties({})
    assert quick_properties(os.environ) == QUICK_PROPERTIES
    if QUICK_PROPERTIES:
        assert (examples(200), examples(30), examples(5)) == (50, 10, 5)
        assert cases(range(40)) == list(range(0, 40, 4))  # every fourth case of a grid
        assert cases(range(25)) == list(range(0, 25, 2))  # at least 10 of them
        assert cases(range(7)) == list(range(7))
    else:
        assert (examples(200), examples(30), examples(5)) == (200, 30, 5)
        assert cases(range(40)) == list(range(40))


def test_each_slow_doctest_names_a_doctest_of_the_helpers():
    """conftest.SLOW_DOCTESTS marks doctests by name: a renamed function must not drop out of
    it unnoticed (its doctest would then run in make check again, or a typo mark nothing)."""
    import doctest
    import importlib

    from conftest import SLOW_DOCTESTS

    finder = doctest.DocTestFinder()
    for name in sorted(SLOW_DOCTESTS):
        module, function = name.rsplit(".", 1)
        tests = finder.find(getattr(importlib.import_module(module), function), name)
        assert any(t.name == name and t.examples for t in tests), name
    assert '-m "not slow"' in _recipe("check")
    assert "slow" not in _recipe("test").split("pytest", 1)[1]  # make test runs them too


@pytest.mark.slow
def test_make_check_leaves_out_the_slow_doctests_and_tests_only(tmp_path):
    """What pytest selects with make check's marker expression, on one helper module and one
    test file: every doctest and test but those marked slow. One collection: a plugin prints
    what the expression deselects (pytest's pytest_deselected hook), pytest what it keeps."""
    from conftest import SLOW_DOCTESTS

    (tmp_path / "print_deselected.py").write_text(
        "def pytest_deselected(items):\n"
        "    for item in items:\n"
        "        print('deselected', item.nodeid)\n"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-s",
            "-p",
            "print_deselected",
            "-m",
            "not slow",
            "src/helpers/cache.py",  # a light module: its collection imports no plotting stack
            "tests/test_csv_text.py",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = out.splitlines()
    left_out = {ln.split(" ", 1)[1] for ln in lines if ln.startswith("deselected ")}
    fast = {ln for ln in lines if "::" in ln and not ln.startswith("deselected ")}
    slow_here = {n for n in SLOW_DOCTESTS if n.startswith("helpers.cache.")}
    assert slow_here, "the module checked has a slow doctest to leave out"
    assert {i.split("::")[1] for i in left_out if i.startswith("src/")} == slow_here
    assert {i for i in left_out if i.startswith("tests/")} == {
        "tests/test_csv_text.py::test_to_csv_text_is_pandas_to_csv"
    }
    assert fast, "the edit loop still runs the module's other doctests and tests"
