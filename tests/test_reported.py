"""The reported-figures table accounts for every number in the abstract, faithfully."""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import pytest

from helpers.errors import DataValidationError
from helpers.paths import PROJECT_ROOT
from helpers.precision import format_number
from helpers.reported import load_reported

from conftest import ABSTRACT, REPORTED

SHARED_ABSTRACT = PROJECT_ROOT.parent / "shared" / "study" / "abstract.md"


def _section(text: str, name: str, until: str) -> str:
    start = text.index(f"{name}:")
    return text[start : text.index(f"{until}:", start)]


def _numbers(text: str) -> list[str]:
    """Numbers as printed: comma or point decimals; not digits inside words (T1DM)."""
    text = text.replace("×10^6", "")  # the unit of the cell dose, not a reported figure
    return re.findall(r"(?<![A-Za-z\d])\d+(?:[.,]\d+)?", text)


@pytest.fixture(scope="module")
def abstract() -> str:
    return ABSTRACT.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def reported():
    return load_reported(REPORTED)


def test_every_number_in_methods_and_results_is_accounted_for(abstract, reported):
    body = _section(abstract, "Methods", "Results") + _section(abstract, "Results", "Conclusions")
    printed = Counter(_numbers(body))
    # Methods: 7, 5, 2, 20, 42, 3, 4, 95, 97 and the visits 1, 2, 3 (12); Results: 5 outcomes
    # x (2 means, 2 SDs, 1 p) and the follow-ups '1month', '3 months' (27).
    assert sum(printed.values()) == 39
    covered = {format_number(r.value, r.decimals) for r in reported.itertuples()}
    missing = {n for n in printed if n.replace(",", ".") not in covered}
    assert not missing, f"numbers in the abstract with no row in {REPORTED.name}: {missing}"


def test_every_row_quotes_the_abstract_verbatim(abstract, reported):
    absent = [r.figure_id for r in reported.itertuples() if r.quote not in abstract]
    assert not absent


def test_every_value_is_printed_in_its_quote(reported):
    for r in reported.itertuples():
        digits = re.findall(r"\d", r.quote)
        if not digits:  # e.g. 'before' = month 0: an interpretation, which the note must explain
            assert isinstance(r.note, str), r.figure_id
            assert r.note, r.figure_id
            continue
        printed = format_number(r.value, r.decimals)
        assert printed in r.quote or printed.replace(".", ",") in r.quote, r.figure_id


def test_plus_read_as_plus_minus_is_noted(reported):
    plus_rows = reported[reported["quote"].str.contains(r"\d \+ \d", regex=True)]
    assert len(plus_rows) >= 4
    means = plus_rows[plus_rows["statistic"] == "mean"]
    assert means["note"].str.contains("'+' read as '±'", regex=False).all()


def test_five_outcome_comparisons(reported):
    p = reported[reported["statistic"] == "p_value"]
    assert sorted(p["variable"]) == ["gad_ab", "hba1c", "insulin_dose", "islet_ab", "leptin"]
    assert set(p.loc[p["variable"] == "gad_ab", "relation"]) == {">"}
    for r in p.itertuples():
        stats = reported[
            (reported["variable"] == r.variable) & (reported["statistic"] != "p_value")
        ]
        assert set(stats["visit"]) == {r.visit, r.reference_visit}


#: SHA-256 of the study's source document (shared/study/abstract.md) as it was handed over.
ABSTRACT_SHA256 = "9a93aaeae871705a4848c6129dadb7910fe26b79bfd1994ed87c6a56a54b6549"


def test_repo_copy_of_abstract_is_verbatim():
    """The copy in data/reported is the source document, byte for byte, in any clone."""
    assert hashlib.sha256(ABSTRACT.read_bytes()).hexdigest() == ABSTRACT_SHA256
    if SHARED_ABSTRACT.exists():  # and, where the shared folder is beside the clone, still is
        assert hashlib.sha256(SHARED_ABSTRACT.read_bytes()).hexdigest() == ABSTRACT_SHA256


def test_bad_reported_table_rejected(tmp_path):
    text = REPORTED.read_text(encoding="utf-8")
    bad = tmp_path / "r.csv"
    bad.write_text(text.replace(",0.04,=,2,", ",1.4,~,2,"), encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load_reported(bad)
    rules = " ".join(f.rule for f in info.value.failures)
    assert "must be one of ['=', '<', '>']" in rules
    assert "p_value row" in rules
