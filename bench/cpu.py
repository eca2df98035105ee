"""How busy each core was during a window: tells a generator-bound figure from a
target-bound one (a pinned target at ~100 % means the target, not the generator, was the
limit)."""

from __future__ import annotations

import threading

import psutil


def _busy_and_total(times: object) -> tuple[float, float]:
    fields = times._asdict()  # type: ignore[attr-defined]
    total = float(sum(fields.values()))
    idle = float(fields.get("idle", 0.0)) + float(fields.get("iowait", 0.0))
    return total - idle, total


class CoreSampler:
    """After ``delay_s``, measures per-core busy fractions over ``duration_s`` (a thread)."""

    def __init__(self, delay_s: float, duration_s: float) -> None:
        self.delay_s = delay_s
        self.duration_s = duration_s
        self.busy: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="core-sampler", daemon=True)

    def start(self) -> CoreSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        if self._stop.wait(self.delay_s):
            return
        before = [_busy_and_total(t) for t in psutil.cpu_times(percpu=True)]
        if self._stop.wait(self.duration_s):
            return
        after = [_busy_and_total(t) for t in psutil.cpu_times(percpu=True)]
        self.busy = [
            (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0
            for (b0, t0), (b1, t1) in zip(before, after, strict=True)
        ]

    def result(self, timeout: float = 30.0) -> list[float]:
        """Per-core busy fractions (empty if the window was cut short)."""
        self._thread.join(timeout)
        return self.busy

    def cancel(self) -> None:
        self._stop.set()


def busy_at(busy: list[float], core: int) -> float | None:
    return busy[core] if core < len(busy) else None
