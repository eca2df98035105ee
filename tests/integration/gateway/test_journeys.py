"""The players' API on a real resilient stack: journeys, caching, bad input, backpressure."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.integration.gateway.harness import (
    Platform,
    burst,
    login,
    seeded,
    slowed_link,
    wait_for,
)

GAME = "starburst-nova"  # offered by aurora, the stack's studio
LOBBY_KEY = b"gateway:lobby"


def status_of(client: httpx.Client, headers: dict[str, str], kind: str, payment: str) -> str:
    answer = client.get(f"/api/{kind}s/{payment}", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {f"{kind}_id", "status", "amount"}
    return str(body["status"])


def test_a_new_player_registers_deposits_plays_and_withdraws(resilient: Platform) -> None:
    username = f"gw-{uuid.uuid4().hex[:10]}"
    with resilient.client() as client:
        created = client.post("/api/register", json={"username": username, "password": "s3cret-pw"})
        assert created.status_code == 201, created.text
        player = created.json()["player_id"]
        auth = login(client, username, "s3cret-pw")
        assert client.get("/api/me", headers=auth).json() == {
            "player_id": player,
            "username": username,
            "balance": 0,
        }

        deposit = client.post(
            "/api/deposits", headers=auth, json={"amount": 5000, "idempotency_key": "first"}
        )
        assert deposit.status_code == 202, deposit.text
        assert deposit.json()["status"] == "pending" and deposit.json()["amount"] == 5000
        deposit_id = deposit.json()["deposit_id"]
        done = wait_for(
            lambda: status_of(client, auth, "deposit", deposit_id) == "completed", timeout=10
        )
        assert done, "the deposit did not complete"
        assert client.get("/api/balance", headers=auth).json() == {
            "player_id": player,
            "balance": 5000,
        }

        games = client.get("/api/lobby").json()["games"]
        assert GAME in {g["id"] for g in games}
        launched = client.post(f"/api/games/{GAME}/launch", headers=auth)
        assert launched.status_code == 200, launched.text
        assert launched.json()["provider"] == "aurora" and launched.json()["game"] == GAME
        session = launched.json()["session_id"]

        balance = 5000
        for bet in (100, 250, 100):
            played = client.post(
                f"/api/games/{GAME}/rounds", headers=auth, json={"session_id": session, "bet": bet}
            )
            assert played.status_code == 200, played.text
            round_ = played.json()
            assert round_["bet"] == bet and round_["win"] >= 0 and round_["settled"]
            assert round_["balance"] == balance - bet + round_["win"]
            assert round_["bet_tx_id"] and round_["win_tx_id"]
            balance = round_["balance"]
        assert client.get("/api/balance", headers=auth).json()["balance"] == balance

        withdrawal = client.post(
            "/api/withdrawals", headers=auth, json={"amount": 1000, "idempotency_key": "w1"}
        )
        assert withdrawal.status_code == 202, withdrawal.text
        withdrawal_id = withdrawal.json()["withdrawal_id"]
        assert wait_for(
            lambda: status_of(client, auth, "withdrawal", withdrawal_id) == "completed", timeout=10
        )
        assert client.get("/api/balance", headers=auth).json()["balance"] == balance - 1000

        too_much = client.post(
            "/api/withdrawals", headers=auth, json={"amount": 10**9, "idempotency_key": "w2"}
        )
        assert too_much.status_code == 402
        assert too_much.json()["error"] == "insufficient_funds"

        assert client.post("/api/logout", headers=auth).status_code == 204
        assert client.get("/api/me", headers=auth).status_code == 401


def test_a_seeded_player_sees_their_name_and_a_replayed_deposit_is_one(
    resilient: Platform,
) -> None:
    with resilient.client() as client:
        auth = login(client, *seeded(2))
        me = client.get("/api/me", headers=auth).json()
        assert (me["player_id"], me["username"]) == ("p000002", "player000002")
        body = {"amount": 700, "idempotency_key": "again"}
        first = client.post("/api/deposits", headers=auth, json=body)
        second = client.post("/api/deposits", headers=auth, json=body)
        assert first.status_code == second.status_code == 202
        assert first.json()["deposit_id"] == second.json()["deposit_id"]
        assert second.headers.get("idempotent-replayed") == "true"
        other = login(client, *seeded(3))  # someone else's deposit does not exist for them
        assert (
            client.get(f"/api/deposits/{first.json()['deposit_id']}", headers=other).status_code
            == 404
        )


def test_the_lobby_is_served_from_redis_after_the_first_call(resilient: Platform) -> None:
    resilient.redis.delete(LOBBY_KEY, LOBBY_KEY + b":lock")
    games_route = {"route": "/v1/games"}
    router_before = resilient.metric("router", "http_request_duration_seconds_count", **games_route)
    misses = resilient.metric("gateway", "gateway_lobby_cache_total", result="miss")
    hits = resilient.metric("gateway", "gateway_lobby_cache_total", result="hit")
    with resilient.client() as client:
        first, second = client.get("/api/lobby"), client.get("/api/lobby")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert resilient.metric("gateway", "gateway_lobby_cache_total", result="miss") == misses + 1
    assert resilient.metric("gateway", "gateway_lobby_cache_total", result="hit") == hits + 1
    router_after = resilient.metric("router", "http_request_duration_seconds_count", **games_route)
    assert router_after == router_before + 1
    assert resilient.redis.pttl(LOBBY_KEY) > 0


def test_a_cold_lobby_stampede_asks_the_router_once(resilient: Platform) -> None:
    resilient.redis.delete(LOBBY_KEY, LOBBY_KEY + b":lock")
    games_route = {"route": "/v1/games"}
    before = resilient.metric("router", "http_request_duration_seconds_count", **games_route)

    def lobby(_: int) -> httpx.Response:
        return httpx.get(f"{resilient.gateway}/api/lobby", timeout=10)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lobby, range(8)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    after = resilient.metric("router", "http_request_duration_seconds_count", **games_route)
    assert after == before + 1


ROUNDS = f"/api/games/{GAME}/rounds"


def case(method: str, path: str, status: int, code: str, **options: Any) -> Any:
    """One bad request: ``auth=True`` adds a valid session; ``json`` / ``content`` a body."""
    return pytest.param(method, path, options, status, code, id=f"{status}-{code}-{path}")


def pay(amount: object, key: str = "k") -> dict[str, object]:
    return {"amount": amount, "idempotency_key": key}


def bet(amount: object, session: str = "s") -> dict[str, object]:
    return {"session_id": session, "bet": amount}


BAD_INPUTS = [
    case("POST", "/api/login", 400, "malformed_json", content=b'{"username": "x",'),
    case("POST", "/api/login", 422, "invalid_request", json={"username": "x"}),
    case("POST", "/api/login", 413, "body_too_large", content=b"{" + b" " * 5000 + b"}"),
    case("POST", "/api/register", 422, "invalid_request", json={"username": "a", "password": "pw"}),
    case("POST", "/api/register", 409, "username_taken",
         json={"username": "player000001", "password": "long-enough"}),
    case("POST", "/api/login", 401, "invalid_credentials",
         json={"username": "player000001", "password": "wrong"}),
    case("GET", "/api/balance", 401, "unauthorized", headers={"Authorization": "Bearer st_nope"}),
    case("GET", "/api/balance", 401, "unauthorized", headers={"Authorization": "Basic abc"}),
    case("GET", "/api/me", 401, "unauthorized"),
    case("POST", "/api/games/no-such-game/launch", 404, "unknown_game", auth=True),
    case("POST", "/api/games/Bad_Game!/launch", 404, "unknown_game", auth=True),
    case("POST", ROUNDS, 404, "unknown_session", auth=True, json=bet(100, "aurora.forged")),
    case("POST", ROUNDS, 422, "invalid_request", auth=True, json=bet(0)),
    case("POST", ROUNDS, 422, "invalid_request", auth=True, json=bet(-5)),
    case("POST", ROUNDS, 422, "invalid_request", auth=True, json=bet(2.5)),
    case("POST", ROUNDS, 422, "invalid_request", auth=True, json=bet("5")),
    case("POST", "/api/deposits", 422, "invalid_request", auth=True, json=pay(0)),
    case("POST", "/api/deposits", 422, "invalid_request", auth=True, json=pay(-100)),
    case("POST", "/api/deposits", 422, "invalid_request", auth=True, json=pay(10.5)),
    case("POST", "/api/deposits", 422, "invalid_request", auth=True, json=pay(100, "no spaces")),
    case("POST", "/api/withdrawals", 422, "invalid_request", auth=True, json=pay(True)),
    case("POST", "/api/deposits", 400, "malformed_json", auth=True, content=b"not json"),
    case("GET", "/api/deposits/dep-unknown", 404, "not_found", auth=True),
    case("GET", "/api/withdrawals/..%20x", 404, "not_found", auth=True),
    case("GET", "/api/nowhere", 404, "not_found"),
]  # fmt: skip


@pytest.fixture(scope="module")
def bearer(resilient: Platform) -> dict[str, str]:
    with resilient.client() as client:
        return login(client, *seeded(5))


@pytest.mark.parametrize(("method", "path", "options", "status", "code"), BAD_INPUTS)
def test_bad_input_is_a_4xx_json_error_never_a_500(
    resilient: Platform,
    bearer: dict[str, str],
    method: str,
    path: str,
    options: dict[str, Any],
    status: int,
    code: str,
) -> None:
    options = dict(options)
    with resilient.client() as client:
        if options.pop("auth", False):
            options["headers"] = dict(bearer)
        if "content" in options:
            options.setdefault("headers", {})["Content-Type"] = "application/json"
        answer = client.request(method, path, **options)
    assert (answer.status_code, answer.json()["error"]) == (status, code), answer.text
    assert set(answer.json()) == {"error", "detail"}


def test_auth_sees_the_players_address_from_the_gateway(resilient: Platform) -> None:
    """auth limits logins per address (30 a minute in this stack): the gateway passes on
    the first X-Forwarded-For address, so one noisy address is limited, others are not."""
    username, password = seeded(9)
    body = {"username": username, "password": password}
    noisy = {"X-Forwarded-For": "198.51.100.23"}
    left = 60.0 - time.time() % 60.0  # auth's windows are the wall clock's minutes
    if left < 20.0:  # 31 logins must not straddle two windows (the count starts again)
        time.sleep(left + 0.1)
    with resilient.client() as client:
        statuses = [
            client.post("/api/login", json=body, headers=noisy).status_code for _ in range(31)
        ]
        assert statuses[:30] == [200] * 30
        limited = client.post("/api/login", json=body, headers=noisy)
        assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        calm = client.post("/api/login", json=body, headers={"X-Forwarded-For": "198.51.100.24"})
        assert calm.status_code == 200


def test_wallet_calls_alternate_between_replicas_and_sessions_are_cached(
    resilient: Platform,
) -> None:
    route = {"route": "/v1/players/{player_id}/balance", "method": "GET"}
    validate = {"route": "/sessions/validate"}
    name = "http_request_duration_seconds_count"
    before = [resilient.metric(r, name, **route) for r in ("wallet-1", "wallet-2")]
    validations = resilient.metric("auth", name, **validate)
    with resilient.client() as client:
        auth = login(client, *seeded(11))
        for _ in range(6):
            assert client.get("/api/balance", headers=auth).status_code == 200
    after = [resilient.metric(r, name, **route) for r in ("wallet-1", "wallet-2")]
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 3]
    assert resilient.metric("auth", name, **validate) == validations  # the login filled it


def test_beyond_its_bound_the_gateway_refuses_at_once_with_retry_after(
    resilient: Platform,
) -> None:
    """auth slowed to 0.8 s: the 10 admitted requests wait for it, the other 20 are
    refused within milliseconds instead of queueing behind them."""
    rejected_before = resilient.metric("gateway", "gateway_backpressure_rejected_total")
    with slowed_link(resilient, "gateway-auth", 800):
        answers = burst(resilient.gateway, "/api/me", 30)
    refused = [a for a in answers if a.error == "overloaded"]
    served = [a for a in answers if a.error != "overloaded"]
    assert len(refused) >= 15, answers
    assert all(a.status == 503 and a.retry_after == "1" for a in refused)
    assert max(a.elapsed_s for a in refused) < 0.5
    assert served and all(a.status == 401 and a.elapsed_s >= 0.7 for a in served)
    rejected = resilient.metric("gateway", "gateway_backpressure_rejected_total")
    assert rejected - rejected_before == len(refused)
    started = time.perf_counter()  # and it recovers at once
    with resilient.client() as client:
        assert client.get("/api/me").status_code == 401
    assert time.perf_counter() - started < 0.5
