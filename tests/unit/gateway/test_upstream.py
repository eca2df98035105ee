"""One dependency's calls: deadlines, a second replica for idempotent calls, error answers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from spikekit.reference_platform.common.http_client import (
    ConnectFailed,
    HttpResponse,
    RequestTimeout,
    TransportError,
)
from spikekit.reference_platform.gateway.adapters.clients import AuthClient, RouterClient
from spikekit.reference_platform.gateway.adapters.metrics import GatewayMetrics
from spikekit.reference_platform.gateway.adapters.upstream import Upstream
from spikekit.reference_platform.gateway.domain import GatewayError, Unauthorized, Unavailable
from tests.unit.gateway.fakes import FakePool, answer

URLS = ["http://127.0.0.1:1", "http://127.0.0.1:2"]


def upstream(script: list[HttpResponse | TransportError], urls: list[str] = URLS) -> Any:
    registry = CollectorRegistry()
    metrics = GatewayMetrics(registry)
    pool = FakePool(urls, script)
    return Upstream("router", pool, 0.5, metrics), pool, registry  # type: ignore[arg-type]


def errors(registry: CollectorRegistry, reason: str) -> float:
    value = registry.get_sample_value(
        "gateway_upstream_errors_total",
        {"dependency": "router", "operation": "games", "reason": reason},
    )
    return value or 0.0


def test_an_idempotent_call_refused_by_one_replica_goes_to_the_next() -> None:
    up, pool, _ = upstream([ConnectFailed(URLS[0], "refused"), answer(200, [])])
    assert asyncio.run(RouterClient(up).games()) == []
    assert [s[1] for s in pool.sent] == ["/v1/games", "/v1/games"]
    assert all(s[3] == 0.5 for s in pool.sent)  # every call under the deadline


def test_a_call_that_moves_money_is_never_sent_twice() -> None:
    up, pool, _ = upstream([ConnectFailed(URLS[0], "refused"), answer(200, {})])
    with pytest.raises(Unavailable) as caught:
        asyncio.run(RouterClient(up).play("p1", "g", 10, "aurora.s"))
    assert caught.value.code == "router_unavailable" and len(pool.sent) == 1


def test_no_answer_in_time_is_a_503_with_retry_after_and_counted() -> None:
    up, _, registry = upstream([RequestTimeout(URLS[0], "slow")])
    with pytest.raises(Unavailable) as caught:
        asyncio.run(RouterClient(up).games())
    assert (caught.value.code, caught.value.retry_after_s) == ("router_timeout", 1)
    assert errors(registry, "timeout") == 1


def test_an_upstream_503_is_passed_on_with_its_retry_after() -> None:
    failure = answer(503, {"error": {"code": "NO_PROVIDER", "message": "x"}}, {"retry-after": "4"})
    up, _, registry = upstream([failure])
    with pytest.raises(GatewayError) as caught:
        asyncio.run(RouterClient(up).games())
    assert (caught.value.status, caught.value.code, caught.value.retry_after_s) == (
        503,
        "no_provider",
        4,
    )
    assert errors(registry, "status_5xx") == 1


def test_an_unexpected_body_is_a_503_not_a_500() -> None:
    up, _, registry = upstream([answer(200, {"not": "a list"})])
    with pytest.raises(Unavailable) as caught:
        asyncio.run(RouterClient(up).games())
    assert caught.value.code == "bad_upstream_answer" and errors(registry, "bad_answer") == 1


def test_auth_rejecting_a_token_is_401_and_login_forwards_the_address() -> None:
    up, pool, _ = upstream([answer(401, {"error": {"code": "INVALID_SESSION", "message": ""}})])
    with pytest.raises(Unauthorized):
        asyncio.run(AuthClient(up).validate("st_x"))
    login = answer(200, {"token": "st_y", "player_id": "p1", "expires_in": 60})
    up, pool, _ = upstream([login])
    asyncio.run(AuthClient(up).login("alice", "pw", "203.0.113.9, 127.0.0.1"))
    assert b'"username":"alice"' in pool.sent[0][2]
    assert pool.headers[0]["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
