"""A cohort checked once is read back, not checked again, only while nothing it depends on changed.

The runner validates each data folder before its kernels start and stores the
validated cohort in ``reports/.checked``; the kernels read it back
(``helpers.data.load_cohort``). These tests hold the promises that make that safe:
the cohort read back is the one validation returned, to the last value and
type; changed data, a changed study file or changed checking code are validated
afresh; bad data are never stored; an unreadable store is ignored; the folder
keeps a few cohorts only.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from studydef import STUDY, STUDY_FILE

from helpers import cache, data, run
from helpers.data import checked_cohort_file, load_cohort, store_checked_cohort
from helpers.errors import DataValidationError, HelpersError
from helpers.paths import PROJECT_ROOT
from helpers.simulate import simulate_cohort, write_cohort

from conftest import rewrite


@pytest.fixture
def cohort_dir(tmp_path: Path) -> Path:
    """A simulated cohort with missing visits, written with its provenance (checksums)."""
    folder = tmp_path / "cohort"
    write_cohort(
        simulate_cohort(12, study=STUDY, missing=[("insulin", 1), ("leptin", 3)], seed=5),
        folder,
    )
    return folder


@pytest.fixture
def validations(monkeypatch) -> list[str]:
    """Count the files validated (each call of ``validate_table`` names its file)."""
    seen: list[str] = []
    real = data.validate_table
    monkeypatch.setattr(
        data,
        "validate_table",
        lambda text, schema, name: seen.append(name) or real(text, schema, name),
    )
    return seen


def _checked(data_dir, *, study, checked) -> data.Cohort:
    """As the runner checks a cohort: keyed first, read (from ``checked`` if there), stored."""
    file = checked_cohort_file(study, data_dir, checked)
    cohort = load_cohort(data_dir, study=study, checked=checked)
    store_checked_cohort(cohort, study=study, file=file)
    return cohort


def _stored(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.cohort.pickle")) if folder.is_dir() else []


def _same(a: data.Cohort, b: data.Cohort) -> None:
    pd.testing.assert_frame_equal(a.patients, b.patients, check_exact=True)
    pd.testing.assert_frame_equal(a.measurements, b.measurements, check_exact=True)
    assert (a.provenance, a.data_dir, a.study) == (b.provenance, b.data_dir, b.study)
    assert (a.patients.attrs, a.measurements.attrs) == (b.patients.attrs, b.measurements.attrs)


def test_a_checked_cohort_is_read_back_exactly_and_not_validated_again(
    cohort_dir, tmp_path, validations, monkeypatch
):
    checked = tmp_path / "reports" / ".checked"
    first = _checked(cohort_dir, study=STUDY_FILE, checked=checked)
    assert len(validations) == 2
    assert len(_stored(checked)) == 1
    assert checked.stat().st_mode & 0o077 == 0  # the folder is its owner's only
    again = _checked(cohort_dir, study=STUDY_FILE, checked=checked)
    assert len(validations) == 2  # read back
    _same(again, first)
    assert first.measurements["value"].isna().sum() == 0  # missing visits are absent rows
    assert again.provenance["kind"] == "simulated"
    # the runner's kernels name the folder in the environment, and only read it
    monkeypatch.setenv(cache.CHECKED_ENV, str(checked))
    _same(load_cohort(cohort_dir, study=STUDY_FILE), first)
    assert len(validations) == 2


def test_the_folder_is_named_as_given_whichever_way_it_is_named(tmp_path, validations):
    checked = tmp_path / "checked"
    relative = _checked("data/standin", study=STUDY_FILE, checked=checked)
    absolute = _checked(PROJECT_ROOT / "data" / "standin", study=STUDY_FILE, checked=checked)
    assert len(validations) == 2  # one folder, one key
    assert (relative.data_dir, absolute.data_dir) == (
        "data/standin",
        str(PROJECT_ROOT / "data" / "standin"),
    )
    assert "data/standin" in relative.source_statement()
    pd.testing.assert_frame_equal(relative.measurements, absolute.measurements, check_exact=True)


@pytest.mark.slow
def test_without_a_folder_nothing_is_read_or_written(
    cohort_dir, tmp_path, validations, monkeypatch
):
    monkeypatch.delenv(cache.CHECKED_ENV, raising=False)
    load_cohort(cohort_dir, study=STUDY_FILE)
    load_cohort(cohort_dir, study=STUDY_FILE)
    assert len(validations) == 4
    checked = tmp_path / "checked"
    monkeypatch.setenv(cache.CHECKED_ENV, str(checked))
    load_cohort(cohort_dir, study=STUDY_FILE)  # named by the environment: read only
    load_cohort(cohort_dir, study=STUDY_FILE, checked=checked)  # named: read only too
    assert len(validations) == 8
    assert not checked.exists()
    # a Study object may differ from every file: never read or stored
    load_cohort(cohort_dir, study=STUDY, checked=checked)
    load_cohort(cohort_dir, study=STUDY, checked=checked)
    assert len(validations) == 12
    assert not _stored(checked)


@pytest.mark.slow
def test_changed_data_are_validated_afresh_and_bad_data_never_stored(
    data_copy, tmp_path, validations, monkeypatch
):
    checked = tmp_path / "checked"
    _checked(data_copy, study=STUDY_FILE, checked=checked)
    monkeypatch.setenv(cache.CHECKED_ENV, str(checked))
    path = data_copy / "measurements.csv"
    rewrite(path, "63.3", "-63.3")  # one byte: an impossible value
    for _ in range(2):
        with pytest.raises(DataValidationError) as refused:
            _checked(data_copy, study=STUDY_FILE, checked=checked)
        assert refused.value.failures[0].value == "-63.3"
    assert len(_stored(checked)) == 1  # the good cohort's only
    rewrite(path, "-63.3", "63.4")  # a good value, another cohort
    changed = load_cohort(data_copy, study=STUDY_FILE)
    assert 63.4 in changed.measurements["value"].tolist()
    assert 63.3 not in changed.measurements["value"].tolist()
    assert len(validations) == 2 * 4


@pytest.mark.slow
def test_a_changed_study_file_or_checking_helper_is_validated_afresh(
    cohort_dir, tmp_path, validations, monkeypatch
):
    checked = tmp_path / "checked"
    study_copy = tmp_path / "study.yaml"
    shutil.copy(STUDY_FILE, study_copy)
    _checked(cohort_dir, study=study_copy, checked=checked)
    _checked(cohort_dir, study=study_copy, checked=checked)
    assert len(validations) == 2
    study_copy.write_text(study_copy.read_text() + "\n# edited\n")
    _checked(cohort_dir, study=study_copy, checked=checked)
    assert len(validations) == 4
    real = cache.digest
    monkeypatch.setattr(cache, "digest", lambda p: "edited" if p.name == "schema.py" else real(p))
    _checked(cohort_dir, study=study_copy, checked=checked)
    assert len(validations) == 6


@pytest.mark.slow
@pytest.mark.parametrize(
    "content",
    [b"", b"not a pickle", pickle.dumps({"patients": 1}), pickle.dumps((1, 2, 3))],
    ids=["empty", "garbage", "a dict", "wrong types"],
)
def test_an_unreadable_store_is_ignored(cohort_dir, tmp_path, validations, caplog, content):
    checked = tmp_path / "checked"
    expected = _checked(cohort_dir, study=STUDY_FILE, checked=checked)
    (stored,) = _stored(checked)
    stored.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="helpers.data"):
        got = _checked(cohort_dir, study=STUDY_FILE, checked=checked)
    _same(got, expected)
    assert len(validations) == 4
    assert f"ignored the checked cohort {stored}" in caplog.text
    assert pickle.loads(stored.read_bytes())[1].equals(expected.measurements)  # stored anew


@pytest.mark.slow
def test_the_folder_keeps_the_newest_cohorts_only(data_copy, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "KEEP_CHECKED", 2)
    checked = tmp_path / "checked"
    path = data_copy / "measurements.csv"
    keys = []
    for value in ("63.4", "63.5", "63.6"):
        rewrite(path, "63.3" if not keys else keys[-1][0], value)
        _checked(data_copy, study=STUDY_FILE, checked=checked)
        keys.append((value, data._stored_cohort(STUDY_FILE, data_copy, checked)))
    assert _stored(checked) == sorted(k for _, k in keys[1:])
    assert [p.name for p in checked.glob(".*")] == [".gitignore"]  # no part-written file left


def test_the_folder_is_ignored_by_git_and_parts_a_killed_process_left_are_removed(
    cohort_dir, tmp_path
):
    checked = tmp_path / "elsewhere" / "checked"
    stale, fresh = checked / ".a.cohort.pickle.part", checked / ".b.cohort.pickle.part"
    checked.mkdir(parents=True)
    for part in (stale, fresh):
        part.write_bytes(b"patient-level data, half written")
    old = time.time() - 2 * data._STALE_PART
    os.utime(stale, (old, old))
    _checked(cohort_dir, study=STUDY_FILE, checked=checked)
    assert (checked / ".gitignore").read_text().splitlines()[-1] == "*"
    assert not stale.exists()
    assert fresh.exists()  # perhaps another run's, still being written
    (stored,) = _stored(checked)
    assert stored.stat().st_mode & 0o077 == 0  # its owner's only


@pytest.mark.slow
def test_files_changed_while_checked_are_not_stored(data_copy, tmp_path, caplog):
    checked = tmp_path / "checked"
    file = checked_cohort_file(STUDY_FILE, data_copy, checked)
    cohort = load_cohort(data_copy, study=STUDY_FILE)
    rewrite(data_copy / "measurements.csv", "63.3", "99.9")  # valid, but not what was read
    with caplog.at_level(logging.WARNING, logger="helpers.data"):
        assert not store_checked_cohort(cohort, study=STUDY_FILE, file=file)
    assert "changed while they were checked" in caplog.text
    assert not _stored(checked)
    again = load_cohort(data_copy, study=STUDY_FILE, checked=checked)
    assert 99.9 in again.measurements["value"].tolist()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("setting", "named"),
    [({"validation_enabled": False}, "PANDERA_VALIDATION_ENABLED"),
     ({"validation_depth": "SCHEMA_ONLY"}, "PANDERA_VALIDATION_DEPTH")],
)  # fmt: skip
def test_data_pandera_would_not_check_are_refused_not_stored(data_copy, tmp_path, setting, named):
    from pandera.config import config_context

    checked = tmp_path / "checked"
    _checked(data_copy, study=STUDY_FILE, checked=checked)  # good data, stored
    with config_context(**setting), pytest.raises(HelpersError, match=named):
        load_cohort(data_copy, study=STUDY_FILE, checked=checked)  # refused, stored or not
    resolved = {run.discover_notebooks()[0]: {"study_file": STUDY_FILE, "data_dir": str(data_copy)}}
    run._check_inputs(resolved, checked)  # recorded as passed
    with config_context(**setting), pytest.raises(HelpersError, match=named):
        run._check_inputs(resolved, checked)  # refused all the same
    for stored in _stored(checked):
        stored.unlink()
    rewrite(data_copy / "measurements.csv", "63.3", "-63.3")
    with config_context(**setting), pytest.raises(HelpersError, match=named):
        _checked(data_copy, study=STUDY_FILE, checked=checked)
    assert not _stored(checked)
    with pytest.raises(DataValidationError):  # and checked as ever when pandera checks again
        _checked(data_copy, study=STUDY_FILE, checked=checked)


def test_a_store_that_cannot_be_written_costs_time_only(cohort_dir, tmp_path, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with caplog.at_level(logging.WARNING, logger="helpers.data"):
        got = _checked(cohort_dir, study=STUDY_FILE, checked=blocked / "checked")
    assert len(got.patients) == 12
    assert "could not store the checked cohort" in caplog.text
