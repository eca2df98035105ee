"""What every benchmark shares: repetitions and medians, timing, the machine, RESULTS.md.

A benchmark is a function ``run(config) -> Section``: it repeats its measurement
``config.repeats`` times, takes medians and computes ratios between figures measured in
the same invocation (never a lone absolute time), and returns one section of
``bench/RESULTS.md``. The pure parts (median, ratio formatting, rendering and merging
sections) are unit-tested in ``tests/unit/test_bench_harness.py``.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[1]
REPO_TOOLS = REPO / ".tools" / "bin"
RESULTS = REPO / "bench" / "RESULTS.md"


@dataclass(frozen=True)
class Config:
    """How hard to measure: ``quick`` runs fewer and shorter repetitions."""

    repeats: int = 3
    quick: bool = False
    work_dir: Path = Path("/tmp")

    def seconds(self, full: float, quick: float) -> float:
        return quick if self.quick else full


@dataclass(frozen=True)
class Row:
    """One line of a section's table: a figure, its ratio(s), its target and a note."""

    name: str
    value: str
    ratio: str = ""
    target: str = ""
    note: str = ""


@dataclass
class Section:
    """One benchmark's part of RESULTS.md."""

    key: str  # the --only name, also the section's marker
    title: str
    command: str  # the exact command that made these figures
    rows: list[Row] = field(default_factory=list)
    columns: tuple[str, str, str, str, str] = ("what", "figure", "ratio", "target", "note")
    notes: list[str] = field(default_factory=list)  # paragraphs under the table
    seconds: float = 0.0  # how long the benchmark took
    date: str = ""


@dataclass(frozen=True)
class Machine:
    cpus: int
    memory_gib: float
    python: str
    kernel: str

    def describe(self) -> str:
        return (
            f"{self.cpus} CPUs, {self.memory_gib:.1f} GiB memory, Python {self.python}, "
            f"Linux {self.kernel}"
        )


def machine() -> Machine:
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return Machine(
        cpus=os.cpu_count() or 1,
        memory_gib=pages / 2**30,
        python=platform.python_version(),
        kernel=platform.release(),
    )


# --- numbers ---------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    """The median; a ValueError names the empty case (no measurement succeeded)."""
    if not values:
        raise ValueError("no values to take the median of")
    return float(statistics.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, ``q`` in [0, 1]."""
    if not values:
        raise ValueError("no values to take a percentile of")
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, max(0, int(q * len(ordered))))])


def ratio(value: float, reference: float) -> float | None:
    """value / reference, None when the reference is zero (or missing)."""
    if not reference:
        return None
    return value / reference


def paired_ratio(values: dict[int, float], reference: dict[int, float]) -> float | None:
    """Median over repetitions of value / reference, pairing the runs of one repetition.

    The machine's load drifts between repetitions; a ratio taken within one repetition
    (both measured minutes apart at most) cancels most of that drift.
    """
    ratios = [values[k] / reference[k] for k in values if reference.get(k)]
    return median(ratios) if ratios else None


def format_ratio(value: float | None, against: str = "") -> str:
    """``0.42x`` (``0.42x wrk``); ``n/a`` when there is no reference."""
    if value is None:
        return "n/a"
    digits = 2 if value < 10 else 1
    text = f"{value:.{digits}f}x"
    return f"{text} {against}".rstrip()


def format_number(value: float, unit: str = "") -> str:
    """Thousands separators, no decimals above 100, two below 10."""
    if value >= 100:
        text = f"{value:,.0f}"
    elif value >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".rstrip()


def spread(values: Sequence[float], unit: str = "") -> str:
    """``N runs, min to max`` for a note: how far the repetitions were apart."""
    if len(values) < 2:
        return f"1 run ({format_number(values[0], unit)})" if values else "no run"
    return (
        f"{len(values)} runs, {format_number(min(values))} to {format_number(max(values))} {unit}"
    ).rstrip()


def repeat(times: int, measure: Callable[[int], T]) -> list[T]:
    """``measure(i)`` for i in range(times), in order."""
    return [measure(i) for i in range(times)]


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """``with stopwatch() as elapsed: ...; elapsed()`` — seconds since the block began."""
    began = time.perf_counter()
    ended: list[float] = []
    try:
        yield lambda: (ended[0] if ended else time.perf_counter()) - began
    finally:
        ended.append(time.perf_counter())


@contextmanager
def pinned(cores: set[int]) -> Iterator[None]:
    """Run the block with this thread pinned to ``cores``; children spawned in it inherit."""
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, previous)


def command_line(argv: Sequence[str] | None = None) -> str:
    """How this invocation was started, as a user would type it."""
    args = list(sys.argv[1:] if argv is None else argv)
    return " ".join([".venv/bin/python -m bench", *args])


# --- RESULTS.md ---------------------------------------------------------------------------------

HEADER = """# spikekit benchmarks

Made by `make bench` (`.venv/bin/python -m bench`; one benchmark: `--only NAME`, shorter:
`--quick`). Each section names the exact command, the date and the machine.

**Read the ratios, not the absolute figures.** This machine is shared with other
engineers' test runs and its figures are noisy; every ratio compares figures measured
side by side in the same invocation, each a median of the repetitions shown.
"""

_MARK = re.compile(r"<!-- bench:(?P<key>[a-z0-9-]+) -->.*?<!-- /bench:(?P=key) -->", re.S)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_section(section: Section, host: Machine) -> str:
    lines = [
        f"<!-- bench:{section.key} -->",
        f"## {section.title}",
        "",
        f"- command: `{section.command}`",
        f"- date: {section.date}; took {section.seconds:.0f} s",
        f"- machine: {host.describe()}",
        "",
        "| " + " | ".join(section.columns) + " |",
        "|" + "---|" * len(section.columns),
    ]
    for row in section.rows:
        cells = (row.name, row.value, row.ratio, row.target, row.note)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    for note in section.notes:
        lines += ["", note]
    lines += ["", f"<!-- /bench:{section.key} -->"]
    return "\n".join(lines)


def render(sections: Sequence[Section], host: Machine, previous: str = "") -> str:
    """RESULTS.md with ``sections``; other sections of ``previous`` are kept in their place."""
    fresh = {s.key: render_section(s, host) for s in sections}
    kept: list[str] = []
    for match in _MARK.finditer(previous):
        key = match.group("key")
        kept.append(fresh.pop(key) if key in fresh else match.group(0))
    blocks = kept + [fresh[s.key] for s in sections if s.key in fresh]
    return HEADER + "\n" + "\n\n".join(blocks) + "\n"


def write_results(sections: Sequence[Section], path: Path = RESULTS) -> Path:
    previous = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(render(sections, machine(), previous), encoding="utf-8")
    return path
