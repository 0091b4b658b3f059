"""Helpers for the AMSCT-in-T1DM research compendium.

The notebooks tell the story; the logic lives here, in small tested modules, in
the order the data flow through them (file → validated frame → results →
tables and figures). Nothing here knows the study: outcomes, visits, units,
bounds and groups come from the study definition (``data/study.yaml``).

- :mod:`helpers.study` — the study definition: outcomes, visits, groups, characteristics (YAML)
- :mod:`helpers.yamlfile` — strict YAML reading (a key given twice is an error)
- :mod:`helpers.paths` — the project root, and paths relative to it
- :mod:`helpers.errors` — the one error family, with file, row, column, value and rule
- :mod:`helpers.schema` — pandera schemas of the input files, built from the study definition
- :mod:`helpers.data` — reading and validating the patient-level files into a ``Cohort``
- :mod:`helpers.datadict` — the data dictionary as a Frictionless data package
- :mod:`helpers.reported` — the reported-figures table: reading it, its comparisons, sizes, look-ups
- :mod:`helpers.params` — the notebooks' parameters and the rule each must meet
- :mod:`helpers.choices` — the named choices a parameter can take (tests, adjustments, rules)
- :mod:`helpers.precision` — reported precision: intervals, matching, printing like the abstract
- :mod:`helpers.stats` — the paired and independent tests and effect sizes, by published name
- :mod:`helpers.proportions` — McNemar, Fisher and chi-square p-values of counts ("x of n")
- :mod:`helpers.clinical` — clinical conversions: HbA1c units, derived outcomes, IDAA1c
- :mod:`helpers.cohort` — Table 1 and visit completeness
- :mod:`helpers.outcomes` — outcomes over the visits: summaries, comparisons, models, adjustment
- :mod:`helpers.safety` — did antibodies rise: one-sided tests, equivalence, detectable rise
- :mod:`helpers.design` — a follow-up trial: planning effects, sample sizes, power, simulation
- :mod:`helpers.audit` — which tests can have produced each reported p (and GRIM / GRIMMER)
- :mod:`helpers.reproduction` — every comparison with the report: cohort facts, figures, lines
- :mod:`helpers.reconstruct` — patient-level values that reproduce reported before/after figures
- :mod:`helpers.standin` — the stand-in reconstructed from a report (``python -m helpers.standin``)
- :mod:`helpers.simulate` — seeded simulated cohorts of any size, from the study definition
- :mod:`helpers.readers` — result tables written for readers: plain headers, rounded numbers
- :mod:`helpers.figures` — seaborn figures and the one theme
- :mod:`helpers.report` — the environment record and the CSV tables of a run
- :mod:`helpers.run` — the papermill runner (``python -m helpers.run``)
- :mod:`helpers.kernels` — warm kernels: each forked from one process that imported the stack
- :mod:`helpers.cache` — content keys: which notebooks must run again, and why
- :mod:`helpers.site` — the readers' edition: a static site of a report (``python -m helpers.site``)
- :mod:`helpers.sitebuild` — the site's Sphinx build, started with a run and waiting for its pages
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``helpers.__version__``, read from the installed package's metadata when first asked.

    Looked up lazily (PEP 562): importing ``importlib.metadata`` and scanning the installed
    distributions took about 80 ms of every process that imports a helper, the quick
    up-to-date check of ``make reproduce`` included.

    Examples
    --------
    >>> import helpers
    >>> helpers.__version__.count(".") >= 1
    True
    """
    if name == "__version__":
        from importlib.metadata import version

        return version("amsct-t1dm-compendium")
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")
