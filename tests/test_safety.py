"""Safety analysis: one-sided tests, equivalence, largest rise excluded, per-patient crossings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.power import TTestPower
from studydef import STUDY

from helpers.safety import (
    cutoff_table,
    describe_safety,
    detectable_rise,
    parse_amount,
    patient_changes,
    safety_analysis,
)
from helpers.simulate import simulate_cohort
from helpers.stats import paired_test

from conftest import examples


def _known_change(n: int, change: float, sd: float, seed: int) -> pd.DataFrame:
    """GAD antibodies at baseline and month 3 with a known mean change."""
    rng = np.random.default_rng(seed)
    base = rng.normal(12, 3, n).round(2)
    after = (base + change + rng.normal(0, sd, n)).round(2)
    ids = [f"S{i:02d}" for i in range(n)]
    rows = [(p, 0, "gad_ab", b) for p, b in zip(ids, base, strict=True)]
    rows += [(p, 3, "gad_ab", a) for p, a in zip(ids, after, strict=True)]
    return pd.DataFrame(rows, columns=["patient_id", "visit_month", "outcome", "value"])


def test_parse_amount():
    assert parse_amount("50%", 12.0) == 6.0
    assert parse_amount(2.5, 12.0) == 2.5
    for bad in ("50", "half", -1, 0, "-5%"):
        with pytest.raises(ValueError, match=r"number or a percentage|must be positive"):
            parse_amount(bad, 12.0)


def test_tost_equals_two_one_sided_scipy_tests():
    m = _known_change(25, 0.4, 1.5, seed=1)
    row = safety_analysis(m, outcomes=["gad_ab"], visits=[3], margins={"gad_ab": 1.5}).iloc[0]
    wide = m.pivot(index="patient_id", columns="visit_month", values="value")
    d = wide[3] - wide[0]
    p_low = stats.ttest_1samp(d, -1.5, alternative="greater").pvalue
    p_high = stats.ttest_1samp(d, 1.5, alternative="less").pvalue
    assert row["p_equivalence"] == pytest.approx(max(p_low, p_high))
    assert row["p_noninferiority"] == pytest.approx(p_high)
    assert row["p_increase"] == pytest.approx(
        stats.ttest_rel(wide[3], wide[0], alternative="greater").pvalue
    )
    # the TOST interval is the t interval at 1 − 2α (90 %), and says so beside the 95 % one
    assert (row["tost_ci_level"], row["ci_level"]) == pytest.approx((0.90, 0.95))
    low, high = stats.t.interval(0.90, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    assert (row["tost_ci_low"], row["tost_ci_high"]) == pytest.approx((low, high))


@pytest.mark.slow
@settings(max_examples=examples(30), deadline=None)
@given(
    st.floats(min_value=-2, max_value=2),
    st.floats(min_value=0.3, max_value=4),
    st.integers(min_value=0, max_value=10**6),
)
def test_equivalence_is_the_interval_inside_the_margin(change, margin, seed):
    m = _known_change(12, change, 1.0, seed)
    row = safety_analysis(m, outcomes=["gad_ab"], visits=[3], margins={"gad_ab": margin}).iloc[0]
    inside = -margin < row["tost_ci_low"] and row["tost_ci_high"] < margin
    assert bool(row["equivalent"]) == inside
    # the largest rise excluded is the upper end of the (1 - 2 alpha) interval at 95 %
    assert row["largest_rise_excluded"] == pytest.approx(row["tost_ci_high"])


def test_margin_decides_the_verdict_on_a_known_change():
    m = _known_change(40, 1.0, 1.0, seed=3)
    wide = safety_analysis(m, outcomes=["gad_ab"], visits=[3], margins={"gad_ab": 3.0}).iloc[0]
    narrow = safety_analysis(m, outcomes=["gad_ab"], visits=[3], margins={"gad_ab": 0.5}).iloc[0]
    assert wide["equivalent"]
    assert not narrow["equivalent"]
    percent = safety_analysis(m, outcomes=["gad_ab"], visits=[3], margins={"gad_ab": "25%"}).iloc[0]
    base_mean = m.query("visit_month == 0")["value"].mean()
    assert percent["margin"] == pytest.approx(0.25 * base_mean)


def test_missing_margin_is_an_error():
    with pytest.raises(ValueError, match="no margin given for islet_ab"):
        safety_analysis(
            _known_change(5, 0, 1, 0),
            outcomes=["gad_ab", "islet_ab"],
            visits=[3],
            margins={"gad_ab": 1},
        )


def test_visits_without_pairs_are_skipped_and_small_ones_kept_empty():
    m = _known_change(2, 0.5, 1, 0)
    table = safety_analysis(m, outcomes=["gad_ab"], visits=[1, 3], margins={"gad_ab": 1})
    assert table["visit_month"].tolist() == [3]
    assert table["n"].item() == 2
    assert np.isnan(table["p_equivalence"].item())


def test_detectable_rise_agrees_with_statsmodels():
    m = simulate_cohort(7, study=STUDY, seed=5).measurements
    row = detectable_rise(m, outcomes=["gad_ab"], visits=[3]).iloc[0]
    # one-sided, like the test for a rise it answers
    expected = TTestPower().solve_power(nobs=7, alpha=0.05, power=0.8, alternative="larger")
    assert row["effect_size"] == pytest.approx(expected, rel=1e-3)
    assert row["detectable_rise"] == pytest.approx(row["effect_size"] * row["sd_change"])


def test_patient_crossings_and_meaningful_rises():
    m = pd.DataFrame(
        {
            "patient_id": ["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"],
            "visit_month": [0, 3] * 5,
            "outcome": ["gad_ab"] * 10,
            "value": [8.0, 12.0, 12.0, 8.0, 15.0, 16.0, 2.0, 2.5, 0.0, 0.4],
        }
    )
    t = patient_changes(
        m,
        outcomes=["gad_ab"],
        visits=[3],
        cutoffs={"gad_ab": 10.0},
        meaningful_rise={"gad_ab": "20%"},
    )
    t = t.set_index("patient_id")
    assert t["crossing"].to_dict() == {
        "a": "became positive",
        "b": "became negative",
        "c": "stayed positive",
        "d": "stayed negative",
        "e": "stayed negative",
    }
    assert t["rose_meaningfully"].to_dict() == {
        "a": True,
        "b": False,
        "c": False,
        "d": True,
        "e": True,
    }
    absolute = patient_changes(
        m, outcomes=["gad_ab"], visits=[3], cutoffs={"gad_ab": 10.0}, meaningful_rise={"gad_ab": 3}
    )
    assert absolute.set_index("patient_id")["rose_meaningfully"].sum() == 1


def test_cutoff_table_names_its_source():
    documented = STUDY.measured("gad_ab").cutoff.value
    table = cutoff_table({"gad_ab": documented, "islet_ab": 25.0}, study=STUDY)
    assert "WHO 97/550" in table.iloc[0]["source"]
    assert table.iloc[1]["source"].startswith("set by the parameter set")
    assert table["positive when"].tolist() == ["≥ 10", "≥ 25"]


def test_a_value_at_the_cut_off_is_positive_and_the_crossings_on_it_are_counted():
    """By hand: cut-off 10; a: 9.5 → 10.0 (on it, became positive), b: 10.0 → 9.0 (on it,
    became negative), c: 8.0 → 12.0 (became positive, not on it), d: 11.0 → 10.0 (stays
    positive on it: no crossing, not counted)."""
    m = pd.DataFrame(
        {
            "patient_id": [p for p in "abcd" for _ in range(2)],
            "visit_month": [0, 3] * 4,
            "outcome": ["gad_ab"] * 8,
            "value": [9.5, 10.0, 10.0, 9.0, 8.0, 12.0, 11.0, 10.0],
        }
    )
    pts = patient_changes(
        m, outcomes=["gad_ab"], visits=[3], cutoffs={"gad_ab": 10.0}, meaningful_rise={"gad_ab": 5}
    )
    assert pts.set_index("patient_id")["crossing"].to_dict() == {
        "a": "became positive",
        "b": "became negative",
        "c": "became positive",
        "d": "stayed positive",
    }
    safety = safety_analysis(m, outcomes=["gad_ab"], visits=[3], margins={"gad_ab": 5})
    d = detectable_rise(m, outcomes=["gad_ab"], visits=[3])
    common = dict(detectable=d, patients=pts, ci_level=0.95, power=0.8, alpha=0.05, study=STUDY)
    text = describe_safety(safety, cutoffs={"gad_ab": 10.0}, **common)
    assert (
        "2 patients became positive and 1 became negative at the assay cut-off (10 IU/mL, "
        "positive at or above it; 2 of these crossings rest on a value exactly at the cut-off)"
        in text
    )
    # no crossing on a value equal to it: the cut-off alone (the crossings are pts' own)
    assert "cut-off (9.9 IU/mL, positive at or above it);" in describe_safety(
        safety, cutoffs={"gad_ab": 9.9}, **common
    )
    assert "positive at or above it" not in describe_safety(safety, **common)


def test_describe_safety_says_what_is_excluded():
    m = _known_change(7, 1.0, 2.0, seed=8)
    safety = safety_analysis(m, outcomes=["gad_ab"], visits=[3], margins={"gad_ab": 5})
    det = detectable_rise(m, outcomes=["gad_ab"], visits=[3])
    pts = patient_changes(
        m,
        outcomes=["gad_ab"],
        visits=[3],
        cutoffs={"gad_ab": 10},
        meaningful_rise={"gad_ab": "50%"},
    )
    text = describe_safety(
        safety, detectable=det, patients=pts, ci_level=0.95, power=0.8, alpha=0.05, study=STUDY
    )
    upper = safety["largest_rise_excluded"].item()
    assert f"larger than {upper:.2f} IU/mL (one-sided 95% confidence)" in text
    assert "80% power by the one-sided paired t-test at α = 0.05" in text
    assert "(set in the parameter set)" in text


@pytest.mark.parametrize(
    ("ci_level", "power", "alpha"), [(0.9, 0.9, 0.1), (0.975, 0.85, 0.025), (0.85, 0.6, 0.2)]
)
def test_describe_safety_states_the_parameters_it_was_given(ci_level, power, alpha):
    m = _known_change(7, 1.0, 2.0, seed=8)
    safety = safety_analysis(
        m,
        outcomes=["gad_ab"],
        visits=[3],
        margins={"gad_ab": "40%"},
        alpha=alpha,
        ci_level=ci_level,
    )
    det = detectable_rise(m, outcomes=["gad_ab"], visits=[3], alpha=alpha, power=power)
    pts = patient_changes(
        m, outcomes=["gad_ab"], visits=[3], cutoffs={"gad_ab": 10}, meaningful_rise={"gad_ab": 1}
    )
    text = describe_safety(
        safety,
        detectable=det,
        patients=pts,
        ci_level=ci_level,
        power=power,
        alpha=alpha,
        study=STUDY,
    )
    assert f"(one-sided {100 * ci_level:g}% confidence)" in text
    assert f"{100 * power:g}% power" in text
    assert f"at α = {alpha:g}" in text
    assert "95%" not in text.replace(f"{100 * ci_level:g}%", "")
    assert "80%" not in text.replace(f"{100 * power:g}%", "")
    assert "40% of the observed baseline mean: a margin taken from the same data" in text


@pytest.mark.parametrize(("spec", "words"), [("20%", "20% of their own baseline"), (1, "1 IU/mL")])
def test_describe_safety_says_what_a_meaningful_rise_was_beside_its_count(spec, words):
    """ "k rose by more than …": the count, recomputed here from the measurements (a change
    larger than the rise, a percentage taken of each patient's own baseline), and what the
    rise was, as the parameter set gave it."""
    m = _known_change(7, 1.0, 2.0, seed=8)
    safety = safety_analysis(m, outcomes=["gad_ab"], visits=[3], margins={"gad_ab": "40%"})
    det = detectable_rise(m, outcomes=["gad_ab"], visits=[3])
    pts = patient_changes(
        m, outcomes=["gad_ab"], visits=[3], cutoffs={"gad_ab": 10}, meaningful_rise={"gad_ab": spec}
    )
    wide = m[m["outcome"] == "gad_ab"].pivot(
        index="patient_id", columns="visit_month", values="value"
    )
    threshold = 0.2 * wide[0] if spec == "20%" else spec
    expected = int(((wide[3] - wide[0]) > threshold).sum())
    assert 0 < expected < len(wide)  # the data can tell a wrong count from a right one
    common = {"detectable": det, "patients": pts, "ci_level": 0.95, "power": 0.8, "alpha": 0.05}
    text = describe_safety(safety, study=STUDY, meaningful_rise={"gad_ab": spec}, **common)
    assert f"; {expected} rose by more than {words} (the meaningful rise set for it)." in text
    plain = describe_safety(safety, study=STUDY, **common)
    assert f"; {expected} rose by more than the meaningful amount." in plain


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_one_sided_paired_tests_equal_scipy(alternative):
    x = np.array([1.0, 2.2, 3.1, 4.0, 5.3, 6.1, 7.4])
    y = x + np.array([0.5, -0.2, 0.9, 1.3, 0.1, 0.7, -0.4])
    assert paired_test(x, y, "paired_t", alternative)["p_val"].item() == pytest.approx(
        stats.ttest_rel(y, x, alternative=alternative).pvalue
    )
    assert paired_test(x, y, "wilcoxon_exact", alternative)["p_val"].item() == pytest.approx(
        stats.wilcoxon(y - x, alternative=alternative, method="exact").pvalue
    )
    with pytest.raises(ValueError, match="alternative must be"):
        paired_test(x, y, "paired_t", "up")


def test_describe_safety_flags_rises_unadjusted_and_claims_safety_adjusted():
    """Counted by hand from the table: a rise counts on its unadjusted p (the adjusted count
    beside it), non-inferiority on its adjusted p; an unadjusted bound inside the margin is
    said as such."""
    s = pd.DataFrame(
        {
            "outcome": ["islet_ab", "gad_ab"],
            "visit_month": [3, 3],
            "n": [7, 7],
            "mean_change": [4.0, 1.5],
            "largest_rise_excluded": [9.8, 4.6],
            "margin": [5.0, 5.0],
            "margin_spec": ["5", "5"],
            "equivalent": [False, False],
            "noninferior": [False, False],
            "p_increase": [0.02, 0.04],  # both below 0.05 before adjustment, one after
            "p_increase_adj": [0.04, 0.08],
            "p_equivalence": [0.5, 0.03],
            "p_equivalence_adj": [1.0, 0.2],
            "family": ["Holm over 6 comparisons"] * 2,
        }
    )
    d = pd.DataFrame({"outcome": ["gad_ab"], "visit_month": [3], "detectable_rise": [4.5]})
    p = pd.DataFrame(
        {"outcome": ["gad_ab"], "visit_month": [3], "crossing": ["stayed positive"],
         "rose_meaningfully": [False]}
    )  # fmt: skip
    text = describe_safety(
        s, detectable=d, patients=p, ci_level=0.95, power=0.8, alpha=0.05, study=STUDY
    )
    lead = text.splitlines()[0]
    assert lead == (
        "Of 2 antibody comparisons, 2 show a rise (one-sided p < 0.05, unadjusted: for a possible "
        "harm, adjusting would make a real rise harder to see; 1 after adjustment for "
        "multiplicity) and none shows non-inferiority to its margin, after adjustment for "
        "multiplicity (α = 0.05)."
    )
    none = describe_safety(
        s.assign(p_increase=[0.3, 0.06]), detectable=d, patients=p, ci_level=0.95, power=0.8,
        alpha=0.05, study=STUDY,
    )  # fmt: skip
    assert none.splitlines()[0].startswith("Of 2 antibody comparisons, none shows a rise (")
    both = describe_safety(
        s.assign(noninferior=True), detectable=d, patients=p, ci_level=0.95, power=0.8,
        alpha=0.05, study=STUDY,
    )  # fmt: skip
    assert "and 2 show non-inferiority to their margins, after" in both.splitlines()[0]
    gad = text[text.index("**GAD") :]
    assert (
        "before adjustment for multiplicity, the data exclude a mean rise larger than 4.60" in gad
    )
    assert ": the adjusted tests cannot rule out a rise as large as the margin. Unadjusted, " in gad
    assert "the largest rise the data exclude (4.60 IU/mL) lies within the margin" in gad
    islet = text[text.index("**Islet") : text.index("**GAD")]
    assert "lies within the margin" not in islet  # 9.80 > 5: nothing to reconcile


def test_changes_are_on_the_values_recording_grid_and_ties_stay_ties():
    """18.5 − 14.2 is 4.3 (not 4.300000000000001); a rise of exactly the meaningful amount
    (9.7 − 9.6 = 0.1 against 0.1) is not more than it."""
    m = pd.DataFrame(
        {
            "patient_id": ["a", "a", "b", "b", "c", "c"],
            "visit_month": [0, 3] * 3,
            "outcome": ["gad_ab"] * 6,
            "value": [14.2, 18.5, 9.6, 9.7, 8.2, 8.3],
        }
    )
    t = patient_changes(
        m,
        outcomes=["gad_ab"],
        visits=[3],
        cutoffs={"gad_ab": 10.0},
        meaningful_rise={"gad_ab": 0.1},
    ).set_index("patient_id")
    assert 18.5 - 14.2 != 4.3  # the noise the table must not carry
    assert t["change"].to_dict() == {"a": 4.3, "b": 0.1, "c": 0.1}
    assert t["rose_meaningfully"].to_dict() == {"a": True, "b": False, "c": False}
