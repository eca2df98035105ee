"""The steady-state gate's view of the platform: the live per-second values, trailing.

:class:`SteadyWindow` is fed the same :class:`~spikekit.chaos.stop.SecondStats` as the
stop conditions (from the load's per-second summary, :func:`spikekit.run.live.second_stats`)
and keeps the last :data:`WINDOW_S` seconds. A fault's gate (:meth:`SteadyWindow.gate`)
judges each of its SLOs on the mean of that SLO's metric over those seconds: a ceiling
above its threshold, or a floor (success rates) below it, is a breach. An SLO with no
live value in the window (a metric only the final analysis computes, such as wallet
latency, or no requests yet) is not a breach: the gate judges what the run sees live.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

from spikekit.chaos.schedule import SteadyGate
from spikekit.chaos.stop import SecondStats
from spikekit.scenarios.faults.steady import SteadyState
from spikekit.scenarios.slo import SLO

__all__ = ["WINDOW_S", "SteadyWindow"]

#: Trailing seconds the gate judges (the mean over them, not one noisy second).
WINDOW_S = 5


class SteadyWindow:
    """The last :data:`WINDOW_S` seconds of live values; fed on the runner's thread, read
    by the faults' gates on the chaos threads."""

    def __init__(self, seconds: int = WINDOW_S) -> None:
        self._seconds: deque[SecondStats] = deque(maxlen=seconds)
        self._lock = threading.Lock()

    def feed(self, stats: SecondStats) -> None:
        with self._lock:
            self._seconds.append(stats)

    def breaches(self, slos: Sequence[SLO]) -> list[str]:
        """One line per SLO the trailing window is out of, e.g. ``error rate: 0.091 > 0.05``."""
        with self._lock:
            seconds = list(self._seconds)
        found: list[str] = []
        for slo in slos:
            key = slo.signal or slo.endpoint  # a platform signal's live value is under its name
            values = [v for s in seconds if (v := s.value(slo.metric, key)) is not None]
            if not values:
                continue
            mean = sum(values) / len(values)
            if slo.is_floor and mean < slo.threshold:
                found.append(f"{slo.name}: {mean:.4g} < {slo.threshold:g}")
            elif not slo.is_floor and mean > slo.threshold:
                found.append(f"{slo.name}: {mean:.4g} > {slo.threshold:g}")
        return found

    def gate(self, steady: SteadyState, slos: Sequence[SLO]) -> SteadyGate:
        """The gate of a fault whose ``steady_state`` names ``steady.slos`` of ``slos``."""
        by_name = {slo.name: slo for slo in slos}
        chosen = [by_name[name] for name in steady.slos if name in by_name]
        return SteadyGate(lambda: self.breaches(chosen), within_s=steady.within)
