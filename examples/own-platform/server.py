"""Lucky Ledger: a tiny casino API of a shape of its own, to test spikekit's own journeys on.

Not spikekit's bundled API on purpose: a login that answers with a token in a header,
wallets by id, wagers and top-ups carrying an ``Idempotency-Key`` header, and amounts as
``{"cents": N}`` objects::

    POST /v2/sessions          {"player": "p000042", "pin": "..."}  → 201, X-Session-Token
    GET  /v2/wallets/{id}      (X-Session-Token)                    → {"wallet": {...}}
    POST /v2/wagers            {"wallet": id, "stake": {"cents": N}} → 201 {"wager": {...}}
    POST /v2/topups            {"wallet": id, "amount": {"cents": N}} → 201 {"topup": {...}}
    GET  /metrics              Prometheus text format
    GET  /health

The ledger is in memory, integer cents, one entry per applied movement; a repeated
``Idempotency-Key`` replays the first answer and applies nothing. Every entry is also
appended to ``--ledger-file`` as CSV (``entry,type,account,value,at``; ``value`` in euros
with two decimals, ``type`` one of ``wager``/``payout``/``topup``): the wallet audit's
ledger export (docs/ledger-export.md). A wager of a stake over the balance is refused
with 422 ``insufficient_funds``. Run it with::

    python examples/own-platform/server.py --port 8080 --ledger-file /tmp/lucky-ledger.csv
"""

from __future__ import annotations

import argparse
import csv
import itertools
import random
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

START_CENTS = 100_00
PAYOUT_CHANCE = 0.4


@dataclass
class Ledger:
    """Wallets, sessions and the entries, integer cents; nothing here does I/O but the CSV."""

    path: Path | None
    balances: dict[str, int] = field(default_factory=dict)  # wallet id → cents
    sessions: dict[str, str] = field(default_factory=dict)  # token → wallet id
    replies: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)  # idem key
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def __post_init__(self) -> None:
        if self.path is not None:
            with self.path.open("w", newline="") as out:
                csv.writer(out).writerow(["entry", "type", "account", "value", "at"])

    def entry(self, kind: str, wallet: str, cents: int) -> str:
        entry_id = f"{kind[:2]}_{next(self.ids):08d}"
        if self.path is not None:
            with self.path.open("a", newline="") as out:  # flushed per entry: read at the end
                value = f"{cents // 100}.{cents % 100:02d}"
                csv.writer(out).writerow(
                    [entry_id, kind, wallet.removeprefix("wal_"), value, f"{time.time():.6f}"]
                )
        return entry_id


def cents_of(body: Any, key: str) -> int | None:
    amount = body.get(key) if isinstance(body, dict) else None
    cents = amount.get("cents") if isinstance(amount, dict) else None
    return cents if isinstance(cents, int) and not isinstance(cents, bool) and cents > 0 else None


def build_app(ledger: Ledger) -> Starlette:
    registry = CollectorRegistry()
    requests = Counter("lucky_requests", "Requests", ["route", "status"], registry=registry)
    latency = Histogram("lucky_request_seconds", "Latency", ["route"], registry=registry)
    moved = Counter("lucky_ledger_cents", "Cents moved", ["type"], registry=registry)

    def answer(route: str, status: int, body: dict[str, Any], **headers: str) -> Response:
        requests.labels(route, str(status)).inc()
        return JSONResponse(body, status, headers=headers or None)

    def wallet_of(request: Request) -> str | None:
        return ledger.sessions.get(request.headers.get("x-session-token", ""))

    async def sessions(request: Request) -> Response:
        with latency.labels("sessions").time():
            body = await request.json()
            player = body.get("player") if isinstance(body, dict) else None
            if not isinstance(player, str) or not player or not body.get("pin"):
                return answer("sessions", 400, {"error": "player and pin required"})
            wallet = f"wal_{player}"
            ledger.balances.setdefault(wallet, START_CENTS)
            token = secrets.token_hex(16)
            ledger.sessions[token] = wallet
            return answer("sessions", 201, {"wallet_id": wallet}, **{"X-Session-Token": token})

    async def wallet(request: Request) -> Response:
        with latency.labels("wallet").time():
            owner = wallet_of(request)
            wanted = request.path_params["wallet_id"]
            if owner is None:
                return answer("wallet", 401, {"error": "no session"})
            if owner != wanted:
                return answer("wallet", 403, {"error": "not your wallet"})
            cents = ledger.balances[owner]
            return answer("wallet", 200, {"wallet": {"id": owner, "balance": {"cents": cents}}})

    async def money(request: Request, route: str) -> Response:
        with latency.labels(route).time():
            owner = wallet_of(request)
            if owner is None:
                return answer(route, 401, {"error": "no session"})
            key = request.headers.get("idempotency-key", "")
            if not key:
                return answer(route, 400, {"error": "Idempotency-Key required"})
            if key in ledger.replies:  # a retry: the first answer, nothing applied again
                status, replay = ledger.replies[key]
                return answer(route, status, replay)
            body = await request.json()
            cents = cents_of(body, "stake" if route == "wagers" else "amount")
            if cents is None or body.get("wallet") != owner:
                return answer(route, 400, {"error": "wallet and a positive amount in cents"})
            status, reply = (
                apply_wager(ledger, owner, cents)
                if route == "wagers"
                else apply_topup(ledger, owner, cents)
            )
            if status == 201:
                ledger.replies[key] = (status, reply)
                moved.labels(route).inc(cents)
            return answer(route, status, reply)

    async def wagers(request: Request) -> Response:
        return await money(request, "wagers")

    async def topups(request: Request) -> Response:
        return await money(request, "topups")

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def health(_: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/v2/sessions", sessions, methods=["POST"]),
            Route("/v2/wallets/{wallet_id}", wallet, methods=["GET"]),
            Route("/v2/wagers", wagers, methods=["POST"]),
            Route("/v2/topups", topups, methods=["POST"]),
            Route("/metrics", metrics),
            Route("/health", health),
        ]
    )


def apply_wager(ledger: Ledger, wallet: str, stake: int) -> tuple[int, dict[str, Any]]:
    balance = ledger.balances[wallet]
    if stake > balance:
        return 422, {"error": "insufficient_funds", "balance": {"cents": balance}}
    wager_id = ledger.entry("wager", wallet, stake)
    payout, payout_id = 0, None
    if ledger.rng.random() < PAYOUT_CHANCE:
        payout = stake * ledger.rng.choice((2, 3))
        payout_id = ledger.entry("payout", wallet, payout)
    ledger.balances[wallet] = balance - stake + payout
    wager = {"id": wager_id, "stake": {"cents": stake}, "payout": {"cents": payout}}
    wager["payout_id"] = payout_id
    return 201, {"wager": wager, "balance": {"cents": ledger.balances[wallet]}}


def apply_topup(ledger: Ledger, wallet: str, cents: int) -> tuple[int, dict[str, Any]]:
    topup_id = ledger.entry("topup", wallet, cents)
    ledger.balances[wallet] += cents
    return 201, {"topup": {"id": topup_id}, "balance": {"cents": ledger.balances[wallet]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--ledger-file", type=Path, default=None)
    args = parser.parse_args()
    app = build_app(Ledger(args.ledger_file))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
