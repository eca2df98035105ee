"""A tiny real gateway implementing docs/gateway-api.md, counting what it answers.

Run as its own process (``python fake_gateway.py --port P``). Test-only controls:

- ``GET /_fake/counts``: requests per endpoint, acknowledged wallet answers per kind
  (``deposit``, ``withdrawal``, ``bet``, ``win``), login attempts per username;
- ``GET /_fake/arrivals``: every /api request as ``[unix_time, "METHOD /path", client_port]``
  in the order of arrival (to compare with the recorder's seconds);
- ``POST /_fake/mode`` ``{"fail_rate": 0.5, "fail_paths": ["/api/login"], "retry_after": 1,
  "hang": false}``: answer 503 + Retry-After to that share of matching requests, or hang;
- ``POST /_fake/stall`` ``{"at": UNIX_TIME, "seconds": 2}``: from ``at`` for ``seconds``,
  hold every /api request arriving in that window until the stall ends, then answer it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import time
from collections import Counter
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

GAMES = [
    {"id": "starburst-nova", "name": "Starburst Nova", "family": "slots", "providers": ["a"]},
    {"id": "book-of-ra-redux", "name": "Book of Ra", "family": "slots", "providers": ["a", "b"]},
    {"id": "mega-jackpot", "name": "Mega Jackpot", "family": "jackpot", "providers": ["b"]},
]
START_BALANCE = 50_000


class State:
    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.arrivals: list[tuple[float, str, int]] = []  # (Unix time, endpoint, client port)
        self.acked: Counter[str] = Counter()
        self.logins: Counter[str] = Counter()
        self.tokens: dict[str, str] = {}
        self.balances: dict[str, int] = {}
        self.users: dict[str, tuple[str, str]] = {}  # username → (password, player_id)
        self.deposits: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, str] = {}
        self.sessions: dict[str, str] = {}
        self.ids = itertools.count(1)
        self.mode: dict[str, Any] = {"fail_rate": 0.0, "fail_paths": [], "retry_after": 1}
        self.rng = random.Random(7)
        self.stall: tuple[float, float] = (0.0, 0.0)  # [start, end) on the event loop's clock


state = State()


def error(status: int, code: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": code, "detail": code}, status_code=status, headers=headers)


def seeded(username: str) -> tuple[str, str] | None:
    if not username.startswith("player") or not username[6:].isdigit():
        return None
    number = int(username[6:])
    return f"spike-{number % 64}", f"p{number:06d}"


def player_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return state.tokens.get(header.removeprefix("Bearer ").strip())


async def register(request: Request) -> Response:
    body = await request.json()
    username, password = str(body.get("username", "")), str(body.get("password", ""))
    if not username or not password:
        return error(422, "invalid")
    if username in state.users or seeded(username):
        return error(409, "taken")
    player_id = f"n{next(state.ids):07d}"
    state.users[username] = (password, player_id)
    state.balances[player_id] = 0
    return JSONResponse({"player_id": player_id}, status_code=201)


async def login(request: Request) -> Response:
    body = await request.json()
    username = str(body.get("username", ""))
    state.logins[username] += 1
    known = state.users.get(username) or seeded(username)
    if known is None or known[0] != body.get("password"):
        return error(401, "bad_credentials")
    token = f"t{next(state.ids)}"
    state.tokens[token] = known[1]
    state.balances.setdefault(known[1], START_BALANCE)
    return JSONResponse({"token": token, "player_id": known[1], "expires_in": 3600})


async def lobby(request: Request) -> Response:
    return JSONResponse({"games": GAMES})


async def me(request: Request) -> Response:
    player = player_of(request)
    if player is None:
        return error(401, "unauthorized")
    balance = state.balances[player]
    return JSONResponse({"player_id": player, "username": player, "balance": balance})


async def balance(request: Request) -> Response:
    player = player_of(request)
    if player is None:
        return error(401, "unauthorized")
    return JSONResponse({"player_id": player, "balance": state.balances[player]})


async def launch(request: Request) -> Response:
    if player_of(request) is None:
        return error(401, "unauthorized")
    game = request.path_params["game"]
    if game not in {g["id"] for g in GAMES}:
        return error(404, "unknown_game")
    session = f"s{next(state.ids)}"
    state.sessions[session] = game
    return JSONResponse({"session_id": session, "game": game, "provider": "a"})


async def rounds(request: Request) -> Response:
    player = player_of(request)
    if player is None:
        return error(401, "unauthorized")
    body = await request.json()
    if body.get("session_id") not in state.sessions:
        return error(404, "unknown_session")
    bet = int(body["bet"])
    if state.balances[player] < bet:
        return error(402, "insufficient_funds")
    win = bet * 2 if state.rng.random() < 0.3 else 0
    state.balances[player] += win - bet
    bet_tx, win_tx = next(state.ids), next(state.ids)
    state.acked["bet"] += 1
    if win:
        state.acked["win"] += 1
    return JSONResponse(
        {
            "round_id": f"r{bet_tx}",
            "provider": "a",
            "bet": bet,
            "win": win,
            "balance": state.balances[player],
            "bet_tx_id": f"b{bet_tx}",
            "win_tx_id": f"w{win_tx}",
        }
    )


async def deposits(request: Request) -> Response:
    player = player_of(request)
    if player is None:
        return error(401, "unauthorized")
    body = await request.json()
    amount, key = int(body.get("amount", 0)), str(body.get("idempotency_key", ""))
    if amount <= 0:
        return error(422, "invalid_amount")
    deposit_id = state.idempotency.get(key)
    if deposit_id is None:
        deposit_id = f"d{next(state.ids)}"
        state.idempotency[key] = deposit_id
        state.deposits[deposit_id] = {
            "deposit_id": deposit_id,
            "status": "completed",
            "amount": amount,
        }
        state.balances[player] += amount
        state.acked["deposit"] += 1  # a replay of the key acknowledges the same deposit
    return JSONResponse({"deposit_id": deposit_id, "status": "pending"}, status_code=202)


async def deposit_status(request: Request) -> Response:
    deposit = state.deposits.get(request.path_params["deposit_id"])
    return JSONResponse(deposit) if deposit else error(404, "unknown_deposit")


async def withdrawals(request: Request) -> Response:
    player = player_of(request)
    if player is None:
        return error(401, "unauthorized")
    body = await request.json()
    amount, key = int(body.get("amount", 0)), str(body.get("idempotency_key", ""))
    withdrawal_id = state.idempotency.get(key)
    if withdrawal_id is None:
        if state.balances[player] < amount:
            return error(402, "insufficient_funds")
        state.balances[player] -= amount
        withdrawal_id = state.idempotency[key] = f"x{next(state.ids)}"
        state.acked["withdrawal"] += 1  # a replay of the key acknowledges the same one
    return JSONResponse({"withdrawal_id": withdrawal_id, "status": "pending"}, 202)


async def counts(request: Request) -> Response:
    return JSONResponse({"requests": state.requests, "acked": state.acked, "logins": state.logins})


async def arrivals(request: Request) -> Response:
    return JSONResponse({"arrivals": state.arrivals})


async def set_mode(request: Request) -> Response:
    state.mode.update(await request.json())
    return JSONResponse(state.mode)


async def set_stall(request: Request) -> Response:
    body = await request.json()
    start = asyncio.get_running_loop().time() + float(body["at"]) - time.time()
    state.stall = (start, start + float(body["seconds"]))
    return JSONResponse({"stall": body})


async def stalled() -> None:
    """Hold a request that arrives during the stall until the stall ends."""
    start, end = state.stall
    now = asyncio.get_running_loop().time()
    if start <= now < end:
        await asyncio.sleep(end - now)


class Gate:
    """Counts every /api request; fails or hangs some as the mode says."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        state.requests[f"{scope['method']} {path}"] += 1
        client = scope.get("client") or ("", 0)
        state.arrivals.append((time.time(), f"{scope['method']} {path}", int(client[1])))
        mode = state.mode
        if mode.get("hang"):
            await asyncio.sleep(3600)
        await stalled()
        matches = not mode["fail_paths"] or path in mode["fail_paths"]
        if matches and state.rng.random() < float(mode["fail_rate"]):
            retry_after = str(mode.get("retry_after", 1))
            await error(503, "overloaded", **{"Retry-After": retry_after})(scope, receive, send)
            return
        await self.app(scope, receive, send)


routes = [
    Route("/api/register", register, methods=["POST"]),
    Route("/api/login", login, methods=["POST"]),
    Route("/api/lobby", lobby),
    Route("/api/me", me),
    Route("/api/balance", balance),
    Route("/api/games/{game}/launch", launch, methods=["POST"]),
    Route("/api/games/{game}/rounds", rounds, methods=["POST"]),
    Route("/api/deposits", deposits, methods=["POST"]),
    Route("/api/deposits/{deposit_id}", deposit_status),
    Route("/api/withdrawals", withdrawals, methods=["POST"]),
    Route("/_fake/counts", counts),
    Route("/_fake/arrivals", arrivals),
    Route("/_fake/mode", set_mode, methods=["POST"]),
    Route("/_fake/stall", set_stall, methods=["POST"]),
]
app = Gate(Starlette(routes=routes))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
