"""The plan's inputs from a step run of any platform (``spikekit plan --from-run DIR``).

The platform bench measures the bundled platform's costs; a platform of the user's own is
measured by a run of its own: a step run (stages that hold a player count for 10 s or
more each) whose telemetry gives every service's CPU, scraped or through PromQL
(``process_cpu_seconds_total``, docs/telemetry.md). :func:`costs_from_run` turns its
knee (:mod:`spikekit.analysis.step_costs`) into :class:`~spikekit.plan.model.MeasuredCosts`,
or raises :class:`~spikekit.errors.ConfigError` saying what the run lacks.

What a run cannot give is said by the plan itself: PostgreSQL commits and Redis commands
per request (the platform's own telemetry has no standard name for them) and the scaling
law (it needs runs at 1, 2 and 3 replicas).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from spikekit.analysis.rundir import load_run
from spikekit.analysis.step_costs import MIN_STEP_S, StepCosts, step_costs
from spikekit.errors import ConfigError
from spikekit.plan.model import MeasuredCosts, merge_costs
from spikekit.rundir.layout import SCENARIO
from spikekit.scenarios.personas import ThinkTime

#: What a run needs to be planned from, in one sentence (docs/sizing.md).
NEEDS = (
    f"a step run (stages that hold a player count for at least {MIN_STEP_S} s each) whose "
    "telemetry gives each service's CPU: the bundled platform's processes, or "
    "`process_cpu_seconds_total` scraped (`telemetry: scrape:`) or queried through PromQL "
    "(`telemetry: prometheus:`), docs/sizing.md"
)


def costs_from_run(run_dir: Path) -> MeasuredCosts:
    """The costs per request of the run's knee; :class:`ConfigError` when the run has
    no step, no step held, or no service's CPU."""
    run = load_run(run_dir)
    think = _think_of(run_dir)
    found = step_costs(run)
    knee = found.knee
    if not found.steps:
        raise ConfigError(f"{run_dir}: no step of {MIN_STEP_S} s or more: a plan needs {NEEDS}")
    if knee is None:
        raise ConfigError(
            f"{run_dir}: no step held (the run's SLOs met in 90 % of its seconds, errors "
            f"at most 2 %): {_steps(found)}; run lower steps to find the knee"
        )
    costs = found.costs()
    if not costs:
        raise ConfigError(f"{run_dir}: the run recorded no service's CPU: a plan needs {NEEDS}")
    think_mean = (think.min + think.max) / 2
    rps_per_player = knee.rps / max(knee.players, 1.0)
    answer_s = 0.0 if think.pacing else max(1.0 / rps_per_player - think_mean, 0.0)
    cpus = run.meta.machine.cpus or 1
    date = datetime.fromtimestamp(run.meta.started_at, UTC).strftime("%Y-%m-%d")
    source = (
        f"step run {run_dir.name} ({date}, {cpus} cores, target {run.meta.target or '?'}): "
        f"knee {'at least ' if found.censored else ''}{knee.target:,} players, "
        f"{knee.rps:,.0f} req/s; {len(costs)} part(s) with CPU telemetry"
    )
    return MeasuredCosts(
        source=source,
        cores=cpus,
        knee_players=knee.target,
        knee_rps=knee.rps,
        rps_per_player=rps_per_player,
        costs=merge_costs(costs),
        answer_s=answer_s,
    )


def _think_of(run_dir: Path) -> ThinkTime:
    """The run's think time: only that part of its scenario is read (the rest, a
    locustfile's path for one, may not resolve where the run directory was moved to)."""
    path = run_dir / SCENARIO
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        think = document.get("think_time") if isinstance(document, dict) else None
        return ThinkTime.model_validate(think or {})
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (a run directory keeps its scenario)") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError) as error:
        raise ConfigError(f"{path}: its think_time cannot be read: {error}") from None


def _steps(found: StepCosts) -> str:
    return "; ".join(f"{step.target:,} players: {step.why_not or 'held'}" for step in found.steps)
