"""Design of a follow-up trial: planning effects, sample sizes, power curves and simulated power.

A pilot's signal raises the next question: what trial would confirm it? From
each outcome's observed change from baseline this module takes three planning
effects (the observed mean change, half of it, and the bound of its confidence
interval closest to zero) and sizes two designs:

* a **single-arm replication** analysed with a paired test on the change from
  baseline: the paired t-test's n from the noncentral t distribution
  (statsmodels ``TTestPower``), with Cohen's d_z = change / SD(change);
* a **randomised two-arm trial** analysed by ANCOVA of the follow-up value on
  arm and baseline (equivalently, change from baseline adjusted for baseline),
  for the effect standardised by ANCOVA's residual SD, d = effect / (SD₁ √(1 − r²)),
  with SD₁ the follow-up SD and r the baseline–follow-up correlation
  (SD₁²(1 − r²) is the variance of the follow-up value given baseline, whatever
  the baseline SD). Its power is the exact power of ANCOVA with a random normal
  covariate (Shieh 2020, Psychometrika 85:101-120): the noncentral t with
  2n − 3 df, averaged over the chance difference between the arms' baseline
  means, whose share of the baseline variation follows a Beta(1/2, n − 1)
  distribution; n per arm is the smallest that reaches the target power. Its
  large-sample form, where the search starts, is the two-sample t-test's n at
  this d (statsmodels ``TTestIndPower``); in the normal approximation that is
  the t-test's n at effect / SD₁ times the design factor 1 − r² of Borm,
  Fransen & Lemmens (2007, J Clin Epidemiol 60:1234-1238). The control arm is
  assumed not to change.

With ``test="wilcoxon"`` the t-test's n is divided by the Wilcoxon tests'
asymptotic relative efficiency under normal data, 3/π ≈ 0.955 (Lehmann 1975,
*Nonparametrics*, ch. 2 and 5): the paired t-test's for the signed-rank test,
and for two arms, analysed by the rank-sum test on the change from baseline,
the two-sample t-test's on the change, d = effect / SD(change) (the
efficiency compares tests of the same variable, so not with ANCOVA).
Enrolment is the analysed n divided by 1 − dropout, rounded up.

Power is also simulated, vectorised with NumPy: a whole batch of trials is one
array (trials × patients) and each test statistic one array operation. The
paired t-test's power (noncentral t) and ANCOVA's (Shieh) are exact, so the
simulation must meet them within Monte Carlo error; the Wilcoxon tests' power
by their efficiency is an approximation, which the simulation checks.
:func:`simulate_power_loop` does the same trials one at a time with pingouin,
as a reference for the tests and the benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats
from statsmodels.stats.power import TTestIndPower, TTestPower

from helpers.choices import DESIGN_BASES, DESIGNS, basis_words, design_words
from helpers.choices import DESIGN_TESTS as TESTS
from helpers.outcomes import outcome_pairs
from helpers.precision import format_count, format_percent, format_signed
from helpers.study import Study, in_sentence, label_for

__all__ = [
    "ARE_WILCOXON",
    "BASES",
    "DESIGNS",
    "TESTS",
    "analytic_power",
    "basis_words",
    "describe_design",
    "describe_followup_sd",
    "describe_sd_uncertainty",
    "describe_simulation",
    "design_finding",
    "followup_sd_sensitivity",
    "label_rows",
    "n_grid",
    "planned_trials",
    "planning_effects",
    "planning_inputs",
    "power_curves",
    "sample_size",
    "sample_sizes",
    "simulate_power",
    "simulate_power_loop",
    "simulation_check",
    "two_arm_d",
]

#: Asymptotic relative efficiency of the Wilcoxon signed-rank and rank-sum tests
#: against the t-tests under normal data (Lehmann 1975).
ARE_WILCOXON = 3 / math.pi


#: The planning effects; they and :data:`DESIGNS` live in :mod:`helpers.choices`, so that
#: drawing a power curve (helpers.figures) does not make every notebook depend on this module.
BASES = DESIGN_BASES


def planning_inputs(
    measurements: pd.DataFrame,
    *,
    outcomes: Sequence[str],
    visits: Sequence[int],
    baseline: int,
    ci_level: float = 0.95,
    min_pairs: int = 3,
) -> pd.DataFrame:
    """Summarise each outcome's change from baseline at its last follow-up visit with data.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Tidy measurements (``patient_id``, ``visit_month``, ``outcome``, ``value``).
    outcomes : sequence of str
    visits : sequence of int
        Candidate follow-up visits; the latest with at least ``min_pairs``
        complete pairs is used for each outcome.
    baseline : int
    ci_level : float, default 0.95
        Level of the t interval of the mean change.
    min_pairs : int, default 3

    Returns
    -------
    pandas.DataFrame
        One row per outcome: ``outcome``, ``visit_month``, ``n``,
        ``mean_change``, ``sd_change``, ``ci_low``, ``ci_high``, ``ci_level``, ``sd_baseline``,
        ``sd_followup``, ``r`` (Pearson correlation of baseline and follow-up);
        an outcome without enough pairs at any visit has ``visit_month`` missing.

    Examples
    --------
    >>> m = pd.DataFrame({"patient_id": list("aabbcc"), "visit_month": [0, 1] * 3,
    ...     "outcome": "x", "value": [10, 8, 12, 11, 9, 6]})
    >>> planning_inputs(m, outcomes=["x"], visits=[0, 1], baseline=0)[["n", "mean_change"]]
       n  mean_change
    0  3         -2.0
    """
    rows = []
    for outcome in outcomes:
        row: dict[str, object] = {"outcome": outcome, "visit_month": pd.NA, "n": 0}
        for visit in sorted((v for v in visits if v != baseline), reverse=True):
            pairs = outcome_pairs(measurements, outcome=outcome, visit=visit, baseline=baseline)
            if len(pairs) < min_pairs:
                continue
            change = pairs["after"] - pairs["before"]
            n = len(change)
            mean, sd = float(change.mean()), float(change.std(ddof=1))
            half = stats.t.ppf(0.5 + ci_level / 2, n - 1) * sd / math.sqrt(n)
            row.update(
                visit_month=visit,
                n=n,
                mean_change=mean,
                sd_change=sd,
                ci_low=mean - half,
                ci_high=mean + half,
                sd_baseline=float(pairs["before"].std(ddof=1)),
                sd_followup=float(pairs["after"].std(ddof=1)),
                r=float(np.corrcoef(pairs["before"], pairs["after"])[0, 1]),
            )
            break
        rows.append(row)
    columns = [
        "outcome", "visit_month", "n", "mean_change", "sd_change", "ci_low", "ci_high",
        "ci_level", "sd_baseline", "sd_followup", "r",
    ]  # fmt: skip
    table = pd.DataFrame(rows).reindex(columns=columns)
    table["visit_month"] = table["visit_month"].astype("Int64")
    table["ci_level"] = float(ci_level)
    return table


def planning_effects(inputs: pd.DataFrame) -> pd.DataFrame:
    """Three planning effects per outcome, with the standardised effects each design needs.

    Parameters
    ----------
    inputs : pandas.DataFrame
        From :func:`planning_inputs`.

    Returns
    -------
    pandas.DataFrame
        One row per outcome and basis (see :data:`BASES`): ``effect`` (in the
        outcome's unit), ``d_paired`` = effect / SD(change) (Cohen's d_z) and
        ``d_ancova`` = effect / (SD₁ √(1 − r²)), SD₁ the follow-up SD and r the
        baseline–follow-up correlation (SD₁²(1 − r²) is ANCOVA's residual variance). The confidence
        bound is missing, with a ``note``, when the interval includes zero (no change).

    Examples
    --------
    >>> i = pd.DataFrame({"outcome": ["x"], "visit_month": [1], "n": [7], "mean_change": [-2.0],
    ...     "sd_change": [2.0], "ci_low": [-3.8], "ci_high": [-0.2], "sd_baseline": [3.0],
    ...     "sd_followup": [3.0], "r": [0.6]})
    >>> planning_effects(i)[["basis", "effect", "d_paired", "d_ancova"]].round(3)
          basis  effect  d_paired  d_ancova
    0  observed    -2.0      -1.0    -0.833
    1      half    -1.0      -0.5    -0.417
    2  ci_bound    -0.2      -0.1    -0.083
    """
    rows = []
    for r in inputs.itertuples(index=False):
        if pd.isna(r.visit_month):
            continue
        residual = r.sd_followup * math.sqrt(max(1 - r.r**2, 0.0))
        crosses = r.ci_low <= 0 <= r.ci_high
        nearest = r.ci_low if abs(r.ci_low) < abs(r.ci_high) else r.ci_high
        for basis, effect, note in (
            ("observed", r.mean_change, ""),
            ("half", r.mean_change / 2, ""),
            (
                "ci_bound",
                math.nan if crosses else nearest,
                "the interval includes zero (no change): no trial can be sized on it"
                if crosses
                else "",
            ),
        ):
            rows.append(
                {
                    "outcome": r.outcome,
                    "visit_month": int(r.visit_month),
                    "basis": basis,
                    "effect": effect,
                    "ci_level": getattr(r, "ci_level", math.nan),
                    "sd_change": r.sd_change,
                    "r": r.r,
                    "d_paired": effect / r.sd_change if r.sd_change > 0 else math.nan,
                    "d_ancova": effect / residual if residual > 0 else math.nan,
                    "note": note,
                }
            )
    return pd.DataFrame(rows, columns=_EFFECT_COLUMNS)


#: What the design's sentences say when no outcome can be planned for.
NOTHING_TO_PLAN = (
    "No outcome has three complete pairs at a follow-up visit: there is no change to size a "
    "follow-up trial on."
)

#: The columns of :func:`planning_effects`, there even when no outcome can be planned for.
_EFFECT_COLUMNS = (
    "outcome", "visit_month", "basis", "effect", "ci_level", "sd_change", "r", "d_paired",
    "d_ancova", "note",
)  # fmt: skip


def _efficiency(test: str) -> float:
    if test not in TESTS:
        raise ValueError(f"test must be one of {list(TESTS)}, not {test!r}")
    return 1.0 if test == "t" else ARE_WILCOXON


def two_arm_d(test: str) -> str:
    """Name the standardised effect a two-arm design is sized on, for its test.

    ANCOVA (``"t"``) is sized on ``d_ancova``; the Wilcoxon rank-sum test on the
    change from baseline on the change's own standardised effect, ``d_paired``
    (effect / SD(change): the SD of the change is the same in a single arm and
    in each arm of a trial).

    Parameters
    ----------
    test : {"t", "wilcoxon"}

    Returns
    -------
    str
        A column of :func:`planning_effects`.

    Examples
    --------
    >>> two_arm_d("t"), two_arm_d("wilcoxon")
    ('d_ancova', 'd_paired')
    """
    _efficiency(test)
    return "d_ancova" if test == "t" else "d_paired"


def sample_size(
    d: float, *, design: str, alpha: float = 0.05, power: float = 0.8, test: str = "t"
) -> float:
    """Analysed sample size (per arm for two arms) for a standardised effect, not rounded.

    Parameters
    ----------
    d : float
        Standardised effect: ``d_paired`` for the single arm, ``d_ancova`` for two arms
        analysed by ANCOVA; for two arms with the Wilcoxon rank-sum test on change,
        the effect over SD(change), which is ``d_paired`` (:func:`two_arm_d`).
    design : {"single_arm", "two_arm"}
    alpha : float, default 0.05
        Two-sided.
    power : float, default 0.8
    test : {"t", "wilcoxon"}, default "t"

    Returns
    -------
    float
        NaN when ``d`` is missing or zero. For two arms analysed by ANCOVA
        (``test="t"``), a whole number: the smallest n per arm, at least 3,
        whose exact power (:func:`analytic_power`) reaches ``power``.

    Examples
    --------
    Cohen's classic value: d = 0.5 needs 33.4 pairs. ANCOVA with d = 0.5 (on the
    residual SD) needs 65 per arm, where the two-sample t-test's 63.8 is its
    large-sample form.

    >>> [round(sample_size(0.5, design=d), 1) for d in ("single_arm", "two_arm")]
    [33.4, 65.0]
    """
    efficiency = _efficiency(test)
    if d is None or not math.isfinite(d) or d == 0:
        return math.nan
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {list(DESIGNS)}, not {design!r}")
    ancova = design == "two_arm" and test == "t"
    # statsmodels cannot solve below 2 (pairs, or per arm) and returns NaN with a warning:
    # an effect so large that the smallest trial has the power gets that trial
    if ancova and _ancova_powers(d, np.array([3]), alpha)[0] >= power:
        return 3.0  # the smallest ANCOVA (3 df)
    if not ancova and _t_test_powers(d, np.array([2.0]), design, alpha)[0] >= power:
        return 2.0 / efficiency  # the t-test's smallest trial, over the Wilcoxon's efficiency
    solver = TTestPower() if design == "single_arm" else TTestIndPower()
    n = float(
        solver.solve_power(effect_size=abs(d), alpha=alpha, power=power, alternative="two-sided")
    )
    if not ancova:
        return n / efficiency
    # ANCOVA: the smallest n whose exact power reaches the target, from the t-test's n up
    # (the exact power is below the two-sample t-test's at every n)
    whole = max(math.ceil(n - 1e-9), 3)
    while _ancova_powers(d, np.array([whole]), alpha)[0] < power:
        whole += 1
    return float(whole)


def sample_sizes(
    effects: pd.DataFrame,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    dropout: float = 0.0,
    test: str = "t",
) -> pd.DataFrame:
    """Sample sizes of both designs for every planning effect, analysed and enrolled.

    Parameters
    ----------
    effects : pandas.DataFrame
        From :func:`planning_effects`.
    alpha : float, default 0.05
        Two-sided.
    power : float, default 0.8
    dropout : float, default 0.0
        Fraction expected to leave before the follow-up visit.
    test : {"t", "wilcoxon"}, default "t"

    Returns
    -------
    pandas.DataFrame
        ``effects`` with ``n_single_arm`` and ``n_per_arm`` (analysed, rounded
        up) and ``enrol_single_arm`` and ``enrol_two_arm`` (both arms), each
        divided by 1 − dropout and rounded up; missing where no trial can be
        sized.

    Examples
    --------
    >>> e = pd.DataFrame({"d_paired": [0.5], "d_ancova": [0.5]})
    >>> sample_sizes(e, dropout=0.2)[["n_single_arm", "enrol_single_arm", "n_per_arm",
    ...     "enrol_two_arm"]].values.tolist()
    [[34, 43, 65, 164]]
    """
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be at least 0 and less than 1, not {dropout!r}")

    def up(x: float) -> object:
        return pd.NA if not math.isfinite(x) else math.ceil(x - 1e-9)

    def enrolled(analysed: object) -> object:
        return pd.NA if pd.isna(analysed) else up(int(analysed) / (1 - dropout))

    table = effects.copy()
    single = [
        up(sample_size(d, design="single_arm", alpha=alpha, power=power, test=test))
        for d in effects["d_paired"]
    ]
    per_arm = [
        up(sample_size(d, design="two_arm", alpha=alpha, power=power, test=test))
        for d in effects[two_arm_d(test)]
    ]
    table["n_single_arm"] = pd.array(single, dtype="Int64")
    table["enrol_single_arm"] = pd.array([enrolled(n) for n in single], dtype="Int64")
    table["n_per_arm"] = pd.array(per_arm, dtype="Int64")
    table["enrol_two_arm"] = pd.array(
        [pd.NA if pd.isna(n) else 2 * enrolled(n) for n in per_arm], dtype="Int64"
    )
    table["test"] = test
    table["alpha"] = alpha
    table["power"] = power
    table["dropout"] = dropout
    return table


def analytic_power(d: float, n: int, *, design: str, alpha: float = 0.05, test: str = "t") -> float:
    """Power of a design with n analysed (per arm for two arms), from the noncentral t.

    Single arm: the two-sided power P(T > t_crit) + P(T < −t_crit) for T
    noncentral t with df = n − 1 and noncentrality d √n, as statsmodels'
    ``TTestPower`` computes it; scipy's noncentral t is called directly
    because its lower tail is NaN far from the centre (where it is 0), which
    makes statsmodels return NaN for large n.

    Two arms, ANCOVA (``test="t"``): the exact power with a random normal
    covariate (Shieh 2020). Given the baselines, the ANCOVA t is noncentral t
    with 2n − 3 df and noncentrality d √(n/2) √B, where 1 − B is the share of
    the baseline variation that lies between the arms, Beta(1/2, n − 1)
    distributed under randomisation; the power is averaged over B by
    Gauss–Legendre quadrature.

    For the Wilcoxon tests the t-test's power (two arms: the two-sample
    t-test's, 2n − 2 df) at n × 3/π, the asymptotic relative efficiency, is
    returned.

    Parameters
    ----------
    d : float
    n : int
    design : {"single_arm", "two_arm"}
    alpha : float, default 0.05
    test : {"t", "wilcoxon"}, default "t"

    Returns
    -------
    float

    Examples
    --------
    >>> round(analytic_power(0.5, 34, design="single_arm"), 3)
    0.808
    >>> round(analytic_power(1.0, 9, design="two_arm"), 3)  # the two-sample t-test: 0.513
    0.486
    >>> analytic_power(0.9, 200, design="two_arm") > 0.999999
    True
    """
    return float(_analytic_powers(d, np.array([n]), design=design, alpha=alpha, test=test)[0])


def _analytic_powers(
    d: float, n: np.ndarray, *, design: str, alpha: float, test: str
) -> np.ndarray:
    """:func:`analytic_power` for an array of n (SciPy's distributions take arrays)."""
    if design == "two_arm" and test == "t":
        return _ancova_powers(d, np.asarray(n), alpha)
    return _t_test_powers(d, np.asarray(n, dtype=float) * _efficiency(test), design, alpha)


def _two_sided_power(df: np.ndarray, nc: np.ndarray, alpha: float) -> np.ndarray:
    """Return P(T > t_crit) + P(T < −t_crit) for T noncentral t.

    SciPy's lower tail is NaN far from the centre, where it is 0.
    """
    crit = stats.t.isf(alpha / 2, df)
    lower = stats.nct.cdf(-crit, df, nc)
    return stats.nct.sf(crit, df, nc) + np.where(np.isnan(lower), 0.0, lower)


def _t_test_powers(d: float, n: np.ndarray, design: str, alpha: float) -> np.ndarray:
    """Power of the paired (single arm) or two-sample t-test with n pairs or n per arm."""
    if design == "single_arm":
        df, nc = n - 1, abs(d) * np.sqrt(n)
    elif design == "two_arm":
        df, nc = 2 * n - 2, abs(d) * np.sqrt(n / 2)
    else:
        raise ValueError(f"design must be one of {list(DESIGNS)}, not {design!r}")
    return np.minimum(1.0, _two_sided_power(df, nc, alpha))


#: Gauss–Legendre nodes for the average over the baseline imbalance (Shieh's exact power).
_NODES = np.polynomial.legendre.leggauss(48)


def _ancova_powers(d: float, n: np.ndarray, alpha: float) -> np.ndarray:
    """Exact power of two-arm ANCOVA with a random normal covariate (Shieh 2020), per n.

    B ~ Beta(n − 1, 1/2) is the share of the baseline variation within the arms;
    with B = 1 − u² the density becomes 2 (1 − u²)^(n − 2) / beta(n − 1, 1/2) on
    u in [0, 1], smooth, and negligible beyond u = 8 / √(n − 2), where the nodes
    are placed.
    """
    n = np.asarray(n, dtype=float)[:, None]
    df = 2 * n - 3
    a = n - 1  # (N − 2) / 2 with N = 2n
    top = np.minimum(1.0, 8 / np.sqrt(np.maximum(a - 1, 1e-12)))
    x, w = _NODES
    u = (x + 1) / 2 * top
    weight = w / 2 * top * 2 * np.exp((a - 1) * np.log1p(-(u**2)) - special.betaln(a, 0.5))
    given = _two_sided_power(df, abs(d) * np.sqrt(n / 2) * np.sqrt(1 - u**2), alpha)
    return np.minimum(1.0, (given * weight).sum(axis=1))


def n_grid(max_n: int, *, points: int = 40, min_n: int = 4) -> list[int]:
    """List patient numbers for a power curve: about ``points`` spaced evenly on a log scale.

    Parameters
    ----------
    max_n : int
    points : int, default 40
    min_n : int, default 4

    Returns
    -------
    list of int
        Increasing, from ``min_n`` to ``max_n``.

    Examples
    --------
    >>> n_grid(100, points=6)
    [4, 8, 14, 28, 53, 100]
    """
    grid = np.unique(np.round(np.geomspace(min_n, max_n, points)).astype(int))
    return [int(n) for n in grid]


def power_curves(
    effects: pd.DataFrame,
    *,
    n_values: Sequence[int],
    alpha: float = 0.05,
    test: str = "t",
) -> pd.DataFrame:
    """Analytic power against n for every outcome, planning effect and design.

    Parameters
    ----------
    effects : pandas.DataFrame
        From :func:`planning_effects`.
    n_values : sequence of int
        Patients analysed (per arm for two arms).
    alpha : float, default 0.05
    test : {"t", "wilcoxon"}, default "t"

    Returns
    -------
    pandas.DataFrame
        ``outcome``, ``basis``, ``ci_level`` (the effects' own; missing when
        they have none), ``design``, ``test``, ``n``, ``power``; rows with no
        effect are left out.

    Examples
    --------
    >>> e = pd.DataFrame({"outcome": ["x"], "basis": ["observed"], "d_paired": [0.5],
    ...     "d_ancova": [0.5]})
    >>> power_curves(e, n_values=[10, 34])["power"].round(2).tolist()
    [0.29, 0.81, 0.18, 0.52]
    """
    columns = ["outcome", "basis", "ci_level", "design", "test", "n", "power"]
    ns = np.array([int(n) for n in n_values], dtype=int)
    curves = []
    for r in effects.itertuples(index=False):
        level = getattr(r, "ci_level", math.nan)
        for design, d in (("single_arm", r.d_paired), ("two_arm", getattr(r, two_arm_d(test)))):
            if not math.isfinite(d) or d == 0:
                continue
            power = _analytic_powers(d, ns, design=design, alpha=alpha, test=test)
            curves.append(pd.DataFrame({"outcome": r.outcome, "basis": r.basis, "ci_level": level,
                                        "design": design, "test": test, "n": ns,
                                        "power": power}))  # fmt: skip
    if not curves:
        return pd.DataFrame(columns=columns)
    return pd.concat(curves, ignore_index=True)[columns]


# ---------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------


def _draw(
    rng: np.random.Generator,
    *,
    design: str,
    n: int,
    sims: int,
    effect: float,
    sd: float,
    r: float,
    sd_baseline: float | None = None,
) -> tuple[np.ndarray, ...]:
    """Draw a batch of trials: changes (single arm) or baseline/follow-up per arm (two arms)."""
    if design == "single_arm":
        return (rng.normal(effect, sd, size=(sims, n)),)
    # baseline (SD sd_baseline) and follow-up (SD sd) with correlation r, per arm; the treated
    # arm's follow-up shifts by effect
    z = rng.standard_normal(size=(4, sims, n))
    root = math.sqrt(max(1 - r * r, 0.0))
    sd0 = sd if sd_baseline is None else sd_baseline
    base_c, base_t = sd0 * z[0], sd0 * z[1]
    follow_c = sd * (r * z[0] + root * z[2])
    follow_t = sd * (r * z[1] + root * z[3]) + effect
    return base_c, follow_c, base_t, follow_t


def _p_paired_t(d: np.ndarray) -> np.ndarray:
    n = d.shape[1]
    t = d.mean(axis=1) / (d.std(axis=1, ddof=1) / math.sqrt(n))
    return 2 * stats.t.sf(np.abs(t), n - 1)


def _signed_rank_table(n: int) -> np.ndarray:
    """Exact two-sided p of the signed-rank test for every W+ = 0 … n(n+1)/2, from scipy."""
    top = n * (n + 1) // 2
    table = np.empty(top + 1)
    ranks = np.arange(1, n + 1, dtype=float)
    for w in range(top + 1):
        # a sample whose positive ranks sum to w: take ranks greedily from the largest
        signs, left = -np.ones(n), w
        for k in range(n, 0, -1):
            if k <= left:
                signs[k - 1], left = 1.0, left - k
        table[w] = stats.wilcoxon(signs * ranks, method="exact").pvalue
    return table


def _p_signed_rank(d: np.ndarray) -> np.ndarray:
    n = d.shape[1]
    ranks = np.abs(d).argsort(axis=1).argsort(axis=1) + 1
    w_plus = np.where(d > 0, ranks, 0).sum(axis=1)
    if n <= 50:
        return _signed_rank_table(n)[w_plus]
    mean, var = n * (n + 1) / 4, n * (n + 1) * (2 * n + 1) / 24
    z = (w_plus - mean) / math.sqrt(var)
    return 2 * stats.norm.sf(np.abs(z))


def _p_ancova(
    base_c: np.ndarray, follow_c: np.ndarray, base_t: np.ndarray, follow_t: np.ndarray
) -> np.ndarray:
    """Two-sided p of the arm coefficient in follow-up ~ arm + baseline, per trial (row).

    The least-squares fit in closed form (the classical ANCOVA of two groups): the
    baseline slope is the pooled within-arm slope b = Sxy / Sxx, the arm effect the
    difference in follow-up means less b times the difference in baseline means, with
    variance s² (1/n + 1/n + (difference in baseline means)² / Sxx) on 2n − 3 degrees
    of freedom, s² from the residuals. ``tests/test_design.py`` compares it trial by trial
    with pingouin's ANCOVA and with statsmodels' OLS.
    """
    n = base_c.shape[1]
    mean_xc, mean_xt = base_c.mean(axis=1), base_t.mean(axis=1)
    mean_yc, mean_yt = follow_c.mean(axis=1), follow_t.mean(axis=1)
    xc, xt = base_c - mean_xc[:, None], base_t - mean_xt[:, None]
    yc, yt = follow_c - mean_yc[:, None], follow_t - mean_yt[:, None]
    sxx = (xc * xc).sum(axis=1) + (xt * xt).sum(axis=1)
    slope = ((xc * yc).sum(axis=1) + (xt * yt).sum(axis=1)) / sxx
    shift = mean_xt - mean_xc
    effect = (mean_yt - mean_yc) - slope * shift
    df = 2 * n - 3
    # the residuals themselves, not Syy - b Sxy, which cancels to a negative s² as |r| -> 1
    resid_c, resid_t = yc - slope[:, None] * xc, yt - slope[:, None] * xt
    rss = (resid_c * resid_c).sum(axis=1) + (resid_t * resid_t).sum(axis=1)
    se = np.sqrt(rss / df * (2 / n + shift * shift / sxx))
    return 2 * stats.t.sf(np.abs(effect / se), df)


def _p_rank_sum(change_c: np.ndarray, change_t: np.ndarray) -> np.ndarray:
    """Two-sided p of the Wilcoxon rank-sum test: normal approximation, continuity correction."""
    n1, n2 = change_t.shape[1], change_c.shape[1]
    both = np.concatenate([change_t, change_c], axis=1)
    ranks = both.argsort(axis=1).argsort(axis=1) + 1
    u = ranks[:, :n1].sum(axis=1) - n1 * (n1 + 1) / 2
    mean, sd = n1 * n2 / 2, math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    z = (np.abs(u - mean) - 0.5) / sd
    return np.minimum(1.0, 2 * stats.norm.sf(z))


def _p_values(draw: tuple[np.ndarray, ...], *, design: str, test: str) -> np.ndarray:
    if design == "single_arm":
        return _p_paired_t(draw[0]) if test == "t" else _p_signed_rank(draw[0])
    base_c, follow_c, base_t, follow_t = draw
    if test == "t":
        return _p_ancova(base_c, follow_c, base_t, follow_t)
    return _p_rank_sum(follow_c - base_c, follow_t - base_t)


def simulate_power(
    *,
    design: str,
    n: int,
    effect: float,
    sd: float,
    r: float = 0.0,
    alpha: float = 0.05,
    test: str = "t",
    n_sims: int = 4000,
    seed: int = 0,
    batch: int = 2000,
    sd_baseline: float | None = None,
) -> tuple[float, float]:
    """Power by simulation, vectorised: whole batches of trials per array operation.

    Single arm: n changes ~ Normal(effect, sd). Two arms: n patients per arm,
    baseline ~ Normal with SD ``sd_baseline`` and follow-up ~ Normal with SD
    ``sd``, correlation ``r``, the treated arm's follow-up shifted by
    ``effect``; analysed by ANCOVA (t) or
    the rank-sum test on change (wilcoxon). The single-arm Wilcoxon p is the
    exact signed-rank p (n ≤ 50) looked up from scipy; the rank-sum p is
    scipy's normal approximation with continuity correction.

    Parameters
    ----------
    design : {"single_arm", "two_arm"}
    n : int
        Patients analysed (per arm for two arms).
    effect, sd : float
        Mean change (or difference between arms) and its SD: SD(change) for
        one arm, the outcome's SD for two arms.
    r : float, default 0.0
        Baseline–follow-up correlation (two arms).
    alpha : float, default 0.05
    test : {"t", "wilcoxon"}, default "t"
    n_sims : int, default 4000
    seed : int, default 0
    batch : int, default 2000
        Trials per array operation (memory: batch × n × 8 bytes per array).
    sd_baseline : float, optional
        The baseline SD (two arms); default ``sd``. ANCOVA's power does not
        depend on it; the rank-sum test on change does.

    Returns
    -------
    (power, mc_se)
        The fraction of trials with p < alpha and its Monte Carlo standard
        error √(p(1 − p)/n_sims).

    Examples
    --------
    >>> p, se = simulate_power(design="single_arm", n=34, effect=0.5, sd=1.0, seed=1)
    >>> abs(p - analytic_power(0.5, 34, design="single_arm")) < 4 * se
    True
    """
    _efficiency(test)
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {list(DESIGNS)}, not {design!r}")
    if sd_baseline is not None and not (math.isfinite(sd_baseline) and sd_baseline > 0):
        # a baseline without spread leaves ANCOVA's baseline slope undefined
        raise ValueError(f"sd_baseline must be a positive number, not {sd_baseline!r}")
    rng = np.random.default_rng(seed)
    rejected, done = 0, 0
    while done < n_sims:
        size = min(batch, n_sims - done)
        draw = _draw(
            rng, design=design, n=n, sims=size, effect=effect, sd=sd, r=r, sd_baseline=sd_baseline
        )
        rejected += int((_p_values(draw, design=design, test=test) < alpha).sum())
        done += size
    power = rejected / n_sims
    return power, math.sqrt(power * (1 - power) / n_sims)


def simulate_power_loop(
    *,
    design: str,
    n: int,
    effect: float,
    sd: float,
    r: float = 0.0,
    alpha: float = 0.05,
    test: str = "t",
    n_sims: int = 200,
    seed: int = 0,
    sd_baseline: float | None = None,
) -> tuple[float, np.ndarray]:
    """Analyse the same trials as :func:`simulate_power` one at a time with pingouin.

    The reference implementation: pingouin's ``ttest`` (paired), ``ancova``,
    ``wilcoxon`` and ``mwu`` per trial. Draws the same numbers as
    :func:`simulate_power` with one batch, so the p-values can be compared
    trial by trial.

    Returns
    -------
    (power, p_values)

    Examples
    --------
    >>> p, ps = simulate_power_loop(design="single_arm", n=8, effect=1.0, sd=1.0, n_sims=5)
    >>> ps.shape
    (5,)
    """
    import pingouin as pg

    rng = np.random.default_rng(seed)
    draw = _draw(
        rng, design=design, n=n, sims=n_sims, effect=effect, sd=sd, r=r, sd_baseline=sd_baseline
    )
    ps = np.empty(n_sims)
    for i in range(n_sims):
        if design == "single_arm":
            d = draw[0][i]
            if test == "t":
                ps[i] = pg.ttest(d, 0.0)["p_val"].iloc[0]
            else:
                ps[i] = pg.wilcoxon(d, method="exact")["p_val"].iloc[0]
            continue
        base_c, follow_c, base_t, follow_t = (a[i] for a in draw)
        if test == "t":
            frame = pd.DataFrame(
                {
                    "follow": np.concatenate([follow_c, follow_t]),
                    "base": np.concatenate([base_c, base_t]),
                    "arm": ["control"] * n + ["treated"] * n,
                }
            )
            table = pg.ancova(frame, dv="follow", covar="base", between="arm")
            ps[i] = table.loc[table["Source"] == "arm", "p_unc"].iloc[0]
        else:
            ps[i] = pg.mwu(follow_t - base_t, follow_c - base_c, method="asymptotic")["p_val"].iloc[
                0
            ]
    return float((ps < alpha).mean()), ps


def simulation_check(
    sizes: pd.DataFrame,
    *,
    inputs: pd.DataFrame,
    alpha: float = 0.05,
    test: str = "t",
    n_sims: int = 4000,
    seed: int = 0,
    max_n: int | None = None,
) -> pd.DataFrame:
    """Compare simulated with analytic power at each planned n, with the Monte Carlo error.

    Parameters
    ----------
    sizes : pandas.DataFrame
        From :func:`sample_sizes`.
    inputs : pandas.DataFrame
        From :func:`planning_inputs` (the SDs and correlation the trials are drawn with).
    alpha : float, default 0.05
    test : {"t", "wilcoxon"}, default "t"
    n_sims : int, default 4000
    seed : int, default 0
        Each simulated design gets its own stream, ``seed + its number``.
    max_n : int, optional
        Designs planned with more patients than this (per arm) are not simulated.

    Returns
    -------
    pandas.DataFrame
        ``outcome``, ``basis``, ``ci_level``, ``design``, ``test``,
        ``n_analysed`` (per arm for two arms), ``analytic``, ``simulated``,
        ``mc_se``, ``z`` = (simulated − analytic) / mc_se, ``exact`` (whether
        the analytic power is exact for the simulated analysis: the paired
        t-test and ANCOVA; the Wilcoxon tests' power by their efficiency is an
        approximation).

    Examples
    --------
    >>> i = pd.DataFrame({"outcome": ["x"], "visit_month": [1], "n": [7], "mean_change": [-2.0],
    ...     "sd_change": [2.0], "ci_low": [-3.8], "ci_high": [-0.2], "sd_baseline": [3.0],
    ...     "sd_followup": [3.0], "r": [0.6]})
    >>> s = sample_sizes(planning_effects(i).iloc[:1])
    >>> simulation_check(s, inputs=i, n_sims=500)[["design", "n_analysed"]].values.tolist()
    [['single_arm', 10], ['two_arm', 25]]
    """
    by_outcome = inputs.set_index("outcome")
    rows = []
    k = 0
    for r in sizes.itertuples(index=False):
        inp = by_outcome.loc[r.outcome]
        for design, n, d, sd in (
            ("single_arm", r.n_single_arm, r.d_paired, inp.sd_change),
            ("two_arm", r.n_per_arm, getattr(r, two_arm_d(test)), inp.sd_followup),
        ):
            if pd.isna(n) or (max_n is not None and int(n) > max_n):
                continue
            sim, se = simulate_power(
                design=design, n=int(n), effect=r.effect, sd=sd, r=inp.r, alpha=alpha,
                test=test, n_sims=n_sims, seed=seed + k, sd_baseline=inp.sd_baseline,
            )  # fmt: skip
            k += 1
            analytic = analytic_power(d, int(n), design=design, alpha=alpha, test=test)
            rows.append(
                {
                    "outcome": r.outcome,
                    "basis": r.basis,
                    "ci_level": getattr(r, "ci_level", math.nan),
                    "design": design,
                    "test": test,
                    "n_analysed": int(n),
                    "analytic": analytic,
                    "simulated": sim,
                    "mc_se": se,
                    "z": (sim - analytic) / se if se > 0 else math.nan,
                    "exact": test == "t",
                }
            )
    return pd.DataFrame(rows, columns=_CHECK_COLUMNS)


#: The columns of :func:`simulation_check`, there even when no trial was simulated.
_CHECK_COLUMNS = (
    "outcome", "basis", "ci_level", "design", "test", "n_analysed", "analytic", "simulated",
    "mc_se", "z", "exact",
)  # fmt: skip


def label_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Name planning bases and designs in words, for a table or a legend.

    Parameters
    ----------
    table : pandas.DataFrame
        With ``basis`` and/or ``design`` codes (see :data:`BASES`, :data:`DESIGNS`);
        a ``ci_level`` column puts the level into the confidence bound's words
        (:func:`basis_words`), and a ``test`` column (:data:`TESTS`), which a
        ``design`` column needs, the analysis into the design's
        (:func:`~helpers.choices.design_words`); both are then left out.

    Returns
    -------
    pandas.DataFrame
        A copy with the codes replaced by their descriptions.

    Raises
    ------
    ValueError
        A ``design`` column without a ``test`` column: a design's words name its test.

    Examples
    --------
    >>> t = pd.DataFrame({"basis": ["half"], "design": ["single_arm"], "test": ["wilcoxon"]})
    >>> label_rows(t).iloc[0].tolist()
    ['half the observed mean change', 'single-arm replication, Wilcoxon signed-rank test on change from baseline']
    >>> label_rows(pd.DataFrame({"basis": ["ci_bound"], "ci_level": [0.9]}))["basis"].tolist()
    ['90% confidence bound closest to zero']
    """  # noqa: E501
    out = table.copy()
    if "basis" in out:
        levels = out["ci_level"] if "ci_level" in out else [None] * len(out)
        out["basis"] = [basis_words(b, lv) for b, lv in zip(out["basis"], levels, strict=True)]
        out = out.drop(columns="ci_level", errors="ignore")
    if "design" in out:
        if "test" not in out:
            raise ValueError("a design column needs a test column: a design is named with its test")
        words = [design_words(d, t) for d, t in zip(out["design"], out["test"], strict=True)]
        out["design"] = pd.Series(words, index=out.index, dtype="str")
        out = out.drop(columns="test")
    return out


#: How a sentence names each planning effect.
_AT = {
    "observed": "at the observed change",
    "half": "at half of it",
}


def _at(basis: str, ci_level: object) -> str:
    return _AT.get(basis) or f"at the {basis_words(basis, ci_level)}"


def _n_phrase(analysed: object, enrolled: object, *, per_arm: bool) -> str:
    if pd.isna(analysed):
        return "no size (no effect to plan on)"
    if per_arm:
        return (
            f"{format_count(int(analysed))} per arm analysed "
            f"({format_count(int(enrolled))} enrolled in all)"
        )
    return f"{format_count(int(analysed))} analysed ({format_count(int(enrolled))} enrolled)"


def describe_design(
    sizes: pd.DataFrame,
    *,
    alpha: float,
    power: float,
    dropout: float,
    test: str,
    study: Study | None = None,
) -> str:
    """Say, per outcome, what each design needs for each planning effect (Markdown).

    Parameters
    ----------
    sizes : pandas.DataFrame
        From :func:`sample_sizes`.
    alpha, power, dropout : float
    test : {"t", "wilcoxon"}
    study : Study, optional
        Labels and units.

    Returns
    -------
    str

    Examples
    --------
    >>> e = pd.DataFrame({"outcome": ["x"], "visit_month": [1], "basis": ["observed"],
    ...     "effect": [-2.0], "d_paired": [-0.5], "d_ancova": [-0.5], "note": [""]})
    >>> print(describe_design(sample_sizes(e), alpha=0.05, power=0.8, dropout=0, test="t"))
    ... # doctest: +NORMALIZE_WHITESPACE
    With 80% power at two-sided α = 0.05, analysed with the paired t-test (single arm) and
    the t-test of ANCOVA's treatment effect (two arms), and 0% dropout:
    - **x**, change at month 1: at the observed change (−2.00), single arm 34 analysed
      (34 enrolled); two arms 65 per arm analysed (130 enrolled in all).

    Without a planned trial it says nothing (:func:`design_finding` says why):

    >>> describe_design(sample_sizes(e.iloc[:0]), alpha=0.05, power=0.8, dropout=0, test="t")
    ''
    """
    if sizes.empty:
        return ""
    lines = [
        f"With {format_percent(power)} power at two-sided α = {alpha:g}, analysed with the "
        f"{TESTS[test]}, and {format_percent(dropout)} dropout:"
    ]
    for outcome, rows in sizes.groupby("outcome", sort=False):
        unit = ""
        if study is not None:
            try:
                unit = f" {study.unit(str(outcome))}"
            except ValueError:
                unit = ""
        parts = []
        for r in rows.itertuples(index=False):
            what = _at(r.basis, getattr(r, "ci_level", None))
            if pd.isna(r.effect):
                parts.append(f"{what}: none, {r.note}")
                continue
            effect = f"{format_signed(float(r.effect), 2)}{unit}"
            parts.append(
                f"{what} ({effect}), single arm "
                f"{_n_phrase(r.n_single_arm, r.enrol_single_arm, per_arm=False)}; two arms "
                f"{_n_phrase(r.n_per_arm, r.enrol_two_arm, per_arm=True)}"
            )
        visit = int(rows["visit_month"].iloc[0])
        name = label_for(str(outcome), study, unit=False)
        lines.append(f"- **{name}**, change at month {visit}: " + "; ".join(parts) + ".")
    return "\n".join(lines)


def design_finding(
    sizes: pd.DataFrame,
    *,
    study: Study | None = None,
    followup_sd: pd.DataFrame | None = None,
) -> str:
    """Sum up in one line the two-arm enrolments at the observed effects and at half of them.

    Where the study definition gives some outcomes the safety role, the line
    covers the efficacy outcomes and says so (the notebook's tables keep all).
    The two-arm sizes standardise the effect by the pilot's follow-up SD; given
    :func:`followup_sd_sensitivity`, the line adds the range the observed
    effects would need when planned on the baseline SD instead, so the headline
    does not rest on one SD unseen.

    Parameters
    ----------
    sizes : pandas.DataFrame
        From :func:`sample_sizes`.
    study : Study, optional
    followup_sd : pandas.DataFrame, optional
        From :func:`followup_sd_sensitivity` of the same sizes.

    Returns
    -------
    str

    Examples
    --------
    >>> e = pd.DataFrame({"outcome": ["x", "x", "y", "y"], "visit_month": [1] * 4,
    ...     "basis": ["observed", "half"] * 2, "effect": [1.0, 0.5, 2.0, 1.0],
    ...     "d_paired": [0.5, 0.25, 0.8, 0.4], "d_ancova": [0.5, 0.25, 0.8, 0.4], "note": ""})
    >>> print(design_finding(sample_sizes(e)))
    A randomised two-arm trial (80% power, two-sided α = 0.05, 0% dropout) would enrol 54 (y) to 130 (x) patients at the observed effects, and 200 (y) to 506 (x) at half of them.
    >>> f = pd.DataFrame({"outcome": ["x", "y"], "sd_followup": [1.0, 1.0],
    ...     "sd_baseline": [1.5, 0.8], "enrol_on_followup_sd": [130, 54],
    ...     "enrol_on_baseline_sd": [290, 36]})
    >>> print(design_finding(sample_sizes(e), followup_sd=f).split(". ")[1])
    These standardise each effect by the pilot's follow-up SD; planned on the baseline SD instead, the observed effects would need 36 (y) to 290 (x) patients, and on the larger of each outcome's two SDs, the cautious plan, 54 (y) to 290 (x) (see the caveats).
    >>> design_finding(sample_sizes(e.iloc[:0]))
    'No outcome has three complete pairs at a follow-up visit: there is no change to size a follow-up trial on.'
    """  # noqa: E501
    if sizes.empty:
        return NOTHING_TO_PLAN
    scope = ""
    efficacy = _efficacy_outcomes(sizes["outcome"].unique(), study)
    if 0 < len(efficacy) < sizes["outcome"].nunique():
        # a safety outcome's size is that of a trial to detect its change, not of the trial a
        # safety question needs (equivalence or non-inferiority): not in the headline
        sizes = sizes[sizes["outcome"].isin(efficacy)]
        scope = ", for the efficacy outcomes (a safety outcome needs an equivalence design)"
    first = sizes.iloc[0]
    head = (
        f"A randomised two-arm trial ({format_percent(float(first['power']))} power, two-sided "
        f"α = {float(first['alpha']):g}, {format_percent(float(first['dropout']))} dropout) "
        "would enrol"
    )
    parts = []
    for basis, words in (
        ("observed", "patients at the observed effects"),
        ("half", "at half of them"),
    ):
        rows = sizes[(sizes["basis"] == basis) & sizes["enrol_two_arm"].notna()]
        if rows.empty:
            continue
        parts.append(f"{_span(rows['enrol_two_arm'].astype(int), rows['outcome'], study)} {words}")
    if not parts:
        return "No outcome changed enough to size a follow-up trial on."
    return f"{head} {', and '.join(parts)}{scope}.{_on_baseline_sd(followup_sd, sizes, study)}"


def _on_baseline_sd(
    followup_sd: pd.DataFrame | None, sizes: pd.DataFrame, study: Study | None
) -> str:
    """Write the headline's second sentence: the observed effects' range on the baseline SD."""
    if followup_sd is None:
        return ""
    rows = followup_sd[
        followup_sd["outcome"].isin(sizes["outcome"])
        & followup_sd["enrol_on_followup_sd"].notna()
        & followup_sd["enrol_on_baseline_sd"].notna()
    ]
    if rows.empty:
        return ""
    if (rows["enrol_on_followup_sd"] == rows["enrol_on_baseline_sd"]).all():
        return (
            " Planned on the baseline SD instead, the enrolments at the observed effects are "
            "the same."
        )
    # planned on the larger of the two SDs, each outcome needs the larger of the two enrolments
    larger = rows[["enrol_on_followup_sd", "enrol_on_baseline_sd"]].max(axis=1).astype(int)
    on_baseline = _span(rows["enrol_on_baseline_sd"].astype(int), rows["outcome"], study)
    return (
        " These standardise each effect by the pilot's follow-up SD; planned on the baseline SD "
        f"instead, the observed effects would need {on_baseline} patients, and on the larger of "
        f"each outcome's two SDs, the cautious plan, {_span(larger, rows['outcome'], study)} "
        "(see the caveats)."
    )


def _span(enrol: pd.Series, outcomes: pd.Series, study: Study | None) -> str:
    """Say the smallest and largest enrolment, each with its outcome; one if all are equal.

    Examples
    --------
    >>> _span(pd.Series([30, 12]), pd.Series(["x", "y"]), None)
    '12 (y) to 30 (x)'
    >>> _span(pd.Series([18]), pd.Series(["x"]), None), _span(pd.Series([18, 18]), pd.Series(["x", "y"]), None)
    ('18 (x)', '18 (x and y)')
    """  # noqa: E501

    def label(code: object) -> str:
        return in_sentence(label_for(str(code), study, unit=False))

    low, high = enrol.idxmin(), enrol.idxmax()
    if enrol[low] == enrol[high]:  # one number: not "18 (HbA1c) to 18 (HbA1c)"
        names = [label(c) for c in dict.fromkeys(outcomes[enrol.index])]
        named = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        return f"{format_count(int(enrol[low]))} ({named})"
    return (
        f"{format_count(int(enrol[low]))} ({label(outcomes[low])}) to "
        f"{format_count(int(enrol[high]))} ({label(outcomes[high])})"
    )


def _efficacy_outcomes(codes: Sequence[str], study: Study | None) -> list[str]:
    """Keep the codes the study definition gives the efficacy role (all, without a study)."""
    safety = set() if study is None else set(study.analysis_plan(role="safety")[0])
    return [c for c in codes if c not in safety]


def followup_sd_sensitivity(inputs: pd.DataFrame, sizes: pd.DataFrame) -> pd.DataFrame:
    """Two-arm enrolment at the observed effect, planned on the follow-up SD and on the baseline SD.

    The sizes of :func:`sample_sizes` standardise the two-arm effect by the
    pilot's follow-up SD (every pilot patient was treated); a control arm's
    follow-up SD may be nearer the baseline SD. Here the same plan (the α,
    power, dropout and test ``sizes`` records) is made again with the baseline
    SD in its place, everything else unchanged.

    Parameters
    ----------
    inputs : pandas.DataFrame
        From :func:`planning_inputs`.
    sizes : pandas.DataFrame
        From :func:`sample_sizes` of these inputs' :func:`planning_effects`.

    Returns
    -------
    pandas.DataFrame
        One row per planned outcome: ``outcome``, ``sd_followup``,
        ``sd_baseline``, ``enrol_on_followup_sd`` and ``enrol_on_baseline_sd``
        (both arms, at the observed mean change).

    Examples
    --------
    >>> i = pd.DataFrame({"outcome": ["x"], "visit_month": [1], "n": [7], "mean_change": [-2.0],
    ...     "sd_change": [2.0], "ci_low": [-3.8], "ci_high": [-0.2], "sd_baseline": [4.0],
    ...     "sd_followup": [2.0], "r": [0.6]})
    >>> sizes = sample_sizes(planning_effects(i))
    >>> t = followup_sd_sensitivity(i, sizes)
    >>> t[["enrol_on_followup_sd", "enrol_on_baseline_sd"]].values.tolist()
    [[24, 84]]
    """
    planned = inputs[inputs["visit_month"].notna()]
    columns = ["outcome", "sd_followup", "sd_baseline", "enrol_on_followup_sd",
               "enrol_on_baseline_sd"]  # fmt: skip
    if planned.empty or sizes.empty:
        return pd.DataFrame(columns=columns)
    plan = {key: sizes[key].iloc[0] for key in ("alpha", "power", "dropout", "test")}

    def enrolments(table: pd.DataFrame) -> pd.Series:
        observed = table[table["basis"] == "observed"].set_index("outcome")
        return observed["enrol_two_arm"]

    on_baseline = sample_sizes(
        planning_effects(planned.assign(sd_followup=planned["sd_baseline"])), **plan
    )
    out = planned[["outcome", "sd_followup", "sd_baseline"]].reset_index(drop=True)
    out["enrol_on_followup_sd"] = out["outcome"].map(enrolments(sizes)).astype("Int64")
    out["enrol_on_baseline_sd"] = out["outcome"].map(enrolments(on_baseline)).astype("Int64")
    return out[columns]


def describe_followup_sd(sensitivity: pd.DataFrame, *, study: Study | None = None) -> str:
    """Say which two-arm enrolments change when planned on the baseline SD (Markdown).

    Parameters
    ----------
    sensitivity : pandas.DataFrame
        From :func:`followup_sd_sensitivity`.
    study : Study, optional
        Labels.

    Returns
    -------
    str
        Empty when no outcome was planned.

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["x", "y"], "sd_followup": [2.0, 3.0],
    ...     "sd_baseline": [4.0, 3.0], "enrol_on_followup_sd": [22, 40],
    ...     "enrol_on_baseline_sd": [72, 40]})
    >>> print(describe_followup_sd(t))
    Planned on the baseline SD instead of the follow-up SD, the two-arm trial at the observed change would enrol 72 instead of 22 for x (SD 4.00 at baseline, 2.00 at follow-up); the other planned outcome's enrolment is unchanged.
    >>> print(describe_followup_sd(t.iloc[1:]))
    Planned on the baseline SD instead of the follow-up SD, the two-arm enrolment at the observed change is the same.
    """  # noqa: E501
    rows = sensitivity.dropna(subset=["enrol_on_followup_sd", "enrol_on_baseline_sd"])
    if rows.empty:
        return ""
    changed = rows[rows["enrol_on_followup_sd"] != rows["enrol_on_baseline_sd"]]
    if changed.empty:  # equal SDs, or a test sized on the SD of the change (rank-sum)
        which = "enrolments" if len(rows) > 1 else "enrolment"
        verb = "are" if len(rows) > 1 else "is"
        return (
            f"Planned on the baseline SD instead of the follow-up SD, the two-arm {which} at "
            f"the observed change {verb} the same."
        )
    parts = [
        f"{format_count(int(r.enrol_on_baseline_sd))} instead of "
        f"{format_count(int(r.enrol_on_followup_sd))} for "
        f"{in_sentence(label_for(str(r.outcome), study, unit=False))} (SD {r.sd_baseline:.2f} at "
        f"baseline, {r.sd_followup:.2f} at follow-up)"
        for r in changed.itertuples(index=False)
    ]
    rest = len(rows) - len(changed)
    tail = ""
    if rest:
        tail = (
            f"; the other {rest} planned outcomes' enrolments are unchanged"
            if rest > 1
            else "; the other planned outcome's enrolment is unchanged"
        )
    return (
        "Planned on the baseline SD instead of the follow-up SD, the two-arm trial at the "
        f"observed change would enrol {'; '.join(parts)}{tail}."
    )


def sd_uncertainty(n: int, ci_level: float = 0.95) -> tuple[float, float]:
    """Give the confidence interval of the true SD as a multiple of one estimated from n values.

    The χ² interval of a normal SD: (n − 1) s² / sigma² follows χ² with n − 1
    degrees of freedom, so sigma / s lies between √((n − 1) / q₊) and
    √((n − 1) / q₋), q₊ and q₋ the χ² quantiles at (1 + ``ci_level``) / 2 and
    (1 − ``ci_level``) / 2, with probability ``ci_level``.

    Parameters
    ----------
    n : int
        Values the SD was estimated from (2 or more).
    ci_level : float, default 0.95

    Returns
    -------
    (low, high) : tuple of float
        Bounds of sigma / s.

    Examples
    --------
    >>> [round(v, 3) for v in sd_uncertainty(7)]
    [0.644, 2.202]
    """
    if n < 2:
        raise ValueError(f"an SD needs 2 values or more, got {n}")
    df = n - 1
    tail = (1 - ci_level) / 2
    return (
        math.sqrt(df / stats.chi2.ppf(1 - tail, df)),
        math.sqrt(df / stats.chi2.ppf(tail, df)),
    )


def describe_sd_uncertainty(inputs: pd.DataFrame, *, ci_level: float = 0.95) -> str:
    """Say how far the planning SDs may be from the truth, and what that does to the sizes.

    From the fewest pairs any outcome was planned on (:func:`sd_uncertainty`);
    every sample size scales roughly with the square of the SD it was planned with (less at
    small sizes, where the t distribution's degrees of freedom change with n too).

    Parameters
    ----------
    inputs : pandas.DataFrame
        From :func:`planning_inputs`.
    ci_level : float, default 0.95

    Returns
    -------
    str
        Markdown; empty when no outcome was planned.

    Examples
    --------
    >>> i = pd.DataFrame({"visit_month": [1, 1], "n": [7, 7]})
    >>> print(describe_sd_uncertainty(i))
    With 7 patients, the 95% confidence interval of a true SD (the χ² interval) runs from 0.64 to 2.20 times the SD observed; as each size scales roughly with the square of its SD, the sizes needed could be about 0.42 to 4.85 times those above.
    """  # noqa: E501
    planned = inputs[inputs["visit_month"].notna() & (inputs["n"] >= 2)]
    if planned.empty:
        return ""
    n = int(planned["n"].min())
    low, high = sd_uncertainty(n, ci_level)
    fewest = "" if planned["n"].nunique() == 1 else "as few as "
    return (
        f"With {fewest}{n} patients, the {format_percent(ci_level)} confidence interval of a "
        f"true SD (the χ² interval) runs from {low:.2f} to {high:.2f} times the SD observed; as "
        "each size scales roughly with the square of its SD, the sizes needed could be about "
        f"{low**2:.2f} to {high**2:.2f} times those above."
    )


def describe_simulation(
    check: pd.DataFrame,
    *,
    n_sims: int,
    sizes: pd.DataFrame | None = None,
    max_n: int | None = None,
) -> str:
    """Say how simulated and analytic power agree, from :func:`simulation_check` (Markdown).

    Parameters
    ----------
    check : pandas.DataFrame
    n_sims : int
    sizes : pandas.DataFrame, optional
        From :func:`sample_sizes`: the planned trials, so that the sentence says
        how many of them were simulated and how many, larger than ``max_n``, were not.
    max_n : int, optional
        The largest n per arm simulated (:func:`simulation_check`'s ``max_n``).

    Returns
    -------
    str

    Examples
    --------
    >>> c = pd.DataFrame({"design": ["single_arm", "two_arm"], "z": [1.2, -3.5],
    ...     "exact": [True, False], "simulated": [0.81, 0.78], "analytic": [0.80, 0.80],
    ...     "n_analysed": [10, 9]})
    >>> print(describe_simulation(c, n_sims=4000))  # doctest: +NORMALIZE_WHITESPACE
    Each of the 2 planned trials was simulated 4000 times. Where the analytic power is exact
    (the paired t-test and ANCOVA), 1 of 1 simulated powers lie within 3 Monte Carlo standard
    errors of it (largest |z| = 1.2). Where the analytic power is an approximation (the
    Wilcoxon tests, by their efficiency), 0 of 1 simulated powers lie within 3 Monte Carlo
    standard errors of it (largest |z| = 3.5); the largest shortfall is 2.0 points of power,
    at 9 patients per arm.
    >>> s = pd.DataFrame({"n_single_arm": [10, 2000], "n_per_arm": [9, 3000]})
    >>> first = describe_simulation(c, n_sims=4000, sizes=s, max_n=1000).split(".")[0]
    >>> print(first)  # doctest: +NORMALIZE_WHITESPACE
    2 of the 4 planned trials (those of at most 1000 patients per arm) were simulated 4000
    times; the 2 larger ones were not
    >>> describe_simulation(c.iloc[:0], n_sims=4000, sizes=s.iloc[:0], max_n=1000)
    'No trial was planned, so none was simulated.'
    """
    planned = None if sizes is None else planned_trials(sizes)
    if planned == 0:
        return "No trial was planned, so none was simulated."
    if check.empty:
        cap = "" if max_n is None else f" (at most {format_count(max_n)} patients per arm)"
        return f"No planned trial was small enough to simulate{cap}."
    exact, approx = check[check["exact"]], check[~check["exact"]]
    if planned is not None and planned > len(check):
        cap = "" if max_n is None else f" (those of at most {format_count(max_n)} patients per arm)"
        lines = [
            f"{len(check)} of the {planned} planned trials{cap} were simulated "
            f"{format_count(n_sims)} times; "
            f"the {planned - len(check)} larger ones were not."
        ]
    else:
        lines = [
            f"Each of the {len(check)} planned trials was simulated {format_count(n_sims)} times."
        ]
    agree = "simulated powers lie within 3 Monte Carlo standard errors of it"
    if len(exact):
        within = int((exact["z"].abs() <= 3).sum())
        lines.append(
            f"Where the analytic power is exact (the paired t-test and ANCOVA), {within} of "
            f"{len(exact)} {agree} (largest |z| = {exact['z'].abs().max():.1f})."
        )
    if len(approx):
        within = int((approx["z"].abs() <= 3).sum())
        gap = approx["analytic"] - approx["simulated"]
        text = (
            f"Where the analytic power is an approximation (the Wilcoxon tests, by their "
            f"efficiency), {within} of {len(approx)} {agree} (largest |z| = "
            f"{approx['z'].abs().max():.1f})"
        )
        if gap.max() > 0:
            worst = approx.loc[gap.idxmax()]
            per_arm = " per arm" if worst["design"] == "two_arm" else ""
            text += (
                f"; the largest shortfall is {100 * gap.max():.1f} points of power, at "
                f"{int(worst['n_analysed'])} patients{per_arm}"
            )
        lines.append(text + ".")
    return " ".join(lines)


def planned_trials(sizes: pd.DataFrame) -> int:
    """Count the planned trials in :func:`sample_sizes`: each single-arm and two-arm n given.

    Examples
    --------
    >>> planned_trials(pd.DataFrame({"n_single_arm": [10, None], "n_per_arm": [9, 30]}))
    3
    """
    return int(sizes["n_single_arm"].notna().sum() + sizes["n_per_arm"].notna().sum())
