"""Broken scenario files give ONE ScenarioError naming file, field path and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from spikekit.errors import ScenarioError
from spikekit.scenarios import load_scenario

GOOD = """\
name: broken
load:
  model: closed
  stages:
    - {duration: 2m, players: 100}
    - {duration: 8m, players: 100}
faults:
  - type: provider.latency
    at: 1m
    latency_ms: 200
  - type: cache.flush
    at: 5m
  - type: network.latency
    at: 6m
    duration: 1m
    link: wallet-postgres
    latency_ms: 100
"""


def _load(tmp_path: Path, text: str) -> ScenarioError:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    error = caught.value
    assert error.file == str(path)
    assert str(path) in str(error)
    return error


def _problem(error: ScenarioError, path: str) -> str:
    matches = [expected for field, expected in error.problems if field == path]
    assert matches, f"no problem at {path!r} in {error.problems}"
    return matches[0]


def test_the_good_file_is_good(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    assert load_scenario(path).name == "broken"


def test_wrong_type(tmp_path: Path) -> None:
    error = _load(
        tmp_path,
        GOOD.replace("players: 100}\n    - {duration: 8m", "players: many}\n    - {duration: 8m"),
    )
    expected = _problem(error, "load.stages[0].players")
    assert "valid integer" in expected
    assert "'many'" in expected
    assert "(line 5)" in expected
    assert "load.stages[0].players: expected a valid integer" in str(error)


def test_unknown_top_level_field(tmp_path: Path) -> None:
    error = _load(tmp_path, GOOD + "colour: red\n")
    expected = _problem(error, "colour")
    assert "no such field" in expected
    assert "faults" in expected and "stop_conditions" in expected  # the allowed fields


def test_unknown_field_inside_a_fault_names_that_fault_s_fields(tmp_path: Path) -> None:
    error = _load(
        tmp_path, GOOD.replace("    latency_ms: 200\n", "    latency_ms: 200\n    latncy: 3\n")
    )
    expected = _problem(error, "faults[0].latncy")
    assert "latency_ms" in expected and "provider" in expected
    assert "(line 11)" in expected


def test_bad_duration(tmp_path: Path) -> None:
    error = _load(tmp_path, GOOD.replace("duration: 1m\n", "duration: 10x\n"))
    assert error.problems == [
        ("faults[2].duration", _problem(error, "faults[2].duration")),
    ]
    expected = _problem(error, "faults[2].duration")
    assert "a duration like 30s, 2m, 1m30s, 1h" in expected
    assert "'10x'" in expected
    assert "(line 15)" in expected


def test_fault_offset_past_the_end(tmp_path: Path) -> None:
    error = _load(tmp_path, GOOD.replace("at: 5m", "at: 12m"))
    expected = _problem(error, "faults[1].at")
    assert "before the scenario ends at 10m" in expected
    assert "got 12m" in expected
    assert "(line 12)" in expected


def test_fault_lasting_past_the_end(tmp_path: Path) -> None:
    error = _load(tmp_path, GOOD.replace("duration: 1m\n", "duration: 5m\n"))
    expected = _problem(error, "faults[2].duration")
    assert "at most 4m" in expected and "got 5m" in expected


def test_unknown_fault_type(tmp_path: Path) -> None:
    error = _load(tmp_path, GOOD.replace("type: cache.flush", "type: cache.explode"))
    expected = _problem(error, "faults[1]")
    assert "cache.flush" in expected and "'cache.explode'" in expected


def test_missing_required_field(tmp_path: Path) -> None:
    error = _load(tmp_path, "name: x\n")
    assert "required" in _problem(error, "load")


def test_several_problems_in_one_error(tmp_path: Path) -> None:
    text = GOOD.replace("players: 100}", "players: -1}", 1).replace("at: 1m", "at: soon")
    error = _load(tmp_path, text)
    fields = [field for field, _ in error.problems]
    assert fields == ["load.stages[0].players", "faults[0].at"]
    assert "greater than or equal to 0" in error.problems[0][1]


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    error = _load(tmp_path, GOOD.replace("  model: closed\n", "  model: closed\n   oops: [\n"))
    assert len(error.problems) == 1
    where, expected = error.problems[0]
    assert where.startswith("line ")
    assert "column" in where
    assert expected.startswith("valid YAML")


def test_yaml_syntax_error_line_number_is_right(tmp_path: Path) -> None:
    error = _load(tmp_path, "name: x\nload: {model: closed\ndescription: y\n")
    where, _ = error.problems[0]
    assert where.split(",")[0] in {"line 3", "line 4"}


def test_duplicate_key(tmp_path: Path) -> None:
    error = _load(tmp_path, GOOD + "name: again\n")
    assert "repeated on line 18" in _problem(error, "name")


@pytest.mark.parametrize(("text", "got"), [("", "an empty file"), ("- a\n- b\n", "list")])
def test_not_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    error = _load(tmp_path, text)
    assert error.problems == [("", f"a mapping of scenario fields, got {got}")]


def test_bad_slo_endpoint_and_repeated_name(tmp_path: Path) -> None:
    slos = (
        "slos:\n"
        "  - {name: a, metric: latency_p95, threshold: 100, endpoint: /api/login}\n"
        "  - {name: a, metric: error_rate, threshold: 0.01}\n"
    )
    error = _load(tmp_path, GOOD + slos)
    assert "'METHOD /path'" in _problem(error, "slos[0].endpoint")
    assert "unique name" in _problem(error, "slos[1].name")


def test_persona_weights_must_not_all_be_zero(tmp_path: Path) -> None:
    zero = ", ".join(f"{name}: 0" for name in ("slot_player", "high_roller", "depositor"))
    personas = f"personas: {{{zero}, lobby_browser: 0, new_registrant: 0}}\n"
    error = _load(tmp_path, GOOD + personas)
    assert "at least one persona weight above 0" in _problem(error, "personas")


def test_pacing_is_a_boolean_and_needs_an_interval(tmp_path: Path) -> None:
    error = _load(tmp_path, GOOD + "think_time: {min: 1s, max: 2s, pacing: sometimes}\n")
    expected = _problem(error, "think_time.pacing")
    assert "valid boolean" in expected and "'sometimes'" in expected and "(line 18)" in expected
    error = _load(tmp_path, GOOD + "think_time: {min: 0s, max: 0s, pacing: true}\n")
    expected = _problem(error, "think_time.max")
    assert "above 0 with pacing: true" in expected and "got 0s" in expected


def test_stage_duration_must_be_positive(tmp_path: Path) -> None:
    error = _load(tmp_path, GOOD.replace("duration: 2m", "duration: 0s"))
    assert "greater than 0" in _problem(error, "load.stages[0].duration")


def test_bad_union_member_field_path_has_no_tag(tmp_path: Path) -> None:
    error = _load(tmp_path, GOOD + "target: {url: ftp://example.com}\n")
    assert "http:// or https://" in _problem(error, "target.url")


def test_unknown_built_in_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="built-in scenario"):
        load_scenario("no-such-scenario")
    with pytest.raises(ScenarioError, match="readable"):
        load_scenario(tmp_path / "absent.yaml")
