"""The benchmark's summaries (benchmarks/run.py is a script, not part of the package)."""

from __future__ import annotations

import importlib.util
import statistics

import pytest

from helpers.paths import PROJECT_ROOT


def _bench():
    spec = importlib.util.spec_from_file_location("bench", PROJECT_ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_figure_is_the_median_of_its_rounds_with_their_range():
    bench = _bench()
    values = [31.0, 24.5, 26.25]
    assert statistics.median(values) == 26.25
    assert bench.median_and_range(values) == "26.2 s (24.5–31.0 s)"  # round half to even
    assert bench.median_and_range([1.19, 1.55, 1.4], 2, " ×") == "1.40 × (1.19–1.55 ×)"
    assert bench.median_and_range([7.0]) == "7.0 s"
    assert bench.ROUNDS >= 3


def test_the_readme_states_the_last_results_as_written():
    """The README's copy of benchmarks/results.md is the file's, below its title, unchanged."""
    bench = _bench()
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    results = bench.RESULTS.read_text(encoding="utf-8")
    assert readme.count(bench.BEGIN) == readme.count(bench.END) == 1
    copied = readme.split(bench.BEGIN + "\n")[1].split(bench.END)[0]
    assert copied == results.split("\n", 1)[1].strip("\n") + "\n"
    assert "Measured " in copied
    assert "| measurement | figure | target |" in copied
    assert bench.with_results(readme, results) == readme


def test_the_copy_replaces_only_the_block_and_needs_both_markers():
    bench = _bench()
    readme = f"# Title\n\nbefore\n{bench.BEGIN}\nold table\n{bench.END}\nafter\n"
    new = bench.with_results(readme, "# Benchmark results\n\nMeasured today.\n\n| a |\n")
    block = f"{bench.BEGIN}\nMeasured today.\n\n| a |\n{bench.END}"
    assert new == f"# Title\n\nbefore\n{block}\nafter\n"
    for broken in (readme.replace(bench.END, ""), readme.replace(bench.BEGIN, "")):
        with pytest.raises(ValueError, match=r"README\.md has no block"):
            bench.with_results(broken, "# t\n\nx\n")
