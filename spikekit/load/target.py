"""Target safety for the load engine: the project-wide guard of :mod:`spikekit.guard`."""

from __future__ import annotations

from collections.abc import Iterable

from spikekit.guard import TargetGuard


def check_target(url: str, allow_targets: Iterable[str] = ()) -> None:
    """Raise :class:`UnsafeTargetError` unless ``url``'s host is on this machine or allowed."""
    TargetGuard(allow_targets).check_url(url, "load target")
