"""The data dictionary: pandera models for every input table.

Three tables enter the compendium:

* ``patients.csv`` — one row per patient (:class:`PatientsModel`);
* ``measurements.csv`` — one row per patient × visit × outcome, tidy
  (:class:`MeasurementsModel`, plus one plausibility check per outcome from
  :data:`OUTCOMES`);
* the reported-figures table of ``data/reported/`` (:class:`ReportedFiguresModel`).

The plausibility ranges are *plausibility bounds*, wide enough for any adult
with type 1 diabetes and narrow enough to catch unit and entry errors (HbA1c
in mmol/mol typed into the % column, insulin in U/kg typed as U/day). They are
not reference intervals. Each bound carries its source in the field metadata,
and ``data/standin/datapackage.json`` is generated from these models
(``python -m helpers.datadict``).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Optional

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

__all__ = [
    "OUTCOMES",
    "PATIENT_ID_PATTERN",
    "VISIT_MONTHS",
    "MeasurementsModel",
    "Outcome",
    "PatientsModel",
    "ReportedFiguresModel",
    "identifier_reason",
    "identifier_value_reason",
    "measurements_schema",
    "outcome",
]

#: Pseudonymous patient identifiers: letters, digits, ``_`` or ``-``, 1–32 characters.
PATIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"

#: Study visits, in months after the infusion (0 = baseline, before AMSCT).
VISIT_MONTHS: tuple[int, ...] = (0, 1, 2, 3)


@dataclass(frozen=True)
class Outcome:
    """An outcome measured at the study visits.

    Parameters
    ----------
    code : str
        The value of the ``outcome`` column in ``measurements.csv``.
    label : str
        Name for tables and figures.
    unit : str
        Unit of ``value`` for this outcome.
    minimum, maximum : float
        Plausibility bounds (inclusive).
    source : str
        Where the bounds come from.
    """

    code: str
    label: str
    unit: str
    minimum: float
    maximum: float
    source: str


#: Every outcome the study measured, in the order the abstract lists them.
OUTCOMES: tuple[Outcome, ...] = (
    Outcome(
        "insulin_dose",
        "Daily insulin dose",
        "U/day",
        0.0,
        300.0,
        "ADA Standards of Care in Diabetes 2024, section 9: adults with type 1 diabetes "
        "typically need 0.4-1.0 U/kg/day; over 200 U/day is severe insulin resistance "
        "(the U-500 threshold), so 300 U/day bounds a plausible dose.",
    ),
    Outcome(
        "hba1c",
        "HbA1c",
        "%",
        3.0,
        20.0,
        "NGSP-certified HbA1c methods report roughly 4-18 % (NGSP, ngsp.org); a value "
        "outside 3-20 % is an entry or unit error (e.g. IFCC mmol/mol typed as %).",
    ),
    Outcome(
        "leptin",
        "Leptin",
        "ng/mL",
        0.0,
        150.0,
        "Adult serum leptin spans about 0.5-100 ng/mL, highest in obesity "
        "(Considine et al. 1996, N Engl J Med 334:292-295).",
    ),
    Outcome(
        "gad_ab",
        "GAD antibodies",
        "IU/mL",
        0.0,
        5000.0,
        "GAD65 antibody ELISAs calibrated to WHO 97/550 report up to about 2000 IU/mL "
        "undiluted (e.g. RSR GADAb ELISA insert); 5000 IU/mL allows for diluted re-assays.",
    ),
    Outcome(
        "islet_ab",
        "Islet-cell (Langerhans) antibodies",
        "IU/mL",
        0.0,
        1000.0,
        "Islet-cell antibody units are kit-specific (JDF units by immunofluorescence, "
        "U/mL or IU/mL by ELISA); 1000 is a loose plausibility bound, not a cut-off.",
    ),
)


def outcome(code: str) -> Outcome:
    """Look up an outcome by its code.

    Parameters
    ----------
    code : str
        One of the codes in :data:`OUTCOMES`.

    Returns
    -------
    Outcome

    Raises
    ------
    ValueError
        If ``code`` is not a known outcome; the message lists the allowed codes.

    Examples
    --------
    >>> outcome("hba1c").unit
    '%'
    """
    for o in OUTCOMES:
        if o.code == code:
            return o
    allowed = ", ".join(o.code for o in OUTCOMES)
    raise ValueError(f"unknown outcome {code!r}; allowed: {allowed}")


def _meta(unit: str | None, source: str) -> dict[str, str | None]:
    return {"unit": unit, "source": source}


class PatientsModel(pa.DataFrameModel):
    """``patients.csv``: one row per patient, pseudonymous.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"patient_id": ["P01"], "sex": ["F"], "age_years": ["31"],
    ...                    "cells_infused_million": ["96"], "culture_weeks": ["3"]})
    >>> PatientsModel.validate(df)["age_years"].dtype
    dtype('int64')
    """

    patient_id: Series[str] = pa.Field(
        unique=True,
        str_matches=PATIENT_ID_PATTERN,
        title="Patient",
        description="Pseudonymous patient identifier; never a name or national id.",
        metadata=_meta(None, "Study convention: pseudonymous ids only."),
    )
    sex: Series[str] = pa.Field(
        isin=["M", "F"],
        title="Sex",
        description="Sex as recorded: M (male) or F (female).",
        metadata=_meta(None, "Abstract, Methods: '5 male, 2female'."),
    )
    age_years: Series[int] = pa.Field(
        in_range={"min_value": 18, "max_value": 100},
        title="Age",
        description="Age at infusion, completed years.",
        metadata=_meta(
            "years",
            "The study enrolled adults (abstract: 'aged 20-42'); 100 is a plausibility cap.",
        ),
    )
    cells_infused_million: Series[float] = pa.Field(
        in_range={"min_value": 1.0, "max_value": 1000.0},
        title="Cells infused",
        description="Autologous mesenchymal stem cells infused intravenously, in millions.",
        metadata=_meta(
            "10^6 cells",
            "MSC infusions in type 1 diabetes give about 1-10 x10^6 cells/kg (Carlsson et al. "
            "2015, Diabetes 64:587-592, 2.1-3.6 x10^6/kg); 1000 x10^6 bounds 10 x10^6/kg at "
            "100 kg. Abstract: '95 to 97x10^6'.",
        ),
    )
    culture_weeks: Series[float] = pa.Field(
        in_range={"min_value": 1.0, "max_value": 8.0},
        title="Culture time",
        description="Weeks the bone-marrow cells were cultivated before infusion.",
        metadata=_meta(
            "weeks",
            "Culture-expanded MSC products are grown for about 2-6 weeks; abstract: "
            "'cultivated for 3-4 weeks'.",
        ),
    )

    weight_kg: Optional[Series[float]] = pa.Field(  # noqa: UP045 (pandera reads Optional)
        nullable=True,
        in_range={"min_value": 30.0, "max_value": 250.0},
        title="Body weight",
        description="Body weight at baseline, kg. Optional; needed for insulin dose per kg "
        "(IDAA1c, partial remission).",
        metadata=_meta(
            "kg", "Adult plausibility bounds; the abstract does not report body weight."
        ),
    )

    class Config:
        """Reject unknown columns; parse text into the declared types."""

        strict = True
        coerce = True

    @pa.check("patient_id", name="pseudonymous_id", element_wise=False)
    @classmethod
    def patient_id_is_pseudonymous(cls, series: pd.Series) -> pd.Series:
        """Check that no id looks like a phone number, a date or a name."""
        return _pseudonymous(series)

    @pa.check("patient_id", name="id_without_spaces", element_wise=False)
    @classmethod
    def patient_id_has_no_spaces(cls, series: pd.Series) -> pd.Series:
        """Check that no id holds a space or a line break (a look-alike of another id)."""
        return _without_spaces(series)

    @pa.check("patient_id", name="id_unique_ignoring_case", element_wise=False)
    @classmethod
    def patient_id_is_unique_ignoring_case(cls, series: pd.Series) -> pd.Series:
        """Check that no two ids differ only in upper and lower case (P01 and p01)."""
        folded = series.astype(str).str.casefold()
        return ~(folded.duplicated(keep=False) & ~series.duplicated(keep=False))


class MeasurementsModel(pa.DataFrameModel):
    """``measurements.csv``: one row per patient × visit × outcome (tidy).

    A missing measurement is a missing row; a row with an empty ``value`` is
    an error. Per-outcome plausibility ranges are added by
    :func:`measurements_schema`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"patient_id": ["P01"], "visit_month": ["0"],
    ...                    "outcome": ["hba1c"], "value": ["9.6"]})
    >>> measurements_schema().validate(df)["value"].tolist()
    [9.6]
    """

    patient_id: Series[str] = pa.Field(
        str_matches=PATIENT_ID_PATTERN,
        title="Patient",
        description="Pseudonymous patient identifier; must exist in patients.csv.",
        metadata=_meta(None, "Study convention: pseudonymous ids only."),
    )
    visit_month: Series[int] = pa.Field(
        isin=list(VISIT_MONTHS),
        title="Visit",
        description="Months after the infusion; 0 is baseline (before AMSCT).",
        metadata=_meta(
            "months", "Abstract, Methods: 'before, 1, 2and 3 months after the AMSCT procedure'."
        ),
    )
    outcome: Series[str] = pa.Field(
        isin=[o.code for o in OUTCOMES],
        title="Outcome",
        description="What was measured; see the outcome list for labels and units.",
        metadata=_meta(None, "Abstract, Methods and Results."),
    )
    value: Series[float] = pa.Field(
        title="Value",
        description="The measurement, in the outcome's unit; its plausible range depends on "
        "the outcome.",
        metadata=_meta("outcome's unit", "See the outcome list."),
    )

    class Config:
        """Reject unknown columns; parse text; one value per patient, visit and outcome."""

        strict = True
        coerce = True
        unique = ["patient_id", "visit_month", "outcome"]  # noqa: RUF012 (pandera API)

    @pa.check("patient_id", name="pseudonymous_id", element_wise=False)
    @classmethod
    def patient_id_is_pseudonymous(cls, series: pd.Series) -> pd.Series:
        """Check that no id looks like a phone number, a date or a name."""
        return _pseudonymous(series)

    @pa.check("patient_id", name="id_without_spaces", element_wise=False)
    @classmethod
    def patient_id_has_no_spaces(cls, series: pd.Series) -> pd.Series:
        """Check that no id holds a space or a line break (a look-alike of another id)."""
        return _without_spaces(series)


def _range_check(o: Outcome) -> pa.Check:
    def value_within_bounds(df: pd.DataFrame) -> pd.Series:
        other = df["outcome"] != o.code
        return other | df["value"].isna() | df["value"].between(o.minimum, o.maximum)

    return pa.Check(value_within_bounds, name=f"plausible_range:{o.code}")


def measurements_schema() -> pa.DataFrameSchema:
    """Return the full measurements schema: the model plus one range check per outcome.

    Returns
    -------
    pandera.DataFrameSchema

    Examples
    --------
    >>> [c.name for c in measurements_schema().checks][:1]
    ['plausible_range:insulin_dose']
    """
    schema = copy.deepcopy(MeasurementsModel.to_schema())  # to_schema() is cached: never mutate it
    schema.checks = [*schema.checks, *(_range_check(o) for o in OUTCOMES)]
    return schema


class ReportedFiguresModel(pa.DataFrameModel):
    """A reported-figures table (``data/reported/*.csv``): one row per reported number.

    ``value`` is what the authors meant (comma decimals read as points, '+'
    read as '±'); ``decimals`` is how many decimals they printed, so a value
    stands for the interval ``value ± 0.5 × 10^-decimals``; ``quote`` is the
    text it comes from, verbatim.

    A ``p_value`` row compares either two visits of one group (paired:
    ``visit`` against ``reference_visit``) or two independent groups at one
    visit (``group`` against ``reference_group``). Group sizes come from ``n``
    rows of the variable (at the visit, or at any visit) or of ``patients``.

    Examples
    --------
    >>> from helpers.data import load_reported
    >>> load_reported("data/reported/abstract_figures.csv").shape[1]
    14
    """

    figure_id: Series[str] = pa.Field(unique=True, str_matches=r"^[a-z0-9_.]+$")
    section: Series[str] = pa.Field(isin=["methods", "results"])
    variable: Series[str] = pa.Field()
    statistic: Series[str] = pa.Field(
        isin=["n", "min", "max", "mean", "sd", "p_value", "scheduled"]
    )
    group: Series[str] = pa.Field()
    visit: Series[pd.Int64Dtype] = pa.Field(nullable=True, isin=list(VISIT_MONTHS))
    reference_visit: Series[pd.Int64Dtype] = pa.Field(nullable=True, isin=list(VISIT_MONTHS))
    reference_group: Series[str] = pa.Field(nullable=True)
    value: Series[float] = pa.Field()
    relation: Series[str] = pa.Field(isin=["=", "<", ">"])
    decimals: Series[int] = pa.Field(ge=0, le=6)
    unit: Series[str] = pa.Field(nullable=True)
    quote: Series[str] = pa.Field(str_length={"min_value": 1})
    note: Series[str] = pa.Field(nullable=True)

    class Config:
        """Reject unknown columns; parse text into the declared types."""

        strict = True
        coerce = True

    @pa.dataframe_check
    @classmethod
    def p_values_are_comparisons(cls, df: pd.DataFrame) -> pd.Series:
        """Check a p-value compares two visits (paired) or two groups (independent), in [0, 1]."""
        is_p = df["statistic"] == "p_value"
        paired = df["reference_visit"].notna() & df["reference_group"].isna()
        independent = df["reference_group"].notna() & df["reference_visit"].isna()
        return ~is_p | ((paired | independent) & df["value"].between(0.0, 1.0))

    @pa.dataframe_check
    @classmethod
    def figures_are_possible(cls, df: pd.DataFrame) -> pd.Series:
        """Check each figure can be what it says: finite; counts whole; SDs not negative."""
        value = df["value"]
        finite = value.map(lambda v: v == v and abs(v) != float("inf"))
        is_n = df["statistic"] == "n"
        least = df["variable"].eq("patients").map({True: 1, False: 2})
        count_ok = ~is_n | ((value % 1 == 0) & (value >= least))
        sd_ok = (df["statistic"] != "sd") | (value >= 0)
        return finite & count_ok & sd_ok


# Direct identifiers: a column whose normalised name matches one of these is
# refused whatever else the table holds (patient-level files are pseudonymous).
_IDENTIFIER_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^((first|last|full|given|family|middle|maiden|patient)_?)?name$|^(sur|fore)name$", "a name"),
    (r"^(fio|initials)$", "a name"),
    (r"^(dob|d_o_b|date_?of_?birth|birth_?date|birth_?day|birthday)$", "a date of birth"),
    (r"^(home_|postal_|street_)?address(_line_?\d)?$|^street$", "an address"),
    (r"^(post_?code|zip|zip_?code|postal_?code)$", "an address"),
    (r"^((tele|mobile_|cell_|home_)?phone(_number)?|mobile|telephone|tel)$", "a phone number"),
    (r"^e_?mail(_address)?$", "an e-mail address"),
    (
        r"^(national_?id|ssn|social_security(_number)?|iin|inn|snils|passport(_no|_number)?)$",
        "a national identity number",
    ),
    (
        r"^(mrn|medical_record(_number)?|hospital_number|insurance_number)$",
        "a medical record or insurance number",
    ),
)


def identifier_reason(column: object) -> str | None:
    """Say whether a column name looks like a direct identifier.

    Parameters
    ----------
    column : object
        A column label.

    Returns
    -------
    str or None
        What kind of identifier it looks like, or ``None``.

    Examples
    --------
    >>> identifier_reason("Date of Birth")
    'a date of birth'
    >>> identifier_reason("age_years") is None
    True
    """
    norm = re.sub(r"[^a-z0-9]+", "_", str(column).strip().lower()).strip("_")
    for pattern, reason in _IDENTIFIER_PATTERNS:
        if re.search(pattern, norm):
            return reason
    return None


_DATE_LIKE = re.compile(r"^(\d{4}[-_./]?\d{1,2}[-_./]?\d{1,2}|\d{1,2}[-_./]\d{1,2}[-_./]\d{2,4})$")


def identifier_value_reason(value: object) -> str | None:
    """Say whether a patient id looks like a direct identifier rather than a pseudonym.

    Pseudonymous ids are codes such as ``P01`` or ``KZ-007``: they contain a
    digit, and no run of seven digits or more. Refused: a run of seven or
    more digits (a phone or national identity number), a date (a date of
    birth), and an id without any digit (a name such as ``IvanPetrov``).

    Parameters
    ----------
    value : object

    Returns
    -------
    str or None
        What it looks like, or ``None`` for a plausible pseudonym.

    Examples
    --------
    >>> [identifier_value_reason(v) for v in ["P01", "79161234567", "IvanPetrov", "1990-01-02"]]
    [None, 'a phone or identity number', 'a name', 'a date (of birth?)']
    """
    text = str(value).strip()
    if _DATE_LIKE.match(text):
        return "a date (of birth?)"
    if re.search(r"\d{7,}", text):
        return "a phone or identity number"
    if not re.search(r"\d", text):
        return "a name"
    return None


def _pseudonymous(series: pd.Series) -> pd.Series:
    return series.map(lambda v: identifier_value_reason(v) is None)


def _without_spaces(series: pd.Series) -> pd.Series:
    return ~series.astype(str).str.contains(r"\s", regex=True)


#: The check applied to every patient_id column (its name is read by the error messages).
PSEUDONYM_CHECK = "pseudonymous_id"
