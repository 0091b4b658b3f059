"""Reconstructed measurements: reproduce what can be reproduced, plausibly, and say what cannot."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from studydef import STUDY

from helpers.audit import audit
from helpers.data import load_cohort
from helpers.reconstruct import (
    MAX_ABS_R,
    R_BASES,
    PairTarget,
    _distinct_pairings,
    _distinct_pairs,
    _p_distance,
    _p_distances,
    _transfer_draws,
    choose_granularity,
    reconstruct_measurements,
    reconstruct_pair,
)
from helpers.reported import Comparison, Reported, load_reported
from helpers.reproduction import reproduction_table
from helpers.stats import paired_p

from conftest import REPORTED, STANDIN, examples

STUDY_TEST = STUDY.reading.test


@pytest.fixture(scope="module")
def reported():
    return load_reported(REPORTED)


@pytest.fixture(scope="module")
def cohort():
    return load_cohort(STANDIN, study=STUDY)


@pytest.fixture(scope="module")
def table(cohort, reported):
    return reproduction_table(
        cohort, reported, verdicts=audit(reported, tests=[STUDY_TEST]), test=STUDY_TEST
    )


def test_every_reachable_figure_matches(table):
    reachable = table[table["reachable_by_test"].fillna(True).astype(bool)]
    assert reachable["match"].all(), reachable.loc[~reachable["match"], "figure_id"].tolist()
    assert len(table) == 34


def test_unreachable_p_is_the_only_miss_and_is_explained(table):
    missed = table[~table["match"]]
    assert missed["figure_id"].tolist() == ["islet_ab.p.m3_vs_m0"]
    assert not missed["reachable_by_test"].iloc[0]
    assert "at most 0.452" in missed["audit_note"].iloc[0]


def test_only_reported_visits_have_values(cohort):
    visits = cohort.measurements.groupby("outcome")["visit_month"].unique()
    assert sorted(visits["insulin_dose"]) == [0, 1]
    assert sorted(visits["gad_ab"]) == [0, 3]
    assert 2 not in set(cohort.measurements["visit_month"])


@pytest.mark.slow
def test_values_are_plausible_on_their_granularity_and_not_degenerate(cohort, reported):
    m = cohort.measurements
    for code, values in m.groupby("outcome"):
        o = STUDY.measured(code)
        assert values["value"].between(o.minimum, o.maximum).all()
        g = choose_granularity(reported, variable=code)
        units = values["value"] / g
        assert np.allclose(units, units.round()), code
        wide = values.pivot(index="patient_id", columns="visit_month", values="value")
        r = np.corrcoef(wide.iloc[:, 0], wide.iloc[:, 1])[0, 1]
        assert abs(r) <= MAX_ABS_R + 1e-9, code
        assert not wide.duplicated().any(), code
    per_patient = m.pivot_table(
        index="patient_id", columns=["outcome", "visit_month"], values="value"
    )
    assert not per_patient.duplicated().any()


def test_provenance_records_every_target(cohort):
    prov = json.loads((STANDIN / "provenance.json").read_text())["measurements"]
    assert prov["test"] == STUDY_TEST
    assert len(prov["comparisons"]) == 5
    islet = next(c for c in prov["comparisons"] if c["comparison"].startswith("islet_ab"))
    assert islet["p_reachable_by_test"] is False
    assert islet["targets"]["p"]["match"] is False
    assert all(islet["targets"][k]["match"] for k in ("mean1", "sd1", "mean2", "sd2"))
    # what fixed each pair's correlation, and which pair it is, by hand from the abstract
    by_comparison = {
        c["comparison"]: (c["outcome"], c["baseline_month"], c["visit_month"], c["r_basis"])
        for c in prov["comparisons"]
    }
    assert by_comparison == {
        "insulin_dose: month 1 vs month 0": ("insulin_dose", 0, 1, "reported_p"),  # p=0,04
        "leptin: month 1 vs month 0": ("leptin", 0, 1, "reported_p"),  # p=0,046
        "hba1c: month 1 vs month 0": ("hba1c", 0, 1, "reported_p"),  # p=0,092
        "gad_ab: month 3 vs month 0": ("gad_ab", 0, 3, "p_bound"),  # p>0,05
        "islet_ab: month 3 vs month 0": ("islet_ab", 0, 3, "p_unreachable"),  # p=0,485
    }
    assert set(R_BASES) == {"reported_p", "p_bound", "p_unreachable"}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_other_seeds_also_reproduce(reported, seed):
    patients = pd.DataFrame({"patient_id": [f"P{i}" for i in range(7)]})
    _, prov = reconstruct_measurements(patients, reported, study=STUDY, seed=seed)
    for c in prov:
        expected = c["p_reachable_by_test"]
        assert all(t["match"] for k, t in c["targets"].items() if k != "p"), c["comparison"]
        assert c["targets"]["p"]["match"] == expected, c["comparison"]


@pytest.mark.slow
@settings(max_examples=examples(25), deadline=None)
# targets that 40 attempts missed although data meeting them exist, e.g. for the first
# x = [42, 37, 48, 54, 61], y = [47, 41, 40, 52, 59]
@example(5, 5, 1.0, 0.03125)
@example(5, 291613, 1.0, 0.7234722009042083)
@given(
    st.integers(min_value=5, max_value=8),
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from([1.0, 0.1]),
    st.floats(min_value=-0.3, max_value=0.95),
)
def test_random_valid_targets_are_returned_at_their_precision(n, seed, g, rho):
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(50, 10, n) / g) * g
    y = np.round((50 + rho * (x - 50) + rng.normal(-4, 8, n)) / g) * g
    assume(x.std(ddof=1) > 0 and y.std(ddof=1) > 0 and np.std(y - x) > 0)
    assume(abs(np.corrcoef(x, y)[0, 1]) < MAX_ABS_R)
    p = paired_p(x, y, "paired_t")
    c = Comparison(
        "c",
        "v",
        "paired",
        "month 0",
        "month 1",
        n,
        n,
        Reported(round(float(x.mean()), 2), 2),
        Reported(round(float(x.std(ddof=1)), 2), 2),
        Reported(round(float(y.mean()), 2), 2),
        Reported(round(float(y.std(ddof=1)), 2), 2),
        Reported(round(p, 3), 3),
        0,
        1,
    )
    result = reconstruct_pair(PairTarget(c, g, "paired_t"), np.random.default_rng(seed))
    assert result.all_matched, result.matched
    assert np.allclose(result.before / g, np.round(result.before / g))
    assert abs(result.r) <= MAX_ABS_R + 1e-9


@pytest.mark.parametrize("n", range(2, 10))
def test_transfers_drawn_at_once_are_those_drawn_one_by_one(n):
    """_refine's transfers, drawn in one call, are the numbers NumPy's integers then choice
    without replacement draw step by step (so the stand-in data did not change when the loop
    stopped drawing them one by one), and the generator is left in the same state."""
    one, batch = np.random.default_rng(n), np.random.default_rng(n)
    steps = 3000
    expected = [
        [int(one.integers(2)), *one.choice(n, size=2, replace=False).tolist()] for _ in range(steps)
    ]
    assert _transfer_draws(batch, n, steps).tolist() == expected
    assert one.bit_generator.state == batch.bit_generator.state


@pytest.mark.parametrize("relation", ["=", "<", ">"])
def test_distances_and_distinct_pairings_at_once_are_those_one_by_one(relation):
    """The attempt's pairings are scored in one array operation: the same distances to the
    reported p (NaN infinitely far) and the same verdicts on repeated (before, after) pairs."""
    rng = np.random.default_rng(7)
    target = Reported(0.05, 2, relation)
    low, high = target.interval()
    p = np.concatenate([[low, high, np.nan, 0.05], rng.uniform(0, 0.2, 300)])
    one = [math.inf if math.isnan(v) else _p_distance(float(v), target, "round") for v in p]
    assert _p_distances(p, target, "round").tolist() == one
    x = np.array([3, 3, 4, 5, 5, 5])
    ys = rng.integers(0, 3, size=(400, 6))
    one = [_distinct_pairs(x, row) for row in ys]
    assert _distinct_pairings(x, ys).tolist() == one
    assert any(one)
    assert not all(one)
