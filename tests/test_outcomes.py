"""Outcome-analysis helpers, cross-checked against scipy, pingouin and statsmodels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.anova import AnovaRM
from studydef import STUDY

from helpers.clinical import hba1c_mmol_mol, idaa1c
from helpers.data import load_cohort
from helpers.outcomes import (
    adjust_pvalues,
    change_from_baseline,
    compare_to_baseline,
    comparison_table,
    describe_visits,
    mixed_model,
    omnibus_tests,
    rank_biserial,
    rank_biserial_along,
    summarise_comparisons,
    summary_table,
    untested_comparisons,
    visit_means_ci,
)
from helpers.precision import round_to_recording, round_to_recording_by_row
from helpers.reported import load_reported
from helpers.reproduction import abstract_format_table
from helpers.simulate import simulate_cohort, write_cohort
from helpers.stats import paired_values
from helpers.study import SimulationProfile

from conftest import REPORTED, STANDIN, examples


@pytest.fixture(scope="module")
def sim():
    return simulate_cohort(40, study=STUDY, missing=[("S01", 2)], seed=11)


def _pairs(m, code, visit):
    sub = m[m["outcome"] == code]
    return paired_values(
        sub, dv="value", within="visit_month", subject="patient_id", before=0, after=visit
    )


def test_describe_visits_agrees_with_scipy(sim):
    m = sim.measurements
    row = describe_visits(m, outcomes=["hba1c"], visits=[2]).iloc[0]
    values = m[(m["outcome"] == "hba1c") & (m["visit_month"] == 2)]["value"]
    d = stats.describe(values)
    assert row["n"] == 39 == d.nobs
    assert row["mean"] == pytest.approx(d.mean)
    assert row["sd"] ** 2 == pytest.approx(d.variance)


def test_summary_table_formats_and_adds_ifcc(sim):
    table = summary_table(
        sim.measurements, outcomes=["hba1c"], visits=[0], derived=True, study=STUDY
    )
    assert [i[0] for i in table.index] == ["HbA1c (%)", "HbA1c, IFCC (mmol/mol)"]
    assert "," in table.iloc[0]["with decimal commas"]


def test_hba1c_conversion_known_values():
    assert hba1c_mmol_mol(7.0) == pytest.approx(53.0, abs=0.1)
    assert hba1c_mmol_mol(10.0) == pytest.approx(85.8, abs=0.1)


def test_change_from_baseline(sim):
    ch = change_from_baseline(sim.measurements, outcomes=["leptin"])
    assert set(ch["visit_month"]) == {1, 2, 3}
    assert len(ch[ch["visit_month"] == 2]) == 39
    first = ch.iloc[0]
    assert first["change"] == pytest.approx(first["value"] - first["baseline_value"])
    assert first["percent_change"] == pytest.approx(100 * first["change"] / first["baseline_value"])


def test_pairs_used_are_a_whole_count_in_the_table_and_its_csv():
    """n_used is a count: whole in the CSV (7, not 7.0), and missing where no test could run
    (one patient measured at both visits)."""
    m = pd.DataFrame({"patient_id": ["a", "a", "b", "b", "c", "c", "a", "a"],
                      "visit_month": [0, 1] * 3 + [0, 2],
                      "outcome": ["hba1c"] * 6 + ["leptin"] * 2,
                      "value": [9.0, 8.5, 8.0, 8.2, 7.5, 7.0, 5.0, 6.0]})  # fmt: skip
    table = compare_to_baseline(m, outcomes=["hba1c", "leptin"], n_boot=100)
    assert str(table["n_used"].dtype) == "Int64"
    lines = table[["outcome", "visit_month", "n_used"]].to_csv(index=False).splitlines()
    assert "hba1c,1,3" in lines
    assert "leptin,2," in lines


def test_primary_and_sensitivity_equal_scipy(sim):
    m = sim.measurements
    table = compare_to_baseline(m, outcomes=["insulin_dose"], n_boot=300, seed=1)
    for visit in (1, 2, 3):
        pairs = _pairs(m, "insulin_dose", visit)
        rows = table[table["visit_month"] == visit].set_index("analysis")
        assert rows.loc["primary", "n"] == len(pairs) == (39 if visit == 2 else 40)
        assert rows.loc["primary", "p_val"] == pytest.approx(
            stats.ttest_rel(pairs["after"], pairs["before"]).pvalue
        )
        d = (pairs["after"] - pairs["before"]).round(1)  # recorded to tenths: ties are ties
        ties_or_zeros = (d == 0).any() or d.abs().duplicated().any()
        expected = stats.wilcoxon(
            d, method="approx" if ties_or_zeros else "exact", correction=bool(ties_or_zeros)
        ).pvalue
        assert rows.loc["sensitivity", "p_val"] == pytest.approx(expected)


def test_effect_sizes_and_change_intervals_agree_with_pingouin(sim):
    m = sim.measurements
    pairs = _pairs(m, "hba1c", 1)
    row = compare_to_baseline(m, outcomes=["hba1c"], visits=[1], sensitivity=None).iloc[0]
    b, a = pairs["before"], pairs["after"]
    n = len(pairs)
    # Hedges g_av as pingouin documents it: d_av with the small-sample factor J
    d_av = (a.mean() - b.mean()) / np.sqrt((a.var() + b.var()) / 2)
    j = 1 - 3 / (4 * (2 * n) - 9)
    assert row["effect"] == pytest.approx(d_av * j, rel=1e-6)
    ci = pg.ttest(a, b, paired=True)["CI95"].iloc[0]
    assert row["change_ci_low"] == pytest.approx(ci[0], abs=0.006)
    assert row["change_ci_high"] == pytest.approx(ci[1], abs=0.006)


def test_rank_biserial_agrees_with_pingouin(sim):
    pairs = _pairs(sim.measurements, "leptin", 1)
    ours = rank_biserial(pairs["before"].to_numpy(), pairs["after"].to_numpy())
    theirs = pg.wilcoxon(pairs["after"], pairs["before"])["RBC"].iloc[0]
    assert ours == pytest.approx(theirs)


@st.composite
def _paired_samples(draw):
    """Samples of n pairs, each on its own grid: whole units, tenths, hundredths or thirds
    (on no grid), with many zero and tied differences; a row may also be all zeros."""
    n = draw(st.integers(1, 9))
    rows = draw(st.integers(1, 12))
    before, after = [], []
    for _ in range(rows):
        step = draw(st.sampled_from([1.0, 10.0, 100.0, 1 / 3]))
        b = np.array(draw(st.lists(st.integers(-30, 300), min_size=n, max_size=n)), float)
        change = np.array(draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n)), float)
        if step == 1 / 3:
            before.append(b / 3)
            after.append((b + change) / 3)
        else:
            before.append(b / step)
            after.append((b + change) / step)
    return np.array(before), np.array(after)


def _rank_biserial_by_hand(before: np.ndarray, after: np.ndarray) -> float:
    """The definition on one sample: differences rounded to the sample's recording precision,
    zeros dropped, (W+ - W-) / (W+ + W-) from scipy's ranks of the rest."""
    b, a = np.asarray(before, float), np.asarray(after, float)
    d = round_to_recording(a - b, np.concatenate([b, a]))
    d = d[d != 0]
    if len(d) == 0:
        return np.nan
    ranks = stats.rankdata(np.abs(d))
    return float((ranks[d > 0].sum() - ranks[d < 0].sum()) / ranks.sum())


@pytest.mark.slow
@settings(max_examples=examples(200), deadline=None)
@given(_paired_samples())
def test_rank_biserial_along_is_rank_biserial_of_each_sample(samples):
    before, after = samples
    expected = np.array([_rank_biserial_by_hand(b, a) for b, a in zip(before, after, strict=True)])
    assert [rank_biserial(b, a) for b, a in zip(before, after, strict=True)] == pytest.approx(
        expected.tolist(), abs=0, nan_ok=True
    )
    got = rank_biserial_along(before, after)
    np.testing.assert_array_equal(got, expected)  # exact, NaN where every difference is zero
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))
    # the pairs along another axis of a 3-D array: the same values, in that shape
    cube_b, cube_a = np.stack([before.T, before.T]), np.stack([after.T, after.T])
    np.testing.assert_array_equal(rank_biserial_along(cube_b, cube_a, axis=1), [got, got])
    # each row's differences rounded to the precision of that row's own values
    by_row = round_to_recording_by_row(after - before, np.concatenate([before, after], axis=1))
    for row, b, a in zip(by_row, before, after, strict=True):
        np.testing.assert_array_equal(row, round_to_recording(a - b, np.concatenate([b, a])))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (np.zeros((2, 0)), np.zeros((2, 0))),  # no pairs: NaN
        ([[1e303, 2e303]], [[2e303, 1e303]]),  # whole numbers near the largest float
        ([[1.0, 2.0, 3.0], [1.5, 2.5, 3.5]], [2.0, 4.0, 2.5]),  # broadcast: one after for both
    ],
)
def test_rank_biserial_along_at_the_edges(before, after):
    """Each as the definition gives it, with no warning (warnings are errors here)."""
    b, a = np.broadcast_arrays(np.asarray(before, float), np.asarray(after, float))
    expected = [_rank_biserial_by_hand(row_b, row_a) for row_b, row_a in zip(b, a, strict=True)]
    np.testing.assert_array_equal(rank_biserial_along(before, after), expected)


@pytest.mark.parametrize(
    ("after", "all_zero"),
    [
        # five of seven pairs unchanged: resamples without the first pair hold whole numbers
        # only (rounded to whole units, as the definition rounds them one at a time), and
        # about one in ten holds unchanged pairs only (r is NaN, and so is the interval)
        ([7.0, 8.0, 9.0, 6.0, 7.0, 10.0, 9.0], True),
        # tenths, ties and one zero
        ([7.0, 8.5, 8.6, 6.0, 8.0, 9.0, 9.3], False),
    ],
)
def test_rank_biserial_bootstrap_is_the_same_one_resample_at_a_time_or_all_at_once(after, all_zero):
    before = np.array([7.5, 8.0, 9.0, 6.0, 7.5, 10.0, 8.0])
    kwargs = {"paired": True, "method": "per", "n_boot": 500, "seed": 3, "return_dist": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)  # a NaN interval
        one, one_dist = pg.compute_bootci(before, after, func=_rank_biserial_by_hand, **kwargs)
        every, every_dist = pg.compute_bootci(before, after, func=rank_biserial_along, **kwargs)
    np.testing.assert_array_equal(every_dist, one_dist)
    np.testing.assert_array_equal(every, one)
    assert np.isnan(one_dist).any() == all_zero
    assert np.isnan(one).any() == all_zero


def test_bootstrap_intervals_are_seeded(sim):
    kwargs = {
        "outcomes": ["leptin"],
        "visits": [1],
        "primary": "wilcoxon_r",
        "sensitivity": None,
        "n_boot": 300,
    }
    first = compare_to_baseline(sim.measurements, seed=5, **kwargs)
    again = compare_to_baseline(sim.measurements, seed=5, **kwargs)
    other = compare_to_baseline(sim.measurements, seed=6, **kwargs)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


@pytest.mark.slow
def test_holm_agrees_with_pingouin_and_statsmodels():
    t = pd.DataFrame(
        {
            "analysis": ["primary"] * 4 + ["sensitivity"] * 2,
            "p_val": [0.01, 0.04, 0.03, np.nan, 0.2, 0.01],
        }
    )
    out = adjust_pvalues(t, method="holm", family="tested")
    _, expected = pg.multicomp([0.01, 0.04, 0.03], method="holm")
    assert out["p_adj"].iloc[:3].tolist() == pytest.approx(list(expected))
    from statsmodels.stats.multitest import multipletests  # the other implementation

    assert out["p_adj"].iloc[:3].tolist() == pytest.approx(
        list(multipletests([0.01, 0.04, 0.03], method="holm")[1])
    )
    assert out["p_adj"].iloc[:3].tolist() == pytest.approx([0.03, 0.06, 0.06])  # by hand
    assert np.isnan(out["p_adj"].iloc[3])
    # the planned family counts the comparison without data as a fourth, not rejected
    _, planned = pg.multicomp([0.01, 0.04, 0.03, 1.0], method="holm")
    assert adjust_pvalues(t)["p_adj"].iloc[:3].tolist() == pytest.approx(list(planned[:3]))
    assert out["p_adj"].iloc[4:].tolist() == pytest.approx([0.2, 0.02])
    assert adjust_pvalues(t, method="none")["p_adj"].iloc[0] == 0.01
    with pytest.raises(ValueError, match="method must be one of"):
        adjust_pvalues(t, method="tukey")


def test_omnibus_agrees_with_scipy_pingouin_and_statsmodels(sim):
    m = sim.measurements
    table = omnibus_tests(m, outcomes=["gad_ab"]).set_index("method")
    assert table.loc["friedman", "n_patients"] == 39  # S01 misses month 2
    assert table.loc["rm_anova", "n_values"] == 39 * 4
    wide = (
        m[m["outcome"] == "gad_ab"]
        .pivot(index="patient_id", columns="visit_month", values="value")
        .dropna()
    )
    fr = stats.friedmanchisquare(*[wide[c] for c in wide.columns])
    assert table.loc["friedman", "p_val"] == pytest.approx(fr.pvalue)
    long = wide.reset_index().melt(id_vars="patient_id", var_name="visit_month", value_name="value")
    # the other implementation: pingouin's Friedman (chi-square, tie-corrected)
    pgf = pg.friedman(long, dv="value", within="visit_month", subject="patient_id")
    assert table.loc["friedman", "p_val"] == pytest.approx(pgf["p_unc"].iloc[0], rel=1e-9)
    assert table.loc["friedman", "statistic"] == pytest.approx(pgf["Q"].iloc[0], rel=1e-9)
    assert table.loc["friedman", "df1"] == 3
    sm = AnovaRM(long, "value", "patient_id", within=["visit_month"]).fit().anova_table
    assert table.loc["rm_anova", "statistic"] == pytest.approx(sm["F Value"].iloc[0])
    assert 0 < table.loc["rm_anova", "epsilon"] <= 1
    assert not np.isnan(table.loc["rm_anova", "p_gg"])


def test_two_visit_anova_is_the_squared_paired_t():
    c = load_cohort(STANDIN, study=STUDY)
    aov = (
        omnibus_tests(c.measurements, outcomes=["insulin_dose"]).set_index("method").loc["rm_anova"]
    )
    pairs = _pairs(c.measurements, "insulin_dose", 1)
    t = stats.ttest_rel(pairs["after"], pairs["before"]).statistic
    assert aov["statistic"] == pytest.approx(t**2)


@pytest.mark.slow
def test_mixed_model_keeps_patients_with_missing_visits(sim):
    mm = mixed_model(sim.measurements, outcomes=["hba1c"]).set_index("visit_month")
    assert (mm["n_patients"] == 40).all()
    assert (mm["n_values"] == 159).all()
    assert mm["converged"].all()


def test_mixed_model_on_complete_data_estimates_mean_differences():
    c = simulate_cohort(15, study=STUDY, seed=3)
    mm = mixed_model(c.measurements, outcomes=["leptin"]).set_index("visit_month")
    m = c.measurements[c.measurements["outcome"] == "leptin"]
    means = m.groupby("visit_month")["value"].mean()
    for visit in (1, 2, 3):
        assert mm.loc[visit, "estimate"] == pytest.approx(means[visit] - means[0])
        assert mm.loc[visit, "ci_low"] < mm.loc[visit, "estimate"] < mm.loc[visit, "ci_high"]


def test_too_little_data_is_said_not_raised():
    m = pd.DataFrame(
        {
            "patient_id": ["a", "a"],
            "visit_month": [0, 1],
            "outcome": ["hba1c"] * 2,
            "value": [9.0, 8.0],
        }
    )
    cmp = compare_to_baseline(m, outcomes=["hba1c"], visits=[1, 2])
    assert cmp["p_val"].isna().all()
    assert (cmp["n"] <= 1).all()
    assert comparison_table(adjust_pvalues(cmp)).empty
    assert untested_comparisons(cmp, study=STUDY).startswith("Not compared with month 0")
    assert omnibus_tests(m, outcomes=["hba1c"])["note"].str.contains("at least two").all()
    assert mixed_model(m, outcomes=["hba1c"])["note"].str.contains("at least three").all()
    assert "could be made" in summarise_comparisons(adjust_pvalues(cmp), alpha=0.05, method="holm")


def test_visit_means_ci_uses_t():
    c = simulate_cohort(10, study=STUDY, seed=2)
    row = visit_means_ci(c.measurements, outcomes=["hba1c"], visits=[0]).iloc[0]
    values = c.measurements.query("outcome == 'hba1c' and visit_month == 0")["value"]
    ci = stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(ci)


def test_idaa1c_with_and_without_weight():
    c = simulate_cohort(6, study=STUDY, outcomes=["insulin_dose", "hba1c"], seed=4)
    table, reason = idaa1c(c.measurements, c.patients, study=STUDY)
    assert table is None
    assert "body weight is not in the data" in reason
    patients = c.patients.assign(weight_kg=[60.0, 70.0, 80.0, 90.0, 100.0, np.nan])
    table, reason = idaa1c(c.measurements, patients, study=STUDY)
    assert reason == ""
    assert set(table["patient_id"]) == {"S01", "S02", "S03", "S04", "S05"}
    first = table.iloc[0]
    ins = c.measurements.query(
        "patient_id == @first.patient_id and visit_month == @first.visit_month"
    )
    hba1c = ins.query("outcome == 'hba1c'")["value"].item()
    dose = ins.query("outcome == 'insulin_dose'")["value"].item()
    assert first["idaa1c"] == pytest.approx(hba1c + 4 * dose / 60.0)
    assert first["partial_remission"] == (first["idaa1c"] <= 9)


@pytest.mark.slow
def test_abstract_format_table_on_the_standin():
    t = abstract_format_table(
        load_cohort(STANDIN, study=STUDY),
        load_reported(REPORTED),
        outcomes=["insulin_dose", "hba1c", "leptin"],
        test="paired_t",
    )
    assert t["all_match"].eq(True).all()  # True, not missing (None would pass .all())
    assert t["reported_values"].str.contains("±").all()


def test_abstract_format_with_no_measurements_says_not_computed_not_no(tmp_path):
    """With the measurements file empty nothing is recomputed: 'All figures match' reads
    'not computed' for the reader, not 'no', and the CSV leaves it empty."""
    import shutil

    from helpers.readers import show

    shutil.copytree(STANDIN, tmp_path / "empty")
    (tmp_path / "empty" / "provenance.json").unlink()
    (tmp_path / "empty" / "measurements.csv").write_text("patient_id,visit_month,outcome,value\n")
    t = abstract_format_table(
        load_cohort(tmp_path / "empty", study=STUDY),
        load_reported(REPORTED),
        outcomes=["insulin_dose", "hba1c"],
        test="paired_t",
    )
    assert len(t) == 2
    assert t["all_match"].isna().all()
    assert (t["matching"] == 0).all()
    assert show(t, study=STUDY).frame["All figures match"].tolist() == ["not computed"] * 2


def test_simulated_cohort_is_valid_and_seeded(tmp_path):
    c = simulate_cohort(40, study=STUDY, missing=[("S01", 2)], seed=9)
    write_cohort(c, tmp_path)
    loaded = load_cohort(tmp_path, study=STUDY)
    assert len(loaded.patients) == 40
    assert len(loaded.measurements) == 40 * 4 * 5 - 5
    assert loaded.provenance["kind"] == "simulated"
    assert not loaded.is_reconstructed
    again = simulate_cohort(40, study=STUDY, missing=[("S01", 2)], seed=9)
    pd.testing.assert_frame_equal(c.measurements, again.measurements)
    with pytest.raises(ValueError, match="correlation"):
        simulate_cohort(5, study=STUDY, correlation=1.0)


def test_a_seed_gives_the_same_cohort_on_every_machine():
    """Values pinned as this machine drew them. NumPy's multivariate_normal factorised the
    covariance with LAPACK, whose eigenvectors differ between CPUs: the same seed gave
    another cohort on an AMD than on an Intel machine. The explicit draw has no LAPACK."""
    c = simulate_cohort(3, study=STUDY, outcomes=["hba1c", "leptin"], visits=[0, 3], seed=1)
    m = c.measurements
    assert m["value"].tolist() == [9.1, 8.3, 10.9, 9.1, 10.0, 9.1, 8.0, 14.0, 7.8, 12.3, 9.3, 13.8]
    assert m["outcome"].tolist() == ["hba1c"] * 6 + ["leptin"] * 6
    assert m["visit_month"].tolist() == [0, 3] * 6


@pytest.mark.slow
def test_simulated_visits_have_the_profile_sd_and_the_correlation_asked_for():
    """Compound symmetry: every pair of visits correlates at r, and each visit has the
    profile's SD around the baseline mean plus its change (month 3 keeps month 2's)."""
    n, r = 20_000, 0.55
    profile = SimulationProfile(mean=75.0, sd=10.0, change={1: 5.0, 2: -3.0})
    m = simulate_cohort(
        n, study=STUDY, outcomes=["leptin"], profiles={"leptin": profile}, correlation=r, seed=3
    ).measurements
    wide = m.pivot(index="patient_id", columns="visit_month", values="value").to_numpy()
    corr = np.corrcoef(wide, rowvar=False)
    off = corr[~np.eye(len(corr), dtype=bool)]
    assert np.abs(off - r).max() < 4 * (1 - r**2) / np.sqrt(n)
    assert np.abs(wide.std(axis=0, ddof=1) / profile.sd - 1).max() < 4 / np.sqrt(2 * n)
    np.testing.assert_allclose(
        wide.mean(axis=0), [75.0, 80.0, 72.0, 72.0], atol=4 * profile.sd / np.sqrt(n)
    )


def test_derived_outcomes_are_not_measured_outcomes():
    derived = {d.code for d in STUDY.derived}
    assert derived
    assert not derived & set(STUDY.outcome_codes)
    with pytest.raises(ValueError, match="derived"):
        STUDY.measured("hba1c_mmol_mol")


# Moved from runner runs of notebook 02: the same helper calls the notebook makes
# (cells "comparisons", "omnibus" and "mixed model"), checked without a kernel.


@pytest.mark.slow
def test_other_primary_test_equals_scipy_on_the_standin():
    from helpers.outcomes import compare_to_baseline

    from conftest import STANDIN

    m = load_cohort(STANDIN, study=STUDY).measurements
    table = compare_to_baseline(m, primary="wilcoxon_r", n_boot=200, seed=1)
    primary = table[(table["analysis"] == "primary") & table["p_val"].notna()]
    assert set(primary["test"]) == {"wilcoxon_r"}
    assert len(primary) >= 3  # the loop below must check something
    for r in primary.itertuples():
        sub = m[m["outcome"] == r.outcome].pivot(
            index="patient_id", columns="visit_month", values="value"
        )
        d = (sub[r.visit_month] - sub[0]).dropna()
        tied = (d == 0).any() or d.abs().duplicated().any()
        expected = stats.wilcoxon(d, method="approx" if tied else "exact", correction=tied)
        assert r.p_val == pytest.approx(expected.pvalue, rel=1e-12)


@pytest.mark.slow
def test_forty_simulated_patients_with_a_missing_visit_are_counted_per_analysis():
    from helpers.outcomes import compare_to_baseline, mixed_model, omnibus_tests
    from helpers.simulate import simulate_cohort

    cohort = simulate_cohort(40, study=STUDY, missing=[("S07", 2)], seed=40)
    outcomes = STUDY.analysis_plan(role="efficacy")[0]
    m = cohort.measurements
    comparisons = compare_to_baseline(m, outcomes=outcomes, n_boot=200, seed=1)
    n_by_visit = comparisons.groupby("visit_month")["n"].unique().to_dict()
    assert {v: list(n) for v, n in n_by_visit.items()} == {1: [40], 2: [39], 3: [40]}
    omnibus = omnibus_tests(m, outcomes=outcomes)
    assert (omnibus["n_patients"] == 39).all()  # complete cases only
    assert (omnibus["n_values"] == 39 * 4).all()
    mixed = mixed_model(m, outcomes=outcomes)
    assert (mixed["n_patients"] == 40).all()  # every value, the missing visit left out
    assert (mixed["n_values"] == 159).all()
    assert "SIMULATED DATA" in cohort.source_statement()


# Large-sample intervals used above BOOTSTRAP_UP_TO pairs (the 100,000-patient scale).


def _structural_components_by_hand(before, after):
    from helpers.precision import round_to_recording

    d = round_to_recording(np.asarray(after) - before, np.concatenate([before, after]))
    d = [x for x in d if x != 0]
    m = len(d)
    h = [
        sum(1.0 if x + y > 0 else 0.5 if x + y == 0 else 0.0 for y in d) / m for x in d
    ]  # O(m²), straight from the definition
    return m, h


def test_rank_biserial_interval_uses_the_u_statistic_variance_by_hand():
    from helpers.outcomes import rank_biserial, rank_biserial_ci

    before = np.array([5.0, 6.0, 7.0, 5.5, 6.5, 8.0, 7.5, 6.0, 5.0, 9.0, 4.5, 6.0])
    after = np.array([6.0, 6.0, 8.5, 5.0, 7.5, 9.5, 7.5, 7.0, 4.0, 10.5, 6.0, 5.0])  # zeros, ties
    m, h = _structural_components_by_hand(before, after)
    r = rank_biserial(before, after)
    half = stats.norm.ppf(0.95) * 4 * np.sqrt(np.var(h, ddof=1) / m)
    assert rank_biserial_ci(before, after, ci_level=0.90) == pytest.approx(
        (max(r - half, -1), min(r + half, 1)), abs=1e-12
    )


@pytest.mark.slow
@pytest.mark.parametrize(("n", "shift"), [(2000, 0.1), (2000, 0.5)])
def test_large_sample_intervals_agree_with_the_percentile_bootstrap(n, shift):
    from helpers.outcomes import median_ci, rank_biserial_ci

    rng = np.random.default_rng(n + int(10 * shift))
    b = np.round(rng.normal(10, 2, size=n), 1)
    a = np.round(b + shift + rng.normal(0, 1, size=n), 1)
    boot = pg.compute_bootci(
        b, a, func=rank_biserial_along, paired=True, method="per", n_boot=2000, seed=1, decimals=10
    )
    assert rank_biserial_ci(b, a, ci_level=0.95) == pytest.approx(tuple(boot), abs=0.01)
    d = np.round(a - b, 1)
    assert median_ci(d, ci_level=0.95) == pytest.approx(
        tuple(pg.compute_bootci(d, func=np.median, method="per", n_boot=2000, seed=1)), abs=0.11
    )  # one recording step


@pytest.mark.parametrize("n", [6, 7, 25, 100, 101])
def test_median_interval_is_the_binomial_order_statistic_interval(n):
    from helpers.outcomes import median_ci

    values = np.arange(1.0, n + 1.0)  # the k-th smallest value is k
    low, high = median_ci(values[::-1], ci_level=0.95)
    if np.isnan(low):
        assert stats.binom.cdf(0, n, 0.5) > 0.025  # even the extremes cannot reach 95%
        return
    k = int(low)  # the k-th order statistic: k - 1 values lie below it
    assert high == n + 1 - k
    assert stats.binom.cdf(k - 1, n, 0.5) <= 0.025 < stats.binom.cdf(k, n, 0.5)


def test_above_the_bootstrap_limit_compare_to_baseline_names_the_large_sample_intervals(
    monkeypatch,
):
    from helpers import outcomes as ho
    from helpers.simulate import simulate_cohort

    monkeypatch.setattr(ho, "BOOTSTRAP_UP_TO", 10)
    m = simulate_cohort(40, study=STUDY, seed=3).measurements
    table = ho.compare_to_baseline(m, outcomes=["hba1c"], primary="wilcoxon_r")
    primary = table[table["analysis"] == "primary"]
    assert set(primary["effect_measure"]) == {"rank_biserial_normal"}
    assert set(primary["change_measure"]) == {"median change (order statistics)"}
    for r in primary.itertuples():
        b, a = (
            m[(m["outcome"] == "hba1c") & (m["visit_month"] == v)]
            .set_index("patient_id")["value"]
            .sort_index()
            .to_numpy()
            for v in (0, r.visit_month)
        )
        assert (r.effect_ci_low, r.effect_ci_high) == ho.rank_biserial_ci(b, a, ci_level=0.95)
    assert "U-statistic" in ho.EFFECT_NAMES["rank_biserial_normal"]


def test_follow_up_pairs_goes_outcome_by_outcome_in_the_order_asked():
    """Outcomes in the order given (not alphabetical), baseline skipped, each outcome's own
    visits when none are named, and the pairs outcome_pairs gives on the whole table."""
    from helpers.outcomes import follow_up_pairs, outcome_pairs

    m = pd.DataFrame(
        {
            "patient_id": ["a", "a", "b", "b", "a", "a", "b"],
            "visit_month": [0, 2, 0, 2, 0, 1, 1],
            "outcome": ["leptin"] * 4 + ["hba1c"] * 3,
            "value": [5.0, 6.0, 7.0, 6.5, 9.0, 8.5, 9.9],
        }
    )
    got = [(o, v, p) for o, v, p in follow_up_pairs(m, outcomes=["leptin", "hba1c"],
                                                   visits=None, baseline=0)]  # fmt: skip
    assert [(o, v, len(p)) for o, v, p in got] == [("leptin", 2, 2), ("hba1c", 1, 1)]
    for o, v, p in got:
        pd.testing.assert_frame_equal(p, outcome_pairs(m, outcome=o, visit=v, baseline=0))
    named = follow_up_pairs(m, outcomes=["hba1c"], visits=[0, 2, 1], baseline=0)
    assert [(o, v, len(p)) for o, v, p in named] == [("hba1c", 2, 0), ("hba1c", 1, 1)]


def test_r_s_default_wilcoxon_names_the_test_it_ran():
    """wilcoxon_r runs the exact test without ties or zeros and the normal approximation with
    continuity correction with them (R's wilcox.test); the table records which (method) and
    readers see that test's name, p checked against SciPy's own choice of each."""
    from scipy import stats as sps

    from helpers.stats import PAIRED_TESTS

    rows = []
    for pid, (b, a) in enumerate([(10, 13), (11, 15), (9, 8), (12, 17), (10, 16), (13, 20)]):
        rows += [(f"P{pid}", 0, "x", b), (f"P{pid}", 1, "x", a)]
    clean = pd.DataFrame(rows, columns=["patient_id", "visit_month", "outcome", "value"])
    tied = clean.copy()
    tied.loc[(tied["patient_id"] == "P1") & (tied["visit_month"] == 1), "value"] = 14  # |d| 3 twice
    for data, method, scipy_options in (
        (clean, "wilcoxon_exact", {"method": "exact"}),
        (tied, "wilcoxon_asymptotic_cc", {"method": "approx", "correction": True}),
    ):
        table = compare_to_baseline(data, outcomes=["x"], primary="wilcoxon_r",
                                    sensitivity=None, n_boot=200)  # fmt: skip
        assert table["method"].tolist() == [method]
        wide = data.pivot(index="patient_id", columns="visit_month", values="value")
        expected = sps.wilcoxon(wide[1] - wide[0], **scipy_options).pvalue
        assert table["p_val"].item() == pytest.approx(expected, rel=1e-12)
        shown = comparison_table(table.assign(p_adj=table["p_val"], family="x"))
        assert shown["test"].tolist() == [f"{PAIRED_TESTS[method]} (R's default for these data)"]


def test_bootstrap_intervals_state_their_resamples_and_only_they():
    """The table says how many resamples a percentile bootstrap drew; t and large-sample
    intervals say nothing of resamples."""
    cohort = load_cohort("data/standin", study=STUDY)
    raw = compare_to_baseline(
        cohort.measurements, outcomes=["hba1c", "leptin"], visits=[1], n_boot=1234
    )
    shown = comparison_table(raw, study=STUDY).reset_index()
    by_analysis = dict(zip(shown["analysis"], shown["effect size (95% CI)"], strict=False))
    assert raw["n_boot"].dtype == "Int64"
    assert raw[raw["analysis"] == "primary"]["n_boot"].isna().all()
    assert (raw[raw["analysis"] == "sensitivity"]["n_boot"] == 1234).all()
    # from BOOTSTRAP_UP_TO pairs on, large-sample intervals: no resamples to state
    large = comparison_table(raw.assign(n_boot=pd.NA, effect_measure="rank_biserial_normal"))
    assert not large["effect size (95% CI)"].str.contains("resamples").any()
    for row in shown.to_dict("records"):
        bootstrap = row["analysis"] == "sensitivity"
        for column in ("effect size (95% CI)", "change (95% CI)"):
            assert ("percentile bootstrap CI of 1234 resamples: " in row[column]) is bootstrap
            assert ("resamples" in row[column]) is bootstrap
    assert "Algina & Keselman" in by_analysis["primary"]
