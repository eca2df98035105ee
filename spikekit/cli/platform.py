"""``spikekit platform``: start, inspect and stop the bundled reference platform."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from spikekit.cli import console
from spikekit.cli.params import Dsn, Number, PathOf, Replicas, probe_folder
from spikekit.errors import ConfigError, StackError
from spikekit.reference_platform import control
from spikekit.reference_platform.population import DEFAULT_PLAYERS
from spikekit.reference_platform.spec import (
    BalancerMode,
    Profile,
    StackSpec,
    ToxiproxyMode,
    default_stack,
)
from spikekit.reference_platform.state import StackState
from spikekit.reference_platform.supervisor import Stack, wait_forever
from spikekit.rundir.layout import AUDIT
from spikekit.scenarios.target import Service

app = typer.Typer(
    help="Start, inspect and stop the bundled reference platform.", no_args_is_help=True
)

StateDir = Annotated[
    Path,
    typer.Option(
        "--state-dir",
        envvar="SPIKEKIT_STATE_DIR",
        parser=PathOf(),
        help="Folder holding the platform's data, logs and stack.json.",
    ),
]
DEFAULT_STATE_DIR = Path(".spikekit/platform")


REPLICAS = Replicas(tuple(s.value for s in Service))


def _parse_replicas(values: list[str]) -> dict[str, int]:
    """``["gateway=3,auth=2", "wallet=2"]`` → counts (the last value for a service wins)."""
    replicas: dict[str, int] = {}
    for value in values:
        replicas.update(REPLICAS.parse(value))
    return replicas


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _show(state: StackState) -> None:
    rows = [[s.name, str(s.pid), s.url, s.log] for s in state.services]
    rows += [[b.kind, str(b.pid), b.address, b.log] for b in state.backing]
    if state.toxiproxy is not None and state.toxiproxy_api is not None:
        rows.append(
            ["toxiproxy", str(state.toxiproxy.pid), state.toxiproxy_api, state.toxiproxy.log]
        )
    if state.balancer is not None:
        rows.insert(0, ["haproxy", str(state.balancer.pid), state.balancer.url, state.balancer.log])
    title = f"spikekit platform ({state.profile}, {state.players:,} players)"
    console.table(title, ["service", "PID", "URL", "log"], rows)
    if state.toxiproxy is None:
        console.warn("toxiproxy-server not found: network faults are unavailable (make install)")


@app.command()
def up(
    state_dir: StateDir = DEFAULT_STATE_DIR,
    detach: Annotated[bool, typer.Option(help="Start in the background and return.")] = False,
    profile: Annotated[Profile, typer.Option(help="Resilience mechanisms on or off.")] = (
        Profile.RESILIENT
    ),
    replicas: Annotated[
        list[str] | None,
        typer.Option(
            parser=REPLICAS,
            help="Processes per service: SERVICE=COUNT[,...], e.g. gateway=3,auth=2 "
            "(repeatable; 1..16). Gateway replicas run behind HAProxy.",
        ),
    ] = None,
    toxiproxy: Annotated[
        ToxiproxyMode, typer.Option(help="Put Toxiproxy on every link: auto, on (required), off.")
    ] = ToxiproxyMode.AUTO,
    balancer: Annotated[
        BalancerMode,
        typer.Option(help="HAProxy in front of the gateway: auto (when it has replicas), on, off."),
    ] = BalancerMode.AUTO,
    players: Annotated[
        int,
        typer.Option(
            parser=Number(int, min=0, max=10_000_000),
            help="Players to seed: funded accounts and logins (0: none).",
        ),
    ] = DEFAULT_PLAYERS,
) -> None:
    """Start PostgreSQL, Redis, Toxiproxy and the platform's services on 127.0.0.1."""
    counts = _parse_replicas(replicas or [])
    probe_folder(state_dir, "--state-dir", keep=True)
    spec: StackSpec = default_stack().with_options(
        profile=profile, toxiproxy=toxiproxy, players=players, balancer=balancer
    )
    spec = spec.with_replicas(**counts)
    if detach:
        args = ["--profile", profile.value, "--toxiproxy", toxiproxy.value]
        args += ["--players", str(players), "--balancer", balancer.value]
        for value in replicas or []:
            args += ["--replicas", value]
        console.progress(f"starting the platform in the background from {state_dir} ...")
        _show(control.start_detached(state_dir, args))
        console.info("stop it with: spikekit platform down")
        return
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with Stack(spec, state_dir) as stack:
            assert stack.state is not None
            _show(stack.state)
            console.info("platform is up; Ctrl-C stops it")
            try:
                wait_forever(stack)
            except KeyboardInterrupt:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                console.progress("stopping the platform ...")
    except KeyboardInterrupt as interrupt:
        raise StackError(
            f"start interrupted ({interrupt}); everything started was stopped"
        ) from None


@app.command()
def status(
    state_dir: StateDir = DEFAULT_STATE_DIR,
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show the running platform: services, PIDs, URLs, health, backing services."""
    current = control.status(state_dir)
    if json:
        console.print_json(current.model_dump())
    elif not current.running:
        console.info(f"no platform is running from {state_dir}")
    else:
        rows = [[s.name, str(s.pid), s.url, s.health] for s in current.services]
        rows += [[b.kind, str(b.pid), b.address, b.health] for b in current.backing]
        if current.toxiproxy_api:
            rows.append(["toxiproxy", "", current.toxiproxy_api, f"{len(current.links)} links"])
        balancer = current.balancer
        if balancer is not None:
            rows.insert(0, ["haproxy", str(balancer.pid), balancer.url, balancer.health])
        console.table(
            f"platform ({current.profile}, {current.status})",
            ["service", "PID", "URL", "health"],
            rows,
        )
        if balancer is not None:
            _show_servers(balancer)
    if not current.running:
        raise typer.Exit(1)


def _show_servers(balancer: control.BalancerStatus) -> None:
    rows = [
        [
            s.server + (" (backup)" if s.backup else ""),
            "up" if s.up else "DOWN",
            s.status,
            s.check or "-",
            str(s.sessions),
            str(s.queue),
        ]
        for s in balancer.servers
    ]
    console.table(
        f"haproxy (PID {balancer.pid}, port {balancer.port}): backend servers",
        ["server", "up/down", "status", "last check", "sessions", "queue"],
        rows,
    )


@app.command()
def down(state_dir: StateDir = DEFAULT_STATE_DIR) -> None:
    """Stop the platform started from the state folder, and every process it started."""
    stopped = control.down(state_dir)
    if not stopped:
        console.info(f"no platform is running from {state_dir}")
        return
    console.info("stopped: " + ", ".join(stopped))


@app.command()
def audit(
    state_dir: StateDir = DEFAULT_STATE_DIR,
    json: Annotated[bool, typer.Option("--json", help=f"Print {AUDIT} to stdout.")] = False,
    dsn: Annotated[
        str | None,
        typer.Option(parser=Dsn(), help="Audit this database instead of the running platform's."),
    ] = None,
    grace: Annotated[
        float,
        typer.Option(
            parser=Number(float, min=0), help="Seconds: rounds active this recently are in play."
        ),
    ] = 0.0,
) -> None:
    """Audit the wallet: ledger vs balances, no transaction applied twice, no negative
    balance, every round settled or rolled back. Exits 1 with the offending ids."""
    from spikekit.reference_platform.audit import audit_sync

    if dsn is None:
        state = control.running_state(state_dir)
        if state is None:  # nothing to audit: a usage error
            raise ConfigError(
                f"no platform is running from --state-dir {state_dir} (or give --dsn)"
            )
        dsn = state.backing_address("postgres")
        if dsn is None:
            raise StackError("the running platform has no PostgreSQL")
    report = audit_sync(dsn, grace)
    if json:
        console.print_json(report.model_dump())
    else:
        rows = [[c.name, "ok" if c.ok else "FAILED", c.detail] for c in report.checks]
        console.table("wallet audit", ["check", "result", "detail"], rows)
    if not report.ok:
        for check in report.failed():
            console.error(f"{check.name}: {', '.join(check.offending_ids)}")
        raise typer.Exit(1)
