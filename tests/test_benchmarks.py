"""The benchmark's summaries (benchmarks/run.py is a script, not part of the package)."""

from __future__ import annotations

import importlib.util
import statistics

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
