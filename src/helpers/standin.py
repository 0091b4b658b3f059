"""The stand-in cohort: patient-level data reconstructed from the abstract's figures.

The study's patient-level data are not public. This module generates a
*stand-in* that agrees with every cohort fact the abstract reports, so the
compendium's analyses can run end to end; the investigators' files replace it
through the ``data_dir`` parameter with no code change.

Method (patients table), for the characteristics of the study definition:
ids ``P01``…; for a category, the reported number of patients in each level
(e.g. men and women), shuffled; for a number with a reported range, whole
numbers drawn uniformly within the range with both ends placed on two randomly
chosen patients, so the range is exactly the reported one. Optional
characteristics the report says nothing about are left out. Every target is
read from the reported-figures table, none is typed in here.

Measurements (``measurements.csv``): reconstructed by
:func:`helpers.reconstruct.reconstruct_measurements` so that the compendium's
analysis with the study's reading of the report (its ``reading.test``)
reproduces every reported mean, SD and p-value that any data can give. Only
the visits the abstract reports on are filled; the others stay missing, so no
value is invented for a visit the abstract says nothing about.

Run ``python -m helpers.standin`` to regenerate ``data/standin`` byte for byte.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data import (
    MEASUREMENTS_FILE,
    PATIENTS_FILE,
    PROVENANCE_FILE,
    display_path,
    file_checksums,
    record_edits,
)
from helpers.errors import HelpersError
from helpers.paths import resolve_path
from helpers.reconstruct import MAX_ABS_R, PREFERRED_R, reconstruct_measurements
from helpers.reported import figure, load_reported
from helpers.reproduction import compare_cohort_with_reported
from helpers.study import Characteristic, Study, load_study

__all__ = [
    "DEFAULT_REPORTED",
    "DEFAULT_SEED",
    "DEFAULT_STUDY",
    "generate_patients",
    "write_standin",
]

logger = logging.getLogger(__name__)

#: Seed of the committed stand-in (the date of the study's conference abstract book is
#: unknown; any fixed number does, this one is the compendium's founding date).
DEFAULT_SEED = 20261125
DEFAULT_REPORTED = "data/reported/abstract_figures.csv"
DEFAULT_STUDY = "data/study.yaml"
DEFAULT_OUT = "data/standin"


def _spanning_integers(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """Draw n whole numbers in [low, high] with both ends present."""
    if low > high or (low < high and n < 2):
        raise ValueError(f"cannot span {low}..{high} with {n} value(s)")
    values = rng.integers(low, high + 1, size=n)
    ends = rng.choice(n, size=2, replace=False) if n >= 2 else np.array([0, 0])
    values[ends[0]], values[ends[1]] = low, high
    return values


def _reported_count(reported: pd.DataFrame, group: str) -> int | None:
    try:
        return int(figure(reported, variable="patients", statistic="n", group=group)["value"])
    except ValueError:
        return None


def _level_counts(reported: pd.DataFrame, c: Characteristic, n: int) -> list[int]:
    """Patients per level of a category: reported counts, one unreported level taking the rest."""
    counts = [_reported_count(reported, lv.group) if lv.group else None for lv in c.levels]
    missing = [i for i, k in enumerate(counts) if k is None]
    if len(missing) == 1:
        counts[missing[0]] = n - sum(k for k in counts if k is not None)
    if missing and len(missing) != 1:
        raise ValueError(f"{c.code}: the report gives no patient counts for its levels")
    if sum(counts) != n or min(counts) < 0:  # type: ignore[type-var]
        shown = " + ".join(f"{k} {lv.label}" for k, lv in zip(counts, c.levels, strict=True))
        raise ValueError(f"{c.code}: {shown} != {n} patients")
    return counts  # type: ignore[return-value]


def generate_patients(
    reported: pd.DataFrame, *, study: Study, seed: int = DEFAULT_SEED
) -> pd.DataFrame:
    """Generate a patients table consistent with the reported cohort facts.

    Parameters
    ----------
    reported : pandas.DataFrame
        A reported-figures table with the cohort size, the number of patients
        in each level of each category (e.g. men and women; one level may be
        left for the rest), and min/max of each numeric characteristic.
    study : Study
        Its characteristics say which columns to generate, in which order.
    seed : int
        Seed of the random generator (NumPy PCG64).

    Returns
    -------
    pandas.DataFrame
        ``patient_id`` (``P01``…) and the study's characteristics.

    Raises
    ------
    ValueError
        If the reported counts do not add up, a required characteristic has
        no reported range, or a range cannot be spanned.

    Examples
    --------
    >>> p = generate_patients(load_reported(DEFAULT_REPORTED), study=load_study(DEFAULT_STUDY),
    ...                       seed=1)
    >>> len(p), int(p["age_years"].min()), int(p["age_years"].max())
    (7, 20, 42)
    """
    n = int(figure(reported, variable="patients", statistic="n")["value"])
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for c in study.characteristics:
        if c.type == "category":
            counts = _level_counts(reported, c, n)
            levels = [lv.value for lv, k in zip(c.levels, counts, strict=True) for _ in range(k)]
            columns[c.code] = rng.permutation(np.array(levels))
            continue
        try:
            low = int(figure(reported, variable=c.code, statistic="min")["value"])
            high = int(figure(reported, variable=c.code, statistic="max")["value"])
        except ValueError:
            if c.required:
                raise ValueError(
                    f"{c.code}: the report gives no range, so it cannot be generated"
                ) from None
            continue  # an optional characteristic the report says nothing about is left out
        columns[c.code] = _spanning_integers(rng, n, low, high)
    return pd.DataFrame({"patient_id": [f"P{i:02d}" for i in range(1, n + 1)], **columns})


def write_standin(
    out_dir: str | Path = DEFAULT_OUT,
    *,
    reported_path: str | Path = DEFAULT_REPORTED,
    study: str | Path | Study = DEFAULT_STUDY,
    seed: int = DEFAULT_SEED,
) -> list[Path]:
    """Write the stand-in data set: patients, measurements and provenance.

    Parameters
    ----------
    out_dir : str or Path, default "data/standin"
    reported_path : str or Path, default "data/reported/abstract_figures.csv"
    study : str, Path or Study, default "data/study.yaml"
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
    definition = load_study(study)
    reported = load_reported(reported_path, study=definition)
    patients = generate_patients(reported, study=definition, seed=seed)
    achieved = compare_cohort_with_reported(patients, reported, study=definition)
    measurements, comparisons = reconstruct_measurements(
        patients,
        reported,
        study=definition,
        test=definition.reading.test,
        rule=definition.reading.precision_rule,
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
        "study_definition": display_path(definition.path or str(study)),
        "patients": {
            "rule": (
                "ids P01..; for each category of the study definition, the reported numbers "
                "of patients per level shuffled; each numeric characteristic with a reported "
                "range drawn as whole numbers uniformly within it, with both ends placed on "
                "randomly chosen patients"
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
            "test": definition.reading.test,
            "precision_rule": definition.reading.precision_rule,
            "visits_left_missing": _visits_left_missing(measurements, definition),
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


def _visits_left_missing(measurements: pd.DataFrame, study: Study) -> str:
    """Say which visits of which outcomes the report says nothing about (left without values)."""
    present = set(zip(measurements["outcome"], measurements["visit_month"], strict=True))
    gaps = []
    for code in study.outcome_codes:
        months = [m for m in study.visit_months if (code, m) not in present]
        if months:
            gaps.append(f"{code}: month {', '.join(map(str, months))}")
    listed = "; ".join(gaps) if gaps else "none"
    return f"visits the report says nothing about have no values ({listed})"


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m helpers.standin [--out DIR] [--seed N]``, or ``--edited DIR``.

    ``--edited DIR`` keeps the label of a copy of the stand-in edited on purpose
    (:func:`helpers.data.record_edits`) and takes no other option.
    """
    parser = argparse.ArgumentParser(
        prog="python -m helpers.standin", description=__doc__.split("\n\n")[0]
    )
    # no defaults here: an option given (under any abbreviation argparse accepts) is not None,
    # so --edited can refuse the generator's options; the defaults are filled in below
    parser.add_argument("--out", help=f"output directory (default: {DEFAULT_OUT})")
    parser.add_argument("--reported", help=f"reported-figures table (default: {DEFAULT_REPORTED})")
    parser.add_argument("--study", help=f"study definition, YAML (default: {DEFAULT_STUDY})")
    parser.add_argument("--seed", type=int, help=f"seed (default: {DEFAULT_SEED})")
    parser.add_argument(
        "--edited",
        metavar="DIR",
        help="instead: keep the label of a stand-in copy in DIR whose files you edited "
        "(records the edit and the new checksums in its provenance.json)",
    )
    args = parser.parse_args(argv)
    generating = (args.out, args.reported, args.study, args.seed)
    if args.edited is not None and any(v is not None for v in generating):
        parser.error("--edited records an edit and generates nothing: give it alone")
    if args.edited is not None:
        try:
            changed = record_edits(args.edited)
        except (HelpersError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(
            f"recorded as edited: {', '.join(changed)}"
            if changed
            else "nothing changed since the provenance file was written"
        )
        return 0
    try:
        files = write_standin(
            DEFAULT_OUT if args.out is None else args.out,
            reported_path=DEFAULT_REPORTED if args.reported is None else args.reported,
            study=DEFAULT_STUDY if args.study is None else args.study,
            seed=DEFAULT_SEED if args.seed is None else args.seed,
        )
    except (HelpersError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for f in files:
        print(f"wrote {display_path(f)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
