"""Helpers for the AMSCT-in-T1DM research compendium.

The notebooks tell the story; the logic lives here, in small tested modules:

- :mod:`helpers.schema` — the data dictionary (pandera models, outcomes, plausibility bounds)
- :mod:`helpers.data` — reading and validating input files, one clear error for bad input
- :mod:`helpers.precision` — reported precision: intervals, matching, printing like the abstract
- :mod:`helpers.cohort` — Table 1, visit completeness, cohort facts against the abstract
- :mod:`helpers.figures` — seaborn figures and the one theme
- :mod:`helpers.report` — the environment record
- :mod:`helpers.standin` — the stand-in cohort reconstructed from the abstract
- :mod:`helpers.datadict` — the data dictionary as a Frictionless data package
- :mod:`helpers.run` — the papermill runner (``python -m helpers.run``)
"""

from importlib.metadata import version

__version__ = version("amsct-t1dm-compendium")
__all__ = ["__version__"]
