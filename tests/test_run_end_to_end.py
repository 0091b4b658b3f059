"""The runner end to end on notebooks 02 and 03, with parameters and data other than the default.

Each test runs the real notebooks through ``helpers.run`` and reads back what a reader
sees: that non-default values reach every table, legend and sentence (each antibody's
margin its own equivalence verdicts), and that outcomes without data become sentences. They
live apart from ``test_run.py`` so that pytest-xdist (``--dist loadfile``) runs the two
files side by side.
"""

from __future__ import annotations

import shutil
import statistics

import pytest
import tiny
from studydef import STUDY

from helpers.run import discover_notebooks, run

from conftest import STANDIN

NB02 = next(nb for nb in discover_notebooks() if nb.name.startswith("02_"))


@pytest.mark.slow
@pytest.mark.usefixtures("warm_session")
def test_non_default_parameters_reach_every_table_legend_and_sentence(tmp_path):
    """ci_level 0.9, alpha 0.1, power 0.9 and a baseline other than month 0, end to end."""
    import pandas as pd
    from scipy import stats
    from statsmodels.stats.power import TTestPower

    from helpers.simulate import write_cohort

    from recompute import expected_comparisons, expected_safety, pairs, tricky_cohort, values

    cohort = tricky_cohort()
    m = cohort.measurements
    write_cohort(cohort, tmp_path / "tricky")
    glycemic, antibodies = ["leptin", "insulin_dose", "hba1c"], ["islet_ab", "gad_ab"]
    margins = {"islet_ab": 2.0, "gad_ab": 5.0}  # gad_ab: equivalent at months 1 and 3 only
    # n_boot 200: every interval checked here is analytic (the bootstrap ones are not)
    text = (
        f"common:\n  data_dir: {tmp_path / 'tricky'}\n  ci_level: 0.9\n  alpha: 0.1\n"
        "  n_boot: 200\nnotebooks:\n"
        f"  02_glycemic_outcomes:\n    outcomes: {glycemic}\n    baseline: 1\n"
        f"  03_immunologic_safety:\n    outcomes: {antibodies}\n    baseline: 2\n"
        "    power: 0.9\n    margins: {islet_ab: 2.0, gad_ab: 5.0}\n"
    )
    directory = tiny.parameter_set(tmp_path, "odd", text)
    nb03 = next(nb for nb in discover_notebooks() if nb.name.startswith("03_"))
    out = run(
        "odd",
        [NB02, nb03],
        reports_dir=tmp_path / "r",
        params_dir=directory,
        jobs=2,
        progress=False,
    )
    tables = out / "tables"
    # simulated data: each notebook's note and each figure file say so
    for prefix in ("02", "03"):
        note = " ".join((tables / f"{prefix}_README.txt").read_text().split())
        assert note.count("SIMULATED DATA — NOT PATIENT RECORDS") == 1, note
        assert str(tmp_path / "tricky") in note
    assert tiny.file_labels(tables) == {
        name: "SIMULATED DATA — NOT PATIENT RECORDS" for name in tiny.figure_files(tables)
    }

    # the CSV tables, row by row, against the tidy data
    comparisons = pd.read_csv(tables / "02_comparisons.csv")
    expected = expected_comparisons(
        m, codes=glycemic, visits=[0, 1, 2, 3], baseline=1, ci_level=0.9
    )
    assert len(comparisons) == len(expected)
    for r in comparisons.itertuples():
        e = expected[(r.outcome, r.visit_month, r.analysis)]
        assert (r.baseline, r.n, r.ci_level) == (1, e["n"], 0.9)
        if not pd.isna(r.p_val):
            assert (r.p_val, r.p_adj) == pytest.approx((e["p"], e["p_adj"]), rel=1e-9)
        if r.analysis == "primary" and not pd.isna(r.effect):
            assert (r.effect_ci_low, r.effect_ci_high) == pytest.approx(
                (e["g_low"], e["g_high"]), rel=1e-7
            )
    means = pd.read_csv(tables / "02_means_ci.csv")
    for r in means.itertuples():
        v = m[(m["outcome"] == r.outcome) & (m["visit_month"] == r.visit_month)]["value"]
        low, high = stats.t.interval(0.9, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
        assert (r.ci_low, r.ci_high) == pytest.approx((low, high), rel=1e-12)
    mixed = pd.read_csv(tables / "02_mixed_model.csv")
    q = stats.t.ppf(0.95, mixed["df"])
    assert mixed["ci_low"].to_numpy() == pytest.approx(mixed["estimate"] - q * mixed["se"])
    changes = pd.read_csv(tables / "02_changes.csv")
    for r in changes.itertuples():
        before = values(m, r.outcome, 1)[r.patient_id]
        after = values(m, r.outcome, r.visit_month)[r.patient_id]
        assert r.change == pytest.approx(after - before, abs=1e-9)
    assert len(changes) == sum(len(pairs(m, c, v, 1)[0]) for c in glycemic for v in (0, 2, 3))
    safety = pd.read_csv(tables / "03_safety.csv")
    e_safety = expected_safety(
        m,
        codes=antibodies,
        visits=[0, 1, 2, 3],
        baseline=2,
        margins=margins,
        alpha=0.1,
        ci_level=0.9,
    )
    assert len(safety) == len(e_safety)
    for r in safety.itertuples():
        expected_row = e_safety[(r.outcome, r.visit_month)]
        for column, value in expected_row.items():
            assert getattr(r, column) == pytest.approx(value, rel=1e-9), column
        assert r.margin == margins[r.outcome]
        # the verdict follows each antibody's own margin (Holm-adjusted TOST p < α)
        assert bool(r.equivalent) is (expected_row["p_equivalence_adj"] < 0.1)
    assert set(safety["equivalent"]) == {True, False}
    detectable = pd.read_csv(tables / "03_detectable_rise.csv")
    dz = TTestPower().solve_power(nobs=8, alpha=0.1, power=0.9, alternative="larger")
    assert set(detectable["power"]) == {0.9}
    assert detectable.loc[detectable["n"] == 8, "effect_size"].to_numpy() == pytest.approx(
        dz, rel=1e-4
    )
    patients = pd.read_csv(tables / "03_patients.csv")
    assert set(patients["baseline_month"]) == {2}
    for r in patients.itertuples():
        before = values(m, r.outcome, 2)[r.patient_id]
        after = values(m, r.outcome, r.visit_month)[r.patient_id]
        assert (r.baseline_value, r.value) == (before, after)
    summary = pd.read_csv(tables / "02_summary.csv")
    labels = {f"{o.label} ({o.unit})": o.code for o in STUDY.outcomes} | {
        "HbA1c, IFCC (mmol/mol)": None
    }
    for row in summary.to_dict("records"):
        code = labels[row["outcome"]]
        if code is None:
            continue
        v = list(values(m, code, int(row["visit"].removeprefix("month "))).values())
        assert row["n"] == len(v)
        # the exact mean (statistics, by fractions): insulin at month 1 is exactly 50.825
        assert row["mean ± SD"] == f"{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f}"
    omnibus = pd.read_csv(tables / "02_omnibus.csv")
    for r in omnibus[omnibus["method"] == "friedman"].itertuples():
        wide = m[m["outcome"] == r.outcome].pivot(
            index="patient_id", columns="visit_month", values="value"
        )
        wide = wide.dropna(axis=1, how="all").dropna()
        expected = stats.friedmanchisquare(*[wide[c] for c in wide.columns]).pvalue
        assert r.p_val == pytest.approx(expected, rel=1e-9)

    # legends (in the figures' alternative text) and sentences state the parameters used
    shown02, shown03 = tiny.shown(out / NB02.name), tiny.shown(out / nb03.name)
    for phrase in (
        "mean (90% t CI)",  # the visit means' intervals, named (the changes' just below)
        "Effect size (90% CI)",
        "p < 0.1 before adjustment",
        "Not compared with month 1",
    ):
        assert phrase in shown02, phrase
    # both figures' legends: the visit means and the mean changes, with the interval's method
    assert shown02.count("Legend: mean (90% t CI).") == 2
    for phrase in (
        "two-sided 90% CI",
        "80% CI, unadjusted (equivalence at α = 0.1)",
        "one-sided 90% confidence",
        "90% power by the one-sided paired t-test at α = 0.1",
        "month 3 vs month 2",
    ):
        assert phrase in shown03, phrase
    for shown in (shown02, shown03):
        assert "95%" not in shown
        assert "80% power" not in shown
        assert "p < 0.05" not in shown


@pytest.mark.slow
@pytest.mark.usefixtures("warm_session")
def test_outcomes_without_any_measurement_are_sentences_not_crashes(tmp_path):
    """A measurements file with only its header passes validation; every notebook runs and
    says so (notebook 05 once crashed on it), and no table shows pandas' "Empty DataFrame"."""
    from helpers.design import NOTHING_TO_PLAN
    from helpers.readers import NO_ROWS

    data = tmp_path / "empty"
    shutil.copytree(STANDIN, data)
    (data / "provenance.json").unlink()
    (data / "measurements.csv").write_text("patient_id,visit_month,outcome,value\n")
    directory = tiny.parameter_set(tmp_path, "empty", f"common:\n  data_dir: {data}\n")
    notebooks = discover_notebooks()
    nb03 = next(nb for nb in notebooks if nb.name.startswith("03_"))
    nb05 = next(nb for nb in notebooks if nb.name.startswith("05_"))
    out = run("empty", notebooks, reports_dir=tmp_path / "r", params_dir=directory, progress=False)
    for notebook in notebooks:
        shown = tiny.shown(out / notebook.name)
        assert "Empty DataFrame" not in shown, notebook.name
        assert "The measurements file holds no measurement yet" in shown, notebook.name
    for notebook in (NB02, nb03):
        shown = tiny.shown(out / notebook.name)
        assert "Not compared with month 0" in shown
        assert (
            "No comparison with baseline could be made" in shown
            or "No antibody could be compared with baseline" in shown
        )
    shown = tiny.shown(out / nb05.name)
    assert NOTHING_TO_PLAN in shown
    assert "No trial was planned, so none was simulated." in shown
    assert shown.count(NO_ROWS) == 2  # the sample sizes and the simulation check
