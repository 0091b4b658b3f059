"""Clinical conversions: HbA1c units, derived outcomes, and the insulin-dose-adjusted A1c.

Which outcome is HbA1c, which is the daily insulin dose and which derived
outcome is computed by which conversion are said by the study definition
(:mod:`helpers.study`); this module knows the formulas, not the codes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from helpers.study import Study

__all__ = [
    "CONVERSIONS",
    "REMISSION_IDAA1C",
    "add_derived",
    "hba1c_mmol_mol",
    "idaa1c",
]

#: Partial remission: insulin-dose-adjusted A1c of 9 or less (Mortensen et al. 2009,
#: Diabetes Care 32:1384-1390).
REMISSION_IDAA1C = 9.0

Number = float | np.ndarray | pd.Series


def hba1c_mmol_mol(percent: Number) -> Number:
    """Convert HbA1c from % (NGSP/DCCT) to mmol/mol (IFCC).

    Uses the IFCC-NGSP master equation, mmol/mol = 10.929 × (% − 2.15)
    (Hoelzel et al. 2004, Clin Chem 50:166-174).

    Parameters
    ----------
    percent : float or array-like

    Returns
    -------
    float or array-like

    Examples
    --------
    >>> round(hba1c_mmol_mol(7.0), 1)  # the familiar 7 % = 53 mmol/mol
    53.0
    """
    return 10.929 * (percent - 2.15)


#: Conversions a derived outcome of the study definition may name.
CONVERSIONS: dict[str, Callable[[Number], Number]] = {
    "hba1c_ngsp_to_ifcc": hba1c_mmol_mol,
}


def add_derived(measurements: pd.DataFrame, *, study: Study) -> pd.DataFrame:
    """Add the study's derived outcomes as rows, each converted from its source outcome.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Tidy measurements (``patient_id``, ``visit_month``, ``outcome``, ``value``).
    study : Study
        Its ``derived`` entries say which outcome is converted by which conversion.

    Returns
    -------
    pandas.DataFrame
        The input plus one converted row per row of each source outcome.

    Raises
    ------
    ValueError
        If a derived outcome names a conversion this module does not know.

    Examples
    --------
    >>> from helpers.study import load_study
    >>> m = pd.DataFrame({"patient_id": ["a"], "visit_month": [0], "outcome": ["hba1c"],
    ...                   "value": [7.0]})
    >>> add_derived(m, study=load_study("data/study.yaml"))["outcome"].tolist()
    ['hba1c', 'hba1c_mmol_mol']
    """
    parts = [measurements]
    for d in study.derived:
        if d.conversion not in CONVERSIONS:
            known = ", ".join(CONVERSIONS)
            raise ValueError(
                f"derived {d.code}: unknown conversion {d.conversion!r}; known: {known}"
            )
        source = measurements[measurements["outcome"] == d.source_outcome]
        parts.append(
            source.assign(outcome=d.code, value=CONVERSIONS[d.conversion](source["value"]))
        )
    return pd.concat(parts, ignore_index=True)


def idaa1c(
    measurements: pd.DataFrame, patients: pd.DataFrame, *, study: Study
) -> tuple[pd.DataFrame | None, str]:
    """Insulin-dose-adjusted A1c and partial remission, where body weight is known.

    IDAA1c = HbA1c (%) + 4 × insulin dose (U/kg/day); partial remission is
    IDAA1c ≤ 9 (Mortensen et al. 2009). Which outcomes are HbA1c and the daily
    insulin dose, and which column of the patients table is body weight, is
    said by the study definition (``clinical.idaa1c``).

    Parameters
    ----------
    measurements, patients : pandas.DataFrame
    study : Study

    Returns
    -------
    table : pandas.DataFrame or None
        ``patient_id``, ``visit_month``, ``hba1c_percent``, ``insulin_u_kg_day``,
        ``idaa1c``, ``partial_remission``; None when it cannot be computed.
    reason : str
        Why it cannot be computed, or "" when it can.

    Examples
    --------
    >>> from helpers.study import load_study
    >>> table, reason = idaa1c(pd.DataFrame(columns=["patient_id", "visit_month", "outcome",
    ...     "value"]), pd.DataFrame({"patient_id": ["a"]}), study=load_study("data/study.yaml"))
    >>> table is None, reason.startswith("body weight is not in the data")
    (True, True)
    """
    roles = study.clinical.idaa1c
    if roles is None:
        return None, "the study definition names no outcomes for IDAA1c (clinical.idaa1c)"
    a1c, dose, weight = roles.hba1c_percent, roles.insulin_units_per_day, roles.body_weight_kg
    if weight not in patients or patients[weight].isna().all():
        return None, (
            f"body weight is not in the data (the optional {weight} column of patients.csv), so "
            "the insulin dose cannot be expressed per kg and IDAA1c and partial remission "
            "cannot be computed"
        )
    wide = measurements[measurements["outcome"].isin([a1c, dose])].pivot_table(
        index=["patient_id", "visit_month"], columns="outcome", values="value"
    )
    if not {a1c, dose} <= set(wide.columns):
        return (
            None,
            f"{study.label(a1c, unit=False)} and {study.label(dose, unit=False)} are not both "
            "in the data",
        )
    wide = wide.dropna().reset_index().merge(patients[["patient_id", weight]], on="patient_id")
    wide = wide.dropna(subset=[weight])
    out = wide[["patient_id", "visit_month"]].assign(
        hba1c_percent=wide[a1c],
        insulin_u_kg_day=wide[dose] / wide[weight],
    )
    out["idaa1c"] = out["hba1c_percent"] + 4 * out["insulin_u_kg_day"]
    out["partial_remission"] = out["idaa1c"] <= REMISSION_IDAA1C
    return out, ""
