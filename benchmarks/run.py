"""Benchmarks: validation throughput and memory at scale, and the end-to-end runner.

Run with ``make bench``. Prints one line per measurement with its target and
exits non-zero when a target is missed. Targets are for a 2-core machine.
Memory is the peak traced by ``tracemalloc`` (Python and NumPy allocations).
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data import load_cohort
from helpers.outcomes import compare_to_baseline, mixed_model, omnibus_tests
from helpers.run import discover_notebooks, run
from helpers.simulate import simulate_cohort
from helpers.study import load_study

SEED = 12345
STUDY = load_study("data/study.yaml")


def _write_cohort(directory: Path, n: int) -> int:
    """Write a plausible random cohort of n patients, every outcome at every visit."""
    rng = np.random.default_rng(SEED)
    ids = [f"P{i:05d}" for i in range(1, n + 1)]
    pd.DataFrame(
        {
            "patient_id": ids,
            "sex": rng.choice(["M", "F"], n),
            "age_years": rng.integers(18, 80, n),
            "cells_infused_million": rng.uniform(50, 200, n).round(1),
            "culture_weeks": rng.integers(2, 6, n),
        }
    ).to_csv(directory / "patients.csv", index=False)
    grid = pd.MultiIndex.from_product(
        [ids, STUDY.visit_months, STUDY.outcome_codes],
        names=["patient_id", "visit_month", "outcome"],
    ).to_frame(index=False)
    lows = grid["outcome"].map({o.code: o.minimum for o in STUDY.outcomes})
    highs = grid["outcome"].map({o.code: o.maximum for o in STUDY.outcomes})
    grid["value"] = (lows + (highs - lows) * rng.uniform(0.1, 0.5, len(grid))).round(2)
    grid.to_csv(directory / "measurements.csv", index=False)
    return len(grid)


def bench_validation(n: int, seconds_target: float, mib_target: float) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        rows = _write_cohort(Path(tmp), n)
        tracemalloc.start()
        start = time.perf_counter()
        load_cohort(tmp, study=STUDY)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    ok = elapsed <= seconds_target and peak <= mib_target
    print(
        f"validate {n:>6} patients / {rows:>7} measurements: {elapsed:6.2f} s "
        f"(target ≤ {seconds_target} s), peak {peak:7.1f} MiB (target ≤ {mib_target} MiB)  "
        f"{'ok' if ok else 'MISSED'}"
    )
    return ok


def bench_outcome_analysis(n: int, seconds_target: float) -> bool:
    measurements = simulate_cohort(n, study=STUDY, missing=[("S01", 2)], seed=SEED).measurements
    start = time.perf_counter()
    compare_to_baseline(measurements, outcomes=["insulin_dose", "hba1c", "leptin"], seed=SEED)
    omnibus_tests(measurements, outcomes=["insulin_dose", "hba1c", "leptin"])
    mixed_model(measurements, outcomes=["insulin_dose", "hba1c", "leptin"])
    elapsed = time.perf_counter() - start
    ok = elapsed <= seconds_target
    print(
        f"outcome analysis (3 outcomes x 4 visits, 2000 bootstrap) on {n} simulated patients: "
        f"{elapsed:6.2f} s (target ≤ {seconds_target} s)  {'ok' if ok else 'MISSED'}"
    )
    return ok


def bench_runner(seconds_target: float) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run("default", reports_dir=tmp, progress=False)
        elapsed = time.perf_counter() - start
    n = len(discover_notebooks())
    ok = elapsed <= seconds_target
    print(
        f"runner, parameter set 'default', {n} notebook(s): {elapsed:6.2f} s "
        f"(target ≤ {seconds_target} s)  {'ok' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    results = [
        bench_validation(1_000, 2.0, 100.0),
        bench_validation(10_000, 10.0, 500.0),
        bench_outcome_analysis(500, 30.0),
        bench_runner(60.0),
    ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
