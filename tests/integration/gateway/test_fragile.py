"""The fragile gateway on a real stack: what the resilient mechanisms prevent, shown.

Against test_journeys.py: the same burst against a slowed auth is refused at once by
the resilient gateway; here it queues (4 connections to auth in this stack) and the
requests at the back of the queue fail only after the whole timeout. Without
bulkheads a slow router takes every connection, so calls to auth wait too. Every lobby
asks the router; every request asks auth about its session.
"""

from __future__ import annotations

import threading
import time

import httpx

from tests.integration.gateway.harness import Platform, burst, login, seeded, slowed_link

TIMEOUT_S = 2.0  # SPIKEKIT_GATEWAY_FRAGILE_TIMEOUT_S of this stack


def test_without_a_bound_excess_requests_queue_and_time_out(fragile: Platform) -> None:
    with slowed_link(fragile, "gateway-auth", 800):
        answers = burst(fragile.gateway, "/api/me", 30)
    assert not [a for a in answers if a.error == "overloaded"]
    assert min(a.elapsed_s for a in answers) >= 0.7  # nobody is told quickly
    timed_out = [a for a in answers if a.error == "auth_timeout"]
    assert len(timed_out) >= 10, answers
    assert all(a.status == 503 and a.elapsed_s >= TIMEOUT_S * 0.95 for a in timed_out)
    assert fragile.metric("gateway", "gateway_backpressure_rejected_total") == 0
    timeouts = fragile.metric(
        "gateway", "gateway_upstream_errors_total", dependency="auth", reason="timeout"
    )
    assert timeouts == len(timed_out)


def test_without_bulkheads_a_slow_router_starves_the_calls_to_auth(fragile: Platform) -> None:
    """8 lobbies wait 1.5 s each on the router and hold the 4 connections all
    dependencies share: a request that needs only auth queues behind them."""

    def me() -> tuple[int, float]:
        began = time.perf_counter()
        unknown = {"Authorization": "Bearer st_unknown-me"}  # auth is asked, answers 401
        answer = httpx.get(f"{fragile.gateway}/api/me", headers=unknown, timeout=10)
        return answer.status_code, time.perf_counter() - began

    me()  # warm
    status, alone = me()
    assert status == 401, status
    with slowed_link(fragile, "gateway-router", 1500):
        storm = threading.Thread(target=burst, args=(fragile.gateway, "/api/lobby", 8))
        storm.start()
        time.sleep(0.3)  # the lobbies hold every connection
        status, elapsed = me()
        storm.join()
    assert status == 503 or elapsed >= alone + 0.9, (status, elapsed, alone)


def test_every_lobby_asks_the_router(fragile: Platform) -> None:
    route = {"route": "/v1/games"}
    before = fragile.metric("router", "http_request_duration_seconds_count", **route)
    for _ in range(3):
        assert httpx.get(f"{fragile.gateway}/api/lobby", timeout=10).status_code == 200
    after = fragile.metric("router", "http_request_duration_seconds_count", **route)
    assert after - before == 3
    assert not fragile.redis.exists(b"gateway:lobby")


def test_every_request_asks_auth_about_its_session(fragile: Platform) -> None:
    route = {"route": "/sessions/validate"}
    with httpx.Client(base_url=fragile.gateway, timeout=10) as client:
        auth = login(client, *seeded(4))
        before = fragile.metric("auth", "http_request_duration_seconds_count", **route)
        for _ in range(4):
            assert client.get("/api/balance", headers=auth).status_code == 200
    after = fragile.metric("auth", "http_request_duration_seconds_count", **route)
    assert after - before == 4
