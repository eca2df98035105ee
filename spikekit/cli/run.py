"""``spikekit run SCENARIO``: the spike, the faults and the verdict, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from spikekit.cli import console
from spikekit.cli.params import PORT, Host, KeyValue, Number, PathOf, Url, Workers, probe_folder
from spikekit.errors import ConfigError
from spikekit.load.options import plan_workers
from spikekit.run.capacity_check import Fit, MachineFit
from spikekit.run.hooks import RunHooks, RunOutcome, RunStarted
from spikekit.run.machine_fit import check_this_machine
from spikekit.run.options import RunOptions
from spikekit.rundir.journal import (
    FaultError,
    FaultInjected,
    FaultReverted,
    FaultSkipped,
    FaultWaiting,
    JournalEvent,
)
from spikekit.scenarios import Scenario
from spikekit.scenarios.durations import format_duration
from spikekit.scenarios.target import PlatformTarget, Profile
from spikekit.scenarios.timeline import timeline

if TYPE_CHECKING:
    from spikekit.cli.live_view import LiveView

_TONE = {"PASSED": "good", "DEGRADED": "warn", "FAILED": "bad"}
SCALE = Number(float, min=0, min_open=True, max=100)  # the scenario's own bounds
SEED = Number(int, min=0, max=2**63 - 1)
COUNT = Number(int, min=0, max=10_000_000)
METRICS_PORT = Number(int, min=0, max=65535)  # 0: any free port (printed at the start)


def _workers(value: str) -> int | Literal["auto"]:
    if value == "auto":
        return "auto"
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"--workers {value!r}: expected a number of processes or 'auto'")
    return int(value)


def _dry_run(options: RunOptions) -> None:
    scenario = options.resolve()
    target = scenario.target
    where = (
        f"bundled platform, {target.profile.value} profile"
        if isinstance(target, PlatformTarget)
        else target.url
    )
    plan = plan_workers(options.workers, scenario)
    console.info(f"scenario {scenario.name}: {' '.join(scenario.description.split())}")
    console.info(
        f"target: {where}; peak {scenario.peak_players:,.0f} players; "
        f"{format_duration(scenario.planned_duration_s)}; {plan.workers} Locust workers"
    )
    if plan.warning:
        console.warn(plan.warning)
    _machine_fit(check_this_machine(scenario, ref=options.scenario))
    _capacity_plan(scenario)
    from spikekit.load.feasibility import GAP, predict

    feasibility = predict(scenario, plan.workers + options.remote_workers)
    console.info(
        f"predicted tracking error {feasibility.tracking.relative:.2%} "
        f"({feasibility.workers} workers spawn {feasibility.capacity_per_s:,.0f} users/s; "
        f"{len(feasibility.gap_seconds)} s more than {GAP:.0%} off the target)"
    )
    for warning in feasibility.warnings():
        console.warn(f"the shape cannot be followed: {warning}")
    rows = [
        [format_duration(e.start_s), format_duration(e.end_s) if e.end_s else "end", e.kind, e.text]
        for e in timeline(scenario)
    ]
    console.table("plan (nothing was started)", ["from", "to", "", "what"], rows)
    _fault_touches(scenario, options)


def _refuse_faults(options: RunOptions) -> None:
    """Exit 2, one line per fault, when the target cannot take a scheduled fault."""
    from spikekit.chaos.resolve import available_for, refuse_unresolved, resolve_faults

    scenario = options.resolve()
    have = available_for(scenario, toxiproxy_url=options.toxiproxy_url)
    refuse_unresolved(resolve_faults(scenario, have))


def _fault_touches(scenario: Scenario, options: RunOptions) -> None:
    """What each fault will touch on this target; exit 2 naming those it cannot take."""
    from spikekit.chaos.resolve import available_for, refuse_unresolved, resolve_faults

    have = available_for(scenario, toxiproxy_url=options.toxiproxy_url)
    resolutions = resolve_faults(scenario, have)
    if resolutions:
        from spikekit.scenarios.faults.steady import describe_gate

        rows = [
            [
                r.fault_id,
                r.type,
                r.touches or f"CANNOT: needs {r.needs}",
                describe_gate(spec.steady_state, scenario.steady_state),
            ]
            for r, spec in zip(resolutions, scenario.faults, strict=True)
        ]
        columns = ["fault", "type", "touches", "steady state"]
        console.table("faults (what each will touch)", columns, rows)
    refuse_unresolved(resolutions)


def _machine_fit(fit: MachineFit | None) -> None:
    """The peak against what this machine's bundled platform holds (docs/capacity.md)."""
    if fit is None:  # a platform of the user's own: nothing is known of it
        return
    if fit.fit is Fit.FITS:
        console.info(f"machine: {fit.message()}")
    else:
        console.warn(f"beyond this machine: {fit.message()}")


def _capacity_plan(scenario: Scenario) -> None:
    """One line of ``spikekit plan`` (docs/sizing.md): what the peak needs in all."""
    if not isinstance(scenario.target, PlatformTarget):
        return  # nothing measured of a platform of the user's own
    from spikekit.plan.measured import bundled_costs, peak_of
    from spikekit.plan.model import make_plan

    measured = bundled_costs()
    if measured is None:
        return
    plan = make_plan(scenario.name, peak_of(scenario, measured), measured)
    cores = plan.production_cores

    def n(value: float) -> str:
        return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"

    console.info(
        f"capacity plan: the peak needs about {n(cores.point)} cores for the platform "
        f"({n(cores.low)}–{n(cores.high)}), {n(plan.test_cores.point)} with the test's own "
        f"parts; `spikekit plan {scenario.name}` for each part"
    )


def _subscribe(hooks: RunHooks, dashboard: LiveView) -> None:
    hooks.progress.add_listener(console.progress)
    hooks.fault_event.add_listener(dashboard.fault_event)  # the active faults it shows
    hooks.second_elapsed.add_listener(dashboard.second)  # the frame, or a plain line

    @hooks.run_started.add_listener
    def _started(started: RunStarted) -> None:
        dashboard.event(
            f"t=0: {started.workers} workers, {started.faults} faults scheduled, "
            f"{format_duration(started.planned_duration_s)} planned"
        )

    @hooks.fault_event.add_listener
    def _fault(event: JournalEvent) -> None:
        if isinstance(event, FaultInjected):
            dashboard.event(f"t={event.t:.0f}s injected {event.fault_id}: {event.fault}")
        elif isinstance(event, FaultReverted):
            state = "reverted" if event.ok else f"REVERT FAILED ({event.error})"
            dashboard.event(f"t={event.t:.0f}s {state} {event.fault_id}")
        elif isinstance(event, FaultError):
            dashboard.event(f"t={event.t:.0f}s {event.fault_id} {event.phase} error: {event.error}")
        elif isinstance(event, FaultWaiting):
            why = "; ".join(event.breaches)
            dashboard.event(f"t={event.t:.0f}s {event.fault_id} waits for steady state: {why}")
        elif isinstance(event, FaultSkipped):
            why = "; ".join(event.breaches)
            dashboard.event(
                f"t={event.t:.0f}s {event.fault_id} not injected: {event.reason} ({why})"
            )


def _show(outcome: RunOutcome) -> None:
    title = outcome.verdict + (" (aborted)" if outcome.aborted else "")
    console.banner(title, outcome.paragraph, _TONE.get(outcome.verdict, "warn"))
    if outcome.load is not None:
        load = outcome.load
        console.info(
            f"{load.totals.requests:,} requests, {load.totals.requests_per_s:,.0f} req/s, "
            f"peak {load.totals.peak_actual_players:,} players, "
            f"tracking error {load.tracking.relative:.1%}"
        )
    for incident in outcome.incidents:
        console.warn(f"toolkit: {incident}")
    for fault in outcome.not_reverted:
        console.warn(f"fault NOT reverted: {fault}")
    if outcome.outputs == (outcome.run_dir,):  # the report could not be written (said above)
        console.info(f"run directory: {outcome.run_dir}")
        return
    console.info(f"report: {outcome.outputs[0]}")
    for path in outcome.outputs[1:]:
        console.info(f"        {path}")


def run(
    scenario: Annotated[str, typer.Argument(help="A built-in scenario name or a YAML file.")],
    scale: Annotated[
        float | None,
        typer.Option(parser=SCALE, help="Multiply player counts (0.01 = 1 % of the spike)."),
    ] = None,
    duration_scale: Annotated[
        float | None,
        typer.Option(parser=SCALE, help="Multiply every duration and fault offset."),
    ] = None,
    profile: Annotated[
        Profile | None, typer.Option(help="Bundled platform with its defences on or off.")
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(parser=Url(), help="Base URL of your own platform (instead of the bundled)."),
    ] = None,
    out: Annotated[Path, typer.Option(parser=PathOf(), help="Folder for run directories.")] = Path(
        "runs"
    ),
    workers: Annotated[
        str, typer.Option(parser=Workers(), help="Locust worker processes, or 'auto'.")
    ] = "auto",
    dry_run: Annotated[bool, typer.Option(help="Print the plan; start nothing.")] = False,
    allow_target: Annotated[
        list[str] | None,
        typer.Option(parser=Host(), help="Allow load and faults on this non-local host."),
    ] = None,
    toxiproxy: Annotated[
        str | None,
        typer.Option(parser=Url(), help="Your Toxiproxy API URL (platforms of your own)."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(parser=SEED, help="Random seed (default: the scenario's).")
    ] = None,
    players: Annotated[
        int | None,
        typer.Option(parser=COUNT, help="Players to seed (default: the population)."),
    ] = None,
    remote_workers: Annotated[
        int,
        typer.Option(parser=COUNT, help="Wait for this many `spikekit worker` on other machines."),
    ] = 0,
    master_bind: Annotated[
        str,
        typer.Option(
            parser=Host(), help="Address the Locust master listens on (0.0.0.0 for remotes)."
        ),
    ] = "127.0.0.1",
    master_port: Annotated[
        int | None,
        typer.Option(parser=PORT, help="Port of the Locust master (default: a free one)."),
    ] = None,
    scrape: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SERVICE=URL",
            parser=KeyValue("SERVICE=URL"),
            help="Record this /metrics of your platform (--target); repeat per process.",
        ),
    ] = None,
    locustfile: Annotated[
        Path | None,
        typer.Option(
            parser=PathOf("file"),
            help="Your own Locust users (a .py file; it runs with your rights) as the players.",
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            parser=METRICS_PORT,
            help="Serve the run's own metrics for Prometheus on this port (/metrics).",
        ),
    ] = None,
    metrics_bind: Annotated[
        str,
        typer.Option(
            parser=Host(),
            help="Address of --metrics-port (not loopback: also --allow-target ADDR).",
        ),
    ] = "127.0.0.1",
) -> None:
    """Run a spike scenario: platform, load, faults; then the report and the verdict.

    Exit codes (spikekit.cli.exit_codes): 0 passed (or degraded and recovered), 1 an SLO,
    a recovery or the wallet audit failed, 2 usage or configuration error (checked before
    anything starts), 3 aborted (stop condition, Ctrl-C) or the platform could not start.
    """
    from spikekit.run.orchestrator import SpikeRun  # pandas, matplotlib only when running

    options = RunOptions(
        scenario=scenario,
        scale=scale,
        duration_scale=duration_scale,
        profile=profile,
        target_url=target,
        out=out,
        workers=_workers(workers),
        allow_targets=tuple(allow_target or ()),
        toxiproxy_url=toxiproxy,
        seed=seed,
        players=players,
        remote_workers=remote_workers,
        master_bind=master_bind,
        master_port=master_port,
        scrape=tuple(scrape or ()),
        locustfile=locustfile,
        metrics_port=metrics_port,
        metrics_bind=metrics_bind,
    )
    options.resolve()  # every override checked (ConfigError naming the option) first
    probe_folder(out, "--out", keep=not dry_run)
    if dry_run:
        _dry_run(options)
        return
    _refuse_faults(options)  # before any process starts (the run checks again)
    spike = SpikeRun(options)
    _machine_fit(spike.machine_fit)  # before the dashboard takes the screen
    from spikekit.cli.live_frame import Plan
    from spikekit.cli.live_view import LiveView

    plan = Plan.of(spike.scenario, f"spikekit run {spike.scenario.name}")
    with LiveView(plan) as dashboard:  # redrawn on a terminal; plain lines otherwise
        _subscribe(spike.hooks, dashboard)
        outcome = spike.execute()
    _show(outcome)
    raise typer.Exit(outcome.exit_code)
