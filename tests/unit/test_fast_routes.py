"""Hot routes answered without FastAPI: the handler's answer, FastAPI's when it declines,
the app's exception handlers for what it raises, and the request metrics for all."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI
from prometheus_client import generate_latest
from pydantic import BaseModel, TypeAdapter

from spikekit.reference_platform.common.errors import ApiError, install_error_handlers
from spikekit.reference_platform.common.fast_routes import (
    Answer,
    FastRequest,
    FastTable,
    json_answer,
    parse_body,
)
from spikekit.reference_platform.common.service_app import ServiceMetrics, fast_routes, service_app
from spikekit.reference_platform.settings import ServiceSettings

Scenario = Callable[[httpx.AsyncClient], Awaitable[None]]


class Bet(BaseModel):
    bet: int


BET = TypeAdapter(Bet)


class Echo(BaseModel):
    bet: int
    who: str


def _app() -> tuple[FastAPI, ServiceMetrics]:
    app, metrics = service_app(ServiceSettings(service="svc"), "svc", {})
    install_error_handlers(app)

    @app.post("/v1/bets/{game}")
    async def slow(game: str, body: Bet) -> Echo:
        return Echo(bet=body.bet, who=f"fastapi:{game}")

    async def fast(request: FastRequest) -> Answer | None:
        if request.params["game"] == "refused":
            raise ApiError(409, "REFUSED", "no bets on this game", {"Retry-After": "3"})
        if request.params["game"] == "bug":
            raise RuntimeError("a bug of ours")
        body = parse_body(BET, request)
        if body is None or body.bet == 7:  # 7: declined, FastAPI answers
            return None
        return json_answer(Echo(bet=body.bet, who=f"fast:{request.params['game']}"))

    fast_routes(app).add("POST", "/v1/bets/{game}", fast)
    return app, metrics


def _run(app: FastAPI, scenario: Scenario) -> None:
    async def main() -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://s") as client:
            await scenario(client)

    asyncio.run(main())


def test_the_handler_answers_and_declines_to_fastapi_with_the_body_replayed() -> None:
    app, metrics = _app()

    async def scenario(client: httpx.AsyncClient) -> None:
        fast = await client.post("/v1/bets/slots", json={"bet": 5})
        assert (fast.status_code, fast.json()) == (200, {"bet": 5, "who": "fast:slots"})
        assert fast.headers["content-type"] == "application/json"
        declined = await client.post("/v1/bets/slots", json={"bet": 7})
        assert declined.json() == {"bet": 7, "who": "fastapi:slots"}
        invalid = await client.post("/v1/bets/slots", json={"bet": "many"})
        assert invalid.status_code == 422 and "error" in invalid.json()  # FastAPI's 422
        text = await client.post(
            "/v1/bets/slots", content=b'{"bet": 5}', headers={"content-type": "text/plain"}
        )
        assert text.json() != {"bet": 5, "who": "fast:slots"}  # not JSON: FastAPI's to judge

    _run(app, scenario)
    text = metrics_text(metrics)
    line = 'http_request_duration_seconds_count{method="POST",route="/v1/bets/{game}",status="2xx"}'
    assert f"{line} 2.0" in text  # the fast answer and the declined one, by template


def test_errors_are_the_apps_own_answers() -> None:
    app, metrics = _app()

    async def scenario(client: httpx.AsyncClient) -> None:
        refused = await client.post("/v1/bets/refused", json={"bet": 5})
        assert refused.status_code == 409 and refused.headers["retry-after"] == "3"
        assert refused.json()["error"]["code"] == "REFUSED"
        bug = await client.post("/v1/bets/bug", json={"bet": 5})
        assert bug.status_code == 500

    _run(app, scenario)
    assert 'http_request_errors_total{method="POST",route="/v1/bets/{game}"} 1.0' in (
        metrics_text(metrics)
    )


def test_a_table_matches_exact_paths_and_templates_by_method() -> None:
    async def handler(_: FastRequest) -> Answer | None:
        return None

    table = FastTable()
    table.add("GET", "/api/balance", handler)
    table.add("POST", "/api/games/{game}/rounds", handler)
    assert table.match("GET", "/api/balance") is not None
    assert table.match("POST", "/api/balance") is None
    found = table.match("POST", "/api/games/aviator-sky/rounds")
    assert found is not None and found[1] == {"game": "aviator-sky"}
    assert table.match("POST", "/api/games/a/b/rounds") is None


def metrics_text(metrics: ServiceMetrics) -> str:
    return generate_latest(metrics.registry).decode()
