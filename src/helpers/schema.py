"""The data dictionary: pandera schemas for every input table, built from the study definition.

Three tables enter the compendium:

* ``patients.csv`` — one row per patient (:func:`patients_schema`: ``patient_id``,
  the arm when there are several, and the study's characteristics);
* ``measurements.csv`` — one row per patient × visit × outcome, tidy
  (:func:`measurements_schema`, with one plausibility check per outcome);
* a reported-figures table such as ``data/reported/abstract_figures.csv``
  (:class:`ReportedFiguresModel`), which describes any study: any visits,
  groups and variables.

Which columns, visits and outcomes exist, their units, and their plausibility
bounds with sources all come from the study definition (:mod:`helpers.study`);
this module knows only the shape of the files and the identifier rules. The
bounds are *plausibility bounds*, wide enough for any patient of the study and
narrow enough to catch unit and entry errors; they are not reference intervals.
``datapackage.json`` is generated from these schemas (``python -m helpers.datadict``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from helpers.study import Characteristic, Outcome, Study

__all__ = [
    "FACTOR",
    "FACTORS",
    "PATIENT_ID_PATTERN",
    "PSEUDONYM_CHECK",
    "ReportedFiguresModel",
    "identifier_reason",
    "identifier_value_reason",
    "measurements_schema",
    "patients_schema",
]

#: Pseudonymous patient identifiers: letters, digits, ``_`` or ``-``, 1–32 characters.
PATIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
#: The check applied to every patient_id column (its name is read by the error messages).
PSEUDONYM_CHECK = "pseudonymous_id"


def _meta(unit: str | None, source: str) -> dict[str, str | None]:
    return {"unit": unit, "source": source}


#: The columns of ``measurements.csv`` every analysis groups, selects and pairs by.
FACTORS = ("patient_id", "outcome")
#: How :data:`FACTORS` are typed once read: categorical, as R's factors (the categories are the
#: values present, sorted), so that pandera checks, and analyses select and group, integer
#: codes rather than millions of strings. The file holds text, and the data dictionary says so.
FACTOR = pd.CategoricalDtype()


def _patient_id(description: str, *, unique: bool, dtype: object = str) -> pa.Column:
    """Build the ``patient_id`` column both patient-level files share, with its checks."""
    return pa.Column(
        dtype,
        checks=[
            # pandera's str_matches, tested once per distinct id (an id repeats on every row of
            # its patient): the same name, pattern and message
            pa.Check(
                _matches_id_pattern,
                name="str_matches",
                error=f"str_matches('{PATIENT_ID_PATTERN}')",
                statistics={"pattern": PATIENT_ID_PATTERN},
            ),
            pa.Check(_pseudonymous, name=PSEUDONYM_CHECK, element_wise=False),
            pa.Check(_without_spaces, name="id_without_spaces", element_wise=False),
            *([pa.Check(_unique_ignoring_case, name="id_unique_ignoring_case")] if unique else []),
        ],
        unique=unique,
        title="Patient",
        description=description,
        metadata=_meta(None, "Study convention: pseudonymous ids only."),
    )


def _characteristic_column(c: Characteristic) -> pa.Column:
    if c.type == "category":
        dtype: object = str
        checks = [pa.Check.isin([lv.value for lv in c.levels])]
    else:
        dtype = int if c.type == "integer" and c.required else float
        low, high = (
            (int(c.minimum), int(c.maximum)) if c.type == "integer" else (c.minimum, c.maximum)
        )
        checks = [pa.Check.in_range(low, high)]
    return pa.Column(
        dtype,
        checks=checks,
        nullable=not c.required,
        required=c.required,
        title=c.label,
        description=c.description,
        metadata=_meta(c.unit, c.source),
    )


def patients_schema(study: Study) -> pa.DataFrameSchema:
    """Return the schema of ``patients.csv`` for a study: one row per patient, pseudonymous.

    Columns: ``patient_id``, ``group`` when the study has more than one arm, and
    one column per characteristic of the study definition (optional ones may be
    left out). Unknown columns are refused; text is parsed into the declared types.

    Parameters
    ----------
    study : Study

    Returns
    -------
    pandera.DataFrameSchema

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.study import load_study
    >>> df = pd.DataFrame({"patient_id": ["P01"], "sex": ["F"], "age_years": ["31"],
    ...                    "cells_infused_million": ["96"], "culture_weeks": ["3"]})
    >>> patients_schema(load_study("data/study.yaml")).validate(df)["age_years"].dtype
    dtype('int64')
    """
    columns = {
        "patient_id": _patient_id(
            "Pseudonymous patient identifier; never a name or national id.", unique=True
        )
    }
    if len(study.groups) > 1:
        columns["group"] = pa.Column(
            str,
            checks=[pa.Check.isin(list(study.group_codes))],
            title="Group",
            description="The arm the patient was allocated to.",
            metadata=_meta(None, f"Study definition {study.path or study.id}: groups."),
        )
    columns.update({c.code: _characteristic_column(c) for c in study.characteristics})
    return pa.DataFrameSchema(columns, strict=True, coerce=True, name="patients")


def _range_check(o: Outcome) -> pa.Check:
    def value_within_bounds(df: pd.DataFrame) -> pd.Series:
        other = df["outcome"] != o.code
        return other | df["value"].isna() | df["value"].between(o.minimum, o.maximum)

    return pa.Check(value_within_bounds, name=f"plausible_range:{o.code}")


def _range_rule(o: Outcome) -> str:
    return (
        f"{o.label} must be between {o.minimum:g} and {o.maximum:g} {o.unit} "
        f"(plausibility bound: {o.bounds_source})"
    )


def measurements_schema(study: Study) -> pa.DataFrameSchema:
    """Return the schema of ``measurements.csv``: one row per patient × visit × outcome (tidy).

    A missing measurement is a missing row; a row with an empty ``value`` is an
    error. Visits and outcomes are those of the study definition, and each
    outcome's value must lie within its plausibility bounds. The validated
    table has ``patient_id`` and ``outcome`` categorical (:data:`FACTOR`).

    Parameters
    ----------
    study : Study

    Returns
    -------
    pandera.DataFrameSchema

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.study import load_study
    >>> schema = measurements_schema(load_study("data/study.yaml"))
    >>> df = pd.DataFrame({"patient_id": ["P01"], "visit_month": ["0"],
    ...                    "outcome": ["hba1c"], "value": ["9.6"]})
    >>> schema.validate(df)["value"].tolist(), [c.name for c in schema.checks][:1]
    ([9.6], ['plausible_range:insulin_dose'])
    """
    source = f"Study definition {study.path or study.id}"
    where = f"as the study definition {study.path or study.id} lists them"
    columns = {
        "patient_id": _patient_id(
            "Pseudonymous patient identifier; must exist in patients.csv.",
            unique=False,
            dtype=FACTOR,
        ),
        "visit_month": pa.Column(
            int,
            checks=[pa.Check.isin(list(study.visit_months))],
            title="Visit",
            description=f"Months after the intervention; {study.baseline} is baseline.",
            metadata=_meta("months", f"{source}: visits.") | {"allowed_from": where},
        ),
        "outcome": pa.Column(
            FACTOR,
            checks=[pa.Check.isin(list(study.outcome_codes))],
            title="Outcome",
            description="What was measured; see the outcome list for labels and units.",
            metadata=_meta(None, f"{source}: outcomes.") | {"allowed_from": where},
        ),
        "value": pa.Column(
            float,
            title="Value",
            description="The measurement, in the outcome's unit; its plausible range depends "
            "on the outcome.",
            metadata=_meta("outcome's unit", "See the outcome list."),
        ),
    }
    return pa.DataFrameSchema(
        columns,
        checks=[_range_check(o) for o in study.outcomes],
        strict=True,
        coerce=True,
        unique=["patient_id", "visit_month", "outcome"],
        name="measurements",
        # the words of each table-wide rule, read by the error messages
        metadata={"rules": {f"plausible_range:{o.code}": _range_rule(o) for o in study.outcomes}},
    )


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
    A binary outcome is reported as ``count`` rows (patients with it, "x of n")
    beside the ``n`` they are counted in. Visits are whole months (any months);
    groups are any names.

    Examples
    --------
    >>> from helpers.reported import load_reported
    >>> load_reported("data/reported/abstract_figures.csv").shape[1]
    14
    """

    figure_id: Series[str] = pa.Field(unique=True, str_matches=r"^[a-z0-9_.]+$")
    section: Series[str] = pa.Field(isin=["methods", "results"])
    variable: Series[str] = pa.Field()
    statistic: Series[str] = pa.Field(
        isin=["n", "count", "min", "max", "mean", "sd", "p_value", "scheduled"]
    )
    group: Series[str] = pa.Field()
    visit: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    reference_visit: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
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
        """Check each figure can be what it says: finite; n and counts whole; SDs not negative."""
        value = df["value"]
        finite = value.map(lambda v: v == v and abs(v) != float("inf"))
        is_n = df["statistic"] == "n"
        least = df["variable"].eq("patients").map({True: 1, False: 2})
        count_ok = ~is_n | ((value % 1 == 0) & (value >= least))
        count_ok &= (df["statistic"] != "count") | ((value % 1 == 0) & (value >= 0))
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
_SEVEN_DIGITS = re.compile(r"\d{7,}")
_A_DIGIT = re.compile(r"\d")
_SPACE = re.compile(r"\s")


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
    if _SEVEN_DIGITS.search(text):
        return "a phone or identity number"
    if not _A_DIGIT.search(text):
        return "a name"
    return None


def _per_distinct(series: pd.Series, test: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply a test to each distinct value once: an id repeats on every row of its patient.

    ``test`` takes the distinct values as text (``str(value)``, as an element-wise
    check would see them) and returns one boolean per value.
    """
    codes, distinct = pd.factorize(series, use_na_sentinel=False)
    texts = pd.Series([str(v) for v in np.asarray(distinct, dtype=object).tolist()], dtype=object)
    passed = test(texts).to_numpy(dtype=bool)
    return pd.Series(passed[codes], index=series.index)


_ID_PATTERN = re.compile(PATIENT_ID_PATTERN)


def _matches_id_pattern(series: pd.Series) -> pd.Series:
    return _per_distinct(series, lambda texts: texts.str.match(_ID_PATTERN))


def _pseudonymous(series: pd.Series) -> pd.Series:
    """``identifier_value_reason(v) is None`` for each value, with the same expressions."""

    def plausible(texts: pd.Series) -> pd.Series:
        stripped = texts.str.strip()
        return (
            ~stripped.str.match(_DATE_LIKE)
            & ~stripped.str.contains(_SEVEN_DIGITS)
            & stripped.str.contains(_A_DIGIT)
        )

    return _per_distinct(series, plausible)


def _without_spaces(series: pd.Series) -> pd.Series:
    return _per_distinct(series, lambda texts: ~texts.str.contains(_SPACE))


def _unique_ignoring_case(series: pd.Series) -> pd.Series:
    """Flag ids that differ from another only in upper and lower case (P01 and p01)."""
    folded = series.astype(str).str.casefold()
    return ~(folded.duplicated(keep=False) & ~series.duplicated(keep=False))
