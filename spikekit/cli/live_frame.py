"""What the live terminal view shows this second, as one Rich renderable (no I/O).

:class:`LiveFrame` is fed what the run's hooks give the CLI — each final second
(:class:`~spikekit.rundir.live.SecondSummary`) and each journal event of the chaos engine —
and :meth:`LiveFrame.render` draws, top to bottom:

- the run's progress: seconds of load summarised of those planned, and the current stage
  of the load shape (ramp, step or hold; its target players, or arrivals/s in an open
  model) with the players running;
- the faults injected and not yet reverted, each with the time left until its planned
  revert;
- each SLO as met or breached with its live value: the same estimate as ``/metrics``
  (:func:`~spikekit.run.live_metrics.estimate_slos`, the mean over the SLO's window of
  the per-second values the stop conditions see); the report judges exactly;
- the endpoints of the last second, hottest (most requests) first, at most
  :data:`TOP_ENDPOINTS` rows;
- sparklines of req/s, p95 and errors over the last :data:`HISTORY_S` seconds.

It is kept apart from the Live wiring (:mod:`spikekit.cli.live_view`) so that a test
renders a frame into Rich's recording console and reads the text back.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from spikekit.chaos.stop import SecondStats
from spikekit.run.live import second_stats
from spikekit.run.live_metrics import SloEstimate, estimate_slos, phases_of
from spikekit.rundir.journal import FaultInjected, FaultPlanned, FaultReverted, JournalEvent
from spikekit.rundir.live import SecondSummary
from spikekit.scenarios import SLO, Scenario
from spikekit.scenarios.shape import shape_for
from spikekit.scenarios.stages import OpenLoad

__all__ = ["HISTORY_S", "TOP_ENDPOINTS", "LiveFrame", "Plan", "Stage", "sparkline"]

#: seconds of history the sparklines draw
HISTORY_S = 60
#: rows of the endpoint table (the hottest; the rest are counted in one line)
TOP_ENDPOINTS = 10
BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = HISTORY_S) -> str:
    """The last ``width`` values as unicode blocks, from 0 (▁) to the largest (█); a NaN
    (a second without requests) is a space."""
    values = list(values)[-width:]
    top = max((v for v in values if not math.isnan(v)), default=0.0)
    out = []
    for value in values:
        if math.isnan(value):
            out.append(" ")
        elif top <= 0:
            out.append(BLOCKS[0])
        else:
            out.append(BLOCKS[min(len(BLOCKS) - 1, int(value / top * (len(BLOCKS) - 1) + 0.5))])
    return "".join(out)


@dataclass(frozen=True)
class Stage:
    """One stage of the load shape on the run's clock (``duration_scale`` applied)."""

    number: int  # 1 for the first
    kind: str  # ramp, step or hold
    start_s: float
    end_s: float
    target: float  # the level at its end: players, or arrivals/s in an open model


@dataclass(frozen=True)
class Plan:
    """What is known of the run before it starts."""

    title: str
    planned_s: float
    stages: tuple[Stage, ...]
    slos: tuple[SLO, ...]
    unit: str = "players"  # of a stage's target: "players" or "arrivals/s"

    @classmethod
    def of(cls, scenario: Scenario, title: str) -> Plan:
        segments = shape_for(scenario).curve.segments
        stages = tuple(
            Stage(i + 1, phase.phase, seg.start_s, seg.end_s, seg.end_level)
            for i, (phase, seg) in enumerate(zip(phases_of(scenario), segments, strict=True))
        )
        unit = "arrivals/s" if isinstance(scenario.load, OpenLoad) else "players"
        return cls(title, scenario.planned_duration_s, stages, tuple(scenario.slos), unit)


@dataclass(frozen=True)
class ActiveFault:
    fault_id: str
    fault: str  # its type, e.g. network.latency
    target: str
    revert_t: float | None  # when the schedule reverts it; None: at the end of the run


@dataclass(frozen=True)
class EndpointRow:
    name: str
    requests: int  # in the last second: req/s
    p95_ms: float
    errors: float  # fraction failed


class LiveFrame:
    """The state the view draws; fed on the runner's and the chaos engine's threads
    (:class:`~spikekit.cli.live_view.LiveView` holds the lock)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.last: SecondSummary | None = None
        self.rps: deque[float] = deque(maxlen=HISTORY_S)
        self.p95: deque[float] = deque(maxlen=HISTORY_S)
        self.errors: deque[float] = deque(maxlen=HISTORY_S)
        windows = [slo.window_s for slo in plan.slos]
        self._stats: deque[SecondStats] = deque(maxlen=max(windows, default=1))
        self._durations: dict[str, float | None] = {}  # fault_id → planned duration
        self.active: dict[str, ActiveFault] = {}

    # --- fed ------------------------------------------------------------------------------

    def second(self, summary: SecondSummary) -> None:
        self.last = summary
        self.rps.append(float(summary.requests))
        self.p95.append(summary.p95_ms)
        self.errors.append(summary.failures / summary.requests if summary.requests else math.nan)
        self._stats.append(second_stats(summary))

    def fault_event(self, event: JournalEvent) -> None:
        """Planned: its duration noted; injected: active; reverted: gone (a failed revert
        stays listed: the fault is still on)."""
        if isinstance(event, FaultPlanned):
            self._durations[event.fault_id] = event.duration_s
        elif isinstance(event, FaultInjected):
            duration = self._durations.get(event.fault_id)
            start = event.planned_t if event.planned_t is not None else event.t
            revert_t = None if duration is None else start + duration
            self.active[event.fault_id] = ActiveFault(
                event.fault_id, event.fault, event.target, revert_t
            )
        elif isinstance(event, FaultReverted) and event.ok:
            self.active.pop(event.fault_id, None)

    # --- derived --------------------------------------------------------------------------

    @property
    def elapsed_s(self) -> int:
        """Seconds of load summarised so far."""
        return 0 if self.last is None else self.last.t + 1

    def stage(self) -> Stage | None:
        """The stage of the last second (the last stage past the shape's end)."""
        t = self.last.t if self.last is not None else 0
        for stage in self.plan.stages:
            if t < stage.end_s:
                return stage
        return self.plan.stages[-1] if self.plan.stages else None

    def slo_states(self) -> list[SloEstimate]:
        t = self.last.t if self.last is not None else 0
        return estimate_slos(self.plan.slos, self._stats, t)

    def endpoints(self) -> list[EndpointRow]:
        """Every endpoint of the last second, hottest first (then by name)."""
        if self.last is None:
            return []
        rows = [
            EndpointRow(name, requests, p95, failures / requests if requests else 0.0)
            for name, (requests, failures, p95) in self.last.endpoints.items()
        ]
        return sorted(rows, key=lambda r: (-r.requests, r.name))

    # --- drawn ----------------------------------------------------------------------------

    def render(self) -> RenderableType:
        return Group(
            self._progress(),
            self._faults(),
            self._slos(),
            self._endpoint_table(),
            self._sparklines(),
        )

    def _progress(self) -> RenderableType:
        planned = max(self.plan.planned_s, 1.0)
        done = min(self.elapsed_s, planned)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold")
        grid.add_column(width=40)
        grid.add_column()
        line = f"{self.elapsed_s} s of {self.plan.planned_s:.0f} s ({done / planned:.0%})"
        if self.elapsed_s > planned:  # the last players stopping, the last seconds in
            line = f"{planned:.0f} s of {planned:.0f} s (100%), +{self.elapsed_s - planned:.0f} s"
        grid.add_row(self.plan.title, ProgressBar(total=planned, completed=done), line)
        stage = self.stage()
        where = "stage -"
        if self.last is not None and self.last.t >= self.plan.planned_s:
            where = "the load shape has ended: the players stop"
        elif stage is not None:
            target = (
                f"{stage.target:,.1f}" if self.plan.unit != "players" else f"{stage.target:,.0f}"
            )
            where = (
                f"stage {stage.number}/{len(self.plan.stages)} {stage.kind} to {target} "
                f"{self.plan.unit} ({stage.start_s:.0f}–{stage.end_s:.0f} s)"
            )
        s = self.last
        now = (
            "waiting for the first second"
            if s is None
            else (
                f"players {s.actual_players:,} / {s.target_players:,}  req/s {s.requests:,}  "
                f"p95 {_ms(s.p95_ms)}  p99 {_ms(s.p99_ms)}  cpu {_num(s.generator_cpu_max, '%')}"
            )
        )
        grid.add_row("", Text(where, style="cyan"), now)
        return grid

    def _faults(self) -> RenderableType:
        if not self.active:
            return Text("faults: none active", style="dim")
        now = self.elapsed_s
        lines = [Text("faults:", style="bold")]
        for fault in self.active.values():
            if fault.revert_t is None:
                left = "until the end"
            else:
                left = f"{max(0.0, fault.revert_t - now):.0f} s left"
            lines.append(
                Text(f"  {fault.fault_id} {fault.fault} on {fault.target}: {left}", style="yellow")
            )
        return Group(*lines)

    def _slos(self) -> RenderableType:
        table = Table(box=None, pad_edge=False)
        for column in ("SLO", "metric", "value", "threshold", "state"):
            table.add_column(
                column, justify="right" if column in ("value", "threshold") else "left"
            )
        for estimate in self.slo_states():
            slo = estimate.slo
            side = "≥" if slo.is_floor else "≤"
            if math.isnan(estimate.value):
                state = Text("no live value", style="dim")
            elif estimate.breached:
                state = Text("BREACHED", style="bold red")
            else:
                state = Text("met", style="green")
            metric = slo.metric.value + ("" if slo.endpoint == "*" else f" {slo.endpoint}")
            table.add_row(
                slo.name, metric, _num(estimate.value), f"{side} {slo.threshold:g}", state
            )
        return Group(Text("SLOs (live estimate; the report judges exactly)", style="bold"), table)

    def _endpoint_table(self) -> RenderableType:
        rows = self.endpoints()
        table = Table(box=None, pad_edge=False)
        table.add_column("endpoint", no_wrap=True)
        for column in ("req/s", "p95", "errors"):
            table.add_column(column, justify="right")
        for row in rows[:TOP_ENDPOINTS]:
            style = "red" if row.errors > 0 else None
            errors = Text(f"{row.errors:.1%}", style=style or "")
            table.add_row(row.name, f"{row.requests:,}", _ms(row.p95_ms), errors)
        if len(rows) > TOP_ENDPOINTS:
            table.add_row(f"… {len(rows) - TOP_ENDPOINTS} more", "", "", "")
        return Group(Text("endpoints (last second, hottest first)", style="bold"), table)

    def _sparklines(self) -> RenderableType:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", width=7)
        grid.add_column(width=HISTORY_S)
        grid.add_column()
        last = self.last
        grid.add_row("req/s", sparkline(self.rps), "" if last is None else f"{last.requests:,}")
        grid.add_row("p95", sparkline(self.p95), "" if last is None else _ms(last.p95_ms))
        error = self.errors[-1] if self.errors else math.nan
        grid.add_row("errors", sparkline(self.errors), "" if math.isnan(error) else f"{error:.1%}")
        return Group(Text(f"last {HISTORY_S} s", style="bold"), grid)


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f} ms"


def _num(value: float, unit: str = "") -> str:
    if math.isnan(value):
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}".rstrip()
