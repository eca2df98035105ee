"""The last second the platform recorder took, for the live run's stop conditions.

The recorder writes rows for the run directory; a stop condition on a platform signal
needs the newest value of one series while the run goes on. :class:`LatestSecond` is the
rows of one recorder tick, immutable, swapped in whole under the recorder's lock, so the
live run reads it from another thread without copying. A series absent from the tick (a
query that failed that second, a service that did not answer) has no value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from spikekit.scenarios.slo import SeriesRef
from spikekit.telemetry.prometheus import LabelKey

#: per metric name: (service, labels, value) of every row of the tick
TickRows = Mapping[str, tuple[tuple[str, LabelKey, float], ...]]


@dataclass(frozen=True)
class LatestSecond:
    t: int  # the run second of the tick (the load's clock)
    rows: TickRows = field(default_factory=dict)

    def worst(self, ref: SeriesRef, *, floor: bool = False) -> float | None:
        """The worst value of the rows ``ref`` matches (lowest for a floor), None without."""
        values = [
            value
            for service, key, value in self.rows.get(ref.metric, ())
            if (ref.service is None or service == ref.service) and ref.accepts(dict(key))
        ]
        if not values:
            return None
        return min(values) if floor else max(values)


def tick_rows(rows: list[tuple[str, str, LabelKey, float]]) -> TickRows:
    """``(service, metric, labels, value)`` rows grouped by metric."""
    grouped: dict[str, list[tuple[str, LabelKey, float]]] = {}
    for service, metric, key, value in rows:
        grouped.setdefault(metric, []).append((service, key, value))
    return {metric: tuple(found) for metric, found in grouped.items()}
