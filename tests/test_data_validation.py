"""Validation of patient-level files: every problem named with file, row, column, value, rule."""

from __future__ import annotations

import csv
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from studydef import STUDY

from helpers import data
from helpers.data import load_cohort, read_csv_text, validate_table
from helpers.errors import DataValidationError, Failure
from helpers.schema import identifier_reason, measurements_schema, patients_schema
from helpers.simulate import simulate_cohort, write_cohort

from conftest import examples, rewrite


def _problems(data_dir: Path) -> list[Failure]:
    with pytest.raises(DataValidationError) as info:
        load_cohort(data_dir, study=STUDY)
    return info.value.failures


def test_standin_loads_with_declared_types():
    cohort = load_cohort("data/standin", study=STUDY)
    assert len(cohort.patients) == 7
    assert cohort.patients["age_years"].dtype == "int64"
    assert cohort.patients["cells_infused_million"].dtype == "float64"
    assert cohort.is_reconstructed
    assert "RECONSTRUCTED" in cohort.source_statement()


def test_text_age_duplicate_id_and_name_column_reported_together(data_copy):
    patients = data_copy / "patients.csv"
    lines = patients.read_text().splitlines()
    lines[0] += ",name"
    first_id = lines[1].split(",")[0]
    second = lines[2].split(",")
    second[0], second[2] = first_id, "forty"
    lines[2] = ",".join(second)
    lines[1:] = [line + ",someone" for line in lines[1:]]
    patients.write_text("\n".join(lines) + "\n")

    with pytest.raises(DataValidationError) as info:
        load_cohort(data_copy, study=STUDY)
    failures, message = info.value.failures, str(info.value)
    assert (None, "name") in {(f.row, f.column) for f in failures}
    assert any(f.column == "name" and "direct identifier" in f.rule for f in failures)
    assert any(f.row == 2 and f.column == "age_years" and f.value == "forty" for f in failures)
    dup_rows = {f.row for f in failures if f.column == "patient_id" and "unique" in f.rule}
    assert dup_rows == {1, 2}
    # the name column is reported once, as an identifier, not again as "not in the dictionary"
    assert sum(f.column == "name" for f in failures) == 1
    for needle in ("patients.csv", "row 2 (line 3)", "'age_years'", "'forty'", "'name'", "unique"):
        assert needle in message


def test_each_duplicate_names_the_other_rows_with_their_lines(data_copy):
    """A measurement given three times and another given twice, below a quoted line break
    that moves every later row down a line: each row's rule names the other rows and their
    lines, found here with the csv module and pandas' duplicated, not the helpers."""
    measurements = data_copy / "measurements.csv"
    lines = measurements.read_text().splitlines()
    header, first = lines[0], lines[1]
    assert header.startswith("patient_id,visit_month,outcome,value")
    lines[5] = lines[5].replace(lines[5].split(",")[0], '"P0\n3"', 1)  # a quoted line break
    lines += [first, lines[20], first]  # the first row twice more; row 20 once more
    measurements.write_text("\n".join(lines) + "\n")

    with open(measurements, newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows, starts = [], []
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            rows.append(record[:3])
            starts.append(start)
    table = pd.DataFrame(rows, columns=["patient_id", "visit_month", "outcome"])
    table["row"], table["line"] = range(1, len(table) + 1), starts
    dupes = table[table.duplicated(["patient_id", "visit_month", "outcome"], keep=False)]
    assert len(dupes) == 5
    assert (dupes["line"] == dupes["row"] + 2).sum() == 4  # all but the first row's

    failures = [f for f in _problems(data_copy) if "combination must be unique" in f.rule]
    assert sorted(f.row for f in failures) == sorted(dupes["row"])
    for f in failures:
        key = dupes.loc[dupes["row"] == f.row, ["patient_id", "visit_month", "outcome"]]
        same = dupes.merge(key)
        others = [
            f"{r} (line {ln})"
            for r, ln in zip(same["row"], same["line"], strict=True)
            if r != f.row
        ]
        shown = (
            others[0] if len(others) == 1 else " and ".join([", ".join(others[:-1]), others[-1]])
        )
        word = "row" if len(others) == 1 else "rows"
        assert f.rule.endswith(f"it also appears in {word} {shown}"), f.rule


def test_range_checked_on_parseable_rows_of_a_column_with_text(data_copy):
    patients = data_copy / "patients.csv"
    lines = patients.read_text().splitlines()
    cells = [line.split(",") for line in lines]
    cells[1][2], cells[3][2] = "forty", "200"
    patients.write_text("\n".join(",".join(c) for c in cells) + "\n")
    failures = _problems(data_copy)
    assert [(f.row, f.value) for f in failures if f.column == "age_years"] == [
        (1, "forty"),
        (3, "200"),
    ]
    assert "between 18 and 100" in next(f.rule for f in failures if f.value == "200")


@pytest.mark.parametrize(
    ("column", "bad", "rule_fragment"),
    [
        ("sex", "X", "must be one of"),
        ("age_years", "17", "between 18 and 100"),
        ("age_years", "31.5", "whole number"),
        ("cells_infused_million", "ninety", "must be a number"),
        ("cells_infused_million", "5000", "between 1.0 and 1000.0"),
        ("culture_weeks", "12", "between 1.0 and 8.0"),
        ("patient_id", "Ivan Petrov", "pseudonymous id"),
        ("patient_id", "", "must not be empty"),
    ],
)
def test_each_patient_rule(data_copy, column, bad, rule_fragment):
    frame = pd.read_csv(data_copy / "patients.csv", dtype=str)
    frame.loc[3, column] = bad
    frame.to_csv(data_copy / "patients.csv", index=False)
    failures = _problems(data_copy)
    hit = [f for f in failures if f.column == column and f.row == 4]
    assert hit, failures
    assert rule_fragment in hit[0].rule
    assert hit[0].file.endswith("patients.csv")


def _measurements(data_copy: Path, rows: str) -> None:
    (data_copy / "measurements.csv").write_text("patient_id,visit_month,outcome,value\n" + rows)


def test_measurement_rules(data_copy):
    _measurements(
        data_copy,
        "P01,0,hba1c,9.1\nP01,0,hba1c,9.2\nP01,4,hba1c,8\nP99,1,hba1c,8\n"
        "P02,1,hba1c,75\nP02,1,cholesterol,5\nP03,1,leptin,\n",
    )
    failures = _problems(data_copy)
    by_row = {}
    for f in failures:
        by_row.setdefault(f.row, []).append(f)
    assert all("combination" in f.rule for f in by_row[1] + by_row[2])
    assert any(f.column == "visit_month" and f.value == "4" for f in by_row[3])
    assert any(f.column == "patient_id" and "not in patients.csv" in f.rule for f in by_row[4])
    # as written ("75"), not as pandera typed it ("75.0")
    assert any(f.column == "value" and f.value == "75" and "HbA1c" in f.rule for f in by_row[5])
    assert any(f.column == "outcome" and f.value == "cholesterol" for f in by_row[6])
    assert any(f.column == "value" and "must not be empty" in f.rule for f in by_row[7])


def test_a_cell_that_is_not_a_number_hides_no_other_problem_of_its_column(data_copy):
    """'abc' in value and '1.5' in visit_month are refused, and so are, in one message, the
    other rows' breaches of the rules that read those columns: a leptin of -3 (outcome's range,
    a table-wide check), a visit 4 (the visits), a measurement given twice."""
    _measurements(
        data_copy,
        "P01,0,hba1c,9.1\nP01,1,hba1c,abc\nP01,0,leptin,-3\nP01,1.5,leptin,7\n"
        "P02,4,hba1c,8\nP02,0,hba1c,8.5\nP02,0,hba1c,8.6\nP02,1,leptin,200\n",
    )
    found = {(f.row, f.column, f.value, f.rule.split(" (")[0]) for f in _problems(data_copy)}
    assert found == {
        (2, "value", "abc", "must be a number"),
        (3, "value", "-3", "Leptin must be between 0 and 150 ng/mL"),
        (4, "visit_month", "1.5", "must be a whole number"),
        (5, "visit_month", "4", "must be one of [0, 1, 2, 3]"),
        (6, "patient_id + visit_month + outcome", "P02, 0, hba1c",
         "this combination must be unique; it also appears in row 7"),
        (7, "patient_id + visit_month + outcome", "P02, 0, hba1c",
         "this combination must be unique; it also appears in row 6"),
        (8, "value", "200", "Leptin must be between 0 and 150 ng/mL"),
    }  # fmt: skip


def test_a_measurement_given_twice_in_two_spellings_names_the_other_row(data_copy):
    """Visits written "0" and "00" are the same visit: the two rows are one measurement given
    twice, and each message names the other row (by typed values, not the text)."""
    _measurements(data_copy, "P01,0,hba1c,9.1\nP01,00,hba1c,9.2\nP01,1,hba1c,9.0\n")
    found = {(f.row, f.value, f.rule) for f in _problems(data_copy)}
    assert found == {
        (1, "P01, 0, hba1c", "this combination must be unique; it also appears in row 2 (line 3)"),
        (2, "P01, 0, hba1c", "this combination must be unique; it also appears in row 1 (line 2)"),
    }


@pytest.mark.parametrize("o", STUDY.outcomes, ids=lambda o: o.code)
def test_every_outcome_has_bounds_that_bite(o):
    schema = measurements_schema(STUDY)
    inside = pd.DataFrame(
        {
            "patient_id": ["P01"],
            "visit_month": ["0"],
            "outcome": [o.code],
            "value": [str(o.maximum)],
        }
    )
    outside = inside.assign(value=[str(o.maximum + 1)])
    assert validate_table(inside, schema, "m.csv")[1] == []
    failures = validate_table(outside, schema, "m.csv")[1]
    assert len(failures) == 1
    assert failures[0].column == "value"
    assert o.unit in failures[0].rule


def test_empty_measurements_are_valid(data_copy):
    _measurements(data_copy, "")
    cohort = load_cohort(data_copy, study=STUDY)
    assert cohort.measurements.empty
    assert list(cohort.measurements.columns) == ["patient_id", "visit_month", "outcome", "value"]


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("name", "a name"),
        ("Surname", "a name"),
        ("Date of birth", "a date of birth"),
        ("DOB", "a date of birth"),
        ("address", "an address"),
        ("phone_number", "a phone number"),
        ("e-mail", "an e-mail address"),
        ("national_id", "a national identity number"),
        ("IIN", "a national identity number"),
        ("MRN", "a medical record or insurance number"),
    ],
)
def test_identifier_columns_are_recognised(column, kind):
    assert identifier_reason(column) == kind


@pytest.mark.parametrize("column", ["patient_id", "age_years", "sex", "value", "outcome", "rename"])
def test_ordinary_columns_are_not_identifiers(column):
    assert identifier_reason(column) is None


def test_missing_file_named(tmp_path):
    failures = _problems(tmp_path)
    assert {f.rule for f in failures} == {"file not found"}
    assert {Path(f.file).name for f in failures} == {"patients.csv", "measurements.csv"}


def test_repeated_header_column(data_copy):
    rewrite(data_copy / "patients.csv", "culture_weeks", "culture_weeks,sex")
    frame, failures = read_csv_text(data_copy / "patients.csv")
    assert frame is None
    assert [(f.column, f.rule) for f in failures] == [
        ("sex", "column appears more than once in the header")
    ]


def test_ragged_csv_is_a_failure_not_a_traceback(data_copy):
    path = data_copy / "patients.csv"
    path.write_text(path.read_text() + "P08,M,30,96,3,extra,cells\n")
    failures = _problems(data_copy)
    assert (failures[0].row, failures[0].value) == (8, "P08,M,30,96,3,extra,cells")
    assert "has 7 fields but the header has 5" in failures[0].rule


def test_unknown_column_lists_allowed(data_copy):
    rewrite(data_copy / "patients.csv", "culture_weeks", "culture_weeks,bmi")
    path = data_copy / "patients.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0]] + [line + ",22" for line in lines[1:]]) + "\n")
    failures = _problems(data_copy)
    assert [(f.column, f.row) for f in failures] == [("bmi", None)]
    assert "age_years" in failures[0].rule


def test_failure_str_and_pickle_round_trip():
    import pickle

    error = DataValidationError(
        [Failure("b.csv", 3, "x", "1", "r"), Failure("a.csv", None, "y", None, "s")]
    )
    assert pickle.loads(pickle.dumps(error)).failures == error.failures
    assert str(error).splitlines()[1] == "  - b.csv, row 3 (line 4), column 'x', value '1': r"


def test_patients_model_rejects_identifier_even_when_otherwise_valid():
    frame = pd.DataFrame(
        {
            "patient_id": ["P01"],
            "sex": ["M"],
            "age_years": ["30"],
            "cells_infused_million": ["96"],
            "culture_weeks": ["3"],
            "dob": ["1990-01-01"],
        }
    )
    _, failures = validate_table(frame, patients_schema(STUDY), "p.csv")
    assert [(f.column, "date of birth" in f.rule) for f in failures] == [("dob", True)]


def test_measurements_schema_does_not_grow_between_calls():
    first, second = measurements_schema(STUDY), measurements_schema(STUDY)
    assert len(first.checks) == len(second.checks) == len(STUDY.outcomes)


# --- Large files: the C reader for plain tables, and a line record pandas does not copy ------


def test_the_plain_reader_reads_the_stand_in_files():
    """The fast path is really taken for ordinary files (else its equivalence proves nothing)."""
    for name in ("patients.csv", "measurements.csv"):
        text = (Path("data/standin") / name).read_text(encoding="utf-8")
        assert data._read_plain(text) is not None, name


def _both_readers(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple, tuple]:
    fast = read_csv_text(path)
    with monkeypatch.context() as m:
        m.setattr(data, "_read_plain", lambda text: None)
        careful = read_csv_text(path)
    return fast, careful


def _same_reading(fast: tuple, careful: tuple) -> None:
    (f_frame, f_failures), (c_frame, c_failures) = fast, careful
    assert f_failures == c_failures
    assert (f_frame is None) == (c_frame is None)
    if f_frame is not None:
        pd.testing.assert_frame_equal(f_frame, c_frame)
        assert tuple(f_frame.attrs["lines"]) == tuple(c_frame.attrs["lines"])


# cells of a plain table (with characters some readers treat as line ends or drop: a BOM,
# unicode separators), and the defects that must send a file to the careful reader
_PLAIN_CELL = st.text(
    alphabet=["a", "1", " ", ".", "-", ";", "\t", "é", "\ufeff", "\u2028", "\x0b", "\x85"],
    max_size=3,
)
_DEFECTS = ["more fields", "fewer fields", "blank line", "quoted comma", "carriage return",
            "NUL", "long field", "repeated name"]  # fmt: skip


@st.composite
def _csv_texts(draw: st.DrawFn) -> str:
    """A table, plain or not: header names (some refused), rows, at most one defect, line ends."""
    refused = ["sep=x", " ", "", "id"]  # an Excel hint, unnamed columns, a repeated name
    header = draw(st.lists(st.sampled_from(["id", "v", "w", "x y"]), min_size=1, max_size=4,
                           unique=True))  # fmt: skip
    if draw(st.integers(0, 4)) == 0:
        header.insert(draw(st.integers(0, len(header))), draw(st.sampled_from(refused)))
    rows = draw(st.lists(st.lists(_PLAIN_CELL, min_size=len(header), max_size=len(header)),
                         max_size=6))  # fmt: skip
    defect = draw(st.sampled_from([None, None, None, *_DEFECTS]))
    if defect == "repeated name":
        header.append(header[0])
        rows = [[*r, "a"] for r in rows]
    lines = [",".join(header), *(",".join(r) for r in rows)]
    at = draw(st.integers(0, len(lines) - 1))
    if defect == "more fields":
        lines[at] += ",a"
    elif defect == "fewer fields":
        lines[at] = lines[at].rpartition(",")[0]
    elif defect == "blank line":
        lines.insert(at, "")
    elif defect == "quoted comma":  # as many commas as before, one field fewer
        lines[at] = '"a,b"' + lines[at].partition(",")[2] if "," in lines[at] else '"a"'
    elif defect == "long field":  # longer than the csv module's field limit
        lines[at] = "x" * (csv.field_size_limit() + 1) + lines[at]
    elif defect in ("carriage return", "NUL"):
        lines[at] += "\r" if defect == "carriage return" else "\x00"
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + draw(st.sampled_from(["", "\n", "\n\n", " \n", ",\n", "\r\n"]))


@pytest.mark.slow
@settings(max_examples=examples(300), deadline=None)
@example(text='id,v,w\n"a,b"1,2\n')  # as many commas as the header's, one field fewer
@example(text="id,v,id\n1,2,3\n")  # a repeated name (pandas refuses it)
@given(text=_csv_texts())
def test_the_plain_reader_and_the_careful_reader_agree(tmp_path_factory, text):
    """Any table, plain or with a defect, reads the same: frame, line numbers and failures."""
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_bytes(text.encode("utf-8"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same_reading(*_both_readers(path, monkeypatch))


def test_plain_and_careful_readers_agree_on_a_cohort_with_missing_visits(tmp_path, monkeypatch):
    cohort = simulate_cohort(40, study=STUDY, seed=3)
    write_cohort(cohort, tmp_path)
    for name in ("patients.csv", "measurements.csv"):
        fast, careful = _both_readers(tmp_path / name, monkeypatch)
        assert data._read_plain((tmp_path / name).read_text()) is not None
        _same_reading(fast, careful)


def test_the_line_record_is_shared_not_copied_by_pandas_operations(data_copy):
    """pandas deep-copies ``attrs`` into each result: a copied record cost minutes at 2 M rows."""
    frame, _ = read_csv_text(data_copy / "measurements.csv")
    lines = frame.attrs["lines"]
    assert (frame["outcome"] == "hba1c").attrs["lines"] is lines
    assert frame.drop(index=[0]).attrs["lines"] is lines
    assert lines[0] == 2
    assert len(lines) == len(frame)


def test_loaded_tables_carry_no_line_record():
    cohort = load_cohort("data/standin", study=STUDY)
    assert cohort.measurements.attrs == {}
    assert cohort.patients.attrs == {}


def test_a_bad_value_deep_in_a_plain_file_is_named_by_its_line(data_copy):
    path = data_copy / "measurements.csv"
    lines = path.read_text().splitlines()
    patient, visit, outcome, _ = lines[-1].split(",")
    lines[-1] = f"{patient},{visit},{outcome},abc"
    path.write_text("\n".join(lines) + "\n")
    assert data._read_plain(path.read_text()) is not None
    (failure,) = [f for f in _problems(data_copy) if f.value == "abc"]
    assert (failure.row, failure.line, failure.column) == (len(lines) - 1, len(lines), "value")


@pytest.mark.parametrize("first", ["", "   ", " , "])
def test_a_blank_first_line_is_named(tmp_path, first):
    path = tmp_path / "t.csv"
    path.write_text(f"{first}\npatient_id,age\nP01,3\n", encoding="utf-8")
    frame, failures = read_csv_text(path)
    assert frame is None
    assert [f.rule for f in failures] == ["the first line is blank; the header must be on line 1"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("a,b\n\ufeff1,2\n", "a BOM inside the text, which pandas would drop"),
        ("a,b\n" + "x" * 131_073 + ",1\n", "a field longer than the csv module's limit"),
        ("a,b\r\n1,2\r3,4\r\n", "a carriage return that is not a Windows line end"),
        ('a,b\n"1,2"\n', "quotes"),
    ],
)
def test_what_only_the_careful_reader_reads(tmp_path, monkeypatch, text, why):
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode("utf-8"))
    assert data._read_plain(text) is None, why
    _same_reading(*_both_readers(path, monkeypatch))


def test_windows_line_ends_are_read_in_c_as_the_careful_reader_reads_them(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\r\n1,2\r\n3,\r\n")
    assert data._read_plain(path.read_bytes().decode()) is not None
    _same_reading(*_both_readers(path, monkeypatch))


_ID_LIKE = st.text(alphabet=st.sampled_from("P0179-_/. \t٣x"), max_size=12)


@pytest.mark.slow
@settings(max_examples=examples(200), deadline=None)
@given(st.lists(_ID_LIKE | st.none(), min_size=1, max_size=20))
@example(["79161234567", " 1990-01-02 ", "IvanPetrov", " P01", "P 1", "١٢٣٤٥٦٧", None, "P01"])
@example(["P01", "P 1", "P01", "P 1", None, None])
def test_the_id_checks_on_distinct_values_agree_with_each_value_tested_alone(ids):
    """The id checks test each distinct id once, with pandas' vectorised string methods;
    they must give what the rule's own per-value function gives, row by row."""
    import re

    from helpers import schema

    series = pd.Series(ids, dtype=object)
    texts = [str(v) for v in ids]
    assert schema._pseudonymous(series).tolist() == [
        schema.identifier_value_reason(t) is None for t in texts
    ]
    assert schema._matches_id_pattern(series).tolist() == [
        re.match(schema.PATIENT_ID_PATTERN, t) is not None for t in texts
    ]
    assert schema._without_spaces(series).tolist() == [not re.search(r"\s", t) for t in texts]


_NUMBER_LIKE = st.sampled_from(
    ["0", "1", "01", "-0", "-0.0", "1.0", "7.9", " 7.9", "7,9", "1e5", "1e400", "-1e400", "nan",
     "NaN", "inf", "-Infinity", "99999999999999999999", "-9223372036854775809",
     "-9223372036854775808", "9223372036854775808", "18446744073709551616", "0x10", "½", "٣",
     "1_000", "abc", "", " "]
)  # fmt: skip


@pytest.mark.slow
@settings(max_examples=examples(200), deadline=None)
@given(st.lists(_NUMBER_LIKE | st.none(), min_size=1, max_size=12), st.booleans())
@example(["1", "2", "1"], True)  # whole numbers only: an integer column
@example(["1", None, "1"], True)  # and with an empty cell
@example(["99999999999999999999", "1"], True)  # beyond int64
@example(["-0", None], True)  # with an empty cell, whole numbers are read as floats: -0.0
@example(["-9223372036854775808", None], False)  # and rounded as floats are
def test_numbers_parsed_once_per_distinct_text_equal_to_numeric_row_by_row(texts, as_str):
    """The numeric pre-check parses each distinct text once; the result must be pandas'
    to_numeric of the whole column: the same type and the same number (to the sign of a
    zero), or NaN, on each row."""
    frame = pd.DataFrame(
        {"visit_month": texts, "value": texts[::-1]}, index=range(5, 5 + len(texts))
    ).astype("str" if as_str else object)
    parsed = data._numbers(frame, measurements_schema(STUDY))
    assert set(parsed) == {"visit_month", "value"}
    for column, numbers in parsed.items():
        expected = pd.to_numeric(frame[column], errors="coerce")
        pd.testing.assert_series_equal(numbers, expected, check_names=False)
        if numbers.dtype.kind == "f":  # equal above takes -0.0 for 0.0
            assert np.signbit(numbers).tolist() == np.signbit(expected).tolist()


_ID_LIKE = st.sampled_from(["P1", "P2", "P10", "p1", "S 1", "IvanPetrov", "1990-01-02", ""])
_OUTCOME_LIKE = st.sampled_from([o.code for o in STUDY.outcomes] + ["HbA1c", "weight", ""])
_AGE_LIKE = st.sampled_from(["40", "040", "17", "1e2", "40.0", "4O", "", " 41"])


def _validated(frame: pd.DataFrame, schema, per_distinct: bool) -> tuple:
    """validate_table's typed table and failures, with or without the coercion per distinct text."""
    if per_distinct:
        return validate_table(frame.copy(), schema, "m.csv")
    # pandera coerces every cell itself, as it would alone
    with mock.patch.object(data, "coerce_per_distinct", lambda frame, schema: frame):
        return validate_table(frame.copy(), schema, "m.csv")


def _text_tables(rows: list[tuple]) -> dict[str, pd.DataFrame]:
    columns = (list(c) for c in zip(*rows, strict=True)) if rows else ([],) * 5
    ids, visits, outcomes, values, ages = columns
    index = [3 * i + 1 for i in range(len(rows))][::-1]  # rows dropped before, in any order
    return {
        "measurements": pd.DataFrame(
            {"patient_id": ids, "visit_month": visits, "outcome": outcomes, "value": values},
            index=index, dtype=str,
        ),
        "patients": pd.DataFrame(
            {"patient_id": ids, "sex": ["F"] * len(rows), "age_years": ages,
             "cells_infused_million": values, "culture_weeks": visits},
            index=index, dtype=str,
        ),
    }  # fmt: skip


_ROWS = st.lists(
    st.tuples(_ID_LIKE | st.none(), _NUMBER_LIKE | st.none(), _OUTCOME_LIKE | st.none(),
              _NUMBER_LIKE | st.none(), _AGE_LIKE | st.none()),
    min_size=0, max_size=10,
)  # fmt: skip
_SCHEMAS = {"measurements": measurements_schema(STUDY), "patients": patients_schema(STUDY)}


@settings(max_examples=examples(150), deadline=None)
@given(rows=_ROWS)
@example([("P2", "1", "hba1c", "7.5", "40"), ("P1", "1", "hba1c", "-0", "041")])
@example([("P1", "1", None, "7.5", None), ("P1", "x", "weight", "1e400", "4O")])
def test_a_column_coerced_per_distinct_text_is_pandera_s_coercion_of_the_column(rows):
    """Each column coerce_per_distinct types equals the column's own pandera dtype coercing every
    cell (type, categories, values, the sign of a zero); each column it leaves as text is one
    that coercion refuses, or one of a type it does not coerce."""
    from pandera.errors import ParserError

    for name, frame in _text_tables(rows).items():
        schema = _SCHEMAS[name]
        coerced = data.coerce_per_distinct(frame, schema)
        pd.testing.assert_frame_equal(frame, _text_tables(rows)[name])  # the input is untouched
        for column, spec in schema.columns.items():
            if column not in frame:
                continue
            if str(coerced[column].dtype) == "str":
                pd.testing.assert_series_equal(coerced[column], frame[column])
                if str(spec.dtype) in ("int64", "float64", "category"):
                    with pytest.raises(ParserError):
                        spec.dtype.try_coerce(frame[column])
                continue
            expected = spec.dtype.try_coerce(frame[column])
            pd.testing.assert_series_equal(coerced[column], expected, check_exact=True)
            if expected.dtype == "category":
                assert coerced[column].cat.categories.equals(expected.cat.categories)
            elif expected.dtype.kind == "f":
                assert np.signbit(coerced[column]).tolist() == np.signbit(expected).tolist()


@pytest.mark.slow
@pytest.mark.parametrize(
    "rows",
    [
        [],
        [("P2", "1", "hba1c", "7.5", "40"), ("P1", "1", "hba1c", "7.5", "41")],  # valid
        [("P1", "1", "hba1c", "7.5", "40"), ("P1", "1", "hba1c", "7.5", "40")],  # a duplicate
        [("P1", "x", "weight", "1e400", "4O"), ("P1", None, "hba1c", "nan", None)],
        [("P1", "0", "hba1c", "7.5", "40"), ("P2", "0", "hba1c", "900", "40")],  # out of range
        # a cell that does not parse, then a range check on the rest of its column (2nd pass)
        [("P1", "0", "hba1c", "x", "40"), ("P2", "0", "hba1c", "900", "40"),
         ("P3", "0", "leptin", "4", " 41")],
        [("P1", "-0", "HbA1c", "-0.0", "040"), ("p1", "3", None, "1_000", "1e2")],
    ],
)  # fmt: skip
def test_coercing_each_distinct_text_once_gives_what_pandera_gives_cell_by_cell(rows):
    """validate_table coerces number and factor columns once per distinct text before pandera
    runs (coerce_per_distinct); with pandera coercing every cell instead, the typed table (its
    types, categories and values) and every failure are the same, for both files."""
    for name, frame in _text_tables(rows).items():
        fast = _validated(frame, _SCHEMAS[name], True)
        cell_by_cell = _validated(frame, _SCHEMAS[name], False)
        assert fast[1] == cell_by_cell[1], name
        if cell_by_cell[0] is None:
            assert fast[0] is None, name
        else:
            pd.testing.assert_frame_equal(fast[0], cell_by_cell[0], check_exact=True)
            for column in fast[0].select_dtypes("category"):
                assert fast[0][column].cat.categories.equals(cell_by_cell[0][column].cat.categories)


def test_coercion_per_distinct_leaves_what_pandera_would_coerce_otherwise():
    """Python objects (0.0 and -0.0 are one distinct value, two numbers), repeated column names,
    a table-wide dtype and parsers are left to pandera; a column named "self" is typed."""
    import pandera.pandas as pa

    objects = pd.DataFrame({"value": pd.Series([0.0, -0.0], dtype=object)})
    schema = pa.DataFrameSchema({"value": pa.Column(float)}, coerce=True)
    assert data.coerce_per_distinct(objects, schema) is objects
    repeated = pd.DataFrame([["1", "2"]], columns=["value", "value"], dtype=str)
    assert data.coerce_per_distinct(repeated, schema) is repeated
    whole = pa.DataFrameSchema({"value": pa.Column(float)}, dtype=float, coerce=True)
    text = pd.DataFrame({"value": ["1.5", "2"]}, dtype=str)
    assert data.coerce_per_distinct(text, whole) is text
    parsed_first = [  # parsers run before pandera coerces: of the table, of the column
        pa.DataFrameSchema({"value": pa.Column(float)}, parsers=pa.Parser(lambda t: t),
                           coerce=True),
        pa.DataFrameSchema({"value": pa.Column(float, parsers=pa.Parser(lambda v: v))},
                           coerce=True),
    ]  # fmt: skip
    for schema_with_parsers in parsed_first:
        assert data.coerce_per_distinct(text, schema_with_parsers) is text
    named_self = pd.DataFrame({"patient_id": ["P1", "P2"], "self": ["1.5", "-0"]}, dtype=str)
    schema = pa.DataFrameSchema({"patient_id": pa.Column(str), "self": pa.Column(float)},
                                coerce=True)  # fmt: skip
    typed, failures = validate_table(named_self, schema, "p.csv")
    assert failures == []
    assert str(data.coerce_per_distinct(named_self, schema)["self"].dtype) == "float64"
    assert typed["self"].tolist() == [1.5, -0.0]
    assert np.signbit(typed["self"]).tolist() == [False, True]


def test_coercion_per_distinct_types_a_whole_file_as_pandera_does():
    """On a simulated file of 400 patients (every type, thousands of repeated texts), the typed
    tables of both ways are equal, and the one-per-distinct way did type the columns."""
    cohort = simulate_cohort(400, study=STUDY, seed=5)
    text = cohort.measurements.astype(str).astype("str")
    schema = measurements_schema(STUDY)
    coerced = data.coerce_per_distinct(text, schema)
    assert {c: str(t) for c, t in coerced.dtypes.items()} == {
        "patient_id": "category", "visit_month": "int64", "outcome": "category",
        "value": "float64",
    }  # fmt: skip
    fast = _validated(text, schema, True)
    cell_by_cell = _validated(text, schema, False)
    assert fast[1] == cell_by_cell[1] == []
    pd.testing.assert_frame_equal(fast[0], cell_by_cell[0], check_exact=True)


def test_the_schema_types_the_factors_as_as_factors_does():
    """load_cohort's measurements are categorical by the schema's own coercion; as_factors gives
    a table built in code the same types and categories (sorted, unobserved ones absent)."""
    from helpers.schema import FACTOR, FACTORS

    schema = measurements_schema(STUDY)
    assert [c for c, col in schema.columns.items() if str(col.dtype) == "category"] == list(FACTORS)
    assert FACTOR.categories is None  # categories from the values
    assert not FACTOR.ordered
    text = pd.DataFrame(
        {"patient_id": ["P2", "P10", "P2"], "visit_month": ["0", "0", "1"],
         "outcome": ["leptin", "hba1c", "leptin"], "value": ["9.6", "10.1", "9.1"]}
    )  # fmt: skip
    typed = schema.validate(text)
    factored = data.as_factors(text.astype({"visit_month": int, "value": float}))
    pd.testing.assert_frame_equal(typed, factored)
    assert typed["patient_id"].cat.categories.tolist() == ["P10", "P2"]
    standin = load_cohort("data/standin", study=STUDY)
    assert standin.measurements.dtypes.to_dict() == {
        "patient_id": pd.CategoricalDtype(sorted(standin.patients["patient_id"])),
        "visit_month": "int64",
        "outcome": pd.CategoricalDtype(sorted(STUDY.outcome_codes)),
        "value": "float64",
    }
