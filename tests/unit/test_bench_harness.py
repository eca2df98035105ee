"""The benchmark harness's pure parts: medians, ratios, RESULTS.md rendering (no timing)."""

from __future__ import annotations

import pytest

from bench.harness import (
    HEADER,
    Machine,
    Row,
    Section,
    format_number,
    format_ratio,
    median,
    paired_ratio,
    percentile,
    ratio,
    render,
    render_section,
    spread,
)

HOST = Machine(cpus=2, memory_gib=24.0, python="3.11.7", kernel="6.1.0")


def section(key: str, value: str = "1", title: str = "A benchmark") -> Section:
    return Section(
        key=key,
        title=title,
        command=".venv/bin/python -m bench",
        rows=[Row("thing", value, "0.50x wrk", ">= 1", "a | note")],
        notes=["Read the ratio."],
        seconds=12.4,
        date="2026-11-27 09:00 UTC",
    )


def test_median_of_odd_and_even_counts() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_median_of_nothing_says_so() -> None:
    with pytest.raises(ValueError, match="no values"):
        median([])


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 51.0
    assert percentile(values, 0.99) == 100.0
    assert percentile([7.0], 0.99) == 7.0


def test_ratio_and_its_formatting() -> None:
    assert ratio(50.0, 200.0) == 0.25
    assert ratio(1.0, 0.0) is None
    assert format_ratio(0.25) == "0.25x"
    assert format_ratio(3.456, "wrk") == "3.46x wrk"
    assert format_ratio(12.34, "Locust Fast") == "12.3x Locust Fast"
    assert format_ratio(None, "wrk") == "n/a"


def test_numbers_and_spread() -> None:
    assert format_number(20_700.4, "req/s") == "20,700 req/s"
    assert format_number(12.345) == "12.3"
    assert format_number(0.456, "ms") == "0.46 ms"
    assert spread([1_000.0, 1_200.0, 1_100.0], "req/s") == "3 runs, 1,000 to 1,200 req/s"
    assert spread([5.0]) == "1 run (5.00)"


def test_a_section_names_its_command_date_and_machine() -> None:
    text = render_section(section("loadgen"), HOST)
    assert text.startswith("<!-- bench:loadgen -->\n## A benchmark")
    assert "- command: `.venv/bin/python -m bench`" in text
    assert "- date: 2026-11-27 09:00 UTC; took 12 s" in text
    assert "- machine: 2 CPUs, 24.0 GiB memory, Python 3.11.7, Linux 6.1.0" in text
    assert "| thing | 1 | 0.50x wrk | >= 1 | a \\| note |" in text  # pipes escaped
    assert text.rstrip().endswith("<!-- /bench:loadgen -->")


def test_rendering_keeps_other_sections_and_replaces_its_own() -> None:
    first = render([section("loadgen", "1"), section("wallet", "2")], HOST)
    assert first.startswith(HEADER)
    assert "read the ratios" in first.lower()
    again = render([section("wallet", "3")], HOST, previous=first)
    assert "| thing | 1 |" in again  # loadgen kept
    assert "| thing | 3 |" in again and "| thing | 2 |" not in again  # wallet replaced
    assert again.index("bench:loadgen") < again.index("bench:wallet")  # order kept
    added = render([section("chaos", "4")], HOST, previous=again)
    assert added.index("bench:wallet") < added.index("bench:chaos")


def test_paired_ratio_pairs_runs_of_one_repetition() -> None:
    # the machine got twice as busy in run 1: within each run the tool is half the reference
    tool, reference = {0: 50.0, 1: 25.0, 2: 50.0}, {0: 100.0, 1: 50.0, 2: 100.0}
    assert paired_ratio(tool, reference) == 0.5
    assert paired_ratio({0: 5.0, 3: 7.0}, {0: 10.0}) == 0.5  # a run without reference is left out
    assert paired_ratio({0: 5.0}, {}) is None
