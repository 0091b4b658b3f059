"""Worked example 2: a different published study through the same helpers and notebooks.

Bhansali et al. 2014 (``data/examples/bhansali_2014_abmsct_t2dm``): ten adults
with type 2 diabetes, baseline and month 15, HbA1c reported for the six
responders only. Its study definition, reported figures and stand-in are
data; the code does not know it (``test_study.py`` checks that).
"""

from __future__ import annotations

import statistics

import pytest
from scipy import stats

from helpers.audit import audit, consistent_tests
from helpers.data import load_cohort
from helpers.paths import PROJECT_ROOT
from helpers.reported import load_reported
from helpers.reproduction import reproduction_table
from helpers.standin import write_standin
from helpers.study import load_study

EXAMPLE = PROJECT_ROOT / "data" / "examples" / "bhansali_2014_abmsct_t2dm"


@pytest.fixture(scope="module")
def study():
    return load_study(EXAMPLE / "study.yaml")


@pytest.fixture(scope="module")
def reported(study):
    return load_reported(EXAMPLE / "reported_figures.csv", study=study)


@pytest.fixture(scope="module")
def cohort(study):
    return load_cohort(EXAMPLE / "standin", study=study)


def test_the_source_is_cited_and_quoted():
    text = (EXAMPLE / "abstract.md").read_text(encoding="utf-8")
    assert "doi:10.4103/2230-8210.140257" in text
    assert "PMID: 25364680" in text
    assert "https://pmc.ncbi.nlm.nih.gov/articles/PMC4192991" in text
    # every quote of the reported table is in the verbatim abstract
    reported = load_reported(EXAMPLE / "reported_figures.csv")
    flat = " ".join(text.split())
    for quote in reported["quote"]:
        assert " ".join(quote.split()) in flat, quote


def test_its_own_visits_groups_and_outcomes(study, reported):
    assert study.visit_months == (0, 15)
    assert set(study.reported_groups()) >= {"responders", "male", "female"}
    assert set(reported["visit"].dropna()) == {0, 15}


def test_the_standin_regenerates_byte_for_byte(tmp_path):
    write_standin(
        tmp_path,
        reported_path=EXAMPLE / "reported_figures.csv",
        study=EXAMPLE / "study.yaml",
    )
    for name in ("patients.csv", "measurements.csv", "provenance.json"):
        assert (tmp_path / name).read_bytes() == (EXAMPLE / "standin" / name).read_bytes(), name


def test_hba1c_only_for_the_responders_and_the_figures_by_hand(cohort):
    responders = set(cohort.patients.query("responder == 'yes'")["patient_id"])
    m = cohort.measurements
    assert set(m["patient_id"]) == responders
    assert len(responders) == 6
    wide = m.pivot(index="patient_id", columns="visit_month", values="value")
    assert round(statistics.mean(wide[0]), 1) == 8.1
    assert round(statistics.stdev(wide[0]), 1) == 0.5
    assert round(statistics.mean(wide[15]), 1) == 7.0
    assert round(statistics.stdev(wide[15]), 1) == 0.6
    assert round(stats.ttest_rel(wide[15], wide[0]).pvalue, 2) == 0.03


def test_every_reported_figure_is_reproduced(cohort, reported):
    verdicts = audit(reported, tests=["paired_t"])
    table = reproduction_table(cohort, reported, verdicts=verdicts, test="paired_t")
    assert len(table) == len(reported) - 2  # the two scheduled-visit rows are not figures
    assert table["match"].all()


@pytest.mark.slow
def test_the_audit_names_every_test_that_reaches_its_p(reported):
    line = consistent_tests(audit(reported))
    assert line.startswith("paired (1 comparison): consistent with every reported p: paired_t")
    assert "wilcoxon_exact" in line  # 2 * 0.5^6 = 0.03125 prints as 0.03


@pytest.mark.slow
@pytest.mark.usefixtures("warm_session")
def test_its_parameter_set_runs_the_notebooks_that_fit_it(tmp_path):
    import pandas as pd
    import tiny

    from helpers.run import run

    out = run("bhansali2014", reports_dir=tmp_path, progress=False)
    assert sorted(p.name for p in out.glob("*.ipynb")) == [
        "01_cohort_description.ipynb",
        "02_glycemic_outcomes.ipynb",
        "04_reproduction_audit.ipynb",
        "05_follow_up_design.ipynb",
    ]
    line = pd.read_csv(out / "tables" / "02_abstract_format.csv").iloc[0]
    assert line["outcome"] == "HbA1c (%) (responders)"
    assert (
        line["reported_values"]
        == line["recomputed_as_printed"]
        == "8,1 ± 0,5 → 7,0 ± 0,6 (p = 0,03)"
    )
    text = tiny.shown(out / "01_cohort_description.ipynb")
    assert "Study: Autologous bone-marrow stem cells in type 2 diabetes" in text
