"""The capacity section's plots (matplotlib, object API, no pyplot), from ``summary.json``'s
``capacity`` key alone: the scaling law X(N) with its bootstrap band, the measured
seconds as points and N* marked; and per step, the requests a second and each part's
cores, predicted (with the interval) beside measured.
"""

from __future__ import annotations

import io
import math
from contextlib import AbstractContextManager

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure

from spikekit.reports.plan_summary import CapacitySummary
from spikekit.reports.plots import Plot
from spikekit.rundir.plan import UslRecord


def _style() -> AbstractContextManager[None]:
    return rc_context(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "spikekit",  # the same ids on every rebuild
            "font.size": 9,
            "axes.grid": True,
            "grid.alpha": 0.3,
        }
    )


def usl_figure(usl: UslRecord) -> Figure:
    figure = Figure(figsize=(6.0, 3.0), layout="constrained")
    axes = figure.add_subplot()
    n = np.array([p.replicas for p in usl.curve])
    axes.fill_between(
        n,
        [p.rps.low for p in usl.curve],
        [p.rps.high for p in usl.curve],
        alpha=0.25,
        label="5–95 % band (bootstrap)",
    )
    axes.plot(n, [p.rps.point for p in usl.curve], lw=1.2, label="X(N), the fitted law")
    for replicas, values in sorted(usl.samples.items()):
        axes.plot(
            [replicas] * len(values), values, ".", color="tab:orange", alpha=0.4, ms=3,
            label="measured seconds" if replicas == min(usl.samples) else None,
        )  # fmt: skip
    if usl.peak_replicas is not None and math.isfinite(usl.peak_replicas.point):
        star = usl.peak_replicas
        axes.axvline(star.point, color="tab:red", lw=0.9, ls="--", label=f"N* = {star.point:.1f}")
        axes.axvspan(star.low, star.high, color="tab:red", alpha=0.08)
    axes.set_title(f"{usl.part}: σ = {usl.sigma.point:.3f}, κ = {usl.kappa.point:.4f}", loc="left")
    axes.set_xlabel("replicas N")
    axes.set_ylabel("served req/s")
    axes.set_ylim(bottom=0)
    axes.legend(loc="lower right", fontsize=7, framealpha=0.7)
    return figure


def steps_figure(capacity: CapacitySummary) -> Figure:
    """Left: requests a second per step, predicted beside measured (served). Right: at the
    last step, the cores of each watched part, predicted with its interval and measured."""
    figure = Figure(figsize=(9.5, 3.0), layout="constrained")
    rps_axes, cores_axes = figure.subplots(1, 2, width_ratios=(1, 2))
    labels = [f"step {s.index + 1}\n{s.players:,} players" for s in capacity.steps]
    x = np.arange(len(capacity.steps), dtype=float)
    rps_axes.bar(x - 0.2, [s.predicted_rps for s in capacity.steps], 0.4, label="predicted")
    measured = [np.nan if s.measured_rps is None else s.measured_rps for s in capacity.steps]
    rps_axes.bar(x + 0.2, measured, 0.4, label="measured (served)")
    rps_axes.set_xticks(x, labels)
    rps_axes.set_ylabel("req/s")
    rps_axes.set_title("requests a second per step", loc="left")
    rps_axes.legend(loc="upper left", fontsize=7, framealpha=0.7)
    last = capacity.steps[-1]
    parts = [p for p in last.parts if p.measured_cores is not None]
    y = np.arange(len(parts), dtype=float)
    point = np.array([p.predicted_cores for p in parts])
    spread = np.array(
        [point - [p.predicted_low for p in parts], [p.predicted_high for p in parts] - point]
    )
    cores_axes.errorbar(point, y, xerr=spread, fmt="o", ms=4, capsize=2, label="predicted")
    cores_axes.plot([p.measured_cores for p in parts], y, "x", ms=6, label="measured")
    cores_axes.set_yticks(y, [p.part for p in parts], fontsize=7)
    cores_axes.invert_yaxis()
    cores_axes.set_xlabel("CPU cores")
    cores_axes.set_xlim(left=0)
    cores_axes.set_title(f"cores per part at step {last.index + 1}", loc="left")
    cores_axes.legend(loc="lower right", fontsize=7, framealpha=0.7)
    return figure


def as_svg(figure: Figure) -> str:
    with _style():
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.find("<svg") :]


def as_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def capacity_plots(capacity: CapacitySummary | None) -> list[Plot]:
    """The section's plots; none without a plan."""
    if capacity is None or not capacity.available:
        return []
    with _style():
        plots = []
        if capacity.steps:
            plots.append(Plot("measured vs predicted per step", as_svg(steps_figure(capacity))))
        if capacity.usl is not None:
            plots.append(Plot("the scaling law", as_svg(usl_figure(capacity.usl))))
    return plots
