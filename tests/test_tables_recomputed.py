"""Every table a reader sees, recomputed cell by cell from the tidy data by another path.

The cohort (:func:`recompute.tricky_cohort`) has its outcomes in an order that is
neither alphabetical nor the data dictionary's, visits nobody attended, a patient
with only a baseline, tied differences and a zero baseline, so a label attached by
position, a family that shrinks with the data or a tie seen as two values shows up.
"""

from __future__ import annotations

import math
import re
import statistics
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.anova import AnovaRM
from studydef import STUDY

from helpers import cohort as hc
from helpers import outcomes as ho
from helpers import reproduction as hr
from helpers import safety as hs
from helpers.data import Cohort, load_cohort
from helpers.reported import load_reported

from conftest import REPORTED, STANDIN
from recompute import (
    CODE_OF_LABEL,
    IN_TEXT,
    LABELS,
    TRICKY_OUTCOMES,
    UNIT_LABELS,
    expected_comparisons,
    expected_safety,
    pairs,
    tricky_cohort,
    values,
)

VISITS = [0, 1, 2, 3]


@pytest.fixture(scope="module")
def tricky() -> Cohort:
    return tricky_cohort()


def _num(text: str) -> float:
    return float(text.replace("−", "-"))


def test_the_cohort_is_as_awkward_as_claimed(tricky):
    m = tricky.measurements
    assert list(dict.fromkeys(m["outcome"])) == TRICKY_OUTCOMES != sorted(TRICKY_OUTCOMES)
    assert not values(m, "hba1c", 2)
    assert not values(m, "islet_ab", 1)
    assert values(m, "gad_ab", 0)["S01"] == 0.0
    b, a = pairs(m, "insulin_dose", 1, 0)
    d = np.round(a - b, 1)
    assert len(np.unique(np.abs(d))) < len(d), "the cohort must have tied differences"


@pytest.mark.parametrize("order", [None, TRICKY_OUTCOMES, ["islet_ab", "insulin_dose"]])
def test_visit_completeness_every_cell_by_key(tricky, order):
    table = hc.visit_completeness(tricky, outcomes=order)
    n = len(tricky.patients)
    expected_rows = [LABELS[c] for c in (order or [o for o in LABELS])]
    assert list(table.index) == expected_rows
    for label, row in table.iterrows():
        for column, cell in row.items():
            visit = int(column.removeprefix("month "))
            k = len(values(tricky.measurements, CODE_OF_LABEL[label], visit))
            assert cell == f"{k}/{n}", (label, column)


def test_table_one_against_the_statistics_module(tricky):
    p = tricky.patients
    table = hc.table_one(p, study=STUDY).iloc[:, 0]
    ages = list(p["age_years"])
    assert table["Age, years, mean ± SD"] == (
        f"{statistics.mean(ages):.1f} ± {statistics.stdev(ages):.1f}"
    )
    men = sum(s == "M" for s in p["sex"])
    assert table["Male, n (%)"] == f"{men} ({100 * men / len(p):.1f})"
    assert table["Patients, n"] == str(len(p))


def test_summary_table_every_row_by_label(tricky):
    m = tricky.measurements
    table = ho.summary_table(m, outcomes=TRICKY_OUTCOMES, visits=VISITS, study=STUDY)
    seen = set()
    for (label, visit_text), row in table.iterrows():
        code, visit = UNIT_LABELS[label], int(visit_text.removeprefix("month "))
        v = list(values(m, code, visit).values())
        assert row["n"] == len(v)
        assert row["mean ± SD"] == f"{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f}"
        assert row["min–max"] == f"{min(v):.2f}–{max(v):.2f}"
        assert row["median [IQR]"].startswith(f"{statistics.median(v):.2f} [")
        seen.add((code, visit))
    present = {(c, v) for c in TRICKY_OUTCOMES for v in VISITS if values(m, c, v)}
    assert seen == present


def _orders(frame: pd.DataFrame, k: int) -> list[pd.DataFrame]:
    """The rows of a table in k shuffled orders (seeds 0 to k − 1)."""
    return [frame.sample(frac=1, random_state=s).reset_index(drop=True) for s in range(k)]


def test_summary_table_is_the_same_in_any_row_order(tricky):
    """insulin_dose at month 1 has a mean exactly on a rounding tie (50.825): a running sum
    printed 50.82 or 50.83 by row order."""
    m = tricky.measurements
    table = ho.summary_table(m, outcomes=TRICKY_OUTCOMES, visits=VISITS, study=STUDY)
    for shuffled in _orders(m, 3):
        again = ho.summary_table(shuffled, outcomes=TRICKY_OUTCOMES, visits=VISITS, study=STUDY)
        pd.testing.assert_frame_equal(table, again)
    assert table.loc[("Daily insulin dose (U/day)", "month 1"), "mean ± SD"].startswith("50.83")


@pytest.mark.slow
def test_mixed_model_is_the_same_in_any_row_order(tricky):
    """Eight patients, three complete visits: the month-1 estimate is a mean change of
    exactly 0.175, and the fit on the file's row order printed 0.17 or 0.18 by that order."""
    before = [14.6, 9.0, 5.6, 5.2, 17.2, 18.7, 14.1, 15.9]
    month1 = [13.2, 6.5, 4.4, 5.3, 12.5, 18.3, 11.6, 29.9]
    month2 = [13.5, 8.4, 6.4, 7.3, 16.9, 21.4, 12.8, 16.6]
    m = pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(8)] * 3,
            "visit_month": [0] * 8 + [1] * 8 + [2] * 8,
            "outcome": "leptin",
            "value": before + month1 + month2,
        }
    )
    assert statistics.mean(a - b for a, b in zip(month1, before, strict=True)) == pytest.approx(
        0.175, abs=1e-12
    )
    fits = [ho.mixed_model(o, outcomes=["leptin"], visits=[0, 1, 2]) for o in _orders(m, 12)]
    for fit in fits[1:]:
        pd.testing.assert_frame_equal(fit, fits[0], check_exact=True)
    table = ho.mixed_model(tricky.measurements, outcomes=TRICKY_OUTCOMES, visits=VISITS)
    for shuffled in _orders(tricky.measurements, 3):
        again = ho.mixed_model(shuffled, outcomes=TRICKY_OUTCOMES, visits=VISITS)
        pd.testing.assert_frame_equal(again, table, check_exact=True)


@pytest.mark.slow
def test_a_percentage_margin_is_the_same_in_any_row_order():
    """A margin of 10% of a baseline mean of exactly 50.85 printed 5.08 or 5.09 by row order."""
    base = [39.5, 71.2, 22.4, 66.3, 48.0, 57.7, 30.9, 70.8]
    assert statistics.mean(base) == 50.85
    after = [b + d for b, d in zip(base, [1.2, -0.4, 2.5, 0.3, -1.1, 0.9, 1.6, -0.2], strict=True)]
    m = pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(8)] * 2,
            "visit_month": [0] * 8 + [1] * 8,
            "outcome": "gad_ab",
            "value": np.round(base + after, 1),
        }
    )
    margins = {
        float(
            hs.safety_analysis(
                o, outcomes=["gad_ab"], visits=[0, 1], baseline=0, margins={"gad_ab": "10%"}
            )["margin"].iloc[0]
        )
        for o in _orders(m, 20)
    }
    assert margins == {0.1 * statistics.mean(base)}


@pytest.mark.slow
def test_reported_figures_are_recomputed_the_same_in_any_row_order():
    cohort = load_cohort(STANDIN, study=STUDY)
    reported = load_reported(REPORTED)
    first = hr.reproduce_reported(cohort, reported, test="paired_t")
    for shuffled in _orders(cohort.measurements, 20):
        c = Cohort(cohort.patients, shuffled, cohort.data_dir, cohort.provenance, STUDY)
        again = hr.reproduce_reported(c, reported, test="paired_t")
        pd.testing.assert_frame_equal(again, first, check_exact=True)


def test_the_reproduction_summary_counts_and_names_the_table_s_figures():
    """The sentences under the reproduction table, recounted row by row from the table."""
    from helpers import audit as ha
    from helpers.reported import figures_in_words

    cohort = load_cohort(STANDIN, study=STUDY)
    reported = load_reported(REPORTED)
    verdicts = ha.audit(reported, tests=["paired_t"])
    table = hr.reproduction_table(cohort, reported, verdicts=verdicts, test="paired_t")
    words = figures_in_words(reported, STUDY)

    def flag(value: object) -> bool | None:
        return None if pd.isna(value) else bool(value)

    rows = table.to_dict("records")
    matched = [r for r in rows if flag(r["match"])]
    impossible = [r for r in rows if not flag(r["match"]) and flag(r["reachable_by_test"]) is False]
    possible = [r for r in rows if not flag(r["match"]) and r not in impossible]
    assert impossible, "the stand-in has a figure no data reach (islet antibodies' p=0,485)"
    p_rows = [r for r in rows if r["statistic"] == "p_value"]
    p_matched = [r for r in matched if r["statistic"] == "p_value"]
    assert 1 < len(p_rows) < len(rows) - 1  # plurals on both sides
    assert len(p_matched) > 1
    for ids, reconstructed in ((True, False), (False, True)):
        text = hr.summarise_reproduction(
            table, test="paired_t", words=words, ids=ids, reconstructed=reconstructed
        )
        lines = text.splitlines()
        assert lines[0] == (
            f"- {len(matched)} of {len(rows)} reported figures reproduce at reported precision: "
            f"{len(p_matched)} of {len(p_rows)} p-values, with the paired t-test, and "
            f"{len(matched) - len(p_matched)} of {len(rows) - len(p_rows)} other figures, which "
            "do not depend on the test."
        )
        assert ("reconstructed from the reported figures" in lines[-1]) is reconstructed
        if reconstructed:
            lines = lines[:-1]
        assert f"- {len(impossible)} cannot be reproduced by any data" in text
        for r in impossible:
            named = f"**{words[r['figure_id']]}** (reported as \u201c{r['reported']}\u201d"
            named += f"; figure `{r['figure_id']}`)" if ids else ")"
            assert f"{named}: {r['audit_note']}" in text
        for r in possible:
            assert f"**{words[r['figure_id']]}**" in lines[-1]
        assert ("figure `" in text) is ids
        assert ("Nothing is left unexplained" in text) is (len(matched) == len(rows))


def test_reported_figures_are_named_in_words_by_their_own_id():
    """Notebooks 01 and 04: each row's words are its own figure's, in any row order."""
    from helpers import readers as hread
    from helpers.reported import figures_in_words
    from helpers.schema import ReportedFiguresModel

    cohort = load_cohort(STANDIN, study=STUDY)
    reported = load_reported(REPORTED)
    words = figures_in_words(reported, STUDY)
    # by hand, from the abstract and data/study.yaml
    expected = {
        "cohort.n_female": ("Patients, female", "number of patients"),
        "age.max": ("Age", "maximum"),
        "culture.min": ("Culture time", "minimum"),
        "leptin.sd.m1": ("Leptin, month 1", "SD"),
        "islet_ab.p.m3_vs_m0": (
            "Islet-cell (Langerhans) antibodies, month 3 against baseline (before AMSCT)",
            "p-value",
        ),
        "hba1c.mean.m0": ("HbA1c, baseline (before AMSCT)", "mean"),
    }
    from helpers import audit as ha

    verdicts = ha.audit(reported, tests=["paired_t"])
    table = hr.reproduction_table(cohort, reported, verdicts=verdicts, test="paired_t")
    facts = hr.compare_cohort_with_reported(cohort.patients, reported, study=STUDY)
    for frame in (table, facts):
        shuffled = frame.sample(frac=1, random_state=3).reset_index(drop=True)
        named = hr.figures_for_readers(shuffled, words)
        assert named.columns[0] == "figure"
        assert named.columns[-1] == "figure_id"
        assert "variable" not in named
        assert "group" not in named
        assert named["figure_id"].tolist() == shuffled["figure_id"].tolist()
        shown = hread.show(named, study=STUDY).frame
        by_id = dict(zip(shown["Id in the reported-figures file"], shown["Figure"], strict=True))
        statistic = dict(
            zip(shown["Id in the reported-figures file"], shown["Statistic"], strict=True)
        )
        checked = [fid for fid in expected if fid in by_id]
        assert len(checked) == (len(expected) if frame is table else 3)
        for figure_id in checked:
            assert (by_id[figure_id], statistic[figure_id]) == expected[figure_id]
        assert not any("_" in text for text in shown["Statistic"])
    # every statistic a reported-figures file may hold has a name for readers
    checks = ReportedFiguresModel.to_schema().columns["statistic"].checks
    allowed = next(c.statistics["allowed_values"] for c in checks if c.name == "isin")
    assert set(hread.STATISTIC_NAMES) == set(allowed)


def test_the_test_choice_sentence_recounted_from_the_audit():
    """Notebook 04's sentence on the chosen test: counts by a plain loop, tests named in words."""
    from helpers import audit as ha
    from helpers.stats import PAIRED_TESTS

    tests = ["sign_test", "paired_t", "wilcoxon_exact", "wilcoxon_asymptotic"]
    verdicts = ha.audit(load_reported(REPORTED), tests=tests)
    reached: dict[str, int] = {}
    for record in verdicts.to_dict("records"):
        reached[record["test"]] = reached.get(record["test"], 0) + bool(record["reachable"])
    best = max(reached.values())
    leaders = [t for t in tests if reached[t] == best]
    # by hand: no test reaches islet-cell antibodies' p=0,485; the t-test and the normal
    # approximation reach the other four; with 7 pairs the exact tests' p-values are multiples
    # of 1/64 or 1/128 (2/128 = 0.0156, 6/128 = 0.0469: none rounds to 0,04, 0,046 or 0,092),
    # so they reach only GAD's bound p>0,05
    assert reached == {"sign_test": 1, "paired_t": 4, "wilcoxon_exact": 1, "wilcoxon_asymptotic": 4}
    in_words = {
        "paired_t": "the paired t-test",
        "wilcoxon_asymptotic": "Wilcoxon signed-rank, normal approximation, no continuity "
        "correction (SPSS)",
    }
    for chosen, opening in (
        ("paired_t", "The paired t-test"),
        ("sign_test", "The sign test, exact binomial"),
    ):
        text = hr.describe_test_choice(verdicts, chosen=chosen)
        assert text == (
            f"{opening} reaches {reached[chosen]} of 5 reported p-values; the most any candidate "
            f"reaches is {best}, by {len(leaders)} tests: "
            + "; ".join(in_words[t] for t in leaders)
            + "."
        )
        assert not any(code in text for code in PAIRED_TESTS)


@pytest.mark.slow
def test_comparisons_raw_and_displayed_agree_with_scipy_and_by_hand(tricky):
    m = tricky.measurements
    raw = ho.adjust_pvalues(
        ho.compare_to_baseline(
            m, outcomes=TRICKY_OUTCOMES, visits=VISITS, n_boot=200, seed=1, ci_level=0.9
        )
    )
    expected = expected_comparisons(
        m, codes=TRICKY_OUTCOMES, visits=VISITS, baseline=0, ci_level=0.9
    )
    assert len(raw) == len(expected)
    for r in raw.itertuples():
        e = expected[(r.outcome, r.visit_month, r.analysis)]
        assert r.n == e["n"]
        if math.isnan(e["p"]):
            assert math.isnan(r.p_val)
            continue
        assert r.p_val == pytest.approx(e["p"], rel=1e-9)
        assert r.p_adj == pytest.approx(e["p_adj"], rel=1e-9)
        if r.analysis == "primary":
            assert (r.effect, r.effect_ci_low, r.effect_ci_high) == pytest.approx(
                (e["g"], e["g_low"], e["g_high"]), rel=1e-7
            )
            assert (r.change_ci_low, r.change_ci_high) == pytest.approx(
                (e["change_low"], e["change_high"]), rel=1e-9
            )
        else:
            assert r.change_estimate == pytest.approx(e["median_change"], abs=1e-9)

    shown = ho.comparison_table(raw, ci_level=0.9, study=STUDY)
    assert "effect size (90% CI)" in shown.columns
    tested = {k for k, e in expected.items() if not math.isnan(e["p"])}
    assert len(shown) == len(tested), "rows without data must not be shown"
    for (label, visit_text, analysis), row in shown.iterrows():
        visit = int(re.match(r"month (\d+) vs month 0", visit_text).group(1))
        e = expected[(UNIT_LABELS[label], visit, analysis)]
        assert row["n"] == e["n"]
        assert row["p"] == ("< 0.001" if e["p"] < 0.001 else f"{e['p']:.3f}")
        assert row["p (adjusted)"] == ("< 0.001" if e["p_adj"] < 0.001 else f"{e['p_adj']:.3f}")
        assert "Holm over" in row["adjusted over"]
        if analysis == "primary":
            assert row["effect size (90% CI)"].startswith(
                "Hedges' g (mean change / the two visits' pooled SD, small-sample corrected); "
                "Algina & Keselman (2003) CI of δav: "
            )
            numbers = [_num(x) for x in re.findall(r"−?\d+\.\d+", row["effect size (90% CI)"])]
            assert numbers == pytest.approx([e["g"], e["g_low"], e["g_high"]], abs=0.0051)

    sentence = ho.untested_comparisons(raw, study=STUDY)
    untested = sorted({(k[1], k[0]) for k, e in expected.items() if math.isnan(e["p"])})
    for visit, code in untested:
        assert f"month {visit} (" in sentence
        assert IN_TEXT[code] in sentence
        assert LABELS[code] not in sentence or LABELS[code] == IN_TEXT[code]
    for (code, visit, _), e in expected.items():
        if not math.isnan(e["p"]):
            assert f"{IN_TEXT[code]}: " not in sentence.split(f"month {visit} (")[-1].split(")")[0]


def test_planned_family_does_not_shrink_when_visits_are_missing(tricky):
    m = tricky.measurements
    raw = ho.compare_to_baseline(m, outcomes=["hba1c", "islet_ab"], visits=VISITS, n_boot=50)
    planned = ho.adjust_pvalues(raw)
    tested = ho.adjust_pvalues(raw, family="tested")
    prim = planned[planned["analysis"] == "primary"]
    assert prim["family"].str.startswith("Holm over 6 comparisons").all()
    assert "2 of them have no data and count as not rejected" in prim["family"].iloc[0]
    p = prim["p_val"].dropna().tolist()
    from recompute import holm

    assert prim["p_adj"].dropna().tolist() == pytest.approx(holm(p, 6))
    t_prim = tested[tested["analysis"] == "primary"]
    assert t_prim["p_adj"].dropna().tolist() == pytest.approx(holm(p, 4))


@pytest.mark.slow
def test_omnibus_against_scipy_and_statsmodels(tricky):
    m = tricky.measurements
    table = ho.omnibus_tests(m, outcomes=TRICKY_OUTCOMES, visits=VISITS)
    friedman_p = []
    visit_counts = set()
    for code in TRICKY_OUTCOMES:
        present = [v for v in VISITS if values(m, code, v)]
        by_visit = [values(m, code, v) for v in present]
        complete = sorted(set.intersection(*(set(d) for d in by_visit)))
        columns = [[d[p] for p in complete] for d in by_visit]
        fr = table[(table["outcome"] == code) & (table["method"] == "friedman")].iloc[0]
        assert fr["n_patients"] == len(complete)
        assert fr["p_val"] == pytest.approx(stats.friedmanchisquare(*columns).pvalue, rel=1e-9)
        friedman_p.append(fr["p_val"])
        long = pd.DataFrame(
            [(p, v, d[p]) for v, d in zip(present, by_visit, strict=True) for p in complete],
            columns=["patient_id", "visit_month", "value"],
        )
        aov = AnovaRM(long, "value", "patient_id", within=["visit_month"]).fit().anova_table
        rm = table[(table["outcome"] == code) & (table["method"] == "rm_anova")].iloc[0]
        assert rm["p_val"] == pytest.approx(aov["Pr > F"].iloc[0], rel=1e-9)
        # the test is named as it was run: Greenhouse–Geisser corrected from three visits on
        corrected = len(present) >= 3
        assert rm["test"] == "repeated-measures ANOVA" + (
            ", Greenhouse–Geisser p" if corrected else ""
        )
        assert pd.notna(rm["p_gg"]) is corrected
        visit_counts.add(len(present))
    assert max(visit_counts) >= 3
    two = ho.omnibus_tests(m, outcomes=TRICKY_OUTCOMES, visits=[0, 3])
    two = two[(two["method"] == "rm_anova") & two["p_val"].notna()]
    assert len(two) >= 2
    assert set(two["test"]) == {"repeated-measures ANOVA"}  # two visits: no correction to name
    assert two["p_gg"].isna().all()
    from recompute import holm

    shown = table[table["method"] == "friedman"]["p_adj"].tolist()
    assert shown == pytest.approx(holm(friedman_p, len(friedman_p)))


def test_means_ci_every_row_by_key(tricky):
    m = tricky.measurements
    table = ho.visit_means_ci(m, outcomes=TRICKY_OUTCOMES, visits=VISITS, ci_level=0.9)
    assert set(table["ci_level"]) == {0.9}
    for r in table.itertuples():
        v = np.array(list(values(m, r.outcome, r.visit_month).values()))
        low, high = stats.t.interval(0.9, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
        assert (r.n, r.mean, r.ci_low, r.ci_high) == pytest.approx(
            (len(v), v.mean(), low, high), rel=1e-12
        )


@pytest.mark.slow
def test_changes_every_patient_and_a_zero_baseline(tricky):
    m = tricky.measurements
    table = ho.change_from_baseline(m, outcomes=TRICKY_OUTCOMES)
    count = 0
    for code in TRICKY_OUTCOMES:
        base = values(m, code, 0)
        for visit in (1, 2, 3):
            for pid, after in values(m, code, visit).items():
                if pid not in base:
                    continue
                row = table[
                    (table["outcome"] == code)
                    & (table["visit_month"] == visit)
                    & (table["patient_id"] == pid)
                ].iloc[0]
                assert row["change"] == pytest.approx(after - base[pid], abs=1e-9)
                if base[pid] == 0:
                    assert math.isnan(row["percent_change"])
                    assert row["note"] == "baseline is zero: percent change undefined"
                else:
                    assert row["percent_change"] == pytest.approx(
                        100 * (after - base[pid]) / base[pid]
                    )
                    assert row["note"] == ""
                count += 1
    assert count == len(table)
    assert np.isfinite(table["percent_change"].dropna()).all()
    # text, as pandas types any column of strings; with no row too
    assert str(table["note"].dtype) == "str"
    none = ho.change_from_baseline(m[m["visit_month"] == 0], outcomes=TRICKY_OUTCOMES)
    assert none.empty
    assert str(none["note"].dtype) == "str"


@pytest.mark.slow
def test_safety_tables_against_scipy_statsmodels_and_by_hand(tricky):
    from statsmodels.stats.power import TTestPower

    m = tricky.measurements
    codes, margins = ["islet_ab", "gad_ab"], {"islet_ab": 2.0, "gad_ab": 3.0}
    table = hs.safety_analysis(
        m, outcomes=codes, visits=VISITS, margins=margins, alpha=0.1, ci_level=0.9
    )
    expected = expected_safety(
        m, codes=codes, visits=VISITS, baseline=0, margins=margins, alpha=0.1, ci_level=0.9
    )
    assert {(r.outcome, r.visit_month) for r in table.itertuples()} == set(expected)
    for r in table.itertuples():
        e = expected[(r.outcome, r.visit_month)]
        for column, value in e.items():
            assert getattr(r, column) == pytest.approx(value, rel=1e-9), column
        assert r.equivalent == (e["p_equivalence_adj"] < 0.1)
    detectable = hs.detectable_rise(m, outcomes=codes, visits=VISITS, alpha=0.1, power=0.9)
    for r in detectable.itertuples():
        dz = TTestPower().solve_power(nobs=r.n, alpha=0.1, power=0.9, alternative="larger")
        b, a = pairs(m, r.outcome, r.visit_month, 0)
        assert r.effect_size == pytest.approx(dz, rel=1e-4)
        assert r.detectable_rise == pytest.approx(dz * np.std(a - b, ddof=1), rel=1e-4)
    crossings = hs.patient_changes(
        m,
        outcomes=codes,
        visits=VISITS,
        baseline=1,
        cutoffs={"islet_ab": 10.0, "gad_ab": 10.0},
        meaningful_rise={"islet_ab": 1.0, "gad_ab": "50%"},
    )
    assert set(crossings["baseline_month"]) == {1}
    for r in crossings.itertuples():
        before = values(m, r.outcome, 1)[r.patient_id]
        after = values(m, r.outcome, r.visit_month)[r.patient_id]
        state = {True: "positive", False: "negative"}
        was, now = state[before >= 10.0], state[after >= 10.0]
        assert r.crossing == (f"stayed {now}" if was == now else f"became {now}")


@pytest.mark.slow
def test_abstract_format_uses_labels_by_key_and_shows_the_tested_patients():
    cohort = load_cohort(STANDIN, study=STUDY)
    reported = load_reported(REPORTED)
    m = cohort.measurements
    # one patient misses month 1: the means describe 7 and 6 patients, the test 6 pairs
    m = m[~((m["patient_id"] == "P03") & (m["outcome"] == "leptin") & (m["visit_month"] == 1))]
    table = hr.abstract_format_table(
        Cohort(cohort.patients, m, "x", study=STUDY),
        reported,
        outcomes=["leptin", "hba1c"],
        test="paired_t",
    )
    assert list(table["outcome"]) == ["Leptin (ng/mL)", "HbA1c (%)"]
    row = table.iloc[0]
    b0, a1 = list(values(m, "leptin", 0).values()), list(values(m, "leptin", 1).values())
    pb, pa = pairs(m, "leptin", 1, 0)
    assert row["n"] == "month 0: 7, month 1: 6; 6 pairs"
    assert row["recomputed_as_printed"].startswith(
        f"{statistics.mean(b0):.2f}".replace(".", ",")
        + " ± "
        + f"{statistics.stdev(b0):.1f}".replace(".", ",")
        + " → "
        + f"{statistics.mean(a1):.1f}".replace(".", ",")
    )
    p = stats.ttest_rel(pa, pb).pvalue
    assert row["recomputed_in_test_patients"] == (
        f"{pb.mean():.2f} ± {pb.std(ddof=1):.1f} → {pa.mean():.1f} ± {pa.std(ddof=1):.2f} "
        f"(p = {p:.3f})"
    ).replace(".", ",")


def notebook_tables(c: Cohort) -> dict[str, pd.DataFrame]:
    """Every table notebooks 01–05 compute from a cohort's measurements (tricky outcomes)."""
    from helpers import audit as ha
    from helpers import clinical as hcl
    from helpers import design as hdes

    reported = load_reported(REPORTED, study=STUDY)
    verdicts = ha.audit(reported, tests=["paired_t"])
    safety = ["gad_ab", "islet_ab"]
    plan = {"outcomes": TRICKY_OUTCOMES, "visits": VISITS, "baseline": 0}
    ms = c.measurements
    compared = ho.compare_to_baseline(ms, **plan, primary="paired_t",
                                      sensitivity="wilcoxon_r", n_boot=50, seed=1)  # fmt: skip
    return {
        "completeness": hc.visit_completeness(c, outcomes=TRICKY_OUTCOMES),
        "not analysed": pd.DataFrame(
            {"text": [hc.not_analysed(c, outcomes=safety, visits=VISITS, role="safety")]}
        ),
        "abstract format": hr.abstract_format_table(
            c, reported, outcomes=TRICKY_OUTCOMES, test="paired_t"
        ),
        "reproduced": hr.reproduce_reported(c, reported, test="paired_t"),
        "summary": ho.summary_table(
            ms, outcomes=TRICKY_OUTCOMES, visits=VISITS, derived=True, study=STUDY
        ),
        "comparisons": ho.adjust_pvalues(compared, method="holm", alpha=0.05),
        "omnibus": ho.omnibus_tests(ms, outcomes=TRICKY_OUTCOMES, visits=VISITS),
        "mixed": ho.mixed_model(ms, **plan),
        "means": ho.visit_means_ci(ms, outcomes=TRICKY_OUTCOMES, visits=VISITS),
        "changes": ho.change_from_baseline(ms, outcomes=TRICKY_OUTCOMES, baseline=0),
        "safety": hs.safety_analysis(
            ms,
            outcomes=safety,
            visits=VISITS,
            baseline=0,
            margins={"gad_ab": 5.0, "islet_ab": "20%"},
        ),
        "detectable": hs.detectable_rise(ms, outcomes=safety, visits=VISITS, baseline=0),
        "patients": hs.patient_changes(
            ms,
            outcomes=safety,
            visits=VISITS,
            baseline=0,
            cutoffs={"gad_ab": 10.0, "islet_ab": 10.0},
            meaningful_rise={"gad_ab": "50%", "islet_ab": 5.0},
        ),
        "idaa1c": hcl.idaa1c(ms, c.patients, study=STUDY)[0],
        "reproduction": hr.reproduction_table(c, reported, verdicts=verdicts, test="paired_t"),
        "schedule": hr.visit_schedule(c, reported),
        "planning": hdes.planning_inputs(ms, outcomes=TRICKY_OUTCOMES, visits=VISITS, baseline=0),
    }


def _written_as_pandas_writes_it(name: str, table: pd.DataFrame) -> set[str]:
    """Check report.to_csv_text (what write_tables writes for a table without an index) is
    pandas' to_csv, to the byte, also through the shortcut (each distinct value's field), which
    it takes from _SHORTCUT_FROM_ROWS rows on; name the table if the shortcut can write it."""
    from helpers import report

    if not isinstance(table.index, pd.RangeIndex):
        return set()  # written with its index, by to_csv itself
    expected = table.to_csv(index=False, lineterminator="\n")
    assert report.to_csv_text(table) == expected, name
    with mock.patch.object(report, "_SHORTCUT_FROM_ROWS", 0):  # the shortcut, at any size
        assert report.to_csv_text(table) == expected, name
    columns = [report._distinct_fields(table[c]) for c in table]
    return {name} if len(columns) > 1 and None not in columns else set()


@pytest.mark.slow
def test_every_table_is_the_same_with_text_or_categorical_ids(tricky):
    """load_cohort makes patient_id and outcome categorical (the measurements schema, as
    data.as_factors does); the simulated cohorts and a researcher's own frames have text.
    Every table must come out the same, in any order of the rows. The ids are renamed so that
    their sorted order is not the order of the file (P10 before P2), and, besides the tricky
    cohort's gaps, one patient has no gad_ab at all: an analysis that listed unobserved
    categories would show it. Each table is also written as write_tables writes it, which
    must be pandas' own CSV text, and the per-patient tables must take the shortcut that
    makes large ones fast."""
    from helpers.data import as_factors

    names = {f"S0{i}": f"P{n}" for i, n in enumerate([7, 10, 2, 1, 30, 3, 9, 20, 11], start=1)}
    patients = tricky.patients.assign(patient_id=tricky.patients["patient_id"].map(names))
    m = tricky.measurements.assign(patient_id=tricky.measurements["patient_id"].map(names))
    m = m[~((m["patient_id"] == "P2") & (m["outcome"] == "gad_ab"))].reset_index(drop=True)
    assert m["patient_id"].notna().all()
    assert list(dict.fromkeys(m["patient_id"])) != sorted(set(m["patient_id"]))
    text = Cohort(patients, m, "tricky", {"kind": "simulated"}, STUDY)

    expected = notebook_tables(text)
    fast = set()
    for name, table in expected.items():
        if table is not None:
            fast |= _written_as_pandas_writes_it(name, table)
    for shuffled in _orders(m, 2):
        factors = Cohort(patients, as_factors(shuffled), "tricky", {"kind": "simulated"}, STUDY)
        assert isinstance(factors.measurements["patient_id"].dtype, pd.CategoricalDtype)
        got = notebook_tables(factors)
        for name, table in expected.items():
            assert (table is None) == (got[name] is None), name
            if table is not None:
                assert got[name].to_csv() == table.to_csv(), name
                assert len(table) > 0, name
                fast |= _written_as_pandas_writes_it(name, got[name])
    assert {"changes", "patients", "mixed", "planning"} <= fast, fast
    assert expected["changes"]["patient_id"].nunique() == 9
    gad = expected["changes"][expected["changes"]["outcome"] == "gad_ab"]
    assert "P2" not in set(gad["patient_id"])
