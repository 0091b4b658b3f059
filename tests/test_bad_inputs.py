"""A corpus of bad inputs: each is refused before any kernel starts, with one clear message.

Every case runs through the runner as a user would (``helpers.run.run``) against a
reports folder holding a last good report, and checks that

* the error is the expected one and names what is wrong (parameter and value, or
  file, row, column, value and rule);
* no internal exception text or traceback leaks into the message;
* the last good report survives byte for byte, and nothing outside ``reports/`` changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from studydef import STUDY

from helpers.errors import DataValidationError, HelpersError, ParameterError
from helpers.run import discover_notebooks, run

from conftest import REPORTED, STANDIN

NB = {nb.stem[:2]: nb for nb in discover_notebooks()}

# --------------------------------------------------------------------------------------
# Parameter sets: (id, notebook, YAML body under that notebook or None for a whole file,
# expected message fragment)
# --------------------------------------------------------------------------------------
PARAMETER_CASES = [
    ("alpha-too-large", "02", "alpha: 1.5", "alpha = 1.5: must be a number greater than 0"),
    ("alpha-text", "02", "alpha: abc", "alpha = 'abc': must be a number"),
    ("alpha-yaml-exponent", "02", "alpha: 5e-2", "YAML reads 5e-2 as text"),
    ("alpha-bool", "02", "alpha: true", "alpha = True: must be a number"),
    ("alpha-nan", "02", "alpha: .nan", "alpha = nan: must be a number"),
    ("alpha-zero", "02", "alpha: 0", "alpha = 0: must be a number greater than 0"),
    ("alpha-negative", "03", "alpha: -0.05", "alpha = -0.05"),
    ("ci-level-percent", "02", "ci_level: 95", "ci_level = 95: must be a number at least 0.5"),
    ("ci-level-one", "02", "ci_level: 1.0", "ci_level = 1.0"),
    ("power-zero", "03", "power: 0", "power = 0: must be a number"),
    ("power-too-large", "03", "power: 1.5", "power = 1.5"),
    ("margin-inf", "03", "margins: {gad_ab: .inf, islet_ab: 5}", "gad_ab: inf must be a positive"),
    ("margin-bool", "03", "margins: {gad_ab: true, islet_ab: 5}", "gad_ab: True must be"),
    ("margin-negative", "03", "margins: {gad_ab: -1, islet_ab: 5}", "gad_ab: -1 must be"),
    ("margin-no-percent", "03", "margins: {gad_ab: '50', islet_ab: 5}", "gad_ab: '50' must be"),
    ("margin-zero-percent", "03", "margins: {gad_ab: '0%', islet_ab: 5}", "gad_ab: '0%' must be"),
    ("margin-missing", "03", "margins: {gad_ab: 5}", "margins: gives no value for islet_ab"),
    (
        "margin-unknown-outcome",
        "03",
        "margins: {gad_ab: 5, islet_ab: 5, leptn: 3}",
        "unknown outcome code(s) ['leptn']",
    ),
    ("margin-scalar", "03", "margins: 5", "margins = 5: must map outcome codes"),
    ("cutoff-negative", "03", "cutoffs: {gad_ab: -10, islet_ab: 10}", "gad_ab: -10 must be"),
    ("cutoff-text", "03", "cutoffs: {gad_ab: abc, islet_ab: 10}", "gad_ab: 'abc' must be"),
    ("cutoff-missing", "03", "cutoffs: {islet_ab: 10}", "cutoffs: gives no value for gad_ab"),
    ("rise-zero", "03", "meaningful_rise: {gad_ab: 0, islet_ab: '50%'}", "gad_ab: 0 must be"),
    (
        "baseline-not-a-visit",
        "02",
        "baseline: 5",
        "baseline = 5: must be a visit month of the study",
    ),
    ("baseline-text", "02", "baseline: '0'", "baseline = '0'"),
    (
        "baseline-outside-visits",
        "02",
        "visits: [0, 1]\n    baseline: 2",
        "one of the visits [0, 1]",
    ),
    ("visit-unknown", "02", "visits: [0, 7]", "visits = [0, 7]: must hold visit months"),
    ("visits-one", "03", "visits: [0]", "visits = [0]: must be a list of at least two"),
    ("visits-repeated", "02", "visits: [0, 0, 1]", "visits = [0, 0, 1]: names a visit twice"),
    ("visits-scalar", "02", "visits: 3", "visits = 3: must be a list"),
    ("visits-float", "02", "visits: [0, 1.0]", "must hold visit months"),
    ("outcome-unknown", "02", "outcomes: [insulin_dose, c_peptide]", "['c_peptide']"),
    ("outcomes-empty", "02", "outcomes: []", "outcomes = []: must be a non-empty list"),
    ("outcomes-string", "02", "outcomes: insulin_dose", "outcomes = 'insulin_dose': must be"),
    ("outcomes-repeated", "02", "outcomes: [hba1c, hba1c]", "names a outcome twice"),
    ("primary-test-unknown", "02", "primary_test: t_test", "primary_test = 't_test': must be one"),
    ("sensitivity-unknown", "03", "sensitivity_test: wilcox", "sensitivity_test = 'wilcox'"),
    ("multiplicity-unknown", "02", "multiplicity: tukey", "multiplicity = 'tukey': must be one"),
    ("family-unknown", "02", "multiplicity_family: all", "multiplicity_family = 'all'"),
    ("seed-negative", "02", "seed: -1", "seed = -1: must be a whole number"),
    ("seed-float", "03", "seed: 1.5", "seed = 1.5: must be a whole number"),
    ("seed-base-60", "02", "seed: 1:20", "seed = '1:20': must be a whole number"),
    ("n-boot-small", "02", "n_boot: 10", "n_boot = 10: must be a whole number from 100"),
    ("n-boot-text", "02", "n_boot: '2000'", "n_boot = '2000'"),
    ("data-dir-number", "01", "data_dir: 123", "data_dir = 123: must be non-empty text"),
    ("data-dir-empty", "01", "data_dir: ''", "data_dir = '': must be non-empty text"),
    ("reported-path-list", "01", "reported_path: [a]", "reported_path = ['a']"),
    ("precision-rule", "04", "precision_rule: floor", "precision_rule = 'floor': must be one"),
    ("audit-test", "04", "test: anova", "test = 'anova': must be one of"),
    ("candidate-tests", "04", "candidate_tests: [paired_t, nope]", "['nope']"),
    ("margin-source-empty", "03", "margin_source: ''", "margin_source = ''"),
    ("tables-dir-set", "02", "tables_dir: 5", "tables_dir is set by the runner"),
    ("long-key-refused", "02", "x" * 5000 + ": 1", "not valid YAML"),
    ("unknown-parameter", "02", "alpah: 0.05", "unknown parameter 'alpah'"),
    ("long-value-capped", "02", "primary_test: " + "x" * 500, "xxx'… (500 characters)"),
]

WHOLE_FILE_CASES = [
    ("empty-file", b"", "the file is empty"),
    ("comments-only", b"# nothing here\n", "the file is empty"),
    ("duplicate-key", b"common:\n  data_dir: a\n  data_dir: b\n", "'data_dir' is given twice"),
    ("duplicate-section", b"common: {}\ncommon: {}\n", "'common' is given twice"),
    ("invalid-yaml", b"common: [\n", "not valid YAML"),
    ("top-level-list", b"- a\n- b\n", "unexpected top-level keys"),
    ("unknown-top-level", b"commons:\n  data_dir: x\n", "unexpected top-level keys ['commons']"),
    ("unknown-notebook", b"notebooks:\n  09_nothing: {}\n", "names no notebook"),
    (
        "section-not-mapping",
        b"notebooks:\n  02_glycemic_outcomes: [1]\n",
        "'02_glycemic_outcomes' must map parameter names to values",
    ),
    ("section-empty", b"notebooks:\n  02_glycemic_outcomes:\n", "'02_glycemic_outcomes' must map"),
    ("notebooks-list", b"notebooks:\n  - 01_cohort_description\n", "'notebooks' must map"),
    ("common-list", b"common: []\n", "'common' must map parameter names to values"),
    ("description-list", b"description: [not, text]\n", "'description' must be text"),
    ("key-is-a-list", b"common:\n  ? [a, b]\n  : 1\n", "a key must be a plain name"),
    ("common-undeclared", b"common:\n  alpah: 0.05\n", "common parameter 'alpah'"),
    ("not-utf8", "common:\n  data_dir: d\u00e9\n".encode("latin-1"), "not UTF-8 text"),
]

# --------------------------------------------------------------------------------------
# Data folders: (id, edit of a copy of the stand-in without provenance, fragment)
# --------------------------------------------------------------------------------------
Edit = Callable[[Path], object]


def _sub(name: str, old: str, new: str, count: int = 1) -> Edit:
    def edit(d: Path) -> None:
        text = (d / name).read_text(encoding="utf-8")
        assert old in text, (name, old)
        (d / name).write_text(text.replace(old, new, count), encoding="utf-8")

    return edit


def _write(name: str, content: bytes) -> Edit:
    return lambda d: (d / name).write_bytes(content)


def _header_only(name: str) -> Edit:
    return lambda d: (d / name).write_text(
        (d / name).read_text().splitlines()[0] + "\n", encoding="utf-8"
    )


def _folder(name: str) -> Edit:
    def edit(d: Path) -> None:
        (d / name).unlink()
        (d / name).mkdir()

    return edit


def _append(name: str, line: str) -> Edit:
    return lambda d: (d / name).write_text((d / name).read_text() + line, encoding="utf-8")


def _stand_in_provenance(d: Path) -> None:
    shutil.copy(STANDIN / "provenance.json", d / "provenance.json")


def _both(*edits: Edit) -> Edit:
    def edit(d: Path) -> None:
        for e in edits:
            e(d)

    return edit


P, M = "patients.csv", "measurements.csv"
DATA_CASES = [
    ("age-text", _sub(P, "P02,F,24", "P02,F,forty"), P, "value 'forty': must be a whole number"),
    ("id-duplicate", _sub(P, "P02,", "P01,"), P, "must be unique"),
    ("name-column", lambda d: _add_column(d / P, "name", "Ivan"), P, "a direct identifier"),
    ("phone-column", lambda d: _add_column(d / P, "Phone", "123"), P, "a phone number"),
    ("sex-unknown", _sub(P, ",F,", ",X,"), P, "value 'X': must be one of ['M', 'F']"),
    ("age-implausible", _sub(P, "P02,F,24", "P02,F,150"), P, "must be between 18 and 100"),
    ("patients-header-only", _header_only(P), P, "has a header but no patients"),
    ("patients-empty", _write(P, b""), P, "file is empty; a header row is needed"),
    ("patients-blank-lines", _write(P, b"\n\n\n"), P, "file is empty"),
    ("patients-folder", _folder(P), P, "is a folder; a CSV file is needed here"),
    ("patients-missing", lambda d: (d / P).unlink(), P, "file not found"),
    ("patients-semicolons", _sub(P, ",", ";", 999), P, "separate its columns with semicolons"),
    ("patients-tabs", _sub(P, ",", "\t", 999), P, "separate its columns with tabs"),
    ("patients-latin1", _write(P, "patient_id,sex\nPé1,M\n".encode("latin-1")), P, "not UTF-8"),
    ("id-phone", _sub(P, "P01,", "79161234567,"), P, "looks like a direct identifier, not a"),
    ("id-name", _sub(P, "P01,", "IvanPetrov,"), P, "(hidden: 10 characters)"),
    ("id-date-of-birth", _sub(P, "P01,", "1990-01-02,"), P, "a date, or no digit"),
    ("id-with-space", _sub(P, "P01,", "P 01,"), P, "must be a pseudonymous id"),
    ("decimal-comma-extra-field", _sub(P, "P01,M,25,95,3", "P01,M,25,95,3,5"), P, "6 fields"),
    ("trailing-comma-rows", lambda d: _trailing(d / P), P, "every row ends with an extra comma"),
    ("header-trailing-comma", _sub(P, "culture_weeks", "culture_weeks,"), P, "extra comma"),
    ("column-missing", lambda d: _drop_column(d / P, 4), P, "required column is missing"),
    ("header-missing-name", lambda d: _drop_header(d / P, 4), P, "every row has 5 fields"),
    ("quote-unclosed", _sub(P, "P01,M", '"P01,M'), P, "fields but the header has"),
    ("value-text", _sub(M, "63.3", "abc"), M, "value 'abc': must be a number"),
    ("value-decimal-comma", _sub(M, "63.3", "63,3"), M, "a decimal comma such as 63,3"),
    (
        "value-quoted-decimal-comma",
        _sub(M, "63.3", '"63,3"'),
        M,
        "value '63,3': must be a number (outcome's unit); write the decimal point as '.', not ','",
    ),
    ("value-column-missing", _sub(M, ",value", ",valu"), M, "column 'value': required column"),
    ("visit-unknown", _sub(M, "P01,1,", "P01,7,"), M, "value '7': must be one of [0, 1, 2, 3]"),
    ("outcome-unknown", _sub(M, ",hba1c,", ",c_peptide,"), M, "value 'c_peptide': must be one"),
    ("hba1c-in-mmol", _sub(M, "9.47", "75.0"), M, "HbA1c must be between 3 and 20"),
    ("insulin-negative", _sub(M, "63.3", "-63.3"), M, "Daily insulin dose must be between"),
    ("measurement-twice", _append(M, "P01,0,hba1c,9.5\n"), M, "this combination must be unique"),
    ("patient-unknown", _append(M, "P99,0,hba1c,9.5\n"), M, "patient is not in patients.csv"),
    ("value-empty", _sub(M, "63.3", ""), M, "must not be empty"),
    ("measurements-folder", _folder(M), M, "is a folder"),
    ("measurements-empty", _write(M, b""), M, "file is empty"),
    ("visit-text", _sub(M, "P01,1,", "P01,one,"), M, "value 'one': must be a whole number"),
    ("value-nan", _sub(M, "63.3", "NaN"), M, "value 'NaN': is not a measurement"),
    ("value-inf", _sub(M, "63.3", "-inf"), M, "value '-inf': is not a measurement"),
    ("weight-nan", lambda d: _add_column(d / P, "weight_kg", "nan"), P, "is not a measurement"),
    ("id-line-break", _sub(P, "P01,", '"P01\n",'), P, "must not contain spaces or line breaks"),
    ("id-case-twin", _sub(P, "P02,", "p01,"), P, "differs from another id only in upper"),
    ("excel-sep-line", lambda d: _prepend(d / P, "sep=,\n"), P, "Excel's 'sep=' hint"),
    (
        "long-column-name",
        lambda d: _add_column(d / P, "c" * 100_000, "1"),
        P,
        "(100000 characters)",
    ),
    ("bad-json", _write("provenance.json", b"{bad"), "provenance.json", "not valid JSON"),
    ("json-list", _write("provenance.json", b"[1]"), "provenance.json", "must be a JSON object"),
    (
        "label-without-checksums",
        _write("provenance.json", b'{"kind": "reconstructed"}'),
        "provenance.json",
        "records no 'files' checksums",
    ),
    (
        "label-on-other-files",
        _both(_stand_in_provenance, _sub(P, "P02,F,24", "P02,F,25")),
        "provenance.json",
        "the SHA-256 of patients.csv does not match",
    ),
    (
        "label-unknown-kind",
        _write("provenance.json", b'{"kind": "real"}'),
        "provenance.json",
        "'kind' is 'real'",
    ),
]


def _trailing(path: Path) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], *(f"{line}," for line in lines[1:])]) + "\n")


def _prepend(path: Path, text: str) -> None:
    path.write_text(text + path.read_text(), encoding="utf-8")


def _add_column(path: Path, name: str, value: str) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join([f"{lines[0]},{name}", *(f"{x},{value}" for x in lines[1:])]) + "\n")


def _drop_column(path: Path, index: int) -> None:
    rows = [line.split(",") for line in path.read_text().splitlines()]
    path.write_text("\n".join(",".join(r[:index] + r[index + 1 :]) for r in rows) + "\n")


def _drop_header(path: Path, index: int) -> None:
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    path.write_text("\n".join([",".join(header[:index] + header[index + 1 :]), *lines[1:]]) + "\n")


# --------------------------------------------------------------------------------------


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, Path]:
    """A data copy, a params folder and a reports folder holding a last good report."""
    data = tmp_path / "data"
    shutil.copytree(STANDIN, data)
    (data / "provenance.json").unlink()
    reports = tmp_path / "reports"
    (reports / "case").mkdir(parents=True)
    (reports / "case" / "01_cohort_description.html").write_text("last good report")
    (reports / "case" / "tables").mkdir()
    (reports / "case" / "tables" / "02_summary.csv").write_text("a,b\n1,2\n")
    params = tmp_path / "params"
    params.mkdir()
    return {"root": tmp_path, "data": data, "reports": reports, "params": params}


def _refused(ws: dict[str, Path], error: type[Exception], notebooks: list[Path]) -> str:
    before_reports, before_all = _digest(ws["reports"]), _digest(ws["root"])
    with pytest.raises(error) as info:
        run("case", notebooks, reports_dir=ws["reports"], params_dir=ws["params"], progress=False)
    message = str(info.value)
    assert "Traceback" not in message
    assert "Error(" not in message, "internal exception text leaked into the message"
    assert len(message) < 6000
    assert _digest(ws["reports"]) == before_reports, "the last good report changed"
    after = _digest(ws["root"])
    assert {k: v for k, v in after.items() if not k.startswith("reports/")} == {
        k: v for k, v in before_all.items() if not k.startswith("reports/")
    }, "a file outside reports/ changed"
    return message


@pytest.mark.parametrize(
    ("notebook", "body", "fragment"),
    [c[1:] for c in PARAMETER_CASES],
    ids=[c[0] for c in PARAMETER_CASES],
)
def test_parameter_value_refused(workspace, notebook, body, fragment):
    nb = NB[notebook]
    text = f"common:\n  data_dir: {workspace['data']}\nnotebooks:\n  {nb.stem}:\n    {body}\n"
    (workspace["params"] / "case.yaml").write_text(text, encoding="utf-8")
    message = _refused(workspace, ParameterError, [nb])
    assert fragment in message
    assert "case.yaml" in message or "parameter set 'case'" in message


def test_a_misspelt_name_and_a_wrong_value_are_refused_in_one_message(workspace):
    """A misspelt name does not hide the wrong values beside it: one message lists both, each
    once, so the set is fixed in one go."""
    nb = NB["02"]
    text = (
        f"common:\n  data_dir: {workspace['data']}\n  aplha: 0.05\n  ci_level: 95\n"
        f"notebooks:\n  {nb.stem}:\n    seeed: 3\n    alpha: 0.7\n"
    )
    (workspace["params"] / "case.yaml").write_text(text, encoding="utf-8")
    message = _refused(workspace, ParameterError, [nb])
    for fragment in (
        "common parameter 'aplha' is declared by no notebook",
        "unknown parameter 'seeed'",
        "alpha = 0.7: must be a number greater than 0",
        "ci_level = 95: must be a number at least 0.5",
    ):
        assert message.count(fragment) == 1, (fragment, message)
    assert "case.yaml" in message


@pytest.mark.parametrize(
    ("content", "fragment"),
    [c[1:] for c in WHOLE_FILE_CASES],
    ids=[c[0] for c in WHOLE_FILE_CASES],
)
def test_parameter_file_refused(workspace, content, fragment):
    (workspace["params"] / "case.yaml").write_bytes(content)
    message = _refused(workspace, ParameterError, [NB["02"]])
    assert fragment in message


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "file", "fragment"),
    [c[1:] for c in DATA_CASES],
    ids=[c[0] for c in DATA_CASES],
)
def test_bad_data_refused_before_any_kernel(workspace, edit, file, fragment):
    edit(workspace["data"])
    (workspace["params"] / "case.yaml").write_text(f"common:\n  data_dir: {workspace['data']}\n")
    message = _refused(workspace, DataValidationError, [NB["01"]])
    assert fragment in message
    assert str(workspace["data"] / file) in message, "the message names the file's absolute path"


@pytest.mark.parametrize(
    ("target", "fragment"),
    [("missing", "data folder not found"), ("file", "data folder is a file")],
)
def test_data_dir_that_is_not_a_folder(workspace, target, fragment):
    path = workspace["root"] / "nothing" if target == "missing" else workspace["data"] / P
    (workspace["params"] / "case.yaml").write_text(f"common:\n  data_dir: {path}\n")
    assert fragment in _refused(workspace, DataValidationError, [NB["01"]])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda t: t.splitlines()[0] + "\n", "has a header but no rows"),
        (lambda t: t.replace(",mean,", ",average,", 1), "value 'average': must be one of"),
        (lambda t: t.replace("results,", "resluts,", 1), "value 'resluts'"),
        (lambda t: t.replace(",n,all,,,,7,", ",n,all,,,,2.5,", 1), "a count (n) a whole number"),
        (lambda t: t.replace(",13.71,", ",-13.71,", 1), "an SD not negative"),
        (lambda t: t.replace(",13.71,", ",1e999,", 1), "must be a finite number"),
    ],
    ids=[
        "header-only",
        "statistic-unknown",
        "section-unknown",
        "n-fraction",
        "sd-negative",
        "sd-infinite",
    ],
)
def test_bad_reported_table_refused(workspace, edit, fragment):
    table = workspace["root"] / "reported.csv"
    table.write_text(edit(REPORTED.read_text()))
    (workspace["params"] / "case.yaml").write_text(
        f"common:\n  data_dir: {STANDIN}\n  reported_path: {table}\n"
    )
    message = _refused(workspace, DataValidationError, [NB["01"]])
    assert fragment in message
    assert str(table) in message


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("/../../../tmp/v", "must be a name of letters, digits"),
        ("../default", "must be a name"),
        ("a b", "must be a name"),
        ("nope", "no parameter set 'nope'"),
    ],
)
def test_set_names_are_names(workspace, name, fragment):
    before = _digest(workspace["root"])
    with pytest.raises(ParameterError) as info:
        run(name, [NB["01"]], reports_dir=workspace["reports"], params_dir=workspace["params"])
    assert fragment in str(info.value)
    assert _digest(workspace["root"]) == before


@pytest.mark.parametrize("jobs", [0, -1, True])
def test_jobs_must_be_positive(workspace, jobs):
    (workspace["params"] / "case.yaml").write_text("description: x\n")
    with pytest.raises(ParameterError, match="jobs must be a whole number of 1 or more"):
        run(
            "case",
            [NB["01"]],
            reports_dir=workspace["reports"],
            params_dir=workspace["params"],
            jobs=jobs,
        )


def test_accepted_formats(workspace):
    """CRLF line ends, a byte-order mark, quoted fields and blank lines at the end are fine."""
    from helpers.data import load_cohort

    data = workspace["data"]
    text = (data / P).read_text().replace("P01,M,", '"P01","M",', 1)
    (data / P).write_bytes(("\ufeff" + text.replace("\n", "\r\n") + "\r\n\r\n").encode("utf-8"))
    cohort = load_cohort(data, study=STUDY)
    assert cohort.patients["patient_id"].tolist()[0] == "P01"
    assert len(cohort.patients) == 7


def test_the_corpus_is_large_enough():
    n = len(PARAMETER_CASES) + len(WHOLE_FILE_CASES) + len(DATA_CASES) + 2 + 3 + 4 + 3
    assert n >= 80


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--params", "/../../tmp/v"], "must be a name"),
        (["--params", "nope"], "no parameter set 'nope'"),
        (["--jobs", "-1"], "jobs must be a whole number"),
    ],
)
def test_command_line_says_one_line_and_exits_1(tmp_path, capsys, args, fragment):
    """The command line's answer to each (``python -m helpers.run`` itself: test_run.py)."""
    from helpers.run import main

    code = main(["--no-progress", "--reports", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ")
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err
    assert "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_helpers_error_is_the_base_of_every_refusal():
    assert issubclass(ParameterError, HelpersError)
    assert issubclass(DataValidationError, HelpersError)


@pytest.mark.slow
@pytest.mark.usefixtures("warm_session")
def test_a_copied_checkout_does_not_work_on_the_original(tmp_path):
    """A copy of the project run with the original's environment is refused, not served."""
    from helpers.paths import PROJECT_ROOT

    copy = tmp_path / "copy"
    (copy / "notebooks").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "pyproject.toml", copy / "pyproject.toml")
    env = {k: v for k, v in os.environ.items() if k != "AMSCT_PROJECT_ROOT"}
    result = subprocess.run(
        [sys.executable, "-m", "helpers.run", "--no-progress"],
        cwd=copy / "notebooks",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: you are working in {copy}")
    assert "make setup" in result.stderr
    assert not (copy / "reports").exists()


def test_a_flood_of_bad_values_is_reported_by_a_sample_and_a_count(workspace, monkeypatch):
    from helpers import data as hd

    monkeypatch.setattr(hd, "FLOOD", 5)
    rows = "".join(f"P01,0,hba1c,x{i}\n" for i in range(40))
    (workspace["data"] / M).write_text("patient_id,visit_month,outcome,value\n" + rows)
    (workspace["params"] / "case.yaml").write_text(f"common:\n  data_dir: {workspace['data']}\n")
    message = _refused(workspace, DataValidationError, [NB["01"]])
    assert "21 more rows have values that are not numbers" in message
    assert "value 'x0'" in message
    assert "value 'x30'" not in message
    assert len(message.splitlines()) <= 21


@pytest.mark.slow
def test_plain_papermill_refuses_a_wrong_value_in_the_notebook_itself(tmp_path):
    """Run without the runner (as JupyterLab or plain papermill would), a bad value stops the
    notebook at its check cell, right after the parameters, with the same message."""
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as info:
        papermill.execute_notebook(
            str(NB["02"]),
            str(tmp_path / "out.ipynb"),
            parameters={"alpha": 1.5, "visits": [0, 7]},
            progress_bar=False,
            cwd=str(NB["02"].parent),
        )
    assert info.value.ename == "ParameterError"
    assert "alpha = 1.5: must be a number greater than 0 and less than 0.5" in info.value.evalue
    assert "visits = [0, 7]" in info.value.evalue
    assert info.value.exec_count == 3  # parameters, injected parameters, then the check


def test_a_quoted_line_break_keeps_line_numbers_right(workspace):
    """A value with a line break in quotes moves the rows below it down one line."""
    from helpers.data import load_cohort

    path = workspace["data"] / P
    lines = path.read_text().splitlines()
    first = lines[1].split(",")
    first[1] = '"M\n"'  # a line break inside a quoted value: row 1 takes two lines
    lines[1] = ",".join(first)
    fifth = lines[5].split(",")
    fifth[2] = "x"
    lines[5] = ",".join(fifth)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataValidationError) as info:
        load_cohort(workspace["data"], study=STUDY)
    message = str(info.value)
    assert "row 5 (line 7), column 'age_years', value 'x'" in message


def test_yaml_merge_keys_and_anchors_are_read(workspace):
    from helpers.run import load_parameter_set

    (workspace["params"] / "case.yaml").write_text(
        "common: &shared\n  data_dir: data/standin\n"
        "notebooks:\n  02_glycemic_outcomes:\n    <<: *shared\n    alpha: 0.1\n"
    )
    pset = load_parameter_set("case", workspace["params"])
    assert pset.notebooks["02_glycemic_outcomes"] == {"data_dir": "data/standin", "alpha": 0.1}


@pytest.mark.slow
def test_a_folder_for_a_set_file_and_a_file_for_reports(workspace):
    (workspace["params"] / "case.yaml").mkdir()
    with pytest.raises(ParameterError, match="is a folder; a parameter set is a YAML file"):
        run("case", [NB["01"]], reports_dir=workspace["reports"], params_dir=workspace["params"])
    (workspace["params"] / "case.yaml").rmdir()
    (workspace["params"] / "case.yaml").write_text("description: x\n")
    blocked = workspace["root"] / "file"
    blocked.write_text("x")
    with pytest.raises(HelpersError, match="is a file; name a folder"):
        run("case", [NB["01"]], reports_dir=blocked, params_dir=workspace["params"])


def test_a_relative_data_dir_that_is_missing_says_its_base(workspace):
    (workspace["params"] / "case.yaml").write_text("common:\n  data_dir: no/such/folder\n")
    message = _refused(workspace, DataValidationError, [NB["01"]])
    assert "relative to the project root" in message


def test_a_wrong_common_value_from_the_command_line_is_one_line_naming_its_notebooks(
    tmp_path, capsys
):
    """``-p alpha=1.5``: the heading says the value came from the command line, and the
    problem is one line naming every notebook that declares alpha (not one per notebook)."""
    from helpers.run import declared_parameters, discover_notebooks, main

    code = main(["--no-progress", "--reports", str(tmp_path), "-p", "alpha=1.5"])
    err = capsys.readouterr().err
    assert code == 1
    assert "parameter set 'default' (" in err
    assert "with -p alpha=1.5 from the command line" in err
    problems = [line for line in err.splitlines() if "alpha = 1.5" in line]
    assert len(problems) == 1, err
    declaring = [p.stem for p in discover_notebooks() if "alpha" in declared_parameters(p)]
    assert len(declaring) >= 2
    assert problems[0].endswith(f"(in {', '.join(declaring)})")
    assert not list(tmp_path.iterdir())


def test_an_empty_value_from_the_command_line_is_shown_as_typed_and_what_it_became(
    tmp_path, capsys
):
    """``-p alpha=``: YAML's null. The heading shows it as typed (not ``alpha=None``) and says
    it is None, which the problem line then names; nothing is written."""
    from helpers.run import main

    code = main(["--no-progress", "--reports", str(tmp_path), "-p", "alpha="])
    err = capsys.readouterr().err
    assert code == 1
    assert "with -p alpha= (an empty value, or null, is None) from the command line" in err
    assert "alpha=None" not in err
    assert "  - alpha = None: must be a number" in err
    assert not list(tmp_path.iterdir())


def test_a_wrong_value_for_make_reproduce_starts_no_site_build(tmp_path, capsys, monkeypatch):
    """``make reproduce`` (``--site``) with ``-p alpha=1.5``: refused before the site's Sphinx
    build is started (once the run is checked), so no folder is made in the reports folder."""
    from helpers import site
    from helpers.run import main

    started = []
    monkeypatch.setattr(site, "prestarted_build", lambda reports: started.append(reports))
    reports = tmp_path / "reports"
    code = main(["--no-progress", "--reports", str(reports), "--site", "-p", "alpha=1.5"])
    assert code == 1
    assert "alpha = 1.5: must be" in capsys.readouterr().err
    assert started == []
    assert not reports.exists()


def test_a_wrong_command_line_value_no_notebook_of_the_run_takes_is_refused(tmp_path, capsys):
    """``--notebook 01 -p alpha=1.5``: notebook 01 does not declare alpha, but a wrong value
    is refused all the same, before anything runs."""
    from helpers.run import declared_parameters, discover_notebooks, main

    nb01 = next(p for p in discover_notebooks() if p.stem.startswith("01_"))
    assert "alpha" not in declared_parameters(nb01)
    code = main(
        ["--no-progress", "--reports", str(tmp_path), "--notebook", nb01.stem, "-p", "alpha=1.5"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "alpha = 1.5: must be" in err
    assert "taken by no notebook of this run" in err
    assert not list(tmp_path.iterdir())
