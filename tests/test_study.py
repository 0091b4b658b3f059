"""The study definition: read from data, refused when wrong, and the only place the study lives."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from studydef import STUDY, STUDY_FILE

from helpers import cohort as hc
from helpers import figures as hf
from helpers import outcomes as ho
from helpers.data import load_cohort
from helpers.errors import DataValidationError
from helpers.paths import PROJECT_ROOT
from helpers.simulate import simulate_cohort, write_cohort
from helpers.study import StudyDefinitionError, load_study

HELPERS = PROJECT_ROOT / "src" / "helpers"
EXAMPLE = PROJECT_ROOT / "data" / "examples" / "bhansali_2014_abmsct_t2dm" / "study.yaml"


def _raw() -> dict:
    return yaml.safe_load((PROJECT_ROOT / STUDY_FILE).read_text(encoding="utf-8"))


def _write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def with_c_peptide_and_month_6(raw: dict) -> dict:
    """The study definition plus a C-peptide outcome and a month-6 visit (data, not code)."""
    raw["visits"].append({"month": 6, "label": "Month 6"})
    raw["outcomes"].insert(
        0,
        {
            "code": "c_peptide",
            "label": "Fasting C-peptide",
            "unit": "nmol/L",
            "minimum": 0.0,
            "maximum": 5.0,
            "bounds_source": "Fasting C-peptide in adults is about 0.3-1.3 nmol/L; 5 bounds it.",
            "decimals": 2,
            "benefit": "higher",
            "simulate": {"mean": 0.3, "sd": 0.1, "change": {3: 0.1, 6: 0.15}},
        },
    )
    return raw


def test_the_definition_describes_the_study():
    assert STUDY.visit_months == (0, 1, 2, 3)
    assert STUDY.baseline == 0
    assert STUDY.outcome_codes == ("insulin_dose", "hba1c", "leptin", "gad_ab", "islet_ab")
    assert STUDY.label("hba1c_mmol_mol") == "HbA1c, IFCC (mmol/mol)"
    assert STUDY.subgroups() == {"male": ("sex", "M"), "female": ("sex", "F")}
    assert all(o.bounds_source for o in STUDY.outcomes)


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (
            lambda r: r["outcomes"][1].update(minimum=30.0),
            ["outcomes[1] (hba1c)", "minimum 30.0 must be below maximum 20.0"],
        ),
        (
            lambda r: r["outcomes"][0].update(maximum="lots"),
            ["outcomes[0] (insulin_dose), key 'maximum'", "'lots'", "valid number"],
        ),
        (lambda r: r["visits"][1].update(baseline=True), ["exactly one visit"]),
        (lambda r: r["visits"].append({"month": 1, "label": "again"}), ["increasing and distinct"]),
        (lambda r: r["outcomes"].append(dict(r["outcomes"][0])), ["given twice: insulin_dose"]),
        (lambda r: r["derived"][0].update({"from": "hbA1c"}), ["derived", "from"]),
        (lambda r: r["outcomes"][2].pop("unit"), ["outcomes[2] (leptin), key 'unit'", "required"]),
        (lambda r: r["outcomes"][2].update(colour="red"), ["key 'colour'", "not permitted"]),
        (lambda r: r.update(design="crossover"), ["key 'design'", "'crossover'"]),
        (lambda r: r["clinical"]["idaa1c"].update(body_weight_kg="mass"), ["body_weight_kg"]),
        (
            lambda r: r["characteristics"][1].update(minimum=None),
            ["characteristics[1] (age_years)", "minimum below its maximum"],
        ),
    ],
)
def test_a_wrong_definition_is_refused_naming_file_entry_key_and_rule(tmp_path, edit, fragments):
    raw = _raw()
    edit(raw)
    path = _write(tmp_path, raw)
    with pytest.raises(StudyDefinitionError) as info:
        load_study(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_unreadable_definitions_are_refused(tmp_path):
    with pytest.raises(StudyDefinitionError, match="no study definition there"):
        load_study(tmp_path / "missing.yaml")
    twice = tmp_path / "twice.yaml"
    twice.write_text("id: a\nid: b\n", encoding="utf-8")
    with pytest.raises(StudyDefinitionError, match="given twice"):
        load_study(twice)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n", encoding="utf-8")
    with pytest.raises(StudyDefinitionError, match="a mapping"):
        load_study(listed)


# --- no helper knows the study ------------------------------------------------------------


def _study_codes(path: Path) -> set[str]:
    """Codes of a study: outcomes, derived outcomes, characteristics and subgroups."""
    study = load_study(path)
    return {
        *study.outcome_codes,
        *(d.code for d in study.derived),
        *(c.code for c in study.characteristics),
        *(g for g in study.reported_groups() if g != "all"),
    }


def _string_constants(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal of a module except docstrings and the names in ``__all__``."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skipped.add(id(body[0].value))
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            skipped |= {id(n) for n in ast.walk(node.value)}
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skipped
    ]


@pytest.mark.parametrize("module", sorted(p.name for p in HELPERS.glob("*.py")))
def test_no_helper_holds_a_study_constant(module):
    """No code names an outcome, characteristic or subgroup of either study, nor its visits."""
    codes = _study_codes(PROJECT_ROOT / STUDY_FILE) | _study_codes(EXAMPLE)
    tree = ast.parse((HELPERS / module).read_text(encoding="utf-8"))
    found = [
        (line, text)
        for line, text in _string_constants(tree)
        if any(re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text) for c in codes)
    ]
    assert not found, f"{module} names study-specific codes: {found}"
    # nor a visit schedule: a literal tuple or list of several visit months
    schedules = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Tuple | ast.List)
        and len(node.elts) >= 3
        and [getattr(e, "value", None) for e in node.elts] == list(STUDY.visit_months)
    ]
    assert not schedules, f"{module} holds a visit schedule at line(s) {schedules}"


def test_the_scan_would_catch_a_study_constant():
    tree = ast.parse('"""Docs may say hba1c."""\n__all__ = ["f"]\nCODES = ("hba1c", "x")\n')
    assert [text for _, text in _string_constants(tree)] == ["hba1c", "x"]


# --- signatures like pingouin's and seaborn's -----------------------------------------------

ANALYSIS_MODULES = [
    "clinical",
    "cohort",
    "figures",
    "outcomes",
    "reported",
    "reproduction",
    "safety",
    "simulate",
    "standin",
]
SAME_THING = {
    "outcome_codes": "outcomes",
    "codes": "outcomes",
    "visit_months": "visits",
    "baseline_month": "baseline",
    "baseline_visit": "baseline",
    "level": "ci_level",
    "conf_level": "ci_level",
    "confidence": "ci_level",
}


def _public_functions():
    for name in ANALYSIS_MODULES:
        module = importlib.import_module(f"helpers.{name}")
        for attr in module.__all__:
            obj = getattr(module, attr)
            if inspect.isfunction(obj):
                yield f"{name}.{attr}", inspect.signature(obj)


@pytest.mark.parametrize(("name", "signature"), list(_public_functions()), ids=lambda x: str(x))
def test_data_first_everything_else_keyword_only(name, signature):
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    assert len(positional) <= 2, f"{name}{signature}: only the data may be positional"
    wrong = [p for p in signature.parameters if p in SAME_THING]
    assert not wrong, f"{name}: call {wrong} {[SAME_THING[w] for w in wrong]}, as elsewhere"


# --- a new outcome and visit: data, not code ------------------------------------------------


@pytest.mark.slow
def test_a_new_outcome_and_visit_are_refused_until_the_definition_has_them(tmp_path):
    extended = load_study(_write(tmp_path, with_c_peptide_and_month_6(_raw())))
    cohort = simulate_cohort(8, study=extended, seed=3)
    write_cohort(cohort, tmp_path / "data")
    with pytest.raises(DataValidationError) as info:
        load_cohort(tmp_path / "data", study=STUDY)
    message = str(info.value)
    assert "value 'c_peptide': must be one of" in message
    assert "value '6': must be one of [0, 1, 2, 3]" in message
    assert len(load_cohort(tmp_path / "data", study=extended).measurements) == 8 * 5 * 6


@pytest.mark.slow
def test_a_new_outcome_and_visit_are_described_tested_and_plotted(tmp_path):
    extended = load_study(_write(tmp_path, with_c_peptide_and_month_6(_raw())))
    write_cohort(simulate_cohort(8, study=extended, seed=3), tmp_path / "data")
    cohort = load_cohort(tmp_path / "data", study=extended)
    m = cohort.measurements
    completeness = hc.visit_completeness(cohort)
    assert completeness.loc["Fasting C-peptide", "month 6"] == "8/8"
    summary = ho.summary_table(m, outcomes=["c_peptide"], study=extended)
    assert ("Fasting C-peptide (nmol/L)", "month 6") in summary.index
    by_hand = m.query("outcome == 'c_peptide' and visit_month == 6")["value"]
    assert summary.loc[("Fasting C-peptide (nmol/L)", "month 6"), "n"] == len(by_hand)
    cmp = ho.compare_to_baseline(m, outcomes=["c_peptide"], sensitivity=None, n_boot=200)
    row = cmp.set_index("visit_month").loc[6]
    pairs = m[m["outcome"] == "c_peptide"].pivot(
        index="patient_id", columns="visit_month", values="value"
    )
    assert row["change_estimate"] == pytest.approx((pairs[6] - pairs[0]).mean())
    means = ho.visit_means_ci(m, outcomes=["c_peptide"])
    fig = hf.trajectories_figure(m, means, outcomes=["c_peptide"], study=extended)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Fasting C-peptide (nmol/L)"
    assert [t for t in ax.get_xticks()] == [0, 1, 2, 3, 6]
    assert hf.describe_figure(fig).startswith("Figure: Fasting C-peptide")


def test_simulated_changes_follow_the_profile_by_month(tmp_path):
    extended = load_study(_write(tmp_path, with_c_peptide_and_month_6(_raw())))
    m = simulate_cohort(400, study=extended, outcomes=["c_peptide"], seed=1).measurements
    means = m.groupby("visit_month")["value"].mean()
    # change given at months 3 and 6; months 1 and 2 keep the change before them (none)
    assert means[1] - means[0] == pytest.approx(0.0, abs=0.02)
    assert means[3] - means[0] == pytest.approx(0.1, abs=0.02)
    assert means[6] - means[0] == pytest.approx(0.15, abs=0.02)
    assert pd.Series(m["value"]).between(0.0, 5.0).all()


@pytest.mark.slow
@pytest.mark.usefixtures("warm_session")
def test_the_notebook_describes_tests_and_plots_a_new_outcome_and_visit(tmp_path):
    """C-peptide and a month-6 visit added to the definition reach notebook 02's every output."""
    import nbformat

    from helpers.run import discover_notebooks, run

    study_path = _write(tmp_path, with_c_peptide_and_month_6(_raw()))
    write_cohort(simulate_cohort(8, study=load_study(study_path), seed=3), tmp_path / "data")
    params = tmp_path / "params"
    params.mkdir()
    (params / "cpep.yaml").write_text(
        yaml.safe_dump(
            {
                "description": "simulated C-peptide and month 6",
                "common": {"study_file": str(study_path), "data_dir": str(tmp_path / "data")},
                "notebooks": {
                    "02_glycemic_outcomes": {
                        "outcomes": ["c_peptide", "hba1c"],
                        "visits": [0, 1, 2, 3, 6],
                        "n_boot": 200,  # the structure is checked here, not intervals
                    }
                },
            }
        ),
        encoding="utf-8",
    )
    nb02 = next(nb for nb in discover_notebooks() if nb.name.startswith("02_"))
    out = run("cpep", [nb02], reports_dir=tmp_path / "reports", params_dir=params, progress=False)
    summary = pd.read_csv(out / "tables" / "02_summary.csv")
    assert ("Fasting C-peptide (nmol/L)", "month 6") in set(
        zip(summary["outcome"], summary["visit"], strict=True)
    )
    comparisons = pd.read_csv(out / "tables" / "02_comparisons.csv")
    month6 = comparisons.query("outcome == 'c_peptide' and visit_month == 6")
    assert set(month6["analysis"]) == {"primary", "sensitivity"}
    assert month6["p_val"].notna().all()
    mixed = pd.read_csv(out / "tables" / "02_mixed_model.csv")
    assert 6 in set(mixed.query("outcome == 'c_peptide'")["visit_month"])
    executed = nbformat.read(out / nb02.name, as_version=4)
    alts = [
        o.get("metadata", {}).get("image/png", {}).get("alt", "")
        for c in executed.cells
        for o in c.get("outputs", [])
    ]
    assert any(a.startswith("Figure: Fasting C-peptide; HbA1c") for a in alts)


def test_the_package_docstring_maps_every_module_in_one_line():
    import helpers

    lines = helpers.__doc__.splitlines()
    for path in sorted(HELPERS.glob("*.py")):
        if path.stem != "__init__":
            entry = [line for line in lines if line.startswith(f"- :mod:`helpers.{path.stem}` — ")]
            assert len(entry) == 1, path.stem
