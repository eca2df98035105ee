"""Benchmark: the provider → wallet bet path over HTTP, against pgbench TPC-B on one PostgreSQL.

One invocation starts PostgreSQL and Redis, seeds players, serves the wallet
with real uvicorn (one process, uvloop + httptools, as the supervisor runs it)
and drives signed debit + credit pairs through keep-alive connections; then it
stops the wallet and runs pgbench TPC-B on the same server. It prints bets/s,
p50/p99 of a bet (debit + credit) and the ratio bets/s ÷ TPC-B TPS.

    .venv/bin/python bench/wallet_bench.py [--seconds 15] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil

from spikekit.ports import LOOPBACK, free_port
from spikekit.processes import ManagedProcess, spawn
from spikekit.reference_platform.postgres import PG_BIN, SUPERUSER, PostgresServer
from spikekit.reference_platform.redis_server import RedisServer
from spikekit.reference_platform.seed import SeedPlan, player_id, seed_accounts
from spikekit.reference_platform.wallet.settings import DEFAULT_PROVIDER_SECRETS
from spikekit.reference_platform.wallet.signing import sign

APP = "spikekit.reference_platform.wallet.entrypoints.app:create_app"
PROVIDERS = list(DEFAULT_PROVIDER_SECRETS)
WIN_CHANCE, WIN_MULTIPLIER = 0.3, 3.2  # RTP 96 %


class Connection:
    """A minimal HTTP/1.1 keep-alive client: httpx is too slow to measure a server with."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection(LOOPBACK, port))

    async def post(self, path: str, body: bytes, signature: str) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: wallet\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Wallet-Signature: {signature}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = int(re.search(rb"(?i)content-length: (\d+)", raw).group(1))  # type: ignore[union-attr]
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


@dataclass
class Tally:
    bets: int = 0
    errors: int = 0
    latencies: list[float] | None = None


async def bettor(port: int, worker: int, players: int, until: float, tally: Tally) -> None:
    rng = random.Random(worker)
    conn = await Connection.open(port)
    assert tally.latencies is not None
    sequence = 0
    try:
        while time.perf_counter() < until:
            sequence += 1
            provider = rng.choice(PROVIDERS)
            secret = DEFAULT_PROVIDER_SECRETS[provider]
            player = player_id(rng.randint(1, players))
            round_id = f"w{worker}-r{sequence}"
            stake = rng.randint(10, 500)
            payout = round(stake * WIN_MULTIPLIER) if rng.random() < WIN_CHANCE else 0
            debit = json.dumps(
                {
                    "player_id": player,
                    "tx_id": f"{round_id}-b",
                    "round_id": round_id,
                    "amount": stake,
                }
            ).encode()
            credit = json.dumps(
                {
                    "player_id": player,
                    "tx_id": f"{round_id}-w",
                    "round_id": round_id,
                    "amount": payout,
                }
            ).encode()
            started = time.perf_counter()
            status, body = await conn.post(
                f"/v1/providers/{provider}/debit", debit, sign(secret, debit)
            )
            if status != 200 or b'"OK"' not in body:
                tally.errors += 1
                continue
            status, _ = await conn.post(
                f"/v1/providers/{provider}/credit", credit, sign(secret, credit)
            )
            if status != 200:
                tally.errors += 1
                continue
            tally.latencies.append(time.perf_counter() - started)
            tally.bets += 1
    finally:
        conn.close()


async def drive(port: int, players: int, connections: int, seconds: float, warmup: float) -> Tally:
    warm = Tally(latencies=[])
    await asyncio.gather(
        *(
            bettor(port, 1000 + w, players, time.perf_counter() + warmup, warm)
            for w in range(connections)
        )
    )
    tally = Tally(latencies=[])
    until = time.perf_counter() + seconds
    await asyncio.gather(*(bettor(port, w, players, until, tally) for w in range(connections)))
    return tally


def cpu_seconds(pid: int, *, tree: bool = True) -> float:
    """CPU seconds (user + system) used so far by ``pid`` (and its living children)."""
    total = 0.0
    try:
        root = psutil.Process(pid)
        for proc in [root, *(root.children(recursive=True) if tree else [])]:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = proc.cpu_times()
                total += times.user + times.system
    except psutil.NoSuchProcess:
        pass
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def serve_wallet(
    pg: PostgresServer, redis: RedisServer, pool: int, log: Path
) -> tuple[ManagedProcess, int]:
    port = free_port()
    env = dict(
        os.environ,
        SPIKEKIT_SERVICE="wallet",
        SPIKEKIT_PORT=str(port),
        SPIKEKIT_DATABASE_URL=pg.dsn,
        SPIKEKIT_REDIS_URL=redis.url,
        SPIKEKIT_WALLET_POOL_SIZE=str(pool),
    )
    argv = [sys.executable, "-m", "spikekit.reference_platform.serve", APP, str(port)]
    process = spawn("wallet", argv, log, env=env, death_signal=signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{LOOPBACK}:{port}/health", timeout=1).status_code == 200:
                return process, port
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.stop(10)
    raise SystemExit(f"the wallet did not start: {log.read_text()[-2000:]}")


def batch_figures(port: int) -> tuple[float, float] | None:
    """(batches run, mean requests per batch) from the wallet's metrics; None unbatched."""
    text = httpx.get(f"http://{LOOPBACK}:{port}/metrics", timeout=5).text
    count = re.search(r"^wallet_batch_size_count ([\d.e+]+)$", text, re.M)
    total = re.search(r"^wallet_batch_size_sum ([\d.e+]+)$", text, re.M)
    if count is None or total is None or not float(count.group(1)):
        return None
    return float(count.group(1)), float(total.group(1)) / float(count.group(1))


def pgbench(pg: PostgresServer, seconds: float, clients: int) -> float:
    async def createdb() -> None:
        conn = await asyncpg.connect(pg.dsn)
        await conn.execute("DROP DATABASE IF EXISTS pgbench")
        await conn.execute("CREATE DATABASE pgbench")
        await conn.close()

    asyncio.run(createdb())
    common = ["-h", LOOPBACK, "-p", str(pg.port), "-U", SUPERUSER]
    subprocess.run(
        [str(PG_BIN / "pgbench"), "-i", "-q", "-s", "10", *common, "pgbench"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    result = subprocess.run(
        [
            str(PG_BIN / "pgbench"),
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(int(seconds)),
            *common,
            "pgbench",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    match = re.search(r"tps = ([\d.]+)", result.stdout)
    assert match is not None, result.stdout
    return float(match.group(1))


@dataclass(frozen=True)
class WalletFigures:
    """One invocation: the bet path and pgbench TPC-B on the same PostgreSQL."""

    bets_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    bets: int
    tps: float
    seconds: float
    connections: int
    pgbench_clients: int
    cores: dict[str, float] = field(default_factory=dict)  # CPU cores used while betting
    batch_size: float | None = None  # wallet requests per database transaction (batching)

    @property
    def ratio(self) -> float:
        return self.bets_per_s / self.tps if self.tps else float("nan")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pool", type=int, default=16)
    parser.add_argument("--players", type=int, default=10_000)
    parser.add_argument("--pgbench-clients", type=int, default=16)
    return parser.parse_args(argv)


def measure(args: argparse.Namespace, folder: Path | None = None) -> WalletFigures:
    """Start PostgreSQL and Redis, drive the wallet, then pgbench; stop everything."""
    folder = folder or Path(tempfile.mkdtemp(prefix="wallet-bench-"))
    pg, redis = PostgresServer(folder / "pg"), RedisServer(folder / "redis")
    wallet: ManagedProcess | None = None
    try:
        pg.start()
        redis.start()
        seeded = asyncio.run(
            seed_accounts(
                pg.dsn, SeedPlan(players=args.players, min_balance=10**8, max_balance=10**8)
            )
        )
        print(f"seeded {seeded.players} players in {seeded.seconds:.2f} s")
        wallet, port = serve_wallet(pg, redis, args.pool, folder / "wallet.log")
        pids = {
            "wallet": wallet.pid,
            "postgres": pg.process.pid if pg.process else 0,
            "client": os.getpid(),
        }
        trees = {"wallet": True, "postgres": True, "client": False}  # our children aren't ours
        before = {name: cpu_seconds(pid, tree=trees[name]) for name, pid in pids.items()}
        began = time.perf_counter()
        tally = asyncio.run(drive(port, args.players, args.connections, args.seconds, args.warmup))
        took = time.perf_counter() - began
        cores = {
            name: (cpu_seconds(pid, tree=trees[name]) - before[name]) / took
            for name, pid in pids.items()
        }
        batches = batch_figures(port)
        wallet.stop(15)
        wallet = None
        assert tally.latencies
        rate = tally.bets / args.seconds
        p50, p99 = percentile(tally.latencies, 0.5) * 1e3, percentile(tally.latencies, 0.99) * 1e3
        print(
            f"wallet bet path: {rate:,.0f} bets/s (debit + credit, {args.connections} connections, "
            f"{args.seconds:.0f} s), p50 {p50:.1f} ms, p99 {p99:.1f} ms, errors {tally.errors}"
        )
        print("cores used: " + ", ".join(f"{name} {used:.2f}" for name, used in cores.items()))
        if batches is not None:
            print(f"wallet batches: {batches[0]:,.0f}, mean size {batches[1]:.1f} requests")
        tps = pgbench(pg, args.seconds, args.pgbench_clients)
        print(
            f"pgbench TPC-B: {tps:,.0f} TPS "
            f"({args.pgbench_clients} clients, 2 threads, TCP, scale 10)"
        )
        figures = WalletFigures(
            bets_per_s=rate,
            p50_ms=p50,
            p99_ms=p99,
            errors=tally.errors,
            bets=tally.bets,
            tps=tps,
            seconds=args.seconds,
            connections=args.connections,
            pgbench_clients=args.pgbench_clients,
            cores=cores,
            batch_size=batches[1] if batches is not None else None,
        )
        print(f"ratio bets/s / TPC-B TPS: {figures.ratio:.2f}")
        return figures
    finally:
        if wallet is not None:
            wallet.stop(15)
        redis.stop()
        pg.stop()


def main() -> None:
    measure(parse_args())


if __name__ == "__main__":
    main()
