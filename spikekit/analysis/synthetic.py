"""A synthetic run directory with known answers, for tests and benchmarks.

:func:`write_synthetic_run` writes every file of ``docs/run-directory.md`` from a
:class:`SyntheticRun`: a player ramp, per-second endpoint aggregates at any
scale (the size does not grow with the number of players), fault windows in the
journal, latency/error *disturbances* ("from second X to Y, latency x8 and 20 %
errors on this endpoint"), platform metrics, and a wallet ledger that matches the
acknowledged transactions unless told to plant discrepancies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from spikekit.rundir import layout as rundir
from spikekit.scenarios.slo import SLO, SLOMetric

ENDPOINTS = (
    "POST /api/login",
    "GET /api/lobby",
    "POST /api/games/launch",
    "POST /api/wallet/deposit",
    "POST /api/wallet/bet",
    "GET /api/wallet/balance",
)
PROVIDERS = ("provider-a", "provider-b")


def default_slos() -> tuple[SLO, ...]:
    return (
        SLO(name="p95 all", metric=SLOMetric.LATENCY_P95, threshold=200, window_s=1),
        SLO(name="errors", metric=SLOMetric.ERROR_RATE, threshold=0.01, window_s=1),
    )


@dataclass(frozen=True)
class SyntheticFault:
    fault_id: str
    start_s: float
    end_s: float | None  # None: never reverted
    fault: str = "provider_http_error"
    target: str = "provider-a"


@dataclass(frozen=True)
class SyntheticIncident:
    """A ``toolkit_incident`` at ``t``; with ``records_lost_from_s`` a hole in the load
    engine's records from then on, for the players of ``players`` (written as that
    worker's ack file) or every player (None)."""

    t: float
    kind: str = "worker_lost"
    subject: str = "load-worker-1"
    detail: str = "generator lost load-worker-1 (PID 4242, killed by SIGKILL)"
    records_lost_from_s: float | None = None
    players: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Disturbance:
    """From ``start_s`` (inclusive) to ``end_s`` (exclusive), on matching endpoints."""

    start_s: int
    end_s: int
    endpoint: str = "*"  # "*": every endpoint, else a substring of the endpoint name
    latency_factor: float = 1.0
    error_rate: float = 0.0
    silent: bool = False  # no request answered at all (a stall): no rows to judge


@dataclass(frozen=True)
class SyntheticRun:
    duration_s: int = 300
    endpoints: tuple[str, ...] = ENDPOINTS
    base_latency_ms: float = 40.0
    noise: float = 0.05  # relative jitter of latencies, deterministic from seed
    baseline_players: int = 8000
    peak_players: int = 120000
    scale: float = 1.0
    ramp: tuple[float, float] = (0.2, 0.4)  # fractions of the run: rise from baseline to peak
    requests_per_player_s: float = 0.1
    faults: tuple[SyntheticFault, ...] = ()
    disturbances: tuple[Disturbance, ...] = ()
    slos: tuple[SLO, ...] = field(default_factory=default_slos)
    stable_s: int = 10
    transactions: int = 200
    lost_tx_ids: tuple[str, ...] = ()  # acknowledged but left out of the ledger
    duplicated_tx_ids: tuple[str, ...] = ()  # applied twice in the ledger
    unrequested_tx_ids: tuple[str, ...] = ()  # in the ledger, never requested
    unrequested_at_s: float = 0.0  # when those were applied
    unrequested_player: str = "p-9999"  # whose (p-9999: a player no record names)
    incidents: tuple[SyntheticIncident, ...] = ()
    failed_reverts: tuple[str, ...] = ()  # fault ids whose revert failed (no ok revert)
    aborted: bool = False
    generator_cpu_percent: float = 40.0
    stream_backlog: bool = False  # stream depth keeps rising from the ramp on
    seed: int = 7
    #: a step run instead of the ramp: ``(seconds, players)`` held one after the other
    steps: tuple[tuple[int, int], ...] = ()
    #: ``(service, metric, CPU ms per request)``: the service's CPU % of a core each
    #: second, from the second's requests (``process_cpu_percent`` as psutil records it,
    #: ``scraped_cpu_percent`` as a scrape of ``process_cpu_seconds_total`` does)
    cpu_ms_per_request: tuple[tuple[str, str, float], ...] = ()


def tx_id(index: int) -> str:
    return f"tx-{index:06d}"


def _players(spec: SyntheticRun) -> tuple[np.ndarray, np.ndarray]:
    if spec.steps:
        held = np.concatenate([np.full(seconds, players) for seconds, players in spec.steps])
        target = np.zeros(spec.duration_s, dtype=np.int64)
        target[: min(len(held), spec.duration_s)] = held[: spec.duration_s]
        return target, target.copy()
    t = np.arange(spec.duration_s, dtype=np.float64)
    base, peak = spec.baseline_players * spec.scale, spec.peak_players * spec.scale
    lo, hi = spec.ramp[0] * spec.duration_s, max(spec.ramp[1] * spec.duration_s, 1.0)
    fraction = np.clip((t - lo) / max(hi - lo, 1.0), 0.0, 1.0)
    target = np.round(base + (peak - base) * fraction).astype(np.int64)
    actual = np.round(np.minimum(target, np.concatenate(([target[0]], target[:-1])))).astype(
        np.int64
    )
    return target, actual


def _profile(spec: SyntheticRun, endpoint: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latency factor, error rate and share of requests answered, per second."""
    factor = np.ones(spec.duration_s)
    errors = np.zeros(spec.duration_s)
    answered = np.ones(spec.duration_s)
    for d in spec.disturbances:
        if d.endpoint == "*" or d.endpoint in endpoint:
            factor[d.start_s : d.end_s] *= d.latency_factor
            errors[d.start_s : d.end_s] = np.maximum(errors[d.start_s : d.end_s], d.error_rate)
            if d.silent:
                answered[d.start_s : d.end_s] = 0.0
    return factor, errors, answered


def _timeseries(spec: SyntheticRun, actual: np.ndarray) -> pd.DataFrame:
    rng = np.random.default_rng(spec.seed)
    t = np.arange(spec.duration_s, dtype=np.int64)
    per_endpoint = np.round(actual * spec.requests_per_player_s / len(spec.endpoints))
    frames, weighted = [], np.zeros(spec.duration_s)
    total_req, total_fail = np.zeros(spec.duration_s), np.zeros(spec.duration_s)
    for endpoint in spec.endpoints:
        factor, error_rate, answered = _profile(spec, endpoint)
        jitter = 1.0 + spec.noise * rng.uniform(-1.0, 1.0, spec.duration_s)
        p95 = np.where(answered > 0, spec.base_latency_ms * factor * jitter, np.nan)
        requests = per_endpoint * answered
        failures = np.round(requests * error_rate)
        frames.append(
            pd.DataFrame(
                {
                    "t": t,
                    "endpoint": endpoint,
                    "requests": requests.astype(np.int64),
                    "failures": failures.astype(np.int64),
                    "p50_ms": p95 * 0.5,
                    "p95_ms": p95,
                    "p99_ms": p95 * 1.6,
                    "max_ms": p95 * 3.0,
                }
            )
        )
        weighted += np.nan_to_num(p95) * requests
        total_req += requests
        total_fail += failures
    p95_all = np.divide(
        weighted, total_req, out=np.full(spec.duration_s, np.nan), where=total_req > 0
    )
    frames.append(
        pd.DataFrame(
            {
                "t": t,
                "endpoint": "*",
                "requests": total_req.astype(np.int64),
                "failures": total_fail.astype(np.int64),
                "p50_ms": p95_all * 0.5,
                "p95_ms": p95_all,
                "p99_ms": p95_all * 1.6,
                "max_ms": p95_all * 3.0,
            }
        )
    )
    table = pd.concat(frames, ignore_index=True)
    table = table[table["requests"] > 0]  # as the recorder: no row for a second without answers
    return table.sort_values(["t", "endpoint"], ignore_index=True)


def _metrics(spec: SyntheticRun, target: np.ndarray) -> pd.DataFrame:
    n = spec.duration_s
    t = np.arange(n, dtype=np.int64)
    wallet_factor, _, _ = _profile(spec, "wallet")
    ramp_start = int(spec.ramp[0] * n)
    depth = (
        np.where(t >= ramp_start, (t - ramp_start) * 50.0, 0.0)
        if spec.stream_backlog
        else np.zeros(n)
    )
    in_use = np.minimum(50.0, 5.0 + 45.0 * target / max(float(target.max()), 1.0))
    series: list[tuple[str, str, str, np.ndarray]] = [
        ("wallet", "wallet_tx_latency_p95_ms", "op=bet", 5.0 * wallet_factor),
        ("reporting", "stream_lag", "stream=wallet-events", depth * 0.8),
        ("reporting", "stream_depth", "stream=wallet-events", depth),
        ("wallet", "db_pool_in_use", "pool=main", np.round(in_use)),
        ("wallet", "db_pool_size", "pool=main", np.full(n, 60.0)),
        (
            "loadgen",
            "generator_cpu_percent",
            "process=master",
            np.full(n, spec.generator_cpu_percent),
        ),
    ]
    for provider in PROVIDERS:
        state, health = np.zeros(n), np.ones(n)
        for fault in spec.faults:
            if fault.target == provider:
                end = n if fault.end_s is None else int(fault.end_s)
                state[int(fault.start_s) : end] = 2.0
                health[int(fault.start_s) : end] = 0.2
        series.append(("router", "breaker_state", f"provider={provider}", state))
        series.append(("router", "provider_health", f"provider={provider}", health))
    requests = np.round(target * spec.requests_per_player_s / len(spec.endpoints)) * len(
        spec.endpoints
    )
    for service, metric, ms in spec.cpu_ms_per_request:
        series.append((service, metric, f"process={service}", requests * ms / 10.0))
    frames = [
        pd.DataFrame(
            {"t": t, "service": s, "metric": m, "labels": labels, "value": v.astype(np.float64)}
        )
        for s, m, labels, v in series
    ]
    return pd.concat(frames, ignore_index=True)


def _journal(spec: SyntheticRun, started_at: float) -> list[dict[str, object]]:
    def line(t: float, event: str, **extra: object) -> dict[str, object]:
        return {"ts": started_at + t, "t": t, "event": event, **extra}

    timed: list[tuple[float, dict[str, object]]] = [
        (0.0, line(0.0, "run_started", scenario="synthetic", planned_duration_s=spec.duration_s))
    ]
    for f in spec.faults:
        common = {"fault_id": f.fault_id, "fault": f.fault, "target": f.target}
        duration = None if f.end_s is None else f.end_s - f.start_s
        timed.append(
            (
                0.0,
                line(
                    0.0,
                    "fault_planned",
                    **common,
                    planned_t=f.start_s,
                    duration_s=duration,
                    params={},
                ),
            )
        )
        timed.append(
            (f.start_s, line(f.start_s, "fault_injected", **common, planned_t=f.start_s, params={}))
        )
        if f.end_s is not None and f.fault_id in spec.failed_reverts:
            failed = line(f.end_s, "fault_reverted", **common, ok=False, error="unreachable")
            timed.append((f.end_s, failed))
        elif f.end_s is not None:
            timed.append((f.end_s, line(f.end_s, "fault_reverted", **common, ok=True, error=None)))
    for i in spec.incidents:
        lost = None if i.records_lost_from_s is None else started_at + i.records_lost_from_s
        records = [] if i.players is None else [rundir.records_of_worker(1)[0]]
        extra = {"kind": i.kind, "subject": i.subject, "detail": i.detail}
        event = line(i.t, "toolkit_incident", **extra, records_lost_from_ts=lost)
        timed.append((i.t, {**event, "records_of": records}))
    end = float(spec.duration_s)
    if spec.aborted:
        timed.append((end, line(end, "run_aborted", reason="stop condition: error rate > 50 %")))
    timed.append((end, line(end, "run_ended", status="aborted" if spec.aborted else "completed")))
    return [entry for _, entry in sorted(timed, key=lambda item: item[0])]


def _wallet(
    spec: SyntheticRun, started_at: float
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    kinds = ("deposit", "bet", "win", "bet", "withdrawal")
    i = np.arange(spec.transactions)
    acked = pd.DataFrame(
        {
            "ts": started_at + (i % max(spec.duration_s, 1)).astype(np.float64),
            "kind": [kinds[k % len(kinds)] for k in i],
            "player_id": [f"p-{k % 1000:04d}" for k in i],
            "tx_id": [tx_id(int(k)) for k in i],
            "amount": (100 + i).astype(np.int64),
            "balance_after": pd.array([None] * len(i), dtype="Int64"),
        }
    )
    unacked = pd.DataFrame(
        {
            "ts": [started_at + 1.0, started_at + 2.0],
            "kind": ["bet", "deposit"],
            "player_id": ["p-0001", "p-0002"],
            "tx_id": ["tx-u-1", "tx-u-2"],
            "amount": [50, 500],
        }
    )
    ledger = pd.concat([acked, unacked.iloc[:1]], ignore_index=True)
    ledger = ledger[~ledger["tx_id"].isin(spec.lost_tx_ids)]
    ledger = pd.concat([ledger, ledger[ledger["tx_id"].isin(spec.duplicated_tx_ids)]])
    extra = pd.DataFrame(
        {
            "ts": started_at + spec.unrequested_at_s,
            "kind": "deposit",
            "player_id": spec.unrequested_player,
            "tx_id": list(spec.unrequested_tx_ids),
            "amount": 1000,
        }
    )
    ledger = pd.concat([ledger, extra], ignore_index=True)
    ledger = ledger.rename(columns={"ts": "applied_at"})[
        ["tx_id", "kind", "player_id", "amount", "applied_at"]
    ]
    ledger["amount"] = ledger["amount"].astype(np.int64)
    ledger["ref_tx_id"] = pd.array([None] * len(ledger), dtype="str")
    return acked, unacked, ledger


def _write_jsonl(path: Path, rows: Sequence[dict[str, object]]) -> None:
    with path.open("w") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def write_synthetic_run(run_dir: Path, spec: SyntheticRun | None = None) -> Path:
    """Write a complete run directory for ``spec`` into ``run_dir`` and return it."""
    spec = spec or SyntheticRun()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    started_at = 1_800_000_000.0
    target, actual = _players(spec)
    meta = {
        "format_version": rundir.FORMAT_VERSION,
        "run_id": run_dir.name,
        "scenario": "synthetic",
        "started_at": started_at,
        "ended_at": started_at + spec.duration_s,
        "status": "aborted" if spec.aborted else "completed",
        "abort_reason": "stop condition: error rate > 50 %" if spec.aborted else None,
        "scale": spec.scale,
        "duration_scale": 1.0,
        "profile": "resilient",
        "target": "http://127.0.0.1:8000",
        "spikekit_version": "0.1.0",
        "machine": {
            "hostname": "synthetic",
            "cpus": 2,
            "memory_gib": 24.0,
            "python": "3.11",
            "platform": "linux",
        },
    }
    (run_dir / rundir.META).write_text(json.dumps(meta, indent=2))
    scenario = {
        "name": "synthetic",
        "slos": [slo.model_dump(mode="json") for slo in spec.slos],
        "recovery": {"stable_s": spec.stable_s},
    }
    (run_dir / rundir.SCENARIO).write_text(yaml.safe_dump(scenario, sort_keys=False))
    _write_jsonl(run_dir / rundir.JOURNAL, _journal(spec, started_at))
    _timeseries(spec, actual).to_parquet(run_dir / rundir.TIMESERIES, index=False)
    pd.DataFrame(
        {
            "t": np.arange(spec.duration_s, dtype=np.int64),
            "target_players": target,
            "actual_players": actual,
        }
    ).to_parquet(run_dir / rundir.PLAYERS, index=False)
    _metrics(spec, target).to_parquet(run_dir / rundir.PLATFORM_METRICS, index=False)
    acked, unacked, ledger = _wallet(spec, started_at)
    _write_jsonl(
        run_dir / rundir.ACKED, acked.astype(object).where(acked.notna(), None).to_dict("records")
    )
    _write_jsonl(run_dir / rundir.UNACKED, unacked.to_dict("records"))
    ledger.to_parquet(run_dir / rundir.LEDGER, index=False)
    for incident in spec.incidents:
        if incident.players is not None:
            (run_dir / rundir.LOAD_DIR).mkdir(exist_ok=True)
            rows = [{"ts": started_at, "player_id": p, "tx_id": ""} for p in incident.players]
            _write_jsonl(run_dir / rundir.records_of_worker(1)[0], rows)
    audit = {
        "ok": True,
        "checks": [
            {"name": "ledger_sums_match_balances", "ok": True, "detail": "", "offending_ids": []},
            {"name": "no_negative_balance", "ok": True, "detail": "", "offending_ids": []},
        ],
    }
    (run_dir / rundir.AUDIT).write_text(json.dumps(audit, indent=2))
    return run_dir
