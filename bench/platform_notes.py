"""The platform bench's notes under its table, and the *before* figure they keep.

The *before* figure (:class:`Reference`) lives in the section itself, as a hidden
``<!-- platform-before: {...} -->`` line that the next run reads back
(:func:`read_reference`) and keeps until it is removed by hand.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.harness import format_number
from bench.platform_cpu import marginal_ms
from bench.platform_run import Measurement, StepCost
from bench.platform_steps import ROUNDS, Criterion, Schedule, StepFigures

GENERATOR_HOT = 0.9  # a Locust worker at 90 % of a core: the figure may be the generator's
_BEFORE = re.compile(r"<!-- platform-before: (\{.*?\}) -->")


@dataclass(frozen=True)
class Setup:
    """How the bench ran, as the section describes it."""

    criterion: Criterion
    accounts: int
    quiet_cores: float  # a run waits until other work keeps fewer cores than this busy
    quiet_wait_s: float  # at most this long
    quick_quiet_wait_s: float


@dataclass(frozen=True)
class Reference:
    """The *before* figure: the platform's knee before the efficiency work (issue 13)."""

    players: int
    censored: bool
    rps: float
    cpu_ms: float
    date: str
    source: str

    def comment(self) -> str:
        return f"<!-- platform-before: {json.dumps(asdict(self))} -->"


def read_reference(results: Path) -> Reference | None:
    text = results.read_text(encoding="utf-8") if results.exists() else ""
    match = _BEFORE.search(text)
    if match is None:
        return None
    try:
        return Reference(**json.loads(match.group(1)))
    except (TypeError, ValueError):
        return None


def reference_of(measurement: Measurement, date: str) -> Reference:
    held = measurement.knee.held
    cost = measurement.step_costs.get(held.step.index) if held else None
    return Reference(
        players=held.step.players if held else 0,
        censored=measurement.knee.censored,
        rps=held.rps if held else 0.0,
        cpu_ms=cost.ms_per_request if cost else float("nan"),
        date=date,
        source=f"{measurement.tree.label}, {measurement.tree.description}",
    )


def _per_request(measurement: Measurement, figures: StepFigures, cost: StepCost | None) -> str:
    if cost is None:
        return ""
    text = f"{cost.ms_per_request:.2f} ms"
    if measurement.idle is not None:
        text += f" ({marginal_ms(cost.run_cores, measurement.idle.run_cores, figures.rps):.2f})"
    return text


def _steps_table(measurement: Measurement) -> str:
    lines = [
        f"Steps, {measurement.tree.label} ({measurement.tree.description}):",
        "",
        "| step | players (in session) | req/s | errors | rounds p95 / p99 | all p95 / p99 "
        "| CPU per request (above idle) | cores: the run / other processes | busiest process "
        "| held |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for figures in measurement.steps:
        cost = measurement.step_costs.get(figures.step.index)
        if not figures.seconds:
            lines.append(f"| {figures.step.players:,} | | | | | | | | | {figures.why or 'no'} |")
            continue
        hottest = cost.hottest if cost else None
        cells = [
            f"{figures.step.players:,} ({figures.actual_players:,.0f})",
            format_number(figures.rps),
            f"{figures.error_rate:.2%}",
            f"{figures.judged_p95_ms:,.0f} / {figures.judged_p99_ms:,.0f} ms",
            f"{figures.p95_ms:,.0f} / {figures.p99_ms:,.0f} ms",
            _per_request(measurement, figures, cost),
            f"{cost.run_cores:.2f} / {cost.others:.2f}" if cost else "",
            f"{hottest.role} {hottest.hottest_core:.2f}" if hottest else "",
            "yes" if figures.held else f"no: {figures.why}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def notes_for(
    measured: dict[str, Measurement],
    plan: Schedule,
    setup: Setup,
    reference: Reference | None,
    recorded: bool,
) -> list[str]:
    this = measured["this tree"]
    step = plan.steps[0]
    notes = [
        f"Knee: the highest step held, a step being held when {setup.criterion.describe()} "
        f"(`{ROUNDS}`). Each step ramps at {plan.arrivals_per_s:g} new players a second "
        f"(each logs in: about {plan.arrivals_per_s * 0.029:.2f} s of argon2id a second, "
        "against the ~69 passwords a second two cores can verify; a login storm is another "
        f"variant, not this one), then holds {plan.hold_s:g} s; the first {step.settle_s:g} s "
        f"of a hold settle, the last {step.window_s} s are judged and costed. The run "
        f"starts with {plan.idle_s:g} s without players (the idle cost). Personas, "
        "think time and impatience of `baseline` (the built-in defaults: think 1-5 s); "
        f"resilient profile, Toxiproxy on every link, {setup.accounts:,} accounts; stop "
        "conditions end the run once errors pass 25 % for 20 s or rounds p95 passes "
        f"{3 * setup.criterion.p95_ms:g} ms for 30 s (far past the knee). One run per tree: a "
        "search over steps, not repeated.",
        "CPU per request: user + system CPU time of every process of the run (the process "
        "tree of `spikekit run`, psutil, a snapshot a second), from the snapshot nearest the "
        "start of a step's window to the one nearest its end, divided by the requests "
        "completed in the window (failures included). Per endpoint it is not split: the "
        "window's endpoint mix is given instead. Logins happen on the ramps, outside the "
        "windows: the figures are the cost of players already in session.",
        _steps_table(this),
    ]
    base = measured.get("baseline tree")
    if base is not None:
        notes.append(_steps_table(base))
        notes.append(
            "Both trees were measured back to back in this invocation (the baseline first), "
            "with the same generated scenario; the baseline run imports its tree's "
            "spikekit (`PYTHONPATH`, checked before the run)." + _control(this, base)
        )
    notes.append(_noise(measured, setup))
    if reference is not None:
        source = "this run" if recorded else f"recorded {reference.date}"
        notes.append(
            f"Before figure ({source}, {reference.source}): knee "
            f"{'≥ ' if reference.censored else ''}{reference.players:,} players, "
            f"{reference.rps:,.0f} req/s, {reference.cpu_ms:.2f} ms of CPU per request. "
            "It is kept from run to run; remove the hidden `platform-before` line of this "
            "section to record a new one. A ratio against it compares runs of different "
            "days: read it with the noise above."
        )
        notes.append(reference.comment())
    else:
        notes.append("No before figure is recorded yet (a --quick run does not record one).")
    for measurement in measured.values():
        if measurement.abort_reason:
            notes.append(
                f"{measurement.tree.label}: the run ended early (as designed once past the "
                f"knee): {measurement.abort_reason}; {measurement.seconds:.0f} s in all."
            )
    return notes


def _control(this: Measurement, base: Measurement) -> str:
    """Toxiproxy and the Locust workers run the same code in both trees: their CPU per
    request, this tree / baseline, at each step both held, is the machine's noise (unless
    the services' calls or the players' requests changed)."""
    ratios: list[str] = []
    for figures in this.steps:
        mine = this.step_costs.get(figures.step.index)
        theirs = base.step_costs.get(figures.step.index)
        if (
            mine is None
            or theirs is None
            or not (figures.held and base.steps[figures.step.index].held)
        ):
            continue
        pairs = []
        for control in ("toxiproxy", "load: Locust workers"):
            a = next((c.ms_per_request for c in mine.costs if c.role == control), None)
            b = next((c.ms_per_request for c in theirs.costs if c.role == control), None)
            if a and b:
                pairs.append(f"{control} {a / b:.2f}x")
        if pairs:
            ratios.append(f"{figures.step.players:,} players: " + ", ".join(pairs))
    if not ratios:
        return ""
    return (
        " Control (the same code in both trees, so its ratio is the machine's noise, "
        "this tree / baseline, CPU per request): " + "; ".join(ratios) + "."
    )


def _noise(measured: dict[str, Measurement], setup: Setup) -> str:
    parts = [
        "Noise: not pinned. The platform needs both cores (pinning the load generator to "
        "one would leave the platform one); the per-request CPU figures do not depend on "
        "where a process runs, and the machine is shared with other engineers' tests."
    ]
    for measurement in measured.values():
        costs = [
            measurement.step_costs[f.step.index]
            for f in measurement.steps
            if f.held and f.step.index in measurement.step_costs
        ]
        if not costs:
            continue
        idle = measurement.idle.run_cores if measurement.idle else 0.0
        per_request = [
            marginal_ms(measurement.step_costs[f.step.index].run_cores, idle, f.rps)
            for f in measurement.steps
            if f.held and f.step.index in measurement.step_costs
        ]
        others = [c.others for c in costs]
        workers = [
            c.hottest_core for step in costs for c in step.costs if c.role == "load: Locust workers"
        ]
        text = (
            f"{measurement.tree.label}: CPU per request above idle over the held steps "
            f"{min(per_request):.2f} to {max(per_request):.2f} ms; other processes of the "
            f"machine used {min(others):.2f} to {max(others):.2f} cores during the windows"
        )
        if workers and max(workers) >= GENERATOR_HOT:
            text += f"; a Locust worker reached {max(workers):.0%} of a core (generator-bound?)"
        parts.append(
            text + f" ({measurement.busy_before:.2f} just before the run, which waits up to "
            f"{setup.quiet_wait_s:g} s, {setup.quick_quiet_wait_s:g} s with --quick, for "
            f"fewer than {setup.quiet_cores:g}); sampling cost "
            f"{measurement.sampler_cpu_s:.1f} s of CPU."
        )
    return " ".join(parts)
