"""Every comparison with the report: cohort facts, outcome figures, the abstract-format line.

This module owns every place where the compendium sets a number it computed
beside the number the report printed: cohort facts (counts, ranges) against
the patients table, each outcome figure (mean, SD, paired p) recomputed on the
patients of its group, the abstract-format line of each comparison, and the
whole reproduction table judged by the audit (:mod:`helpers.audit`). What the
report says is read through :mod:`helpers.reported`; labels come from the
study definition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from helpers.audit import audit
from helpers.data import Cohort
from helpers.outcomes import outcome_pairs
from helpers.precision import format_number, matches_reported, plain_quote, plural
from helpers.reported import comparisons_from_reported
from helpers.stats import INDEPENDENT_TESTS, PAIRED_TESTS, mean_sd, paired_test
from helpers.study import Study, label_for

__all__ = [
    "AUDIT_LABEL",
    "abstract_format_table",
    "audit_files_source",
    "cohort_statistic",
    "compare_cohort_with_reported",
    "describe_reading",
    "describe_sem_reading",
    "describe_test_choice",
    "describe_ties_needed",
    "figures_for_readers",
    "granularity_matrix",
    "reachability_by_rule",
    "reachability_matrix",
    "reproduce_reported",
    "reproduction_table",
    "summarise_matches",
    "summarise_reproduction",
    "visit_schedule",
]


#: The label of a figure drawn from the published figures alone (the audit's).
AUDIT_LABEL = "COMPUTED FROM THE PUBLISHED FIGURES ALONE, NOT FROM PATIENT-LEVEL DATA"


def audit_files_source(reported_path: str, statement: str) -> str:
    """Say which of the audit's files come from the report alone, and which from the data.

    The note beside notebook 04's files (:func:`helpers.report.write_tables`):
    its verdicts and reachability figure read only the report's printed figures;
    its reproduction table sets them beside figures computed from the data,
    which ``statement`` (:meth:`helpers.data.Cohort.source_statement`) describes.

    Parameters
    ----------
    reported_path : str
        The file of the report's figures, as the notebook was given it.
    statement : str
        Which data the reproduction table was computed from.

    Returns
    -------
    str

    Examples
    --------
    >>> print(audit_files_source("data/reported/abstract_figures.csv", "Data: made up."))
    The audit's verdicts and its reachability figure are computed from the published figures (data/reported/abstract_figures.csv) alone, not from patient-level data. The reproduction table sets those figures beside figures computed from these data: Data: made up.
    """  # noqa: E501
    return (
        "The audit's verdicts and its reachability figure are computed from the published "
        f"figures ({reported_path}) alone, not from patient-level data. The reproduction "
        f"table sets those figures beside figures computed from these data: {statement}"
    )


def reproduction_table(
    cohort: Cohort,
    reported: pd.DataFrame,
    *,
    verdicts: pd.DataFrame,
    test: str,
    rule: str = "round",
    variables: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every reported cohort and outcome figure: reported, recomputed, match, audit verdict.

    Parameters
    ----------
    cohort : Cohort
    reported : pandas.DataFrame
        A reported-figures table.
    verdicts : pandas.DataFrame
        The audit of the same table (:func:`helpers.audit.audit`), including ``test``.
    test : str
        The paired test used to recompute p-values.
    rule : {"round", "truncate"}, default "round"
    variables : sequence of str, optional
        Keep only the figures about these variables (e.g. two outcomes).

    Returns
    -------
    pandas.DataFrame
        ``figure_id``, ``statistic``, ``reported`` (quote), ``value``,
        ``relation``, ``decimals``, ``recomputed``, ``match``, and for p-values
        ``reachable_by_test`` (the audit's verdict: can any data give it?) and
        ``audit_note``.

    Examples
    --------
    >>> from helpers.audit import audit
    >>> from helpers.data import load_cohort
    >>> from helpers.reported import load_reported
    >>> rep = load_reported("data/reported/abstract_figures.csv")
    >>> table = reproduction_table(load_cohort("data/standin", study="data/study.yaml"), rep,
    ...                            verdicts=audit(rep, tests=["paired_t"]), test="paired_t")
    >>> len(table)
    34
    """
    if cohort.study is None:
        raise ValueError("the cohort was read without a study definition (load_cohort(study=...))")
    facts = compare_cohort_with_reported(cohort.patients, reported, study=cohort.study).rename(
        columns={"observed": "recomputed"}
    )
    outcomes = reproduce_reported(cohort, reported, test=test, rule=rule)
    columns = [
        "figure_id",
        "statistic",
        "reported",
        "value",
        "relation",
        "decimals",
        "recomputed",
        "match",
    ]
    table = pd.concat([facts[columns], outcomes[columns]], ignore_index=True)
    mine = verdicts[verdicts["test"] == test].set_index("p_figure_id")
    table["reachable_by_test"] = table["figure_id"].map(mine["reachable"]).astype("boolean")
    notes = mine["implies"].where(mine["reachable"], mine["reason"])
    table["audit_note"] = table["figure_id"].map(notes).fillna("")
    if variables is not None:
        about = reported.set_index("figure_id")["variable"]
        table = table[table["figure_id"].map(about).isin(variables)].reset_index(drop=True)
    return table


def reachability_matrix(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Comparison × test table of whether the reported p is reachable, with a total row.

    Parameters
    ----------
    verdicts : pandas.DataFrame
        The audit (:func:`helpers.audit.audit`).

    Returns
    -------
    pandas.DataFrame
        Booleans, comparisons as rows (in audit order), tests as columns (in
        audit order), and a last row ``reachable (of N)`` with counts.

    Examples
    --------
    >>> v = pd.DataFrame({"comparison": ["a", "a", "b", "b"], "test": ["t", "w", "t", "w"],
    ...                   "reachable": [True, False, True, True]})
    >>> reachability_matrix(v).loc["reachable (of 2)"].tolist()
    [2, 1]
    """
    matrix = verdicts.pivot(index="comparison", columns="test", values="reachable")
    matrix = matrix.loc[verdicts["comparison"].unique(), verdicts["test"].unique()]
    matrix.columns.name = None
    counts = matrix.eq(True).sum().astype(int).to_frame(f"reachable (of {len(matrix)})").T
    return pd.concat([matrix.astype(object), counts.astype(object)])


def summarise_reproduction(
    table: pd.DataFrame,
    *,
    test: str,
    words: Mapping[str, str] | None = None,
    ids: bool = True,
    reconstructed: bool = False,
) -> str:
    """Say in plain words what reproduces, what cannot, and why (Markdown).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`reproduction_table`.
    test : str
        The test used.
    words : mapping of str to str, optional
        Each figure's words (:func:`helpers.reported.figures_in_words`): a figure
        is then named by them, its id (the tables' ``figure_id``) beside them.
    ids : bool, default True
        Whether to put a named figure's id beside its words: for a summary
        shown with a table that lists the ids; ``False`` where no table the
        reader sees does (the words alone then name the figure).
    reconstructed : bool, default False
        Whether the data were reconstructed from these figures (the stand-in):
        the summary then says that their reproducing is by construction.

    Returns
    -------
    str

    Examples
    --------
    >>> t = pd.DataFrame({"figure_id": ["a.p"], "statistic": ["p_value"], "reported": ["p=0,5"],
    ...     "match": [False], "reachable_by_test": [False], "audit_note": ["none can"]})
    >>> print(summarise_reproduction(t, test="paired_t"))  # doctest: +NORMALIZE_WHITESPACE
    - 0 of 1 reported figure reproduces at reported precision with the paired t-test.
    - 1 cannot be reproduced by any data analysed with this test:
      **a.p** (reported as “p=0,5”): none can.
    >>> words = {"a.p": "HbA1c, month 3 against baseline"}
    >>> print(summarise_reproduction(t, test="paired_t", words=words).splitlines()[-1])
      **HbA1c, month 3 against baseline** (reported as “p=0,5”; figure `a.p`): none can.
    >>> print(summarise_reproduction(t, test="paired_t", words=words, ids=False).splitlines()[-1])
      **HbA1c, month 3 against baseline** (reported as “p=0,5”): none can.
    >>> two = pd.concat([t, t.assign(figure_id="a.m0", statistic="mean", match=True,
    ...     reachable_by_test=None)])
    >>> print(summarise_reproduction(two, test="paired_t", reconstructed=True))
    ... # doctest: +NORMALIZE_WHITESPACE
    - 1 of 2 reported figures reproduces at reported precision: 0 of 1 p-value, with the
      paired t-test, and 1 of 1 other figure, which does not depend on the test.
    - 1 cannot be reproduced by any data analysed with this test:
      **a.p** (reported as “p=0,5”): none can.
    - These data were reconstructed from the reported figures: that they reproduce them checks
      the reconstruction, not the study.
    """
    words = words or {}

    def name(r: Any, *more: str) -> str:
        if r.figure_id not in words:
            return f"**{r.figure_id}**" + (f" ({'; '.join(more)})" if more else "")
        shown = [*more, f"figure `{r.figure_id}`"] if ids else list(more)
        return f"**{words[r.figure_id]}**" + (f" ({'; '.join(shown)})" if shown else "")

    n, ok = len(table), int(table["match"].sum())
    named = PAIRED_TESTS.get(test, INDEPENDENT_TESTS.get(test, test))
    verb = "reproduces" if 1 in (ok, n) else "reproduce"
    head = f"- {ok} of {plural(n, 'reported figure')} {verb}"
    is_p = table["statistic"].eq("p_value")
    if is_p.all() or not is_p.any():
        lines = [f"{head} at reported precision with the {named}."]
    else:
        n_p, ok_p = int(is_p.sum()), int(table.loc[is_p, "match"].sum())
        n_o, ok_o = n - n_p, ok - ok_p
        lines = [
            f"{head} at reported precision: {ok_p} of {plural(n_p, 'p-value')}, with the "
            f"{named}, and {ok_o} of {plural(n_o, 'other figure')}, which "
            f"{'does' if n_o == 1 else 'do'} not depend on the test."
        ]
    missed = table[~table["match"].astype(bool)]
    impossible = missed[missed["reachable_by_test"].eq(False).fillna(False)]
    possible = missed.drop(impossible.index)
    if len(impossible):
        items = "; ".join(
            f"{name(r, _reported_as(r.reported))}: {r.audit_note}" for r in impossible.itertuples()
        )
        lines.append(
            f"- {len(impossible)} cannot be reproduced by any data analysed with this test:\n"
            f"  {items}."
        )
    if len(possible):
        items = ", ".join(name(r) for r in possible.itertuples())
        lines.append(
            f"- {len(possible)} could be reproduced by some data but are not by these: {items}."
        )
    if ok == n:
        lines.append("- Nothing is left unexplained.")
    if reconstructed:
        lines.append(
            "- These data were reconstructed from the reported figures: that they reproduce "
            "them checks the reconstruction, not the study."
        )
    return "\n".join(lines)


def _reported_as(text: str) -> str:
    """Quote the abstract's words for a figure (in curly quotes: they may hold parentheses)."""
    return "reported as \u201c" + str(text) + "\u201d"


def reachability_by_rule(
    reported: pd.DataFrame,
    *,
    tests: Sequence[str] | None,
    rules: Sequence[str],
    sem_rules: Sequence[str] = (),
) -> pd.DataFrame:
    """Count, per test, the reported p-values it can reach under each reading of the figures.

    Parameters
    ----------
    reported : pandas.DataFrame
    tests : sequence of str or None
        Candidate tests (None: all for each design).
    rules : sequence of str
        Precision rules, e.g. ``("round", "truncate")``, each with "±" read as
        a standard deviation.
    sem_rules : sequence of str, default ()
        Precision rules under which "±" is also read as a standard error of
        the mean (:func:`helpers.audit.as_standard_deviations`).

    Returns
    -------
    pandas.DataFrame
        Tests as rows, one column per rule (``round``, ``truncate``) and per
        SEM reading (``round_sem``, ``truncate_sem``), counts of reachable
        comparisons.

    Examples
    --------
    >>> from helpers.reported import load_reported
    >>> rep = load_reported("data/reported/abstract_figures.csv")
    >>> t = reachability_by_rule(rep, tests=["wilcoxon_exact"], rules=["round", "truncate"])
    >>> t.values.tolist()
    [[1, 3]]
    >>> reachability_by_rule(rep, tests=["paired_t"], rules=["round"], sem_rules=["round"])
    ...     # doctest: +NORMALIZE_WHITESPACE
              round  round_sem
    test
    paired_t      4          3
    """
    readings = [(rule, rule, "sd") for rule in rules]
    readings += [(f"{rule}_sem", rule, "sem") for rule in sem_rules]
    counts = {
        name: audit(reported, tests=tests, rule=rule, dispersion=dispersion)
        .groupby("test", sort=False)["reachable"]
        .sum()
        for name, rule, dispersion in readings
    }
    table = pd.DataFrame(counts).astype(int)
    table.index.name = "test"
    return table


def figures_for_readers(table: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """Name each reported figure in words for readers; its id goes last, for cross-reference.

    A table of reported figures (:func:`compare_cohort_with_reported`,
    :func:`reproduction_table`) is keyed by ``figure_id``, a code such as
    ``leptin.mean.m0``. Readers see first what the figure is about (the words of
    :func:`helpers.reported.figures_in_words`, which carry the variable and the
    group, so those columns go; with a capital, as a cell starts), and the id
    last, as the key into the reported-figures file. Each row is named by its
    own id, not by position.

    Parameters
    ----------
    table : pandas.DataFrame
        With a ``figure_id`` column.
    words : dict of str to str
        Each figure id's words; an id without words is shown as it is.

    Returns
    -------
    pandas.DataFrame
        ``figure`` first, ``figure_id`` last; ``variable`` and ``group`` dropped;
        ``value`` (the reported value as read) renamed ``value_as_read``.

    Examples
    --------
    >>> t = pd.DataFrame({"figure_id": ["b.sd", "a.n"], "variable": ["b", "a"],
    ...     "statistic": ["sd", "n"], "match": [True, False]})
    >>> figures_for_readers(t, {"a.n": "patients"}).values.tolist()
    [['B.sd', 'sd', True, 'b.sd'], ['Patients', 'n', False, 'a.n']]
    """
    shown = table.drop(columns=["variable", "group"], errors="ignore")
    figure = shown["figure_id"].map(lambda fid: _cell_start(words.get(str(fid), str(fid))))
    out = shown[[c for c in shown.columns if c != "figure_id"]].copy()
    out.insert(0, "figure", figure.to_numpy())
    out["figure_id"] = shown["figure_id"].to_numpy()
    return out.rename(columns={"value": "value_as_read"})  # the reported value, not one computed


def _cell_start(text: str) -> str:
    """Start a table cell with a capital, as words written for a sentence do not: HbA1c kept."""
    return text[:1].upper() + text[1:]


def describe_test_choice(verdicts: pd.DataFrame, *, chosen: str) -> str:
    """State, from the audit, how the chosen test compares with the other candidates.

    Tests are named as readers see them (:data:`helpers.stats.PAIRED_TESTS`,
    :data:`helpers.stats.INDEPENDENT_TESTS`), not by their codes.

    Parameters
    ----------
    verdicts : pandas.DataFrame
        The audit.
    chosen : str
        The test the compendium uses by default.

    Returns
    -------
    str

    Examples
    --------
    >>> v = pd.DataFrame({"comparison": ["a", "b"] * 3, "test": ["paired_t"] * 2
    ...     + ["wilcoxon_exact"] * 2 + ["sign_test"] * 2,
    ...     "reachable": [True, True, True, True, True, False]})
    >>> print(describe_test_choice(v, chosen="paired_t"))
    The paired t-test reaches 2 of 2 reported p-values; the most any candidate reaches is 2, by 2 tests: the paired t-test; Wilcoxon signed-rank, exact.
    >>> print(describe_test_choice(v, chosen="sign_test"))
    The sign test, exact binomial reaches 1 of 2 reported p-values; the most any candidate reaches is 2, by 2 tests: the paired t-test; Wilcoxon signed-rank, exact.
    >>> print(describe_test_choice(v.iloc[2:], chosen="sign_test"))
    The sign test, exact binomial reaches 1 of 2 reported p-values; the most any candidate reaches is 2, by Wilcoxon signed-rank, exact.
    """  # noqa: E501
    counts = verdicts.groupby("test", sort=False)["reachable"].sum().astype(int)
    total = verdicts["comparison"].nunique()
    best = counts.max()
    leaders = [_test_in_sentence(t) for t in counts[counts == best].index]
    by = leaders[0] if len(leaders) == 1 else f"{len(leaders)} tests: {'; '.join(leaders)}"
    named = _test_in_sentence(chosen)
    return (
        f"{_cell_start(named)} reaches {counts.get(chosen, 0)} of {total} reported "
        f"p-values; the most any candidate reaches is {best}, by {by}."
    )


def describe_ties_needed(
    verdicts: pd.DataFrame, *, chosen: str, words: Mapping[str, str] | None = None
) -> str:
    """Say what data the rank and sign tests that rival the chosen test would need (Markdown).

    A rival reaches as many reported p-values as the chosen test. For each
    rival with a finite set of p-values (a rank or sign test), the
    comparisons for which every data set giving the reported p has a zero
    or tied difference are listed, each with the data set that has the
    fewest of them (the audit's ``ties_needed`` and ``fewest_ties``).

    Parameters
    ----------
    verdicts : pandas.DataFrame
        The audit (:func:`helpers.audit.audit`).
    chosen : str
        The test the compendium uses by default.
    words : mapping of str to str, optional
        Each figure's words (:func:`helpers.reported.figures_in_words`),
        naming a comparison by its p-value's figure; else its id.

    Returns
    -------
    str
        One bullet per rival; empty when no rank or sign test rivals the
        chosen test.

    Examples
    --------
    >>> v = pd.DataFrame({"comparison": ["a", "b"] * 2, "p_figure_id": ["a.p", "b.p"] * 2,
    ...     "test": ["paired_t"] * 2 + ["wilcoxon_r"] * 2, "reachable": [True] * 4,
    ...     "ties_needed": pd.array([None, None, True, False], dtype="boolean"),
    ...     "fewest_ties": ["", "", "smaller rank sum 1; 6 non-zero differences, 1 zero difference", ""]})
    >>> print(describe_ties_needed(v, chosen="paired_t", words={"a.p": "HbA1c, month 1"}))
    - Wilcoxon signed-rank, exact; with ties, zeros or 50+ pairs, normal approximation with continuity correction (R's default) reaches as many only with zero or tied differences for HbA1c, month 1 (with the fewest: smaller rank sum 1; 6 non-zero differences, 1 zero difference).
    """  # noqa: E501
    words = words or {}
    counts = verdicts.groupby("test", sort=False)["reachable"].sum()
    rivals = [
        t
        for t in counts.index
        if t != chosen
        and counts[t] >= counts.get(chosen, 0)
        and verdicts.loc[verdicts["test"].eq(t) & verdicts["reachable"].eq(True), "ties_needed"]
        .notna()
        .any()
    ]
    lines = []
    for test in rivals:
        mine = verdicts[verdicts["test"].eq(test) & verdicts["ties_needed"].eq(True)]
        named = _cell_start(_test_in_sentence(test))
        if mine.empty:
            lines.append(f"- {named} reaches as many with no zero or tied difference.")
            continue
        items = "; ".join(
            f"{words.get(r.p_figure_id, r.comparison)} (with the fewest: {r.fewest_ties})"
            for r in mine.itertuples()
        )
        lines.append(f"- {named} reaches as many only with zero or tied differences for {items}.")
    return "\n".join(lines)


def describe_reading(rule: str, *, study: Study, reconstructed: bool) -> str:
    """Say how this run reads the printed figures, when it is not the study definition's reading.

    The stand-in is reconstructed to match the figures as the study definition
    reads them (``reading.precision_rule``); read another way, figures it was
    not built for may not match, which says nothing about the study.

    Parameters
    ----------
    rule : {"round", "truncate"}
        The precision rule of this run.
    study : Study
    reconstructed : bool
        Whether the data are a reconstruction (:attr:`helpers.data.Cohort.is_reconstructed`).

    Returns
    -------
    str
        Markdown; empty when the run reads the figures as the study definition does.

    Examples
    --------
    >>> from helpers.study import load_study
    >>> study = load_study("data/study.yaml")
    >>> describe_reading("round", study=study, reconstructed=True)
    ''
    >>> print(describe_reading("truncate", study=study, reconstructed=True))
    **This run reads the printed figures as truncated**; the study definition reads them as rounded. The reconstructed data were built to match the figures read as rounded, so a figure that does not match below may only have been read another way.
    >>> print(describe_reading("truncate", study=study, reconstructed=False))
    **This run reads the printed figures as truncated**; the study definition reads them as rounded.
    """  # noqa: E501
    built = study.reading.precision_rule
    if rule == built:
        return ""
    words = {"round": "rounded", "truncate": "truncated"}
    text = (
        f"**This run reads the printed figures as {words.get(rule, rule)}**; the study "
        f"definition reads them as {words.get(built, built)}."
    )
    if reconstructed:
        text += (
            f" The reconstructed data were built to match the figures read as "
            f"{words.get(built, built)}, so a figure that does not match below may only have "
            "been read another way."
        )
    return text


def describe_sem_reading(
    as_sd: pd.DataFrame,
    as_sem: pd.DataFrame,
    *,
    test: str,
    words: Mapping[str, str] | None = None,
) -> str:
    """Say what reading "±" as a standard error changes for one test (Markdown).

    Parameters
    ----------
    as_sd, as_sem : pandas.DataFrame
        The audit with "±" read as SD and as SEM
        (:func:`helpers.audit.audit`, ``dispersion``), matched on comparison
        and test.
    test : str
        The test to describe.
    words : mapping of str to str, optional
        Each figure's words (:func:`helpers.reported.figures_in_words`),
        naming a comparison by its p-value's figure; else its id.

    Returns
    -------
    str
        Empty when the audits hold no comparison for ``test``.

    Examples
    --------
    >>> sd = pd.DataFrame({"comparison": ["a", "b"], "test": ["paired_t"] * 2,
    ...     "p_figure_id": ["a.p", "b.p"], "reachable": [True, False]})
    >>> sem = sd.assign(reachable=[False, True], implies=["would need r above 1", "needs r 0.9"])
    >>> print(describe_sem_reading(sd, sem, test="paired_t", words={"a.p": "HbA1c, month 1"}))
    Read as standard errors (each SD the printed figure times √n), the paired t-test reaches 1 of 2 reported p-values, against 1 of 2 read as SDs: it reaches b, which needs r 0.9; it no longer reaches HbA1c, month 1, which would need r above 1.
    """  # noqa: E501
    words = words or {}
    keys = ["comparison", "test"]
    both = as_sd.loc[as_sd["test"].eq(test), [*keys, "p_figure_id", "reachable"]].merge(
        as_sem.loc[as_sem["test"].eq(test), [*keys, "reachable", "implies"]],
        on=keys,
        suffixes=("_sd", "_sem"),
        validate="one_to_one",
    )

    def named(r: Any) -> str:
        return f"{words.get(r.p_figure_id, r.comparison)}, which {r.implies}"

    gained = [named(r) for r in both.itertuples() if r.reachable_sem and not r.reachable_sd]
    lost = [named(r) for r in both.itertuples() if r.reachable_sd and not r.reachable_sem]
    total = len(both)
    if not total:
        return ""
    changes = []
    if gained:
        changes.append("it reaches " + "; and ".join(gained))
    if lost:
        changes.append("it no longer reaches " + "; nor ".join(lost))
    named_test = _test_in_sentence(test)
    return (
        f"Read as standard errors (each SD the printed figure times √n), {named_test} reaches "
        f"{int(both['reachable_sem'].sum())} of {total} reported p-values, against "
        f"{int(both['reachable_sd'].sum())} of {total} read as SDs"
        + (": " + "; ".join(changes) + "." if changes else "; it reaches the same ones.")
    )


def _test_in_sentence(test: str) -> str:
    """Name a test for a sentence: "the paired t-test", "Wilcoxon signed-rank, exact"."""
    named = PAIRED_TESTS.get(test, INDEPENDENT_TESTS.get(test, test))
    return named if named[:1].isupper() else f"the {named}"


def granularity_matrix(grains: pd.DataFrame) -> pd.DataFrame:
    """Pivot the granularity check: one row per reported mean ± SD, one column per granularity.

    Parameters
    ----------
    grains : pandas.DataFrame
        From :func:`helpers.audit.granularity`.

    Returns
    -------
    pandas.DataFrame
        Index (variable, visit, n, "mean ± SD"); cells "yes" (GRIM and GRIMMER
        consistent), "mean only" (GRIM only) or "no".

    Examples
    --------
    >>> g = pd.DataFrame({"variable": ["x", "x"], "visit": [0, 0], "n": [7, 7],
    ...     "mean": ["1.5", "1.5"], "sd": ["0.5", "0.5"], "granularity": [1.0, 0.5],
    ...     "grim": [False, True], "grimmer": [False, True], "consistent": [False, True]})
    >>> granularity_matrix(g).values.tolist()
    [['no', 'yes']]
    """
    cells = grains.assign(
        cell=[
            "yes" if c else ("mean only" if m else "no")
            for c, m in zip(grains["consistent"], grains["grim"], strict=True)
        ],
        summary=grains["mean"] + " ± " + grains["sd"],
        column=[f"{g:g}" for g in grains["granularity"]],
    )
    table = cells.pivot(
        index=["variable", "visit", "n", "summary"], columns="column", values="cell"
    )
    order = list(dict.fromkeys(cells["column"]))
    table = table.loc[cells.set_index(["variable", "visit", "n", "summary"]).index.unique(), order]
    table.columns.name = "granularity"
    return table


def reproduce_reported(
    cohort: Cohort, reported: pd.DataFrame, *, test: str, rule: str = "round"
) -> pd.DataFrame:
    """Recompute every reported outcome figure (mean, SD, paired p) from patient-level data.

    Each figure is recomputed on the patients of its group (all, an arm, or a
    subgroup of the study definition); means and SDs on everyone measured at
    the visit, p-values on the patients measured at both visits.

    Parameters
    ----------
    cohort : Cohort
        Patient-level data read with their study definition.
    reported : pandas.DataFrame
        A reported-figures table; its mean, sd and paired p_value rows of
        outcomes are used.
    test : str
        The paired test for p-values (:data:`helpers.stats.PAIRED_TESTS`).
    rule : {"round", "truncate"}, default "round"
        How printed figures relate to the values behind them.

    Returns
    -------
    pandas.DataFrame
        One row per reported figure: ``figure_id``, ``variable``,
        ``statistic``, ``visit``, ``reference_visit``, ``reported`` (quote),
        ``value``, ``relation``, ``decimals``, ``n`` (patients used),
        ``recomputed``, ``match`` (at reported precision).

    Examples
    --------
    >>> from helpers.data import load_cohort
    >>> from helpers.reported import load_reported
    >>> cohort = load_cohort("data/standin", study="data/study.yaml")
    >>> table = reproduce_reported(cohort, load_reported("data/reported/abstract_figures.csv"),
    ...                            test="paired_t")
    >>> len(table), int(table["match"].sum())
    (25, 24)
    """
    outcomes = set(cohort.measurements["outcome"].unique().tolist())
    if cohort.study is not None:
        outcomes |= set(cohort.study.outcome_codes)
    rows = reported[
        reported["statistic"].isin(["mean", "sd", "p_value"])
        & reported["variable"].isin(outcomes)
        & ~((reported["statistic"] == "p_value") & reported["reference_visit"].isna())
    ]
    out = []
    selected: dict[tuple[str, str], pd.DataFrame] = {}  # selected once: a file can be millions
    for r in rows.itertuples():
        if (r.group, r.variable) not in selected:
            group = _group_measurements(cohort, r.group)
            selected[r.group, r.variable] = group[group["outcome"] == r.variable]
        measurements = selected[r.group, r.variable]
        n, value = 0, float("nan")
        if r.statistic in ("mean", "sd"):
            at = measurements[measurements["visit_month"] == r.visit]["value"]
            n = len(at)
            if n:
                value = mean_sd(at)[0 if r.statistic == "mean" else 1]
        else:
            pairs = outcome_pairs(
                measurements, outcome=r.variable, visit=r.visit, baseline=r.reference_visit
            )
            n = len(pairs)
            if n >= 2:
                value = float(paired_test(pairs["before"], pairs["after"], test)["p_val"].iloc[0])
        out.append(
            {
                "figure_id": r.figure_id,
                "variable": r.variable,
                "statistic": r.statistic,
                "visit": r.visit,
                "reference_visit": r.reference_visit,
                "reported": plain_quote(r.quote),
                "value": r.value,
                "relation": r.relation,
                "decimals": r.decimals,
                "n": n,
                "recomputed": value,
                "match": matches_reported(value, r.value, r.relation, r.decimals, rule),
            }
        )
    return pd.DataFrame(out)


def abstract_format_table(
    cohort: Cohort,
    reported: pd.DataFrame,
    *,
    outcomes: Sequence[str],
    test: str,
    rule: str = "round",
) -> pd.DataFrame:
    """Set each reported comparison beside its recomputation, written as the abstract writes it.

    The abstract's means and SDs describe everyone measured at a visit, while
    its p compares the patients measured at both. When some patients miss a
    visit those are different samples, so the table shows both: the
    recomputation as the abstract reports it (with each visit's n), and the
    means and SDs of the patients the test used (with the number of pairs).
    Paired comparisons of means are shown, in any group of the study; other
    designs (independent groups, counts) are left to the audit.

    Parameters
    ----------
    cohort : Cohort
        Patient-level data read with their study definition (for labels and groups).
    reported : pandas.DataFrame
    outcomes : sequence of str
    test : str
        The paired test for the recomputed p.
    rule : {"round", "truncate"}

    Returns
    -------
    pandas.DataFrame
        One row per reported comparison of these outcomes: ``outcome``,
        ``comparison``, ``reported_values`` (the values as read, ``+`` read as
        ``±``, printed the abstract's way), ``recomputed_as_printed`` (same decimals,
        decimal commas; means of everyone measured at each visit), ``n`` (patients
        measured at each visit, and pairs the test used), ``recomputed_in_test_patients``
        (means ± SD of those pairs, and the p), ``figures``,
        ``matching`` (of the five: two means, two SDs, p), ``all_match`` (missing when
        no figure could be recomputed: no measurements).

    Examples
    --------
    >>> from helpers.data import load_cohort
    >>> from helpers.reported import load_reported
    >>> t = abstract_format_table(load_cohort("data/standin", study="data/study.yaml"),
    ...     load_reported("data/reported/abstract_figures.csv"), outcomes=["insulin_dose"],
    ...     test="paired_t")
    >>> t["recomputed_as_printed"].item(), t["n"].item()
    ('58,81 ± 13,71 → 47,5 ± 12,7 (p = 0,04)', 'month 0: 7, month 1: 7; 7 pairs')
    """
    shown = [
        c
        for c in comparisons_from_reported(reported)
        if c.design == "paired" and c.variable in outcomes
    ]
    ids = {f.figure_id for c in shown for f in (c.mean1, c.sd1, c.mean2, c.sd2, c.p) if f}
    table = reproduce_reported(
        cohort, reported[reported["figure_id"].isin(ids)], test=test, rule=rule
    )
    table = table.set_index("figure_id") if len(table) else table
    rows = []
    for c in shown:
        figures = [c.mean1, c.sd1, c.mean2, c.sd2]
        figs = [f.figure_id for f in figures if f is not None] + [c.p.figure_id]
        decimals = [int(table.loc[f, "decimals"]) for f in figs]

        def text(values: list[float], relation: str, decimals: list[int] = decimals) -> str:
            v = [format_number(x, d, comma=True) for x, d in zip(values, decimals, strict=True)]
            if relation == "=" and values[4] == values[4] and round(values[4], decimals[4]) == 0:
                # a p that prints as zero is below the last printed digit
                relation, v[4] = "<", format_number(10 ** -decimals[4], decimals[4], comma=True)
            return f"{v[0]} ± {v[1]} → {v[2]} ± {v[3]} (p {relation} {v[4]})"

        pairs = outcome_pairs(
            _group_measurements(cohort, c.group1),
            outcome=c.variable,
            visit=c.visit2,
            baseline=c.visit1,
        )
        paired = [
            *mean_sd(pairs["before"]),
            *mean_sd(pairs["after"]),
            table.loc[c.p.figure_id, "recomputed"],
        ]
        n1, n2 = (int(table.loc[f.figure_id, "n"]) for f in (c.mean1, c.mean2) if f is not None)
        matches = table.loc[figs, "match"]
        computed = table.loc[figs, "recomputed"].notna()
        group = "" if c.group1 == "all" else f" ({c.group1})"
        rows.append(
            {
                "outcome": label_for(c.variable, cohort.study) + group,
                "comparison": f"month {c.visit2} vs month {c.visit1}",
                "reported_values": text(list(table.loc[figs, "value"]), c.p.relation),
                "recomputed_as_printed": text(list(table.loc[figs, "recomputed"]), "="),
                "n": f"month {c.visit1}: {n1}, month {c.visit2}: {n2}; {len(pairs)} pairs",
                "recomputed_in_test_patients": text(paired, "="),
                "figures": len(figs),
                "matching": int(matches.sum()),
                # nothing recomputed (no measurements): not a mismatch, but not computed
                "all_match": bool(matches.all()) if computed.any() else None,
            }
        )
    return pd.DataFrame(rows)


def cohort_statistic(
    patients: pd.DataFrame, *, variable: str, statistic: str, group: str, study: Study
) -> float:
    """Compute one descriptive figure of the patients table, as a report states them.

    Parameters
    ----------
    patients : pandas.DataFrame
        A validated patients table.
    variable : str
        ``"patients"`` (for counts) or a column of the patients table.
    statistic : {"n", "min", "max", "mean", "sd"}
        ``sd`` is the sample SD (ddof = 1).
    group : str
        ``"all"``, an arm, or a subgroup of the study definition (e.g. ``"male"``).
    study : Study

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For a variable, statistic or group this function does not compute.

    Examples
    --------
    >>> from helpers.study import load_study
    >>> p = pd.DataFrame({"sex": ["M", "F", "M"], "age_years": [20, 42, 30]})
    >>> s = load_study("data/study.yaml")
    >>> (cohort_statistic(p, variable="patients", statistic="n", group="male", study=s),
    ...  cohort_statistic(p, variable="age_years", statistic="max", group="all", study=s))
    (2.0, 42.0)
    """
    rows = study.in_group(patients, group)
    if variable == "patients":
        if statistic != "n":
            raise ValueError(f"for 'patients' only the statistic 'n' is defined, got {statistic!r}")
        return float(len(rows))
    if variable not in patients.columns:
        raise ValueError(f"unknown variable {variable!r}; allowed: patients, {', '.join(patients)}")
    values = rows[variable].astype(float)
    funcs = {"n": "count", "min": "min", "max": "max", "mean": "mean", "sd": "std"}
    if statistic not in funcs:
        raise ValueError(f"statistic must be one of {', '.join(funcs)}, got {statistic!r}")
    if statistic in ("mean", "sd"):  # exactly rounded sums: the same in any row order
        return mean_sd(values.dropna())[0 if statistic == "mean" else 1]
    return float(values.agg(funcs[statistic]))


def compare_cohort_with_reported(
    patients: pd.DataFrame, reported: pd.DataFrame, *, study: Study
) -> pd.DataFrame:
    """Compare every cohort fact the report states with the patients table.

    Parameters
    ----------
    patients : pandas.DataFrame
        A validated patients table.
    reported : pandas.DataFrame
        A reported-figures table (:func:`helpers.reported.load_reported`); its
        rows about the patients (counts of patients, and the study's
        characteristics) are used.
    study : Study
        Says which variables are characteristics, and which groups are subgroups.

    Returns
    -------
    pandas.DataFrame
        One row per reported fact: ``figure_id``, ``variable``, ``statistic``,
        ``group``, ``reported`` (as quoted), ``value``, ``relation``,
        ``decimals``, ``observed``, ``match`` (at reported precision, see
        :func:`helpers.precision.matches_reported`).

    Examples
    --------
    >>> from helpers.data import load_cohort
    >>> from helpers.reported import load_reported
    >>> cohort = load_cohort("data/standin", study="data/study.yaml")
    >>> table = compare_cohort_with_reported(cohort.patients,
    ...     load_reported("data/reported/abstract_figures.csv"), study=cohort.study)
    >>> bool(table["match"].all()), len(table)
    (True, 9)
    """
    characteristics = [c.code for c in study.characteristics]
    facts = reported[
        reported["variable"].isin(["patients", *characteristics])
        & (reported["statistic"] != "p_value")
    ].copy()
    facts["observed"] = [
        cohort_statistic(
            patients, variable=r.variable, statistic=r.statistic, group=r.group, study=study
        )
        for r in facts.itertuples()
    ]
    facts["match"] = [
        matches_reported(r.observed, r.value, r.relation, r.decimals) for r in facts.itertuples()
    ]
    columns = [
        "figure_id",
        "variable",
        "statistic",
        "group",
        "quote",
        "value",
        "relation",
        "decimals",
        "observed",
        "match",
    ]
    facts["quote"] = facts["quote"].map(plain_quote)
    return facts[columns].rename(columns={"quote": "reported"}).reset_index(drop=True)


def visit_schedule(cohort: Cohort, reported: pd.DataFrame) -> pd.DataFrame:
    """Set the visits the report schedules beside the visits present in the data.

    Parameters
    ----------
    cohort : Cohort
    reported : pandas.DataFrame
        Its ``visit_month`` / ``scheduled`` rows are used.

    Returns
    -------
    pandas.DataFrame
        Columns ``visit_month``, ``reported`` (quote), ``measurements`` (rows in
        the data at that visit).

    Examples
    --------
    >>> from helpers.data import load_cohort
    >>> from helpers.reported import load_reported
    >>> visit_schedule(load_cohort("data/standin", study="data/study.yaml"),
    ...     load_reported("data/reported/abstract_figures.csv"))["visit_month"].tolist()
    [0, 1, 2, 3]
    """
    sched = reported[
        (reported["variable"] == "visit_month") & (reported["statistic"] == "scheduled")
    ]
    counts = cohort.measurements["visit_month"].value_counts()
    return pd.DataFrame(
        {
            "visit_month": sched["value"].astype(int).to_numpy(),
            "reported": sched["quote"].map(plain_quote).to_numpy(),
            "measurements": [int(counts.get(int(v), 0)) for v in sched["value"]],
        }
    )


def summarise_matches(comparison: pd.DataFrame) -> str:
    """Say in one sentence how many reported facts the data reproduce, and which do not.

    Parameters
    ----------
    comparison : pandas.DataFrame
        A table with ``figure_id`` and a boolean ``match`` column
        (e.g. from :func:`compare_cohort_with_reported`).

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> summarise_matches(pd.DataFrame({"figure_id": ["a", "b"], "match": [True, False]}))
    '1 of 2 reported figures match the data at reported precision; not matching: b.'
    """
    ok = int(comparison["match"].sum())
    text = f"{ok} of {len(comparison)} reported figures match the data at reported precision"
    misses = comparison.loc[~comparison["match"].astype(bool), "figure_id"].tolist()
    return f"{text}; not matching: {', '.join(misses)}." if misses else f"{text}."


def _group_measurements(cohort: Cohort, group: str) -> pd.DataFrame:
    """Measurements of the patients a reported group refers to (all, an arm or a subgroup)."""
    if group == "all" or cohort.study is None:
        return cohort.measurements
    ids = cohort.study.in_group(cohort.patients, group)["patient_id"]
    return cohort.measurements[cohort.measurements["patient_id"].isin(ids)]
