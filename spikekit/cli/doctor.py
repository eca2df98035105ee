"""``spikekit doctor``: what this machine has, what is missing, and what that costs."""

from __future__ import annotations


def doctor() -> None:
    """Check this machine."""
