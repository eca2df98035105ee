"""Hostile scenario files are refused fast, naming the bound, before anything is built."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spikekit.cli.main import app
from spikekit.errors import InputLimitError, ScenarioError
from spikekit.scenarios import builtin_names
from spikekit.scenarios.loader import load_scenario, parse_scenario, read_source
from spikekit.scenarios.untrusted import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    check_json_depth,
    check_yaml,
    safe_load_yaml,
)

runner = CliRunner()


def billion_laughs(levels: int = 9) -> str:
    """9 levels of 9 aliases: 9**9 (387 million) strings once expanded, in 600 bytes."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, levels):
        refs = ",".join([f"*a{n - 1}"] * 9)
        lines.append(f"a{n}: &a{n} [{refs}]")
    return "\n".join(lines) + "\n"


def validate(*paths: Path) -> tuple[int, str, float]:
    started = time.perf_counter()
    result = runner.invoke(app, ["scenarios", "validate", *map(str, paths)])
    return result.exit_code, result.output, time.perf_counter() - started


def test_a_billion_laughs_is_refused_in_well_under_a_second(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(billion_laughs())
    assert bomb.stat().st_size < 1000
    code, output, seconds = validate(bomb)
    assert code == 2
    assert seconds < 0.5
    assert f"{bomb}: invalid scenario" in output
    assert "<root>: at most 100,000 YAML nodes after expanding aliases" in output
    assert "Traceback" not in output


def test_the_bound_is_checked_before_objects_are_built() -> None:
    # parse_scenario itself (what every command uses) refuses the bomb, quickly
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as raised:
        parse_scenario(billion_laughs(), "bomb.yaml")
    assert time.perf_counter() - started < 0.5
    assert raised.value.problems == [
        ("", "at most 100,000 YAML nodes after expanding aliases (this file expands past that)")
    ]


def test_a_file_nested_too_deep_is_refused_naming_the_depth(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: deep\nload: " + "[" * 100 + "]" * 100 + "\n")
    code, output, seconds = validate(deep)
    assert code == 2 and seconds < 0.5
    assert f"line 2: at most {MAX_DEPTH} levels of nesting" in output
    assert "Traceback" not in output


def test_aliases_can_nest_past_the_depth_bound_too() -> None:
    # each level is shallow, but the alias puts a 40-deep list inside a 40-deep list
    inner = "[" * 40 + "]" * 40
    text = f"a: &a {inner}\nb: {'[' * 39}*a{']' * 39}\n"
    with pytest.raises(InputLimitError, match="levels of nesting"):
        check_yaml(text, "t.yaml")


def test_an_oversized_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("name: big\ndescription: " + "x" * MAX_FILE_BYTES + "\n")
    code, output, _ = validate(big)
    assert code == 2
    assert "<root>: at most 1 MiB (this file is larger)" in output


def test_an_endless_file_is_read_only_up_to_the_bound() -> None:
    with pytest.raises(ScenarioError, match="at most 1 MiB"):
        read_source(Path("/dev/zero"))


def test_an_alias_inside_the_node_it_names_is_a_cycle(tmp_path: Path) -> None:
    cycle = tmp_path / "cycle.yaml"
    cycle.write_text("name: cycle\nfaults: &f [*f]\n")
    code, output, _ = validate(cycle)
    assert code == 2 and "line 2: aliases outside the node they name" in output


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2001-13-45", "month must be in 1..12"), ("9" * 5000, "Exceeds the limit")],
)
def test_values_yaml_cannot_build_are_scenario_errors(value: str, expected: str) -> None:
    with pytest.raises(ScenarioError, match=expected):
        parse_scenario(f"name: x\nseed: {value}\n", "v.yaml")


def test_ordinary_anchors_and_aliases_still_work() -> None:
    text = read_source("smoke").text.replace("stages:", "stages: &stages", 1)
    text += "x_note: *stages\n"  # an alias is expanded and validated like any node
    with pytest.raises(ScenarioError, match="x_note"):
        parse_scenario(text, "alias.yaml")  # unknown field, but no bound hit


def test_every_built_in_validates(tmp_path: Path) -> None:
    result = runner.invoke(app, ["scenarios", "validate", *builtin_names()])
    assert result.exit_code == 0, result.output
    for name in builtin_names():
        assert f"OK  {name}" in result.output
        check_yaml(read_source(name).text, name)  # far inside the bounds
        assert load_scenario(name).name


def test_safe_load_yaml_is_bounded_and_loads_what_is_fine() -> None:
    assert safe_load_yaml("{latency_ms: 200}", "--param") == {"latency_ms": 200}
    with pytest.raises(InputLimitError, match="100,000 YAML nodes"):
        safe_load_yaml(billion_laughs(), "--param latency_ms")


def test_json_depth_is_bounded_and_strings_do_not_count() -> None:
    check_json_depth(
        '{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', "j"
    )
    check_json_depth("[" * MAX_DEPTH + "]" * MAX_DEPTH, "j")
    with pytest.raises(InputLimitError, match="JSON nested at most"):
        check_json_depth("[" * (MAX_DEPTH + 1), "j")
