"""``spikekit compare RUN_A RUN_B``: the CI gate for "did this change make us less resilient"."""

from __future__ import annotations


def compare() -> None:
    """Compare two runs."""
