"""Citation, licences, line endings and Binder: what lets others reuse the compendium."""

from __future__ import annotations

import json
import subprocess

import jsonschema
import yaml

from helpers.paths import PROJECT_ROOT

SCHEMA = PROJECT_ROOT / "tests" / "data" / "citation-file-format-1.2.0.schema.json"


def _citation() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_file_is_valid_citation_file_format():
    """What ``cffconvert --validate`` checks: the CFF 1.2.0 JSON schema (draft 7)."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(_citation())


def test_the_schema_check_would_catch_a_broken_citation():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = {**_citation(), "cff-version": "1.2.0", "authors": []}
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(broken))
    assert errors


def test_citation_cites_the_compendium_and_both_studies():
    cff = _citation()
    assert cff["type"] == "software"
    assert cff["license"] == "MIT"
    titles = [r["title"] for r in cff["references"]]
    assert any("autologous mesenchymal stem cell transplantation" in t.lower() for t in titles)
    assert any(r.get("doi") == "10.4103/2230-8210.140257" for r in cff["references"])
    first_author = cff["references"][0]["authors"][0]["family-names"]
    assert first_author in (PROJECT_ROOT / "data" / "reported" / "abstract.md").read_text()


def test_licences_are_stated_for_code_data_and_the_quoted_abstracts():
    text = (PROJECT_ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "CC BY 4.0" in text
    assert "quoted abstracts" in text
    assert "RECONSTRUCTED" in text


def test_data_files_keep_their_bytes_on_every_platform():
    files = ["data/standin/patients.csv", "data/standin/provenance.json", "data/study.yaml"]
    out = subprocess.run(
        ["git", "check-attr", "text", "--", *files],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.count(": text: unset") == len(files), out


def test_binder_installs_the_helpers_from_the_checkout():
    """repo2docker reads environment.yml at the root (a binder/ folder would hide it)."""
    assert not (PROJECT_ROOT / "binder").exists()
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert "conda-forge" in env["channels"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip
    assert "mybinder.org/v2/" in (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
