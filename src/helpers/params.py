"""Notebook parameters: what each may be, checked before anything runs.

Every parameter a notebook declares has a rule here. The runner checks a
parameter set against these rules before it starts a kernel, and each notebook
checks its own values in the cell after its parameters, so a wrong value is
refused the same way whether the notebook is run by the runner, by plain
papermill or by hand in JupyterLab. One message names every parameter that is
wrong, its value and what is allowed. Outcome codes and visit months are checked
against the study definition the ``study_file`` parameter names.

YAML reads some numbers as text (``5e-2`` is the string ``"5e-2"`` in YAML 1.1);
such a value is refused with a hint rather than used as text.

Examples
--------
>>> check_parameters({"alpha": 0.05, "ci_level": 0.95})
>>> check_parameters({"alpha": 1.5})
Traceback (most recent call last):
...
helpers.errors.ParameterError: 1 parameter has a value that is not allowed:
  - alpha = 1.5: must be a number greater than 0 and less than 0.5
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from helpers.choices import (
    DESIGN_TESTS,
    MULTIPLICITY_FAMILIES,
    MULTIPLICITY_METHODS,
    PAIRED_TESTS,
    PRECISION_RULES,
)
from helpers.errors import ParameterError, show_value
from helpers.study import StudyDefinitionError, load_study

__all__ = [
    "RULES",
    "SET_NAME_PATTERN",
    "check_parameters",
    "check_set_name",
    "parameter_problems",
    "rule_problems",
]

#: A parameter set's name: a name, never a path.
SET_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _looks_numeric(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def _number(low: float, high: float, *, low_open: bool = True, high_open: bool = True) -> Rule:
    left = "greater than" if low_open else "at least"
    right = "less than" if high_open else "at most"
    allowed = f"a number {left} {low:g} and {right} {high:g}"

    def rule(value: object) -> str | None:
        if _looks_numeric(value):
            return f"is text, not a number (YAML reads {value} as text: write it as a decimal)"
        if not _is_number(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
            return f"must be {allowed}"
        v = float(value)  # type: ignore[arg-type]
        if within(v):
            return None
        if high <= 1 and 2 <= v <= 100 and within(v / 100):  # a percentage for a proportion
            return f"must be {allowed} (a proportion: {v:g}% is written {v / 100:g})"
        return f"must be {allowed}"

    def within(v: float) -> bool:
        return (v > low if low_open else v >= low) and (v < high if high_open else v <= high)

    return rule


def _integer(low: int, high: int) -> Rule:
    def rule(value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"must be a whole number from {low} to {high}"
        return None

    return rule


def _choice(allowed: Mapping[str, object] | tuple[str, ...], *, optional: bool = False) -> Rule:
    names = list(allowed)

    def rule(value: object) -> str | None:
        if optional and value is None:
            return None
        if not isinstance(value, str) or value not in names:
            extra = " or None" if optional else ""
            return f"must be one of {', '.join(names)}{extra}"
        return None

    return rule


def _text(*, optional: bool = False) -> Rule:
    def rule(value: object) -> str | None:
        if optional and value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            return "must be non-empty text" + (" or None" if optional else "")
        return None

    return rule


def _set_name(value: object) -> str | None:
    if not isinstance(value, str) or not re.match(SET_NAME_PATTERN, value):
        return "must be a name of letters, digits, '_' or '-' (not a path), at most 64 characters"
    return None


def _code_list(allowed: list[str] | None, what: str, *, optional: bool = False) -> Rule:
    """Build the rule of a non-empty list of distinct codes (the study's are checked later)."""

    def rule(value: object) -> str | None:
        if optional and value is None:
            return None
        among = f" from {', '.join(allowed)}" if allowed else ""
        if not isinstance(value, list | tuple) or not value:
            return f"must be a non-empty list of {what} codes{among}"
        bad = [
            v for v in value if not isinstance(v, str) or (allowed is not None and v not in allowed)
        ]
        if bad:
            return f"has unknown {what} code(s) {show_value(bad)}" + (
                f"; allowed: {', '.join(allowed)}" if allowed else ""
            )
        if len(set(value)) < len(value):
            return f"names a {what} twice"
        return None

    return rule


def _is_month(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= 0


def _visit_list(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) < 2:
        return "must be a list of at least two visit months"
    if not all(_is_month(v) for v in value):
        return "must hold visit months (whole numbers of 0 or more)"
    if len(set(value)) < len(value):
        return "names a visit twice"
    return None


def _visit(value: object) -> str | None:
    if value is None or _is_month(value):
        return None
    return "must be a visit month (a whole number of 0 or more), or null for the study's baseline"


def _amount(value: object) -> str | None:
    """Check a margin or rise: a positive number in the unit, or a percentage like '50%'."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%") and _looks_numeric(text[:-1]) and 0 < float(text[:-1]) <= 1000:
            return None
        return "must be a positive number in the outcome's unit or a percentage such as '50%'"
    if _is_number(value) and math.isfinite(float(value)) and float(value) > 0:  # type: ignore[arg-type]
        return None
    return "must be a positive, finite number in the outcome's unit or a percentage such as '50%'"


def _cutoff(value: object) -> str | None:
    if _is_number(value) and math.isfinite(float(value)) and float(value) >= 0:  # type: ignore[arg-type]
        return None
    return "must be a finite number of 0 or more, in the outcome's unit"


def _per_outcome(entry: Rule, what: str) -> Rule:
    def rule(value: object) -> str | None:
        if not isinstance(value, Mapping) or not value:
            return f"must map outcome codes to {what}, e.g. {{code_a: ..., code_b: ...}}"
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            return f"has keys that are not outcome codes: {show_value(bad)}"
        for key, v in value.items():
            problem = entry(v)
            if problem:
                return f"{key}: {show_value(v)} {problem}"
        return None

    return rule


Rule = Callable[[object], "str | None"]

#: The rule of every notebook parameter, by name.
RULES: dict[str, Rule] = {
    "parameter_set": _set_name,
    "data_dir": _text(),
    "reported_path": _text(),
    "tables_dir": _text(optional=True),
    "study_file": _text(),
    "outcomes": _code_list(None, "outcome", optional=True),
    "visits": _visit_list,
    "baseline": _visit,
    "primary_test": _choice(PAIRED_TESTS),
    "sensitivity_test": _choice(PAIRED_TESTS, optional=True),
    "test": _choice(PAIRED_TESTS),
    "alpha": _number(0, 0.5),
    "ci_level": _number(0.5, 1, low_open=False),
    "power": _number(0.5, 1, low_open=False),
    "multiplicity": _choice(MULTIPLICITY_METHODS),
    "multiplicity_family": _choice(MULTIPLICITY_FAMILIES),
    "seed": _integer(0, 2**32 - 1),
    "n_boot": _integer(100, 1_000_000),
    "margins": _per_outcome(_amount, "margins"),
    "meaningful_rise": _per_outcome(_amount, "meaningful rises"),
    "cutoffs": _per_outcome(_cutoff, "positivity cut-offs"),
    "margin_source": _text(),
    "precision_rule": _choice(PRECISION_RULES),
    "dropout": _number(0, 0.9, low_open=False, high_open=False),
    "design_test": _choice(DESIGN_TESTS),
    "n_sims": _integer(200, 1_000_000),
    "max_n_simulated": _integer(4, 100_000),
    "curve_max_n": _integer(10, 100_000),
}


def _candidate_tests(value: object) -> str | None:
    if value is None:
        return None
    allowed = list(PAIRED_TESTS)
    return _code_list(allowed, "test")(value)


RULES["candidate_tests"] = _candidate_tests


def _against_study(values: Mapping[str, Any]) -> list[str]:
    """Check outcome codes and visit months against the study definition ``study_file`` names."""
    path = values.get("study_file")
    if path is None:
        return []
    try:
        study = load_study(path)
    except StudyDefinitionError as exc:
        return [f"study_file = {show_value(path)}: {exc}"]
    problems = []
    codes = list(study.outcome_codes)
    months = list(study.visit_months)
    named = f"the study {study.id} ({study.path})"

    def hint(unknown: list[Any]) -> str:
        close = [
            f"{u!r} → {m[0]!r}"
            for u in unknown
            if isinstance(u, str) and (m := difflib.get_close_matches(u, codes, n=1))
        ]
        return f" (did you mean {', '.join(close)}?)" if close else ""

    outcomes = values.get("outcomes")
    if outcomes is not None:
        unknown = [o for o in outcomes if o not in codes]
        if unknown:
            problems.append(
                f"outcomes = {show_value(outcomes)}: has unknown outcome code(s) "
                f"{show_value(unknown)}{hint(unknown)}; {named} has {', '.join(codes)}"
            )
    for name in ("margins", "cutoffs", "meaningful_rise"):
        given = values.get(name)
        unknown = [k for k in given if k not in codes] if isinstance(given, Mapping) else []
        if unknown:
            problems.append(
                f"{name}: has unknown outcome code(s) {show_value(unknown)}{hint(unknown)}; "
                f"{named} has {', '.join(codes)}"
            )
    visits = values.get("visits")
    if visits is not None and any(v not in months for v in visits):
        problems.append(
            f"visits = {show_value(visits)}: must hold visit months of {named}: "
            f"{', '.join(map(str, months))}"
        )
    baseline = values.get("baseline")
    if baseline is not None and baseline not in months:
        problems.append(
            f"baseline = {show_value(baseline)}: must be a visit month of {named}: "
            f"{', '.join(map(str, months))}"
        )
    return problems


def _together(values: Mapping[str, Any]) -> list[str]:
    """Rules that tie parameters together (checked once each is valid on its own)."""
    problems = []
    visits, baseline = values.get("visits"), values.get("baseline")
    if visits is not None and baseline is not None and baseline not in visits:
        problems.append(f"baseline = {baseline!r}: must be one of the visits {list(visits)}")
    outcomes = values.get("outcomes")
    if outcomes is None and values.get("study_file") is not None:
        # margins, cut-offs and meaningful rises are per safety outcome of the study
        outcomes = load_study(values["study_file"]).analysis_plan(role="safety")[0]
    for name in ("margins", "cutoffs", "meaningful_rise"):
        given = values.get(name)
        if outcomes is not None and isinstance(given, Mapping):
            missing = [o for o in outcomes if o not in given]
            if missing:
                problems.append(f"{name}: gives no value for {', '.join(missing)}")
    return problems


def check_set_name(name: object) -> None:
    """Refuse a parameter-set name that is not a plain name (a path, say).

    Parameters
    ----------
    name : object

    Raises
    ------
    ParameterError

    Examples
    --------
    >>> check_set_name("default")
    >>> check_set_name("/../../tmp/v")
    Traceback (most recent call last):
    ...
    helpers.errors.ParameterError: parameter set name '/../../tmp/v' must be a name of letters, digits, '_' or '-' (not a path), at most 64 characters
    """  # noqa: E501
    problem = _set_name(name)
    if problem:
        raise ParameterError(f"parameter set name {show_value(name)} {problem}")


def check_parameters(values: Mapping[str, Any], *, where: str = "") -> None:
    """Check parameter values against their rules; raise one error naming every problem.

    Parameters
    ----------
    values : mapping
        Parameter name → value. Names without a rule are left alone (the
        runner refuses names no notebook declares).
    where : str, default ""
        Where the values come from (a notebook or a parameter-set file), for
        the message.

    Raises
    ------
    ParameterError
        Listing each wrong parameter with its value and what is allowed.

    Examples
    --------
    >>> check_parameters({"visits": [0, 1], "baseline": 2})
    Traceback (most recent call last):
    ...
    helpers.errors.ParameterError: 1 parameter has a value that is not allowed:
      - baseline = 2: must be one of the visits [0, 1]
    """
    problems = parameter_problems(values)
    if problems:
        head = (
            f"{len(problems)} parameter{'s have values' if len(problems) > 1 else ' has a value'}"
        )
        origin = f" in {where}" if where else ""
        raise ParameterError(
            f"{head} that {'are' if len(problems) > 1 else 'is'} not allowed{origin}:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


def parameter_problems(values: Mapping[str, Any]) -> list[str]:
    """List what is wrong with parameter values, one line each (see :func:`check_parameters`).

    Each value is checked against its rule; well-formed codes and months are
    then checked against the study; values that pass both are checked together.

    Parameters
    ----------
    values : mapping
        Parameter name → value.

    Returns
    -------
    list of str
        ``"name = value: what is allowed"``; empty when every value is allowed.

    Examples
    --------
    >>> parameter_problems({"alpha": 1.5, "ci_level": 0.95})
    ['alpha = 1.5: must be a number greater than 0 and less than 0.5']
    """
    wrong = rule_problems(values)
    problems = list(wrong.values())
    # codes and months that are well-formed are checked against the study they belong to
    problems += _against_study({k: v for k, v in values.items() if k not in wrong})
    if not problems:
        problems = _together(values)
    return problems


def rule_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """Check each value against its own rule alone (no study, no other value).

    Parameters
    ----------
    values : mapping
        Parameter name → value; names without a rule are left alone.

    Returns
    -------
    dict of str to str
        Each wrong parameter's name → ``"name = value: what is allowed"``.

    Examples
    --------
    >>> rule_problems({"alpha": 1.5, "seed": 3})
    {'alpha': 'alpha = 1.5: must be a number greater than 0 and less than 0.5'}
    >>> print(rule_problems({"power": 80})["power"])
    power = 80: must be a number at least 0.5 and less than 1 (a proportion: 80% is written 0.8)
    """
    found = {}
    for name, value in values.items():
        rule = RULES.get(name) if isinstance(name, str) else None
        problem = rule(value) if rule is not None else None
        if problem:
            found[name] = f"{name} = {show_value(value)}: {problem}"
    return found
