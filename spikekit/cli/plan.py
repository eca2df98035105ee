"""``spikekit plan SCENARIO``: what the scenario's peak needs, part by part (docs/sizing.md)."""

from __future__ import annotations

import dataclasses
import math
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from spikekit.cli import console
from spikekit.cli.params import Number, PathOf, Url
from spikekit.errors import ConfigError
from spikekit.plan.measured import bundled_costs, costs_from, peak_of, read_scaling
from spikekit.plan.model import MeasuredCosts, Plan, make_plan
from spikekit.plan.sizing import Range
from spikekit.reference_platform.capacity import read_capacity
from spikekit.run.options import RunOptions
from spikekit.scenarios import Scenario
from spikekit.scenarios.target import PlatformTarget

SCALE = Number(float, min=0, min_open=True, max=100)  # as `spikekit run --scale`
NEEDS = (
    "per-request CPU of every part of the platform, measured on a step run: for the "
    "bundled platform `python -m bench --only platform` (it writes "
    "spikekit/reference_platform/capacity.json); for a platform of your own --from-run "
    "RUN_DIR, a step run whose telemetry gives per-service CPU, or --costs FILE (the "
    "capacity.json format) with your own figures (docs/sizing.md)"
)


def plan(
    scenario: Annotated[str, typer.Argument(help="A built-in scenario name or a YAML file.")],
    scale: Annotated[
        float | None,
        typer.Option(parser=SCALE, help="Multiply player counts (0.01 = 1 % of the spike)."),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(parser=Url(), help="Base URL of your own platform (needs --costs)."),
    ] = None,
    costs: Annotated[
        Path | None,
        typer.Option(
            parser=PathOf("file"), help="Measured costs (capacity.json format) to plan from."
        ),
    ] = None,
    from_run: Annotated[
        Path | None,
        typer.Option(
            "--from-run",
            parser=PathOf("folder"),
            help="A step run's directory to take the costs from (its knee, per-service CPU).",
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Say what the scenario's peak needs: cores and replicas per service, PostgreSQL and
    Redis load, connections and Locust workers, from costs measured on this machine.

    Exit codes: 0 a plan was printed; 2 the scenario or an option is wrong, or no measured
    costs exist for the target (the message says what is needed).
    """
    resolved = RunOptions(scenario=scenario, scale=scale).resolve()
    if costs is not None and from_run is not None:
        raise ConfigError("--costs and --from-run: give one of them, not both")
    if from_run is not None:
        # the analysis (pandas) only here: the container image's runtime has none of it
        from spikekit.plan.from_run import costs_from_run

        measured = costs_from_run(from_run)
    else:
        measured = _measured(resolved, target, costs)
    result = make_plan(resolved.name, peak_of(resolved, measured), measured)
    if json_output:
        console.print_json(_jsonable(dataclasses.asdict(result)))
        return
    _print(result)


def _measured(scenario: Scenario, target: str | None, costs: Path | None) -> MeasuredCosts:
    if costs is not None:
        capacity = read_capacity(costs)
        if capacity is None:
            raise ConfigError(f"--costs {costs}: no such file")
        # the bundled platform's scaling law says nothing of a platform of the user's own
        found = costs_from(capacity, read_scaling() if target is None else None)
    elif target is not None or not isinstance(scenario.target, PlatformTarget):
        where = target or getattr(scenario.target, "url", "the scenario's target")
        raise ConfigError(f"no measured costs for {where}: a plan needs {NEEDS}")
    else:
        found = bundled_costs()
    if found is None:
        raise ConfigError(f"no measured costs for the bundled platform: a plan needs {NEEDS}")
    return found


def _span(r: Range, digits: int = 1) -> str:
    if math.isclose(r.low, r.high):
        return f"{r.point:,.{digits}f}"
    return f"{r.point:,.{digits}f} ({r.low:,.{digits}f}–{r.high:,.{digits}f})"


def _count(r: Range) -> str:
    if r.low == r.high:
        return f"{r.point:,.0f}"
    return f"{r.point:,.0f} ({r.low:,.0f}–{r.high:,.0f})"


def _print(result: Plan) -> None:
    peak, measured = result.peak, result.measured
    console.info(
        f"plan for {result.scenario}: peak {peak.players:,} players, ~{peak.rps:,.0f} req/s"
    )
    rows = [
        [p.part, p.kind.value, _span(p.cores), _count(p.replicas), p.note] for p in result.parts
    ]
    console.table(
        "what the peak needs (cores at the peak; replicas at 70 % of a core each)",
        ["part", "kind", "cores", "replicas", "note"],
        rows,
        no_wrap=["part", "cores", "replicas"],
    )
    console.info(
        f"cores in all: {_span(result.production_cores, 0)} for the platform, "
        f"{_span(result.test_cores, 0)} with the test's own parts (Toxiproxy, Locust, the run)"
    )
    db = result.database
    if db.commits_per_s is not None:
        ceiling = (
            f" against {db.ceiling_per_core:,.0f} a core (pgbench TPC-B here): "
            f"{_span(db.cores_for_commits)} cores of commits"
            if db.cores_for_commits is not None and db.ceiling_per_core is not None
            else ""
        )
        console.info(f"PostgreSQL: {_span(db.commits_per_s, 0)} commits/s{ceiling}")
    if result.redis_commands_per_s is not None:
        console.info(f"Redis: {_span(result.redis_commands_per_s, 0)} commands/s")
    if result.usl_limit is not None:
        need = (
            f"{result.usl_replicas} replicas reach the peak by the law"
            if result.usl_replicas is not None
            else "no replica count reaches the peak by the law: the shared part must grow"
        )
        console.info(f"scaling ({measured.usl_part}, measured on this machine): {need}")
        console.info(f"  {result.usl_limit}")
    console.info(f"measured: {measured.source}")
    for note in result.extrapolated:
        console.warn(f"extrapolated: {note}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
