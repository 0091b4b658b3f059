"""Reconstruct patient-level measurements that reproduce reported before/after statistics.

For each reported paired comparison (mean ± SD at two visits and a p-value),
the reconstruction finds n before and n after values such that the
compendium's own analysis of them — :func:`helpers.outcomes.reproduce_reported`
with the chosen test — gives every reported figure at its reported precision.

Method, per comparison:

1. **Granularity.** Values are recorded as multiples of the coarsest
   granularity (1, 0.5, 0.1, 0.01) for which GRIM and GRIMMER find both visits'
   mean ± SD consistent (:func:`helpers.audit.granularity`).
2. **Marginals.** Each visit's values are drawn SPRITE-style (Heathers et al.
   2018): normal scores scaled to the reported mean and SD, rounded to the
   granularity, the sum set to a GRIM-consistent total, then single-unit
   transfers between values until the SD lies in its rounding interval, all
   within the outcome's plausibility bounds.
3. **Pairing.** The before-after pairing decides the p-value while leaving
   means and SDs untouched. All n! pairings are scored (n ≤ 8; a random
   sample above); among those whose p matches, the one with the before-after
   correlation closest to ``PREFERRED_R`` is chosen, and the correlation is
   kept within ±``MAX_ABS_R`` so no data set is degenerate.
4. **Refinement.** If no pairing matches, unit transfers that keep the mean
   and SD in their intervals move p towards the target. New marginals are
   drawn until a match or ``attempts`` run out.

When the reported p cannot be reached by the test (the audit says why), the
data keep every reported mean and SD exactly and take the pairing whose
before-after correlation is closest to ``PREFERRED_R``, as wherever the figures
leave the correlation free; the p that follows is recorded as not reproduced,
and the provenance and the notebooks say so. The p is not pushed towards the
unreachable value with an implausible (e.g. strongly negative) correlation.

Everything is seeded: the same seed gives the same bytes.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from helpers.audit import audit, granularity, grim_sums
from helpers.precision import matches_reported, matches_reported_each
from helpers.reported import Comparison, Reported, comparisons_from_reported
from helpers.stats import paired_p
from helpers.study import Study

__all__ = [
    "MAX_ABS_R",
    "PREFERRED_R",
    "R_BASES",
    "PairResult",
    "PairTarget",
    "choose_granularity",
    "reconstruct_measurements",
    "reconstruct_pair",
]

#: Largest before-after correlation (in absolute value) a reconstruction may have.
MAX_ABS_R = 0.9
#: Where the reported figures leave the before-after correlation free, the pairing
#: closest to this is chosen: repeated measurements of one person are usually
#: positively correlated.
PREFERRED_R = 0.5
_ALL_PERMUTATIONS_MAX_N = 8
_SAMPLED_PERMUTATIONS = 5000


@dataclass(frozen=True)
class PairTarget:
    """What one reconstructed before/after pair of visits must reproduce."""

    comparison: Comparison
    granularity: float
    test: str
    rule: str = "round"
    lower: float = -math.inf
    upper: float = math.inf


@dataclass
class PairResult:
    """A reconstructed before/after pair and how close it came."""

    before: np.ndarray
    after: np.ndarray
    p: float
    r: float
    matched: dict[str, bool] = field(default_factory=dict)
    attempts: int = 0

    @property
    def all_matched(self) -> bool:
        """Whether every target figure is reproduced."""
        return all(self.matched.values())


def choose_granularity(reported: pd.DataFrame, *, variable: str, rule: str = "round") -> float:
    """Pick the coarsest recording granularity consistent with all of a variable's mean ± SD.

    Parameters
    ----------
    reported : pandas.DataFrame
    variable : str
    rule : {"round", "truncate"}

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If no candidate granularity is consistent.

    Examples
    --------
    >>> from helpers.reported import load_reported
    >>> choose_granularity(load_reported("data/reported/abstract_figures.csv"), variable="hba1c")
    0.01
    """
    table = granularity(reported, rule=rule)
    table = table[table["variable"] == variable]
    ok = table.groupby("granularity")["consistent"].all()
    fits = sorted((g for g, good in ok.items() if good), reverse=True)
    if not fits:
        raise ValueError(f"{variable}: no recording granularity fits every reported mean ± SD")
    return float(fits[0])


def _units(interval: tuple[float, float], g: float) -> tuple[float, float]:
    return interval[0] / g, interval[1] / g


def _sample_marginal(
    rng: np.random.Generator,
    mean: Reported,
    sd: Reported,
    n: int,
    g: float,
    rule: str,
    bounds: tuple[float, float],
) -> np.ndarray | None:
    """Draw n integers (in units of g) with the reported mean and SD; None if none found."""
    lo_b = math.ceil(bounds[0] / g - 1e-9) if math.isfinite(bounds[0]) else -(10**12)
    hi_b = math.floor(bounds[1] / g + 1e-9) if math.isfinite(bounds[1]) else 10**12
    sums = grim_sums(mean, n, g, rule)
    if not sums:
        return None
    total = int(rng.choice(sums))
    sd_lo, sd_hi = _units(sd.interval(rule), g)
    z = stats.norm.ppf((np.arange(1, n + 1) - 0.5) / n) + rng.normal(0, 0.3, n)
    z = (z - z.mean()) / (z.std(ddof=1) or 1.0)
    x = np.clip(np.round(total / n + z * sd.value / g), lo_b, hi_b).astype(np.int64)
    for _ in range(10 * n * 1000):
        diff = total - int(x.sum())
        if diff == 0:
            break
        i = int(rng.integers(n))
        step = 1 if diff > 0 else -1
        if lo_b <= x[i] + step <= hi_b:
            x[i] += step
    if int(x.sum()) != total:
        return None
    for _ in range(20000):
        s = float(np.std(x, ddof=1))
        if sd_lo - 1e-9 <= s <= sd_hi + 1e-9:
            return x
        centre = x.mean()
        if s < sd_lo:  # spread out: move one unit from a low value to a high one
            lows, highs = np.flatnonzero(x <= centre), np.flatnonzero(x >= centre)
            i, j = int(rng.choice(lows)), int(rng.choice(highs))
            if i != j and x[i] - 1 >= lo_b and x[j] + 1 <= hi_b:
                x[i] -= 1
                x[j] += 1
        else:  # pull in: move one unit from a high value to a low one
            lows, highs = np.flatnonzero(x < centre), np.flatnonzero(x > centre)
            if len(lows) == 0 or len(highs) == 0:
                return None
            i, j = int(rng.choice(lows)), int(rng.choice(highs))
            if x[j] - x[i] >= 2:
                x[i] += 1
                x[j] -= 1
    return None


def _p_distance(p: float, target: Reported, rule: str) -> float:
    if matches_reported(p, target.value, target.relation, target.decimals, rule):
        return 0.0
    if target.relation == ">":
        return target.value - p + 1e-12
    if target.relation == "<":
        return p - target.value + 1e-12
    lo, hi = target.interval(rule)
    return lo - p if p < lo else p - hi


def _p_distances(p: np.ndarray, target: Reported, rule: str) -> np.ndarray:
    """:func:`_p_distance` of each p-value at once; a p-value that is NaN is infinitely far.

    Examples
    --------
    >>> target = Reported(0.05, 2)
    >>> _p_distances(np.array([0.052, 0.06, 0.04, np.nan]), target, "round").round(4).tolist()
    [0.0, 0.005, 0.005, inf]
    """
    p = np.asarray(p, dtype=float)
    if target.relation == ">":
        miss = target.value - p + 1e-12
    elif target.relation == "<":
        miss = p - target.value + 1e-12
    else:
        lo, hi = target.interval(rule)
        miss = np.where(p < lo, lo - p, p - hi)
    hit = matches_reported_each(p, target.value, target.relation, target.decimals, rule)
    return np.where(np.isnan(p), math.inf, np.where(hit, 0.0, miss))


def _pairing_scores(
    x: np.ndarray, y: np.ndarray, perms: np.ndarray, test: str
) -> tuple[np.ndarray, np.ndarray]:
    """p-values and before-after correlations for pairing x with y[perm], per permutation."""
    ys = y[perms].astype(float)
    xf = x.astype(float)
    xc = xf - xf.mean()
    yc = ys - ys.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (yc @ xc) / np.sqrt((xc @ xc) * (yc * yc).sum(axis=1))
    if test == "paired_t":
        p = _paired_t_p(xf, ys)
    else:
        p = np.array([_safe_p(xf, row, test) for row in ys])
    return p, r


def _paired_t_p(x: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Paired-t p-values of x against each row of ys (vectorised; equals scipy's ttest_rel)."""
    d = np.atleast_2d(ys) - x
    n = d.shape[1]
    sd = d.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = d.mean(axis=1) / (sd / math.sqrt(n))
    return np.where(sd > 0, 2 * stats.t.sf(np.abs(t), n - 1), 1.0)


def _p_of(x: np.ndarray, y: np.ndarray, test: str) -> float:
    if test == "paired_t":
        return float(_paired_t_p(x, y)[0])
    return _safe_p(x, y, test)


def _safe_p(x: np.ndarray, y: np.ndarray, test: str) -> float:
    try:
        return paired_p(x, y, test)
    except ValueError:  # e.g. the exact test on ties: this pairing cannot be used
        return math.nan


def _permutations(n: int, rng: np.random.Generator) -> np.ndarray:
    if n <= _ALL_PERMUTATIONS_MAX_N:
        return np.array(list(itertools.permutations(range(n))), dtype=np.int64)
    return np.array([rng.permutation(n) for _ in range(_SAMPLED_PERMUTATIONS)], dtype=np.int64)


def _distinct_pairs(x: np.ndarray, y: np.ndarray) -> bool:
    return len(set(zip(x.tolist(), y.tolist(), strict=True))) == len(x)


def _distinct_pairings(x: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Tell, for each row of ``ys``, whether ``x`` paired with it repeats no pair.

    :func:`_distinct_pairs` of every row at once: two patients share a (before, after)
    pair only where their ``x`` are equal, so only those positions are compared.

    Examples
    --------
    >>> x = np.array([1, 1, 2])
    >>> _distinct_pairings(x, np.array([[5, 6, 5], [5, 5, 6]])).tolist()
    [True, False]
    """
    distinct = np.ones(len(ys), dtype=bool)
    for a, b in itertools.combinations(range(len(x)), 2):
        if x[a] == x[b]:
            distinct &= ys[:, a] != ys[:, b]
    return distinct


def _transfer_highs(n: int, steps: int) -> np.ndarray:
    """Give the inclusive upper bounds of the draws of ``steps`` transfers among ``n`` values.

    Four a transfer: the variable (0 or 1), then two distinct positions as
    ``rng.choice(n, 2, replace=False)`` draws them (Floyd's algorithm, then a shuffle
    of the two).
    """
    return np.tile(np.array([1, n - 2, n - 1, 1], dtype=np.int64), steps)


def _transfer_draws(rng: np.random.Generator, n: int, steps: int) -> np.ndarray:
    """Draw, in one call, the ``steps`` unit transfers ``_refine`` may try.

    Rows ``(which, i, j)``: the variable, the position losing a unit and the one gaining it.

    The same numbers, from the same stream, as ``int(rng.integers(2))`` then
    ``rng.choice(n, size=2, replace=False)`` step by step (NumPy's Generator draws
    each bounded integer the same way, one call or many), which cost about 23 µs a step;
    tests/test_reconstruct.py checks the two against each other.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> _transfer_draws(rng, 5, 2).tolist()
    [[0, 2, 3], [0, 0, 4]]
    >>> rng = np.random.default_rng(1)
    >>> [(int(rng.integers(2)), *rng.choice(5, size=2, replace=False).tolist()) for _ in "ab"]
    [(0, 2, 3), (0, 0, 4)]
    """
    d = rng.integers(0, _transfer_highs(n, steps), endpoint=True).reshape(steps, 4)
    first = d[:, 1]
    second = np.where(d[:, 2] != d[:, 1], d[:, 2], n - 1)
    swapped = d[:, 3] == 0
    return np.column_stack(
        [d[:, 0], np.where(swapped, second, first), np.where(swapped, first, second)]
    )


def _refine(
    x: np.ndarray, y: np.ndarray, target: PairTarget, rng: np.random.Generator, steps: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Move p towards its target by unit transfers that keep means and SDs in their intervals."""
    c, g, rule = target.comparison, target.granularity, target.rule
    sd_int = [_units(c.sd1.interval(rule), g), _units(c.sd2.interval(rule), g)]
    lo_b = target.lower / g if math.isfinite(target.lower) else -math.inf
    hi_b = target.upper / g if math.isfinite(target.upper) else math.inf
    best = _p_distance(_p_of(x * g, y * g, target.test), c.p, rule)
    n = len(x)
    if best == 0 or steps <= 0:
        return x, y, best
    # Most transfers leave an SD outside its interval. The SD after a transfer follows from
    # the sums (exact integers), so those are skipped without building the vector; only a
    # transfer near or inside the interval is checked with np.std, as before, so the steps
    # taken are the same.
    totals = [int(x.sum()), int(y.sum())]
    squares = [int((x * x).sum()), int((y * y).sum())]
    state = rng.bit_generator.state
    draws = _transfer_draws(rng, n, steps).tolist()
    taken = steps
    for step, (which, i, j) in enumerate(draws):
        if best == 0:
            taken = step
            break
        old = x if which == 0 else y
        square = squares[which] + 2 * (int(old[i]) - int(old[j])) + 2
        lo, hi = sd_int[which]
        quick = math.sqrt(max(n * square - totals[which] ** 2, 0) / (n * (n - 1)))
        if not (lo - 1e-6 <= quick <= hi + 1e-6):
            continue
        vec = old.copy()
        vec[i] += 1
        vec[j] -= 1
        s = float(np.std(vec, ddof=1))
        if not (lo - 1e-9 <= s <= hi + 1e-9) or vec.max() > hi_b or vec.min() < lo_b:
            continue
        nx, ny = (vec, y) if which == 0 else (x, vec)
        r = float(np.corrcoef(nx, ny)[0, 1])
        if abs(r) > MAX_ABS_R:
            continue
        dist = _p_distance(_p_of(nx * g, ny * g, target.test), c.p, rule)
        if dist <= best:
            x, y, best = nx, ny, dist
            squares[which] = square
    if taken < steps:  # the generator leaves as if only the transfers tried had been drawn
        rng.bit_generator.state = state
        rng.integers(0, _transfer_highs(n, taken), endpoint=True)
    return x, y, best


def _check(x: np.ndarray, y: np.ndarray, target: PairTarget) -> PairResult:
    c, g, rule = target.comparison, target.granularity, target.rule
    before, after = x * g, y * g
    p = _safe_p(before, after, target.test)
    matched = {}
    for name, values, fig in (
        ("mean1", before, c.mean1),
        ("sd1", before, c.sd1),
        ("mean2", after, c.mean2),
        ("sd2", after, c.sd2),
    ):
        stat = float(np.mean(values)) if name.startswith("mean") else float(np.std(values, ddof=1))
        matched[name] = matches_reported(stat, fig.value, fig.relation, fig.decimals, rule)
    matched["p"] = matches_reported(p, c.p.value, c.p.relation, c.p.decimals, rule)
    return PairResult(before, after, p, float(np.corrcoef(before, after)[0, 1]), matched)


def reconstruct_pair(
    target: PairTarget,
    rng: np.random.Generator,
    attempts: int = 200,
    refine_steps: int = 3000,
    *,
    match_p: bool = True,
) -> PairResult:
    """Find before/after values reproducing a reported paired comparison.

    Parameters
    ----------
    target : PairTarget
    rng : numpy.random.Generator
        Seeded generator; the result depends only on its state.
    attempts : int, default 200
        New marginal samples to try before settling for the closest result. With
        few patients and values on a coarse grid only a handful of marginals meet
        the reported means and SDs, and the pairings of a given pair of marginals
        reach only some p-values: 40 attempts missed about 1 target in 150 that
        data can meet (e.g. 5 patients, whole units, p = 0.812), 200 none in 600.
    refine_steps : int, default 3000
        Unit transfers tried per attempt when no pairing matches.
    match_p : bool, default True
        ``False`` when no data can give the reported p (see the audit): then
        only the means and SDs are matched and the pairing with the
        correlation closest to ``PREFERRED_R`` is taken.

    Returns
    -------
    PairResult
        Values in the outcome's unit; ``matched`` says which figures are reproduced.

    Raises
    ------
    ValueError
        If no values with the reported means and SDs exist within the bounds.

    Examples
    --------
    >>> from helpers.reported import Reported, Comparison
    >>> c = Comparison("x", "x", "paired", "month 0", "month 1", 7, 7, Reported(10.0, 1),
    ...     Reported(2.0, 1), Reported(12.0, 1), Reported(2.5, 1), Reported(0.05, 2), 0, 1)
    >>> res = reconstruct_pair(PairTarget(c, 0.1, "paired_t"), np.random.default_rng(1))
    >>> res.all_matched
    True
    """
    c = target.comparison
    n = c.n1
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for attempt in range(1, attempts + 1):
        bounds = (target.lower, target.upper)
        x = _sample_marginal(rng, c.mean1, c.sd1, n, target.granularity, target.rule, bounds)
        y = _sample_marginal(rng, c.mean2, c.sd2, n, target.granularity, target.rule, bounds)
        if x is None or y is None:
            continue
        perms = _permutations(n, rng)
        p, r = _pairing_scores(x * target.granularity, y * target.granularity, perms, target.test)
        dist = _p_distances(p, c.p, target.rule)
        usable = (np.abs(r) <= MAX_ABS_R) & np.isfinite(dist)
        usable &= _distinct_pairings(x, y[perms])
        if not usable.any():
            continue
        if not match_p:
            candidates = np.flatnonzero(usable)
            pick = int(candidates[np.argmin(np.abs(r[candidates] - PREFERRED_R))])
            result = _check(x, y[perms[pick]], target)
            result.attempts = attempt
            return result
        hits = np.flatnonzero(usable & (dist == 0))
        if len(hits):
            pick = int(hits[np.argmin(np.abs(r[hits] - PREFERRED_R))])
            result = _check(x, y[perms[pick]], target)
            result.attempts = attempt
            if result.all_matched:
                return result
        order = np.flatnonzero(usable)
        pick = int(order[np.argmin(dist[order])])
        xs, ys, d = _refine(x, y[perms[pick]], target, rng, refine_steps)
        if d == 0 and _distinct_pairs(xs, ys):
            result = _check(xs, ys, target)
            result.attempts = attempt
            if result.all_matched:
                return result
        if best is None or d < best[0]:
            best = (d, xs, ys)
    if best is None:
        raise ValueError(f"{c.comparison_id}: no values with the reported means and SDs found")
    result = _check(best[1], best[2], target)
    result.attempts = attempts
    return result


#: Why a stand-in pair of visits has the before-after correlation it has (provenance ``r_basis``).
R_BASES = {
    "reported_p": "set by the reported p",
    "p_bound": "assumed: the reported p is only a bound, so the correlation closest to "
    f"{PREFERRED_R:g} within it",
    "p_unreachable": "assumed: no data give the reported p, so the correlation closest to "
    f"{PREFERRED_R:g}",
}


def _r_basis(relation: str, reachable: bool) -> str:
    """Name what fixed a reconstructed pair's correlation (a key of :data:`R_BASES`).

    The pairing is chosen to give the reported p, with the correlation closest
    to 0.5 among the pairings that do: an exact p pins the correlation down, a
    bound ("> 0.05") leaves it to that choice, and a p no data can give leaves
    only the choice.

    Examples
    --------
    >>> _r_basis("=", True), _r_basis(">", True), _r_basis("=", False)
    ('reported_p', 'p_bound', 'p_unreachable')
    """
    if not reachable:
        return "p_unreachable"
    return "reported_p" if relation == "=" else "p_bound"


def reconstruct_measurements(
    patients: pd.DataFrame,
    reported: pd.DataFrame,
    *,
    study: Study,
    test: str = "paired_t",
    rule: str = "round",
    seed: int = 0,
) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    """Reconstruct the measurements table for every reported paired comparison.

    Parameters
    ----------
    patients : pandas.DataFrame
        The patients table; each comparison's group (``all``, an arm, or a
        subgroup such as ``male``) must have as many patients as its n.
    reported : pandas.DataFrame
        A reported-figures table.
    study : Study
        Gives the outcomes' plausibility bounds, the groups and the order of rows.
    test : str, default "paired_t"
        The test whose p-values the data must reproduce.
    rule : {"round", "truncate"}, default "round"
    seed : int, default 0

    Returns
    -------
    measurements : pandas.DataFrame
        Tidy table (patient_id, visit_month, outcome, value), only at the
        visits the report compares; values printed at their granularity.
    provenance : list of dict
        Per comparison: granularity, targets, achieved values, matches, r.

    Examples
    --------
    >>> from helpers.reported import load_reported
    >>> from helpers.study import load_study
    >>> rep = load_reported("data/reported/abstract_figures.csv")
    >>> patients = pd.DataFrame({"patient_id": [f"P{i}" for i in range(7)]})
    >>> m, prov = reconstruct_measurements(patients, rep, study=load_study("data/study.yaml"),
    ...                                    seed=3)
    >>> sorted(m["visit_month"].unique().tolist()), len(prov)
    ([0, 1, 3], 5)
    """
    rng = np.random.default_rng(seed)
    verdicts = audit(reported, tests=[test], rule=rule)
    reachable = dict(zip(verdicts["comparison"], verdicts["reachable"], strict=True))
    rows, provenance = [], []
    for c in comparisons_from_reported(reported):
        if c.design != "paired":
            continue
        patient_ids = study.in_group(patients, c.group1)["patient_id"].astype(str).tolist()
        if c.n1 != len(patient_ids):
            raise ValueError(
                f"{c.comparison_id}: reported n = {c.n1} but {len(patient_ids)} patients given"
            )
        g = choose_granularity(reported, variable=c.variable, rule=rule)
        bounds = study.measured(c.variable)
        lower, upper = bounds.minimum, bounds.maximum
        target = PairTarget(c, g, test, rule, lower, upper)
        # the audit knows when no data can give the p: then only means and SDs are matched
        result = reconstruct_pair(target, rng, match_p=bool(reachable[c.comparison_id]))
        order = rng.permutation(len(patient_ids))
        decimals = len(f"{g:g}".partition(".")[2])
        for k, pid in enumerate(np.asarray(patient_ids)[order]):
            for month, values in ((c.visit1, result.before), (c.visit2, result.after)):
                rows.append((str(pid), month, c.variable, round(float(values[k]), decimals)))
        provenance.append(
            {
                "comparison": c.comparison_id,
                "outcome": c.variable,
                "group": c.group1,
                "baseline_month": c.visit1,
                "visit_month": c.visit2,
                "granularity": g,
                "test": test,
                "precision_rule": rule,
                "attempts": result.attempts,
                "p_reachable_by_test": bool(reachable[c.comparison_id]),
                "before_after_r": round(result.r, 4),
                "r_basis": _r_basis(c.p.relation, bool(reachable[c.comparison_id])),
                "targets": {
                    name: {
                        "figure_id": fig.figure_id,
                        "reported": f"{fig.relation} {fig.value}",
                        "achieved": round(
                            result.p
                            if name == "p"
                            else float(np.mean(vals))
                            if name.startswith("mean")
                            else float(np.std(vals, ddof=1)),
                            6,
                        ),
                        "match": result.matched[name],
                    }
                    for name, fig, vals in (
                        ("mean1", c.mean1, result.before),
                        ("sd1", c.sd1, result.before),
                        ("mean2", c.mean2, result.after),
                        ("sd2", c.sd2, result.after),
                        ("p", c.p, None),
                    )
                },
            }
        )
    measurements = pd.DataFrame(rows, columns=["patient_id", "visit_month", "outcome", "value"])
    order = {code: i for i, code in enumerate(study.outcome_codes)}
    measurements = measurements.sort_values(
        ["patient_id", "outcome", "visit_month"],
        key=lambda col: col.map(order) if col.name == "outcome" else col,
    ).reset_index(drop=True)
    return measurements, provenance
