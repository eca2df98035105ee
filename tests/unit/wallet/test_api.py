"""The wallet's HTTP contract on a fake unit of work: answers, 4xx errors, OpenAPI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import httpx

from spikekit.reference_platform.common.service_auth import Signer
from spikekit.reference_platform.common.signed_httpx import SignedAuth
from spikekit.reference_platform.wallet.entrypoints.app import create_app
from spikekit.reference_platform.wallet.settings import DEFAULT_PROVIDER_SECRETS, WalletSettings
from spikekit.reference_platform.wallet.signing import signed_headers

from .fakes import FakeStore, FakeUnitOfWork

SECRET = DEFAULT_PROVIDER_SECRETS["aurora"]
KEYS = {"payments": "payments-test-key", "gateway": "gateway-test-key"}
AS_PAYMENTS = SignedAuth(Signer("payments", KEYS["payments"]))
AS_GATEWAY = SignedAuth(Signer("gateway", KEYS["gateway"]))
Scenario = Callable[[httpx.AsyncClient], Awaitable[None]]


def run_api(scenario: Scenario, store: FakeStore | None = None) -> FakeStore:
    store = store or FakeStore()
    if not store.accounts:
        store.fund("p000001", 1_000)
    settings = WalletSettings(
        wallet_max_body_bytes=1024, caller_keys={c: [k] for c, k in KEYS.items()}
    )
    app = create_app(settings, uow=lambda: FakeUnitOfWork(store))

    async def run() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://wallet") as client:
                await scenario(client)

    asyncio.run(run())
    return store


async def signed_post(
    client: httpx.AsyncClient, operation: str, body: object, secret: str = SECRET
) -> httpx.Response:
    raw = json.dumps(body).encode()
    return await client.post(
        f"/v1/providers/aurora/{operation}", content=raw, headers=signed_headers(secret, raw)
    )


def debit(amount: object = 100, player: str = "p000001", tx: str = "t1") -> dict[str, object]:
    return {"player_id": player, "tx_id": tx, "round_id": "r1", "amount": amount}


def test_a_signed_debit_and_its_replay_get_the_same_body() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        first = await signed_post(client, "debit", debit())
        second = await signed_post(client, "debit", debit())
        assert first.status_code == second.status_code == 200
        assert first.json() == second.json()
        assert first.json()["balance"] == 900
        assert second.headers["Idempotent-Replayed"] == "true"

    run_api(scenario)


def test_insufficient_funds_is_a_200_business_answer() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        response = await signed_post(client, "debit", debit(5_000))
        assert response.status_code == 200
        assert response.json()["status"] == "refused"
        assert response.json()["code"] == "INSUFFICIENT_FUNDS"

    run_api(scenario)


def test_bad_input_gets_a_4xx_json_error() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        raw = b'{"player_id": "p000001", "tx_id": '
        cases: list[tuple[httpx.Response, int, str]] = [
            (
                await client.post(
                    "/v1/providers/aurora/debit", content=raw, headers=signed_headers(SECRET, raw)
                ),
                400,
                "MALFORMED_JSON",
            ),
            (await signed_post(client, "debit", debit(), "wrong"), 401, "INVALID_SIGNATURE"),
            (await signed_post(client, "debit", debit(0)), 422, "INVALID_REQUEST"),
            (await signed_post(client, "debit", debit(-5)), 422, "INVALID_REQUEST"),
            (await signed_post(client, "debit", debit(1.5)), 422, "INVALID_REQUEST"),
            (await signed_post(client, "debit", debit("100")), 422, "INVALID_REQUEST"),
            (await signed_post(client, "debit", debit(player="nobody")), 404, "UNKNOWN_PLAYER"),
            (
                await signed_post(client, "debit", {**debit(), "padding": "x" * 2_000}),
                413,
                "BODY_TOO_LARGE",
            ),
            (
                await client.post("/v1/providers/nobody/debit", content=b"{}"),
                404,
                "UNKNOWN_PROVIDER",
            ),
            (
                await client.post(
                    "/v1/players/p000001/deposit", json={"amount": 5}, auth=AS_PAYMENTS
                ),
                422,
                "",
            ),
            (await client.post("/v1/players/p000001/deposit", json={"amount": 5}), 401, ""),
        ]
        await signed_post(client, "debit", debit(tx="t9"))
        cases.append((await signed_post(client, "debit", debit(7, tx="t9")), 409, "TX_MISMATCH"))
        for response, status, code in cases:
            assert response.status_code == status, response.text
            error = response.json()["error"]
            assert not code or error["code"] == code, response.text

    run_api(scenario)


def test_deposit_withdraw_and_balance_for_the_payments_service() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        key = {"Idempotency-Key": "dep-1"}
        url = "/v1/players/p000001"
        first = await client.post(
            f"{url}/deposit", json={"amount": 500}, headers=key, auth=AS_PAYMENTS
        )
        again = await client.post(
            f"{url}/deposit", json={"amount": 500}, headers=key, auth=AS_PAYMENTS
        )
        assert first.json() == again.json() and first.json()["balance"] == 1_500
        out = await client.post(
            f"{url}/withdraw",
            json={"amount": 9_999},
            headers={"Idempotency-Key": "wd-1"},
            auth=AS_PAYMENTS,
        )
        assert out.json()["code"] == "INSUFFICIENT_FUNDS"
        assert (await client.get(f"{url}/balance", auth=AS_GATEWAY)).json()["balance"] == 1_500
        assert (await client.put("/v1/players/p000777", auth=AS_GATEWAY)).status_code == 201
        assert (await client.put("/v1/players/p000777", auth=AS_GATEWAY)).status_code == 200

    store = run_api(scenario)
    assert len(store.ledger) == 1


def test_the_openapi_schema_documents_the_contract() -> None:
    app = create_app(WalletSettings(), uow=lambda: FakeUnitOfWork(FakeStore()))
    schema = app.openapi()
    paths = schema["paths"]
    for operation in ("balance", "debit", "credit", "rollback"):
        assert f"/v1/providers/{{provider}}/{operation}" in paths
    amount = schema["components"]["schemas"]["DebitRequest"]["properties"]["amount"]
    assert amount["minimum"] == 1 and amount["type"] == "integer"
    assert "401" in paths["/v1/providers/{provider}/debit"]["post"]["responses"]
    deposit = paths["/v1/players/{player_id}/deposit"]["post"]
    assert {"401", "403"} <= set(deposit["responses"])
    headers = {p["name"] for p in deposit["parameters"] if p["in"] == "header"}
    assert {"X-Spikekit-Caller", "X-Spikekit-Timestamp", "X-Spikekit-Signature"} <= headers
