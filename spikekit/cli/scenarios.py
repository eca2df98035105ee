"""``spikekit scenarios``: list, show, validate and create scenario files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spikekit.cli import console
from spikekit.cli.exit_codes import exit_code_for
from spikekit.errors import ConfigError, ScenarioError
from spikekit.scenarios.durations import format_duration
from spikekit.scenarios.loader import builtin_names, load_scenario, parse_scenario, read_source
from spikekit.scenarios.model import Scenario
from spikekit.scenarios.shape import shape_for, workers_for
from spikekit.scenarios.template import render_template
from spikekit.scenarios.timeline import timeline

app = typer.Typer(help="List, show, validate and create scenarios.", no_args_is_help=True)

NameOrPath = Annotated[str, typer.Argument(help="A built-in scenario name or a YAML file.")]


@app.command("list")
def list_(json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False) -> None:
    """List the built-in scenarios."""
    rows = []
    entries = []
    for name in builtin_names():
        scenario = load_scenario(name)
        families = ", ".join(dict.fromkeys(fault.family.value for fault in scenario.faults))
        faults = f"{len(scenario.faults)}: {families}" if scenario.faults else "-"
        entries.append(
            {
                "name": name,
                "description": " ".join(scenario.description.split()),
                "peak_players": scenario.peak_players,
                "open": scenario.is_open,
                "duration_s": scenario.planned_duration_s,
                "faults": [fault.type for fault in scenario.faults],
            }
        )
        rows.append(
            [
                name,
                _first_sentence(scenario.description),
                _peak(scenario),
                format_duration(scenario.planned_duration_s),
                faults,
            ]
        )
    if json:
        console.print_json(entries)
        return
    columns = ["name", "description", "peak players", "duration", "faults"]
    console.table("Built-in scenarios", columns, rows, no_wrap=["name", "duration"])


@app.command()
def show(name_or_path: NameOrPath) -> None:
    """Print a scenario's YAML and its timeline.

    Into a pipe or a file the output is the YAML verbatim with the summary and the
    timeline as comments after it: ``scenarios show NAME > mine.yaml`` validates.
    """
    source = read_source(name_or_path)
    scenario = parse_scenario(source.text, source.label)
    shape = shape_for(scenario)
    summary = (
        f"{scenario.name}: {format_duration(scenario.planned_duration_s)}, peak "
        f"{_peak(scenario)} players, scale {scenario.scale:g}, duration scale "
        f"{scenario.duration_scale:g}, steepest ramp {shape.max_spawn_rate():,.0f} users/s "
        f"({workers_for(scenario)} Locust worker(s) at ~2,900 users/s each)"
    )
    rows = [[entry.when, entry.kind, entry.text] for entry in timeline(scenario)]
    if not console.is_terminal():
        text = source.text if source.text.endswith("\n") else source.text + "\n"
        notes = [summary, "Timeline:", *("  ".join(row) for row in rows)]
        comments = "".join(f"# {' '.join(note.splitlines())}\n" for note in notes)
        console.raw(f"# {source.label}\n{text}{comments}")
        return
    console.info(f"# {source.label}")
    console.code(source.text, "yaml")
    console.info("")
    console.info(summary)
    console.table("Timeline", ["when", "what", "detail"], rows, no_wrap=["when"])


@app.command()
def validate(
    names_or_paths: Annotated[
        list[str], typer.Argument(help="Built-in scenario names or YAML files.")
    ],
) -> None:
    """Check scenario files; exit code 2 when one is invalid."""
    failures: list[ScenarioError] = []
    for name_or_path in names_or_paths:
        try:
            scenario = load_scenario(name_or_path)
        except ScenarioError as error:
            failures.append(error)
            console.error(str(error))
            continue
        console.info(f"OK  {name_or_path} ({scenario.name})")
    if failures:
        raise typer.Exit(int(exit_code_for(failures[0])))


@app.command()
def new(
    path: Annotated[Path, typer.Argument(help="Where to write the template (.yaml).")],
) -> None:
    """Write a commented scenario template that validates as is."""
    if path.exists():
        raise ConfigError(f"{path} exists; refusing to overwrite it")
    if path.suffix not in (".yaml", ".yml"):
        raise ConfigError(f"{path}: a scenario file name ends with .yaml")
    text = render_template(str(path), path.stem)
    parse_scenario(text, str(path))  # the template must always validate
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        raise ConfigError(f"{path}: cannot write it ({error.strerror or error})") from None
    console.info(f"wrote {path}; edit it, then: spikekit scenarios validate {path}")


def _peak(scenario: Scenario) -> str:
    peak = f"{scenario.peak_players:,}"
    return f"~{peak} (open)" if scenario.is_open else peak


def _first_sentence(text: str) -> str:
    return text.strip().split(". ")[0].rstrip(".")
