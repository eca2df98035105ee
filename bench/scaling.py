"""Benchmark 7 — scaling out on this machine: throughput at 1, 2, 3 replicas of the hottest
service, the Universal Scalability Law fitted to it, and the law checked on a replica
count it was not fitted on.

Each step is one ``spikekit run`` against the bundled platform (resilient profile,
Toxiproxy on every link) with ``target.replicas: {PART: N}``: players ramp up (logging in)
to more than the platform can serve, then hold at a short think time; the throughput is
the requests a second answered without failure over the hold's window (its per-second
values are the law's samples). During the same window the bench reads PostgreSQL's commits
(``pg_stat_database.xact_commit``) and Redis's commands (``total_commands_processed``),
so that the capacity plan (``spikekit plan``) knows them per request.

The law is fitted on 1, 2 and 3 replicas (:mod:`spikekit.plan.usl`); it then predicts the
throughput at 4, which is measured, and the error is reported. The fit and the per-request
counts go to ``spikekit/plan/scaling.json`` (:mod:`spikekit.plan.measured`), where
``spikekit plan`` reads them.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench.harness import REPO, Config, Row, Section
from bench.platform_cpu import wait_for_quiet
from bench.platform_run import (
    Tree,
    _echo,
    _seconds,
    _stop,
    _wait,
    child_env,
    describe_this_tree,
    write_scenario,
)
from spikekit.plan import usl
from spikekit.plan.measured import Counted, ScalingFigures, write_scaling
from spikekit.reference_platform.capacity import read_capacity
from spikekit.reference_platform.state import load as load_state
from spikekit.rundir.layout import LIVE, PLATFORM_DIR
from spikekit.rundir.live import read_live_file
from spikekit.scenarios.loader import load_scenario

FITTED = (1, 2, 3)
CHECKED = 4
#: More players than the platform serves, each waiting for its answer (a closed loop):
#: the throughput is what the platform serves, its ceiling at that replica count. They
#: arrive at 20 logins a second (argon2id: ~0.6 cores for the ramp, before the window).
PLAYERS, QUICK_PLAYERS = 600, 600
RAMP_S, HOLD_S, SETTLE_S = 30, 35, 5
QUICK_HOLD_S = 20
THINK = {"min": 0.2, "max": 0.6, "pacing": False}
#: Patient players: no retry and no refresh, so that a slow answer is waited for, not
#: multiplied (the platform's ceiling, not a retry storm's).
PATIENT = {
    "retry_on_failure": 0.0,
    "refresh_on_slow": 0.0,
    "slow_threshold": 60.0,
    "max_retries": 0,
}
DEFAULT_PART = "gateway"


@dataclass
class Step:
    replicas: int
    served: list[float] = field(default_factory=list)  # per second of the window
    requests: int = 0
    commits: int | None = None
    commands: int | None = None
    exit_code: int | None = None


def hottest_service() -> str:
    """The service (not PostgreSQL, Toxiproxy, Redis or the generator) with the most CPU
    per request in the latest platform bench; the gateway without one."""
    capacity = read_capacity()
    if capacity is None:
        return DEFAULT_PART
    from spikekit.plan.model import kind_of
    from spikekit.plan.sizing import PartKind

    services = {
        name: ms
        for name, ms in capacity.cpu_ms_by_process.items()
        if kind_of(name) is PartKind.SERVICE and not name.startswith("payments-worker")
    }
    if not services:
        return DEFAULT_PART
    best = max(services, key=lambda name: services[name])
    return best.rsplit("-", 1)[0] if best.startswith("provider-") else best


def scenario(part: str, replicas: int, players: int, hold_s: int) -> dict[str, object]:
    reference = load_scenario("baseline")
    return {
        "name": "bench-scaling",
        "description": "python -m bench --only scaling: throughput at a replica count.",
        "target": {"profile": "resilient", "replicas": {part: replicas}},
        "population": {"accounts": players * 2},
        "load": {
            "model": "closed",
            "stages": [
                {"duration": RAMP_S, "players": players},
                {"duration": hold_s, "players": players},
            ],
        },
        "personas": reference.personas.model_dump(),
        "think_time": THINK,
        "impatience": PATIENT,
    }


def _counters(state_dir: Path) -> tuple[int | None, int | None]:
    """(PostgreSQL commits, Redis commands) so far; None when not readable."""
    state = load_state(state_dir)
    if state is None:
        return None, None
    commits = commands = None
    postgres = state.backing_address("postgres")
    redis_url = state.backing_address("redis")
    if postgres is not None:
        try:
            import asyncio

            import asyncpg

            async def read() -> int:
                connection = await asyncpg.connect(postgres, timeout=5)
                try:
                    value = await connection.fetchval(
                        "SELECT sum(xact_commit) FROM pg_stat_database"
                    )
                    return int(value or 0)
                finally:
                    await connection.close()

            commits = asyncio.run(read())
        except (OSError, asyncpg.PostgresError, TimeoutError):
            commits = None
    if redis_url is not None:
        try:
            import redis

            client = redis.Redis.from_url(redis_url, socket_timeout=5)
            commands = int(client.info("stats")["total_commands_processed"])
            client.close()
        except (OSError, redis.RedisError):
            commands = None
    return commits, commands


def measure_step(part: str, replicas: int, config: Config) -> Step:
    players = QUICK_PLAYERS if config.quick else PLAYERS
    hold_s = QUICK_HOLD_S if config.quick else HOLD_S
    folder = config.work_dir / f"scaling-{part}-{replicas}"
    folder.mkdir(parents=True, exist_ok=True)
    path = write_scenario(scenario(part, replicas, players, hold_s), folder / "scaling.yaml")
    runs = folder / "runs"
    tree = Tree("this tree", REPO, describe_this_tree())
    argv = [sys.executable, "-m", "spikekit", "run", str(path), "--out", str(runs)]
    log = folder / "spikekit-run.log"
    child = subprocess.Popen(
        argv, cwd=folder, env=child_env(tree), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    echo = threading.Thread(target=_echo, args=(child, log, f"{part}×{replicas}"), daemon=True)
    echo.start()
    step = Step(replicas)
    window = (RAMP_S + SETTLE_S, RAMP_S + hold_s)
    try:
        counted = _count_window(runs, window)
        step.exit_code = _wait(child, RAMP_S + hold_s + 240)
    finally:
        _stop(child)
        echo.join(10.0)
    run_dirs = sorted(runs.glob("*-bench-scaling")) if runs.exists() else []
    if not run_dirs:
        raise RuntimeError(f"{part}×{replicas}: spikekit run made no run directory; see {log}")
    seconds = [s for s in _seconds(run_dirs[-1]) if s.endpoint == "*"]
    inside = [s for s in seconds if window[0] <= s.t < window[1]]
    step.served = [float(s.requests - s.failures) for s in inside]
    step.requests = sum(s.requests for s in inside)
    if counted is not None:
        step.commits, step.commands = counted
    return step


def _count_window(runs: Path, window: tuple[int, int]) -> tuple[int | None, int | None] | None:
    """Read the counters at the window's edges, in the load's run time (its ``started``
    line); None when the run never got that far."""
    began = time.monotonic()
    while time.monotonic() - began < 180:
        found = sorted(runs.glob("*-bench-scaling")) if runs.exists() else []
        if found:
            live = found[-1] / LIVE
            started = read_live_file(live).started_at if live.exists() else None
            if started is not None and load_state(found[-1] / PLATFORM_DIR) is not None:
                break
        time.sleep(0.5)
    else:
        return None
    state_dir = found[-1] / PLATFORM_DIR
    readings = []
    for edge in window:
        while time.time() < started + edge:
            time.sleep(0.2)
        readings.append(_counters(state_dir))
    (c0, r0), (c1, r1) = readings
    commits = c1 - c0 if c0 is not None and c1 is not None else None
    commands = r1 - r0 if r0 is not None and r1 is not None else None
    return commits, commands


def run(config: Config) -> Section:
    part = hottest_service()
    steps: dict[int, Step] = {}
    for replicas in (*FITTED, CHECKED):
        busy = wait_for_quiet(0.5, config.seconds(30.0, 15.0))
        print(f"  scaling: {part} ×{replicas} (other work keeps {busy:.2f} cores busy)", flush=True)
        steps[replicas] = measure_step(part, replicas, config)
    fitted = usl.fit({n: steps[n].served for n in FITTED})
    checked = steps[CHECKED]
    measured_4 = float(np.mean(checked.served)) if checked.served else float("nan")
    predicted_4 = fitted.law.throughput(CHECKED)
    error = (predicted_4 - measured_4) / measured_4 if measured_4 > 0 else float("nan")
    counted = [s for s in steps.values() if s.requests > 0]
    figures = ScalingFigures(
        part=part,
        steps={n: s.served for n, s in steps.items() if n in FITTED},
        checked_replicas=CHECKED,
        checked_served=checked.served,
        predicted_checked=predicted_4,
        commits=[
            Counted(count=s.commits, requests=s.requests) for s in counted if s.commits is not None
        ],
        commands=[
            Counted(count=s.commands, requests=s.requests)
            for s in counted
            if s.commands is not None
        ],
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
        source=f"python -m bench --only scaling, {describe_this_tree()}",
        cores=len(__import__("os").sched_getaffinity(0)),
    )
    written = write_scaling(figures)
    section = Section("scaling", "7. Scaling: replicas and the Universal Scalability Law", "")
    for n, step in steps.items():
        mean = float(np.mean(step.served)) if step.served else float("nan")
        role = "fitted" if n in FITTED else "checked (not fitted)"
        section.rows.append(
            Row(
                f"{part} ×{n}: served req/s",
                f"{mean:.0f}",
                f"{mean / np.mean(steps[1].served):.2f}x ×1" if steps[1].served else "",
                "",
                f"{role}; {len(step.served)} s window, exit {step.exit_code}",
            )
        )
    law = fitted.law
    section.rows += [
        Row(
            "USL σ (contention)",
            f"{law.sigma:.3f}",
            "",
            "",
            f"interval {fitted.sigma.low:.3f}–{fitted.sigma.high:.3f} (bootstrap, 5–95 %)",
        ),
        Row(
            "USL κ (coherency)",
            f"{law.kappa:.4f}",
            "",
            "",
            f"interval {fitted.kappa.low:.4f}–{fitted.kappa.high:.4f}",
        ),
        Row(
            "replicas where more stop helping (N*)",
            "∞" if law.peak_replicas == float("inf") else f"{law.peak_replicas:.1f}",
            "",
            "",
            f"interval {fitted.peak_replicas.low:.1f}–{fitted.peak_replicas.high:.1f}",
        ),
        Row(
            f"prediction at ×{CHECKED}",
            f"{predicted_4:.0f} req/s predicted, {measured_4:.0f} measured",
            f"error {error:+.1%}",
            "|error| <= 20%",
            "the law was fitted on ×1–×3 only",
        ),
    ]
    players = QUICK_PLAYERS if config.quick else PLAYERS
    think = f"{THINK['min']}–{THINK['max']} s"
    section.notes.append(
        f"Each step: `spikekit run` with `target.replicas: {{{part}: N}}`, {players} "
        f"players ramped in {RAMP_S} s, then held with a think time of {think} "
        "(more than the platform serves: the throughput is its ceiling at that replica count); "
        "served = requests answered without failure a second, over the hold after "
        f"{SETTLE_S} s. {part} is the service with the most CPU per request in the platform "
        f"bench. The fit and the per-request commits and Redis commands are in {written.name}, "
        "read by `spikekit plan`. On a 2-core machine every replica shares the same two cores: "
        "σ here measures that sharing as much as the service's own serial work."
    )
    return section
