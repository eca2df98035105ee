"""``report.html``: one self-contained page (inline CSS and SVG, no external URL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from spikekit.analysis.analyse import RunAnalysis
from spikekit.reports.plan_plots import capacity_plots
from spikekit.reports.plots import timeline_plots
from spikekit.reports.summary import Summary

TEMPLATES = Path(__file__).parent / "templates"
NONE = "\u2013"  # an en dash for "no value"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(ms=fmt_ms, pct=fmt_pct, secs=fmt_seconds, num=fmt_number)
    return env


def fmt_ms(value: float | None) -> str:
    return NONE if value is None else f"{value:,.0f} ms"


def fmt_pct(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:.2f} %"


def fmt_seconds(value: int | None) -> str:
    return NONE if value is None else f"{value} s"


def fmt_number(value: float | None) -> str:
    if value is None:
        return NONE
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def build_html(analysis: RunAnalysis, summary: Summary) -> str:
    started = dt.datetime.fromtimestamp(summary.run.started_at, tz=dt.UTC)
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            s=summary,
            k=summary.key_numbers,
            plots=timeline_plots(analysis),
            capacity_plots=capacity_plots(summary.capacity),
            stable_s=analysis.run.recovery.stable_s,
            started=started.strftime("%Y-%m-%d %H:%M UTC"),
        )
    )


def write_html(analysis: RunAnalysis, summary: Summary, path: Path) -> Path:
    path.write_text(build_html(analysis, summary), encoding="utf-8")
    return path
