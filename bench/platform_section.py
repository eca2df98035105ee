"""The platform bench's section of RESULTS.md: the knee, its ratios, the cost of a request.

:func:`section_for` turns the measurements of :mod:`bench.platform_run` into the table's
rows; the notes under it are :mod:`bench.platform_notes`'. :func:`write_capacity_figure`
keeps this tree's knee in the package (``spikekit/reference_platform/capacity.json``),
where the dry run and the start of a run read it (docs/capacity.md).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import Row, Section, command_line, format_number, format_ratio
from bench.platform_cpu import ceiling_rps, marginal_ms
from bench.platform_notes import Reference, Setup, notes_for
from bench.platform_run import Measurement, StepCost
from bench.platform_steps import Schedule, StepFigures
from spikekit.reference_platform.capacity import CAPACITY_FILE, PlatformCapacity, write_capacity
from spikekit.scenarios import load_scenario

TARGET, GOAL = 5.0, 10.0  # issue 13: 5x the before figure, goal 10x
DISTURBED_CORES = 0.5  # other processes this busy during a step: flagged beside its figures


def _players(measurement: Measurement) -> str:
    held = measurement.knee.held
    if held is None:
        return "none held"
    return ("≥ " if measurement.knee.censored else "") + f"{held.step.players:,}"


def _ratio(value: float, reference: float | None, against: str) -> str:
    if not reference or value != value:
        return ""
    return format_ratio(value / reference, against)


def _ratios(value: float, baseline: float | None, before: float | None, before_label: str) -> str:
    parts = [_ratio(value, baseline, "baseline tree"), _ratio(value, before, before_label)]
    return ", ".join(p for p in parts if p)


def section_for(
    measured: dict[str, Measurement],
    plan: Schedule,
    setup: Setup,
    reference: Reference | None,
    recorded: bool,
) -> Section:
    this = measured["this tree"]
    base = measured.get("baseline tree")
    held = this.knee.held
    cost = this.step_costs.get(held.step.index) if held else None
    base_held = base.knee.held if base else None
    base_cost = base.step_costs.get(base_held.step.index) if base and base_held else None
    before_label = f"before ({reference.date})" if reference else ""
    rows = [
        _knee_row(this, base, reference, before_label, recorded),
        Row(
            "req/s at the knee",
            format_number(held.rps, "req/s") if held else "n/a",
            _ratios(
                held.rps if held else float("nan"),
                base_held.rps if base_held else None,
                reference.rps if reference else None,
                before_label,
            ),
            "",
            (
                f"errors {held.error_rate:.2%}; {held.requests:,} requests in "
                f"{held.seconds} s; {held.actual_players:,.0f} players in session (median)"
            )
            if held
            else "",
        ),
        Row(
            "p95 / p99 at the knee, all requests",
            f"{held.p95_ms:,.0f} / {held.p99_ms:,.0f} ms" if held else "n/a",
            "",
            "",
            (
                f"rounds p95 / p99 {held.judged_p95_ms:,.0f} / {held.judged_p99_ms:,.0f} ms; "
                f"rounds p95 < {setup.criterion.p95_ms:g} ms in {held.judged_within:.0%} of "
                "seconds; "
                "medians of the window's per-second percentiles"
            )
            if held
            else "",
        ),
    ]
    if base is not None:
        rows.append(_baseline_row(base))
    if cost is not None and held is not None:
        rows += _cost_rows(held, cost, this.idle, base_cost, reference, before_label)
        rows.append(Row("endpoint mix in the knee's window", _mix(held), "", "", ""))
    notes = notes_for(measured, plan, setup, reference, recorded)
    return Section(
        key="platform",
        title="6. Platform: the bundled platform's knee on this machine",
        command="",
        rows=rows,
        notes=notes,
    )


def _knee_row(
    this: Measurement,
    base: Measurement | None,
    reference: Reference | None,
    before_label: str,
    recorded: bool,
) -> Row:
    held = this.knee.held
    players = float(held.step.players) if held else 0.0
    base_held = base.knee.held if base else None
    ratio = _ratios(
        players,
        float(base_held.step.players) if base_held else None,
        float(reference.players) if reference and reference.players else None,
        before_label,
    )
    if recorded:
        first = base or this
        recorded_text = f"recorded now as the before figure ({first.tree.label})"
        ratio = (ratio + "; " if base else "") + recorded_text
    above = this.knee.above
    note = f"steps {plan_text_of(this)}; "
    if above is not None:
        note += f"next step {above.step.players:,}: {above.why}" + _disturbed(this, above)
        note += _gave_way(this)
    else:
        note += "the top step was held: the knee is at least there"
    if this.knee.failed_below:
        note += "; not held below the knee: " + ", ".join(
            f"{f.step.players:,} ({f.why})" for f in this.knee.failed_below
        )
    target = f">= {TARGET:g}x before (goal {GOAL:g}x)"
    return Row("knee: players held", _players(this) + " players", ratio, target, note)


def _gave_way(measurement: Measurement) -> str:
    point = measurement.gave_way
    if point is None:
        return ""
    return (
        f"; on the way up it gave way at {point.players:,} players (t = {point.t} s: the "
        "trailing 10 s failed the criterion)"
    )


def _disturbed(measurement: Measurement, figures: StepFigures) -> str:
    cost = measurement.step_costs.get(figures.step.index)
    if cost is None or cost.others < DISTURBED_CORES:
        return ""
    return f" (other processes of the machine kept {cost.others:.2f} cores busy meanwhile)"


def _baseline_row(base: Measurement) -> Row:
    held = base.knee.held
    cost = base.step_costs.get(held.step.index) if held else None
    above = base.knee.above
    value = _players(base) + " players"
    if held is not None:
        value += f", {format_number(held.rps, 'req/s')}"
    if cost is not None:
        value += f", {cost.ms_per_request:.2f} ms CPU per request"
    note = f"{base.tree.description}; "
    if held is not None:
        note += f"p95 / p99 {held.p95_ms:,.0f} / {held.p99_ms:,.0f} ms; "
    note += (
        f"next step {above.step.players:,}: {above.why}" + _disturbed(base, above) + _gave_way(base)
        if above
        else "the top step was held"
    )
    return Row("baseline tree: knee, req/s, CPU per request", value, "1.00x", "", note)


def plan_text_of(measurement: Measurement) -> str:
    return ", ".join(f"{f.step.players:,}" for f in measurement.steps)


def _cost_rows(
    held: StepFigures,
    cost: StepCost,
    idle: StepCost | None,
    base_cost: StepCost | None,
    reference: Reference | None,
    before_label: str,
) -> list[Row]:
    total = cost.ms_per_request
    rows = [
        Row(
            "CPU per request at the knee, every process of the run",
            f"{total:.2f} ms",
            _ratios(
                total,
                base_cost.ms_per_request if base_cost else None,
                reference.cpu_ms if reference else None,
                before_label,
            ),
            "",
            "a ratio under 1 is cheaper; "
            f"the run's processes used {cost.run_cores:.2f} cores, the whole machine "
            f"{cost.machine_cores:.2f} (other processes: {cost.others:.2f})",
        )
    ]
    if idle is not None:
        rows.append(
            Row(
                "CPU per request at the knee above idle",
                f"{marginal_ms(cost.run_cores, idle.run_cores, held.rps):.2f} ms",
                "",
                "",
                f"idle (no players, {idle.window_s:g} s before the first ramp) the run's "
                f"processes used {idle.run_cores:.2f} cores: the telemetry recorder's scrape "
                "of every /metrics each second, health checks, the services' own timers",
            )
        )
    if idle is not None and held.actual_players:
        marginal = marginal_ms(cost.run_cores, idle.run_cores, held.rps)
        cpus = os.cpu_count() or 1
        rps = ceiling_rps(cpus, idle.run_cores, marginal)
        per_player = held.rps / held.actual_players
        rows.append(
            Row(
                "CPU-bound ceiling at this cost (projection)",
                f"{rps / per_player:,.0f} players, {format_number(rps, 'req/s')}",
                "",
                "",
                f"({cpus} cores - {idle.run_cores:.2f} idle) / {marginal:.2f} ms per request, "
                f"at the knee's {per_player:.3f} req/s per player: every core busy with the "
                "platform and its load, nothing else, no logins; latency climbs before it",
            )
        )
    base_by_role = {c.role: c for c in base_cost.costs} if base_cost else {}
    for item in cost.costs:
        base_item = base_by_role.get(item.role)
        note = f"{item.cores:.2f} cores"
        if item.processes > 1:
            note += f" over {item.processes} processes, the busiest {item.hottest_core:.2f}"
        if idle is not None:
            idle_cores = idle.cores(item.role)
            above = marginal_ms(item.cores, idle_cores, held.rps)
            note += f"; idle {idle_cores:.2f} cores; {above:.2f} ms above idle"
        if base_item is not None:
            note += f"; baseline tree {base_item.ms_per_request:.2f} ms"
        rows.append(
            Row(
                f"CPU per request: {item.role}",
                f"{item.ms_per_request:.2f} ms",
                f"{item.ms_per_request / total:.0%} of the total" if total else "",
                "",
                note,
            )
        )
    return rows


def _mix(figures: StepFigures) -> str:
    return ", ".join(f"{name} {share:.0%}" for name, share in figures.mix().items())


def capacity_of(measurement: Measurement, command: str, date: str) -> PlatformCapacity | None:
    """This measurement's knee as the package keeps it; None without a costed knee."""
    held = measurement.knee.held
    cost = measurement.step_costs.get(held.step.index) if held else None
    if held is None or cost is None or not held.actual_players or not held.rps > 0:
        return None
    think = load_scenario("baseline").think_time  # the bench scenario's (scenario_document)
    return PlatformCapacity(
        knee_players=held.step.players,
        censored=measurement.knee.censored,
        knee_rps=round(held.rps, 2),
        rps_per_player=round(held.rps / held.actual_players, 4),
        think_min_s=think.min,
        think_max_s=think.max,
        p95_ms=round(held.p95_ms, 1) if held.p95_ms == held.p95_ms else None,
        cpu_ms_per_request=round(cost.ms_per_request, 3),
        cpu_ms_by_process={c.role: round(c.ms_per_request, 3) for c in cost.costs},
        cores=len(os.sched_getaffinity(0)),
        cpu_model=cpu_model(),
        date=date,
        commit=measurement.tree.description,
        command=command,
        source=f"python -m bench --only platform, {measurement.tree.label} (RESULTS.md section 6)",
    )


def write_capacity_figure(
    measurement: Measurement, path: Path = CAPACITY_FILE, command: str | None = None
) -> Path | None:
    """Replace the package's capacity figure with this measurement's; None (and the file
    left as it was) when no step was held."""
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    capacity = capacity_of(measurement, command or command_line(), date)
    return write_capacity(capacity, path) if capacity else None


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        lines = cpuinfo.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else ""
