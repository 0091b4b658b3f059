"""report.to_csv_text: the CSV text pandas writes, joined from each distinct value's field."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from helpers import report

from conftest import examples

_TEXT = st.text(alphabet=st.sampled_from("ab ,\";\t\n\r'é٣-"), max_size=4)
_FLOATS = st.sampled_from([0.0, -0.0, 0.1, 0.1 + 0.2, -2.5, 1e16, 1e-320, np.inf, -np.inf, np.nan])


def _column(kind: str, values: list) -> pd.Series:
    if kind == "float":
        return pd.Series(values, dtype="float64")
    if kind == "int":
        return pd.Series(values, dtype="int64")
    if kind == "bool":
        return pd.Series(values, dtype=bool)
    if kind in ("Int64", "Float64"):
        return pd.Series(values, dtype=kind)
    if kind == "str":
        return pd.Series(values, dtype="str")
    if kind == "category":
        return pd.Series(values, dtype="category")
    if kind == "category of float32":  # pandas writes the categories as (64-bit) floats
        return pd.Series(pd.Categorical(np.array(values, dtype="float32")))
    if kind == "datetime":
        return pd.Series(pd.to_datetime(values, unit="h"))
    return pd.Series(values, dtype=object)  # object: text, missing, or anything


_KINDS = {
    "float": st.one_of(_FLOATS, st.floats()),
    "int": st.integers(-(2**63), 2**63 - 1),
    "bool": st.booleans(),
    "Int64": st.integers(-5, 5) | st.none(),
    "Float64": _FLOATS.filter(lambda v: v == v) | st.none(),
    "str": _TEXT | st.none(),
    "category": st.sampled_from(["P1", "P10", "P2", "a,b", ""]) | st.none(),
    "category of float32": _FLOATS,
    "object": _TEXT | st.none() | st.integers(0, 3) | st.booleans(),
    "datetime": st.integers(0, 48),
}


@st.composite
def _tables(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(0, 9))
    kinds = draw(st.lists(st.sampled_from(sorted(_KINDS)), min_size=1, max_size=4))
    columns = {}
    for i, kind in enumerate(kinds):
        # values drawn from a small pool so that they repeat, as ids and visits do
        pool = draw(st.lists(_KINDS[kind], min_size=1, max_size=3))
        columns[f"c{i}" if i != 1 else "a,b"] = _column(
            kind, [draw(st.sampled_from(pool)) for _ in range(rows)]
        )
    return pd.DataFrame(columns)


@pytest.mark.slow
@settings(max_examples=examples(150), deadline=None)
@given(_tables(), st.integers(1, 4))
@example(pd.DataFrame({"id": ["P1", "P2", "P1"], "v": [0.0, -0.0, 0.0]}), 2)
@example(pd.DataFrame({"id": ["", ""], "v": ["", None]}), 1)
@example(pd.DataFrame({"lone": ["", "x", None]}), 1)
@example(pd.DataFrame({"t": ["a\nb", "a\nb"], "v": [1, 2]}), 1)
@example(pd.DataFrame({"a": pd.Categorical(np.float32([0.1, np.nan])), "b": [1, 2]}), 1)
def test_to_csv_text_is_pandas_to_csv(table, chunk):
    expected = table.to_csv(index=False, lineterminator="\n")
    with mock.patch.multiple(report, _CSV_CHUNK=chunk, _SHORTCUT_FROM_ROWS=0):
        assert report.to_csv_text(table) == expected


def test_the_shortcut_is_taken_for_numbers_text_and_categories_and_refused_where_it_would_differ():
    """A test of the shortcut that always fell back would pass the test above."""
    taken = pd.DataFrame(
        {
            "patient_id": pd.Series(["P2", "P10", "P2", None], dtype="category"),
            "visit_month": [0, 1, 0, 1],
            "value": [7.9, np.nan, 7.9, 1e16],
            "note": ["", "a, b", 'say "x"', None],
            "flag": [True, False, True, True],
        }
    )
    assert all(report._distinct_fields(taken[c]) is not None for c in taken)
    codes, fields = report._distinct_fields(taken["note"])
    assert fields[codes].tolist() == ["", '"a, b"', '"say ""x"""', ""]
    refused = {
        "negative zero": pd.Series([0.0, -0.0]),
        "line break": pd.Series(["a\nb", "c"]),
        "carriage return": pd.Series(["a\rb", "c"], dtype="str"),
        "not text": pd.Series(["a", 1], dtype=object),
        "negative zero, nullable": pd.Series([-0.0, None], dtype="Float64"),
        "dates": pd.Series(pd.to_datetime(["2020-01-01", "2020-01-02"])),
        "float16 (no index of it to factorize into)": pd.Series([0.5, 0.5], dtype="float16"),
    }
    for why, column in refused.items():
        assert report._distinct_fields(column) is None, why
        table = pd.DataFrame({"id": ["P1", "P2"], "v": column})
        with mock.patch.object(report, "_SHORTCUT_FROM_ROWS", 0):
            text = report.to_csv_text(table)
        assert text == table.to_csv(index=False, lineterminator="\n"), why


def test_write_tables_writes_the_text_and_keeps_an_index_that_is_not_a_range(tmp_path):
    per_patient = pd.DataFrame({"patient_id": ["P1", "P2"] * 3, "change": [0.1, -0.2, 0.3] * 2})
    indexed = per_patient.set_index("patient_id")
    tables = {"changes": per_patient, "by_id": indexed}
    written = report.write_tables(tables, tmp_path / "t", "02", source="Data: made up.")
    assert written == ["t/02_changes.csv", "t/02_by_id.csv", "t/02_README.txt"]
    assert (tmp_path / "t" / "02_changes.csv").read_text() == per_patient.to_csv(
        index=False, lineterminator="\n"
    )
    assert (tmp_path / "t" / "02_by_id.csv").read_text() == indexed.to_csv(lineterminator="\n")


def test_short_tables_are_written_by_pandas_and_long_ones_take_the_shortcut():
    """Below _SHORTCUT_FROM_ROWS rows to_csv is the quicker and writes the whole table; from
    there on the rows are joined from each distinct value's field, and to_csv writes only the
    header and those values."""
    rows_written = []
    real = pd.DataFrame.to_csv

    def counted(frame: pd.DataFrame, *args, **kwargs):
        rows_written.append(len(frame))
        return real(frame, *args, **kwargs)

    rows = report._SHORTCUT_FROM_ROWS
    for n, whole in ((3, True), (rows - 1, True), (rows, False)):
        table = pd.DataFrame(
            {
                "id": [f"P{i % 7}" for i in range(n)],
                "v": [0.5, 1.5, 2.0] * (n // 3) + [0.5] * (n % 3),
            }
        )
        expected = real(table, index=False, lineterminator="\n")
        rows_written.clear()
        with mock.patch.object(pd.DataFrame, "to_csv", counted):
            assert report.to_csv_text(table) == expected
        assert (n in rows_written) == whole, (n, rows_written)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (64.4 / 7, 9.2),  # 9.200000000000001
        (18.5 - 14.2, 4.3),  # 4.300000000000001
        (0.1 + 0.2, 0.3),
        (66.19999999999999, 66.2),
        (1 / 3, 0.333333333333333),
        (0.9999999453553275, 0.999999945355328),
        (123456789.123456789, 123456789.123457),
        (1e-320, 1e-320),  # subnormal: kept
        (-0.0, -0.0),
        (np.inf, np.inf),
        (1e16, 1e16),
    ],
)
def test_floats_are_written_to_fifteen_significant_digits_as_r_writes_them(value, written):
    # R: format(c(64.4/7, 18.5-14.2, 1/3), digits = 15) gives "9.2", "4.3", "0.333333333333333"
    shown = report.significant(pd.DataFrame({"x": [value, value]}))["x"]
    assert shown.tolist() == [written, written]
    assert np.signbit(shown.iloc[0]) == np.signbit(written)


_NOISY = st.one_of(
    _FLOATS,
    st.floats(allow_nan=True, allow_infinity=True),
    st.builds(lambda a, b: a / b, st.integers(-999, 999), st.integers(1, 99)),  # 64.4 / 7, …
)


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(_NOISY, max_size=30), st.sampled_from(["float64", "Float64"]))
def test_significant_is_each_cell_rounded_alone(values, dtype):
    """Each distinct value rounded once and spread back equals each cell rounded by itself:
    f"{v:.15g}" read back, kept where that is v (a zero keeps its sign), missing kept."""
    column = pd.Series(values, dtype=dtype, index=range(len(values), 0, -1))
    out = report.significant(pd.DataFrame({"x": column}))["x"]
    assert out.dtype == column.dtype
    assert out.index.equals(column.index)
    for before, after in zip(column.tolist(), out.tolist(), strict=True):
        if pd.isna(before):
            assert pd.isna(after)
            continue
        by_itself = float(f"{before:.15g}")
        expected = before if by_itself == before else by_itself
        assert after == expected, (before, after)
        assert np.signbit(after) == np.signbit(expected), (before, after)


def test_significant_keeps_missing_values_other_columns_and_a_table_that_needs_nothing():
    table = pd.DataFrame(
        {
            "x": pd.array([0.1 + 0.2, None, 2.0], dtype="Float64"),
            "y": [np.nan, 0.5, 1.0],
            "n": [1, 2, 3],
            "s": ["0.30000000000000004", "a", "b"],
        },
        index=[5, 3, 9],
    )
    out = report.significant(table)
    assert out["x"].dtype == "Float64"
    assert out["x"].tolist()[0] == 0.3
    assert out["x"].isna().tolist() == [False, True, False]
    assert out["y"].tolist()[1:] == [0.5, 1.0]
    assert np.isnan(out["y"].iloc[0])
    assert out.index.tolist() == [5, 3, 9]
    assert out[["n", "s"]].equals(table[["n", "s"]])  # text is never touched
    assert table["x"].tolist()[0] != 0.3  # the caller's table is not changed
    clean = pd.DataFrame({"y": [0.5, 1.25]})
    assert report.significant(clean) is clean


def test_written_tables_carry_no_binary_noise(tmp_path):
    rng = np.random.default_rng(7)
    values = np.round(rng.normal(50, 10, 5000), 1)  # recorded to one decimal
    table = pd.DataFrame({"mean": (values[1:] + values[:-1]) / 7, "sd": values[1:] / 3})
    noisy = table.to_csv(index=False)
    assert "0000000" in noisy or "9999999" in noisy  # binary noise, as pandas writes it
    report.write_tables({"t": table}, tmp_path / "tables", "09", source="Data: test.")
    text = (tmp_path / "tables" / "09_t.csv").read_text(encoding="utf-8")
    assert "0000000" not in text
    assert "9999999" not in text
    back = pd.read_csv(tmp_path / "tables" / "09_t.csv")
    np.testing.assert_allclose(back["mean"], table["mean"], rtol=1e-14)
    np.testing.assert_allclose(back["sd"], table["sd"], rtol=1e-14)
