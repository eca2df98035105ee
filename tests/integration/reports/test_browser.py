"""report.html opens offline in a real headless Chromium: no request, no error, every plot drawn.

The report is built from a synthetic run (two faults, one never recovered, a lost and
a doubled bet: a FAILED verdict with every section filled). The full-page screenshot
is kept as a test artifact: in the test's tmp_path, and in ``$SPIKEKIT_ARTIFACTS_DIR``
when that is set (CI uploads it).
"""

from __future__ import annotations

import io
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from spikekit.analysis.synthetic import (
    Disturbance,
    SyntheticFault,
    SyntheticRun,
    tx_id,
    write_synthetic_run,
)
from spikekit.reports.build import build_report
from spikekit.reports.compare import compare_runs, write_compare_html

from .devtools import Chromium, require_browser

FAULTS = (
    SyntheticFault("provider-a-down", start_s=100.0, end_s=130.0, target="provider-a"),
    SyntheticFault("db-locks", start_s=200.0, end_s=220.0, fault="db_lock", target="postgres"),
)
RUN = SyntheticRun(
    faults=FAULTS,
    disturbances=(
        Disturbance(105, 140, latency_factor=10),
        Disturbance(205, 300, error_rate=0.3),
    ),
    lost_tx_ids=(tx_id(1),),
    duplicated_tx_ids=(tx_id(8),),
)
FAILED_RED = "rgb(181, 43, 39)"
WIDTHS = (1280, 1400, 1920)  # common desktop widths, CSS pixels

# how wide the page and each table are laid out: a table fits the page's content box, or
# sits in its own horizontal scroll container (``.scroll``) that does
TABLES = """(() => {
  const page = document.documentElement, body = document.body.getBoundingClientRect();
  return {page: [page.scrollWidth, page.clientWidth],
          tables: [...document.querySelectorAll('table')].map(t => {
            const box = t.closest('.scroll') ?? t, r = box.getBoundingClientRect();
            return {id: t.id || t.className, right: r.right, body: body.right,
                    scrolls: box !== t && getComputedStyle(box).overflowX === 'auto'};
          })};
})()"""  # .FAILED in the report's stylesheet

# every plot's box, visibility and drawing, as the browser laid it out
PLOTS = """[...document.querySelectorAll('svg, img, canvas')].map(e => {
  const r = e.getBoundingClientRect(), s = getComputedStyle(e);
  return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height,
          shown: s.display !== 'none' && s.visibility === 'visible' && +s.opacity > 0,
          title: e.closest('[title]')?.title ?? e.tagName,
          marks: e.querySelectorAll('path, line, polyline, rect, text, use').length};
})"""


def _ink(png: bytes) -> tuple[float, int]:
    """The share of pixels that are not the background colour, and the number of colours."""
    with Image.open(io.BytesIO(png)) as decoded:
        image = decoded.convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    background = max(colours)[0] if colours else 0
    pixels = image.width * image.height
    assert ImageStat.Stat(image).stddev != [0.0, 0.0, 0.0], "a uniform image"
    return 1 - background / pixels, len(colours)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    executable = require_browser()
    with Chromium(executable, tmp_path / "profile", tmp_path / "chromium.log") as chromium:
        yield chromium


def test_report_renders_offline_with_every_plot_visible(browser: Chromium, tmp_path: Path) -> None:
    started = time.perf_counter()
    built = build_report(write_synthetic_run(tmp_path / "run", RUN))
    assert built.summary.verdict.verdict == "FAILED"
    url = built.html.resolve().as_uri()

    seen = browser.load(url)

    assert seen.requests == [url], "the report asked for more than itself"
    assert seen.failed == [] and seen.log_errors == []
    assert seen.console == [] and seen.exceptions == []
    # the verdict banner, readable: the word, its paragraph, its colour
    banner = browser.evaluate(
        "(b => ({word: b.querySelector('.word').innerText, text: b.innerText,"
        " colour: getComputedStyle(b).backgroundColor, height: b.offsetHeight}))"
        "(document.getElementById('verdict'))"
    )
    assert banner["word"] == "FAILED" and banner["colour"] == FAILED_RED
    assert "not recovered" in banner["text"] and banner["height"] > 40
    faults = browser.evaluate("document.getElementById('faults').innerText")
    for fault in FAULTS:
        assert fault.fault_id in faults
    audit = browser.evaluate("document.getElementById('audit').innerText")
    assert tx_id(1) in audit and tx_id(8) in audit
    # every plot laid out, shown, drawn — and really painted on screen
    plots = browser.evaluate(PLOTS)
    assert len(plots) == built.html.read_text().count("<svg") >= 6
    for plot in plots:
        assert plot["shown"] and plot["width"] >= 400 and plot["height"] >= 150, plot
        assert plot["marks"] >= 10, f"{plot['title']}: nothing drawn"
        box = {k: plot[k] for k in ("x", "y", "width", "height")}
        ink, colours = _ink(browser.screenshot(box))
        assert ink > 0.02 and colours >= 4, f"{plot['title']}: {ink:.1%} ink, {colours} colours"
    # the whole page, kept as the test's artifact
    page = browser.screenshot()
    shot = tmp_path / "report.png"
    shot.write_bytes(page)
    if artifacts := os.environ.get("SPIKEKIT_ARTIFACTS_DIR"):
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / "report.png")
    with Image.open(shot) as image:
        width, height = image.size
    assert width >= 1000 and height >= 2000, (width, height)
    ink, colours = _ink(page)
    assert ink > 0.05 and colours >= 16
    print(f"\nreport rendered and checked in {time.perf_counter() - started:.1f} s: {shot}")


def _fits(browser: Chromium, url: str) -> list[str]:
    """What overflows ``url`` at each of :data:`WIDTHS`."""
    browser.load(url)
    problems = []
    for width in WIDTHS:
        browser.page(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        laid = browser.evaluate(TABLES)
        scroll, client = laid["page"]
        if scroll > client:
            problems.append(f"{width} px: the page is {scroll} px wide")
        for table in laid["tables"]:
            if table["right"] > table["body"] + 0.5:
                problems.append(f"{width} px: table {table['id']} overflows ({table})")
    return problems


def test_every_table_fits_the_page_at_common_widths(browser: Chromium, tmp_path: Path) -> None:
    """The report's faults table once overflowed at 1,400 px: every table of the report
    and of the comparison page fits, or scrolls inside its own container by design."""
    failed = write_synthetic_run(tmp_path / "failed", RUN)
    report = build_report(failed).html
    slower = (Disturbance(105, 140, latency_factor=10), Disturbance(0, 60, latency_factor=1.5))
    degraded = write_synthetic_run(
        tmp_path / "degraded", SyntheticRun(faults=FAULTS, disturbances=slower)
    )
    page = write_compare_html(compare_runs(failed, degraded), tmp_path / "compare.html")
    assert page.read_text().count("<table") >= 3 and report.read_text().count("<table") >= 5
    for url in (report.resolve().as_uri(), page.resolve().as_uri()):
        assert _fits(browser, url) == [], url


def test_the_browser_sees_a_request_and_a_console_error(browser: Chromium, tmp_path: Path) -> None:
    """The harness can fail: a page that reaches out and logs an error is caught."""
    page = tmp_path / "leaky.html"
    page.write_text(
        '<!DOCTYPE html><html><body><img src="https://cdn.example.com/chart.png">'
        "<script>console.error('boom')</script></body></html>"
    )
    seen = browser.load(page.as_uri())
    assert "https://cdn.example.com/chart.png" in seen.requests
    assert any("ERR_NAME_NOT_RESOLVED" in f for f in seen.failed), seen.failed
    assert seen.console == ["boom"]
