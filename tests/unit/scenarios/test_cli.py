"""``spikekit scenarios`` through the root app, as a user runs it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from spikekit.cli.main import app
from spikekit.scenarios import builtin_names, load_scenario

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["scenarios", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_list_shows_every_built_in() -> None:
    code, output = run("list")
    assert code == 0
    for name in builtin_names():
        assert name in output
    assert "120,000" in output
    assert "~45,000 (open)" in output
    assert "28m40s" in output
    assert "4: provider, network" in output


def test_show_prints_yaml_and_timeline() -> None:
    code, output = run("show", "provider-meltdown")
    assert code == 0
    assert "name: provider-meltdown" in output
    assert "# provider-meltdown: the spike" in output  # the file's own comments
    assert "Timeline" in output
    assert "exponential 8,000 → 120,000 players" in output
    assert "provider-down: provider.errors for 3m" in output


def test_show_unknown_scenario_exits_2() -> None:
    code, output = run("show", "nope")
    assert code == 2
    assert "nope: invalid scenario" in output


def test_validate_built_ins_and_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    code, _ = run("new", str(path))
    assert code == 0
    code, output = run("validate", "smoke", "baseline", str(path))
    assert code == 0
    assert "OK  smoke" in output and "OK  baseline" in output and f"OK  {path}" in output


def test_validate_a_broken_file_exits_2_with_field_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\nload:\n  model: closed\n  stages:\n    - {duration: 1m, players: 10}\n"
        "faults:\n  - {type: cache.flush, at: 2m}\n"
    )
    code, output = run("validate", "smoke", str(path))
    assert code == 2
    assert "OK  smoke" in output
    assert f"{path}: invalid scenario" in output
    assert "faults[0].at: an offset before the scenario ends at 1m, got 2m" in output
    assert "Traceback" not in output


def test_new_writes_a_valid_template_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "Black Friday.yaml"
    code, output = run("new", str(path))
    assert code == 0
    assert "wrote" in output
    assert load_scenario(path).name == "black-friday"
    before = path.read_text()
    code, output = run("new", str(path))
    assert code == 2
    assert "refusing to overwrite" in output
    assert path.read_text() == before


def test_new_wants_a_yaml_name(tmp_path: Path) -> None:
    code, output = run("new", str(tmp_path / "scenario.txt"))
    assert code == 2
    assert ".yaml" in output
