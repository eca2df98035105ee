"""Benchmark 1 — the load generator: requests per second per core against one fixed target.

The target is one uvicorn worker (uvloop + httptools) serving a tiny JSON endpoint
(:mod:`bench.target`), pinned to core 0; each generator runs pinned to core 1, one after
the other, 64 concurrent users or connections, no think time:

- ``spikekit personas``: :func:`spikekit.load.run_load` with one worker and the real
  personas (login, lobby, launch, rounds, deposits — POSTs with JSON bodies, impatience,
  acknowledged-transaction log, per-second HDR histograms sent to the master), sending
  through spikekit's own HTTP client (:mod:`spikekit.load.client`), not Locust's
  ``FastHttpSession``; the master shares core 1. Counted from the load engine's own
  per-second summaries.
- ``spikekit pooled user``: a Locust ``User`` sending ``GET /`` through the personas' own
  client over the load engine's shared connection pool (spikekit's ``configure_pool``):
  the client and connection model without journeys.
- raw Locust ``FastHttpUser`` and ``HttpUser`` (``GET /``, one connection per user).
- ``wrk`` (C, one thread) and ``bombardier`` (Go, fasthttp) — ``GET /``.

Ratios are to raw Locust ``FastHttpUser`` and to ``wrk``; the busy fraction of both cores
says which side was the limit. Like for like: every generator meets the same target process
with the same users and connections, warm-up and counted window, pinned to the same core;
what differs is the work per request (``GET /`` against a persona's journey step), and that
spikekit runs as a master plus a worker on that core where raw Locust is one process.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.cpu import CoreSampler
from bench.harness import (
    REPO,
    REPO_TOOLS,
    Config,
    Row,
    Section,
    format_number,
    format_ratio,
    median,
    paired_ratio,
    pinned,
    spread,
)
from bench.target import TinyTarget
from spikekit.load import LoadEvents, LoadOptions, LoadStarted, SecondSummary, run_load
from spikekit.processes import spawn
from spikekit.scenarios import Scenario

TARGET_CORE, GENERATOR_CORE = 0, 1
FACTS_FAST = 7_050  # req/s, raw Locust FastHttpUser on one core (FACTS.md)
#: The personas through Locust's FastHttpSession, before their own client (this benchmark,
#: 2026-11-27 11:32 UTC): personas req/s, raw Locust FastHttpUser req/s, paired ratio.
BEFORE_OWN_CLIENT = (7_524, 9_417, 0.77)
USERS = 64


@dataclass(frozen=True)
class Measurement:
    tool: str
    requests: int
    seconds: float
    failures: int
    generator_busy: float | None = None
    target_busy: float | None = None
    rep: int = 0
    detail: str = ""  # what the requests were, when not all GET /

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Window:
    warmup_s: float
    seconds: float

    @property
    def total_s(self) -> float:
        return self.warmup_s + self.seconds


def _busy(sampler: CoreSampler) -> tuple[float | None, float | None]:
    busy = sampler.result()
    if len(busy) <= max(TARGET_CORE, GENERATOR_CORE):
        return None, None
    return busy[GENERATOR_CORE], busy[TARGET_CORE]


def _run_pinned(argv: list[str], timeout: float, log: Path) -> str:
    """Run ``argv`` on the generator core to its end (killed past ``timeout``); its output."""
    with pinned({GENERATOR_CORE}):
        process = spawn(Path(argv[0]).name, argv, log, cwd=REPO, death_signal=signal.SIGKILL)
    try:
        code = process.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        process.popen.kill()
        process.popen.wait(5)
        raise RuntimeError(f"{argv[0]} did not finish in {timeout:.0f} s") from None
    output = log.read_text(errors="replace")
    if code != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed ({code}): {output[-800:]}")
    return output


def _json_line(output: str) -> dict[str, Any]:
    """The last line of ``output`` that is a JSON object (logs may surround it)."""
    for line in reversed(output.splitlines()):
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                value = json.loads(line)
                if isinstance(value, dict):
                    return value
    raise RuntimeError(f"no JSON result in: {output[-500:]}")


_serial = itertools.count(1)


def _log(work_dir: Path, tool: str) -> Path:
    return work_dir / f"{tool}-{next(_serial)}.log"


def measure_locust(kind: str, url: str, window: Window, work_dir: Path) -> Measurement:
    argv = [
        sys.executable,
        "-m",
        "bench.locust_child",
        "--host",
        url,
        "--kind",
        kind,
        "--users",
        str(USERS),
        "--warmup",
        str(window.warmup_s),
        "--seconds",
        str(window.seconds),
    ]
    # Locust starts in about 1.5 s; sample the cores inside the measured window.
    sampler = CoreSampler(1.5 + window.warmup_s + 1.0, max(window.seconds - 2.0, 1.0)).start()
    result = _json_line(_run_pinned(argv, window.total_s + 60, _log(work_dir, f"locust-{kind}")))
    generator, target = _busy(sampler)
    return Measurement(
        f"locust-{kind}",
        int(result["requests"]),
        float(result["seconds"]),
        int(result["failures"]),
        generator,
        target,
    )


def measure_wrk(url: str, window: Window, work_dir: Path) -> Measurement:
    seconds = round(window.total_s)
    sampler = CoreSampler(window.warmup_s, max(seconds - window.warmup_s - 1.0, 1.0)).start()
    argv = ["wrk", "-t1", f"-c{USERS}", f"-d{seconds}s", url + "/"]
    out = _run_pinned(argv, seconds + 30, _log(work_dir, "wrk"))
    requests, took = _wrk_totals(out)
    errors = 0
    for line in out.splitlines():
        if "Non-2xx" in line or "Socket errors" in line:
            errors += sum(int(n) for n in _numbers(line))
    generator, target = _busy(sampler)
    return Measurement("wrk", requests, took, errors, generator, target)


def _numbers(text: str) -> list[str]:
    return [part.strip(",") for part in text.split() if part.strip(",").isdigit()]


def _wrk_totals(out: str) -> tuple[int, float]:
    """``137742 requests in 5.04s`` → (137742, 5.04)."""
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 4 and words[1] == "requests" and words[2] == "in":
            took = words[3].rstrip(",")
            seconds = float(took[:-2]) / 1000 if took.endswith("ms") else float(took.rstrip("s"))
            return int(words[0]), seconds
    raise RuntimeError(f"no totals in wrk's output: {out[-500:]}")


def measure_bombardier(url: str, window: Window, work_dir: Path) -> Measurement:
    seconds = round(window.total_s)
    binary = REPO_TOOLS / "bombardier"
    sampler = CoreSampler(window.warmup_s, max(seconds - window.warmup_s - 1.0, 1.0)).start()
    argv = [str(binary), "-c", str(USERS), "-d", f"{seconds}s", "-p", "r", "-o", "json", url + "/"]
    result = _json_line(_run_pinned(argv, seconds + 30, _log(work_dir, "bombardier")))["result"]
    codes = ("req1xx", "req2xx", "req3xx", "req4xx", "req5xx", "others")
    requests = sum(int(result[c]) for c in codes)
    failures = int(result["req4xx"]) + int(result["req5xx"]) + int(result["others"])
    generator, target = _busy(sampler)
    return Measurement(
        "bombardier", requests, float(result["timeTakenSeconds"]), failures, generator, target
    )


def persona_scenario(url: str, window: Window) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "bench-personas",
            "target": {"url": url},
            "population": {"accounts": 10_000},
            "load": {
                "model": "closed",
                "stages": [
                    {"duration": 1.0, "players": USERS, "ramp": "linear"},
                    {"duration": window.total_s + 1.0, "players": USERS},
                ],
            },
            "think_time": {"min": 0, "max": 0},
        }
    )


def measure_personas(url: str, window: Window, work_dir: Path) -> Measurement:
    scenario = persona_scenario(url, window)
    seconds: list[SecondSummary] = []
    samplers: list[CoreSampler] = []
    events = LoadEvents()
    events.second_elapsed.add_listener(seconds.append)

    def on_started(_: LoadStarted) -> None:
        samplers.append(CoreSampler(1.0 + window.warmup_s + 1.0, window.seconds - 2.0).start())

    events.started.add_listener(on_started)
    run_dir = Path(tempfile.mkdtemp(prefix="personas-", dir=work_dir))
    options = LoadOptions(workers=1, stop_timeout_s=2.0, grace_s=5.0, kill_grace_s=3.0)
    with pinned({GENERATOR_CORE}):
        result = run_load(scenario, url, run_dir, options, events)
    begin = 1 + int(window.warmup_s)
    counted = [s for s in seconds if begin <= s.t < begin + int(window.seconds)]
    if not counted:
        raise RuntimeError(f"the persona run recorded no second ({result.status}: {result.reason})")
    generator, target = _busy(samplers[0]) if samplers else (None, None)
    endpoints: dict[str, int] = {}
    for second in counted:
        for name, (requests, _, _) in second.endpoints.items():
            endpoints[name] = endpoints.get(name, 0) + requests
    total = sum(endpoints.values()) or 1
    top = sorted(endpoints.items(), key=lambda item: -item[1])[:4]
    return Measurement(
        "spikekit-personas",
        sum(s.requests for s in counted),
        float(len(counted)),
        sum(s.failures + s.generator_errors for s in counted),
        generator,
        target,
        detail=", ".join(f"{name} {count / total:.0%}" for name, count in top),
    )


LABELS = {
    "spikekit-personas": "spikekit personas (run_load, 1 worker, real journeys)",
    "locust-pooled": "spikekit pooled user (players' client + configure_pool, GET /)",
    "locust-fast": "raw Locust FastHttpUser",
    "locust-http": "raw Locust HttpUser",
    "wrk": "wrk 4.1 (1 thread)",
    "bombardier": "bombardier 1.2.6 (Go, stands in for k6)",
}


def run(config: Config) -> Section:
    window = Window(
        warmup_s=config.seconds(2.0, 1.0),
        seconds=config.seconds(6.0, 4.0),
    )
    work_dir = Path(tempfile.mkdtemp(prefix="bench-loadgen-", dir=config.work_dir))
    tools: dict[str, Callable[[str], Measurement]] = {
        "spikekit-personas": lambda url: measure_personas(url, window, work_dir),
        "locust-pooled": lambda url: measure_locust("pooled", url, window, work_dir),
        "locust-fast": lambda url: measure_locust("fast", url, window, work_dir),
        "locust-http": lambda url: measure_locust("http", url, window, work_dir),
        "wrk": lambda url: measure_wrk(url, window, work_dir),
        "bombardier": lambda url: measure_bombardier(url, window, work_dir),
    }
    names = list(tools)
    measured: dict[str, list[Measurement]] = {name: [] for name in names}
    errors: list[str] = []
    with TinyTarget(work_dir, cores={TARGET_CORE}) as target:
        for rep in range(config.repeats):
            order = names[rep % len(names) :] + names[: rep % len(names)]  # rotate the order
            for name in order:
                try:
                    measured[name].append(replace(tools[name](target.url), rep=rep))
                except Exception as error:  # one tool failing must not lose the others
                    errors.append(f"{name} (run {rep + 1}): {error}")
                print(f"  loadgen {name} run {rep + 1}: {_last(measured[name])}", flush=True)
    return _section(config, window, measured, errors)


def _last(values: list[Measurement]) -> str:
    if not values:
        return "failed"
    m = values[-1]
    return f"{m.rate:,.0f} req/s, {m.failures} failures"


def _per_run(by_rep: dict[str, dict[int, float]]) -> list[str]:
    """Each run's personas and pooled user against raw Locust FastHttpUser, and the before."""
    fast = by_rep.get("locust-fast", {})
    notes = []
    for name in ("spikekit-personas", "locust-pooled"):
        runs = [
            f"run {rep + 1}: {rate:,.0f} / {fast[rep]:,.0f} = {rate / fast[rep]:.2f}x"
            for rep, rate in sorted(by_rep.get(name, {}).items())
            if fast.get(rep)
        ]
        if runs:
            notes.append(f"Per run, {LABELS[name]} / raw Locust FastHttpUser: {'; '.join(runs)}.")
    personas, raw, ratio = BEFORE_OWN_CLIENT
    notes.append(
        f"Before the players' own HTTP client (through Locust's FastHttpSession, 2026-11-27): "
        f"personas {personas:,} req/s against raw Locust FastHttpUser {raw:,}, {ratio:.2f}x."
    )
    return notes


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value * 100:.0f} %"


def _section(
    config: Config, window: Window, measured: dict[str, list[Measurement]], errors: list[str]
) -> Section:
    rates = {name: median([m.rate for m in ms]) for name, ms in measured.items() if ms}
    by_rep = {name: {m.rep: m.rate for m in ms} for name, ms in measured.items()}
    rows = []
    for name, ms in measured.items():
        if not ms:
            rows.append(Row(LABELS[name], "failed", note="; ".join(errors)))
            continue
        gen = [m.generator_busy for m in ms if m.generator_busy is not None]
        tgt = [m.target_busy for m in ms if m.target_busy is not None]
        note = (
            f"{spread([m.rate for m in ms], 'req/s')}; failures {sum(m.failures for m in ms)}; "
            f"generator core {_pct(median(gen) if gen else None)} busy, "
            f"target core {_pct(median(tgt) if tgt else None)}"
        )
        to_fast = paired_ratio(by_rep[name], by_rep.get("locust-fast", {}))
        to_wrk = paired_ratio(by_rep[name], by_rep.get("wrk", {}))
        both = f"{format_ratio(to_fast, 'Locust Fast')}, {format_ratio(to_wrk, 'wrk')}"
        if ms[-1].detail:
            note += f"; requests: {ms[-1].detail}"
        rows.append(Row(LABELS[name], format_number(rates[name], "req/s"), both, "", note))
    notes = [
        f"Each run: {USERS} users / connections, no think time, {window.warmup_s:g} s warm-up, "
        f"{window.seconds:g} s counted; target = one uvicorn worker (uvloop, httptools, raw "
        f"ASGI app, ~250-byte JSON) pinned to core {TARGET_CORE}; generator pinned to core "
        f"{GENERATOR_CORE}. Figures: medians of {config.repeats} runs; tools interleaved, "
        "the order rotated each run; ratios: the median of the ratios within each run.",
        "Like for like: every generator meets the same target process in the same invocation, "
        f"with the same {USERS} users and at most {USERS} connections (raw Locust one per user; "
        "spikekit's users share one pool, which never holds more than one per user), the same "
        "warm-up and counted window, on the same core. spikekit runs as its Locust master plus "
        "one worker, both on that core (the master's share counts against spikekit); raw Locust "
        "is one local runner. What differs is the work: raw Locust and the pooled user send "
        "`GET /`; the personas play their journeys (POSTs with JSON bodies, auth and client-"
        "address headers, answers parsed, impatience, acknowledgement log, per-second HDR "
        "histograms sent to the master).",
        "And the HTTP client differs: raw Locust sends through its `FastHttpSession` "
        "(geventhttpclient); spikekit's personas and pooled user through spikekit's own client "
        "(`spikekit/load/client.py`, `http.py`: requests encoded straight to bytes, answers "
        "parsed by httptools, the same bounded keep-alive pool semantics), which fires "
        "Locust's request event itself, so Locust's statistics count both the same way.",
        "k6 is not used: this workplace's package list marks `go.k6.io/k6` do-not-use (AGPL); "
        "bombardier (MIT, Go, fasthttp) is the compiled peer beside wrk.",
        "When the target core is near 100 % busy the figure may be the target's limit, not the "
        "generator's: wrk and bombardier then measure uvicorn, and their ratio to Locust is a "
        "lower bound of how much faster they are. Busy counts every process on the core, the "
        "other engineers' runs included (pinning keeps ours apart, not theirs).",
    ]
    notes.extend(_per_run(by_rep))
    fast = rates.get("locust-fast")
    if fast:
        notes.append(
            f"Scale: FACTS.md measured raw Locust FastHttpUser at {FACTS_FAST:,} req/s on a quiet "
            f"core (100 users); here {fast:,.0f} ({fast / FACTS_FAST:.2f}x): the share of the "
            "machine the other engineers' runs left to this one."
        )
    if errors:
        notes.append("Errors: " + "; ".join(errors))
    return Section(
        key="loadgen",
        title="1. Load generator: requests per second on one core",
        command="",
        rows=rows,
        notes=notes,
    )
