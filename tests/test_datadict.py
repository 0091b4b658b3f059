"""The Frictionless data dictionary: current, and agreeing with pandera on good and bad files."""

from __future__ import annotations

import json
import shutil

import pytest
from frictionless import Package, system
from studydef import STUDY

from helpers.data import load_cohort
from helpers.datadict import DATAPACKAGE, datapackage
from helpers.errors import DataValidationError
from helpers.paths import resolve_path
from helpers.schema import patients_schema

from conftest import STANDIN


def test_committed_datapackage_is_current():
    committed = json.loads(resolve_path(DATAPACKAGE).read_text(encoding="utf-8"))
    assert committed == datapackage(STUDY), "run `make datadict` and commit the result"


def test_bounds_come_from_the_models():
    fields = {f["name"]: f for f in datapackage(STUDY)["resources"][0]["schema"]["fields"]}
    age = patients_schema(STUDY).columns["age_years"]
    (in_range,) = [c for c in age.checks if c.name == "in_range"]
    assert fields["age_years"]["constraints"]["minimum"] == in_range.statistics["min_value"]
    assert fields["age_years"]["unit"] == "years"
    assert all(f.get("source") for f in fields.values())


def _frictionless_valid(directory) -> bool:
    with system.use_context(trusted=True):
        report = Package(str(directory / "datapackage.json")).validate()
    return report.valid


def test_frictionless_accepts_the_standin():
    assert _frictionless_valid(STANDIN)


@pytest.mark.parametrize(
    ("old", "new"),
    [(",20,", ",forty,"), (",20,", ",200,"), ("P02,", "P01,")],
    ids=["text age", "age out of range", "duplicate id"],
)
def test_frictionless_and_pandera_both_reject(tmp_path, old, new):
    shutil.copytree(STANDIN, tmp_path / "d")
    path = tmp_path / "d" / "patients.csv"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    assert not _frictionless_valid(tmp_path / "d")
    with pytest.raises(DataValidationError):
        load_cohort(tmp_path / "d", study=STUDY)
