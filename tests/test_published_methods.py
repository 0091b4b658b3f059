"""Each statistic against its published definition, with values computed independently.

Reference values were computed in R 4.2 (Debian's r-base-core, with nlme) by the code in
the comments, and typed in here; the tests never call R.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from studydef import STUDY

from helpers import outcomes as ho
from helpers import safety as hs
from helpers.data import load_cohort
from helpers.precision import recording_decimals, round_to_recording
from helpers.simulate import simulate_cohort
from helpers.stats import hedges_g_av, paired_test

from conftest import STANDIN, examples
from recompute import TRICKY_OUTCOMES, hedges_g_av_by_hand, pairs, tricky_cohort

STANDIN_PAIRS = {
    "insulin_dose": 1,
    "hba1c": 1,
    "leptin": 1,
    "gad_ab": 3,
    "islet_ab": 3,
}

# Algina & Keselman (2003) interval for delta_av, by hand in R with the noncentral t:
#   gav_ak <- function(b, a, level = 0.95) {
#     d <- a - b; n <- length(d); t <- mean(d) / (sd(d) / sqrt(n)); df <- n - 1
#     sav <- sqrt((var(b) + var(a)) / 2)
#     lim <- function(q) uniroot(function(L) pt(t, df, L) - q, c(t - 10, t + 10),
#                                tol = 1e-14)$root
#     s <- sd(d) / (sqrt(n) * sav)
#     c(g = mean(d) / sav * (1 - 3 / (8 * n - 9)),
#       lo = lim(1 - (1 - level) / 2) * s, hi = lim((1 - level) / 2) * s)
#   }
# applied to the stand-in's baseline and follow-up values (data/standin/measurements.csv),
# patients paired by id; g is Hedges' g_av as Lakens (2013) defines it.
R_GAV = {
    ("insulin_dose", 0.95): (-0.7989822344356, -1.6441856313256, -0.0180025721697),
    ("insulin_dose", 0.90): (-0.798982234436, -1.508666684386, -0.143783574523),
    ("hba1c", 0.95): (-0.636825590563, -1.425184617434, 0.105935979494),
    ("hba1c", 0.90): (-0.6368255905627, -1.2993320341084, -0.0143502740349),
    ("leptin", 0.95): (1.3507160021584, 0.0269185068367, 2.7828792949534),
    ("leptin", 0.90): (1.350716002158, 0.240148563097, 2.553268053379),
    ("gad_ab", 0.95): (0.345549610014, -0.418312040382, 1.128724380112),
    ("gad_ab", 0.90): (0.345549610014, -0.294384651463, 1.003924471654),
    ("islet_ab", 0.95): (0.537562658865, -0.326332674849, 1.434466706529),
    ("islet_ab", 0.90): (0.537562658865, -0.186050146867, 1.291649821118),
}

# REML random-intercept model, R's nlme, between-within df:
#   library(nlme)
#   f <- lme(value ~ factor(visit_month), random = ~ 1 | patient_id, data = s,
#            method = "REML", control = lmeControl(msTol = 1e-14, tolerance = 1e-14,
#            niterEM = 200, msMaxIter = 1000, maxIter = 1000))
#   summary(f)$tTable    # Value, Std.Error, DF, p-value of each visit contrast
# for each outcome s of the stand-in, and of recompute.tricky_cohort() written to CSV.
R_NLME_STANDIN = {
    ("insulin_dose", 1): (-11.2714285714, 4.46263398015, 6, 4.49377226829e-02),
    ("hba1c", 1): (-0.945714285714, 0.472983726403, 6, 9.24948885828e-02),
    ("leptin", 1): (9.2000000000000, 3.4083530795834, 6, 0.0356114790318),
    ("gad_ab", 3): (1.54285714286, 1.59117463991, 6, 3.69675852710e-01),
    ("islet_ab", 3): (4.05285714285714, 2.95702691284078, 6, 0.21956622605208),
}
R_NLME_TRICKY = {
    ("leptin", 1): (9.190424146, 1.029074939, 18, 4.940170279e-08),
    ("leptin", 2): (6.306172161, 1.025518545, 18, 8.313793923e-06),
    ("leptin", 3): (4.618995574, 1.029074939, 18, 0.0002841207751),
    ("insulin_dose", 1): (-6.286487441, 3.20619159, 21, 0.06330859771),
    ("insulin_dose", 2): (-5.243963262, 3.194044541, 21, 0.1155248253),
    ("insulin_dose", 3): (-3.361487441, 3.20619159, 21, 0.3063549664),
    ("islet_ab", 2): (2.692781244, 1.433004306, 14, 0.08120758103),
    ("islet_ab", 3): (5.679245389, 1.433004306, 14, 0.001414675238),
    ("hba1c", 1): (-0.66024792, 0.429279398, 14, 0.146329963),
    ("hba1c", 3): (0.21475208, 0.429279398, 14, 0.6246622514),
    ("gad_ab", 1): (1.968927619, 1.406720252, 21, 0.1762152014),
    ("gad_ab", 2): (2.876503408, 1.401745682, 21, 0.05283631742),
    ("gad_ab", 3): (4.206427619, 1.406720252, 21, 0.006975670462),
}


@pytest.fixture(scope="module")
def standin():
    return load_cohort(STANDIN, study=STUDY).measurements


@pytest.mark.parametrize(("code", "level"), sorted(R_GAV))
def test_hedges_g_av_and_algina_keselman_interval_equal_r(standin, code, level):
    b, a = pairs(standin, code, STANDIN_PAIRS[code], 0)
    got = hedges_g_av(b, a, ci_level=level)
    assert (got["g"], got["ci_low"], got["ci_high"]) == pytest.approx(
        R_GAV[(code, level)], rel=1e-8
    )


def test_insulin_interval_now_excludes_zero_as_the_t_test_does(standin):
    b, a = pairs(standin, "insulin_dose", 1, 0)
    assert stats.ttest_rel(a, b).pvalue < 0.05
    assert hedges_g_av(b, a)["ci_high"] < 0


@pytest.mark.slow
@settings(max_examples=examples(60), derandomize=True, deadline=None)
@given(
    n=st.integers(3, 25),
    shift=st.floats(-2, 2),
    rho=st.floats(-0.9, 0.95),
    level=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
    seed=st.integers(0, 10_000),
)
def test_interval_excludes_zero_exactly_when_the_paired_t_test_rejects(n, shift, rho, level, seed):
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0, shift], [[1, rho], [rho, 1]], size=n)
    b, a = z[:, 0], z[:, 1]
    if np.std(a - b) < 1e-9:
        return
    got = hedges_g_av(b, a, ci_level=level)
    p = stats.ttest_rel(a, b).pvalue
    if abs(p - (1 - level)) > 1e-9:
        assert (got["ci_low"] > 0 or got["ci_high"] < 0) == (p < 1 - level)
    by_hand = hedges_g_av_by_hand(b, a, level)
    assert (got["g"], got["ci_low"], got["ci_high"]) == pytest.approx(by_hand, abs=1e-8)


@pytest.fixture(params=["statsmodels", "direct"])
def reml(request, monkeypatch):
    """Each mixed-model test runs twice: statsmodels' fit, and the direct REML computation
    the helpers use above ``DIRECT_REML_ABOVE`` patients (here forced for every size)."""
    if request.param == "direct":
        monkeypatch.setattr(ho, "DIRECT_REML_ABOVE", 0)
    return request.param


def test_mixed_model_equals_nlme_on_the_standin(standin, reml):
    mm = ho.mixed_model(standin, outcomes=list(STANDIN_PAIRS), visits=[0, 1, 2, 3])
    assert len(mm) == len(R_NLME_STANDIN)
    for r in mm.itertuples():
        est, se, df, p = R_NLME_STANDIN[(r.outcome, r.visit_month)]
        assert r.df == df
        assert (r.estimate, r.se, r.p_val) == pytest.approx((est, se, p), rel=1e-6)
        q = stats.t.ppf(0.975, df)
        assert (r.ci_low, r.ci_high) == pytest.approx((est - q * se, est + q * se), rel=1e-6)
    assert "between–within" in mm["method"].iloc[0]


def test_mixed_model_equals_nlme_with_missing_visits_and_a_baseline_only_patient(reml):
    m = tricky_cohort().measurements
    mm = ho.mixed_model(m, outcomes=TRICKY_OUTCOMES, visits=[0, 1, 2, 3])
    assert {(r.outcome, r.visit_month) for r in mm.itertuples()} == set(R_NLME_TRICKY)
    for r in mm.itertuples():
        est, se, df, p = R_NLME_TRICKY[(r.outcome, r.visit_month)]
        assert r.df == df
        assert (r.estimate, r.se, r.p_val) == pytest.approx((est, se, p), rel=1e-6)
        assert r.converged


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mixed_model_meets_the_closed_form_on_complete_two_visit_data(seed, reml):
    c = simulate_cohort(
        9, study=STUDY, visits=[0, 1], outcomes=["hba1c", "insulin_dose"], seed=seed
    )
    mm = ho.mixed_model(c.measurements, outcomes=["hba1c", "insulin_dose"])
    for r in mm.itertuples():
        b, a = pairs(c.measurements, r.outcome, 1, 0)
        if np.corrcoef(b, a)[0, 1] <= 0:
            continue  # the closed form holds inside the parameter space only
        d = a - b
        assert r.se == pytest.approx(np.std(d, ddof=1) / math.sqrt(len(d)), rel=1e-8)
        assert r.p_val == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-7)
        assert r.df == len(d) - 1


def test_a_boundary_fit_is_said_in_words(standin, reml):
    mm = ho.mixed_model(standin, outcomes=["leptin", "hba1c"]).set_index("outcome")
    assert "estimated as zero (a boundary)" in mm.loc["leptin", "note"]
    assert mm.loc["leptin", "between_patient_sd"] < 1e-3
    assert mm.loc["hba1c", "note"] == ""


def test_differences_are_rounded_to_the_recording_precision():
    before = np.array([9.6, 8.2, 7.1, 10.4, 9.9, 8.8])
    after = np.array([9.7, 8.3, 7.0, 10.6, 9.9, 8.5])
    raw = after - before
    rounded = np.round(raw, 1)
    # in binary floating point the three differences of 0.1 are not all equal
    assert len(np.unique(np.abs(raw[raw != 0]))) == 4
    assert len(np.unique(np.abs(rounded[rounded != 0]))) == 3
    assert recording_decimals(np.concatenate([before, after])) == 1
    exact = (np.rint(after * 10) - np.rint(before * 10)) / 10
    assert np.array_equal(round_to_recording(raw, np.concatenate([before, after])), exact)
    nz = exact[exact != 0]
    for test, kwargs in (
        ("wilcoxon_asymptotic", {"correction": False}),
        ("wilcoxon_asymptotic_cc", {"correction": True}),
        ("wilcoxon_r", {"correction": True}),
    ):
        expected = stats.wilcoxon(nz, method="approx", **kwargs).pvalue
        got = paired_test(before, after, test)
        assert got["p_val"].item() == pytest.approx(expected, rel=1e-12)
        assert got["n_used"].item() == 5  # the zero is seen as a zero
    sign = stats.binomtest(int((nz > 0).sum()), len(nz)).pvalue
    assert paired_test(before, after, "sign_test")["p_val"].item() == pytest.approx(sign)
    assert ho.rank_biserial(before, after) == pytest.approx(
        (stats.rankdata(np.abs(nz))[nz > 0].sum() - stats.rankdata(np.abs(nz))[nz < 0].sum())
        / stats.rankdata(np.abs(nz)).sum()
    )


def test_detectable_rise_is_one_sided_like_the_test_for_a_rise(standin):
    from statsmodels.stats.power import TTestPower

    table = hs.detectable_rise(standin, outcomes=["gad_ab"], visits=[3], power=0.8)
    row = table.iloc[0]
    one_sided = TTestPower().solve_power(nobs=7, alpha=0.05, power=0.8, alternative="larger")
    two_sided = TTestPower().solve_power(nobs=7, alpha=0.05, power=0.8, alternative="two-sided")
    assert row["effect_size"] == pytest.approx(one_sided, rel=1e-4)
    assert row["detectable_rise"] == pytest.approx(4.49, abs=0.005)  # not 5.36 (two-sided)
    assert row["effect_size"] < two_sided
    assert row["test"] == "one-sided paired t-test for a rise"


def test_above_the_threshold_the_mixed_model_is_computed_directly(monkeypatch):
    def not_statsmodels(*args, **kwargs):
        raise AssertionError("statsmodels was asked to fit above the threshold")

    monkeypatch.setattr(ho, "_fit_mixed", not_statsmodels)
    monkeypatch.setattr(ho, "DIRECT_REML_ABOVE", 11)
    c = simulate_cohort(12, study=STUDY, missing=[("S01", 2)], seed=4)
    mm = ho.mixed_model(c.measurements, outcomes=["hba1c"])
    assert mm["converged"].all()
    assert mm["n_patients"].eq(12).all()
