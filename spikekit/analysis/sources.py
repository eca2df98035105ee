"""Platform metric series per source (service and labels), and the episodes of a condition.

:mod:`spikekit.analysis.series` merges a metric's label sets across services; the hints
need to know which service (and replica) said what, so these keep them apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from spikekit.analysis import series as s

Source = tuple[str, str]  # (service, labels)


def labels_of(text: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in text.split(",") if "=" in pair)


def by_source(metrics: Any, metric: str, n: int) -> dict[Source, s.Floats]:
    """One array per (service, labels) of a metric, NaN where absent."""
    rows = s.metric_rows(metrics, metric)
    out: dict[Source, s.Floats] = {}
    for (service, labels), group in rows.groupby(["service", "labels"], observed=True):
        array = np.full(n, np.nan, dtype=np.float64)
        t = group["t"].to_numpy(dtype=np.int64)
        keep = (t >= 0) & (t < n)
        array[t[keep]] = group["value"].to_numpy(dtype=np.float64)[keep]
        out[(str(service), str(labels))] = array
    return out


def per_instance(
    metrics: Any, metric: str, n: int, keep: Callable[[dict[str, str]], bool] = lambda _: True
) -> dict[tuple[str, str | None], s.Floats]:
    """A metric summed per (service, replica) over the label sets ``keep`` accepts."""
    out: dict[tuple[str, str | None], s.Floats] = {}
    for (service, text), values in by_source(metrics, metric, n).items():
        labels = labels_of(text)
        if not keep(labels):
            continue
        key = (service, labels.get("instance"))
        out[key] = np.nan_to_num(values) + out.get(key, np.zeros(n))
    return out


@dataclass(frozen=True)
class Episode:
    """The seconds a condition held: first, last, how many, the longest consecutive run."""

    first_t: int
    last_t: int
    seconds: int
    longest: int


def episode(mask: s.Bools) -> Episode | None:
    hits = np.flatnonzero(mask)
    if len(hits) == 0:
        return None
    breaks = np.flatnonzero(np.diff(hits) != 1)
    edges = np.concatenate(([0], breaks + 1, [len(hits)]))
    return Episode(int(hits[0]), int(hits[-1]), len(hits), int(np.diff(edges).max()))
