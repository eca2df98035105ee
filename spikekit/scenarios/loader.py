"""Load scenarios from YAML files or built-in names; write them back.

Everything wrong with a file — YAML syntax, unknown fields, wrong types, inconsistent
values — becomes ONE :class:`~spikekit.errors.ScenarioError` naming the file, each field
path and what was expected, with the line it is on.

Every file is untrusted (:mod:`spikekit.scenarios.untrusted`): it is read up to 1 MiB and
its YAML is bounded in nodes (aliases expanded) and depth before any object is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml
from pydantic import ValidationError

from spikekit.errors import InputLimitError, ScenarioError
from spikekit.scenarios.journeys import with_locustfile
from spikekit.scenarios.model import FieldPath, Scenario, dotted
from spikekit.scenarios.problems import problems_from
from spikekit.scenarios.untrusted import check_yaml, read_bounded

SUFFIXES = (".yaml", ".yml")


def builtin_dir() -> Traversable:
    """The folder of the built-in scenarios inside the package."""
    return files("spikekit.scenarios") / "builtin"


def builtin_names() -> list[str]:
    """Names of the built-in scenarios, sorted."""
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in builtin_dir().iterdir()
        if entry.name.endswith(".yaml")
    )


@dataclass(frozen=True)
class ScenarioSource:
    """The text of a scenario and where it came from (``label`` names it in messages)."""

    label: str
    text: str


def read_source(name_or_path: str | Path) -> ScenarioSource:
    """The text of a built-in (by name) or of a file (by path)."""
    text_name = str(name_or_path)
    path = Path(name_or_path)
    if isinstance(name_or_path, Path) or path.suffix in SUFFIXES or path.exists():
        try:
            return ScenarioSource(str(path), read_bounded(path))
        except InputLimitError as error:
            raise ScenarioError(error.source, [(error.where, error.limit)]) from None
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise ScenarioError(str(path), [("", f"a readable UTF-8 file ({reason})")]) from None
    entry = builtin_dir() / f"{text_name}.yaml"
    if not entry.is_file():
        known = ", ".join(builtin_names())
        raise ScenarioError(
            text_name, [("", f"a built-in scenario ({known}) or a path to a .yaml file")]
        )
    return ScenarioSource(str(entry), entry.read_text(encoding="utf-8"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A validated scenario from a built-in name or a YAML file."""
    source = read_source(name_or_path)
    scenario = parse_scenario(source.text, source.label)
    locustfile = scenario.players.locustfile
    if locustfile is not None:  # relative to the scenario's folder; never imported here
        try:
            players = with_locustfile(scenario.players, Path(locustfile), Path(source.label).parent)
        except ValueError as error:
            raise ScenarioError(source.label, [("players.locustfile", str(error))]) from None
        scenario = scenario.model_copy(update={"players": players})
    return scenario


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    """A validated scenario from YAML text; ``source`` names it in errors."""
    try:
        check_yaml(text, source)  # before safe_load builds anything
        data = yaml.safe_load(text)
    except InputLimitError as error:
        raise ScenarioError(source, [(error.where, error.limit)]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        raise ScenarioError(source, [(where, f"valid YAML: {error.problem}")]) from None
    except (yaml.YAMLError, ValueError) as error:  # ValueError: a date 2001-13-45, 5,000 digits
        raise ScenarioError(source, [("", f"valid YAML: {error}")]) from None
    if not isinstance(data, dict):
        got = "an empty file" if data is None else type(data).__name__
        raise ScenarioError(source, [("", f"a mapping of scenario fields, got {got}")])
    lines, duplicates = _line_map(text)
    problems = [
        (dotted(path), f"each key once; it is repeated on line {n}") for path, n in duplicates
    ]
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        problems += [
            (dotted(path), f"{expected} (line {_line_of(path, lines)})")
            for path, expected in problems_from(error, Scenario)
        ]
    if problems:
        raise ScenarioError(source, problems)
    return scenario


def dump_scenario(scenario: Scenario) -> str:
    """The scenario as YAML, every field explicit; :func:`parse_scenario` reads it back."""
    body = yaml.safe_dump(
        scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100
    )
    return f"# scenario {scenario.name!r}, resolved by spikekit (every field explicit)\n{body}"


def _line_of(path: FieldPath, lines: dict[FieldPath, int]) -> int:
    """The line of ``path``, or of its closest parent present in the file (1 = top)."""
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 1


def _line_map(text: str) -> tuple[dict[FieldPath, int], list[tuple[FieldPath, int]]]:
    """Line (1-based) of every key and list item, and the keys written twice."""
    lines: dict[FieldPath, int] = {}
    duplicates: list[tuple[FieldPath, int]] = []

    def visit(node: yaml.Node, path: FieldPath) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    continue
                child = (*path, str(key.value))
                if child in lines:
                    duplicates.append((child, key.start_mark.line + 1))
                lines[child] = key.start_mark.line + 1
                visit(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*path, index)] = item.start_mark.line + 1
                visit(item, (*path, index))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        visit(root, ())
    return lines, duplicates
