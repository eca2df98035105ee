"""``spikekit report RUN_DIR``: rebuild every output of a run from its directory."""

from __future__ import annotations


def report() -> None:
    """Rebuild report.html, summary.json and junit.xml from a run directory."""
