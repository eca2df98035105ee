"""Benchmark 5 — chaos timing: scheduled vs actual inject time, and ``revert --all``.

A real ``toxiproxy-server`` (``.tools/bin``, built by ``make install``) fronts a real
upstream (the tiny uvicorn target) through two proxies, with a client sending requests
through one of them all along.

- **Inject lag**: 50 short latency faults (0.25 s each, one every 0.1 s, so about three
  overlap) on :class:`spikekit.chaos.schedule.Scheduler` under :class:`ChaosRun`, with the
  journal as sink, as a run drives them. Per fault: *start lag* (planned offset → the
  scheduler's worker calls ``inject()``), *inject lag* (planned offset → the toxic is
  in place, Toxiproxy's answer received) and *revert lag* (planned end → removed).
- **revert --all**: ten faults of six kinds (latency, bandwidth, slow_close, reset_peer,
  timeout, a link down) injected and journaled, the process that injected them
  "crashed" (nothing reverted), then :func:`spikekit.chaos.revert.revert_from_journal`
  timed in this process, and ``spikekit chaos revert --all JOURNAL`` timed as the command
  a user runs (a fresh Python process: imports included). Every toxic must be gone.
"""

from __future__ import annotations

import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.harness import REPO, Config, Row, Section, median, percentile, spread
from bench.target import TinyTarget
from spikekit.chaos.context import ChaosContext
from spikekit.chaos.registry import build_fault
from spikekit.chaos.revert import revert_from_journal
from spikekit.chaos.run import ChaosRun
from spikekit.chaos.schedule import MonotonicClock, ScheduledFault, Scheduler
from spikekit.ports import LOOPBACK, free_port
from spikekit.processes import spawn
from spikekit.rundir.journal import Journal
from spikekit.scenarios.faults import (
    NetworkBandwidth,
    NetworkDown,
    NetworkLatency,
    NetworkResetPeer,
    NetworkSlowClose,
    NetworkTimeout,
)
from spikekit.toxiproxy.client import ToxiproxyClient
from spikekit.toxiproxy.server import ToxiproxyServer, find_toxiproxy_server

FAULTS, EVERY_S, LENGTH_S, FIRST_S = 50, 0.1, 0.25, 0.5
LINKS = ("bench-a", "bench-b")
CLI = REPO / ".venv" / "bin" / "spikekit"


@dataclass
class Lags:
    start: list[float] = field(default_factory=list)
    inject: list[float] = field(default_factory=list)
    revert: list[float] = field(default_factory=list)
    errors: int = 0


class Traffic:
    """A client sending ``GET /`` through a proxy every ``every_s``, until stopped."""

    def __init__(self, url: str, every_s: float = 0.01, max_s: float = 120.0) -> None:
        self.url = url
        self.every_s = every_s
        self.max_s = max_s
        self.requests = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="traffic", daemon=True)

    def _run(self) -> None:
        until = time.monotonic() + self.max_s
        with httpx.Client(timeout=2.0) as client:
            while not self._stop.is_set() and time.monotonic() < until:
                try:
                    client.get(self.url)
                    self.requests += 1
                except httpx.HTTPError:
                    self.errors += 1
                self._stop.wait(self.every_s)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)


def toxics(api: str) -> int:
    with ToxiproxyClient(api) as client:
        return sum(len(p.toxics) for p in client.list_proxies().values())


def disabled(api: str) -> int:
    with ToxiproxyClient(api) as client:
        return sum(1 for p in client.list_proxies().values() if not p.enabled)


def inject_lags(ctx: ChaosContext, folder: Path, index: int) -> Lags:
    entries = []
    for i in range(FAULTS):
        offset = FIRST_S + i * EVERY_S
        spec = NetworkLatency(type="network.latency", at=offset, link=LINKS[0], latency_ms=20)
        fault = build_fault(spec, ctx, fault_id=f"lag-{index}-{i}", duration_s=LENGTH_S)
        entries.append(ScheduledFault(fault, offset, LENGTH_S))
    with Journal(folder / f"journal-lag-{index}.jsonl") as journal:
        scheduler = Scheduler(entries, clock=MonotonicClock(journal.started), sinks=[journal])
        with ChaosRun(scheduler, handle_signals=False) as run:
            if not run.wait(60):
                raise RuntimeError("the 50 faults did not finish within 60 s")
    lags = Lags()
    for r in scheduler.runs.values():
        if r.error or r.started_t is None or r.injected_t is None or r.reverted_t is None:
            lags.errors += 1
            continue
        lags.start.append(r.started_t - r.planned_t)
        lags.inject.append(r.injected_t - r.planned_t)
        if r.planned_end_t is not None:
            lags.revert.append(r.reverted_t - r.planned_end_t)
    return lags


def ten_faults(ctx: ChaosContext, index: int) -> list[ScheduledFault]:
    a, b = LINKS
    specs: list[Any] = [
        NetworkLatency(type="network.latency", at=0, link=a, latency_ms=100),
        NetworkLatency(type="network.latency", at=0, link=b, latency_ms=50, jitter_ms=10),
        NetworkLatency(type="network.latency", at=0, link=a, latency_ms=5, direction="upstream"),
        NetworkBandwidth(type="network.bandwidth", at=0, link=a, rate_kb_s=64),
        NetworkBandwidth(type="network.bandwidth", at=0, link=b, rate_kb_s=128),
        NetworkSlowClose(type="network.slow_close", at=0, link=a, delay_ms=200),
        NetworkSlowClose(type="network.slow_close", at=0, link=b, delay_ms=100),
        NetworkResetPeer(type="network.reset_peer", at=0, link=a, timeout_ms=500),
        NetworkTimeout(type="network.timeout", at=0, link=b, timeout_ms=1000),
        NetworkDown(type="network.down", at=0, link=b),
    ]
    return [
        ScheduledFault(build_fault(s, ctx, fault_id=f"ten-{index}-{i}"), 0.01 * i, None)
        for i, s in enumerate(specs)
    ]


def leave_ten_on(ctx: ChaosContext, journal_file: Path, index: int) -> None:
    """Inject ten faults and journal them, then walk away as a crashed run would."""
    executor = ThreadPoolExecutor(max_workers=10, thread_name_prefix="bench-chaos")
    with Journal(journal_file) as journal:
        scheduler = Scheduler(
            ten_faults(ctx, index),
            clock=MonotonicClock(journal.started),
            sinks=[journal],
            executor=executor,
        )
        scheduler.run()  # injects only: no durations, no run end
    executor.shutdown(wait=True)
    failed = [r.fault_id for r in scheduler.runs.values() if r.injected_t is None]
    if failed:
        raise RuntimeError(f"could not inject {failed}")


def revert_in_process(api: str, ctx: ChaosContext, folder: Path, index: int) -> float:
    journal = folder / f"journal-ten-{index}.jsonl"
    leave_ten_on(ctx, journal, index)
    assert toxics(api) == 9 and disabled(api) == 1, "ten faults should be on"
    began = time.perf_counter()
    outcomes = revert_from_journal(journal, ctx)
    took = time.perf_counter() - began
    if len(outcomes) != 10 or not all(o.ok for o in outcomes):
        raise RuntimeError(f"revert_from_journal: {[o.error for o in outcomes if not o.ok]}")
    if toxics(api) or disabled(api):
        raise RuntimeError("faults left on after revert_from_journal")
    return took


def revert_by_cli(api: str, ctx: ChaosContext, folder: Path, index: int) -> float:
    journal = folder / f"journal-cli-{index}.jsonl"
    leave_ten_on(ctx, journal, index)
    log = folder / f"revert-cli-{index}.log"
    began = time.perf_counter()
    process = spawn("revert-cli", [str(CLI), "chaos", "revert", "--all", str(journal)], log)
    try:
        code = process.popen.wait(60)
    finally:
        process.stop(5)
    took = time.perf_counter() - began
    if code != 0 or toxics(api) or disabled(api):
        raise RuntimeError(f"spikekit chaos revert --all failed ({code}): {log.read_text()[-800:]}")
    return took


def run(config: Config) -> Section:
    binary = find_toxiproxy_server()
    if binary is None:
        raise RuntimeError("no toxiproxy-server: run 'make install' (it builds .tools/bin)")
    folder = Path(tempfile.mkdtemp(prefix="bench-chaos-", dir=config.work_dir))
    lags = Lags()
    reverts: list[float] = []
    cli: list[float] = []
    with (
        TinyTarget(folder) as upstream,
        ToxiproxyServer(binary, log_file=folder / "toxiproxy.log") as server,
    ):
        with ToxiproxyClient(server.url) as client:
            listen = {}
            for link in LINKS:
                listen[link] = f"{LOOPBACK}:{free_port()}"
                client.create_proxy(
                    link, listen=listen[link], upstream=f"{LOOPBACK}:{upstream.port}"
                )
        ctx = ChaosContext(toxiproxy_url=server.url)
        with Traffic(f"http://{listen[LINKS[0]]}/") as traffic:
            for index in range(config.repeats):
                one = inject_lags(ctx, folder, index)
                lags.start += one.start
                lags.inject += one.inject
                lags.revert += one.revert
                lags.errors += one.errors
                p50, p99 = _ms(one.inject, 0.5), _ms(one.inject, 0.99)
                print(f"  chaos lag run {index + 1}: inject p50 {p50}, p99 {p99}", flush=True)
        for index in range(config.repeats):
            reverts.append(revert_in_process(server.url, ctx, folder, index))
            cli.append(revert_by_cli(server.url, ctx, folder, index))
            print(
                f"  chaos revert run {index + 1}: {reverts[-1] * 1e3:.0f} ms in process, "
                f"{cli[-1] * 1e3:.0f} ms by the CLI",
                flush=True,
            )
    return _section(config, lags, reverts, cli, traffic)


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1e3:.1f} ms"


def _section(
    config: Config, lags: Lags, reverts: list[float], cli: list[float], traffic: Traffic
) -> Section:
    total = len(lags.inject) + lags.errors
    in_process, by_cli = median(reverts), median(cli)
    rows = [
        Row(
            "start lag (planned → inject() called), p50 / p99",
            f"{_ms(lags.start, 0.5)} / {_ms(lags.start, 0.99)}",
            "",
            "",
            f"{total} faults; max {max(lags.start) * 1e3:.1f} ms",
        ),
        Row(
            "inject lag (planned → toxic in place), p50 / p99",
            f"{_ms(lags.inject, 0.5)} / {_ms(lags.inject, 0.99)}",
            f"p99 {percentile(lags.inject, 0.99) / EVERY_S:.2f}x the 100 ms spacing",
            "",
            f"max {max(lags.inject) * 1e3:.1f} ms; failed faults {lags.errors}",
        ),
        Row(
            "revert lag (planned end → toxic removed), p50 / p99",
            f"{_ms(lags.revert, 0.5)} / {_ms(lags.revert, 0.99)}",
            "",
            "",
            f"max {max(lags.revert) * 1e3:.1f} ms",
        ),
        Row(
            "revert --all, 10 active faults: revert_from_journal",
            f"{in_process * 1e3:.0f} ms",
            "1.00x",
            "",
            f"{spread([r * 1e3 for r in reverts], 'ms')}; {in_process / 10 * 1e3:.1f} ms per fault",
        ),
        Row(
            "revert --all, 10 active faults: `spikekit chaos revert --all JOURNAL`",
            f"{by_cli * 1e3:.0f} ms",
            f"{by_cli / in_process:.1f}x in process",
            "",
            f"{spread([r * 1e3 for r in cli], 'ms')}; a fresh process: Python start and imports",
        ),
    ]
    notes = [
        f"{config.repeats} x {FAULTS} latency faults of {LENGTH_S * 1e3:.0f} ms, one every "
        f"{EVERY_S * 1e3:.0f} ms, on a real toxiproxy-server in front of a real upstream "
        f"(the tiny uvicorn target), with a client sending a request through the link every "
        f"10 ms ({traffic.requests:,} requests, {traffic.errors} errors); percentiles over all "
        f"{total} faults. Ten faults for revert: latency x3, bandwidth x2, slow_close x2, "
        f"reset_peer, timeout and a link down, on two links; medians of {config.repeats}.",
    ]
    return Section(
        key="chaos",
        title="5. Chaos timing: inject lag and revert --all",
        command="",
        rows=rows,
        notes=notes,
    )
