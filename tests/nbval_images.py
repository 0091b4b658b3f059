"""pytest plugin (``-p nbval_images``): nbval compares figures too, byte for byte.

nbval leaves images out of its comparison unless nbdime is used for diffs. The
compendium's figures are rendered to PNG by the helpers with fixed settings and no
timestamps, so a re-executed notebook reproduces them byte for byte; a figure that
changes therefore fails the notebook like a changed table does.
"""

from __future__ import annotations

import pytest


def pytest_collectstart(collector: pytest.Collector) -> None:
    """Take ``image/png`` off nbval's list of outputs it does not compare."""
    if hasattr(collector, "skip_compare"):
        collector.skip_compare = tuple(k for k in collector.skip_compare if k != "image/png")
