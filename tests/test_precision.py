"""Reported precision: intervals and matching."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.precision import format_mean_sd, format_number, matches_reported, reported_interval


@pytest.mark.parametrize(
    ("value", "decimals", "interval"),
    [
        (58.81, 2, (58.805, 58.815)),
        (47.5, 1, (47.45, 47.55)),
        (7, 0, (6.5, 7.5)),
        (0.046, 3, (0.0455, 0.0465)),
    ],
)
def test_interval(value, decimals, interval):
    assert reported_interval(value, decimals) == pytest.approx(interval)


def test_relations():
    assert matches_reported(0.31, 0.05, ">", 2)
    assert not matches_reported(0.04, 0.05, ">", 2)
    assert matches_reported(0.01, 0.05, "<", 2)
    assert not matches_reported(float("nan"), 1.0, "=", 0)
    with pytest.raises(ValueError, match="relation must be one of"):
        matches_reported(1.0, 1.0, "~", 0)
    with pytest.raises(ValueError, match="decimals"):
        reported_interval(1.0, -1)


@given(
    st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=4),
)
def test_a_value_matches_its_own_printed_form(x, decimals):
    printed = float(format_number(x, decimals))
    assert matches_reported(x, printed, "=", decimals)


@given(
    st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=3),
)
def test_one_unit_off_in_the_last_digit_does_not_match(x, decimals):
    printed = float(format_number(x, decimals))
    assert not matches_reported(printed + 1.01 * 10.0**-decimals, printed, "=", decimals)


def test_formatting_like_the_abstract():
    assert format_number(58.8142, 2, comma=True) == "58,81"
    assert format_mean_sd(9.594, 1.7312, 2, comma=True) == "9,59 ± 1,73"
    assert format_number(math.nan, 2) == "–"


def test_quotes_read_as_printed_and_keep_everything_else():
    from helpers.precision import plain_quote
    from helpers.reported import load_reported

    from conftest import REPORTED

    for quote in load_reported(REPORTED)["quote"]:
        shown = plain_quote(quote)
        assert "$" not in shown
        assert "\\" not in shown
        # the digits, commas and '+' signs of the source are all still there
        keep = [c for c in quote if c.isdigit() or c in ",+"]
        assert [c for c in shown if c.isdigit() or c in ",+"] == keep, quote


@pytest.mark.parametrize("relation", ["=", "<", ">"])
@pytest.mark.parametrize("rule", ["round", "truncate"])
def test_matching_many_at_once_is_matching_each(relation, rule):
    """matches_reported_each gives matches_reported's answer for every value, the edges of
    the interval, a hair either side of them and NaN included."""
    import numpy as np

    value, decimals = 0.05, 2
    low, high = reported_interval(value, decimals, rule)
    edges = [low, high, value, low - 1e-9, high + 1e-9, low - 2e-9, high + 2e-9, math.nan]
    observed = np.concatenate([edges, np.random.default_rng(3).uniform(0.03, 0.07, 500)])
    from helpers.precision import matches_reported_each

    each = [matches_reported(float(v), value, relation, decimals, rule) for v in observed]
    assert matches_reported_each(observed, value, relation, decimals, rule).tolist() == each
    assert any(each)
    assert not all(each)


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0"), (7, "7"), (999, "999"), (8845, "8845"), (10_000, "10 000"), (30622, "30 622"),
     (1_000_000, "1 000 000"), (123456789.0, "123 456 789"), (-12345, "-12 345")],
)  # fmt: skip
def test_counts_are_grouped_by_a_narrow_no_break_space(n, text):
    from helpers.precision import THOUSANDS, format_count

    assert THOUSANDS == "\u202f"
    assert format_count(n) == text.replace(" ", "\u202f")


def test_a_count_with_a_fraction_is_refused():
    from helpers.precision import format_count

    with pytest.raises(ValueError, match="whole number"):
        format_count(2.5)
