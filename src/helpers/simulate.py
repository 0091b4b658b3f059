"""A seeded simulator of full cohorts, for tests, examples and benchmarks.

Each outcome is simulated per patient as a baseline drawn from a normal
distribution plus a visit effect, with a chosen correlation between a
patient's visits (compound symmetry). Values are clipped to the outcome's
plausibility bounds and rounded to a recording granularity, so every simulated
data set passes the compendium's validation. Simulated data are labelled as
such in ``provenance.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data import MEASUREMENTS_FILE, PATIENTS_FILE, PROVENANCE_FILE, Cohort, file_checksums
from helpers.schema import OUTCOMES, VISIT_MONTHS, outcome

__all__ = ["DEFAULT_PROFILES", "simulate_cohort", "write_cohort"]

#: Baseline mean, SD between patients, and mean change at months 1, 2, 3 per outcome,
#: loosely after the abstract's figures.
DEFAULT_PROFILES: dict[str, dict[str, object]] = {
    "insulin_dose": {"mean": 58.8, "sd": 13.7, "change": (-11.3, -10.0, -9.0), "decimals": 1},
    "hba1c": {"mean": 9.6, "sd": 1.7, "change": (-0.9, -0.8, -0.6), "decimals": 1},
    "leptin": {"mean": 7.7, "sd": 3.5, "change": (9.2, 7.0, 5.0), "decimals": 1},
    "gad_ab": {"mean": 10.8, "sd": 4.5, "change": (0.5, 1.0, 1.5), "decimals": 1},
    "islet_ab": {"mean": 14.1, "sd": 4.3, "change": (1.0, 2.5, 4.0), "decimals": 1},
}


def simulate_cohort(
    n: int,
    *,
    visits: Sequence[int] = VISIT_MONTHS,
    outcomes: Sequence[str] | None = None,
    profiles: Mapping[str, Mapping[str, object]] | None = None,
    correlation: float = 0.7,
    missing: Sequence[tuple[str, int]] = (),
    seed: int = 0,
) -> Cohort:
    """Simulate a complete cohort: patients and every outcome at every visit.

    Parameters
    ----------
    n : int
        Number of patients (at least 2).
    visits : sequence of int, default (0, 1, 2, 3)
        Visit months; the first is baseline.
    outcomes : sequence of str, optional
        Outcome codes; default, all five.
    profiles : mapping, optional
        Per outcome: ``mean`` and ``sd`` at baseline, ``change`` (mean change at
        each follow-up visit, in order), ``decimals`` (recording granularity).
        Default :data:`DEFAULT_PROFILES`.
    correlation : float, default 0.7
        Correlation between any two visits of one patient, in [0, 1).
    missing : sequence of (patient_id, visit_month)
        Visits to drop (all outcomes), e.g. ``[("S01", 2)]``.
    seed : int, default 0

    Returns
    -------
    Cohort
        With ``provenance["kind"] == "simulated"``.

    Raises
    ------
    ValueError
        For fewer than 2 patients, a correlation outside [0, 1), unknown
        outcomes, or too few changes for the visits.

    Examples
    --------
    >>> c = simulate_cohort(40, missing=[("S01", 2)], seed=1)
    >>> len(c.patients), len(c.measurements)
    (40, 795)
    """
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    if not 0 <= correlation < 1:
        raise ValueError(f"correlation must be in [0, 1), got {correlation}")
    profiles = profiles or DEFAULT_PROFILES
    codes = list(outcomes) if outcomes is not None else [o.code for o in OUTCOMES]
    rng = np.random.default_rng(seed)
    ids = [f"S{i:02d}" for i in range(1, n + 1)]
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            "sex": rng.choice(["M", "F"], n),
            "age_years": rng.integers(20, 43, n),
            "cells_infused_million": rng.integers(95, 98, n).astype(float),
            "culture_weeks": rng.integers(3, 5, n).astype(float),
        }
    )
    k = len(visits)
    cov = np.full((k, k), correlation) + np.eye(k) * (1 - correlation)
    rows = []
    for code in codes:
        o = outcome(code)
        prof = profiles[code]
        changes = [0.0, *(float(c) for c in prof["change"])]  # type: ignore[attr-defined]
        if len(changes) < k:
            raise ValueError(f"{code}: {k - 1} follow-up visits but {len(changes) - 1} changes")
        z = rng.multivariate_normal(np.zeros(k), cov, size=n)
        centre, spread = float(str(prof["mean"])), float(str(prof["sd"]))
        values = centre + spread * z + np.array(changes[:k])
        values = np.clip(values, o.minimum, o.maximum).round(int(str(prof["decimals"])))
        for i, pid in enumerate(ids):
            for j, visit in enumerate(visits):
                rows.append((pid, int(visit), code, float(values[i, j])))
    measurements = pd.DataFrame(rows, columns=["patient_id", "visit_month", "outcome", "value"])
    drop = set(missing)
    keep = [
        (p, v) not in drop
        for p, v in zip(measurements["patient_id"], measurements["visit_month"], strict=True)
    ]
    measurements = measurements[keep].reset_index(drop=True)
    provenance = {
        "kind": "simulated",
        "method": f"helpers.simulate.simulate_cohort(n={n}, seed={seed})",
        "correlation": correlation,
        "missing": [list(m) for m in missing],
    }
    return Cohort(patients, measurements, "simulated", provenance)


def write_cohort(cohort: Cohort, out_dir: str | Path) -> list[Path]:
    """Write a cohort as a data directory (patients, measurements, provenance).

    Parameters
    ----------
    cohort : Cohort
    out_dir : str or Path

    Returns
    -------
    list of Path

    Examples
    --------
    >>> import tempfile
    >>> [p.name for p in write_cohort(simulate_cohort(3), tempfile.mkdtemp())]
    ['patients.csv', 'measurements.csv', 'provenance.json']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / PATIENTS_FILE, out / MEASUREMENTS_FILE, out / PROVENANCE_FILE]
    cohort.patients.to_csv(files[0], index=False, lineterminator="\n")
    cohort.measurements.to_csv(files[1], index=False, lineterminator="\n")
    provenance = {**cohort.provenance, "files": file_checksums(out)}
    files[2].write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    return files
