"""A fault of our own interface that touches nothing, and a clock that never sleeps."""

from __future__ import annotations

import threading
from typing import Literal

from spikekit.chaos.base import Fault, RevertRecord
from spikekit.chaos.context import ChaosContext
from spikekit.chaos.schedule import Clock
from spikekit.scenarios.faults import NetworkLatency


class FakeClock:
    """The run's clock, advanced by waiting instead of sleeping."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def wait(self, seconds: float, interrupt: threading.Event) -> bool:
        self.t += seconds
        return interrupt.is_set()


class Noted(RevertRecord):
    kind: Literal["test.noted"] = "test.noted"
    name: str

    def undo(self, ctx: ChaosContext) -> str:
        return f"undid {self.name}"


class FakeFault(Fault[NetworkLatency]):
    """Notes when it was injected and reverted, on ``clock``."""

    def __init__(self, fault_id: str, clock: Clock, *, fail: bool = False) -> None:
        spec = NetworkLatency(type="network.latency", at=0, link="a-b", latency_ms=5)
        super().__init__(spec, ChaosContext(), fault_id=fault_id)
        self.clock = clock
        self.fail = fail
        self.log: list[tuple[str, float]] = []

    def _inject(self) -> RevertRecord:
        if self.fail:
            raise RuntimeError("refused")
        self.log.append(("inject", self.clock.now()))
        return Noted(name=self.fault_id)

    def _release(self) -> None:
        self.log.append(("release", self.clock.now()))
