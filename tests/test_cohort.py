"""Table 1 and the cohort check against the abstract, cross-checked with scipy and statistics."""

from __future__ import annotations

import statistics
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats
from studydef import STUDY

from helpers.cohort import (
    describe_pairing,
    pairing_assumptions,
    table_one,
    visit_completeness,
)
from helpers.data import load_cohort
from helpers.reported import load_reported
from helpers.reproduction import (
    cohort_statistic,
    compare_cohort_with_reported,
    summarise_matches,
    visit_schedule,
)

from conftest import REPORTED


@pytest.fixture(scope="module")
def cohort():
    return load_cohort("data/standin", study=STUDY)


@pytest.fixture(scope="module")
def reported():
    return load_reported(REPORTED)


def test_statistics_agree_with_scipy_and_statistics(cohort):
    ages = cohort.patients["age_years"].tolist()
    described = stats.describe(ages)
    assert cohort_statistic(
        cohort.patients, variable="age_years", statistic="mean", group="all", study=STUDY
    ) == pytest.approx(described.mean)
    assert cohort_statistic(
        cohort.patients, variable="age_years", statistic="sd", group="all", study=STUDY
    ) == pytest.approx(statistics.stdev(ages))
    assert (
        cohort_statistic(
            cohort.patients, variable="age_years", statistic="min", group="all", study=STUDY
        )
        == described.minmax[0]
    )


def test_sex_counts(cohort):
    male = cohort_statistic(
        cohort.patients, variable="patients", statistic="n", group="male", study=STUDY
    )
    female = cohort_statistic(
        cohort.patients, variable="patients", statistic="n", group="female", study=STUDY
    )
    assert male == (cohort.patients["sex"] == "M").sum()
    assert male + female == cohort_statistic(
        cohort.patients, variable="patients", statistic="n", group="all", study=STUDY
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("patients", "mean", "all"), "only the statistic 'n'"),
        (("height", "mean", "all"), "unknown variable"),
        (("age_years", "mode", "all"), "statistic must be one of"),
        (("age_years", "mean", "other"), "unknown group 'other'"),
    ],
)
def test_cohort_statistic_rejects_what_it_does_not_compute(cohort, args, message):
    variable, statistic, group = args
    with pytest.raises(ValueError, match=message):
        cohort_statistic(
            cohort.patients, variable=variable, statistic=statistic, group=group, study=STUDY
        )


def test_standin_matches_every_reported_cohort_fact(cohort, reported):
    table = compare_cohort_with_reported(cohort.patients, reported, study=STUDY)
    assert len(table) == 9
    assert table["match"].all()
    assert (
        summarise_matches(table) == "9 of 9 reported figures match the data at reported precision."
    )


def test_one_changed_age_breaks_the_match(cohort, reported):
    patients = cohort.patients.copy()
    oldest = patients["age_years"].idxmax()
    patients.loc[oldest, "age_years"] = 43
    table = compare_cohort_with_reported(patients, reported, study=STUDY).set_index("figure_id")
    assert not table.loc["age.max", "match"]
    assert table.drop(index="age.max")["match"].all()


def test_table_one_numbers(cohort):
    table = table_one(cohort.patients, study=STUDY)
    column = table.columns[0]
    assert column == "All patients (n = 7)"
    ages = cohort.patients["age_years"]
    expected = f"{ages.mean():.1f} ± {statistics.stdev(ages):.1f}"
    assert table.loc["Age, years, mean ± SD", column] == expected
    assert table.loc["Male, n (%)", column] == "5 (71.4)"
    assert table.loc["Age, years, median (range)", column].endswith("(20–42)")


@pytest.mark.slow
def test_table_one_and_cohort_statistics_are_the_same_in_any_row_order():
    """Eight cell doses whose mean is exactly 50.825: pandas' running sum printed 50.82 or
    50.83 by row order; Table 1 and the reported-figure check now add exactly."""
    doses = [63.4, 45.4, 50.5, 50.3, 33.3, 41.6, 70.2, 51.9]
    base = pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(8)],
            "sex": ["M", "F"] * 4,
            "age_years": [30] * 8,
            "cells_infused_million": doses,
            "culture_weeks": [3.0] * 8,
        }
    )
    row = "Cells infused, 10⁶ cells, mean ± SD"
    seen_table, seen_stat = set(), set()
    for seed in range(40):
        patients = base.sample(frac=1, random_state=seed).reset_index(drop=True)
        table = table_one(patients, study=STUDY, decimals=2)
        seen_table.add(table.loc[row].iloc[0])
        seen_stat.add(
            tuple(
                cohort_statistic(
                    patients, variable="cells_infused_million", statistic=s, group="all",
                    study=STUDY,
                )
                for s in ("mean", "sd")
            )
        )  # fmt: skip
    assert seen_table == {"50.83 ± 11.69"}
    assert len(seen_stat) == 1
    mean, sd = seen_stat.pop()
    assert (mean, sd) == pytest.approx((statistics.mean(doses), statistics.stdev(doses)))


def test_visit_completeness_counts_patients():
    patients = pd.DataFrame({"patient_id": ["A", "B"], "sex": ["M", "F"]})
    measurements = pd.DataFrame(
        {
            "patient_id": ["A", "B", "A"],
            "visit_month": [0, 0, 1],
            "outcome": ["hba1c"] * 3,
            "value": [9.0, 8.0, 7.5],
        }
    )
    from helpers.data import Cohort

    table = visit_completeness(Cohort(patients, measurements, "x", study=STUDY))
    assert table.loc["HbA1c"].tolist() == ["2/2", "1/2", "0/2", "0/2"]
    assert table.loc["Leptin"].tolist() == ["0/2"] * 4


def test_visit_schedule(cohort, reported):
    table = visit_schedule(cohort, reported)
    assert table["visit_month"].tolist() == [0, 1, 2, 3]
    assert table["measurements"].sum() == len(cohort.measurements)


# --- the stand-in's assumed before-after correlations (notebooks 03 and 05) -----------------


def _pairs_by_hand(code, first, second):
    """Each patient's two values, read with plain pandas from the CSV (not load_cohort)."""
    m = pd.read_csv("data/standin/measurements.csv")
    m = m[m["outcome"] == code]
    wide = m.pivot(index="patient_id", columns="visit_month", values="value")
    both = wide[[first, second]].dropna()
    return both[first].tolist(), both[second].tolist()


def test_pairing_assumptions_recomputed_by_hand(cohort):
    import json

    table = pairing_assumptions(cohort, outcomes=["islet_ab", "leptin", "gad_ab"])
    # study order, whatever order the outcomes are asked in
    assert table["outcome"].tolist() == ["leptin", "gad_ab", "islet_ab"]
    provenance = json.loads(Path("data/standin/provenance.json").read_text(encoding="utf-8"))
    recorded = {c["comparison"]: c for c in provenance["measurements"]["comparisons"]}
    for row in table.itertuples():
        before, after = _pairs_by_hand(row.outcome, row.baseline_month, row.visit_month)
        assert row.r == pytest.approx(stats.pearsonr(before, after).statistic)
        entry = recorded[f"{row.outcome}: month {row.visit_month} vs month {row.baseline_month}"]
        assert row.r == pytest.approx(entry["before_after_r"], abs=5e-5)
        diff = [a - b for a, b in zip(after, before, strict=True)]
        assert row.sd_change == pytest.approx(statistics.stdev(diff))
        assert row.sd_baseline == pytest.approx(statistics.stdev(before))
        assert row.sd_visit == pytest.approx(statistics.stdev(after))
    # what fixed each correlation, from the abstract: leptin's p is exact (p=0,046); GAD's is
    # only a bound (p>0,05); no data give islet-cell antibodies' p=0,485 (notebook 04)
    assert dict(zip(table["outcome"], table["basis"], strict=True)) == {
        "leptin": "reported_p",
        "gad_ab": "p_bound",
        "islet_ab": "p_unreachable",
    }
    assert table["assumed"].tolist() == [False, True, True]


def test_the_pairing_sentence_recomputed_by_hand(cohort):
    text = describe_pairing(pairing_assumptions(cohort), study=STUDY)
    for code, name in (
        ("gad_ab", "GAD antibodies"),
        ("islet_ab", "islet-cell (Langerhans) antibodies"),
    ):
        before, after = _pairs_by_hand(code, 0, 3)
        r = stats.pearsonr(before, after).statistic
        sd0, sd1 = statistics.stdev(before), statistics.stdev(after)
        sd_change = statistics.stdev([a - b for a, b in zip(after, before, strict=True)])
        assert f"{name}, month 3 vs month 0 (r = {r:.2f}: " in text
        at_0 = (sd0**2 + sd1**2) ** 0.5
        at_09 = (sd0**2 + sd1**2 - 1.8 * sd0 * sd1) ** 0.5
        assert (
            f"{sd_change:.2f} IU/mL for {name} ({at_0:.2f} at r = 0.00, {at_09:.2f} at r = 0.90)"
            in text
        )
    assert (
        "set by the reported p for the other comparisons (taken as the paired t-test's, the "
        "study definition's reading), but" in text
    )
    assert "the abstract gives its p only as a bound" in text
    assert "no data give the p the abstract reports" in text
    # only the assumed ones are named
    assert "insulin" not in text.lower()
    assert "leptin" not in text.lower()
    # the safety outcomes alone: no "other comparisons" to speak of
    safety = describe_pairing(
        pairing_assumptions(cohort, outcomes=["gad_ab", "islet_ab"]), study=STUDY
    )
    assert "other comparisons" not in safety
    assert "these comparisons" in safety


def test_patient_records_have_no_pairing_to_disclose(cohort):
    from dataclasses import replace

    records = replace(cohort, provenance={})
    assert pairing_assumptions(records).empty
    assert describe_pairing(pairing_assumptions(records), study=STUDY) == ""
    # every correlation set by the reported p: nothing assumed, nothing said
    pinned = pairing_assumptions(cohort, outcomes=["insulin_dose", "hba1c"])
    assert len(pinned) == 2
    assert describe_pairing(pinned, study=STUDY) == ""


def test_a_recorded_comparison_without_data_is_left_out(cohort):
    from dataclasses import replace

    measurements = cohort.measurements[
        ~(
            (cohort.measurements["outcome"] == "islet_ab")
            & (cohort.measurements["visit_month"] == 3)
        )
    ]
    table = pairing_assumptions(replace(cohort, measurements=measurements))
    assert "islet_ab" not in table["outcome"].tolist()
    assert "gad_ab" in table["outcome"].tolist()
