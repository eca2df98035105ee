"""Every option of every command refuses a bad value: exit 2, one line naming the option.

The commands and options are enumerated from the app itself, so that a new option with
no validation fails here: each option must be a flag, a choice, or carry a parser from
:mod:`spikekit.cli.params` whose rule this test knows how to break (or be listed in
``CHECKED_IN_THE_COMMAND`` with a bad value the command refuses before starting).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.core import TyperOption
from typer.testing import CliRunner

from spikekit.cli import params
from spikekit.cli.main import app

runner = CliRunner()
ROOT = typer.main.get_command(app)

# The arguments that make each command otherwise valid. {tmp} is an empty folder.
BASE: dict[str, list[str]] = {
    "run": ["run", "smoke", "--dry-run"],
    "demo": ["demo"],
    "report": ["report", "{tmp}"],
    "compare": ["compare", "{tmp}", "{tmp}"],
    "scenarios list": ["scenarios", "list"],
    "scenarios show": ["scenarios", "show", "smoke"],
    "scenarios validate": ["scenarios", "validate", "smoke"],
    "scenarios new": ["scenarios", "new", "{tmp}/new.yaml"],
    "chaos list": ["chaos", "list"],
    "chaos inject": [
        "chaos",
        "inject",
        "network.latency",
        "--target",
        "gateway-postgres",
        "--param",
        "latency_ms=5",
        "--state-dir",
        "{tmp}",
    ],
    "chaos revert": ["chaos", "revert", "--all", "--state-dir", "{tmp}"],
    "chaos plan": ["chaos", "plan", "smoke"],
    "plan": ["plan", "smoke"],
    "platform up": ["platform", "up", "--state-dir", "{tmp}"],
    "platform status": ["platform", "status", "--state-dir", "{tmp}"],
    "platform down": ["platform", "down", "--state-dir", "{tmp}"],
    "platform audit": ["platform", "audit", "--state-dir", "{tmp}"],
    "worker": ["worker"],
    "doctor": ["doctor"],
}
# A second bad value put after the one under test: click processes options in command
# line order, so if the tested rule were broken this one still stops the command before
# it starts anything (a platform, a run, or an exec into a Locust worker).
SAFETY_NET: dict[str, list[list[str]]] = {
    "demo": [["--profile", "nope"], ["--out", "{file}/x"]],
    "platform up": [["--players", "-1"], ["--replicas", "x=0"]],
    "worker": [["--master", "bad host!"], ["--connections", "0"]],
}
# Options whose value only the command can judge: a bad value it refuses (exit 2).
CHECKED_IN_THE_COMMAND: dict[tuple[str, str], list[str]] = {
    ("chaos inject", "--target"): ["two words", ""],  # a link name has no space
}


def commands(group: typer.core.TyperGroup, prefix: str = "") -> Iterator[tuple[str, object]]:
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        if isinstance(command, typer.core.TyperGroup):
            yield from commands(command, f"{path} ")
        else:
            yield path, command


def bad_values(option: TyperOption, command: str) -> list[str] | None:
    """Values the option's rule refuses, or None when the test knows no rule for it."""
    descriptor = option.type_descriptor
    rule = descriptor.parameter_info.parser
    if isinstance(rule, params.Number):
        values = ["abc", "nan", "inf"]
        if rule.min is not None:
            values.append(f"{rule.min:g}" if rule.min_open else f"{rule.min - 1:g}")
        if rule.max is not None:
            values.append(f"{rule.max + 1:g}")
        if rule.kind is int:
            values.append("1.5")
        return values
    if isinstance(rule, params.PathOf):
        return ["{file}/sub", "{file}" if rule.want == "folder" else "{tmp}"]
    if isinstance(rule, params.Url):
        return ["ftp://host", "http://", "not a url", "http://host:99999"]
    if isinstance(rule, params.Host):
        return ["bad host!", "http://host/"]
    if isinstance(rule, params.Dsn):
        return ["mysql://db", "postgresql://db with spaces"]
    if isinstance(rule, params.Duration):
        return ["soon", "0s", "-5s"]
    if isinstance(rule, params.KeyValue):
        return ["novalue", "=5", *(["gateway=0", "gateway=two"] if rule.count else [])]
    if isinstance(rule, params.Replicas):
        over = f"gateway={rule.max + 1}"
        return ["novalue", "=5", "gateway=0", "gateway=two", over, "nosuch=2", "gateway=2,"]
    if isinstance(rule, params.Workers):
        return ["0", "many", "-1"]
    if rule is None and descriptor.is_choice:
        return ["nope"]
    return CHECKED_IN_THE_COMMAND.get((command, option.opts[0]))


def cases() -> Iterator[tuple[str, str, str]]:
    for command, cmd in commands(ROOT):
        for option in cmd.params:  # type: ignore[attr-defined]
            if not isinstance(option, TyperOption) or option.type_descriptor.annotation is bool:
                continue  # arguments are covered per command; a flag has no bad value
            for value in bad_values(option, command) or ["<no rule>"]:
                yield command, option.opts[0], value


CASES = list(cases())


def test_the_enumeration_sees_every_command_and_its_options() -> None:
    names = {command for command, _ in commands(ROOT)}
    assert names == set(BASE)  # a new command needs its base arguments here
    options = {(command, option) for command, option, _ in CASES}
    assert ("run", "--scale") in options and ("worker", "--master-port") in options
    assert len(options) >= 30


def test_every_option_has_a_rule_this_test_knows() -> None:
    uncovered = sorted({(c, o) for c, o, value in CASES if value == "<no rule>"})
    assert uncovered == [], (
        "options with no validation rule (give them a parser from spikekit.cli.params, "
        f"or list them in CHECKED_IN_THE_COMMAND): {uncovered}"
    )


@pytest.mark.parametrize(("command", "option", "value"), [c for c in CASES if c[2] != "<no rule>"])
def test_a_bad_value_exits_2_naming_the_option(
    command: str, option: str, value: str, tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder\n")
    (tmp_path / "empty").mkdir()

    def fill(text: str) -> str:
        return text.format(tmp=tmp_path / "empty", file=a_file)

    args = [*(fill(a) for a in BASE[command]), option, fill(value)]  # the last value wins
    for net in SAFETY_NET.get(command, []):
        if net[0] != option:
            args += [fill(a) for a in net]
            break
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (args, result.output)
    assert "Traceback" not in result.output
    assert option in result.output, (args, result.output)
    errors = [line for line in result.output.splitlines() if "rror" in line]
    assert len(errors) == 1, result.output  # one line says what is wrong


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["run", "smoke", "--scale", "-1"],
            "Invalid value for '--scale': '-1': expected a number > 0",
        ),
        (
            ["run", "smoke", "--duration-scale", "0"],
            "'--duration-scale': '0': expected a number > 0",
        ),
        (["run", "smoke", "--out", "/proc/spikekit-x", "--dry-run"], "--out /proc/spikekit-x:"),
        (
            ["run", "smoke", "--scale", "100", "--dry-run"],
            "--scale 100: population.accounts: at least as many",
        ),
        (["run", "smoke", "--workers", "0", "--dry-run"], "'--workers': '0': expected a number"),
    ],
)
def test_the_reported_cases(args: list[str], expected: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output and "ValidationError" not in result.output


def test_out_under_a_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    a_file = tmp_path / "runs"
    a_file.write_text("")
    result = runner.invoke(app, ["run", "smoke", "--out", str(a_file / "x")])
    assert result.exit_code == 2 and "'--out'" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def test_a_dry_run_checks_out_but_leaves_no_folder_behind(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    result = runner.invoke(app, ["run", "smoke", "--dry-run", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert list(tmp_path.iterdir()) == []


def test_a_param_value_is_bounded_yaml(tmp_path: Path) -> None:
    bomb = "[" + ",".join(["&a [1,1,1,1,1,1,1,1,1,1]"] + ["*a"] * 9) + "]"
    laughs = "&b [" + ",".join(["&a [1,1,1,1,1,1,1,1,1,1]"] + ["*a"] * 9) + "]"
    deep = "[" * 500 + "]" * 500
    for value in (bomb, laughs, deep, "2001-13-45"):
        args = ["chaos", "inject", "network.latency", "--target", "gateway-postgres"]
        args += ["--param", f"latency_ms={value}", "--state-dir", str(tmp_path)]
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "--param latency_ms" in result.output and "Traceback" not in result.output
