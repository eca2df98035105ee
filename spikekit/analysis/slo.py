"""Per-second SLO evaluation over rolling windows.

The value of an SLO at second ``t`` covers the trailing window ``[t - window_s + 1, t]``:

- ``latency_p95`` / ``latency_p99``: the percentile of the endpoint's requests (``"*"`` =
  all requests) in the window, exact to HDR precision: the window's per-second
  histograms added up (:mod:`spikekit.analysis.percentiles`); a run directory without
  them (an older spikekit) gets the request-weighted mean of the per-second percentiles;
- ``error_rate``: failures / requests of the endpoint over the window (exact);
- ``login_success_rate``: 1 - failures / requests of the login endpoint (the SLO's
  endpoint, or every endpoint containing ``login`` when it is ``"*"``);
- ``wallet_latency_p95``: the mean of the platform's ``wallet_tx_latency_p95_ms``
  (the worst label set each second);
- ``stream_lag``: the mean of the platform's ``stream_lag`` (the worst stream each
  second, or the stream named by ``endpoint``);
- ``deposit_completion_p95``, ``withdrawal_completion_p95``, ``launch_success_rate``,
  ``round_rollback_rate``, ``unsettled_rounds`` and any SLO with ``series`` (every
  ``query`` SLO: a recorded series, PromQL or scraped): see
  :mod:`spikekit.analysis.business`. ``unsettled_rounds`` has one value, at the last
  second: it takes no part in :func:`any_breach` (detection, recovery).

A second without data (NaN) is never a breach.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikekit.analysis import series as s
from spikekit.analysis.business import business_values
from spikekit.analysis.percentiles import windowed
from spikekit.analysis.rundir import RunData
from spikekit.scenarios.slo import SLO, SLOMetric


@dataclass(frozen=True)
class SLOSeries:
    """One SLO evaluated every second of the run."""

    slo: SLO
    values: s.Floats  # rolling value, NaN where there was no data
    breached: s.Bools

    def worst(self, start: int = 0, stop: int | None = None) -> float | None:
        """The worst value in ``[start, stop)`` (lowest for a floor), None without data."""
        window = self.values[start:stop]
        window = window[~np.isnan(window)]
        if len(window) == 0:
            return None
        return float(window.min() if self.slo.is_floor else window.max())

    def severity(self, value: float) -> float:
        """How far ``value`` is from the threshold: > 1 is a breach, capped at 1e6."""
        if self.slo.is_floor:
            ratio = self.slo.threshold / max(value, 1e-9)
        else:
            ratio = value / max(self.slo.threshold, 1e-9)
        return float(min(ratio, 1e6))


def _latency(run: RunData, slo: SLO, column: str, n: int) -> s.Floats:
    histograms = run.latency_histograms
    return windowed(run.timeseries, histograms, slo.endpoint, column, slo.window_s, 0, n)


def _error_rate(run: RunData, slo: SLO, n: int) -> s.Floats:
    rows = s.endpoint_rows(run.timeseries, slo.endpoint)
    return s.rolling_ratio(
        s.per_second(rows, "failures", n), s.per_second(rows, "requests", n), slo.window_s
    )


def _login_success(run: RunData, slo: SLO, n: int) -> s.Floats:
    frame = run.timeseries
    if slo.endpoint == "*":
        names = frame["endpoint"].astype(str)
        rows = frame[names.str.contains("login", case=False) & (names != "*")]
    else:
        rows = s.endpoint_rows(frame, slo.endpoint)
    failures = s.per_second(rows, "failures", n)
    requests = s.per_second(rows, "requests", n)
    return 1.0 - s.rolling_ratio(failures, requests, slo.window_s)


def _gauge(run: RunData, slo: SLO, metric: str, n: int) -> s.Floats:
    metrics = run.platform_metrics
    if slo.endpoint != "*":
        labels = metrics["labels"].astype(str)
        metrics = metrics[labels.str.contains(slo.endpoint, regex=False)]
    return s.rolling_mean(s.metric_series(metrics, metric, n, "max"), slo.window_s)


def slo_values(run: RunData, slo: SLO, n: int | None = None) -> s.Floats:
    """The rolling value of ``slo`` for every second of the run."""
    n = run.duration_s if n is None else n
    if slo.series is not None:  # a series of the platform's telemetry stands for the metric
        return business_values(run, slo, n)
    match slo.metric:
        case SLOMetric.LATENCY_P95:
            return _latency(run, slo, "p95_ms", n)
        case SLOMetric.LATENCY_P99:
            return _latency(run, slo, "p99_ms", n)
        case SLOMetric.ERROR_RATE:
            return _error_rate(run, slo, n)
        case SLOMetric.LOGIN_SUCCESS_RATE:
            return _login_success(run, slo, n)
        case SLOMetric.WALLET_LATENCY_P95:
            return _gauge(run, slo, s.WALLET_LATENCY_P95, n)
        case SLOMetric.STREAM_LAG:
            return _gauge(run, slo, s.STREAM_LAG, n)
        case (
            SLOMetric.DEPOSIT_COMPLETION_P95
            | SLOMetric.WITHDRAWAL_COMPLETION_P95
            | SLOMetric.LAUNCH_SUCCESS_RATE
            | SLOMetric.ROUND_ROLLBACK_RATE
            | SLOMetric.UNSETTLED_ROUNDS
            | SLOMetric.QUERY  # always with a series (the scenario says so)
        ):
            return business_values(run, slo, n)


def evaluate_slo(run: RunData, slo: SLO) -> SLOSeries:
    values = slo_values(run, slo)
    present = ~np.isnan(values)
    filled = np.nan_to_num(values, nan=0.0)
    if slo.is_floor:
        breached = present & (filled < slo.threshold)
    else:
        breached = present & (filled > slo.threshold)
    return SLOSeries(slo=slo, values=values, breached=breached)


def evaluate_slos(run: RunData) -> list[SLOSeries]:
    return [evaluate_slo(run, slo) for slo in run.slos]


def any_breach(evaluations: list[SLOSeries], n: int) -> s.Bools:
    """True at every second where at least one SLO is breached (end-of-run SLOs aside:
    their one value judges the run, not a second of it)."""
    combined = np.zeros(n, dtype=np.bool_)
    for evaluation in evaluations:
        if not evaluation.slo.at_end:
            combined |= evaluation.breached
    return combined
