"""Per-second arrays from the run directory's long tables, and rolling windows over them.

Every array is indexed by the second since the run started, ``0 .. duration_s - 1``.
The platform metric names the analysis reads are listed in ``docs/run-directory.md``
("Platform metrics the analysis reads") and defined here.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]

# Platform metric names (service, metric) read by the analysis.
WALLET_LATENCY_P95 = "wallet_tx_latency_p95_ms"
STREAM_LAG = "stream_lag"
STREAM_DEPTH = "stream_depth"
DB_POOL_IN_USE = "db_pool_in_use"
DB_POOL_SIZE = "db_pool_size"
BREAKER_STATE = "breaker_state"  # 0 closed, 1 half-open, 2 open
PROVIDER_HEALTH = "provider_health"  # 0..1
GENERATOR_CPU = "generator_cpu_percent"  # service "loadgen"

Aggregate = Literal["sum", "max", "mean"]


def per_second(frame: Any, column: str, n: int, fill: float = 0.0) -> Floats:
    """``frame[column]`` summed per second ``t`` into an array of length ``n``."""
    out = np.full(n, fill, dtype=np.float64)
    if n == 0 or len(frame) == 0:
        return out
    grouped = frame.groupby("t", observed=True)[column].sum(min_count=1)
    index = grouped.index.to_numpy(dtype=np.int64)
    values = grouped.to_numpy(dtype=np.float64, na_value=np.nan)
    keep = (index >= 0) & (index < n) & ~np.isnan(values)
    out[index[keep]] = values[keep]
    return out


def endpoint_rows(timeseries: Any, endpoint: str) -> Any:
    return timeseries[timeseries["endpoint"] == endpoint]


def metric_rows(metrics: Any, metric: str, service: str | None = None) -> Any:
    rows = metrics[metrics["metric"] == metric]
    if service is not None:
        rows = rows[rows["service"] == service]
    return rows


def metric_by_label(metrics: Any, metric: str, n: int) -> dict[str, Floats]:
    """One array per label set (``labels`` string) of a metric, NaN where absent."""
    rows = metric_rows(metrics, metric)
    out: dict[str, Floats] = {}
    for labels, group in rows.groupby("labels", observed=True):
        array = np.full(n, np.nan, dtype=np.float64)
        t = group["t"].to_numpy(dtype=np.int64)
        keep = (t >= 0) & (t < n)
        array[t[keep]] = group["value"].to_numpy(dtype=np.float64)[keep]
        out[str(labels) or "-"] = array
    return out


def metric_series(
    metrics: Any, metric: str, n: int, how: Aggregate = "max", service: str | None = None
) -> Floats:
    """A metric aggregated over its label sets per second; NaN where never reported."""
    out = np.full(n, np.nan, dtype=np.float64)
    rows = metric_rows(metrics, metric, service)
    if n == 0 or len(rows) == 0:
        return out
    grouped = rows.groupby("t", observed=True)["value"].agg(how)
    index = grouped.index.to_numpy(dtype=np.int64)
    keep = (index >= 0) & (index < n)
    out[index[keep]] = grouped.to_numpy(dtype=np.float64)[keep]
    return out


def rolling_sum(values: Floats, window: int) -> Floats:
    """Sum over the trailing ``window`` seconds ``[t - window + 1, t]``; NaN counts as 0."""
    clean = np.nan_to_num(values, nan=0.0)
    cumulative = np.concatenate(([0.0], np.cumsum(clean)))
    upper = np.arange(1, len(values) + 1)
    lower = np.maximum(upper - window, 0)
    result: Floats = cumulative[upper] - cumulative[lower]
    return result


def rolling_ratio(numerator: Floats, denominator: Floats, window: int) -> Floats:
    """``sum(numerator) / sum(denominator)`` over the trailing window; NaN when 0/0."""
    top = rolling_sum(numerator, window)
    bottom = rolling_sum(denominator, window)
    out = np.full(len(top), np.nan, dtype=np.float64)
    np.divide(top, bottom, out=out, where=bottom > 0)
    return out


def rolling_mean(values: Floats, window: int) -> Floats:
    """Mean of the reported (non-NaN) values over the trailing window; NaN when none."""
    present = (~np.isnan(values)).astype(np.float64)
    return rolling_ratio(np.nan_to_num(values, nan=0.0), present, window)


def first_stable(ok: Bools, start: int, stop: int, stable: int) -> int | None:
    """First ``t`` in ``[start, stop)`` with ``ok[t : t + stable]`` all true inside the range."""
    run = 0
    for t in range(max(start, 0), min(stop, len(ok))):
        run = run + 1 if ok[t] else 0
        if run >= stable:
            return t - stable + 1
    return None


def stalled(answered: Floats, players: Floats, window: int) -> Bools:
    """True at each second with players in session and no request answered in the last
    ``window`` seconds (that second included); the clock starts at the first second with
    players. ``answered``: requests completed per second (failures included)."""
    out = np.zeros(len(answered), dtype=np.bool_)
    last: int | None = None
    for t in range(len(answered)):
        if answered[t] > 0:
            last = t
        elif players[t] > 0:
            if last is None:
                last = t - 1  # nothing answered yet: silent since this second
            out[t] = t - last >= window
    return out
