"""Timeline plots of a run as inline SVG strings (matplotlib, object API, no pyplot).

Every series is downsampled to at most :data:`MAX_POINTS` points (peaks kept for
latency and errors), so a 2-hour run draws as fast and as small as a 5-minute one. A
latency point of more than one second is the percentile of that block's requests, exact
from the per-second histograms (:func:`spikekit.analysis.percentiles.per_block`); without
them (an older run directory), or for a block missing a second's histogram, the highest
per-second percentile of the block.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from spikekit.analysis import series as s
from spikekit.analysis.analyse import RunAnalysis
from spikekit.analysis.percentiles import per_block
from spikekit.scenarios.slo import SLOMetric

MAX_POINTS = 900
CRITICAL_MAX = 4


@dataclass(frozen=True)
class Plot:
    title: str
    svg: str


@dataclass(frozen=True)
class Line:
    label: str
    values: s.Floats
    peak: bool = True  # keep the maximum of each bucket (else the mean)
    style: str = "-"
    x: s.Floats | None = None  # given: ``values`` are already one per point, drawn as they are


def bucket_of(n: int) -> int:
    """Seconds per point for a series of ``n`` seconds."""
    return max(1, math.ceil(n / MAX_POINTS))


def downsample(values: s.Floats, peak: bool) -> tuple[s.Floats, s.Floats]:
    """(x, y) with at most MAX_POINTS points; x is the bucket's first second."""
    n = len(values)
    bucket = bucket_of(n)
    if bucket == 1:
        return np.arange(n, dtype=np.float64), values
    padded = np.full(math.ceil(n / bucket) * bucket, np.nan)
    padded[:n] = values
    blocks = padded.reshape(-1, bucket)
    present = ~np.isnan(blocks)
    has = present.any(axis=1)
    out = np.full(len(blocks), np.nan)
    if peak:
        out[has] = np.max(np.where(present, blocks, -np.inf)[has], axis=1)
    else:
        sums = np.where(present, blocks, 0.0).sum(axis=1)
        np.divide(sums, present.sum(axis=1), out=out, where=has)
    return np.arange(len(blocks), dtype=np.float64) * bucket, out


def critical_endpoints(analysis: RunAnalysis) -> list[str]:
    """Endpoints named by latency SLOs, else the busiest ones; always ``"*"`` first."""
    named = [
        e.slo.endpoint
        for e in analysis.evaluations
        if e.slo.metric in (SLOMetric.LATENCY_P95, SLOMetric.LATENCY_P99) and e.slo.endpoint != "*"
    ]
    if not named:
        frame = analysis.run.timeseries
        totals = (
            frame[frame["endpoint"] != "*"].groupby("endpoint", observed=True)["requests"].sum()
        )
        named = [str(e) for e in totals.sort_values(ascending=False).index[: CRITICAL_MAX - 1]]
    return ["*", *dict.fromkeys(named)][:CRITICAL_MAX]


def _markers(analysis: RunAnalysis, axes: Axes) -> None:
    for f in analysis.faults:
        end = f.window.reverted_t if f.window.reverted_t is not None else analysis.run.duration_s
        axes.axvspan(f.window.injected_t, end, color="tab:orange", alpha=0.15, lw=0)
        if f.time_to_detect_s is not None:
            axes.axvline(f.impact_start + f.time_to_detect_s, color="tab:red", ls=":", lw=1)
        if f.time_to_recover_s is not None and f.window.reverted_t is not None:
            at = math.floor(f.window.reverted_t) + f.time_to_recover_s
            axes.axvline(at, color="tab:green", ls="--", lw=1)


def render(
    analysis: RunAnalysis,
    title: str,
    unit: str,
    lines: list[Line],
    thresholds: list[float] | None = None,
) -> Plot:
    with rc_context({"svg.fonttype": "none", "font.size": 9, "axes.grid": True, "grid.alpha": 0.3}):
        figure = Figure(figsize=(9.5, 2.4), layout="constrained")
        axes = figure.add_subplot()
        drawn = False
        for line in lines:
            if np.isnan(line.values).all():
                continue
            x, y = (
                (line.x, line.values) if line.x is not None else downsample(line.values, line.peak)
            )
            axes.plot(x, y, line.style, lw=1.1, label=line.label)
            drawn = True
        for threshold in thresholds or []:
            axes.axhline(threshold, color="tab:red", lw=0.8, alpha=0.6)
        if not drawn:
            axes.text(
                0.5,
                0.5,
                "no data recorded",
                ha="center",
                va="center",
                transform=axes.transAxes,
                color="grey",
            )
        _markers(analysis, axes)
        axes.set_xlim(0, max(analysis.run.duration_s, 1))
        axes.set_title(title, loc="left")
        axes.set_ylabel(unit)
        axes.set_xlabel("seconds since start")
        if drawn:
            axes.legend(loc="upper left", fontsize=7, ncols=min(len(lines), 4), framealpha=0.7)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return Plot(title=title, svg=text[text.find("<svg") :])


LATENCY_LINES = (("p95_ms", "-"), ("p99_ms", "--"))


def _latency_lines(analysis: RunAnalysis, endpoint: str, rows: Any, name: str) -> list[Line]:
    """p95 and p99 of ``endpoint`` (timeseries ``rows``) per second, or, when a point covers
    several seconds, the exact percentiles of each block (see the module docstring)."""
    run, n = analysis.run, analysis.run.duration_s
    bucket = bucket_of(n)
    columns = [column for column, _ in LATENCY_LINES]
    exact = None
    if bucket > 1:
        exact = per_block(run.timeseries, run.latency_histograms, endpoint, columns, bucket, n)
    lines = []
    for column, style in LATENCY_LINES:
        values = s.per_second(rows, column, n, fill=np.nan)
        label = f"{name} {column[:3]}"
        if exact is None:
            lines.append(Line(label, values, style=style))
            continue
        merged, holes = exact
        x, peaks = downsample(values, peak=True)
        lines.append(Line(label, np.where(holes, peaks, merged[column]), style=style, x=x))
    return lines


def timeline_plots(analysis: RunAnalysis) -> list[Plot]:
    run, n = analysis.run, analysis.run.duration_s
    frame, metrics = run.timeseries, run.platform_metrics
    everything = s.endpoint_rows(frame, "*")
    requests = s.per_second(everything, "requests", n)
    failures = s.per_second(everything, "failures", n)
    error_rate = np.divide(failures, requests, out=np.full(n, np.nan), where=requests > 0) * 100
    latency: list[Line] = []
    for endpoint in critical_endpoints(analysis):
        rows = s.endpoint_rows(frame, endpoint)
        rows = rows[rows["requests"] > 0]
        name = "all" if endpoint == "*" else endpoint
        latency += _latency_lines(analysis, endpoint, rows, name)
    latency_limits = [
        e.slo.threshold
        for e in analysis.evaluations
        if e.slo.metric in (SLOMetric.LATENCY_P95, SLOMetric.LATENCY_P99)
    ]
    error_limits = [
        e.slo.threshold * 100 for e in analysis.evaluations if e.slo.metric is SLOMetric.ERROR_RATE
    ]
    depth = [
        Line(f"depth {k}", v) for k, v in s.metric_by_label(metrics, s.STREAM_DEPTH, n).items()
    ]
    depth += [
        Line(f"lag {k}", v, style="--")
        for k, v in s.metric_by_label(metrics, s.STREAM_LAG, n).items()
    ]
    health = [
        Line(k, v, peak=False) for k, v in s.metric_by_label(metrics, s.PROVIDER_HEALTH, n).items()
    ]
    return [
        render(
            analysis,
            "Players: target vs actual",
            "players",
            [
                Line("target", s.per_second(run.players, "target_players", n), peak=False),
                Line(
                    "actual", s.per_second(run.players, "actual_players", n), peak=False, style="--"
                ),
            ],
        ),
        render(
            analysis,
            "Requests per second",
            "req/s",
            [Line("requests", requests, peak=False), Line("failures", failures)],
        ),
        render(
            analysis,
            "Latency of the critical endpoints (p95 solid, p99 dashed)",
            "ms",
            latency,
            latency_limits,
        ),
        render(
            analysis, "Error rate", "% failed", [Line("all requests", error_rate)], error_limits
        ),
        render(analysis, "Stream depth and lag", "messages", depth),
        render(analysis, "Provider health", "0..1", health),
    ]
