"""Benchmark 2 — player capacity: the most concurrent players this machine holds.

The load engine as a run uses it (:class:`spikekit.load.LoadRunner`, master + one worker
per core, the real personas, each worker's players sharing one pool of 512 keep-alive
connections) ramps to the spike's 120,000 players and holds them, against the tiny target
served by two uvicorn processes with a long keep-alive. Think times are long (60-120 s)
so that the machine is not CPU-bound: the figure is about memory and sockets. The run is
bounded by the runner's own deadlines.

Measured each second (from the load engine's summaries and ``psutil``): players held,
RSS of the generator processes (master + workers), generator errors (EMFILE,
EADDRNOTAVAIL, ... — counted apart from platform failures) and failures.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.harness import Config, Row, Section, format_number, median
from bench.target import TinyTarget
from spikekit.load import LoadEvents, LoadOptions, LoadRunner, SecondSummary
from spikekit.scenarios import Scenario

TARGET_PLAYERS = 120_000
TARGET_KIB = 25.0
CONNECTIONS = 512
#: 1,333 players/s, under the 2,900/s per core of FACTS.md on a quiet machine. The
#: shape hands Locust the ramp's slope as its spawn rate and 1 user/s on a flat stage, so
#: players still missing when a faster ramp ends arrive at 1/s (see the report).
RAMP_S = 90.0
HELD_S = 10  # players count as held when alive for this many consecutive seconds


@dataclass
class Sample:
    t: int
    players: int
    target_players: int
    rss_bytes: int
    requests: int
    failures: int
    generator_errors: int
    cpu_max: float
    p95_ms: float


@dataclass
class CapacityRun:
    players: int
    ramp_s: float
    hold_s: float
    samples: list[Sample] = field(default_factory=list)
    status: str = ""
    warnings: list[str] = field(default_factory=list)
    heartbeats_missed: int = 0  # Locust master: "failed to send heartbeat"
    stopped_for_missing: int = 0  # Locust master: "The last worker went missing, stopping test"

    def best_window(self) -> list[Sample]:
        """The ``HELD_S`` consecutive seconds with the most players in every one of them,
        each second with requests completing (players that get no answer are not held)."""
        running = [s for s in self.samples if s.target_players > 0]  # not yet stopping
        windows = [running[i : i + HELD_S] for i in range(max(len(running) - HELD_S + 1, 0))]
        windows = [w for w in windows if all(s.requests > 0 for s in w)]
        return max(windows, key=lambda w: min(s.players for s in w), default=[])

    @property
    def held(self) -> int:
        return min((s.players for s in self.best_window()), default=0)

    @property
    def at_ramp_end(self) -> int:
        """Players when the ramp's target reached its peak (how well spawning kept up)."""
        ended = [s for s in self.samples if s.t >= self.ramp_s - 1]
        return ended[0].players if ended else 0

    @property
    def peak(self) -> int:
        return max((s.players for s in self.samples), default=0)

    @property
    def stalled_s(self) -> int:
        """Seconds of the shape, after the first request, in which no request completed."""
        running = [s for s in self.samples if s.target_players > 0]
        first = next((i for i, s in enumerate(running) if s.requests), len(running))
        return sum(1 for s in running[first:] if not s.requests)

    @property
    def rss_bytes(self) -> int:
        """Generator RSS at the end of the best window (all its players alive)."""
        window = self.best_window()
        return window[-1].rss_bytes if window else 0

    @property
    def kib_per_player(self) -> float:
        window = self.best_window()
        if not window or not window[-1].players:
            return float("nan")
        return window[-1].rss_bytes / 1024 / window[-1].players

    @property
    def generator_errors(self) -> int:
        return sum(s.generator_errors for s in self.samples)

    @property
    def failures(self) -> int:
        return sum(s.failures for s in self.samples)

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.samples)


def scenario(url: str, players: int, ramp_s: float, hold_s: float) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "bench-capacity",
            "target": {"url": url},
            "population": {"accounts": players},
            "load": {
                "model": "closed",
                "stages": [
                    {"duration": ramp_s, "players": players, "ramp": "linear"},
                    {"duration": hold_s, "players": players},
                ],
            },
            "think_time": {"min": 60, "max": 120},
        }
    )


def _rss(runner: LoadRunner) -> int:
    total = 0
    for process in [p for p in (runner.master, *runner.workers) if p is not None]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += psutil.Process(process.pid).memory_info().rss
    return total


def measure(url: str, players: int, ramp_s: float, hold_s: float, work_dir: Path) -> CapacityRun:
    run = CapacityRun(players, ramp_s, hold_s)
    events = LoadEvents()
    options = LoadOptions(
        workers=2,
        connections_per_worker=CONNECTIONS,
        stop_timeout_s=5.0,
        grace_s=10.0,
        kill_grace_s=5.0,
    )
    run_dir = Path(tempfile.mkdtemp(prefix="capacity-", dir=work_dir))
    runner = LoadRunner(scenario(url, players, ramp_s, hold_s), url, run_dir, options, events)

    def on_second(s: SecondSummary) -> None:
        run.samples.append(
            Sample(
                s.t,
                s.actual_players,
                s.target_players,
                _rss(runner),
                s.requests,
                s.failures,
                s.generator_errors,
                s.generator_cpu_max,
                s.p95_ms,
            )
        )
        if s.t % 10 == 0:
            print(
                f"  capacity t={s.t}s players {s.actual_players:,}/{s.target_players:,} "
                f"rss {run.samples[-1].rss_bytes / 2**20:,.0f} MiB "
                f"gen errors {s.generator_errors} failures {s.failures}",
                flush=True,
            )

    events.second_elapsed.add_listener(on_second)
    with runner:
        result = runner.wait()
    run.status = f"{result.status.value}{f' ({result.reason})' if result.reason else ''}"
    run.warnings = list(result.warnings)
    master_log = run_dir / "load" / "master.log"
    if master_log.exists():
        text = master_log.read_text(errors="replace")
        run.heartbeats_missed = text.count("failed to send heartbeat")
        run.stopped_for_missing = text.count("The last worker went missing, stopping test")
    return run


def run(config: Config) -> Section:
    players = 30_000 if config.quick else TARGET_PLAYERS
    ramp_s, hold_s = (30.0, 20.0) if config.quick else (RAMP_S, 30.0)
    work_dir = Path(tempfile.mkdtemp(prefix="bench-capacity-", dir=config.work_dir))
    with TinyTarget(work_dir, workers=2, keep_alive_s=600, backlog=4096) as target:
        result = measure(target.url, players, ramp_s, hold_s, work_dir)
    return _section(result)


def _section(run: CapacityRun) -> Section:
    window = run.best_window()
    rate = median([float(s.requests) for s in window]) if window else 0.0
    p95 = median([s.p95_ms for s in window]) if window else float("nan")
    cpu = median([s.cpu_max for s in window]) if window else float("nan")
    held_ok = run.held >= TARGET_PLAYERS
    kib_ok = run.kib_per_player <= TARGET_KIB
    errors_ok = run.generator_errors == 0
    rows = [
        Row(
            f"players held ({HELD_S} s in a row)",
            f"{run.held:,}",
            f"{run.held / TARGET_PLAYERS:.2f}x target",
            f">= {TARGET_PLAYERS:,}",
            ("met" if held_ok else "MISSED")
            + f"; peak {run.peak:,} (answered or not); run {run.status}",
        ),
        Row(
            "KiB per player (generator RSS / players held)",
            f"{run.kib_per_player:.1f} KiB",
            f"{run.kib_per_player / TARGET_KIB:.2f}x budget",
            f"<= {TARGET_KIB:g} KiB",
            ("met" if kib_ok else "MISSED")
            + f"; RSS of master + 2 workers {run.rss_bytes / 2**30:.2f} GiB",
        ),
        Row(
            "generator errors (EMFILE, EADDRNOTAVAIL, ...)",
            f"{run.generator_errors:,}",
            "",
            "0",
            ("met" if errors_ok else "MISSED") + f"; platform failures {run.failures:,}",
        ),
        Row(
            "worker heartbeats missed (Locust master log)",
            f"{run.heartbeats_missed}",
            "",
            "0",
            f"'last worker went missing, stopping test' {run.stopped_for_missing} times: "
            "a worker too busy to answer for ~3 s is dropped and its players stopped",
        ),
        Row(
            "players when the ramp reached its peak",
            f"{run.at_ramp_end:,}",
            f"{run.at_ramp_end / run.players:.2f}x target",
            "",
            f"spawned {run.at_ramp_end / run.ramp_s:,.0f} players/s against the ramp's "
            f"{run.players / run.ramp_s:,.0f}/s",
        ),
        Row(
            "requests/s while held",
            format_number(rate, "req/s"),
            "",
            "",
            f"p95 {p95:,.0f} ms (median while held); hottest generator's CPU {cpu:.0f} %; "
            f"{run.requests:,} requests in all; {run.stalled_s} s of the run with no request "
            "completed (workers stalled)",
        ),
    ]
    notes = [
        f"One run (a ceiling, bounded in time, not repeated): ramp 0 to {run.players:,} "
        f"players in {run.ramp_s:g} s, hold {run.hold_s:g} s, think 60-120 s, personas as "
        f"in a real run; LoadRunner with 2 workers x {CONNECTIONS} pooled connections; "
        "target: the tiny JSON endpoint on 2 uvicorn processes, keep-alive 600 s.",
    ]
    notes.append(
        "Players still missing when the ramp ends are caught up on the hold at the steepest "
        "ramp's rate (the shape never hands Locust a spawn rate below it), so a generator "
        "that fell behind during the ramp reaches the target early in the hold."
    )
    if run.warnings:
        notes.append("Load engine warnings: " + "; ".join(run.warnings))
    return Section(
        key="capacity",
        title="2. Player capacity: concurrent players held on this machine",
        command="",
        rows=rows,
        notes=notes,
    )
