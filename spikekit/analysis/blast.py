"""Blast radius: the endpoints whose own figures broke while a fault was on.

A fault's ``breached_slos`` names objectives, and an objective on ``"*"`` (the
global error rate) says nothing about *which* endpoints suffered. This module
judges every endpoint on its own requests, per fault.

**Window.** From the first whole second after the injection (a fault injected at
``t = 75.8`` is judged from second 76: the requests completed in second 75 mostly
ran before it) to the end of the fault's impact window (its
recovery, or the horizon when not recovered), and at least ``recovery.stable_s``
seconds past the revert, never beyond the horizon (the next fault's injection or
the end of the run). The tail matters: a request counts in the second it
*completed*, so requests stalled by the fault show up at and just after the revert.

**Rule.** An endpoint with fewer than :data:`MIN_REQUESTS` requests in the window
is not judged. Otherwise it is *hurt* when, over some rolling window inside the
fault window holding at least :data:`MIN_REQUESTS` requests of the endpoint:

- its latency (the p95/p99 of its requests in the rolling window, exact from the
  per-second histograms as the latency SLOs compute it; the request-weighted mean of its
  per-second percentiles in an older run directory) exceeds its latency limit: the
  endpoint's own ``latency_p95`` / ``latency_p99`` SLOs; without one, the ``"*"``
  latency SLOs; without those, the loosest per-endpoint ``latency_p95`` threshold of the
  scenario (no endpoint should be slower than the slowest one we accept); or
- its error rate exceeds its error limit: the endpoint's own ``error_rate`` SLO,
  else the ``"*"`` one, else none.

The rolling window is the SLO's ``window_s``. Everything here is a pure function
of the run data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from spikekit.analysis import series as s
from spikekit.analysis.percentiles import windowed
from spikekit.analysis.recovery import FaultResult, fault_second
from spikekit.analysis.rundir import RunData
from spikekit.rundir.second_histograms import LatencyHistograms
from spikekit.scenarios.slo import SLO, SLOMetric

MIN_REQUESTS = 10  # requests of an endpoint in the window (and in a rolling window) to judge it
ALL = "*"
_LATENCY = {SLOMetric.LATENCY_P95: "p95_ms", SLOMetric.LATENCY_P99: "p99_ms"}


@dataclass(frozen=True)
class Limit:
    """One figure an endpoint is held to: ``column`` over ``window_s`` within ``threshold``."""

    what: str  # "p95", "p99" or "error rate"
    column: str  # timeseries column, "failures" for the error rate
    threshold: float
    window_s: int


@dataclass(frozen=True)
class EndpointJudgement:
    endpoint: str
    requests: int  # in the fault window
    judged: bool
    breaches: tuple[str, ...]  # e.g. "p95 12,263 ms > 300 ms"; empty: not hurt

    @property
    def hurt(self) -> bool:
        return bool(self.breaches)


@dataclass(frozen=True)
class BlastRadius:
    fault_id: str
    start: int
    stop: int  # exclusive
    endpoints: tuple[EndpointJudgement, ...]

    @property
    def hurt(self) -> tuple[str, ...]:
        return tuple(sorted(e.endpoint for e in self.endpoints if e.hurt))

    @property
    def not_judged(self) -> tuple[str, ...]:
        return tuple(sorted(e.endpoint for e in self.endpoints if not e.judged))


def limits_for(endpoint: str, slos: list[SLO]) -> list[Limit]:
    """The latency and error limits ``endpoint`` is held to (see the module docstring)."""

    def latency(slo: SLO) -> Limit:
        return Limit(slo.metric.value[-3:], _LATENCY[slo.metric], slo.threshold, slo.window_s)

    latency_slos = [slo for slo in slos if slo.metric in _LATENCY]
    own = [latency(slo) for slo in latency_slos if slo.endpoint == endpoint]
    limits = own or [latency(slo) for slo in latency_slos if slo.endpoint == ALL]
    if not limits:
        p95s = [
            slo
            for slo in latency_slos
            if slo.metric is SLOMetric.LATENCY_P95 and slo.endpoint != ALL
        ]
        if p95s:
            limits = [latency(max(p95s, key=lambda slo: slo.threshold))]
    errors = [slo for slo in slos if slo.metric is SLOMetric.ERROR_RATE]
    error = next((e for e in errors if e.endpoint == endpoint), None) or next(
        (e for e in errors if e.endpoint == ALL), None
    )
    if error is not None:
        limits.append(Limit("error rate", "failures", error.threshold, error.window_s))
    return limits


def _worst(
    timeseries: Any,
    histograms: LatencyHistograms | None,
    endpoint: str,
    limit: Limit,
    start: int,
    stop: int,
) -> float | None:
    """The worst rolling value of ``limit`` in ``[start, stop)``, rolling windows clipped to it."""
    rows = s.endpoint_rows(timeseries, endpoint)
    if limit.column == "failures":
        requests = s.per_second(rows, "requests", stop)[start:stop]
        top = s.per_second(rows, "failures", stop)[start:stop]
        values = s.rolling_ratio(top, requests, limit.window_s)
    else:
        served = rows[(rows["requests"] > 0) & rows[limit.column].notna()]
        requests = s.per_second(served, "requests", stop)[start:stop]
        values = windowed(
            timeseries, histograms, endpoint, limit.column, limit.window_s, start, stop
        )
    counted = s.rolling_sum(requests, limit.window_s)
    values = values[(counted >= MIN_REQUESTS) & ~np.isnan(values)]
    return float(values.max()) if len(values) else None


def _describe(limit: Limit, value: float) -> str:
    if limit.column == "failures":
        return f"{limit.what} {value:.1%} > {limit.threshold:.1%}"
    return f"{limit.what} {value:,.0f} ms > {limit.threshold:,.0f} ms"


def judge_endpoint(
    timeseries: Any,
    endpoint: str,
    slos: list[SLO],
    start: int,
    stop: int,
    histograms: LatencyHistograms | None = None,
) -> EndpointJudgement:
    """Whether ``endpoint`` was hurt in ``[start, stop)`` (seconds since the run started);
    its latency exact from ``histograms`` when given."""
    rows = s.endpoint_rows(timeseries, endpoint)
    requests = int(s.per_second(rows, "requests", stop)[start:stop].sum())
    if requests < MIN_REQUESTS:
        return EndpointJudgement(endpoint, requests, judged=False, breaches=())
    breaches = []
    for limit in limits_for(endpoint, slos):
        worst = _worst(timeseries, histograms, endpoint, limit, start, stop)
        if worst is not None and worst > limit.threshold:
            breaches.append(_describe(limit, worst))
    return EndpointJudgement(endpoint, requests, judged=True, breaches=tuple(breaches))


def blast_window(result: FaultResult, horizon: int, stable_s: int, n: int) -> tuple[int, int]:
    """``[start, stop)`` in which the endpoints are judged for one fault."""
    reverted = result.window.reverted_t
    revert = n if reverted is None else min(fault_second(reverted), n)
    horizon = max(min(horizon, n), revert)
    stop = min(max(result.impact_end, min(revert + stable_s, horizon)), n)
    start = min(math.ceil(result.window.injected_t - 1e-9), stop)
    return max(start, 0), stop


def blast_radius(run: RunData, faults: list[FaultResult]) -> list[BlastRadius]:
    """One :class:`BlastRadius` per fault result, in the same order."""
    n = run.duration_s
    names = run.timeseries["endpoint"].astype(str)
    endpoints = sorted(set(names[names != ALL]))
    starts = [fault_second(f.window.injected_t) for f in faults]
    out = []
    for index, result in enumerate(faults):
        later = starts[index + 1 :]
        horizon = min(later) if later else n
        start, stop = blast_window(result, horizon, run.recovery.stable_s, n)
        judged = tuple(
            judge_endpoint(run.timeseries, endpoint, run.slos, start, stop, run.latency_histograms)
            for endpoint in endpoints
        )
        out.append(BlastRadius(result.window.fault_id, start, stop, judged))
    return out
