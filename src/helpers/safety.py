"""Safety analysis of antibody levels: whether they rose, and how large a rise is excluded.

"No significant change" is not "no change". With seven patients a real rise
can easily give p > 0.05, so the safety question is asked the other way round:

* a **one-sided test for an increase** (with the primary paired test);
* **equivalence** (two one-sided tests, TOST; pingouin ``tost``) and
  **non-inferiority** (one-sided t-test against the margin) of the mean change
  against a clinical margin, with the (1 − 2α) confidence interval of the change
  that equivalence at level α requires to lie within ±margin;
* **the largest mean rise the data exclude**: the upper bound of the one-sided
  confidence interval of the mean change;
* the **smallest rise the study could detect** with the chosen power by the
  same one-sided test at level α (pingouin ``power_ttest``), which shows how
  little seven patients can rule out;
* per patient: change from baseline, crossings of the assay's positivity
  cut-off in either direction, and rises larger than a clinically meaningful
  amount.

Margins and meaningful rises are given per antibody either in the outcome's
unit (a number) or as a percentage (a string such as ``"50%"``): of the
baseline mean for margins, of the patient's own baseline for rises. A margin
should come from outside the data (clinical reasoning, assay variability);
a percentage of the observed baseline mean makes the margin depend on the data
it tests, and the text says so.

The one-sided rise tests, the equivalence tests and the non-inferiority tests
are each adjusted for multiplicity in their own family: every antibody at
every planned follow-up visit (a visit without data counts as not rejected).
A rise is flagged on its unadjusted p, the adjusted one given beside it: for a
possible harm an adjustment would make a real rise harder to see, whereas the
adjusted equivalence and non-inferiority tests make a claim of safety harder
to make. A value at or above the positivity cut-off counts as positive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import stats

from helpers.outcomes import adjust_family, family_label, first_visit, follow_up_pairs, plural
from helpers.precision import format_number, format_percent, p_phrase, round_to_recording
from helpers.stats import mean_sd, paired_test
from helpers.study import Study, label_for

__all__ = [
    "cutoff_table",
    "describe_safety",
    "detectable_rise",
    "parse_amount",
    "patient_changes",
    "safety_analysis",
]


def cutoff_table(cutoffs: Mapping[str, float], *, study: Study) -> pd.DataFrame:
    """Show the positivity cut-offs in use and where each comes from.

    Parameters
    ----------
    cutoffs : mapping of outcome code to float
    study : Study
        Its outcomes' documented cut-offs (``cutoff``) and their sources.

    Returns
    -------
    pandas.DataFrame
        Index outcome label; columns ``cut-off``, ``positive when`` (at or
        above the cut-off, the rule :func:`patient_changes` applies) and
        ``source`` (the documented cut-off's source, or a note that the
        parameter set changed it).

    Examples
    --------
    >>> from helpers.study import load_study
    >>> cutoff_table({"gad_ab": 20.0}, study=load_study("data/study.yaml"))["source"].item()
    'set by the parameter set (documented cut-off: 10)'
    """
    rows = []
    for code, value in cutoffs.items():
        documented = study.measured(code).cutoff
        if documented is not None and documented.value == float(value):
            source = documented.source
        elif documented is not None:
            source = f"set by the parameter set (documented cut-off: {documented.value:g})"
        else:
            source = "set by the parameter set (the study definition documents none)"
        rows.append(
            {
                "outcome": study.label(code),
                "cut-off": float(value),
                "positive when": f"≥ {float(value):g}",
                "source": source,
            }
        )
    return pd.DataFrame(rows).set_index("outcome")


def parse_amount(spec: float | int | str, reference: float) -> float:
    """Turn a margin or rise given as a number or a percentage into the outcome's unit.

    Parameters
    ----------
    spec : float, int or str
        A number (in the outcome's unit) or a string like ``"50%"``.
    reference : float
        What a percentage is of (a baseline mean, or a patient's baseline).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``spec`` is neither a positive number nor a positive percentage.

    Examples
    --------
    >>> parse_amount("50%", 10.8), parse_amount(3, 10.8)
    (5.4, 3.0)
    """
    if isinstance(spec, str):
        text = spec.strip()
        if not text.endswith("%"):
            raise ValueError(f"expected a number or a percentage such as '50%', got {spec!r}")
        try:
            value = float(text[:-1]) / 100 * reference
        except ValueError as exc:
            raise ValueError(
                f"expected a number or a percentage such as '50%', got {spec!r}"
            ) from exc
    else:
        value = float(spec)
    if not value > 0:
        raise ValueError(f"a margin or rise must be positive, got {spec!r}")
    return value


def safety_analysis(
    measurements: pd.DataFrame,
    *,
    outcomes: Sequence[str],
    visits: Sequence[int],
    baseline: int | None = None,
    margins: Mapping[str, float | int | str],
    test: str = "paired_t",
    alpha: float = 0.05,
    ci_level: float = 0.95,
    multiplicity: str = "holm",
) -> pd.DataFrame:
    """Test each antibody at each follow-up visit for a rise, and against its margin.

    Parameters
    ----------
    measurements : pandas.DataFrame
    outcomes : sequence of str
    visits : sequence of int
        Planned visits; baseline and visits where no patient was measured at
        both visits give no row (rows with fewer than 3 pairs keep only ``n``),
        but every planned follow-up visit counts in the multiplicity families.
    baseline : int, optional
        The visit compared with; default, the earliest visit in the data.
    margins : mapping of outcome code to number or percentage string
        Equivalence / non-inferiority margin per outcome.
    test : str, default "paired_t"
        The paired test for the one-sided test of an increase.
    alpha : float, default 0.05
    ci_level : float, default 0.95
        Confidence of the two-sided interval and of "the largest rise the data
        exclude" (one-sided).
    multiplicity : str, default "holm"
        Adjustment of each family (see :func:`helpers.outcomes.adjust_family`).

    Returns
    -------
    pandas.DataFrame
        One row per outcome × visit with data: ``outcome``, ``visit_month``,
        ``n``, ``mean_change``, ``ci_low``, ``ci_high`` (two-sided, ci_level),
        ``p_increase`` (one-sided, the given test), ``p_increase_adj``,
        ``margin_spec``, ``margin`` (in the unit), ``tost_ci_low``,
        ``tost_ci_high`` (the unadjusted 1 − 2α interval), ``tost_ci_level``
        (its level, 1 − 2α: 0.90 beside a ``ci_level`` of 0.95), ``p_equivalence``
        (TOST), ``p_equivalence_adj``, ``equivalent`` (adjusted p < α),
        ``p_noninferiority``, ``p_noninferiority_adj``, ``noninferior``,
        ``largest_rise_excluded``, ``family`` (what the adjusted p-values were
        adjusted over), ``alpha``, ``ci_level`` (the levels used, for whatever
        shows the table).

    Raises
    ------
    ValueError
        If an outcome has no margin.

    Examples
    --------
    >>> from helpers.simulate import simulate_cohort
    >>> from helpers.study import load_study
    >>> STUDY = load_study("data/study.yaml")
    >>> m = simulate_cohort(30, study=STUDY, seed=1).measurements
    >>> t = safety_analysis(m, outcomes=["gad_ab"], visits=[3], margins={"gad_ab": 5})
    >>> bool(t["equivalent"].item()), round(t["margin"].item(), 1)
    (True, 5.0)
    """
    baseline = first_visit(measurements) if baseline is None else baseline
    missing = [o for o in outcomes if o not in margins]
    if missing:
        raise ValueError(f"no margin given for {', '.join(missing)}")
    follow_ups = [v for v in visits if v != baseline]
    at_baseline = measurements[measurements["visit_month"] == baseline]
    rows = []
    for code, visit, pairs in follow_up_pairs(
        measurements, outcomes=outcomes, visits=follow_ups, baseline=baseline
    ):
        n = len(pairs)
        if n == 0:  # no patient measured at both visits: nothing to say here
            continue
        row: dict[str, object] = {
            "outcome": code,
            "visit_month": visit,
            "n": n,
            "margin_spec": str(margins[code]),
        }
        if n < 3:
            rows.append(row)
            continue
        before, after = pairs["before"].to_numpy(), pairs["after"].to_numpy()
        d = after - before
        # the baseline mean a percentage margin is taken of: exact, the same in any row order
        reference = mean_sd(at_baseline.loc[at_baseline["outcome"] == code, "value"].dropna())[0]
        margin = parse_amount(margins[code], float(reference))
        change = stats.ttest_1samp(d, 0.0)
        two_sided = change.confidence_interval(ci_level)
        tost_ci = change.confidence_interval(1 - 2 * alpha)
        p_tost = float(
            pg.tost(after, before, bound=margin, paired=True)["pval"].iloc[0]
        )  # pingouin names it pval
        p_ni = float(stats.ttest_1samp(d, margin, alternative="less").pvalue)
        upper = float(
            stats.ttest_1samp(d, 0.0, alternative="less").confidence_interval(ci_level).high
        )
        row.update(
            mean_change=float(d.mean()),
            ci_low=float(two_sided.low),
            ci_high=float(two_sided.high),
            p_increase=float(paired_test(before, after, test, "greater")["p_val"].iloc[0]),
            margin=margin,
            tost_ci_low=float(tost_ci.low),
            tost_ci_high=float(tost_ci.high),
            p_equivalence=p_tost,
            p_noninferiority=p_ni,
            largest_rise_excluded=upper,
        )
        rows.append(row)
    columns = [
        "outcome",
        "visit_month",
        "n",
        "mean_change",
        "ci_low",
        "ci_high",
        "p_increase",
        "p_increase_adj",
        "margin_spec",
        "margin",
        "tost_ci_low",
        "tost_ci_high",
        "tost_ci_level",
        "p_equivalence",
        "p_equivalence_adj",
        "equivalent",
        "p_noninferiority",
        "p_noninferiority_adj",
        "noninferior",
        "largest_rise_excluded",
        "family",
        "alpha",
        "ci_level",
    ]
    table = (
        pd.DataFrame(rows)
        .reindex(columns=columns)
        .assign(tost_ci_level=1 - 2 * alpha, alpha=alpha, ci_level=ci_level)
    )
    planned = len(outcomes) * len(follow_ups)
    for column in ("p_increase", "p_equivalence", "p_noninferiority"):
        table[f"{column}_adj"] = adjust_family(
            table[column], method=multiplicity, planned=max(planned, len(table))
        )
    table["equivalent"] = (table["p_equivalence_adj"] < alpha).where(
        table["p_equivalence_adj"].notna()
    )
    table["noninferior"] = (table["p_noninferiority_adj"] < alpha).where(
        table["p_noninferiority_adj"].notna()
    )
    table["family"] = family_label(
        method=multiplicity,
        planned=max(planned, len(table)),
        tested=int(table["p_increase"].notna().sum()),
        what=f"each kind of test: {plural(len(outcomes), 'antibody', plural_form='antibodies')} × "
        f"{plural(len(follow_ups), 'follow-up visit')}",
    )
    return table


def detectable_rise(
    measurements: pd.DataFrame,
    *,
    outcomes: Sequence[str],
    visits: Sequence[int],
    baseline: int | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> pd.DataFrame:
    """Compute the smallest mean rise the one-sided paired t-test would detect with given power.

    The safety question is one-sided (did antibodies rise?), and so is the test
    for an increase, so the power is computed for the same one-sided test at
    level ``alpha`` (pingouin ``power_ttest``, ``contrast="paired"``,
    ``alternative="greater"``). The standardised effect (Cohen's d_z) is
    converted to the unit with the observed SD of the changes.

    Parameters
    ----------
    measurements : pandas.DataFrame
    outcomes : sequence of str
    visits : sequence of int
    baseline : int, optional
        The visit compared with; default, the earliest visit in the data.
    alpha : float, default 0.05
        One-sided significance level.
    power : float, default 0.8

    Returns
    -------
    pandas.DataFrame
        ``outcome``, ``visit_month``, ``n``, ``sd_change``, ``effect_size``
        (Cohen's d_z detectable), ``detectable_rise`` (in the unit),
        ``power``, ``alpha``, ``test`` (the test the power is for).

    Examples
    --------
    >>> from helpers.simulate import simulate_cohort
    >>> from helpers.study import load_study
    >>> STUDY = load_study("data/study.yaml")
    >>> m = simulate_cohort(7, study=STUDY, seed=1).measurements
    >>> round(detectable_rise(m, outcomes=["gad_ab"], visits=[3])["effect_size"].item(), 2)
    1.07
    """
    baseline = first_visit(measurements) if baseline is None else baseline
    if not 0 < power < 1:
        raise ValueError(f"power must be between 0 and 1, got {power}")
    rows = []
    for code, visit, pairs in follow_up_pairs(
        measurements, outcomes=outcomes, visits=visits, baseline=baseline
    ):
        n = len(pairs)
        if n < 3:
            continue
        sd = float((pairs["after"] - pairs["before"]).std(ddof=1))
        dz = float(
            pg.power_ttest(n=n, power=power, alpha=alpha, contrast="paired", alternative="greater")
        )
        rows.append(
            {
                "outcome": code,
                "visit_month": visit,
                "n": n,
                "sd_change": sd,
                "effect_size": dz,
                "detectable_rise": dz * sd,
                "power": power,
                "alpha": alpha,
                "test": "one-sided paired t-test for a rise",
            }
        )
    columns = [
        "outcome",
        "visit_month",
        "n",
        "sd_change",
        "effect_size",
        "detectable_rise",
        "power",
        "alpha",
        "test",
    ]
    return pd.DataFrame(rows, columns=columns)


def _is_percentage(spec: object) -> bool:
    """Whether a margin or rise is given as a percentage (``"50%"``), not in the unit.

    Examples
    --------
    >>> _is_percentage("50%"), _is_percentage(" 5% "), _is_percentage(5.0), _is_percentage("5")
    (True, True, False, False)
    """
    return isinstance(spec, str) and spec.strip().endswith("%")


def _rise_thresholds(spec: float | int | str, before: np.ndarray) -> np.ndarray:
    """Give each patient's meaningful rise; a percentage of a zero baseline makes any rise count."""
    amount = parse_amount(spec, 1.0)  # checked once; a percentage as the share of 1
    if _is_percentage(spec):
        return np.where(before > 0, amount * before, 0.0)
    return np.full(len(before), amount)


def patient_changes(
    measurements: pd.DataFrame,
    *,
    outcomes: Sequence[str],
    visits: Sequence[int],
    baseline: int | None = None,
    cutoffs: Mapping[str, float],
    meaningful_rise: Mapping[str, float | int | str],
) -> pd.DataFrame:
    """Per patient and follow-up visit: change, cut-off crossings and meaningful rises.

    Parameters
    ----------
    measurements : pandas.DataFrame
    outcomes : sequence of str
    visits : sequence of int
    baseline : int, optional
        The visit compared with; default, the earliest visit in the data.
    cutoffs : mapping of outcome code to float
        Positivity cut-off in the outcome's unit (value ≥ cut-off is positive).
    meaningful_rise : mapping of outcome code to number or percentage string
        A percentage is of the patient's own baseline value (with a baseline
        of zero, any rise counts).

    Returns
    -------
    pandas.DataFrame
        ``outcome``, ``baseline_month``, ``visit_month``, ``patient_id``, ``baseline_value``,
        ``value``, ``change``, ``crossing`` ("became positive", "became
        negative", "stayed positive", "stayed negative"), ``meaningful_rise``
        (threshold in the unit), ``rose_meaningfully``.

    Examples
    --------
    >>> m = pd.DataFrame({"patient_id": ["a", "a"], "visit_month": [0, 3],
    ...                   "outcome": ["gad_ab", "gad_ab"], "value": [8.0, 13.0]})
    >>> t = patient_changes(m, outcomes=["gad_ab"], visits=[3], cutoffs={"gad_ab": 10},
    ...                     meaningful_rise={"gad_ab": "50%"})
    >>> t[["crossing", "rose_meaningfully"]].values.tolist()
    [['became positive', True]]
    """
    baseline = first_visit(measurements) if baseline is None else baseline
    frames = []
    for code, visit, pairs in follow_up_pairs(
        measurements, outcomes=outcomes, visits=visits, baseline=baseline
    ):
        cut = float(cutoffs[code])
        before = pairs["before"].to_numpy(dtype=float)
        after = pairs["after"].to_numpy(dtype=float)
        # on the values' recording grid: 18.5 − 14.2 is 4.3, not 4.300000000000001
        change = round_to_recording(after - before, np.concatenate([before, after]))
        threshold = _rise_thresholds(meaningful_rise[code], before)
        was, now = before >= cut, after >= cut
        crossing = np.select(
            [~was & now, was & ~now, was & now],
            ["became positive", "became negative", "stayed positive"],
            default="stayed negative",
        )
        frames.append(
            pd.DataFrame(
                {
                    "outcome": code,
                    "baseline_month": baseline,
                    "visit_month": visit,
                    "patient_id": pairs.index.to_numpy(),
                    "baseline_value": before,
                    "value": after,
                    "change": change,
                    "crossing": crossing,
                    "meaningful_rise": threshold,
                    "rose_meaningfully": change > threshold,
                }
            )
        )
    columns = [
        "outcome",
        "baseline_month",
        "visit_month",
        "patient_id",
        "baseline_value",
        "value",
        "change",
        "crossing",
        "meaningful_rise",
        "rose_meaningfully",
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)[columns]
    return table.astype({"patient_id": "str", "outcome": "str", "crossing": "str"})


def _meaningful_in_words(spec: float | int | str | None, unit: str) -> str:
    """Say what a meaningful rise was, for "rose by more than …".

    Examples
    --------
    >>> _meaningful_in_words("50%", "IU/mL")
    '50% of their own baseline (the meaningful rise set for it)'
    >>> _meaningful_in_words(2.5, "IU/mL"), _meaningful_in_words(None, "IU/mL")
    ('2.5 IU/mL (the meaningful rise set for it)', 'the meaningful amount')
    """
    if spec is None:
        return "the meaningful amount"
    if _is_percentage(spec):
        amount = f"{str(spec).strip()} of their own baseline"
    else:
        amount = f"{float(spec):g} {unit}".strip()
    return f"{amount} (the meaningful rise set for it)"


def describe_safety(
    safety: pd.DataFrame,
    *,
    detectable: pd.DataFrame,
    patients: pd.DataFrame,
    ci_level: float,
    power: float,
    alpha: float,
    margin_source: str = "",
    study: Study | None = None,
    meaningful_rise: Mapping[str, float | int | str] | None = None,
    cutoffs: Mapping[str, float] | None = None,
) -> str:
    """Say in plain words what the safety analysis shows (Markdown), with the parameters used.

    A rise is counted on the unadjusted one-sided p (a possible harm is not
    made harder to see by an adjustment), with the count after adjustment
    beside it; non-inferiority on the adjusted p.

    Parameters
    ----------
    safety : pandas.DataFrame
        From :func:`safety_analysis`.
    detectable : pandas.DataFrame
        From :func:`detectable_rise`.
    patients : pandas.DataFrame
        From :func:`patient_changes`.
    ci_level, power, alpha : float
        The confidence level, power and significance level the tables were
        computed with; every sentence states them.
    margin_source : str, default ""
        Where margins given as numbers come from (e.g. that they are
        placeholders), said beside them.
    study : Study, optional
        Names and units of the outcomes; without it, codes and no units.
    meaningful_rise : mapping of outcome code to number or percentage string, optional
        What :func:`patient_changes` counted as a meaningful rise, said beside
        the count (a percentage is of each patient's own baseline).
    cutoffs : mapping of outcome code to float, optional
        The positivity cut-offs :func:`patient_changes` used, said beside the
        crossings with how many of them rest on a value exactly at the cut-off.

    Returns
    -------
    str

    Examples
    --------
    >>> s = pd.DataFrame({"outcome": ["gad_ab"], "visit_month": [3], "n": [7],
    ...     "mean_change": [1.5], "largest_rise_excluded": [4.2], "margin": [5.4],
    ...     "margin_spec": ["50%"], "equivalent": [False], "noninferior": [True],
    ...     "p_increase": [0.2], "p_increase_adj": [0.4], "p_equivalence": [0.06],
    ...     "p_equivalence_adj": [0.12], "family": ["Holm over 2 comparisons"]})
    >>> d = pd.DataFrame({"outcome": ["gad_ab"], "visit_month": [3], "detectable_rise": [6.0]})
    >>> p = pd.DataFrame({"outcome": ["gad_ab"], "visit_month": [3],
    ...     "crossing": ["became positive"], "rose_meaningfully": [False]})
    >>> from helpers.study import load_study
    >>> text = describe_safety(s, detectable=d, patients=p, ci_level=0.9, power=0.9, alpha=0.1,
    ...                        study=load_study("data/study.yaml"))
    >>> print(text.splitlines()[0])  # doctest: +NORMALIZE_WHITESPACE
    Of 1 antibody comparison, none shows a rise (one-sided p < 0.1, unadjusted: for a possible
    harm, adjusting would make a real rise harder to see; none after adjustment for
    multiplicity) and 1 shows non-inferiority to its margin, after adjustment for multiplicity
    (α = 0.1).
    >>> print(text.splitlines()[1])  # doctest: +NORMALIZE_WHITESPACE
    - **GAD antibodies, month 3** (7 patients): mean change +1.50 IU/mL; before adjustment for
      multiplicity, the data exclude a mean rise larger than 4.20 IU/mL (one-sided 90%
      confidence).
    """
    compared = safety.dropna(subset=["mean_change"])
    lines = []
    if len(compared):
        k = len(compared)
        rises = int((compared["p_increase"] < alpha).sum())
        rises_adj = int((compared["p_increase_adj"] < alpha).sum())
        noninferior = int(compared["noninferior"].fillna(False).astype(bool).sum())

        def count(n: int) -> str:  # "none shows", "1 shows", "2 show"
            return f"{n or 'none'} show{'s' if n <= 1 else ''}"

        lines.append(
            f"Of {k} antibody comparison{'s' if k != 1 else ''}, {count(rises)} a rise "
            f"(one-sided p < {alpha:g}, unadjusted: for a possible harm, adjusting would make a "
            f"real rise harder to see; {rises_adj or 'none'} after adjustment for multiplicity) "
            f"and {count(noninferior)} non-inferiority to "
            f"{'its margin' if noninferior <= 1 else 'their margins'}, after adjustment for "
            f"multiplicity (α = {alpha:g})."
        )
    det = detectable.set_index(["outcome", "visit_month"])
    for r in safety.dropna(subset=["mean_change"]).itertuples():
        unit = study.unit(r.outcome) if study is not None else ""
        name = label_for(r.outcome, study, unit=False)
        sign = "+" if r.mean_change >= 0 else "−"
        lines.append(
            f"- **{name}, month {r.visit_month}** ({r.n} patients): mean change "
            f"{sign}{format_number(abs(r.mean_change), 2)} {unit}; before adjustment for "
            f"multiplicity, the data exclude a mean rise larger than "
            f"{format_number(r.largest_rise_excluded, 2)} {unit} "
            f"(one-sided {format_percent(ci_level)} confidence)."
        )
        lines.append(
            f"  One-sided test for a rise: {p_phrase(r.p_increase)}; adjusted "
            f"{p_phrase(r.p_increase_adj)} ({r.family})."
        )
        after = ""  # what the verdict means, after the p-values it rests on
        if r.equivalent:
            verdict = "equivalence is shown"
        elif r.noninferior:
            verdict = "no rise beyond it is shown (non-inferiority), but equivalence is not"
        else:
            verdict = "neither equivalence nor non-inferiority is shown"
            after = ": the adjusted tests cannot rule out a rise as large as the margin."
            if r.largest_rise_excluded < r.margin:
                after += (
                    " Unadjusted, the largest rise the data exclude "
                    f"({format_number(r.largest_rise_excluded, 2)} {unit}) lies within the "
                    "margin; the adjustment takes that away."
                )
        origin = (
            f"{r.margin_spec} of the observed baseline mean: a margin taken from the same data it "
            "tests"
            if _is_percentage(r.margin_spec)
            else (margin_source or "set in the parameter set")
        )
        lines.append(
            f"  Against a margin of ±{format_number(r.margin, 2)} {unit} ({origin}), {verdict} "
            f"at α = {alpha:g} after adjustment for multiplicity (TOST "
            f"{p_phrase(r.p_equivalence)}; adjusted {p_phrase(r.p_equivalence_adj)})"
            + (after or ".")
        )
        if (r.outcome, r.visit_month) in det.index:
            rise = float(det.loc[(r.outcome, r.visit_month), "detectable_rise"])
            lines.append(
                f"  With {r.n} patients, a mean rise would need to be about "
                f"{format_number(rise, 2)} {unit} to be detected with {format_percent(power)} "
                f"power by the one-sided paired t-test at α = {alpha:g}."
            )
        pts = patients[
            (patients["outcome"] == r.outcome) & (patients["visit_month"] == r.visit_month)
        ]
        became = int((pts["crossing"] == "became positive").sum())
        lost = int((pts["crossing"] == "became negative").sum())
        rose = int(pts["rose_meaningfully"].sum())
        at_cut = ""
        if cutoffs is not None and r.outcome in cutoffs:
            cut = float(cutoffs[r.outcome])
            crossed = pts[pts["crossing"].isin(["became positive", "became negative"])]
            on_it = int((crossed["value"].eq(cut) | crossed["baseline_value"].eq(cut)).sum())
            at_cut = f" ({cut:g} {unit}, positive at or above it" + (
                f"; {on_it} of these crossings {'rests' if on_it == 1 else 'rest'} on a value "
                "exactly at the cut-off)"
                if on_it
                else ")"
            )
        lines.append(
            f"  {plural(became, 'patient')} became positive and {lost} became negative at the "
            f"assay cut-off{at_cut}; {rose} rose by more than "
            + _meaningful_in_words((meaningful_rise or {}).get(r.outcome), unit)
            + "."
        )
    if not lines:
        return (
            "- No antibody could be compared with baseline: fewer than three patients were "
            "measured at baseline and at a follow-up visit."
        )
    return "\n".join(lines)
