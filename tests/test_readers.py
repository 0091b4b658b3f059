"""The tables readers see, recomputed cell by cell from the full tables by key, by hand."""

from __future__ import annotations

import math

import pytest
from studydef import STUDY

from helpers import outcomes as ho
from helpers import readers as hread
from helpers import safety as hs

from recompute import TRICKY_OUTCOMES, tricky_cohort


def _p(p: float) -> str:
    if p != p:
        return "not computed"
    return "< 0.001" if p < 0.0005 else f"{p:.3f}"


def _n(x: float) -> str:
    return "not computed" if x != x else f"{x:.2f}".replace("-", "−")


@pytest.fixture(scope="module")
def m():
    return tricky_cohort().measurements


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
        assert cell["Patients"] == r.n_patients
    assert "nan" not in shown.to_string().lower()


def test_omnibus_for_readers_by_key(m):
    full = ho.omnibus_tests(m, outcomes=TRICKY_OUTCOMES, visits=[0, 1, 2, 3])
    shown = hread.omnibus_for_readers(full, study=STUDY)
    for r in full.itertuples():
        cell = shown.loc[(STUDY.label(r.outcome), r.test)]
        assert cell["p"] == _p(r.p_val)
        assert cell["Patients"] == r.n_patients
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
        assert cell["Rise (p adjusted)"] == _p(r.p_increase_adj)
        if not math.isnan(r.p_equivalence_adj):
            word = "shown" if r.equivalent else "not shown"
            assert cell["Equivalence (p adjusted)"] == f"{word} ({_p(r.p_equivalence_adj)})"
    assert "nan" not in shown.to_string().lower()
