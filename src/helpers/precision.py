"""Reported precision: what a printed number can stand for, and how to print like the abstract.

A figure printed with ``d`` decimals stands for every value that rounds to it:
the closed interval ``value ± 0.5 × 10^-d`` (closed, because authors and
software round halves differently). Some software truncates instead; under the
``"truncate"`` rule a figure stands for ``[value, value + 10^-d]``. A
comparison with a reported figure is a match when the recomputed value lies in
that interval, or satisfies the reported relation (``<``, ``>``) for bounds
such as ``p > 0,05``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from helpers.choices import PRECISION_RULES

__all__ = [
    "PRECISION_RULES",
    "THOUSANDS",
    "format_count",
    "format_estimate",
    "format_mean_sd",
    "format_number",
    "format_p",
    "format_percent",
    "format_signed",
    "matches_reported",
    "p_phrase",
    "plain_quote",
    "plural",
    "range_meets_reported",
    "recording_decimals",
    "reported_interval",
    "round_to_recording",
    "round_to_recording_by_row",
]


# Values needing more decimals than this are taken as unrounded (continuous).
_MAX_RECORDING_DECIMALS = 6
# A value on a recording grid is a whole multiple of its step to this relative tolerance.
_GRID_TOLERANCE = 1e-9

# Rounding slack for binary floating point (a figure of 58.815 computed as 58.81499999).
_EPS = 1e-9


def reported_interval(value: float, decimals: int, rule: str = "round") -> tuple[float, float]:
    """Return the interval of true values a printed figure can stand for.

    Parameters
    ----------
    value : float
        The figure as printed (comma decimals already read as points).
    decimals : int
        How many decimals were printed (0 or more).
    rule : {"round", "truncate"}, default "round"
        How the figure was printed from the true value.

    Returns
    -------
    (low, high) : tuple of float
        Inclusive bounds.

    Raises
    ------
    ValueError
        If ``decimals`` is negative or ``rule`` unknown.

    Examples
    --------
    >>> reported_interval(58.81, 2)
    (58.805, 58.815)
    >>> reported_interval(7, 0)
    (6.5, 7.5)
    >>> reported_interval(0.046, 3, "truncate")
    (0.046, 0.047)
    """
    if decimals < 0:
        raise ValueError(f"decimals must be 0 or more, got {decimals}")
    if rule not in PRECISION_RULES:
        raise ValueError(f"rule must be one of {', '.join(PRECISION_RULES)}, got {rule!r}")
    unit = 10.0**-decimals
    if rule == "truncate":
        return (round(value, decimals + 1), round(value + unit, decimals + 1))
    return (round(value - unit / 2, decimals + 1), round(value + unit / 2, decimals + 1))


def matches_reported(
    observed: float, value: float, relation: str, decimals: int, rule: str = "round"
) -> bool:
    """Decide whether a recomputed figure agrees with a reported one at reported precision.

    Parameters
    ----------
    observed : float
        The recomputed figure.
    value : float
        The reported figure.
    relation : {"=", "<", ">"}
        How the report states it: ``p=0,04`` is ``=``, ``p > 0,05`` is ``>``.
    decimals : int
        Decimals printed in the report.
    rule : {"round", "truncate"}, default "round"
        See :func:`reported_interval`.

    Returns
    -------
    bool
        ``False`` also when ``observed`` is missing (NaN).

    Raises
    ------
    ValueError
        If ``relation`` is not one of ``=``, ``<``, ``>``.

    Examples
    --------
    >>> matches_reported(58.8142, 58.81, "=", 2)
    True
    >>> matches_reported(0.31, 0.05, ">", 2)
    True
    >>> matches_reported(58.82, 58.81, "=", 2)
    False
    """
    if relation not in ("=", "<", ">"):
        raise ValueError(f"relation must be one of '=', '<', '>', got {relation!r}")
    if observed is None or math.isnan(observed):
        return False
    if relation == "<":
        return observed < value
    if relation == ">":
        return observed > value
    low, high = reported_interval(value, decimals, rule)
    return low - _EPS <= observed <= high + _EPS


def matches_reported_each(
    observed: np.ndarray, value: float, relation: str, decimals: int, rule: str = "round"
) -> np.ndarray:
    """:func:`matches_reported` for each of many recomputed figures, in one array operation.

    Element by element the same answer (the same comparisons in the same binary
    floating point); ``tests/test_precision.py`` checks the two against each other.

    Parameters
    ----------
    observed : numpy.ndarray
        Recomputed figures; NaN never matches.
    value, relation, decimals, rule
        As for :func:`matches_reported`.

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> matches_reported_each(np.array([58.8142, 58.82, np.nan]), 58.81, "=", 2).tolist()
    [True, False, False]
    """
    if relation not in ("=", "<", ">"):
        raise ValueError(f"relation must be one of '=', '<', '>', got {relation!r}")
    observed = np.asarray(observed, dtype=float)
    if relation == "<":
        return observed < value
    if relation == ">":
        return observed > value
    low, high = reported_interval(value, decimals, rule)
    return (low - _EPS <= observed) & (observed <= high + _EPS)


def range_meets_reported(
    low: float, high: float, value: float, relation: str, decimals: int, rule: str = "round"
) -> bool:
    """Decide whether some value in ``[low, high]`` agrees with a reported figure.

    Parameters
    ----------
    low, high : float
        A range of values a test can produce (``low <= high``).
    value, relation, decimals, rule
        The reported figure, as in :func:`matches_reported`.

    Returns
    -------
    bool

    Examples
    --------
    >>> range_meets_reported(0.0, 0.452, 0.485, "=", 3)
    False
    >>> range_meets_reported(0.0, 0.452, 0.05, ">", 2)
    True
    """
    if relation == ">":
        return high > value
    if relation == "<":
        return low < value
    r_low, r_high = reported_interval(value, decimals, rule)
    return low <= r_high + _EPS and high >= r_low - _EPS


def format_number(value: float, decimals: int, *, comma: bool = False) -> str:
    """Print a number with a fixed number of decimals, optionally with a decimal comma.

    Parameters
    ----------
    value : float
    decimals : int
    comma : bool, default False
        Use a decimal comma, as the abstract does.

    Returns
    -------
    str

    Examples
    --------
    >>> format_number(58.8142, 2, comma=True)
    '58,81'
    """
    if value is None or math.isnan(value):
        return "–"
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if comma else text


def format_signed(value: float, decimals: int = 2) -> str:
    """Print a number as a table typesets it, with a true minus sign (``−0.94``).

    A value that rounds to zero has no sign (``0.00``, not ``−0.00``).

    Parameters
    ----------
    value : float
    decimals : int, default 2

    Returns
    -------
    str

    Examples
    --------
    >>> format_signed(-0.9412), format_signed(-0.004)
    ('−0.94', '0.00')
    """
    text = format_number(value, decimals)
    digits = {c for c in text if c.isdigit()}
    if text.startswith("-") and digits == {"0"}:
        text = text[1:]  # -0.004 to two decimals is 0.00, not −0.00
    return text.replace("-", "−")


def format_estimate(value: float, low: float, high: float, decimals: int = 2) -> str:
    """Print an estimate with its interval in one cell: ``−0.94 (−2.10 to 0.20)``.

    Parameters
    ----------
    value, low, high : float
    decimals : int, default 2

    Returns
    -------
    str

    Examples
    --------
    >>> format_estimate(-0.94, -2.1, 0.2)
    '−0.94 (−2.10 to 0.20)'
    """
    lo, hi = format_signed(low, decimals), format_signed(high, decimals)
    return f"{format_signed(value, decimals)} ({lo} to {hi})"


def format_mean_sd(mean: float, sd: float, decimals: int = 1, *, comma: bool = False) -> str:
    """Print ``mean ± SD`` the way clinical tables (and the abstract) do.

    Parameters
    ----------
    mean, sd : float
    decimals : int, default 1
    comma : bool, default False
        Use decimal commas, as the abstract does.

    Returns
    -------
    str

    Examples
    --------
    >>> format_mean_sd(31.43, 7.89)
    '31.4 ± 7.9'
    """
    return (
        f"{format_number(mean, decimals, comma=comma)} ± {format_number(sd, decimals, comma=comma)}"
    )


def format_p(p: float) -> str:
    """Print a p-value for a reader: three decimals, or ``< 0.001``; ``–`` when missing.

    Parameters
    ----------
    p : float

    Returns
    -------
    str

    Examples
    --------
    >>> format_p(0.04494), format_p(0.0004), format_p(float("nan"))
    ('0.045', '< 0.001', '–')
    """
    if p is None or math.isnan(p):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_phrase(p: float) -> str:
    """Write a p-value into a sentence: ``p = 0.045`` or ``p < 0.001``.

    Parameters
    ----------
    p : float

    Returns
    -------
    str

    Examples
    --------
    >>> p_phrase(0.04494), p_phrase(0.0001)
    ('p = 0.045', 'p < 0.001')
    """
    text = format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


_LATEX = {r"\pm": "±", r"\%": "%", r"\times": "×", r"\cdot": "·", r"\,": " "}


def plain_quote(quote: str) -> str:
    r"""Write a quote's inline LaTeX as the text it prints, for readers.

    The reported-figures table keeps each quote verbatim, with the ``$…$``
    math of the source (``$9,59 \pm 1,73\%$``); shown to a reader it reads
    as printed (``9,59 ± 1,73%``). Everything else — comma decimals, a '+'
    printed for '±', typos — is kept as it is.

    Parameters
    ----------
    quote : str

    Returns
    -------
    str

    Examples
    --------
    >>> plain_quote(r"$9,59 \pm 1,73\%$"), plain_quote("$7,73 + 3.5$ ng/ml")
    ('9,59 ± 1,73%', '7,73 + 3.5 ng/ml')
    """
    text = str(quote)
    for latex, printed in _LATEX.items():
        text = text.replace(latex, printed)
    return " ".join(text.replace("$", "").split())


#: Groups the digits of a large count: a narrow no-break space, as the SI brochure and
#: ISO 80000-1 write "30 622". Never a comma or a point, each a decimal marker somewhere:
#: the abstract itself writes "58,81".
THOUSANDS = "\u202f"


def format_count(value: int) -> str:
    """Print a count (patients, simulated trials) with its digits grouped in threes.

    Five digits and more are grouped by a narrow no-break space (:data:`THOUSANDS`),
    four digits stand alone (ISO 80000-1): "8845", "30 622". A comma would read as
    a decimal comma next to the abstract's "58,81".

    Parameters
    ----------
    value : int
        A whole number (a float with no fraction is accepted).

    Returns
    -------
    str

    Examples
    --------
    >>> format_count(7), format_count(8845), format_count(30622.0).replace(THOUSANDS, " ")
    ('7', '8845', '30 622')
    """
    if float(value) != int(value):
        raise ValueError(f"a count must be a whole number, not {value!r}")
    n = int(value)
    return str(n) if abs(n) < 10_000 else f"{n:,}".replace(",", THOUSANDS)


def plural(n: int, singular: str, *, plural_form: str | None = None) -> str:
    """Count something in words: ``1 outcome``, ``3 outcomes``.

    Parameters
    ----------
    n : int
    singular : str
    plural_form : str, optional
        Default, ``singular + "s"``.

    Returns
    -------
    str

    Examples
    --------
    >>> plural(1, "comparison"), plural(2, "antibody", plural_form="antibodies")
    ('1 comparison', '2 antibodies')
    """
    return f"{n} {singular if n == 1 else (plural_form or singular + 's')}"


def format_percent(fraction: float) -> str:
    """Print a level such as a confidence level or power as a percentage, with no false digits.

    Parameters
    ----------
    fraction : float
        Between 0 and 1.

    Returns
    -------
    str

    Examples
    --------
    >>> format_percent(0.95), format_percent(0.975), format_percent(0.8)
    ('95%', '97.5%', '80%')
    """
    return f"{round(100 * fraction, 6):g}%"


def _on_grid(x: np.ndarray, places: int) -> np.ndarray:
    """Which values are whole multiples of ``10^-places``, up to binary floating-point error."""
    scaled = x * 10.0**places
    return np.abs(scaled - np.round(scaled)) <= _GRID_TOLERANCE * np.maximum(1.0, np.abs(scaled))


def recording_decimals(
    values: Sequence[float] | np.ndarray, max_decimals: int = _MAX_RECORDING_DECIMALS
) -> int | None:
    """Infer how many decimals values were recorded to: the fewest that represent them all.

    A value recorded to ``d`` decimals is a whole multiple of ``10^-d`` up to
    binary floating-point error (relative 1e-9 here, far below any recording
    precision and far above double rounding error).

    Parameters
    ----------
    values : array-like of float
        Missing values are ignored.
    max_decimals : int, default 6
        Values that need more decimals than this are taken as unrounded
        (continuous), and ``None`` is returned.

    Returns
    -------
    int or None

    Examples
    --------
    >>> recording_decimals([9.7, 9.6, 8.25]), recording_decimals([58, 47])
    (2, 0)
    >>> recording_decimals([1 / 3]) is None
    True
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    for d in range(max_decimals + 1):
        if np.all(_on_grid(x, d)):
            return d
    return None


def round_to_recording(
    differences: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray
) -> np.ndarray:
    """Round differences of recorded values to the values' recording precision.

    ``9.7 − 9.6`` and ``8.3 − 8.2`` are both 0.1 on paper but differ in binary
    floating point (0.09999999999999964 and 0.10000000000000142), so a rank
    test would rank true ties as different values and might miss a zero.
    Rounding the differences to the decimals the values were recorded to
    (:func:`recording_decimals`) restores the ties and zeros; values that are
    not on a recording grid are left as they are.

    Parameters
    ----------
    differences : array-like of float
    values : array-like of float
        The values the differences were taken from.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> d = np.array([9.7 - 9.6, 8.3 - 8.2])
    >>> bool(d[0] == d[1]), bool(np.unique(round_to_recording(d, [9.7, 9.6, 8.3, 8.2])).size == 1)
    (False, True)
    """
    d = np.asarray(differences, dtype=float)
    decimals = recording_decimals(values)
    return d if decimals is None else np.round(d, decimals)


def round_to_recording_by_row(
    differences: Sequence[Sequence[float]] | np.ndarray,
    values: Sequence[Sequence[float]] | np.ndarray,
) -> np.ndarray:
    """Round each row of differences to the recording precision of the same row of values.

    Row ``i`` of the result is ``round_to_recording(differences[i], values[i])``,
    bit for bit, computed for all rows at once: the rows of a bootstrap's
    resamples, each of which may hold values recorded to fewer decimals than the
    whole sample (:func:`recording_decimals`, the same test, applied row by row;
    a row is tested at more places only while no fewer have fitted it).

    Parameters
    ----------
    differences : array-like of float
        Two-dimensional, one row per sample.
    values : array-like of float
        Two-dimensional, the values each row's differences were taken from
        (as many rows; any number of columns).

    Returns
    -------
    numpy.ndarray
        Float, the shape of ``differences``.

    Raises
    ------
    ValueError
        If either is not two-dimensional, or their numbers of rows differ.

    Examples
    --------
    >>> d = np.array([[9.7 - 9.6, 8.3 - 8.2], [1 / 3, 0.5]])
    >>> v = np.array([[9.7, 9.6, 8.3, 8.2], [1 / 3, 0.5, 0.0, 0.0]])
    >>> round_to_recording_by_row(d, v).tolist()
    [[0.1, 0.1], [0.3333333333333333, 0.5]]
    """
    d = np.array(differences, dtype=float)
    x = np.asarray(values, dtype=float)
    if d.ndim != 2 or x.ndim != 2 or len(d) != len(x):
        raise ValueError("differences and values must be 2-D with one row per sample")
    undecided = np.arange(len(x))  # rows no number of places has fitted yet
    for places in range(_MAX_RECORDING_DECIMALS + 1):  # recording_decimals' test, on each row
        if not len(undecided):
            break
        rows = x[undecided]
        fits = (_on_grid(rows, places) | np.isnan(rows)).all(axis=1)
        d[undecided[fits]] = np.round(d[undecided[fits]], places)
        undecided = undecided[~fits]
    return d
