"""The audit on tables of other designs: two arms at months 3, 6 and 12, and binary outcomes.

Both tables under ``tests/data`` are SYNTHETIC (their notes say so): they have
the shape of real abstracts, not their numbers. Every verdict is recomputed
here by another path: scipy directly at the printed figures, or the
discordant-pair splits enumerated by hand with the binomial distribution.
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pandas as pd
import pytest
from scipy import stats
from studydef import STUDY

from helpers.audit import audit, consistent_tests, main
from helpers.data import load_cohort
from helpers.precision import matches_reported
from helpers.reported import comparisons_from_reported, load_reported
from helpers.reproduction import abstract_format_table

from conftest import REPORTED, STANDIN

DATA = STANDIN.parent.parent / "tests" / "data"
TWO_ARM = DATA / "audit_two_arm.csv"
PAIRED_BINARY = DATA / "audit_paired_binary.csv"


@pytest.fixture(scope="module")
def two_arm() -> pd.DataFrame:
    return load_reported(TWO_ARM)


def test_any_visit_months_and_group_names_are_read(two_arm):
    comparisons = comparisons_from_reported(two_arm)
    assert [(c.design, c.visit1, c.group1, c.group2) for c in comparisons] == [
        ("independent", 3, "control", "msc"),
        ("independent", 6, "control", "msc"),
        ("independent", 12, "control", "msc"),
        ("independent_binary", 12, "control", "msc"),
    ]
    assert all((c.n1, c.n2) == (12, 12) for c in comparisons)


def test_t_test_verdicts_agree_with_scipy_at_the_printed_figures(two_arm):
    verdicts = audit(two_arm, tests=["student_t", "welch_t"]).set_index(["comparison", "test"])
    for c in comparisons_from_reported(two_arm):
        if c.binary:
            continue
        for test, equal_var in (("student_t", True), ("welch_t", False)):
            p = stats.ttest_ind_from_stats(
                c.mean1.value, c.sd1.value, c.n1, c.mean2.value, c.sd2.value, c.n2, equal_var
            ).pvalue
            if matches_reported(p, c.p.value, c.p.relation, c.p.decimals):
                assert verdicts.loc[(c.comparison_id, test), "reachable"], (c.comparison_id, p)


@pytest.mark.slow
def test_two_arm_counts_verdicts_agree_with_scipy(two_arm):
    verdicts = audit(two_arm).query("design == 'independent_binary'").set_index("test")
    table = [[9, 3], [3, 9]]  # remission: 9 of 12 (msc) and 3 of 12 (control)
    by_scipy = {
        "fisher_exact": stats.fisher_exact(table).pvalue,
        "chi_square": stats.chi2_contingency(table, correction=False).pvalue,
        "chi_square_yates": stats.chi2_contingency(table, correction=True).pvalue,
    }
    for test, p in by_scipy.items():
        assert verdicts.loc[test, "reachable"] == matches_reported(p, 0.04, "=", 2), test
    # by hand: chi-square = 24 (81 - 9)^2 / 12^4 = 6.0 without correction, p = 0.0143
    assert by_scipy["chi_square"] == pytest.approx(stats.chi2.sf(6.0, 1))


def _mcnemar_by_hand(x_before: int, x_after: int, n: int) -> dict[str, set[float]]:
    """Every McNemar p over the splits of the discordant pairs, from first principles."""
    out: dict[str, set[float]] = {"exact": set(), "plain": set(), "edwards": set()}
    for b in range(0, n + 1):
        c = b + x_after - x_before
        if c < 0 or x_before - b < 0 or n - x_before - c < 0:
            continue
        if b + c == 0:
            out["exact"].add(1.0)
            out["plain"].add(1.0)
            out["edwards"].add(1.0)
            continue
        out["exact"].add(min(1.0, 2 * stats.binom.cdf(min(b, c), b + c, 0.5)))
        out["plain"].add(stats.chi2.sf((b - c) ** 2 / (b + c), 1))
        out["edwards"].add(stats.chi2.sf((abs(b - c) - 1) ** 2 / (b + c), 1))
    return out


@pytest.mark.slow
def test_p_below_0001_for_six_paired_binary_outcomes_is_shown_impossible():
    reported = load_reported(PAIRED_BINARY)
    verdicts = audit(reported).set_index(["variable", "test"])
    by_hand = _mcnemar_by_hand(0, 6, 6)
    assert min(min(v) for v in by_hand.values()) > 0.001  # 0.0143 at best (2 * 0.5^6 exact)
    for test in ("mcnemar_exact", "mcnemar_asymptotic", "mcnemar_asymptotic_cc"):
        assert not verdicts.loc[("c_peptide_positive", test), "reachable"]
    names = {
        "exact": "mcnemar_exact",
        "plain": "mcnemar_asymptotic",
        "edwards": "mcnemar_asymptotic_cc",
    }
    for kind, ps in _mcnemar_by_hand(1, 7, 10).items():
        fits = any(matches_reported(p, 0.03, "=", 2) for p in ps)
        assert verdicts.loc[("insulin_independent", names[kind]), "reachable"] == fits
    summary = consistent_tests(audit(reported))
    assert "no test reaches c_peptide_positive: month 12 vs month 0" in summary


@pytest.mark.slow
def test_the_closing_summary_names_tests_consistent_with_every_p(two_arm):
    verdicts = audit(two_arm)
    summary = consistent_tests(verdicts).splitlines()
    for design, line in zip(["independent", "independent_binary"], summary, strict=True):
        block = verdicts[verdicts["design"] == design]
        named = []
        for test, rows in block.groupby("test", sort=False):
            values = list(rows["reachable"])
            if any(v is False for v in values):
                continue
            undetermined = any(v is None for v in values)
            named.append(test + (" (where ties were not enumerated, undetermined)" * undetermined))
        n = block["comparison"].nunique()
        assert line == (
            f"{design} ({n} comparison{'s' if n > 1 else ''}): consistent with every "
            f"reported p: {', '.join(named)}."
        )
    assert summary[1].endswith("fisher_exact, chi_square_yates.")


@pytest.mark.slow  # 0.3 s or more alone (make check leaves it to make test)
def test_rank_tests_with_untold_ties_are_undetermined_not_impossible(two_arm):
    verdicts = audit(two_arm).set_index(["comparison", "test"])
    row = verdicts.loc[("hba1c: msc (month 3) vs control (month 3)", "mann_whitney_exact")]
    assert row["reachable"] is None
    assert row["reason"].startswith("undetermined: no tie-free data set")


@pytest.mark.slow
def test_group_sizes_and_counts_are_printed_with_their_groups(two_arm):
    out = io.StringIO()
    with redirect_stdout(out):
        main([str(TWO_ARM)])
    text = out.getvalue()
    assert "(independent, n = 12 (msc) + 12 (control))" in text
    assert "e.g. control: 3 of 12, msc: 9 of 12" in text


@pytest.mark.slow
@pytest.mark.parametrize("table", [TWO_ARM, PAIRED_BINARY])
def test_the_command_line_reads_the_table_and_names_consistent_tests(table):
    out = io.StringIO()
    with redirect_stdout(out):
        assert main([str(table)]) == 0
    text = out.getvalue()
    assert "Tests consistent with every reported p-value:" in text
    assert consistent_tests(audit(load_reported(table))) in text


@pytest.mark.slow
def test_correlation_ranges_print_with_digits_that_differ():
    verdicts = audit(load_reported(REPORTED), tests=["paired_t"]).set_index("variable")
    assert "between 0.718 and 0.722" in verdicts.loc["hba1c", "implies"]


def test_the_abstract_format_line_skips_designs_it_does_not_recompute(two_arm):
    cohort = load_cohort(STANDIN, study=STUDY)
    table = abstract_format_table(cohort, two_arm, outcomes=["hba1c"], test="paired_t")
    assert table.empty
