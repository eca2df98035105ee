"""``spikekit demo``: the built-in demo run by ``make demo``."""

from __future__ import annotations


def demo() -> None:
    """Run the built-in demo."""
