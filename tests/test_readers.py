"""The tables readers see, recomputed cell by cell from the full tables by key, by hand."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
from studydef import STUDY

from helpers import outcomes as ho
from helpers import readers as hread
from helpers import safety as hs

from recompute import TRICKY_OUTCOMES, grouped, tricky_cohort

RECOMPUTED = "Recomputed (2 more decimals than printed; counts whole)"

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("0*.ipynb"))


def _p(p: float) -> str:
    if p != p:
        return "not computed"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _n(x: float) -> str:
    return "not computed" if x != x else f"{x:.2f}".replace("-", "−")


@pytest.fixture(scope="module")
def m():
    return tricky_cohort().measurements


@pytest.mark.slow
def test_mixed_model_for_readers_by_key(m):
    full = ho.mixed_model(m, outcomes=TRICKY_OUTCOMES, visits=[0, 1, 2, 3], ci_level=0.9)
    shown = hread.mixed_model_for_readers(full, ci_level=0.9, study=STUDY)
    assert shown.columns[0] == "Change from baseline (90% CI)"
    assert len(shown) == len(full)
    for r in full.itertuples():
        cell = shown.loc[(STUDY.label(r.outcome), f"month {r.visit_month}")]
        if any(v != v for v in (r.estimate, r.ci_low, r.ci_high)):
            assert cell.iloc[0] == "not computed"
        else:
            assert cell.iloc[0] == f"{_n(r.estimate)} ({_n(r.ci_low)} to {_n(r.ci_high)})"
        assert cell["p"] == _p(r.p_val)
        assert cell["p (adjusted)"] == _p(r.p_adj)
        assert cell["Unit"] == STUDY.unit(r.outcome)
        assert cell["Patients"] == f"{grouped(r.n_patients)}"
    assert "nan" not in shown.to_string().lower()


def test_omnibus_for_readers_by_key(m):
    full = ho.omnibus_tests(m, outcomes=TRICKY_OUTCOMES, visits=[0, 1, 2, 3])
    shown = hread.omnibus_for_readers(full, study=STUDY)
    for r in full.itertuples():
        cell = shown.loc[(STUDY.label(r.outcome), r.test)]
        assert cell["p"] == _p(r.p_val)
        assert cell["Patients"] == f"{grouped(r.n_patients)}"
    assert "nan" not in shown.to_string().lower()


def test_safety_for_readers_by_key(m):
    antibodies = ["islet_ab", "gad_ab"]
    full = hs.safety_analysis(
        m, outcomes=antibodies, visits=[0, 1, 2, 3], margins={"gad_ab": 5, "islet_ab": "50%"}
    )
    shown = hread.safety_for_readers(full, study=STUDY)
    assert shown.shape[1] <= 9  # fits a page
    for r in full.itertuples():
        cell = shown.loc[(STUDY.label(r.outcome), f"month {r.visit_month}")]
        assert cell["Margin (±)"] == _n(r.margin)
        assert cell["Rise (one-sided p)"] == _p(r.p_increase)
        assert cell["Rise (p adjusted)"] == _p(r.p_increase_adj)
        if not math.isnan(r.p_equivalence_adj):
            word = "shown" if r.equivalent else "not demonstrated"
            p = _p(r.p_equivalence_adj)
            phrase = f"p {p}" if p.startswith("<") else f"p = {p}"
            assert cell["Equivalence (p adjusted)"] == f"{word} ({phrase})"
    assert "nan" not in shown.to_string().lower()


def test_a_small_equivalence_p_reads_p_below_not_p_equals(m):
    full = hs.safety_analysis(m, outcomes=["gad_ab"], visits=[0, 1], margins={"gad_ab": 5})
    full.loc[0, ["p_equivalence_adj", "p_noninferiority_adj"]] = [1e-9, 0.0404]
    full.loc[0, ["equivalent", "noninferior"]] = [True, True]
    shown = hread.safety_for_readers(full, study=STUDY).iloc[0]
    assert shown["Equivalence (p adjusted)"] == "shown (p < 0.001)"
    assert shown["Non-inferiority (p adjusted)"] == "shown (p = 0.040)"


# ---------------------------------------------------------------------------
# show(): any table, by key, against hand formatting
# ---------------------------------------------------------------------------


def _signed(x: float, decimals: int) -> str:
    return f"{x:.{decimals}f}".replace("-", "−")


def test_show_patient_changes_by_key(m):
    """Every cell of the per-patient table, found by (outcome, patient, visit), printed by hand."""
    antibodies = ["islet_ab", "gad_ab"]  # not alphabetical
    full = hs.patient_changes(
        m,
        outcomes=antibodies,
        visits=[0, 1, 2, 3],
        baseline=0,
        cutoffs={"gad_ab": 10.0, "islet_ab": 10.0},
        meaningful_rise={"gad_ab": 5, "islet_ab": "50%"},
    )
    shown = hread.show(full, study=STUDY).frame
    assert list(shown.columns) == [
        "Outcome", "Baseline visit", "Visit", "Patient", "Value at baseline", "Value", "Change",
        "Cut-off crossing", "Meaningful rise: more than", "Rose meaningfully",
    ]  # fmt: skip
    assert len(shown) == len(full)
    keyed = shown.set_index(["Outcome", "Patient", "Visit"])
    for r in full.itertuples():
        d = STUDY.measured(r.outcome).decimals
        cell = keyed.loc[(STUDY.label(r.outcome), r.patient_id, f"month {r.visit_month}")]
        assert cell["Baseline visit"] == f"month {r.baseline_month}"
        assert cell["Value at baseline"] == _signed(r.baseline_value, d)
        assert cell["Value"] == _signed(r.value, d)
        assert cell["Change"] == _signed(r.change, d)
        assert cell["Meaningful rise: more than"] == _signed(r.meaningful_rise, d + 1)
        assert cell["Rose meaningfully"] == ("yes" if r.rose_meaningfully else "no")


def test_show_detectable_rise_by_key(m):
    full = hs.detectable_rise(m, outcomes=["islet_ab", "gad_ab"], visits=[0, 1, 2, 3], power=0.9)
    shown = hread.show(full, study=STUDY).frame.set_index(["Outcome", "Visit"])
    for r in full.itertuples():
        cell = shown.loc[(STUDY.label(r.outcome), f"month {r.visit_month}")]
        d = STUDY.measured(r.outcome).decimals + 1
        assert cell["Patients"] == f"{grouped(r.n)}"
        assert cell["SD of change"] == _signed(r.sd_change, d)
        assert cell["Detectable rise"] == _signed(r.detectable_rise, d)
        assert cell["Power"] == "90%"
        effect = cell["Effect size dz (rise / SD of the change)"]
        assert effect == f"{r.effect_size:.3f}".rstrip("0")


def test_show_prints_every_kind_by_hand():
    t = pd.DataFrame(
        {
            "outcome": ["leptin", "hba1c", "gad_ab"],
            "visit_month": [3, 1, 0],
            "p": [0.0004, 0.04994, float("nan")],
            "match": [True, False, True],
            "test": ["wilcoxon_exact", "paired_t", "something else"],
            "comparison": ["hba1c: month 1 vs month 0", "no code here", "x: y"],
            "value": [58.81, 1.0, 0.5],
            "decimals": [2, 0, 1],
        },
        index=pd.Index([10, 11, 12]),  # not the default 0, 1, 2: kept? no name → refused
    )
    with pytest.raises(ValueError, match="index_label"):
        hread.show(t)
    shown = hread.show(t.reset_index(drop=True), study=STUDY, missing="not measured").frame
    assert shown.values.tolist() == [
        ["Leptin (ng/mL)", "month 3", "< 0.001", "yes", "Wilcoxon signed-rank, exact",
         "HbA1c (%): month 1 vs month 0", "58.81", "2"],
        ["HbA1c (%)", "month 1", "0.050", "no", "paired t-test", "no code here", "1", "0"],
        ["GAD antibodies (IU/mL)", "month 0", "not measured", "yes", "something else", "x: y",
         "0.5", "1"],
    ]  # fmt: skip
    assert list(shown.columns) == [
        "Outcome", "Visit", "p", "Matches", "Test", "Comparison", "Value",
        "Decimals printed in the report",
    ]  # fmt: skip


def test_show_writes_counts_with_their_digits_grouped_by_a_narrow_space():
    """ISO 80000-1: 30622 reads "30 622" (U+202F); four digits stand alone; never a comma,
    which the abstract uses as its decimal marker ("58,81")."""
    t = pd.DataFrame({"n_per_arm": [7, 999, 1000, 30622], "enrol_two_arm": [16, 2000, 0, 10**6]})
    shown = hread.show(t).frame
    assert shown.values.tolist() == [
        ["7", "16"], ["999", "2000"], ["1000", "0"], ["30\u202f622", "1\u202f000\u202f000"],
    ]  # fmt: skip
    assert not any("," in cell for row in shown.values.tolist() for cell in row)
    # a count of patients among measured values (statistic "n"), and the tables built by key
    figures = pd.DataFrame({"statistic": ["n", "mean"], "value": [100_000.0, 7.25]})
    assert hread.show(figures).frame["Value"].tolist()[0] == "100\u202f000"
    omnibus = pd.DataFrame({"outcome": ["hba1c"], "test": ["Friedman test"], "visits": ["0, 1"],
        "n_patients": [100_000], "p_val": [0.5], "p_adj": [0.5], "family": ["x"],
        "note": [""]})  # fmt: skip
    assert hread.omnibus_for_readers(omnibus)["Patients"].tolist() == ["100\u202f000"]


def test_show_refuses_a_code_like_header_and_keeps_plain_ones():
    with pytest.raises(ValueError, match=r"'sd_after'.*COLUMNS"):
        hread.show(pd.DataFrame({"sd_after": [1.0]}))
    shown = hread.show(pd.DataFrame({"mean ± SD": ["1 ± 2"], "p (adjusted)": [0.2]})).frame
    assert list(shown.columns) == ["Mean ± SD", "p (adjusted)"]
    extra = hread.show(
        pd.DataFrame({"sd_after": [1.25]}), columns={"sd_after": hread.Column("SD after")}
    )
    assert extra.frame.columns.tolist() == ["SD after"]


def test_show_index_and_column_names():
    wide = pd.DataFrame([[True, False]], columns=pd.Index([1, 0.5], name="granularity"))
    wide.index = pd.MultiIndex.from_tuples([("hba1c", 0)], names=["variable", "visit"])
    shown = hread.show(wide, study=STUDY).frame
    assert shown.columns.tolist() == [
        "Variable",
        "Visit",
        "Values recorded in steps of 1",
        "Values recorded in steps of 0.5",
    ]
    assert shown.values.tolist() == [["HbA1c (%)", "month 0", "yes", "no"]]
    matrix = pd.DataFrame({"paired_t": [True]}, index=["gad_ab: month 3 vs month 0"])
    shown = hread.show(matrix, study=STUDY, index_label="comparison").frame
    assert shown.values.tolist() == [["GAD antibodies (IU/mL): month 3 vs month 0", "yes"]]
    assert shown.columns.tolist() == ["Comparison", "Paired t-test"]


def test_reader_table_html_scrolls_and_hides_the_index():
    html = hread.show(pd.DataFrame({"n": [7]}))._repr_html_()
    assert "overflow-x: auto" in html
    assert "<th>Patients</th>" in html
    assert "<th></th>" not in html


def _html_tables(nb_path):
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html")
            if html:
                yield i, "".join(html) if isinstance(html, list) else html


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_table_a_notebook_shows_is_written_for_readers(name):
    """No raw frame on a page: no index column, no snake_case header, no NaN, nothing cut."""
    from bs4 import BeautifulSoup

    found = 0
    for i, html in _html_tables(ROOT / "notebooks" / name):
        soup = BeautifulSoup(html, "html.parser")
        for table in soup.find_all("table"):
            found += 1
            assert "reader-table" in table.get("class", []), f"{name} cell {i}: a raw frame"
            headers = [th.get_text(strip=True) for th in table.find_all("th")]
            assert all(h for h in headers), f"{name} cell {i}: an empty header (index?)"
            for h in headers:
                assert not re.fullmatch(r"[a-z]+_[a-z0-9_]+", h), f"{name} cell {i}: {h!r}"
            for td in table.find_all("td"):
                text = td.get_text(strip=True)
                assert text not in {"nan", "NaN", "None", "<NA>", "NaT"}, f"{name} cell {i}"
                assert not text.endswith(("…", "...")), f"{name} cell {i}: {text!r} cut"
    assert found >= 4


def test_show_keeps_the_decimals_values_carry_and_prints_recomputed_figures_longer():
    """HbA1c is defined as recorded to 1 decimal; values with 2 keep 2 (8.32 − 6.77 = 1.55)."""
    t = pd.DataFrame(
        {
            "outcome": ["hba1c", "hba1c", "leptin"],
            "patient_id": ["P1", "P2", "P1"],
            "baseline_value": [8.32, 9.0, 7.5],
            "value": [6.77, 9.04, 8.0],
            "change": [-1.55, 0.04, 0.5],
            "meaningful_rise": [4.16, 4.5, 3.75],
        }
    )
    shown = hread.show(t, study=STUDY).frame
    columns = ["Value at baseline", "Value", "Change", "Meaningful rise: more than"]
    assert shown.iloc[0][columns].tolist() == ["8.32", "6.77", "−1.55", "4.160"]
    assert shown.iloc[1]["Change"] == "0.04"  # not "0.0"
    assert shown.iloc[2][["Value at baseline", "Change"]].tolist() == ["7.5", "0.5"]  # leptin: 1
    r = pd.DataFrame(
        {"figure_id": ["x.p"], "reported": ["p=0,04"], "value": [0.04], "decimals": [2],
         "recomputed": [0.044936]}
    )  # fmt: skip
    row = hread.show(r, study=STUDY).frame.iloc[0]
    assert (row["Value"], row[RECOMPUTED]) == ("0.04", "0.0449")
    # a count of patients is whole, printed or recomputed; a minimum keeps the two digits more
    c = pd.DataFrame(
        {"figure_id": ["cohort.n", "age.min"], "statistic": ["n", "min"], "value": [7.0, 20.0],
         "decimals": [0, 0], "recomputed": [7.0, 20.0]}
    )  # fmt: skip
    shown = hread.show(c, study=STUDY).frame
    assert shown[["Value", RECOMPUTED]].values.tolist() == [["7", "7"], ["20", "20.00"]]


def test_a_long_table_shows_its_first_rows_and_says_how_many_there_are():
    # the head holds only whole values; a later row carries two decimals, so the printed
    # precision must come from the whole table, not from the rows shown
    values = [float(i) for i in range(hread.MAX_ROWS + 20)]
    values[-1] = 7.25
    table = pd.DataFrame({"outcome": "hba1c", "visit_month": 3, "value": values})
    shown = hread.show(table, study=STUDY)
    assert len(shown.frame) == hread.MAX_ROWS
    assert shown.frame["Value"].iloc[1] == "1.00"
    note = f"The first {hread.MAX_ROWS} of {hread.MAX_ROWS + 20} rows."
    assert shown.note == note
    assert note in shown._repr_html_()
    assert repr(shown).endswith(note)
    whole = hread.show(table, study=STUDY, max_rows=len(table))
    assert whole.note == ""
    pd.testing.assert_frame_equal(whole.frame.head(hread.MAX_ROWS), shown.frame)


def test_a_table_of_exactly_max_rows_is_shown_whole():
    table = pd.DataFrame({"n": range(hread.MAX_ROWS)})
    shown = hread.show(table)
    assert len(shown.frame) == hread.MAX_ROWS
    assert shown.note == ""
    assert "rows." not in shown._repr_html_()


def test_a_column_of_plain_numbers_shares_its_decimals_across_the_whole_table():
    """0.500 beside 0.602, not 0.5, and 6.000 beside 5.234; a column of whole numbers prints
    them whole; the decimals come from every row, also those beyond the rows shown."""
    from helpers.readers import MAX_ROWS, show

    t = pd.DataFrame(
        {
            "outcome": ["x", "y", "z"],
            "r": [0.602, 0.50008, -0.211],
            "df": [6.0, 5.2345, 4.0],
            "alpha": [0.05, 0.05, 0.05],
            "z": [2.0, -1.0, -0.0],  # a negative zero prints as 0
        }
    )
    shown = show(t).frame
    assert shown["r (baseline, follow-up)"].tolist() == ["0.602", "0.500", "−0.211"]
    assert shown["df"].tolist() == ["6.000", "5.234", "4.000"]
    assert shown["z = (simulated − analytic) / SE"].tolist() == ["2", "−1", "0"]
    assert shown["α (one-sided)"].tolist() == ["0.05", "0.05", "0.05"]
    long = pd.DataFrame({"outcome": ["x"] * (MAX_ROWS + 5), "r": [0.5] * (MAX_ROWS + 5)})
    long.loc[MAX_ROWS + 2, "r"] = 0.125  # not shown, but needs three decimals
    assert set(show(long).frame["r (baseline, follow-up)"]) == {"0.500"}
