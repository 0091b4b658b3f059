"""The study definition: what was measured, when, in whom — read from one YAML file.

Everything study-specific lives in the study definition that sits beside the
data it describes (``data/study.yaml`` for this compendium's study), never in
the helpers:

* **outcomes** — code, label, unit, plausibility bounds and their source,
  recording precision (decimals), direction of benefit, and optionally an assay
  positivity cut-off and a simulation profile;
* **derived outcomes** — computed from another outcome by a named clinical
  conversion (:data:`helpers.clinical.CONVERSIONS`), e.g. HbA1c in mmol/mol;
* **visits** — month, label, and which one is baseline;
* **groups** — the arms (one group for a single-arm study);
* **characteristics** — the columns of ``patients.csv`` besides ``patient_id``,
  with type, bounds, levels and Table 1 labels;
* **clinical roles** — which outcomes a clinical index needs (IDAA1c);
* **reading** — the test most plausibly behind the report's p-values, how its
  figures were printed (rounded or truncated), and why.

The pandera schemas (:mod:`helpers.schema`), the data dictionary, labels, figure
axes, the simulator and the reconstruction all read it. The file is validated
with pydantic; a wrong definition is refused with one message naming the file,
the entry, the key, the value and the rule.

Examples
--------
>>> study = load_study("data/study.yaml")
>>> study.visit_months, study.baseline
((0, 1, 2, 3), 0)
>>> study.label("insulin_dose")
'Daily insulin dose (U/day)'
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from helpers.errors import HelpersError
from helpers.paths import resolve_path
from helpers.yamlfile import read_yaml

__all__ = [
    "Characteristic",
    "DerivedOutcome",
    "Group",
    "Level",
    "Outcome",
    "Study",
    "StudyDefinitionError",
    "Visit",
    "in_sentence",
    "label_for",
    "load_study",
]

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class StudyDefinitionError(HelpersError):
    """A study definition file is missing, unreadable or breaks a rule."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Cutoff(_Entry):
    """An assay positivity cut-off (value ≥ cut-off is positive) and its source."""

    value: float = Field(ge=0)
    source: Text


class SimulationProfile(_Entry):
    """How :func:`helpers.simulate.simulate_cohort` draws an outcome.

    ``change`` maps a follow-up visit month to the mean change from baseline;
    a visit not listed keeps the change of the latest visit before it (0 before
    the first listed).
    """

    mean: float
    sd: float = Field(gt=0)
    change: dict[int, float] = Field(default_factory=dict)


class Outcome(_Entry):
    """An outcome measured at the study visits (a value of ``measurements.csv``'s ``outcome``)."""

    code: Code
    label: Text
    unit: Text
    minimum: float
    maximum: float
    bounds_source: Text
    decimals: int = Field(ge=0, le=6, description="recording precision: decimals as recorded")
    benefit: Literal["lower", "higher", "none"]
    role: Literal["efficacy", "safety"] = "efficacy"
    description: str = ""
    cutoff: Cutoff | None = None
    simulate: SimulationProfile | None = None

    @model_validator(mode="after")
    def _bounds_ordered(self) -> Outcome:
        if not self.minimum < self.maximum:
            raise ValueError(f"minimum {self.minimum} must be below maximum {self.maximum}")
        return self


class DerivedOutcome(_Entry):
    """An outcome computed from another by a named conversion (not in the data files)."""

    code: Code
    label: Text
    unit: Text
    source_outcome: Code = Field(alias="from")
    conversion: Code
    description: str = ""


class Visit(_Entry):
    """A scheduled visit, in months after the intervention."""

    month: int = Field(ge=0, le=1200)
    label: Text
    baseline: bool = False
    source: str = ""


class Group(_Entry):
    """A group (arm) of the study."""

    code: Code
    label: Text
    description: str = ""


class Level(_Entry):
    """One level of a categorical characteristic; ``group`` names it in reported tables."""

    value: Annotated[str, Field(min_length=1, max_length=40)]
    label: Text
    group: Code | None = None


class Characteristic(_Entry):
    """A column of ``patients.csv`` besides ``patient_id``."""

    code: Code
    label: Text
    type: Literal["integer", "number", "category"]
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    levels: list[Level] = Field(default_factory=list)
    required: bool = True
    description: Text
    source: Text
    table_one: bool = True

    @model_validator(mode="after")
    def _fits_type(self) -> Characteristic:
        if self.type == "category":
            if len(self.levels) < 2:
                raise ValueError("a category needs at least two levels")
            if self.minimum is not None or self.maximum is not None:
                raise ValueError("a category has levels, not a minimum or maximum")
        else:
            if self.levels:
                raise ValueError(
                    f"a{'n' if self.type == 'integer' else ''} {self.type} has no levels"
                )
            if self.minimum is None or self.maximum is None or not self.minimum < self.maximum:
                raise ValueError("a number needs a minimum below its maximum")
        return self


class Reading(_Entry):
    """How the report is read: the test behind its p-values and how its figures were printed."""

    test: Code = "paired_t"
    precision_rule: Literal["round", "truncate"] = "round"
    reason: Text = "the report names no test; the compendium's default reading"


class IdaaRoles(_Entry):
    """The outcomes and characteristic the insulin-dose-adjusted A1c needs."""

    hba1c_percent: Code
    insulin_units_per_day: Code
    body_weight_kg: Code


class Clinical(_Entry):
    """Which outcomes clinical indices use (none is required)."""

    idaa1c: IdaaRoles | None = None


class Study(_Entry):
    """A validated study definition. Read one with :func:`load_study`."""

    id: Code
    title: Text
    citation: Text
    summary: Text | None = Field(
        default=None, description="what the study was, in about three sentences, for readers"
    )
    design: Literal["single_group", "parallel_groups"]
    time_label: Text = "Months after the intervention"
    visits: list[Visit] = Field(min_length=1)
    groups: list[Group] = Field(min_length=1)
    characteristics: list[Characteristic] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(min_length=1)
    derived: list[DerivedOutcome] = Field(default_factory=list)
    clinical: Clinical = Field(default_factory=Clinical)
    reading: Reading = Field(default_factory=Reading)
    path: str = Field(default="", exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> Study:
        problems = []
        months = [v.month for v in self.visits]
        if months != sorted(set(months)):
            problems.append(f"visits: months must be increasing and distinct, got {months}")
        if sum(v.baseline for v in self.visits) != 1:
            problems.append("visits: exactly one visit must have 'baseline: true'")
        for what, codes in [
            ("outcomes and derived outcomes", [o.code for o in (*self.outcomes, *self.derived)]),
            ("groups", [g.code for g in self.groups]),
            ("characteristics", [c.code for c in self.characteristics]),
        ]:
            twice = sorted({c for c in codes if codes.count(c) > 1})
            if twice:
                problems.append(f"{what}: code(s) given twice: {', '.join(twice)}")
        reserved = {"patient_id", "group"} & {c.code for c in self.characteristics}
        if reserved:
            problems.append(f"characteristics: {', '.join(sorted(reserved))} is a reserved column")
        measured = {o.code for o in self.outcomes}
        for d in self.derived:
            if d.source_outcome not in measured:
                problems.append(
                    f"derived {d.code}: 'from' must be a measured outcome "
                    f"({', '.join(sorted(measured))}), got {d.source_outcome!r}"
                )
        expected = 1 if self.design == "single_group" else 2
        if (len(self.groups) == 1) != (expected == 1):
            problems.append(
                f"design {self.design} needs "
                f"{'one group' if expected == 1 else 'two or more groups'}"
                f", got {len(self.groups)}"
            )
        idaa = self.clinical.idaa1c
        if idaa is not None:
            for role, code, pool in [
                ("hba1c_percent", idaa.hba1c_percent, measured),
                ("insulin_units_per_day", idaa.insulin_units_per_day, measured),
                ("body_weight_kg", idaa.body_weight_kg, {c.code for c in self.characteristics}),
            ]:
                if code not in pool:
                    problems.append(f"clinical.idaa1c.{role}: {code!r} is not defined")
        from helpers.choices import PAIRED_TESTS  # the tests a reading may name

        if self.reading.test not in PAIRED_TESTS:
            problems.append(
                f"reading.test: {self.reading.test!r} is not one of {', '.join(PAIRED_TESTS)}"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- look-ups --------------------------------------------------------------------------

    @property
    def outcome_codes(self) -> tuple[str, ...]:
        """Codes of the measured outcomes, in the definition's order."""
        return tuple(o.code for o in self.outcomes)

    @property
    def visit_months(self) -> tuple[int, ...]:
        """Visit months, in order."""
        return tuple(v.month for v in self.visits)

    @property
    def baseline(self) -> int:
        """The baseline visit's month."""
        return next(v.month for v in self.visits if v.baseline)

    @property
    def group_codes(self) -> tuple[str, ...]:
        """Codes of the groups (arms)."""
        return tuple(g.code for g in self.groups)

    def outcome(self, code: str) -> Outcome | DerivedOutcome:
        """Look up a measured or derived outcome by its code.

        Raises
        ------
        ValueError
            For an unknown code; the message lists the known ones.
        """
        for o in (*self.outcomes, *self.derived):
            if o.code == code:
                return o
        known = ", ".join(o.code for o in (*self.outcomes, *self.derived))
        raise ValueError(f"unknown outcome {code!r} in study {self.id!r}; known: {known}")

    def measured(self, code: str) -> Outcome:
        """Look up a measured (not derived) outcome by its code."""
        o = self.outcome(code)
        if not isinstance(o, Outcome):
            raise ValueError(f"{code!r} is derived from {o.source_outcome!r}, not measured")
        return o

    def label(self, code: str, *, unit: bool = True) -> str:
        """Name an outcome for tables and figures, with its unit in brackets."""
        o = self.outcome(code)
        return f"{o.label} ({o.unit})" if unit else o.label

    def unit(self, code: str) -> str:
        """Return the unit of an outcome."""
        return self.outcome(code).unit

    def visit_label(self, month: int) -> str:
        """Return the label of a visit."""
        for v in self.visits:
            if v.month == month:
                return v.label
        raise ValueError(f"unknown visit month {month!r}; visits: {list(self.visit_months)}")

    def characteristic(self, code: str) -> Characteristic:
        """Look up a characteristic (a column of ``patients.csv``)."""
        for c in self.characteristics:
            if c.code == code:
                return c
        known = ", ".join(c.code for c in self.characteristics) or "none"
        raise ValueError(f"unknown characteristic {code!r}; known: {known}")

    def subgroups(self) -> dict[str, tuple[str, str]]:
        """Map reported subgroup names to (column, value) of patients.csv: male → (sex, M)."""
        return {
            lv.group: (c.code, lv.value)
            for c in self.characteristics
            for lv in c.levels
            if lv.group is not None
        }

    def analysis_plan(
        self,
        *,
        outcomes: Sequence[str] | None = None,
        visits: Sequence[int] | None = None,
        baseline: int | None = None,
        role: str | None = None,
    ) -> tuple[list[str], list[int], int]:
        """Fill in what a notebook's parameters leave unset (``None``) from the definition.

        Parameters
        ----------
        outcomes : sequence of str, optional
            Default: the study's measured outcomes of ``role`` (all, without a role).
        visits : sequence of int, optional
            Default: every visit of the study.
        baseline : int, optional
            Default: the study's baseline visit.
        role : {"efficacy", "safety"}, optional

        Returns
        -------
        (outcomes, visits, baseline)

        Examples
        --------
        >>> load_study("data/study.yaml").analysis_plan(role="safety")
        (['gad_ab', 'islet_ab'], [0, 1, 2, 3], 0)
        """
        chosen = (
            list(outcomes)
            if outcomes is not None
            else [o.code for o in self.outcomes if role is None or o.role == role]
        )
        return (
            chosen,
            list(self.visit_months if visits is None else visits),
            self.baseline if baseline is None else int(baseline),
        )

    def narrative_note(self, *, written_for: str) -> str:
        """Warn, when this is not the study a notebook's narrative was written for.

        Parameters
        ----------
        written_for : str
            The ``id`` of the study the notebook's text describes.

        Returns
        -------
        str
            Markdown, or ``""`` when the study is the one the text describes.

        Examples
        --------
        >>> load_study("data/study.yaml").narrative_note(written_for="amsct_t1dm")
        ''
        """
        if self.id == written_for:
            return ""
        return (
            f"**Read the text of this notebook as a description of the method.** Its narrative "
            f"was written for the study `{written_for}`; the numbers, tables and figures here "
            f"are computed for *{self.title}* (`{self.id}`, {self.path or 'study definition'}). "
            "Where the text names that study's patients, visits, outcomes or findings, the "
            "tables and figures below are what holds for this one."
        )

    def in_group(self, patients: pd.DataFrame, group: str) -> pd.DataFrame:
        """Select the patients a reported group refers to: ``all``, an arm, or a subgroup.

        Raises
        ------
        ValueError
            For a group the study does not define.
        """
        if group == "all":
            return patients
        if group in self.group_codes:
            return patients[patients["group"] == group]
        subgroups = self.subgroups()
        if group in subgroups:
            column, value = subgroups[group]
            if column not in patients:
                raise ValueError(f"group {group!r} needs the column {column!r} of patients.csv")
            return patients[patients[column] == value]
        known = ", ".join(self.reported_groups())
        raise ValueError(f"unknown group {group!r} in study {self.id!r}; known: {known}")

    def reported_groups(self) -> tuple[str, ...]:
        """Every group name a reported table of this study may use."""
        return tuple(dict.fromkeys(("all", *self.group_codes, *self.subgroups())))


def in_sentence(label: str) -> str:
    """Write a label as it reads inside a sentence: a capital that only starts it goes.

    The first letter is lowered when the rest of the first word is lower case
    (``Daily insulin dose``), and kept in an abbreviation or a name that has
    more capitals (``HbA1c``, ``GAD antibodies``).

    Examples
    --------
    >>> [in_sentence(t) for t in ("Daily insulin dose (U/day)", "HbA1c (%)", "GAD antibodies")]
    ['daily insulin dose (U/day)', 'HbA1c (%)', 'GAD antibodies']
    """
    word = label.split(" ", 1)[0]
    if len(word) > 1 and word[0].isupper() and word[1:] == word[1:].lower():
        return label[0].lower() + label[1:]
    return label


def label_for(code: str, study: Study | None, *, unit: bool = True) -> str:
    """Name an outcome from a study definition, or by its code when there is none.

    Parameters
    ----------
    code : str
    study : Study or None
    unit : bool, default True

    Returns
    -------
    str

    Examples
    --------
    >>> label_for("x", None)
    'x'
    """
    if study is None:
        return code
    try:
        return study.label(code, unit=unit)
    except ValueError:
        return code


def _where(loc: Sequence[object], raw: object) -> str:
    """Say where in the file a pydantic location points: 'outcomes[2] (hba1c), key maximum'."""
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(key, int):
            parts[-1] = f"{parts[-1]}[{key}]" if parts else f"[{key}]"
            node = node[key] if isinstance(node, list) and key < len(node) else None
            code = node.get("code") if isinstance(node, dict) else None
            if isinstance(code, str):
                parts[-1] += f" ({code})"
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + f", key {parts[-1]!r}"
    return f"key {parts[0]!r}" if parts else "the whole file"


def load_study(path: str | Path | Study) -> Study:
    """Read and validate a study definition.

    Parameters
    ----------
    path : str, Path or Study
        A YAML file (relative paths from the project root); a :class:`Study`
        is returned as it is.

    Returns
    -------
    Study

    Raises
    ------
    StudyDefinitionError
        If the file is missing, not UTF-8 YAML, gives a key twice, or breaks
        a rule; every broken rule is listed with where it is, its value and
        the rule.

    Examples
    --------
    >>> load_study("data/study.yaml").outcome_codes[:2]
    ('insulin_dose', 'hba1c')
    """
    if isinstance(path, Study):
        return path
    resolved = resolve_path(path)
    shown = str(path)
    if not resolved.is_file():
        raise StudyDefinitionError(
            f"{shown}: no study definition there (looked for {resolved}); a parameter set names "
            "it with study_file, e.g. data/study.yaml"
        )
    stat = resolved.stat()
    return _read_study(resolved, shown, (stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=32)
def _read_study(resolved: Path, shown: str, key: tuple[int, int]) -> Study:
    """Read and validate a definition once per content (path, size, modification time).

    A run checks parameters, data and the reported table against the same
    definition; they share one reading. A ``Study`` is frozen, so sharing it is safe.
    """
    try:
        raw = read_yaml(resolved)
    except UnicodeDecodeError as exc:
        raise StudyDefinitionError(f"{shown}: not UTF-8 text ({exc.reason})") from exc
    except (OSError, yaml.YAMLError) as exc:
        raise StudyDefinitionError(f"{shown}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise StudyDefinitionError(f"{shown}: a study definition is a mapping of keys to values")
    try:
        study = Study.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            value = err.get("input")
            shown_value = "" if isinstance(value, dict | list) else f", value {value!r}"
            rule = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"  - {_where(err['loc'], raw)}{shown_value}: {rule}")
        n = len(lines)
        head = f"{n} problem{'s' if n != 1 else ''} in the study definition {shown}:"
        raise StudyDefinitionError("\n".join([head, *lines[:20]])) from None
    return study.model_copy(update={"path": shown})
