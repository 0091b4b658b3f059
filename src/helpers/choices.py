"""The named choices a parameter can take, apart from the modules that implement them.

:mod:`helpers.params` checks every parameter value against these before
anything runs (the runner, plain papermill, JupyterLab); keeping the
vocabularies here means checking a value imports no statistics library, and a
change to how a test is computed does not change what a parameter may say.
Each implementing module re-exports its own vocabulary
(``helpers.stats.PAIRED_TESTS`` is :data:`PAIRED_TESTS`).

Examples
--------
>>> "paired_t" in PAIRED_TESTS
True
"""

from __future__ import annotations

import math

__all__ = [
    "DESIGNS",
    "DESIGN_ANALYSES",
    "DESIGN_BASES",
    "DESIGN_TESTS",
    "MULTIPLICITY_FAMILIES",
    "MULTIPLICITY_METHODS",
    "MULTIPLICITY_NAMES",
    "PAIRED_TESTS",
    "PRECISION_RULES",
    "basis_words",
    "design_words",
]

#: The paired tests of change from baseline (:func:`helpers.stats.paired_test`).
PAIRED_TESTS: dict[str, str] = {
    "paired_t": "paired t-test",
    "wilcoxon_exact": "Wilcoxon signed-rank, exact",
    "wilcoxon_asymptotic": "Wilcoxon signed-rank, normal approximation, no continuity "
    "correction (SPSS)",
    "wilcoxon_asymptotic_cc": "Wilcoxon signed-rank, normal approximation with continuity "
    "correction (R with ties or zeros)",
    "wilcoxon_r": "Wilcoxon signed-rank, exact; with ties, zeros or 50+ pairs, normal "
    "approximation with continuity correction (R's default)",
    "sign_test": "sign test, exact binomial",
}

#: Multiplicity adjustments accepted (statsmodels ``multipletests`` names).
MULTIPLICITY_METHODS = ("holm", "bonferroni", "fdr_bh", "hommel", "none")
#: Each adjustment's name as readers see it.
MULTIPLICITY_NAMES = {
    "holm": "Holm",
    "bonferroni": "Bonferroni",
    "fdr_bh": "Benjamini–Hochberg",
    "hommel": "Hommel",
    "none": "unadjusted",
}
#: How a multiplicity family is defined (see :func:`helpers.outcomes.adjust_pvalues`).
MULTIPLICITY_FAMILIES = ("planned", "tested")

#: How a printed figure relates to the value behind it (:mod:`helpers.precision`).
PRECISION_RULES = ("round", "truncate")

#: The tests a follow-up trial may be analysed with.
DESIGN_TESTS = {
    "t": "paired t-test (single arm) and the t-test of ANCOVA's treatment effect (two arms)",
    "wilcoxon": "Wilcoxon signed-rank test (single arm) and Wilcoxon rank-sum test on change "
    "(two arms)",
}

#: The designs a follow-up trial is sized for (:mod:`helpers.design`).
DESIGNS = {
    "single_arm": "single-arm replication",
    "two_arm": "randomised two-arm trial (1:1)",
}

#: How each design (:data:`DESIGNS`) is analysed with each test (:data:`DESIGN_TESTS`): in
#: full, and briefly for a figure's legend.
DESIGN_ANALYSES = {
    ("single_arm", "t"): ("paired t-test on change from baseline", "paired t-test"),
    ("single_arm", "wilcoxon"): (
        "Wilcoxon signed-rank test on change from baseline", "Wilcoxon signed-rank"
    ),
    ("two_arm", "t"): ("ANCOVA of the follow-up value on arm and baseline", "ANCOVA"),
    ("two_arm", "wilcoxon"): (
        "Wilcoxon rank-sum test on change from baseline", "Wilcoxon rank-sum on change"
    ),
}  # fmt: skip


def design_words(design: str, test: str, *, brief: bool = False) -> str:
    """Name a follow-up design and the test it is analysed with, in words.

    Examples
    --------
    >>> design_words("two_arm", "t")
    'randomised two-arm trial (1:1), ANCOVA of the follow-up value on arm and baseline'
    >>> design_words("single_arm", "wilcoxon", brief=True)
    'single-arm replication, Wilcoxon signed-rank'
    """
    if (design, test) not in DESIGN_ANALYSES:
        raise ValueError(
            f"no words for design {design!r} analysed with test {test!r}: designs "
            f"{list(DESIGNS)}, tests {list(DESIGN_TESTS)}"
        )
    full, short = DESIGN_ANALYSES[(design, test)]
    return f"{DESIGNS[design]}, {short if brief else full}"


#: The planning effects taken from each outcome's observed change (:mod:`helpers.design`).
DESIGN_BASES = {
    "observed": "observed mean change",
    "half": "half the observed mean change",
    "ci_bound": "confidence bound closest to zero",
}


def basis_words(basis: str, ci_level: object = None) -> str:
    """Name a planning basis in words; the confidence bound with its level when it is known.

    Here rather than in :mod:`helpers.design`, so that the figures that name a
    basis do not make every notebook depend on the design module.

    Examples
    --------
    >>> basis_words("half"), basis_words("ci_bound", 0.95), basis_words("ci_bound")
    ('half the observed mean change', '95% confidence bound closest to zero', 'confidence bound closest to zero')
    """  # noqa: E501
    from helpers.precision import format_percent  # checking a parameter needs none of it

    words = DESIGN_BASES[basis]
    try:
        level = float(ci_level)  # type: ignore[arg-type]
    except (TypeError, ValueError):  # None or pandas' NA: no level known
        level = math.nan
    if basis == "ci_bound" and not math.isnan(level):
        return f"{format_percent(level)} {words}"
    return words
