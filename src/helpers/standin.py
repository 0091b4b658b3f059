"""The stand-in cohort: patient-level data reconstructed from the abstract's figures.

The study's patient-level data are not public. This module generates a
*stand-in* that agrees with every cohort fact the abstract reports, so the
compendium's analyses can run end to end; the investigators' files replace it
through the ``data_dir`` parameter with no code change.

Method (patients table): ids ``P01``…; the reported numbers of men and women,
shuffled; for age, cells infused and culture time, whole numbers drawn
uniformly within the reported range with both ends of the range placed on two
randomly chosen patients, so the range is exactly the reported one. Every
target is read from the reported-figures table, none is typed in here.

Measurements (``measurements.csv``): reconstructed by
:func:`helpers.reconstruct.reconstruct_measurements` so that the compendium's
analysis with the study's default test (:data:`helpers.audit.STUDY_TEST`)
reproduces every reported mean, SD and p-value that any data can give. Only
the visits the abstract reports on are filled; the others stay missing, so no
value is invented for a visit the abstract says nothing about.

Run ``python -m helpers.standin`` to regenerate ``data/standin`` byte for byte.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.audit import STUDY_PRECISION_RULE, STUDY_TEST
from helpers.cohort import compare_cohort_with_reported
from helpers.data import (
    MEASUREMENTS_FILE,
    PATIENTS_FILE,
    PROVENANCE_FILE,
    display_path,
    file_checksums,
    load_reported,
)
from helpers.paths import resolve_path
from helpers.reconstruct import MAX_ABS_R, PREFERRED_R, reconstruct_measurements
from helpers.schema import PatientsModel

__all__ = [
    "DEFAULT_REPORTED",
    "DEFAULT_SEED",
    "generate_patients",
    "reported_figure",
    "write_standin",
]

logger = logging.getLogger(__name__)

#: Seed of the committed stand-in (the date of the study's conference abstract book is
#: unknown; any fixed number does, this one is the compendium's founding date).
DEFAULT_SEED = 20261125
DEFAULT_REPORTED = "data/reported/abstract_figures.csv"
DEFAULT_OUT = "data/standin"


def reported_figure(
    reported: pd.DataFrame, variable: str, statistic: str, group: str = "all"
) -> float:
    """Return the one reported value for a variable, statistic and group.

    Parameters
    ----------
    reported : pandas.DataFrame
        A reported-figures table.
    variable, statistic, group : str

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the table has no such figure, or more than one.

    Examples
    --------
    >>> from helpers.data import load_reported
    >>> reported_figure(load_reported(DEFAULT_REPORTED), "age_years", "max")
    42.0
    """
    hit = reported[
        (reported["variable"] == variable)
        & (reported["statistic"] == statistic)
        & (reported["group"] == group)
    ]
    if len(hit) != 1:
        raise ValueError(
            f"expected one reported figure for {variable}/{statistic}/{group}, found {len(hit)}"
        )
    return float(hit["value"].iloc[0])


def _spanning_integers(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """Draw n whole numbers in [low, high] with both ends present."""
    if low > high or (low < high and n < 2):
        raise ValueError(f"cannot span {low}..{high} with {n} value(s)")
    values = rng.integers(low, high + 1, size=n)
    ends = rng.choice(n, size=2, replace=False) if n >= 2 else np.array([0, 0])
    values[ends[0]], values[ends[1]] = low, high
    return values


def generate_patients(reported: pd.DataFrame, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Generate a patients table consistent with the reported cohort facts.

    Parameters
    ----------
    reported : pandas.DataFrame
        A reported-figures table with the cohort size, the numbers of men and
        women, and min/max of age, cells infused and culture weeks.
    seed : int
        Seed of the random generator (NumPy PCG64).

    Returns
    -------
    pandas.DataFrame
        Columns of :class:`~helpers.schema.PatientsModel`, ids ``P01``….

    Raises
    ------
    ValueError
        If the reported counts do not add up or a range cannot be spanned.

    Examples
    --------
    >>> from helpers.data import load_reported
    >>> p = generate_patients(load_reported(DEFAULT_REPORTED), seed=1)
    >>> len(p), int(p["age_years"].min()), int(p["age_years"].max())
    (7, 20, 42)
    """
    n = int(reported_figure(reported, "patients", "n"))
    n_male = int(reported_figure(reported, "patients", "n", "male"))
    n_female = int(reported_figure(reported, "patients", "n", "female"))
    if n_male + n_female != n:
        raise ValueError(f"{n_male} men + {n_female} women != {n} patients")
    rng = np.random.default_rng(seed)
    sex = rng.permutation(np.array(["M"] * n_male + ["F"] * n_female))
    columns = {}
    for column in ("age_years", "cells_infused_million", "culture_weeks"):
        low = int(reported_figure(reported, column, "min"))
        high = int(reported_figure(reported, column, "max"))
        columns[column] = _spanning_integers(rng, n, low, high)
    frame = pd.DataFrame(
        {"patient_id": [f"P{i:02d}" for i in range(1, n + 1)], "sex": sex, **columns}
    )
    required = [n for n, c in PatientsModel.to_schema().columns.items() if c.required]
    return frame[required]  # the abstract reports no body weight: optional column left out


def write_standin(
    out_dir: str | Path = DEFAULT_OUT,
    reported_path: str | Path = DEFAULT_REPORTED,
    seed: int = DEFAULT_SEED,
) -> list[Path]:
    """Write the stand-in data set: patients, measurements (header only) and provenance.

    Parameters
    ----------
    out_dir : str or Path, default "data/standin"
    reported_path : str or Path, default "data/reported/abstract_figures.csv"
    seed : int, default DEFAULT_SEED

    Returns
    -------
    list of Path
        The files written.

    Examples
    --------
    >>> import tempfile
    >>> files = write_standin(tempfile.mkdtemp())
    >>> [f.name for f in files]
    ['patients.csv', 'measurements.csv', 'provenance.json']
    """
    reported = load_reported(reported_path)
    patients = generate_patients(reported, seed)
    achieved = compare_cohort_with_reported(patients, reported)
    measurements, comparisons = reconstruct_measurements(
        patients["patient_id"].tolist(),
        reported,
        test=STUDY_TEST,
        rule=STUDY_PRECISION_RULE,
        seed=seed,
    )
    out = resolve_path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    provenance = {
        "kind": "reconstructed",
        "method": "seeded generator helpers.standin, matching the abstract's cohort facts",
        "generator": "python -m helpers.standin",
        "seed": seed,
        "reported_figures": display_path(reported_path),
        "patients": {
            "rule": (
                "ids P01..; reported numbers of men and women shuffled; age, cells infused "
                "and culture weeks drawn as whole numbers uniformly within the reported "
                "range, with both ends of each range placed on randomly chosen patients"
            ),
            "targets_and_achieved": [
                {
                    "figure_id": r.figure_id,
                    "reported": r.value,
                    "relation": r.relation,
                    "decimals": int(r.decimals),
                    "achieved": r.observed,
                    "match": bool(r.match),
                }
                for r in achieved.itertuples()
            ],
        },
        "measurements": {
            "rule": (
                "per reported comparison: values on the coarsest granularity GRIM and GRIMMER "
                "allow; SPRITE-style marginals with the reported means and SDs; the "
                "before-after pairing chosen among all pairings so the default test gives the "
                f"reported p, with the correlation closest to {PREFERRED_R} and within "
                f"+/-{MAX_ABS_R}. Where no data can give the reported p, only the means and "
                f"SDs are matched and the correlation is the one closest to {PREFERRED_R}"
            ),
            "test": STUDY_TEST,
            "precision_rule": STUDY_PRECISION_RULE,
            "visits_left_missing": (
                "visits the abstract reports nothing about (month 2; month 3 for insulin, "
                "HbA1c and leptin; month 1 for the antibodies) have no values"
            ),
            "comparisons": comparisons,
        },
    }
    files = [out / PATIENTS_FILE, out / MEASUREMENTS_FILE, out / PROVENANCE_FILE]
    patients.to_csv(files[0], index=False, lineterminator="\n")
    measurements.to_csv(files[1], index=False, lineterminator="\n")
    provenance["files"] = file_checksums(out)
    files[2].write_text(
        json.dumps(provenance, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    for f in files:
        logger.info("wrote %s", display_path(f))
    return files


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m helpers.standin [--out DIR] [--seed N]``."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.standin", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help="output directory (default: %(default)s)"
    )
    parser.add_argument("--reported", default=DEFAULT_REPORTED, help="reported-figures table")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    for f in write_standin(args.out, args.reported, args.seed):
        print(f"wrote {display_path(f)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
