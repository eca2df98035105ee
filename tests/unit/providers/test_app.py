"""A studio's HTTP API in-process: the control API, and bad input answered with 4xx JSON.

No wallet is needed: every request here is answered before a wallet call. The client
signs as the router (launches and rounds accept no other caller).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from spikekit.reference_platform.common.service_auth import ROUTER, Signer
from spikekit.reference_platform.common.signed_httpx import SignedAuth
from spikekit.reference_platform.providers.app import create_app
from spikekit.reference_platform.providers.settings import ProviderSettings

Scenario = Callable[[httpx.AsyncClient], Awaitable[None]]
ROUTER_KEY = "router-test-key"


def _run(scenario: Scenario, studio: str = "cobalt") -> None:
    settings = ProviderSettings(
        service=f"provider-{studio}",
        wallet_urls="http://127.0.0.1:9",
        caller_keys={ROUTER: [ROUTER_KEY]},
    )
    app = create_app(settings)
    auth = SignedAuth(Signer(ROUTER, ROUTER_KEY))

    async def main() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://p", auth=auth
            ) as client:
                await scenario(client)

    asyncio.run(main())


def test_the_control_api_follows_its_contract() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        listing = (await client.get("/control/providers")).json()
        assert listing == {"providers": [{"id": "cobalt", "rounds": 0, "in_flight": 0}]}
        path = "/control/providers/cobalt/faults/meltdown"
        body = {"type": "errors", "rate": 1.0, "status_codes": [503], "expires_in_s": 30.0}
        put = await client.put(path, json=body)
        assert put.status_code == 200 and put.json() == {"fault_id": "meltdown", "active": True}
        launch = await client.post("/v1/launch", json={"player_id": "p1", "game": "aviator-sky"})
        assert launch.status_code == 503 and launch.headers["Retry-After"] == "1"
        assert launch.json()["error"]["code"] == "INJECTED_FAULT"
        assert (await client.get("/health")).status_code == 200  # faults never touch /health
        faults = (await client.get("/control/faults")).json()["faults"]
        assert [(f["provider"], f["fault_id"], f["type"]) for f in faults] == [
            ("cobalt", "meltdown", "errors")
        ]
        assert faults[0]["expires_at"] > 0
        # spikekit sends each fault to every simulator: another studio's is kept, not applied
        other = await client.put("/control/providers/aurora/faults/x", json={"type": "hang"})
        assert other.status_code == 200
        assert (
            await client.put("/control/providers/nobody/faults/x", json=body)
        ).status_code == 404
        bad = await client.put(path, json={"type": "errors", "rate": 2})
        assert bad.status_code == 422
        assert (await client.delete(path)).status_code == 204
        assert (await client.delete(path)).status_code == 404
        assert (await client.delete("/control/providers/aurora/faults")).status_code == 204
        assert (await client.delete("/control/faults")).status_code == 204
        launch = await client.post("/v1/launch", json={"player_id": "p1", "game": "aviator-sky"})
        assert launch.status_code == 200
        assert launch.json()["provider"] == "cobalt"
        assert launch.json()["session_id"].startswith("cobalt.")

    _run(scenario)


def test_bad_input_gets_a_4xx_json_error() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        json_header = {"Content-Type": "application/json"}
        answers = {
            "malformed": await client.post("/v1/rounds", content=b"{", headers=json_header),
            "not offered": await client.post(
                "/v1/rounds", json={"player_id": "p1", "game": "gonzo-gold", "bet": 100}
            ),
            "fractional": await client.post(
                "/v1/rounds", json={"player_id": "p1", "game": "aviator-sky", "bet": 1.5}
            ),
            "negative": await client.post(
                "/v1/rounds", json={"player_id": "p1", "game": "aviator-sky", "bet": -5}
            ),
            "below min": await client.post(
                "/v1/rounds", json={"player_id": "p1", "game": "aviator-sky", "bet": 1}
            ),
            "bad session": await client.post(
                "/v1/rounds",
                json={"player_id": "p1", "game": "aviator-sky", "bet": 100, "session_id": "x"},
            ),
            "oversized": await client.post("/v1/rounds", content=b"x" * 50_000),
            "unknown route": await client.get("/v1/nothing"),
        }
        statuses = {name: answer.status_code for name, answer in answers.items()}
        assert statuses == {
            "malformed": 400,
            "not offered": 404,
            "fractional": 422,
            "negative": 422,
            "below min": 422,
            "bad session": 401,
            "oversized": 413,
            "unknown route": 404,
        }
        assert all("error" in answer.json() for answer in answers.values())

    _run(scenario)


def test_the_studio_lists_only_its_games() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        games = (await client.get("/v1/games")).json()
        assert games and all("aurora" in g["providers"] for g in games)

    _run(scenario, "aurora")


def test_launches_and_rounds_refuse_a_caller_that_is_not_the_router() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        launch = {"player_id": "p1", "game": "aviator-sky"}
        bodies = {"/v1/launch": launch, "/v1/rounds": {**launch, "bet": 100}}
        refused = {
            "none": None,  # auth=None: this request unsigned
            "wrong key": SignedAuth(Signer(ROUTER, "not-the-key")),
            "another service": SignedAuth(Signer("gateway", ROUTER_KEY)),
        }
        for name, auth in refused.items():
            for path, body in bodies.items():
                answer = await client.post(path, json=body, auth=auth)
                assert answer.status_code == 401, (name, path, answer.text)
                assert answer.json()["error"]["code"] == "UNAUTHENTICATED"
        # checked before the body is validated: an invalid round unsigned is 401 too
        assert (await client.post("/v1/rounds", json={"bet": -1}, auth=None)).status_code == 401
        assert (await client.get("/v1/games", auth=None)).status_code == 200  # not signed

    _run(scenario)
