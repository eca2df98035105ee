"""Stop conditions: end a run early when the platform is past saving.

The runner feeds :class:`StopConditions` one :class:`SecondStats` per second; when a
condition of the scenario (say, error rate above 0.6) has held for its ``sustained``
seconds in a row, :meth:`StopConditions.feed` returns the reason, and the runner calls
:meth:`ChaosRun.abort` (journaled as ``run_aborted``). A second without data for the
condition's metric breaks the streak. A condition of ``metric: query`` reads the value
under its :attr:`~spikekit.scenarios.signals.PlatformSignal.signal` (the series it watches).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from spikekit.scenarios.durations import format_duration
from spikekit.scenarios.model import StopCondition
from spikekit.scenarios.slo import SLOMetric

__all__ = ["SecondStats", "StopConditions"]


@dataclass(frozen=True)
class SecondStats:
    """What the platform did in second ``t``: metric values per endpoint (``"*"`` = all)."""

    t: int
    values: Mapping[tuple[SLOMetric, str], float] = field(default_factory=dict)

    def value(self, metric: SLOMetric, endpoint: str) -> float | None:
        value = self.values.get((metric, endpoint))
        return None if value is None or math.isnan(value) else value


class StopConditions:
    """Evaluates a scenario's stop conditions second by second."""

    def __init__(self, conditions: Sequence[StopCondition]) -> None:
        self.conditions = list(conditions)
        self._since: list[int | None] = [None] * len(self.conditions)
        self.reason: str | None = None

    @staticmethod
    def breached(condition: StopCondition, value: float) -> bool:
        if condition.is_floor:
            return value < condition.threshold
        return value > condition.threshold

    def feed(self, stats: SecondStats) -> str | None:
        """The reason to stop, once a condition has held long enough (then always it)."""
        if self.reason is not None:
            return self.reason
        for index, condition in enumerate(self.conditions):
            watched = condition.signal or condition.endpoint  # a platform series, or an endpoint
            value = stats.value(condition.metric, watched)
            if value is None or not self.breached(condition, value):
                self._since[index] = None
                continue
            since = self._since[index]
            if since is None:
                since = self._since[index] = stats.t
            if stats.t - since + 1 >= condition.sustained:
                side = "below" if condition.is_floor else "above"
                self.reason = (
                    f"stop condition: {condition.metric.value} on {watched} "
                    f"{side} {condition.threshold:g} for {format_duration(condition.sustained)} "
                    f"(last value {value:g} at t={stats.t}s)"
                )
                return self.reason
        return None
