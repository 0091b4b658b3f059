"""The papermill runner: parameters, reports, failures that keep the last good report."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from studydef import STUDY

from helpers.errors import DataValidationError, ParameterError
from helpers.run import (
    ParameterSet,
    discover_notebooks,
    load_parameter_set,
    refresh_in_place,
    resolve_parameters,
    run,
    strip_volatile_metadata,
)

from conftest import STANDIN

NB01 = discover_notebooks()[0]


def _params(tmp_path: Path, name: str, text: str) -> Path:
    directory = tmp_path / "params"
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.yaml").write_text(text)
    return directory


def test_unknown_parameter_is_an_error():
    pset = ParameterSet("x", notebooks={NB01.stem: {"data_dri": "data/standin"}})
    with pytest.raises(ParameterError, match="unknown parameter 'data_dri'") as info:
        resolve_parameters(pset, [NB01])
    assert "declared: " in str(info.value)
    assert "data_dir" in str(info.value)


def test_common_parameter_declared_nowhere_is_an_error():
    with pytest.raises(ParameterError, match="common parameter 'alpah'"):
        resolve_parameters(ParameterSet("x", common={"alpah": 0.05}), [NB01])


def test_section_for_unknown_notebook_is_an_error():
    with pytest.raises(ParameterError, match="names no notebook"):
        resolve_parameters(ParameterSet("x", notebooks={"09_nothing": {}}), [NB01])


def test_parameter_set_file_errors(tmp_path):
    with pytest.raises(ParameterError, match="available: bhansali2014, default, private"):
        load_parameter_set("nope")
    directory = _params(tmp_path, "odd", "commons:\n  data_dir: x\n")
    with pytest.raises(ParameterError, match="unexpected top-level keys"):
        load_parameter_set("odd", directory)
    directory = _params(tmp_path, "broken", "common: [\n")
    with pytest.raises(ParameterError, match="not valid YAML"):
        load_parameter_set("broken", directory)


def test_a_run_reads_each_notebook_once_and_skips_what_the_set_skips(tmp_path, monkeypatch):
    """Parameters are resolved, checked and the inputs validated on one reading per notebook."""
    import papermill

    import helpers.run as hr

    calls = []
    real = papermill.inspect_notebook
    monkeypatch.setattr(papermill, "inspect_notebook", lambda p: calls.append(p) or real(p))
    hr._declared.cache_clear()
    directory = _params(
        tmp_path,
        "skipping",
        "common:\n  data_dir: nowhere\nskip:\n  03_immunologic_safety: no antibodies here\n",
    )
    with pytest.raises(DataValidationError, match="data folder not found"):
        hr.run("skipping", reports_dir=tmp_path / "reports", params_dir=directory, progress=False)
    ran = [nb for nb in discover_notebooks() if not nb.name.startswith("03_")]
    assert sorted(calls) == sorted(str(nb.absolute()) for nb in ran)
    assert not (tmp_path / "reports" / "skipping").exists()
    directory = _params(tmp_path, "odd", "skip:\n  09_nothing: why\n")
    with pytest.raises(ParameterError, match="skips unknown notebook"):
        hr.run("odd", reports_dir=tmp_path / "reports", params_dir=directory, progress=False)


def test_parameter_set_name_is_injected():
    resolved = resolve_parameters(load_parameter_set("default"), [NB01])
    assert resolved[NB01]["parameter_set"] == "default"


@pytest.mark.slow
def test_run_writes_notebook_and_html_then_a_failure_keeps_the_report(tmp_path, default_report):
    bad = tmp_path / "bad"
    shutil.copytree(STANDIN, bad)
    (bad / "patients.csv").write_text(
        (bad / "patients.csv").read_text().replace("P02,F,", "P02,F,forty-", 1)
    )
    directory = _params(tmp_path, "good", "common:\n  data_dir: data/standin\n")
    _params(tmp_path, "bad", f"common:\n  data_dir: {bad}\n")
    reports = tmp_path / "reports"

    # every notebook, side by side in two processes (kernels must not share sockets):
    # the shared run of the default set (conftest.default_report)
    notebooks = discover_notebooks()
    assert len(notebooks) >= 2
    out = default_report
    expected = sorted([nb.name for nb in notebooks] + [f"{nb.stem}.html" for nb in notebooks])
    shown = sorted(p.name for p in out.iterdir() if p.is_file() and not p.name.startswith("."))
    assert shown == expected
    assert (out / ".cache.json").is_file()  # the record the next run reuses notebooks by
    written = {p.name for p in (out / "tables").iterdir()}
    for name in ("01_table_one.csv", "02_abstract_format.csv", "04_verdicts.csv"):
        assert name in written
    for stem in ("01_patients", "02_trajectories", "02_changes", "03_patients", "04_reachability"):
        assert {f"{stem}.png", f"{stem}.svg"} <= written, stem
    executed = nbformat.read(out / NB01.name, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'parameter_set = "default"' in injected[0].source
    html = (out / f"{NB01.stem}.html").read_text()
    assert 'alt="Figure: Age; Cells infused; Culture time' in html

    # bad data stop the run before any kernel, and touch no report
    good = run("good", [NB01], reports_dir=reports, params_dir=directory, progress=False)
    good_bytes = (good / NB01.name).read_bytes()
    (reports / "bad").mkdir()
    (reports / "bad" / "keep.txt").write_text("last good report")
    with pytest.raises(DataValidationError) as info:
        run("bad", [NB01], reports_dir=reports, params_dir=directory, progress=False)
    message = str(info.value)
    assert "age_years" in message
    assert str(bad / "patients.csv") in message
    assert (reports / "bad" / "keep.txt").read_text() == "last good report"
    assert not (reports / "bad.failed").exists()
    assert (good / NB01.name).read_bytes() == good_bytes
    leftovers = [p for p in reports.iterdir() if ".staging-" in p.name or ".previous-" in p.name]
    assert not leftovers, "staging left behind"


@pytest.mark.slow
def test_command_line_exit_status_and_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "helpers.run", "--params", "nope", "--no-progress"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: no parameter set 'nope'")
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_refresh_in_place_is_byte_stable(tmp_path):
    copy = tmp_path / NB01.name
    shutil.copy(NB01, copy)
    refresh_in_place([copy])
    first = copy.read_bytes()
    refresh_in_place([copy])
    assert copy.read_bytes() == first
    assert first == NB01.read_bytes(), "stored notebook is stale: run `make notebooks`"


def test_strip_volatile_metadata():
    nb = nbformat.v4.new_notebook(metadata={"papermill": {"duration": 1.0}})
    nb.cells = [
        nbformat.v4.new_code_cell("1", metadata={"execution": {}, "papermill": {}, "tags": ["x"]})
    ]
    strip_volatile_metadata(nb)
    assert nb.metadata == {}
    assert nb.cells[0].metadata == {"tags": ["x"]}


NB02 = next(nb for nb in discover_notebooks() if nb.name.startswith("02_"))


@pytest.mark.slow
def test_other_primary_test_through_the_runner_equals_scipy(tmp_path):
    import pandas as pd
    from scipy import stats

    from helpers.data import load_cohort

    directory = _params(
        tmp_path, "wilcoxon", "notebooks:\n  02_glycemic_outcomes:\n    primary_test: wilcoxon_r\n"
    )
    out = run("wilcoxon", [NB02], reports_dir=tmp_path / "r", params_dir=directory, progress=False)
    table = pd.read_csv(out / "tables" / "02_comparisons.csv")
    primary = table[(table["analysis"] == "primary") & table["p_val"].notna()]
    assert set(primary["test"]) == {"wilcoxon_r"}
    m = load_cohort(STANDIN, study=STUDY).measurements
    for r in primary.itertuples():
        sub = m[m["outcome"] == r.outcome].pivot(
            index="patient_id", columns="visit_month", values="value"
        )
        d = (sub[r.visit_month] - sub[0]).dropna()
        tied = (d == 0).any() or d.abs().duplicated().any()
        expected = stats.wilcoxon(d, method="approx" if tied else "exact", correction=tied)
        assert r.p_val == pytest.approx(expected.pvalue, rel=1e-12)


@pytest.mark.slow
def test_simulated_forty_patients_with_a_missing_visit_through_the_runner(tmp_path):
    import pandas as pd

    from helpers.simulate import simulate_cohort, write_cohort

    data = tmp_path / "sim"
    write_cohort(simulate_cohort(40, study=STUDY, missing=[("S07", 2)], seed=40), data)
    directory = _params(tmp_path, "sim40", f"common:\n  data_dir: {data}\n")
    out = run("sim40", [NB02], reports_dir=tmp_path / "r", params_dir=directory, progress=False)
    tables = out / "tables"
    comparisons = pd.read_csv(tables / "02_comparisons.csv")
    n_by_visit = comparisons.groupby("visit_month")["n"].unique().to_dict()
    assert {v: list(n) for v, n in n_by_visit.items()} == {1: [40], 2: [39], 3: [40]}
    omnibus = pd.read_csv(tables / "02_omnibus.csv")
    assert (omnibus["n_patients"] == 39).all()
    assert (omnibus["n_values"] == 39 * 4).all()
    mixed = pd.read_csv(tables / "02_mixed_model.csv")
    assert (mixed["n_patients"] == 40).all()
    assert (mixed["n_values"] == 159).all()
    html = (out / "02_glycemic_outcomes.html").read_text()
    assert "SIMULATED DATA" in html


@pytest.mark.slow
def test_margin_through_the_runner_changes_the_equivalence_verdict(tmp_path):
    """Both antibodies rise by a known 1 IU/mL: a margin of 3 shows equivalence, 0.5 does not.

    One run: each antibody gets its own margin, so one notebook execution shows both verdicts.
    """
    import pandas as pd

    from helpers.simulate import simulate_cohort, write_cohort
    from helpers.study import SimulationProfile

    profiles = {
        "gad_ab": SimulationProfile(mean=12.0, sd=3.0, change={1: 1.0, 2: 1.0, 3: 1.0}),
        "islet_ab": SimulationProfile(mean=12.0, sd=3.0, change={1: 1.0, 2: 1.0, 3: 1.0}),
    }
    data = tmp_path / "sim"
    write_cohort(
        simulate_cohort(
            60,
            study=STUDY,
            outcomes=["gad_ab", "islet_ab"],
            profiles=profiles,
            correlation=0.95,
            seed=6,
        ),
        data,
    )
    nb03 = next(nb for nb in discover_notebooks() if nb.name.startswith("03_"))
    text = (
        f"common:\n  data_dir: {data}\nnotebooks:\n  03_immunologic_safety:\n"
        "    visits: [0, 3]\n    margins: {gad_ab: 3.0, islet_ab: 0.5}\n"
    )
    directory = _params(tmp_path, "margins", text)
    out = run("margins", [nb03], reports_dir=tmp_path / "r", params_dir=directory, progress=False)
    safety = pd.read_csv(out / "tables" / "03_safety.csv").set_index("outcome")
    assert safety.loc["gad_ab", "margin"] == 3.0
    assert safety.loc["islet_ab", "margin"] == 0.5
    assert bool(safety.loc["gad_ab", "equivalent"]) is True
    assert bool(safety.loc["islet_ab", "equivalent"]) is False


def _shown(notebook: Path) -> str:
    """Everything a reader sees in an executed notebook's outputs: text, tables, alt texts."""
    nb = nbformat.read(notebook, as_version=4)
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            parts += [str(data.get(k, "")) for k in ("text/plain", "text/markdown")]
            parts.append(str(output.get("metadata", {}).get("image/png", {}).get("alt", "")))
    return "\n".join(parts)


@pytest.mark.slow
def test_non_default_parameters_reach_every_table_legend_and_sentence(tmp_path):
    """ci_level 0.9, alpha 0.1, power 0.9 and a baseline other than month 0, end to end."""
    import numpy as np
    import pandas as pd
    from scipy import stats
    from statsmodels.stats.power import TTestPower

    from helpers.simulate import write_cohort

    from recompute import expected_comparisons, expected_safety, pairs, tricky_cohort, values

    cohort = tricky_cohort()
    m = cohort.measurements
    write_cohort(cohort, tmp_path / "tricky")
    glycemic, antibodies = ["leptin", "insulin_dose", "hba1c"], ["islet_ab", "gad_ab"]
    margins = {"islet_ab": 2.0, "gad_ab": 3.0}
    text = (
        f"common:\n  data_dir: {tmp_path / 'tricky'}\n  ci_level: 0.9\n  alpha: 0.1\n"
        "notebooks:\n"
        f"  02_glycemic_outcomes:\n    outcomes: {glycemic}\n    baseline: 1\n"
        f"  03_immunologic_safety:\n    outcomes: {antibodies}\n    baseline: 2\n"
        "    power: 0.9\n    margins: {islet_ab: 2.0, gad_ab: 3.0}\n"
    )
    directory = _params(tmp_path, "odd", text)
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
        for column, value in e_safety[(r.outcome, r.visit_month)].items():
            assert getattr(r, column) == pytest.approx(value, rel=1e-9), column
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
        "HbA1c (IFCC) (mmol/mol)": None
    }
    for row in summary.to_dict("records"):
        code = labels[row["outcome"]]
        if code is None:
            continue
        v = list(values(m, code, int(row["visit"].removeprefix("month "))).values())
        assert row["n"] == len(v)
        assert row["mean ± SD"] == f"{np.mean(v):.2f} ± {np.std(v, ddof=1):.2f}"
    omnibus = pd.read_csv(tables / "02_omnibus.csv")
    for r in omnibus[omnibus["method"] == "friedman"].itertuples():
        wide = m[m["outcome"] == r.outcome].pivot(
            index="patient_id", columns="visit_month", values="value"
        )
        wide = wide.dropna(axis=1, how="all").dropna()
        expected = stats.friedmanchisquare(*[wide[c] for c in wide.columns]).pvalue
        assert r.p_val == pytest.approx(expected, rel=1e-9)

    # legends (in the figures' alternative text) and sentences state the parameters used
    shown02, shown03 = _shown(out / NB02.name), _shown(out / nb03.name)
    for phrase in (
        "mean (90% CI)",
        "estimate (90% CI)",
        "Effect size (90% CI)",
        "p < 0.1 before adjustment",
        "Not compared with month 1",
    ):
        assert phrase in shown02, phrase
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
def test_outcomes_without_any_measurement_are_sentences_not_crashes(tmp_path):
    """A measurements file with only its header passes validation; the notebooks say so."""
    data = tmp_path / "empty"
    shutil.copytree(STANDIN, data)
    (data / "provenance.json").unlink()
    (data / "measurements.csv").write_text("patient_id,visit_month,outcome,value\n")
    directory = _params(tmp_path, "empty", f"common:\n  data_dir: {data}\n")
    nb03 = next(nb for nb in discover_notebooks() if nb.name.startswith("03_"))
    out = run(
        "empty", [NB02, nb03], reports_dir=tmp_path / "r", params_dir=directory, progress=False
    )
    for notebook in (NB02, nb03):
        shown = _shown(out / notebook.name)
        assert "Not compared with month 0" in shown
        assert (
            "No comparison with baseline could be made" in shown
            or "No antibody could be compared with baseline" in shown
        )


def test_command_line_overrides_are_read_as_yaml_and_checked(tmp_path, capsys):
    from helpers.run import apply_overrides, main, parse_override

    assert parse_override("outcomes=[hba1c, leptin]") == ("outcomes", ["hba1c", "leptin"])
    assert parse_override("04_reproduction_audit.precision_rule=truncate") == (
        "04_reproduction_audit.precision_rule",
        "truncate",
    )
    with pytest.raises(ParameterError, match="write NAME=VALUE"):
        parse_override("alpha")
    with pytest.raises(ParameterError, match="not valid YAML"):
        parse_override("outcomes=[hba1c")
    with pytest.raises(ParameterError, match="set by the runner"):
        apply_overrides(ParameterSet("x"), {"tables_dir": "/tmp"})
    merged = apply_overrides(
        ParameterSet("x", common={"alpha": 0.05}, notebooks={"02_x": {"alpha": 0.01}}),
        {"alpha": 0.1},
    )
    assert merged.common == {"alpha": 0.1}
    assert merged.notebooks == {"02_x": {}}
    code = main(["-p", "alpha=1.5", "-p", "visits=[0, 9]", "--reports", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "alpha = 1.5: must be a number greater than 0 and less than 0.5" in err
    assert "visits = [0, 9]: must hold visit months of the study amsct_t1dm" in err
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_an_override_runs_into_its_own_report(tmp_path):
    from helpers.run import main

    nb04 = "04_reproduction_audit"
    args = ["-p", f"{nb04}.precision_rule=truncate", "--notebook", nb04]
    assert main([*args, "--reports", str(tmp_path), "--no-progress"]) == 0
    executed = nbformat.read(tmp_path / "default-custom" / f"{nb04}.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'precision_rule = "truncate"' in injected[0].source
    assert not (tmp_path / "default").exists()


def test_help_notebook_shows_every_parameter_with_its_type():
    import re

    import papermill

    for nb in discover_notebooks():
        info = papermill.inspect_notebook(str(nb))
        cell = next(c for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code")
        assigned = re.findall(r"^([a-z_]+)\s*[:=]", cell.source, flags=re.M)
        assert list(info) == assigned, nb.name
        untyped = [k for k, v in info.items() if v["inferred_type_name"] == "None"]
        assert not untyped, f"{nb.name}: no type for {untyped}"


def test_a_partial_run_takes_the_common_parameters_its_notebook_does_not_declare():
    """--notebook 05 with the default set: reported_path serves other notebooks, not an error;
    a common name no notebook of the folder declares still is."""
    nb05 = next(nb for nb in discover_notebooks() if nb.name.startswith("05_"))
    resolved = resolve_parameters(load_parameter_set("default"), [nb05])
    assert "reported_path" not in resolved[nb05]
    assert resolved[nb05]["data_dir"] == "data/standin"
    typo = ParameterSet("x", common={"data_dri": "data/standin"})
    with pytest.raises(ParameterError, match="common parameter 'data_dri' is declared by no"):
        resolve_parameters(typo, [nb05])
