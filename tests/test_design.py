"""Notebook 05's design helpers: sample sizes, power and simulation, checked other ways.

Reference values:
- Cohen (1988), Statistical Power Analysis, tables 2.4.1: d = 0.5, α = 0.05 two-sided,
  power 0.8 needs 64 per group (two samples) and 34 pairs (one sample / paired, 33.4).
  The same from R: power.t.test(delta = 0.5, sd = 1, power = 0.8)$n = 63.76576;
  power.t.test(delta = 0.5, sd = 1, power = 0.8, type = "paired")$n = 33.36713.
- pingouin's power_ttest, a second implementation.
- The simulated trials analysed one at a time with pingouin (ttest, wilcoxon, ancova, mwu).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats
from studydef import STUDY

from helpers import design as hdes

from recompute import TRICKY_OUTCOMES, grouped, tricky_cohort

PROJECT_NB05 = Path(__file__).resolve().parents[1] / "notebooks" / "05_follow_up_design.ipynb"


def _ancova_power_by_quad(
    d: float, n: int, alpha: float = 0.05, *, df: int | None = None, a: float | None = None
) -> float:
    """Shieh's (2020) exact ANCOVA power by another path: SciPy's adaptive quad over the
    Beta((2n - 2)/2, 1/2) density of the within-arm share of the baseline variation, as
    published, where the helpers use fixed Gauss-Legendre nodes after a change of variable.
    ``df`` (default 2n - 3) and ``a`` (the Beta's first parameter, default n - 1) give the
    same formula with another df or Beta, for tests that must tell them apart."""
    from scipy import integrate, special

    df = 2 * n - 3 if df is None else df
    a = n - 1 if a is None else a
    crit = stats.t.isf(alpha / 2, df)

    def given(b: float) -> float:  # times b^(a-1) / beta(a, 1/2): the Beta density
        nc = abs(d) * math.sqrt(n / 2) * math.sqrt(b)
        power = stats.nct.sf(crit, df, nc) + np.nan_to_num(stats.nct.cdf(-crit, df, nc))
        return power * math.exp((a - 1) * math.log(b) - special.betaln(a, 0.5))

    # the density's (1 - b)^(-1/2) is quad's algebraic weight, integrated exactly
    return integrate.quad(given, 0, 1, weight="alg", wvar=(0, -0.5), limit=400)[0]


def test_sample_sizes_meet_the_textbook_and_r_values():
    # the two-sample t-test's 63.77 per arm (Cohen) is ANCOVA's large-sample form; ANCOVA's
    # exact n is the smallest reaching the target by the independent integral
    assert hdes.sample_size(0.5, design="two_arm") == 65
    assert _ancova_power_by_quad(0.5, 65) >= 0.8 > _ancova_power_by_quad(0.5, 64)
    assert hdes.sample_size(0.5, design="single_arm") == pytest.approx(33.36713, abs=1e-3)
    assert hdes.sample_size(-0.5, design="single_arm") == hdes.sample_size(0.5, design="single_arm")
    assert math.isnan(hdes.sample_size(0.0, design="two_arm"))
    assert math.isnan(hdes.sample_size(float("nan"), design="two_arm"))


@pytest.mark.parametrize("d", [0.3, 0.5, 0.8, 1.2, 2.0])
@pytest.mark.parametrize("power", [0.8, 0.9])
def test_sample_sizes_agree_with_pingouin(d, power):
    """The single arm's n is pingouin's; the two arms' ANCOVA n is the smallest whose power
    (the independent integral) reaches the target, at or above the two-sample t-test's."""
    paired = pg.power_ttest(d=d, power=power, alpha=0.05, contrast="paired")
    two = pg.power_ttest(d=d, power=power, alpha=0.05, contrast="two-samples")
    assert hdes.sample_size(d, design="single_arm", power=power) == pytest.approx(paired, rel=1e-4)
    n = hdes.sample_size(d, design="two_arm", power=power)
    assert n == int(n) >= math.ceil(two - 1e-6)
    assert _ancova_power_by_quad(d, int(n)) >= power
    assert n <= 3 or _ancova_power_by_quad(d, int(n) - 1) < power


def test_wilcoxon_divides_by_its_efficiency_and_dropout_inflates_enrolment():
    t = hdes.sample_size(0.5, design="single_arm")
    w = hdes.sample_size(0.5, design="single_arm", test="wilcoxon")
    assert w == pytest.approx(t * math.pi / 3)
    e = pd.DataFrame({"d_paired": [0.5, float("nan")], "d_ancova": [0.8, 0.5]})
    s = hdes.sample_sizes(e, dropout=0.15, test="wilcoxon")
    n1 = math.ceil(t * math.pi / 3)
    assert s["n_single_arm"].tolist()[0] == n1
    assert s["enrol_single_arm"].tolist()[0] == math.ceil(n1 / 0.85)
    assert pd.isna(s["n_single_arm"].iloc[1])
    assert pd.isna(s["enrol_single_arm"].iloc[1])
    # the rank-sum test on change: the two-sample t-test's n on the change (d_paired), over ARE
    two = pg.power_ttest(d=0.5, power=0.8, alpha=0.05, contrast="two-samples")
    n2 = math.ceil(two * math.pi / 3)
    assert pd.isna(s["n_per_arm"].iloc[1])  # no d_paired: no size, whatever d_ancova says
    assert s["enrol_two_arm"].tolist()[0] == 2 * math.ceil(n2 / 0.85)
    with pytest.raises(ValueError, match="dropout"):
        hdes.sample_sizes(e, dropout=1.0)
    with pytest.raises(ValueError, match="test must be"):
        hdes.sample_size(0.5, design="two_arm", test="sign")


@pytest.fixture(scope="module")
def m():
    return tricky_cohort().measurements


def test_planning_inputs_recomputed_by_hand(m):
    """Latest follow-up visit with >= 3 pairs, by a direct pivot: missing visits, odd order."""
    inputs = hdes.planning_inputs(m, outcomes=TRICKY_OUTCOMES, visits=[0, 1, 2, 3], baseline=0)
    assert inputs["outcome"].tolist() == TRICKY_OUTCOMES
    for r in inputs.itertuples():
        wide = m[m["outcome"] == r.outcome].pivot(
            index="patient_id", columns="visit_month", values="value"
        )
        usable = [v for v in (3, 2, 1) if v in wide and wide[[0, v]].dropna().shape[0] >= 3]
        assert r.visit_month == usable[0]
        pair = wide[[0, r.visit_month]].dropna()
        d = pair[r.visit_month] - pair[0]
        assert r.n == len(d)
        assert r.mean_change == pytest.approx(d.mean())
        assert r.sd_change == pytest.approx(d.std())
        half = stats.t.ppf(0.975, len(d) - 1) * d.std() / math.sqrt(len(d))
        assert (r.ci_low, r.ci_high) == pytest.approx((d.mean() - half, d.mean() + half))
        assert r.r == pytest.approx(stats.pearsonr(pair[0], pair[r.visit_month])[0])


def test_planning_effects_by_hand():
    inputs = pd.DataFrame(
        {
            "outcome": ["b", "a", "c"],
            "visit_month": pd.array([3, 1, pd.NA], dtype="Int64"),
            "n": [7, 7, 0],
            "mean_change": [2.0, -1.0, np.nan],
            "sd_change": [2.0, 1.0, np.nan],
            "ci_low": [0.5, -1.5, np.nan],  # b: interval above zero; a: below
            "ci_high": [3.5, 0.4, np.nan],  # a crosses zero
            "sd_baseline": [3.0, 1.0, np.nan],
            "sd_followup": [4.0, 1.0, np.nan],
            "r": [0.6, -0.5, np.nan],
        }
    )
    e = hdes.planning_effects(inputs).set_index(["outcome", "basis"])
    assert "c" not in e.index.get_level_values(0)  # no data: no effects
    assert e.loc[("b", "observed"), "effect"] == 2.0
    assert e.loc[("b", "half"), "effect"] == 1.0
    assert e.loc[("b", "ci_bound"), "effect"] == 0.5
    assert math.isnan(e.loc[("a", "ci_bound"), "effect"])
    assert "includes zero (no change)" in e.loc[("a", "ci_bound"), "note"]
    # ANCOVA's residual SD: the follow-up SD (4) times sqrt(1 - r^2); the baseline SD drops out
    assert e.loc[("b", "observed"), "d_ancova"] == pytest.approx(2.0 / (4.0 * math.sqrt(0.64)))
    assert e.loc[("a", "half"), "d_paired"] == pytest.approx(-0.5)
    assert e.loc[("a", "half"), "d_ancova"] == pytest.approx(-0.5 / math.sqrt(0.75))


@pytest.mark.slow
@pytest.mark.parametrize("design", ["single_arm", "two_arm"])
@pytest.mark.parametrize("test", ["t", "wilcoxon"])
def test_vectorised_p_values_equal_pingouin_trial_by_trial(design, test):
    kw = dict(design=design, n=9, effect=0.7, sd=1.3, r=0.4, seed=11, sd_baseline=0.6)
    _, loop = hdes.simulate_power_loop(test=test, n_sims=60, **kw)
    draw = hdes._draw(np.random.default_rng(11), design=design, n=9, sims=60,
                      effect=0.7, sd=1.3, r=0.4, sd_baseline=0.6)  # fmt: skip
    vector = hdes._p_values(draw, design=design, test=test)
    np.testing.assert_allclose(vector, loop, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("n", "r", "sd_baseline"),
    [(2, 0.3, 1.0), (30, 0.5, 0.1), (30, -0.99, 3.0), (12, 0.9999999, 1.0)],
)
def test_closed_form_ancova_is_statsmodels_ols_trial_by_trial(n, r, sd_baseline):
    """The arm coefficient's p in follow-up ~ 1 + arm + baseline, fitted by statsmodels' OLS
    trial by trial: two patients per arm (1 df), a baseline SD far from the follow-up's, and
    correlations near -1 and 1, where Syy - b Sxy would cancel to a negative variance."""
    import statsmodels.api as sm

    draw = hdes._draw(np.random.default_rng(4), design="two_arm", n=n, sims=40, effect=0.4,
                      sd=1.0, r=r, sd_baseline=sd_baseline)  # fmt: skip
    base_c, follow_c, base_t, follow_t = draw
    arm = np.r_[np.zeros(n), np.ones(n)]
    by_ols = [
        sm.OLS(np.r_[follow_c[i], follow_t[i]],
               np.column_stack([np.ones(2 * n), arm, np.r_[base_c[i], base_t[i]]])).fit().pvalues[1]
        for i in range(40)
    ]  # fmt: skip
    np.testing.assert_allclose(hdes._p_ancova(*draw), by_ols, rtol=1e-6)


def test_ancova_simulation_at_the_edges():
    """r = 1: the follow-up is the baseline plus the effect, with no residual, so every trial
    finds it (no NaN from a variance below zero); a baseline without spread leaves the baseline
    slope undefined and is refused."""
    with np.errstate(divide="ignore"):
        power, _ = hdes.simulate_power(design="two_arm", n=10, effect=0.3, sd=1.0, r=1.0,
                                       n_sims=200)  # fmt: skip
    assert power == 1.0
    with pytest.raises(ValueError, match="sd_baseline must be a positive number"):
        hdes.simulate_power(design="two_arm", n=10, effect=0.3, sd=1.0, sd_baseline=0.0)


def test_two_arm_draws_have_the_baseline_and_follow_up_sds_and_correlation_asked_for():
    """Moments of a large draw against the values asked for, and ANCOVA's simulated power
    against the analytic power on the follow-up SD: the baseline SD must not matter."""
    rng = np.random.default_rng(3)
    base_c, follow_c, *_ = hdes._draw(rng, design="two_arm", n=50, sims=400, effect=0.0,
                                      sd=2.0, r=-0.3, sd_baseline=0.5)  # fmt: skip
    assert base_c.std() == pytest.approx(0.5, rel=0.02)
    assert follow_c.std() == pytest.approx(2.0, rel=0.02)
    assert np.corrcoef(base_c.ravel(), follow_c.ravel())[0, 1] == pytest.approx(-0.3, abs=0.01)
    d = 1.0 / (2.0 * math.sqrt(1 - 0.3**2))
    analytic = hdes.analytic_power(d, 20, design="two_arm")
    for sd0 in (0.5, 5.0):
        sim, se = hdes.simulate_power(design="two_arm", n=20, effect=1.0, sd=2.0, r=-0.3,
                                      sd_baseline=sd0, n_sims=4000, seed=8)  # fmt: skip
        assert abs(sim - analytic) < 4 * se + 0.01, (sd0, sim, analytic)


@pytest.mark.slow
def test_signed_rank_lookup_matches_scipy_for_every_statistic():
    n = 8
    table = hdes._signed_rank_table(n)
    assert len(table) == n * (n + 1) // 2 + 1
    rng = np.random.default_rng(5)
    d = rng.normal(0.3, 1, size=(300, n))
    expected = [stats.wilcoxon(row, method="exact").pvalue for row in d]
    np.testing.assert_allclose(hdes._p_signed_rank(d), expected, rtol=1e-12)
    assert set(np.round(table, 12)) >= {1.0}


@pytest.mark.parametrize(
    ("design", "n", "d"), [("single_arm", 10, 0.9), ("single_arm", 34, 0.5), ("two_arm", 64, 0.5)]
)
def test_simulated_power_meets_exact_analytic_power(design, n, d):
    """Paired and two-sample t (r = 0 keeps ANCOVA close to the t-test): within 4 MC SE."""
    sim, se = hdes.simulate_power(design=design, n=n, effect=d, sd=1.0, r=0.0, n_sims=20000,
                                  seed=2026)  # fmt: skip
    analytic = hdes.analytic_power(d, n, design=design)
    assert abs(sim - analytic) < 4 * se, (sim, analytic, se)


def test_simulated_ancova_power_meets_shieh_s_power_where_the_t_test_s_misses_it():
    """Nine patients per arm, r = 0.6, baseline SD unlike the follow-up's: 20,000 simulated
    ANCOVA trials land within 4 Monte Carlo SE of the exact power, and well away from the
    two-sample t-test's power at the same d (the large-sample form the sizes used before)."""
    from statsmodels.stats.power import TTestIndPower

    sd, r, effect, n = 2.0, 0.6, 1.6, 9
    d = effect / (sd * math.sqrt(1 - r * r))
    sim, se = hdes.simulate_power(design="two_arm", n=n, effect=effect, sd=sd, r=r,
                                  sd_baseline=0.7, n_sims=20000, seed=99)  # fmt: skip
    assert abs(sim - hdes.analytic_power(d, n, design="two_arm")) < 4 * se
    assert abs(sim - TTestIndPower().power(effect_size=d, nobs1=n, alpha=0.05)) > 4 * se


def test_ancova_s_exact_power_holds_at_three_per_arm_where_its_df_and_beta_matter():
    """40,000 simulated ANCOVA trials of 3 patients per arm (least squares, vectorised) meet
    the exact power; the same formula with 2n - 2 df, or with Beta(n, 1/2), would not."""
    n, d = 3, 2.0
    sim, se = hdes.simulate_power(design="two_arm", n=n, effect=d, sd=1.0, r=0.0,
                                  n_sims=40000, seed=5)  # fmt: skip
    exact = hdes.analytic_power(d, n, design="two_arm")
    assert abs(sim - exact) < 4 * se
    assert _ancova_power_by_quad(d, n) == pytest.approx(exact, abs=1e-7)
    for wrong in (_ancova_power_by_quad(d, n, df=2 * n - 2), _ancova_power_by_quad(d, n, a=n)):
        assert abs(sim - wrong) > 6 * se


def test_a_very_large_effect_needs_the_smallest_trial_not_a_crash():
    """statsmodels cannot solve below 2 (pairs or per arm) and returns NaN with a warning
    (an error here); the smallest trial is then the answer: 3 per arm for ANCOVA, 2 pairs."""
    for d in (6.0, 20.0):
        assert hdes.sample_size(d, design="two_arm") == 3
        assert hdes.analytic_power(d, 3, design="two_arm") >= 0.8
    sizes = hdes.sample_sizes(pd.DataFrame({"d_paired": [40.0], "d_ancova": [9.0]}))
    assert sizes["n_per_arm"].tolist() == [3]
    assert sizes["n_single_arm"].tolist() == [2]  # the paired t-test's smallest trial
    assert hdes.analytic_power(40.0, 2, design="single_arm") >= 0.8


@pytest.mark.slow
def test_the_two_arm_wilcoxon_design_is_sized_on_the_change_it_analyses():
    """The rank-sum test on change, r = 0.6: sized on effect / SD(change), the simulated
    power is near the target; sized on ANCOVA's d, as before, it fell well short."""
    effect, sd, r = 0.5, 1.0, 0.6
    d_change = effect / (sd * math.sqrt(2 * (1 - r)))
    d_ancova = effect / (sd * math.sqrt(1 - r * r))
    sizes = hdes.sample_sizes(pd.DataFrame({"d_paired": [d_change], "d_ancova": [d_ancova]}),
                              test="wilcoxon")  # fmt: skip
    n = int(sizes["n_per_arm"].iloc[0])
    sim, _ = hdes.simulate_power(design="two_arm", n=n, effect=effect, sd=sd, r=r,
                                 test="wilcoxon", n_sims=20000, seed=12)  # fmt: skip
    assert abs(sim - 0.8) < 0.02
    n_old = math.ceil(hdes.sample_size(d_ancova, design="two_arm", test="wilcoxon"))
    old, _ = hdes.simulate_power(design="two_arm", n=n_old, effect=effect, sd=sd, r=r,
                                 test="wilcoxon", n_sims=20000, seed=12)  # fmt: skip
    assert old < 0.75


def test_simulation_is_seeded_and_batch_size_does_not_matter():
    a = hdes.simulate_power(design="two_arm", n=12, effect=1, sd=1, r=0.5, n_sims=3000, seed=4)
    b = hdes.simulate_power(design="two_arm", n=12, effect=1, sd=1, r=0.5, n_sims=3000, seed=4)
    assert a == b
    c = hdes.simulate_power(
        design="two_arm", n=12, effect=1, sd=1, r=0.5, n_sims=3000, seed=4, batch=3000
    )
    assert c[0] == pytest.approx(a[0], abs=0.05)  # different draws per batch: same power


@pytest.mark.slow
def test_simulation_check_skips_large_designs_and_flags_exact_ones(m):
    inputs = hdes.planning_inputs(m, outcomes=TRICKY_OUTCOMES, visits=[0, 1, 2, 3], baseline=0)
    sizes = hdes.sample_sizes(hdes.planning_effects(inputs))
    check = hdes.simulation_check(sizes, inputs=inputs, n_sims=400, seed=1, max_n=200)
    assert check["n_analysed"].max() <= 200
    assert check["exact"].all()  # with t-tests both powers are exact: paired t and ANCOVA
    # every row's analytic power is recomputed from the sizes table by key
    keyed = sizes.set_index(["outcome", "basis"])
    for r in check.itertuples():
        row = keyed.loc[(r.outcome, r.basis)]
        d = row["d_paired"] if r.design == "single_arm" else row["d_ancova"]
        n = row["n_single_arm"] if r.design == "single_arm" else row["n_per_arm"]
        assert r.n_analysed == n
        assert r.analytic == pytest.approx(hdes.analytic_power(d, int(n), design=r.design))
        assert r.z == pytest.approx((r.simulated - r.analytic) / r.mc_se)


def test_one_outcome_is_one_enrolment_not_a_range_from_it_to_itself():
    """A study of one outcome (the second worked example's HbA1c) gives "18 (HbA1c)", not
    "18 (HbA1c) to 18 (HbA1c)", in the headline and in its baseline-SD sentence."""
    e = pd.DataFrame({"outcome": ["hba1c", "hba1c"], "visit_month": [15, 15],
                      "basis": ["observed", "half"], "effect": [1.0, 0.5],
                      "d_paired": [0.8, 0.4], "d_ancova": [0.8, 0.4], "note": ""})  # fmt: skip
    sizes = hdes.sample_sizes(e)
    observed, half = sizes.set_index("basis").loc[["observed", "half"], "enrol_two_arm"]
    f = pd.DataFrame({"outcome": ["hba1c"], "sd_followup": [1.0], "sd_baseline": [1.5],
                      "enrol_on_followup_sd": [observed],
                      "enrol_on_baseline_sd": [120]})  # fmt: skip
    finding = hdes.design_finding(sizes, study=STUDY, followup_sd=f)
    assert f"would enrol {grouped(observed)} (HbA1c) patients at the observed effects, " in finding
    assert f"and {grouped(half)} (HbA1c) at half of them." in finding
    assert finding.endswith(
        "would need 120 (HbA1c) patients, and on the larger of each outcome's two SDs, the "
        "cautious plan, 120 (HbA1c) (see the caveats)."
    )
    assert "(HbA1c) to " not in finding


@pytest.mark.slow
def test_sentences_recomputed_from_the_tables(m):
    inputs = hdes.planning_inputs(m, outcomes=TRICKY_OUTCOMES, visits=[0, 1, 2, 3], baseline=0)
    sizes = hdes.sample_sizes(hdes.planning_effects(inputs), dropout=0.2)
    finding = hdes.design_finding(sizes, study=STUDY)
    # the headline is the efficacy outcomes' (data/study.yaml gives the antibodies the safety
    # role), and says so
    efficacy = ["leptin", "insulin_dose", "hba1c"]
    observed = sizes[
        (sizes["basis"] == "observed")
        & sizes["enrol_two_arm"].notna()
        & sizes["outcome"].isin(efficacy)
    ]
    lo = observed.sort_values("enrol_two_arm").iloc[0]
    hi = observed.sort_values("enrol_two_arm").iloc[-1]
    # inside a sentence a label loses a capital that only starts it (Leptin → leptin; HbA1c kept)
    in_text = {"leptin": "leptin", "insulin_dose": "daily insulin dose", "hba1c": "HbA1c"}
    assert f"enrol {grouped(lo.enrol_two_arm)} ({in_text[lo.outcome]})" in finding
    assert f"to {grouped(hi.enrol_two_arm)} ({in_text[hi.outcome]}) patients" in finding
    assert "20% dropout" in finding
    assert finding.endswith(
        ", for the efficacy outcomes (a safety outcome needs an equivalence design)."
    )
    assert "antibodies" not in finding
    # given the baseline-SD plan, the headline adds its range for the same (efficacy) outcomes
    on_sd = hdes.followup_sd_sensitivity(inputs, sizes)
    with_sd = hdes.design_finding(sizes, study=STUDY, followup_sd=on_sd)
    assert with_sd.startswith(finding)
    baseline_sd = (
        on_sd[on_sd["outcome"].isin(efficacy)].dropna().sort_values("enrol_on_baseline_sd")
    )
    assert len(baseline_sd) == 3
    lo_b, hi_b = baseline_sd.iloc[0], baseline_sd.iloc[-1]
    # the cautious plan, by hand: each outcome on the larger of its two SDs needs the larger of
    # its two enrolments
    cautious = sorted(
        (max(r.enrol_on_baseline_sd, r.enrol_on_followup_sd), in_text[r.outcome])
        for r in baseline_sd.itertuples()
    )
    assert with_sd[len(finding) :] == (
        " These standardise each effect by the pilot's follow-up SD; planned on the baseline SD "
        f"instead, the observed effects would need {grouped(lo_b.enrol_on_baseline_sd)} "
        f"({in_text[lo_b.outcome]}) to {grouped(hi_b.enrol_on_baseline_sd)} "
        f"({in_text[hi_b.outcome]}) patients, and on the larger of each outcome's two SDs, the "
        f"cautious plan, {grouped(cautious[0][0])} ({cautious[0][1]}) to "
        f"{grouped(cautious[-1][0])} ({cautious[-1][1]}) (see the caveats)."
    )
    # the same SD at both visits: nothing changes, and the line says so
    same = on_sd.assign(enrol_on_baseline_sd=on_sd["enrol_on_followup_sd"])
    assert hdes.design_finding(sizes, study=STUDY, followup_sd=same).endswith(
        "Planned on the baseline SD instead, the enrolments at the observed effects are the same."
    )
    text = hdes.describe_design(sizes, alpha=0.05, power=0.8, dropout=0.2, test="t", study=STUDY)
    for r in sizes[sizes["n_single_arm"].notna()].itertuples():
        assert (
            f"single arm {grouped(r.n_single_arm)} analysed "
            f"({grouped(r.enrol_single_arm)} enrolled)" in text
        )
    assert text.count("\n- ") == sizes["outcome"].nunique()


def test_power_curves_are_monotone_and_keyed():
    e = pd.DataFrame({"outcome": ["y", "x"], "basis": ["half", "observed"],
                      "d_paired": [0.4, float("nan")], "d_ancova": [0.4, 0.9]})  # fmt: skip
    curves = hdes.power_curves(e, n_values=hdes.n_grid(200), alpha=0.05)
    assert set(map(tuple, curves[["outcome", "design"]].drop_duplicates().values)) == {
        ("y", "single_arm"), ("y", "two_arm"), ("x", "two_arm"),
    }  # fmt: skip
    for _, g in curves.groupby(["outcome", "design"]):
        assert g["power"].is_monotonic_increasing
    row = curves[(curves["outcome"] == "x") & (curves["n"] == 20)]
    assert row["power"].item() == pytest.approx(_ancova_power_by_quad(0.9, 20), abs=1e-7)


@pytest.mark.parametrize(
    ("test", "single_arm", "two_arm", "in_legend"),
    [
        ("t", "paired t-test on change from baseline",
         "ANCOVA of the follow-up value on arm and baseline", ("paired t-test", "ANCOVA")),
        ("wilcoxon", "Wilcoxon signed-rank test on change from baseline",
         "Wilcoxon rank-sum test on change from baseline",
         ("Wilcoxon signed-rank", "Wilcoxon rank-sum on change")),
    ],
)  # fmt: skip
def test_each_design_is_named_with_the_test_it_is_analysed_with(
    test, single_arm, two_arm, in_legend
):
    """The simulation check's rows and the power curves' legend name the test (the rank-sum
    test on change with design_test wilcoxon, not ANCOVA); a design without its test is
    refused rather than named by a default."""
    import matplotlib.pyplot as plt

    from helpers.figures import plot_power_curves

    i = pd.DataFrame({"outcome": ["x"], "visit_month": [1], "n": [7], "mean_change": [-2.0],
                      "sd_change": [2.0], "ci_low": [-3.8], "ci_high": [-0.2],
                      "sd_baseline": [3.0], "sd_followup": [3.0], "r": [0.6]})  # fmt: skip
    effects = hdes.planning_effects(i)
    sizes = hdes.sample_sizes(effects.iloc[:1], test=test)
    check = hdes.simulation_check(sizes, inputs=i, test=test, n_sims=200)
    assert set(check["test"]) == {test}
    shown = hdes.label_rows(check)
    assert "test" not in shown
    assert shown["design"].tolist() == [
        f"single-arm replication, {single_arm}",
        f"randomised two-arm trial (1:1), {two_arm}",
    ]
    curves = hdes.power_curves(effects.iloc[:1], n_values=[5, 50], test=test)
    assert set(curves["test"]) == {test}
    fig, ax = plt.subplots()
    plot_power_curves(curves, outcome="x", target=0.8, ax=ax, legend=True)
    labels = ax.get_legend_handles_labels()[1]
    plt.close(fig)
    assert f"single-arm replication, {in_legend[0]}" in labels
    assert f"randomised two-arm trial (1:1), {in_legend[1]}" in labels
    with pytest.raises(ValueError, match="needs a test column"):
        hdes.label_rows(check.drop(columns="test"))


def test_the_power_curves_legend_names_the_confidence_bound_with_its_level():
    """The curves carry the effects' CI level, and the legend says it (90%, not a default)."""
    import matplotlib.pyplot as plt

    from helpers.figures import plot_power_curves

    e = pd.DataFrame({"outcome": ["x", "x"], "basis": ["ci_bound", "observed"], "ci_level": 0.9,
                      "d_paired": [0.3, 0.6], "d_ancova": [0.3, 0.6]})  # fmt: skip
    curves = hdes.power_curves(e, n_values=[5, 50], alpha=0.05)
    assert set(curves["ci_level"]) == {0.9}
    fig, ax = plt.subplots()
    plot_power_curves(curves, outcome="x", target=0.8, ax=ax, legend=True)
    labels = ax.get_legend_handles_labels()[1]
    plt.close(fig)
    assert "90% confidence bound closest to zero" in labels
    assert "observed mean change" in " ".join(labels)
    no_level = hdes.power_curves(e.drop(columns="ci_level"), n_values=[5], alpha=0.05)
    assert no_level["ci_level"].isna().all()


@pytest.mark.parametrize(("top", "last_ticks"), [(400, [200, 400]), (220, [100, 200]), (3, [3])])
def test_the_power_axis_shows_where_the_curves_end(top, last_ticks):
    """A tick at the largest n drawn, unless a round tick is near it on the log axis."""
    import matplotlib.pyplot as plt

    from helpers.figures import plot_power_curves

    c = pd.DataFrame({"outcome": "x", "basis": "observed", "design": "single_arm",
                      "test": "t", "n": [2, top], "power": [0.1, 0.9]})  # fmt: skip
    fig, ax = plt.subplots()
    plot_power_curves(c, outcome="x", target=0.8, ax=ax)
    assert [int(t) for t in ax.get_xticks()][-len(last_ticks) :] == last_ticks
    assert ax.get_xscale() == "log"
    assert list(ax.xaxis.get_minorticklocs()) == []  # every tick drawn is a labelled one
    plt.close(fig)


def test_analytic_power_agrees_with_statsmodels_where_it_is_finite():
    from statsmodels.stats.power import TTestIndPower, TTestPower

    for d in (0.2, 0.5, 1.1):
        for n in (4, 9, 30, 120):
            ref = TTestPower().power(effect_size=d, nobs=n, alpha=0.05)
            got = hdes.analytic_power(d, n, design="single_arm")
            if math.isfinite(ref):
                assert got == pytest.approx(ref, rel=1e-9)
            # the two-arm Wilcoxon power: the two-sample t-test's at n x 3/pi
            ref = TTestIndPower().power(effect_size=d, nobs1=n * 3 / math.pi, alpha=0.05)
            got = hdes.analytic_power(d, n, design="two_arm", test="wilcoxon")
            assert got == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("d", [0.2, 0.5, 1.1, 2.0])
@pytest.mark.parametrize("n", [3, 4, 9, 30, 120, 2000])
def test_ancova_power_is_shieh_s_exact_power(d, n):
    """The helpers' quadrature against the independent adaptive one, to 1e-7; below the
    two-sample t-test's power, and within 0.002 of it from 120 per arm."""
    from statsmodels.stats.power import TTestIndPower

    exact = hdes.analytic_power(d, n, design="two_arm")
    assert exact == pytest.approx(_ancova_power_by_quad(d, n), abs=1e-7)
    t_test = TTestIndPower().power(effect_size=d, nobs1=n, alpha=0.05)
    if math.isfinite(t_test):  # statsmodels gives NaN far in the tail (see analytic_power)
        assert exact <= t_test + 1e-12
        if n >= 120:
            assert t_test - exact < 0.002


def test_every_parameter_a_notebook_declares_has_a_rule():
    """A parameter without a rule would escape the value checks; notebook 05's included."""
    from helpers.params import RULES
    from helpers.run import declared_parameters, discover_notebooks

    for nb in discover_notebooks():
        missing = sorted(set(declared_parameters(nb)) - set(RULES))
        assert not missing, (nb.name, missing)


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("dropout", 1.5, "at most 0.9"),
        ("dropout", -0.1, "at least 0"),
        ("design_test", "sign", "must be one of t, wilcoxon"),
        ("n_sims", 10, "from 200"),
        ("power", 1.5, "must be a number"),
        ("max_n_simulated", 2, "from 4"),
    ],
)
def test_notebook_05_refuses_a_wrong_value_before_anything_runs(tmp_path, name, value, rule):
    from helpers.errors import ParameterError
    from helpers.params import check_parameters
    from helpers.run import run

    with pytest.raises(ParameterError, match=rule):
        check_parameters({name: value})  # what the notebook's own check cell calls
    reports = tmp_path / "reports"
    with pytest.raises(ParameterError, match=rule):
        run(
            "default",
            [PROJECT_NB05],
            reports_dir=reports,
            progress=False,
            overrides={f"05_follow_up_design.{name}": value},
        )
    assert not reports.exists()  # refused before a report folder, let alone a kernel


@pytest.mark.slow
def test_notebook_05_sample_sizes_recomputed_from_the_measurements(default_report):
    """Every row of the sample-size table notebook 05 wrote in the default run, recomputed by
    another path: pairs from the stand-in's measurements file with a pandas pivot, the SDs, r
    and t interval with NumPy and SciPy, the sizes with statsmodels' solve_power (the helpers
    find the noncentral t's root themselves) and, for ANCOVA, the smallest n whose power by
    the independent integral reaches the target; the two-arm SD the follow-up SD."""
    import yaml
    from statsmodels.stats.power import TTestIndPower, TTestPower

    from helpers.paths import PROJECT_ROOT

    from conftest import STANDIN

    sets = yaml.safe_load((PROJECT_ROOT / "notebooks/params/default.yaml").read_text("utf-8"))
    given = sets["notebooks"]["05_follow_up_design"]
    alpha, power, dropout, level = (given[k] for k in ("alpha", "power", "dropout", "ci_level"))
    assert given["design_test"] == "t"
    table = pd.read_csv(default_report / "tables" / "05_sample_sizes.csv")
    m = pd.read_csv(STANDIN / "measurements.csv")
    wide = m.pivot_table(index=["outcome", "patient_id"], columns="visit_month", values="value")
    assert set(table["outcome"]) == set(m["outcome"])
    for outcome, rows in table.groupby("outcome", sort=False):
        w = wide.loc[outcome]
        visit = max(v for v in w.columns if v != 0 and len(w[[0, v]].dropna()) >= 3)
        both = w[[0, visit]].dropna()
        before, after = both[0].to_numpy(), both[visit].to_numpy()
        d = after - before
        n, mean, sd = len(d), d.mean(), d.std(ddof=1)
        half = stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
        low, high = mean - half, mean + half
        r = np.corrcoef(before, after)[0, 1]
        residual = after.std(ddof=1) * math.sqrt(1 - r * r)
        bound = None if low <= 0 <= high else min((low, high), key=abs)
        effects = {"observed": mean, "half": mean / 2, "ci_bound": bound}
        assert sorted(rows["basis"]) == sorted(effects)
        for row in rows.itertuples():
            assert row.visit_month == visit, outcome
            effect = effects[row.basis]
            if effect is None:
                assert pd.isna(row.n_single_arm), (outcome, row.basis)
                assert pd.isna(row.n_per_arm), (outcome, row.basis)
                continue
            assert row.effect == pytest.approx(effect, rel=1e-9)
            single = TTestPower().solve_power(effect_size=abs(effect) / sd, alpha=alpha,
                                              power=power)  # fmt: skip
            d_ancova = abs(effect) / residual
            start = TTestIndPower().solve_power(effect_size=d_ancova, alpha=alpha, power=power)
            per_arm = math.ceil(start - 1e-6)  # ANCOVA's exact n: from the t-test's, upwards
            while _ancova_power_by_quad(d_ancova, per_arm, alpha) < power:
                per_arm += 1
            assert row.n_single_arm == math.ceil(single - 1e-6), (outcome, row.basis)
            assert row.n_per_arm == per_arm, (outcome, row.basis)
            assert row.enrol_single_arm == math.ceil(row.n_single_arm / (1 - dropout) - 1e-9)
            assert row.enrol_two_arm == 2 * math.ceil(row.n_per_arm / (1 - dropout) - 1e-9)


@pytest.mark.slow
def test_notebook_05_says_how_many_planned_trials_were_simulated(default_report):
    """The sentence under the simulation check, recounted from the two tables the default run
    wrote: the planned trials are the n's given in the sample-size table (a direct count of
    non-missing cells), the simulated ones the simulation table's rows, and each larger one
    left out is over max_n_simulated. The default cohort plans trials too large to simulate,
    so the sentence must say that some were not."""
    import tiny
    import yaml

    from helpers.paths import PROJECT_ROOT

    given = yaml.safe_load((PROJECT_ROOT / "notebooks/params/default.yaml").read_text("utf-8"))
    cap = given["notebooks"]["05_follow_up_design"].get("max_n_simulated", 1000)
    sizes = pd.read_csv(default_report / "tables" / "05_sample_sizes.csv")
    check = pd.read_csv(default_report / "tables" / "05_simulation_check.csv")
    ns = pd.concat([sizes["n_single_arm"], sizes["n_per_arm"]]).dropna()
    planned, simulated = len(ns), len(check)
    assert simulated == int((ns <= cap).sum())
    assert 0 < simulated < planned
    shown = tiny.shown(default_report / "05_follow_up_design.ipynb")
    assert (
        f"{simulated} of the {planned} planned trials (those of at most {grouped(cap)} "
        f"patients per arm) were simulated"
    ) in shown
    assert f"the {planned - simulated} larger ones were not." in shown
    assert "Each planned trial" not in shown


@pytest.mark.parametrize(("n", "level"), [(3, 0.95), (7, 0.95), (20, 0.9)])
def test_the_sd_interval_is_the_chi_square_interval_and_covers_as_often_as_it_says(n, level):
    """sd_uncertainty's bounds of sigma / s: by hand from SciPy's χ² quantiles, and the share
    of simulated normal samples (seeded, sigma 1) whose 1 / s falls inside, within 4 standard
    errors of the level."""
    low, high = hdes.sd_uncertainty(n, level)
    tail = (1 - level) / 2
    assert low == pytest.approx(math.sqrt((n - 1) / stats.chi2.isf(tail, n - 1)), rel=1e-12)
    assert high == pytest.approx(math.sqrt((n - 1) / stats.chi2.isf(1 - tail, n - 1)), rel=1e-12)
    sims = 40_000
    s = np.random.default_rng(n).normal(0, 1, (sims, n)).std(axis=1, ddof=1)
    covered = float(((1 / s >= low) & (1 / s <= high)).mean())
    assert abs(covered - level) < 4 * math.sqrt(level * (1 - level) / sims)
    with pytest.raises(ValueError, match="2 values or more"):
        hdes.sd_uncertainty(1)


@pytest.mark.slow
def test_notebook_05_states_its_confidence_level_and_how_uncertain_its_sds_are(default_report):
    """The level of the interval the third planning effect comes from is in the tables and the
    sentences, and the SD caveat's figures are recomputed: the fewest pairs any outcome was
    planned on (a pandas pivot of the stand-in's measurements), the χ² bounds by SciPy."""
    import tiny
    import yaml

    from helpers.paths import PROJECT_ROOT

    from conftest import STANDIN

    sets = yaml.safe_load((PROJECT_ROOT / "notebooks/params/default.yaml").read_text("utf-8"))
    level = sets["notebooks"]["05_follow_up_design"]["ci_level"]
    percent = f"{level * 100:g}%"
    for name in ("planning_inputs", "sample_sizes"):
        table = pd.read_csv(default_report / "tables" / f"05_{name}.csv")
        assert set(table["ci_level"]) == {level}, name
    shown = tiny.shown(default_report / "05_follow_up_design.ipynb")
    assert f"{percent} confidence bound closest to zero" in shown
    assert f"at the {percent} confidence bound closest to zero" in shown
    m = pd.read_csv(STANDIN / "measurements.csv")
    wide = m.pivot_table(index=["outcome", "patient_id"], columns="visit_month", values="value")
    fewest = min(
        len(w[[0, v]].dropna())
        for _, w in wide.groupby(level="outcome")
        for v in [max(v for v in w.columns if v != 0 and len(w[[0, v]].dropna()) >= 3)]
    )
    df, tail = fewest - 1, (1 - level) / 2
    low = math.sqrt(df / stats.chi2.isf(tail, df))
    high = math.sqrt(df / stats.chi2.isf(1 - tail, df))
    assert (
        f"With {fewest} patients, the {percent} confidence interval of a true SD (the χ² "
        f"interval) runs from {low:.2f} to {high:.2f} times the SD observed"
    ) in shown
    assert f"could be about {low**2:.2f} to {high**2:.2f} times those above" in shown


@pytest.mark.slow
def test_notebook_05_enrolments_planned_on_the_baseline_sd_recomputed(default_report):
    """The follow-up SD's sensitivity, recomputed by another path from the stand-in's
    measurements: a pandas pivot for the pairs, the baseline SD in ANCOVA's residual SD, the
    smallest n per arm whose power by the independent integral reaches the target (from
    statsmodels' two-sample n upwards), then dropout; the CSV and the sentence agree."""
    import tiny
    import yaml
    from statsmodels.stats.power import TTestIndPower

    from helpers.paths import PROJECT_ROOT

    from conftest import STANDIN

    sets = yaml.safe_load((PROJECT_ROOT / "notebooks/params/default.yaml").read_text("utf-8"))
    given = sets["notebooks"]["05_follow_up_design"]
    alpha, power, dropout = (given[k] for k in ("alpha", "power", "dropout"))
    table = pd.read_csv(default_report / "tables" / "05_followup_sd_sensitivity.csv")
    m = pd.read_csv(STANDIN / "measurements.csv")
    wide = m.pivot_table(index=["outcome", "patient_id"], columns="visit_month", values="value")
    shown = tiny.shown(default_report / "05_follow_up_design.ipynb")
    changed = 0
    for row in table.itertuples():
        w = wide.loc[row.outcome]
        visit = max(v for v in w.columns if v != 0 and len(w[[0, v]].dropna()) >= 3)
        both = w[[0, visit]].dropna()
        before, after = both[0].to_numpy(), both[visit].to_numpy()
        r = np.corrcoef(before, after)[0, 1]
        effect = abs((after - before).mean())
        enrol = {}
        for name, sd in (("baseline", before.std(ddof=1)), ("followup", after.std(ddof=1))):
            d = effect / (sd * math.sqrt(1 - r * r))
            n = math.ceil(TTestIndPower().solve_power(effect_size=d, alpha=alpha, power=power)
                          - 1e-6)  # fmt: skip
            while _ancova_power_by_quad(d, n, alpha) < power:
                n += 1
            enrol[name] = 2 * math.ceil(n / (1 - dropout) - 1e-9)
        assert row.sd_baseline == pytest.approx(before.std(ddof=1), rel=1e-12)
        assert (row.enrol_on_baseline_sd, row.enrol_on_followup_sd) == (
            enrol["baseline"],
            enrol["followup"],
        ), row.outcome
        if enrol["baseline"] != enrol["followup"]:
            changed += 1
            assert (
                f"{grouped(enrol['baseline'])} instead of {grouped(enrol['followup'])} for "
                in shown
            )
    assert changed > 0
    assert "Planned on the baseline SD instead of the follow-up SD" in shown


def test_notebook_05_s_rounding_example_is_its_own_arithmetic():
    """The sentence under "Sample sizes": half of a change, shown to two decimals, against half
    of the change as shown. Its numbers recomputed: the half of the unrounded change and the
    half of the rounded one round differently, as the sentence says."""
    import json
    import re
    from decimal import ROUND_HALF_UP, Decimal

    from helpers.paths import PROJECT_ROOT

    cells = json.loads((PROJECT_ROOT / "notebooks/05_follow_up_design.ipynb").read_text("utf-8"))
    text = next(
        "".join(c["source"]) for c in cells["cells"]
        if c["cell_type"] == "markdown" and "".join(c["source"]).startswith("## Sample sizes")
    )  # fmt: skip
    found = re.search(
        r"half of (−[\d.]+) \(shown (−[\d.]+)\) is (−[\d.]+), shown (−[\d.]+), although half of "
        r"(−[\d.]+) is (−[\d.]+)\.",
        text,
    )
    assert found, text
    change, shown, half, half_shown, again, half_of_shown = (
        Decimal(g.replace("−", "-")) for g in found.groups()
    )
    cent = Decimal("0.01")
    assert change.quantize(cent, ROUND_HALF_UP) == shown == again
    assert half == change / 2
    assert half.quantize(cent, ROUND_HALF_UP) == half_shown
    assert half_of_shown == shown / 2
    # half of the change as shown rounds to another last decimal than the half shown
    assert half_of_shown.quantize(cent, ROUND_HALF_UP) != half_shown
