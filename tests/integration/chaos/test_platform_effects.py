"""Chaos effects on the platform's own services: the wallet under a table lock, the payment
queue with its consumers frozen. Real wallet, payments API, payment workers, PostgreSQL and
Redis; the effect is seen on a real request, then gone after the revert.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psutil
import pytest
import redis

from spikekit.chaos.context import ChaosContext
from spikekit.chaos.registry import build_fault
from spikekit.reference_platform.common.service_auth import GATEWAY, PAYMENTS
from spikekit.reference_platform.common.signed_httpx import SignedAuth, StudioAuth
from spikekit.reference_platform.spec import StackSpec, default_stack
from spikekit.reference_platform.state import StackState
from spikekit.reference_platform.supervisor import Stack
from spikekit.scenarios.faults import DatabaseLock, QueueConsumerStall
from spikekit.scenarios.faults.backing import Consumer

SERVICES = ("wallet", "payments", "payments-worker")
PLAYER = "p-chaos-effects"
PROVIDER = "aurora"
STREAM = "payments.requests"
#: The wallet gives up on a statement after SPIKEKIT_WALLET_DB_TIMEOUT_S (2 s).
WALLET_DB_TIMEOUT_S = 2.0


def wallet_and_payments() -> StackSpec:
    full = default_stack()
    return StackSpec(
        services=tuple(full.service(name) for name in SERVICES),
        toxiproxy=full.toxiproxy,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Overrides the package's small stack: the wallet and the payment path."""
    with Stack(wallet_and_payments(), tmp_path_factory.mktemp("effects") / "stack") as running:
        yield running


def url(state: StackState, service: str) -> str:
    return next(s.url for s in state.services if s.service == service)


@pytest.fixture(scope="module")
def wallet(state: StackState, stack: Stack) -> Iterator[httpx.Client]:
    """The wallet; its provider API signed as the studio (the stack's own secrets)."""
    studios = StudioAuth(stack.keys.studios)
    with httpx.Client(base_url=url(state, "wallet"), timeout=15, auth=studios) as client:
        opened = client.put(f"/v1/players/{PLAYER}", auth=SignedAuth(stack.keys.signer(GATEWAY)))
        opened.raise_for_status()
        deposit = client.post(
            f"/v1/players/{PLAYER}/deposit",
            headers={"Idempotency-Key": "chaos-effects-funds"},
            json={"amount": 1_000_000},
            auth=SignedAuth(stack.keys.signer(PAYMENTS)),
        )
        assert deposit.status_code == 200 and deposit.json()["code"] == "OK", deposit.text
        yield client


@dataclass
class Debit:
    status: int
    code: str
    seconds: float


def debit(wallet: httpx.Client, amount: int = 100) -> Debit:
    """One bet, as a game provider sends it (the ``wallet`` client signs it); timed."""
    tx = uuid.uuid4().hex
    body = json.dumps(
        {"player_id": PLAYER, "tx_id": f"tx-{tx}", "round_id": f"r-{tx}", "amount": amount}
    ).encode()
    headers = {"Content-Type": "application/json"}
    started = time.perf_counter()
    answer = wallet.post(f"/v1/providers/{PROVIDER}/debit", content=body, headers=headers)
    seconds = time.perf_counter() - started
    payload = answer.json()
    code = payload.get("code") or payload.get("error", {}).get("code", "")
    return Debit(answer.status_code, str(code), seconds)


def debit_during_lock(wallet: httpx.Client, ctx: ChaosContext, hold_s: float) -> Debit:
    """A debit sent right after the lock is taken; the lock is released after ``hold_s``."""
    spec = DatabaseLock(type="database.lock", at=0, table="accounts")
    results: list[Debit] = []
    with build_fault(spec, ctx, fault_id="accounts-lock", duration_s=hold_s):
        worker = threading.Thread(target=lambda: results.append(debit(wallet)))
        worker.start()
        worker.join(hold_s)  # returns early only if the debit did not wait
    worker.join(15)
    assert results, "the debit never answered"
    return results[0]


def test_a_held_lock_on_accounts_makes_a_debit_wait_until_it_is_released(
    wallet: httpx.Client, ctx: ChaosContext
) -> None:
    before = debit(wallet)
    hold_s = 1.5  # under the wallet's statement timeout: the debit waits, then succeeds
    during = debit_during_lock(wallet, ctx, hold_s)
    after = debit(wallet)
    print(
        f"\ndebit before {before.seconds * 1000:.0f} ms, under a {hold_s:g} s lock "
        f"{during.seconds * 1000:.0f} ms ({during.status} {during.code}), "
        f"after {after.seconds * 1000:.0f} ms"
    )
    assert (before.status, before.code) == (200, "OK") and before.seconds < 0.5
    assert (during.status, during.code) == (200, "OK"), during
    assert during.seconds >= 0.8 * hold_s, f"the debit did not wait for the lock: {during}"
    assert (after.status, after.code) == (200, "OK") and after.seconds < 0.5, after


def test_a_lock_held_past_the_wallets_timeout_makes_a_debit_answer_503(
    wallet: httpx.Client, ctx: ChaosContext
) -> None:
    hold_s = WALLET_DB_TIMEOUT_S + 1.5
    during = debit_during_lock(wallet, ctx, hold_s)
    after = debit(wallet)
    print(
        f"\nunder a {hold_s:g} s lock the debit answered {during.status} {during.code} "
        f"after {during.seconds * 1000:.0f} ms; after the revert {after.seconds * 1000:.0f} ms"
    )
    assert during.status == 503 and during.code in ("TIMEOUT", "UNAVAILABLE"), during
    assert 0.8 * WALLET_DB_TIMEOUT_S <= during.seconds < hold_s, during
    assert (after.status, after.code) == (200, "OK") and after.seconds < 0.5, after


def process_states(state: StackState, service: str) -> list[str]:
    return [psutil.Process(s.pid).status() for s in state.services if s.service == service]


def xlen(client: redis.Redis) -> int:
    return int(client.xlen(STREAM))


def wait_for(condition: object, timeout: float) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


def test_stalled_payment_workers_let_the_stream_grow_then_it_drains(
    state: StackState, stack: Stack, ctx: ChaosContext, wallet: httpx.Client
) -> None:
    deposits = 25
    assert ctx.redis_url is not None
    queue = redis.Redis.from_url(ctx.redis_url, socket_timeout=5)
    as_gateway = SignedAuth(stack.keys.signer(GATEWAY))
    payments = httpx.Client(base_url=url(state, "payments"), timeout=5, auth=as_gateway)
    spec = QueueConsumerStall(type="queue.consumer_stall", at=0, consumer=Consumer.PAYMENTS)
    with queue, payments:
        assert wait_for(lambda: xlen(queue) == 0, 10), "the stream is not empty to start with"
        ids: list[str] = []
        slowest = 0.0
        with build_fault(spec, ctx, fault_id="payments-stalled"):
            frozen = {psutil.STATUS_STOPPED}
            assert wait_for(lambda: set(process_states(state, "payments-worker")) == frozen, 2)
            assert psutil.STATUS_STOPPED not in process_states(state, "payments")
            for n in range(deposits):
                started = time.perf_counter()
                answer = payments.post(
                    "/v1/deposits",
                    json={"player_id": PLAYER, "amount": 500, "idempotency_key": f"stall-{n}"},
                )
                slowest = max(slowest, time.perf_counter() - started)
                assert answer.status_code == 202, answer.text
                ids.append(answer.json()["deposit_id"])
            time.sleep(1.0)  # nothing may consume them meanwhile
            stalled_depth = xlen(queue)
            statuses = {payments.get(f"/v1/deposits/{i}").json()["status"] for i in ids}
        drained = wait_for(lambda: xlen(queue) == 0, 20)
        left = xlen(queue)
        done = {payments.get(f"/v1/deposits/{i}").json()["status"] for i in ids}
    print(
        f"\n{deposits} deposits accepted in at most {slowest * 1000:.0f} ms each with the "
        f"workers stopped: stream depth 0 -> {stalled_depth}; after the revert drained: "
        f"{drained}, statuses {sorted(done)}"
    )
    assert stalled_depth == deposits and statuses == {"pending"}
    assert drained, f"20 s after the revert the stream still holds {left} entries"
    assert "completed" in done and done <= {"completed", "failed"}, done  # 2 % are declined
