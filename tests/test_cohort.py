"""Table 1 and the cohort check against the abstract, cross-checked with scipy and statistics."""

from __future__ import annotations

import statistics

import pandas as pd
import pytest
from scipy import stats
from studydef import STUDY

from helpers.cohort import table_one, visit_completeness
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
