"""The run's own metrics in Prometheus format, kept up to date from the live part.

:class:`LiveMetrics` owns a :class:`~prometheus_client.CollectorRegistry` of its own (never
the process-wide one: two runs in one process, or a test, never share series) and turns
what the run sees live into series; :mod:`spikekit.run.live_metrics_server` serves it on
``--metrics-port``. It does no I/O: it is fed the load's per-second summary with the
live SLO values (:meth:`LiveMetrics.second`), the chaos engine's journal events
(:meth:`LiveMetrics.fault_event`) and the toolkit's incidents (:meth:`LiveMetrics.incident`),
so a test feeds it one second and reads the series back (``registry.get_sample_value``).

===================================  ==========================  ==============================
series                               labels                      from
===================================  ==========================  ==============================
``spikekit_players_target``                                      the shape at that second
``spikekit_players_actual``                                      players the workers run
``spikekit_requests_total``          endpoint                    counter, each second's count
``spikekit_failures_total``          endpoint                    counter
``spikekit_latency_ms``              endpoint, quantile          that second's HDR percentiles
``spikekit_generator_cpu_percent``                               the busiest Locust process
``spikekit_generator_errors_total``                              counter: the client's own
``spikekit_generator_incidents_total``  kind                     counter: toolkit faults
``spikekit_fault_active``            fault_id, type, target      1 injected, 0 planned/reverted
``spikekit_slo_value``               slo, metric                 live estimate (window mean)
``spikekit_slo_breached``            slo                         1 when the estimate breaches
``spikekit_run_phase``               phase, stage                1 for the current one
``spikekit_run_elapsed_seconds``                                 seconds of load summarised
``spikekit_run_planned_seconds``                                 the scenario's planned length
``spikekit_run_info``                scenario, run               1 (who is being measured)
===================================  ==========================  ==============================

Latency of ``endpoint="*"`` is all requests together (percentiles do not add up); the
counters have no ``"*"``: ``sum()`` them. The live SLO value is an *estimate*, the mean
over the SLO's ``window_s`` of the per-second values the stop conditions see (as the
steady-state gate, :mod:`spikekit.chaos.steady`); the report judges exactly. An SLO
with no live value (a metric only the analysis computes, or no requests in the window)
is NaN and not breached.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from spikekit.chaos.stop import SecondStats
from spikekit.load.result import GeneratorIncident
from spikekit.rundir.journal import FaultInjected, FaultPlanned, FaultReverted, JournalEvent
from spikekit.rundir.live import SecondSummary
from spikekit.scenarios import SLO, Scenario
from spikekit.scenarios.shape import Segment, shape_for
from spikekit.scenarios.stages import Ramp

__all__ = [
    "ALL",
    "QUANTILES",
    "LiveMetrics",
    "Phase",
    "SloEstimate",
    "estimate_slo",
    "estimate_slos",
    "phases_of",
]

ALL = "*"
#: the quantile label values and the percentile each one is
QUANTILES = ("0.5", "0.95", "0.99")
SETUP = "setup"  # before t = 0: the platform starting, the workers connecting
TEARDOWN = "teardown"  # after the load: faults reverted, audit, report


@dataclass(frozen=True)
class Phase:
    """One stage of the load shape on the run's clock: ``ramp``, ``step`` or ``hold``."""

    phase: str
    stage: str  # "1" for the first stage; "0" for setup and teardown
    start_s: float = 0.0
    end_s: float = 0.0


def _kind(segment: Segment) -> str:
    if segment.start_level == segment.end_level:
        return "hold"
    return "step" if segment.ramp is Ramp.STEP else "ramp"


def phases_of(scenario: Scenario) -> list[Phase]:
    """The load's stages as phases, in order (``duration_scale`` applied)."""
    segments = shape_for(scenario).curve.segments
    return [Phase(_kind(s), str(i + 1), s.start_s, s.end_s) for i, s in enumerate(segments)]


@dataclass(frozen=True)
class SloEstimate:
    """One SLO's live estimate: the mean of its metric over its trailing window (NaN when
    there is no live value) and whether that mean breaches. Shared with the terminal view
    (:mod:`spikekit.cli.live_frame`), so the screen and ``/metrics`` never disagree."""

    slo: SLO
    value: float
    breached: bool


def estimate_slo(slo: SLO, window: Iterable[SecondStats], t: int) -> SloEstimate:
    """The mean over the seconds of ``window`` within ``slo.window_s`` up to second ``t``."""
    key = slo.signal or slo.endpoint  # a platform signal's live value: its name
    recent = [s for s in window if s.t > t - slo.window_s]
    values = [v for s in recent if (v := s.value(slo.metric, key)) is not None]
    mean = sum(values) / len(values) if values else math.nan
    if math.isnan(mean):
        breached = False
    else:
        breached = mean < slo.threshold if slo.is_floor else mean > slo.threshold
    return SloEstimate(slo, mean, breached)


def estimate_slos(slos: Iterable[SLO], window: Iterable[SecondStats], t: int) -> list[SloEstimate]:
    """:func:`estimate_slo` of each SLO, in order (``window``: the last seconds' stats)."""
    seconds = list(window)
    return [estimate_slo(slo, seconds, t) for slo in slos]


class LiveMetrics:
    """The registry and its update; fed on the runner's and the chaos engine's threads
    (each series of prometheus-client takes its own lock)."""

    def __init__(self, scenario: Scenario) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.players_target = Gauge("spikekit_players_target", "Target players now", registry=r)
        self.players_actual = Gauge("spikekit_players_actual", "Players running now", registry=r)
        self.requests = Counter(
            "spikekit_requests", "Requests answered or failed", ["endpoint"], registry=r
        )
        self.failures = Counter("spikekit_failures", "Requests failed", ["endpoint"], registry=r)
        self.latency = Gauge(
            "spikekit_latency_ms",
            "Latency percentile of the last second, ms (NaN: no requests)",
            ["endpoint", "quantile"],
            registry=r,
        )
        self.cpu = Gauge(
            "spikekit_generator_cpu_percent", "CPU of the busiest load process", registry=r
        )
        self.generator_errors = Counter(
            "spikekit_generator_errors", "Errors of the load generator itself", registry=r
        )
        self.incidents = Counter(
            "spikekit_generator_incidents", "Faults of the toolkit itself", ["kind"], registry=r
        )
        self.fault_active = Gauge(
            "spikekit_fault_active",
            "1 while the fault is injected",
            ["fault_id", "type", "target"],
            registry=r,
        )
        self.slo_value = Gauge(
            "spikekit_slo_value",
            "Live estimate of the SLO's metric (mean over its window)",
            ["slo", "metric"],
            registry=r,
        )
        self.slo_breached = Gauge(
            "spikekit_slo_breached", "1 while the live estimate breaches", ["slo"], registry=r
        )
        self.phase = Gauge(
            "spikekit_run_phase", "1 for the run's current phase", ["phase", "stage"], registry=r
        )
        self.elapsed = Gauge(
            "spikekit_run_elapsed_seconds", "Seconds of load summarised", registry=r
        )
        self.planned = Gauge(
            "spikekit_run_planned_seconds", "The scenario's planned duration", registry=r
        )
        self.info = Gauge("spikekit_run_info", "The run", ["scenario", "run"], registry=r)
        self.slos: tuple[SLO, ...] = tuple(scenario.slos)
        self.phases = phases_of(scenario)
        self._scenario = scenario.name
        windows = [slo.window_s for slo in self.slos]
        self._window: deque[SecondStats] = deque(maxlen=max(windows, default=1))
        self._lock = threading.Lock()  # the phase series: one 1 at a time
        self.planned.set(scenario.planned_duration_s)
        self._current: Phase | None = None
        self.set_phase(Phase(SETUP, "0"))
        for slo in self.slos:
            self.slo_value.labels(slo.name, slo.metric.value).set(math.nan)
            self.slo_breached.labels(slo.name).set(0)

    # --- the run's lifecycle ------------------------------------------------------------------

    def run_named(self, run: str) -> None:
        """The run directory is known: ``spikekit_run_info{scenario, run}``."""
        self.info.labels(self._scenario, run).set(1)

    def set_phase(self, phase: Phase) -> None:
        """Make ``phase`` the one at 1, every other phase of the run 0 (all are series from
        the start, so a dashboard can draw the plan)."""
        with self._lock:
            if self._current == phase:
                return
            for known in (Phase(SETUP, "0"), *self.phases, Phase(TEARDOWN, "0")):
                self.phase.labels(known.phase, known.stage).set(0)
            self.phase.labels(phase.phase, phase.stage).set(1)
            self._current = phase

    def phase_at(self, t: float) -> Phase:
        """The stage second ``t`` is in (the last one past the shape's end)."""
        for phase in self.phases:
            if t < phase.end_s:
                return phase
        return self.phases[-1] if self.phases else Phase(TEARDOWN, "0")

    def ended(self) -> None:
        """The load is over: teardown (faults reverted, the audit, the report)."""
        self.set_phase(Phase(TEARDOWN, "0"))

    # --- what the live part feeds ---------------------------------------------------------------

    def second(self, summary: SecondSummary, stats: SecondStats | None = None) -> None:
        """One final second of load (and the live values of that second, for the SLOs)."""
        self.players_target.set(summary.target_players)
        self.players_actual.set(summary.actual_players)
        self.cpu.set(summary.generator_cpu_max)
        self.generator_errors.inc(summary.generator_errors)
        for quantile, value in zip(
            QUANTILES, (summary.p50_ms, summary.p95_ms, summary.p99_ms), strict=True
        ):
            self.latency.labels(ALL, quantile).set(value)
        for endpoint, (requests, failures, p95) in summary.endpoints.items():
            self.requests.labels(endpoint).inc(requests)
            self.failures.labels(endpoint).inc(failures)
            p50, p99 = summary.endpoint_quantiles.get(endpoint, (math.nan, math.nan))
            for quantile, value in zip(QUANTILES, (p50, p95, p99), strict=True):
                self.latency.labels(endpoint, quantile).set(value)
        self.elapsed.set(summary.t + 1)
        self.set_phase(self.phase_at(summary.t))
        if stats is not None:
            self._judge(stats)

    def _judge(self, stats: SecondStats) -> None:
        """Each SLO's live estimate over its trailing ``window_s`` seconds, and its state."""
        self._window.append(stats)
        for estimate in estimate_slos(self.slos, self._window, stats.t):
            slo = estimate.slo
            self.slo_value.labels(slo.name, slo.metric.value).set(estimate.value)
            self.slo_breached.labels(slo.name).set(1 if estimate.breached else 0)

    def fault_event(self, event: JournalEvent) -> None:
        """Planned: 0; injected: 1; reverted: 0 (a failed revert leaves it at 1: it is on)."""
        if isinstance(event, FaultPlanned | FaultInjected | FaultReverted):
            gauge = self.fault_active.labels(event.fault_id, event.fault, event.target)
            if isinstance(event, FaultInjected):
                gauge.set(1)
            elif isinstance(event, FaultPlanned) or event.ok:
                gauge.set(0)

    def incident(self, incident: GeneratorIncident) -> None:
        self.incidents.labels(incident.kind.value).inc()
