"""Benchmark 3 — the wallet: the full provider → wallet bet path against pgbench TPC-B.

Runs :func:`bench.wallet_bench.measure` (a colleague's benchmark, also runnable alone as
``.venv/bin/python bench/wallet_bench.py``) ``config.repeats`` times. Each invocation
starts its own PostgreSQL and Redis, drives signed debit + credit pairs over HTTP through
the real wallet service (uvicorn, one process), then runs pgbench TPC-B on the same
PostgreSQL: the ratio bets/s ÷ TPC-B TPS is taken within each invocation, and the table
shows the medians.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.harness import Config, Row, Section, format_number, format_ratio, median, spread
from bench.wallet_bench import WalletFigures, measure, parse_args

TARGET_RATIO, GOAL_RATIO, TARGET_P99_MS = 0.5, 1.0, 50.0
POOL = 16  # wallet_bench's default --pool: the wallet's PostgreSQL connections


def run(config: Config) -> Section:
    seconds = config.seconds(10.0, 5.0)
    argv = ["--seconds", f"{seconds:g}"]
    runs: list[WalletFigures] = []
    for index in range(config.repeats):
        folder = Path(tempfile.mkdtemp(prefix=f"wallet-{index}-", dir=config.work_dir))
        runs.append(measure(parse_args(argv), folder))
    return _section(runs, argv)


def _section(runs: list[WalletFigures], argv: list[str]) -> Section:
    rate = median([r.bets_per_s for r in runs])
    tps = median([r.tps for r in runs])
    ratio = median([r.ratio for r in runs])
    p50 = median([r.p50_ms for r in runs])
    p99 = median([r.p99_ms for r in runs])
    errors = sum(r.errors for r in runs)
    first = runs[0]
    verdict = "goal met" if ratio >= GOAL_RATIO else "met" if ratio >= TARGET_RATIO else "MISSED"
    rows = [
        Row(
            "bet path (debit + credit over HTTP), bets/s",
            format_number(rate, "bets/s"),
            format_ratio(ratio, "TPC-B"),
            f">= {TARGET_RATIO:g}x TPC-B (goal {GOAL_RATIO:g}x)",
            f"{verdict}; {spread([r.bets_per_s for r in runs], 'bets/s')}; ratios "
            + ", ".join(f"{r.ratio:.2f}" for r in runs)
            + f"; errors {errors}",
        ),
        Row(
            "bet p50 / p99",
            f"{p50:.1f} / {p99:.1f} ms",
            f"p99 {p99 / TARGET_P99_MS:.2f}x budget",
            f"p99 < {TARGET_P99_MS:g} ms",
            ("met" if p99 < TARGET_P99_MS else "MISSED") + f"; {first.connections} connections",
        ),
        Row(
            "pgbench TPC-B, same PostgreSQL, same invocation",
            format_number(tps, "TPS"),
            "1.00x",
            "",
            f"{spread([r.tps for r in runs], 'TPS')}; {first.pgbench_clients} clients, "
            "2 threads, TCP, scale 10",
        ),
    ]
    cores = {name: median([r.cores.get(name, 0.0) for r in runs]) for name in runs[0].cores}
    rows.append(
        Row(
            "CPU cores used while betting",
            ", ".join(f"{name} {used:.2f}" for name, used in cores.items()),
            f"{sum(cores.values()):.2f} of {os.cpu_count()} cores",
            "",
            "wallet = the uvicorn process; postgres = postmaster and backends; client = the "
            "benchmark's own asyncio driver (same machine)",
        )
    )
    sizes = [r.batch_size for r in runs if r.batch_size is not None]
    if sizes:
        rows.append(
            Row(
                "wallet calls per database transaction (batching)",
                f"{median(sizes):.1f}",
                "",
                "",
                "mean batch size of each run: " + ", ".join(f"{size:.1f}" for size in sizes),
            )
        )
    hold_ms = 1e3 * POOL / (2 * rate) if rate else float("nan")
    tpcb_ms = 1e3 * first.pgbench_clients / tps if tps else float("nan")
    rows.append(
        Row(
            "DB connection time per wallet call (upper bound)",
            f"{hold_ms:.1f} ms",
            f"{hold_ms / tpcb_ms:.1f}x a TPC-B transaction ({tpcb_ms:.1f} ms)",
            "",
            f"pool of {POOL} / (2 calls per bet x bets/s), as if the pool were always busy; "
            f"TPC-B: {first.pgbench_clients} clients / TPS",
        )
    )
    notes = [
        f"`.venv/bin/python bench/wallet_bench.py {' '.join(argv)}` is one of these "
        f"invocations; medians of {len(runs)}. The ratio is bets/s ÷ TPC-B TPS, both measured "
        "in the same invocation; a bet is a debit and a credit, each signed (HMAC), "
        "idempotent, written to the ledger with its outbox event.",
        "A bet is two wallet calls (debit, then credit) where TPC-B counts one transaction: "
        "one transaction per call would cap the ratio near 0.5 even at TPC-B's speed per "
        "transaction. The wallet batches the calls that arrive together (queue "
        "serialization, docs/wallet-api.md): one optimistic database transaction of two "
        "round trips per batch, each caller its own answer.",
    ]
    return Section(
        key="wallet",
        title="3. Wallet: the provider → wallet bet path against pgbench TPC-B",
        command="",
        rows=rows,
        notes=notes,
    )
