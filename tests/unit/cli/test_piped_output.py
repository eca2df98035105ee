"""Output into a pipe or a file is exact: YAML reads back, tables keep rows whole, JSON parses.

CliRunner's stdout is not a terminal, like ``spikekit ... > file``.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from spikekit.cli.main import app
from spikekit.scenarios import builtin_names, load_scenario
from spikekit.scenarios.loader import parse_scenario

runner = CliRunner()


@pytest.mark.parametrize("name", builtin_names())
def test_show_into_a_file_is_the_scenario_itself(name: str) -> None:
    result = runner.invoke(app, ["scenarios", "show", name])  # COLUMNS stays at 80
    assert result.exit_code == 0, result.output
    assert parse_scenario(result.stdout, "mine.yaml") == load_scenario(name)
    assert "Timeline" in result.stdout  # the summary is there, as comments


def test_show_keeps_long_lines_whole() -> None:
    result = runner.invoke(app, ["scenarios", "show", "provider-meltdown"])
    longest = max(result.stdout.splitlines(), key=len)
    assert len(longest) > 80  # there is a line Rich would have wrapped


@pytest.mark.parametrize(
    ("args", "columns"),
    [
        (["scenarios", "list"], 5),
        (["chaos", "list"], 4),
        (["chaos", "plan", "provider-meltdown"], 3),
    ],
)
def test_a_table_into_a_pipe_keeps_every_row_on_one_line(args: list[str], columns: int) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "\t" in line]
    assert len(rows) >= 3
    assert all(len(row.split("\t")) == columns for row in rows), rows
    assert not any("│" in line or "┃" in line for line in result.stdout.splitlines())


def test_a_row_longer_than_the_terminal_is_not_cut() -> None:
    result = runner.invoke(app, ["chaos", "list"])
    longest = max(result.stdout.splitlines(), key=len)
    assert len(longest) > 120 and "\t" in longest


@pytest.mark.parametrize(
    "args",
    [
        ["scenarios", "list", "--json"],
        ["chaos", "list", "--json"],
        ["chaos", "plan", "smoke", "--json"],
        ["doctor", "--json"],
    ],
)
def test_json_outputs_parse(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 1), result.output  # doctor: 1 when a required check misses
    assert json.loads(result.stdout)


def test_scenarios_list_json_names_every_built_in() -> None:
    entries = json.loads(runner.invoke(app, ["scenarios", "list", "--json"]).stdout)
    assert [e["name"] for e in entries] == builtin_names()
    assert all(e["peak_players"] > 0 and e["duration_s"] > 0 for e in entries)


def test_an_error_is_one_line_whatever_its_length(tmp_path: object) -> None:
    result = runner.invoke(app, ["scenarios", "validate", "x" * 200 + ".yaml"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and lines[0].endswith("invalid scenario")
    assert len(lines) == 2 and "x" * 200 in lines[0]
