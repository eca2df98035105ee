"""The fragile profile shows what the payment mechanisms prevent, asserted as failures.

- without reclaim, a worker killed mid-batch takes its in-flight deposits with
  it: accepted (202), never applied, pending for good;
- without the queue, a deposit waits for the payment provider and the wallet,
  and a provider slower than the request's time budget leaves it pending.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from spikekit.reference_platform.payments.entrypoints.api import create_app
from spikekit.reference_platform.payments.settings import PaymentsSettings
from spikekit.reference_platform.spec import Profile
from tests.integration.payments.harness import (
    PAYMENTS,
    STREAM,
    WALLET,
    WORKERS,
    Platform,
    balances,
    held_by,
    kill_when_busy,
    ledger_counts,
    players,
    running_platform,
    stages_of,
    submit_all,
)

RECLAIM_IDLE_S = 2.0


@pytest.fixture(scope="module")
def fragile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    tmp = tmp_path_factory.mktemp("fragile")
    # only reclaim is off: the queue stays on, so that there is a worker to kill
    env = {"SPIKEKIT_PAYMENTS_QUEUED": "true"}
    with running_platform(tmp, (WALLET, PAYMENTS, WORKERS), Profile.FRAGILE, env) as running:
        yield running


def test_without_reclaim_a_killed_workers_deposits_are_never_applied(fragile: Platform) -> None:
    victim = fragile.service("payments-worker-1")
    worker = httpx.get(f"{victim.url}/v1/worker", timeout=5).json()
    assert worker["reclaim"] is False
    who = players(20, first=1)
    bodies = [
        {"player_id": who[n % 20], "amount": 100, "idempotency_key": uuid.uuid4().hex}
        for n in range(200)
    ]

    async def submit_and_kill() -> list[httpx.Response]:
        first = await submit_all(fragile, "/v1/deposits", bodies[:80])
        await kill_when_busy(fragile, victim, worker["consumer"])  # mid-batch
        return first + await submit_all(fragile, "/v1/deposits", bodies[80:])

    answers = asyncio.run(submit_and_kill())
    assert [a.status_code for a in answers] == [202] * len(bodies)
    ids = [a.json()["deposit_id"] for a in answers]
    orphaned_entries = set(held_by(fragile, worker["consumer"]))
    assert orphaned_entries, "the killed worker held no entries"
    held = {
        str(fields["payment_id"])
        for entry_id, fields in fragile.redis.xrange(STREAM, "-", "+")
        if entry_id in orphaned_entries
    }
    # an entry the victim finished just before the kill, not yet acknowledged, is held too
    finished = stages_of(fragile, sorted(held))
    orphaned = {i for i in held if finished[i] not in ("completed", "failed")}
    assert orphaned, "the killed worker had finished every entry it held"

    deadline = time.monotonic() + 30
    while True:  # until the survivor has done all it will ever do, and then some
        stages = stages_of(fragile, ids)
        waiting = {i for i, stage in stages.items() if stage not in ("completed", "failed")}
        if waiting == orphaned:
            break
        assert time.monotonic() < deadline, f"{len(waiting - orphaned)} others still pending"
        time.sleep(0.2)
    time.sleep(2 * RECLAIM_IDLE_S)  # long past the idle time a resilient worker reclaims at

    stages = stages_of(fragile, ids)
    stuck = {i for i in ids if stages[i] not in ("completed", "failed")}
    counts = ledger_counts(fragile, ids)
    # some may have reached the wallet before the kill (credited, yet pending for ever),
    # the others never will: both are what reclaim prevents
    never_applied = [i for i in stuck if i not in counts]
    assert stuck == orphaned  # the failure reclaim prevents: accepted, never finished
    assert all(stages[i] in ("pending", "authorized") for i in stuck)
    assert all(counts.get(i) == 1 for i in ids if stages[i] == "completed")
    with fragile.payments_client() as client:
        views = [client.get(f"/v1/deposits/{i}").json() for i in sorted(stuck)[:5]]
    assert {v["status"] for v in views} == {"pending"}
    print(
        f"fragile: the killed worker took {len(stuck)} of {len(ids)} accepted deposits with it, "
        f"{len(never_applied)} never applied"
    )


def test_without_the_queue_a_deposit_waits_for_the_provider_and_times_out(
    fragile: Platform,
) -> None:
    redis_url = fragile.state.backing_address("redis")

    async def deposit(latency_s: float, timeout_s: float) -> tuple[httpx.Response, float]:
        settings = PaymentsSettings(
            profile="fragile",
            redis_url=redis_url,
            wallet_urls=fragile.url("wallet"),
            **fragile.payments_keys(),
            payments_provider_latency_s=latency_s,
            payments_provider_jitter_s=0.0,
            payments_decline_rate=0.0,
            payments_sync_timeout_s=timeout_s,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://payments", auth=fragile.as_gateway()
            ) as c:
                body = {"player_id": "p000040", "amount": 250, "idempotency_key": uuid.uuid4().hex}
                started = time.perf_counter()
                answer = await c.post("/v1/deposits", json=body)
                return answer, time.perf_counter() - started

    before = balances(fragile, ["p000040"])["p000040"]
    waited, took = asyncio.run(deposit(latency_s=0.3, timeout_s=5.0))
    assert waited.status_code == 202 and waited.json()["status"] == "completed"
    assert took >= 0.3, "the caller waited for the provider"
    assert balances(fragile, ["p000040"])["p000040"] == before + 250

    timed_out, _ = asyncio.run(deposit(latency_s=1.0, timeout_s=0.2))
    assert timed_out.status_code == 503
    assert timed_out.json()["error"]["code"] == "TIMEOUT"
    assert timed_out.headers["Retry-After"]
    stuck = [
        key
        for key in fragile.redis.scan_iter("payments:payment:*")
        if fragile.redis.hget(key, "stage") == "pending"
        and fragile.redis.hget(key, "player_id") == "p000040"
    ]
    assert len(stuck) == 1, "the timed-out deposit is left pending: nobody will process it"
