"""``spikekit chaos``: the fault catalog, one fault by hand, the revert of a crash, a plan.

``inject`` runs one fault against a running ``spikekit platform up`` in the foreground for
``--duration`` (or until Ctrl-C) and reverts it on every way out; its journal goes to
``<state-dir>/chaos/journal.jsonl`` so that ``chaos revert --all`` finds it after a crash.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError

from spikekit.chaos.context import ChaosContext
from spikekit.chaos.registry import build_fault, catalog, fault_class
from spikekit.chaos.revert import journal_path, revert_from_journal
from spikekit.chaos.run import ChaosRun
from spikekit.chaos.schedule import MonotonicClock, ScheduledFault, Scheduler
from spikekit.cli import console
from spikekit.cli.checks import check_json_file
from spikekit.cli.params import Duration, Host, KeyValue, PathOf, Url, probe_folder
from spikekit.errors import ChaosError, ConfigError
from spikekit.guard import TargetGuard
from spikekit.reference_platform.control import running_state
from spikekit.rundir.journal import (
    FaultError,
    FaultInjected,
    FaultReverted,
    Journal,
    JournalEvent,
    RunEnded,
    RunStarted,
    read_journal,
)
from spikekit.rundir.layout import JOURNAL
from spikekit.scenarios.durations import format_duration, parse_duration
from spikekit.scenarios.faults import FAULT_TYPES, FaultBase, FaultFamily
from spikekit.scenarios.loader import load_scenario
from spikekit.scenarios.timeline import timeline
from spikekit.scenarios.untrusted import MAX_JOURNAL_BYTES, safe_load_yaml

app = typer.Typer(help="Inject, plan and revert faults.", no_args_is_help=True)

StateDir = Annotated[
    Path,
    typer.Option(
        "--state-dir",
        envvar="SPIKEKIT_STATE_DIR",
        parser=PathOf(),
        help="State folder of 'spikekit platform up'.",
    ),
]
AllowTarget = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-target",
        parser=Host(),
        help="A host off this machine faults may touch (repeatable).",
    ),
]
DEFAULT_STATE_DIR = Path(".spikekit/platform")


@app.command("list")
def list_(json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False) -> None:
    """The fault catalog: every fault type, its parameters and their defaults."""
    entries = catalog()
    if json:
        console.print_json(
            [{**e.__dict__, "params": [p.__dict__ for p in e.params]} for e in entries]
        )
        return
    rows = []
    for entry in entries:
        params = ", ".join(
            f"{p.name}={p.default}" if p.default != "required" else f"{p.name} (required)"
            for p in entry.params
        )
        target = f"--target = {entry.target}" if entry.target else "-"
        rows.append([entry.type, target, params or "-", entry.summary])
    console.table(
        "Faults (spikekit chaos inject TYPE --param k=v)",
        ["type", "target", "parameters", "what"],
        rows,
        no_wrap=["type"],
    )


def _spec(fault: str, target: str | None, params: list[str], duration: float | None) -> FaultBase:
    model = FAULT_TYPES.get(fault)
    if model is None:
        raise ConfigError(f"unknown fault {fault!r}; see 'spikekit chaos list'")
    data: dict[str, Any] = {"type": fault, "at": 0, "duration": duration}
    for item in params:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param {item!r}: expected KEY=VALUE, e.g. latency_ms=200")
        name = key.strip()
        try:
            data[name] = safe_load_yaml(text, f"--param {name}") if text else ""
        except yaml.YAMLError as error:
            raise ConfigError(f"--param {name}: {text!r} is not valid YAML ({error})") from None
        except ValueError as error:  # a date 2001-13-45, an int of 5,000 digits
            raise ConfigError(f"--param {name}: {text!r}: {error}") from None
    if model.target_field is not None:
        if target is not None:
            data[model.target_field] = target
    elif target is not None:
        expected = model.model_construct(type=fault, at=0.0).target_name()
        if target == expected:
            return _validated(model, fault, data)
        raise ConfigError(f"{fault} acts on {expected}; got --target {target!r}")
    return _validated(model, fault, data)


def _validated(model: type[FaultBase], fault: str, data: dict[str, Any]) -> FaultBase:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = []
        for problem in error.errors():
            name = ".".join(str(p) for p in problem["loc"])
            option = "--target" if name == model.target_field else f"--param {name}"
            problems.append(f"{option}: {problem['msg']}")
        raise ConfigError(f"{fault}: " + "; ".join(problems)) from None


def _context(
    spec: FaultBase, state_dir: Path, toxiproxy: str | None, allow: list[str]
) -> ChaosContext:
    guard = TargetGuard(allow)
    if running_state(state_dir) is not None:
        return ChaosContext.for_platform(state_dir, guard=guard, toxiproxy_url=toxiproxy)
    # a docker fault acts on the engine (DOCKER_HOST or its socket): no platform, no Toxiproxy
    if toxiproxy is None and spec.family is not FaultFamily.DOCKER:
        raise ConfigError(
            f"no platform is running from --state-dir {state_dir}: start one (spikekit platform "
            "up --detach) or give --toxiproxy URL for a platform of your own"
        )
    return ChaosContext(guard=guard, toxiproxy_url=toxiproxy)


def _show(event: JournalEvent) -> None:
    if isinstance(event, FaultInjected):
        lag = "" if event.started_t is None else f" ({event.started_t * 1000:.0f} ms after start)"
        console.info(f"injected {event.fault_id} on {event.target}{lag}")
    elif isinstance(event, FaultReverted):
        if event.ok:
            console.info(f"reverted {event.fault_id}: {event.outcome}")
        else:
            console.error(f"revert of {event.fault_id} failed: {event.error}")
    elif isinstance(event, FaultError) and event.phase == "inject":
        console.error(f"{event.fault_id} could not be injected: {event.error}")


@app.command()
def inject(
    fault: Annotated[str, typer.Argument(help="Fault type, e.g. network.latency.")],
    target: Annotated[
        str | None, typer.Option(help="Link, service, consumer, stream, provider or container.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", parser=KeyValue(), help="KEY=VALUE parameter (repeatable)."),
    ] = None,
    duration: Annotated[
        str | None,
        typer.Option(parser=Duration(), help="How long, e.g. 30s (default: until Ctrl-C)."),
    ] = None,
    state_dir: StateDir = DEFAULT_STATE_DIR,
    journal: Annotated[
        Path | None, typer.Option(parser=PathOf("file"), help="Journal file to append to.")
    ] = None,
    toxiproxy: Annotated[
        str | None, typer.Option(parser=Url(), help="Your own Toxiproxy API URL.")
    ] = None,
    allow_target: AllowTarget = None,
) -> None:
    """Put one fault on the running platform, in the foreground; it is reverted at the end."""
    try:
        seconds = None if duration is None else parse_duration(duration)
    except ValueError as error:
        raise ConfigError(f"--duration: {error}") from None
    if seconds == 0:
        raise ConfigError("--duration: more than 0 s, or leave it out for until Ctrl-C")
    spec = _spec(fault, target, param or [], seconds)
    path = journal or state_dir / "chaos" / JOURNAL
    probe_folder(path.parent, "--journal" if journal else "--state-dir", keep=False)
    ctx = _context(spec, state_dir, toxiproxy, allow_target or [])
    fault_id = f"{fault.replace('.', '-')}-{time.strftime('%Y%m%dT%H%M%S')}"
    chaos_fault = build_fault(spec, ctx, fault_id=fault_id, duration_s=seconds)
    chaos_fault.check()
    length = f"for {format_duration(seconds)}" if seconds else "until Ctrl-C"
    console.progress(f"{chaos_fault.description} {length}; journal: {path}")
    with Journal(path) as sink:
        sink.write(
            RunStarted(
                **sink.stamp(), scenario=f"chaos inject {fault}", planned_duration_s=seconds or 0.0
            )
        )
        scheduler = Scheduler(
            [ScheduledFault(chaos_fault, 0.0, seconds)],
            clock=MonotonicClock(sink.started),
            sinks=[sink, _show],
        )
        status = "completed"
        try:
            with ChaosRun(scheduler) as run:
                while not run.wait(0.2):
                    pass
                while seconds is None and chaos_fault.active:  # until Ctrl-C
                    time.sleep(0.2)
        except KeyboardInterrupt:
            status = "interrupted"
        finally:
            sink.write(RunEnded(**sink.stamp(), status=status))
    failed = scheduler.runs[fault_id].error
    if failed:
        raise ChaosError(fault_id, failed)


@app.command()
def revert(
    path: Annotated[
        Path | None, typer.Argument(help=f"Run folder or {JOURNAL} (default: the platform's).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Revert every fault still on.")] = False,
    state_dir: StateDir = DEFAULT_STATE_DIR,
    allow_target: AllowTarget = None,
) -> None:
    """Revert every fault a crashed run or inject left on, from its journal.

    Exits 0 when the journal has nothing left on (or everything was reverted), 2 when
    there is no journal to revert from, 3 when a revert failed (run it again).
    """
    if not all_:
        raise ConfigError("say --all: every fault still on in the journal is reverted")
    given = path or state_dir / "chaos" / JOURNAL
    if not given.exists():
        where = "PATH" if path is not None else "--state-dir"
        raise ConfigError(f"{where} {given}: no journal there, so nothing to revert from")
    try:
        source = journal_path(given)
        check_json_file(source, max_bytes=MAX_JOURNAL_BYTES)
        read_journal(source)  # a file that is not a journal is the user's to fix
    except ChaosError as error:
        raise ConfigError(str(error)) from None
    outcomes = revert_from_journal(source, ChaosContext(guard=TargetGuard(allow_target or [])))
    if not outcomes:
        console.info(f"nothing to revert: every fault in {source} is off")
        return
    rows = [
        [e.fault_id, e.target, "ok" if e.ok else "FAILED", (e.outcome or e.error or "")]
        for e in outcomes
    ]
    console.table(f"Reverted from {source}", ["fault", "target", "result", "outcome"], rows)
    failed = [e.fault_id for e in outcomes if not e.ok]
    if failed:
        raise ChaosError("revert", f"could not revert {', '.join(failed)}; run it again")


@app.command()
def plan(
    scenario: Annotated[str, typer.Argument(help="A built-in scenario name or a YAML file.")],
    json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
) -> None:
    """Print the scenario's timeline of load and faults; touches nothing."""
    loaded = load_scenario(scenario)
    for spec in loaded.faults:
        fault_class(spec.type)
    if json:
        console.print_json(
            {
                "scenario": loaded.name,
                "planned_duration_s": loaded.planned_duration_s,
                "timeline": [
                    {"start_s": e.start_s, "end_s": e.end_s, "kind": e.kind, "text": e.text}
                    for e in timeline(loaded)
                ],
                "stop_conditions": [s.model_dump(mode="json") for s in loaded.stop_conditions],
            }
        )
        return
    rows = [[e.when, e.kind, e.text] for e in timeline(loaded)]
    title = f"{loaded.name}: {format_duration(loaded.planned_duration_s)}"
    console.table(title, ["when", "kind", "what"], rows, no_wrap=["when"])
    for stop in loaded.stop_conditions:
        side = "below" if stop.is_floor else "above"
        console.info(
            f"stop when {stop.metric.value} on {stop.signal or stop.endpoint} stays {side} "
            f"{stop.threshold:g} "
            f"for {format_duration(stop.sustained)}"
        )
