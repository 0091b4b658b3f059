"""A seeded simulator of full cohorts, for tests, examples and benchmarks.

Each outcome of the study definition is simulated per patient as a baseline
drawn from a normal distribution plus a visit effect, with a chosen
correlation r between a patient's visits (compound symmetry). The profile
(baseline mean and SD, mean change at each visit) is the outcome's
``simulate`` entry in the study definition; an outcome without one is drawn
around the middle of its plausibility bounds with no change. Values are
clipped to the bounds and rounded to the outcome's recording precision, and
characteristics are drawn within theirs, so every simulated data set passes
the compendium's validation. Simulated data are labelled as such in
``provenance.json``.

The same seed gives the same cohort on every machine with the locked NumPy.
The correlated draws are built explicitly, z = √r·u + √(1 − r)·e with u (one
per patient and outcome) and e (one per patient, outcome and visit) independent
standard normals, which is compound symmetry exactly, in IEEE arithmetic that
every CPU does alike (only the normal generator's rare tail draws call the C
library's exp and log). NumPy's ``multivariate_normal`` is not used: it
factorises the covariance with LAPACK, and the eigenvectors of an
equicorrelation matrix's repeated eigenvalue differ between CPUs' LAPACK
kernels, so one seed gave different cohorts on an AMD and an Intel machine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data import MEASUREMENTS_FILE, PATIENTS_FILE, PROVENANCE_FILE, Cohort, file_checksums
from helpers.study import Characteristic, Outcome, SimulationProfile, Study

__all__ = ["profile", "simulate_cohort", "write_cohort"]


def profile(o: Outcome) -> SimulationProfile:
    """Return the simulation profile of an outcome: its own, or one around its bounds.

    Parameters
    ----------
    o : Outcome

    Returns
    -------
    SimulationProfile

    Examples
    --------
    >>> from helpers.study import load_study
    >>> profile(load_study("data/study.yaml").measured("hba1c")).change[1]
    -0.9
    """
    if o.simulate is not None:
        return o.simulate
    return SimulationProfile(mean=(o.minimum + o.maximum) / 2, sd=(o.maximum - o.minimum) / 8)


def _changes(p: SimulationProfile, visits: Sequence[int], baseline: int) -> np.ndarray:
    """Mean change at each visit: as given, else the latest given before it (0 at baseline)."""
    out, last = [], 0.0
    for v in visits:
        if v != baseline and v in p.change:
            last = float(p.change[v])
        out.append(0.0 if v == baseline else last)
    return np.array(out)


def _draw_characteristic(c: Characteristic, n: int, rng: np.random.Generator) -> np.ndarray:
    if c.type == "category":
        return rng.choice([lv.value for lv in c.levels], n)
    # whole numbers within the plausibility bounds, for numbers too
    values = rng.integers(int(c.minimum), int(c.maximum) + 1, n)  # type: ignore[arg-type]
    return values if c.type == "integer" else values.astype(float)


def simulate_cohort(
    n: int,
    *,
    study: Study,
    visits: Sequence[int] | None = None,
    outcomes: Sequence[str] | None = None,
    profiles: Mapping[str, SimulationProfile] | None = None,
    correlation: float = 0.7,
    missing: Sequence[tuple[str, int]] = (),
    seed: int = 0,
) -> Cohort:
    """Simulate a complete cohort: patients and every outcome at every visit.

    Parameters
    ----------
    n : int
        Number of patients (at least 2).
    study : Study
        The outcomes, visits, bounds, recording precision and profiles.
    visits : sequence of int, optional
        Visit months; default, every visit of the study.
    outcomes : sequence of str, optional
        Outcome codes; default, every outcome of the study.
    profiles : mapping of outcome code to SimulationProfile, optional
        Replace the study's profiles (:func:`profile`) for these outcomes.
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
        For fewer than 2 patients, a correlation outside [0, 1), or unknown
        outcomes or visits.

    Examples
    --------
    >>> from helpers.study import load_study
    >>> c = simulate_cohort(40, study=load_study("data/study.yaml"), missing=[("S01", 2)], seed=1)
    >>> len(c.patients), len(c.measurements)
    (40, 795)
    """
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    if not 0 <= correlation < 1:
        raise ValueError(f"correlation must be in [0, 1), got {correlation}")
    codes = list(outcomes) if outcomes is not None else list(study.outcome_codes)
    months = list(visits) if visits is not None else list(study.visit_months)
    unknown = [v for v in months if v not in study.visit_months]
    if unknown:
        raise ValueError(f"visits {unknown} are not visits of the study {study.id!r}")
    rng = np.random.default_rng(seed)
    ids = [f"S{i:02d}" for i in range(1, n + 1)]
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            **({"group": rng.choice(list(study.group_codes), n)} if len(study.groups) > 1 else {}),
            **{
                c.code: _draw_characteristic(c, n, rng) for c in study.characteristics if c.required
            },
        }
    )
    k = len(months)
    shared, own = np.sqrt(correlation), np.sqrt(1 - correlation)
    rows = []
    for code in codes:
        o = study.measured(code)
        prof = (profiles or {}).get(code) or profile(o)
        z = shared * rng.standard_normal((n, 1)) + own * rng.standard_normal((n, k))
        values = prof.mean + prof.sd * z + _changes(prof, months, study.baseline)
        values = np.clip(values, o.minimum, o.maximum).round(o.decimals)
        for i, pid in enumerate(ids):
            for j, visit in enumerate(months):
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
    return Cohort(patients, measurements, "simulated", provenance, study)


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
    >>> from helpers.study import load_study
    >>> cohort = simulate_cohort(3, study=load_study("data/study.yaml"))
    >>> [p.name for p in write_cohort(cohort, tempfile.mkdtemp())]
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
