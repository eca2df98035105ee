"""Payments against the real stack: 202 fast, processed by the workers, money moved exactly once.

The last test SIGKILLs a worker mid-batch; the module's stack is not used after it.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from spikekit.reference_platform.payments.entrypoints.api import create_app
from spikekit.reference_platform.payments.settings import PaymentsSettings
from tests.integration.payments.harness import (
    OPENING_BALANCE,
    Platform,
    balances,
    held_by,
    kill_when_busy,
    ledger_counts,
    players,
    submit_all,
    wait_until_final,
)

JSON = {"Content-Type": "application/json"}


def _key() -> str:
    return uuid.uuid4().hex


def test_deposits_are_accepted_with_202_and_credited_exactly_once(platform: Platform) -> None:
    who = players(5, first=1)
    bodies = [{"player_id": p, "amount": 1_500, "idempotency_key": _key()} for p in who]
    answers = asyncio.run(submit_all(platform, "/v1/deposits", bodies))
    assert [a.status_code for a in answers] == [202] * 5
    ids = [a.json()["deposit_id"] for a in answers]
    assert all(a.json()["status"] == "pending" for a in answers)

    stages = wait_until_final(platform, ids)
    with platform.payments_client() as client:
        views = [client.get(f"/v1/deposits/{i}").json() for i in ids]
    assert [v["status"] for v in views] == [stages[i] for i in ids]
    counts = ledger_counts(platform, ids)
    after = balances(platform, who)
    for view in views:
        player = view["player_id"]
        if view["status"] == "completed":
            assert counts[view["deposit_id"]] == 1
            assert after[player] == OPENING_BALANCE + 1_500 == view["balance"]
        else:  # the simulated provider declines 5 %
            assert view["reason"] == "PROVIDER_DECLINED"
            assert view["deposit_id"] not in counts
            assert after[player] == OPENING_BALANCE


def test_a_repeated_idempotency_key_returns_the_same_deposit_and_credits_once(
    platform: Platform,
) -> None:
    body = {"player_id": "p000010", "amount": 700, "idempotency_key": _key()}
    answers = asyncio.run(submit_all(platform, "/v1/deposits", [body] * 20))
    assert {a.status_code for a in answers} == {202}
    ids = {a.json()["deposit_id"] for a in answers}
    assert len(ids) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 19
    (deposit_id,) = ids
    stage = wait_until_final(platform, [deposit_id])[deposit_id]
    credited = 700 if stage == "completed" else 0
    assert ledger_counts(platform, [deposit_id]).get(deposit_id, 0) == (1 if credited else 0)
    assert balances(platform, ["p000010"])["p000010"] == OPENING_BALANCE + credited

    with platform.payments_client() as client:
        late = client.post("/v1/deposits", json=body)
        other_amount = client.post("/v1/deposits", json={**body, "amount": 701})
    assert late.status_code == 202 and late.json()["deposit_id"] == deposit_id
    assert late.json()["status"] == stage
    assert other_amount.status_code == 409
    assert other_amount.json()["error"]["code"] == "IDEMPOTENCY_MISMATCH"


def test_withdrawals_debit_or_end_failed_on_insufficient_funds(platform: Platform) -> None:
    bodies = [
        {"player_id": "p000020", "amount": 2_000, "idempotency_key": _key()},
        {"player_id": "p000021", "amount": OPENING_BALANCE + 1, "idempotency_key": _key()},
    ]
    answers = asyncio.run(submit_all(platform, "/v1/withdrawals", bodies))
    assert [a.status_code for a in answers] == [202, 202]
    ok_id, short_id = (a.json()["withdrawal_id"] for a in answers)
    wait_until_final(platform, [ok_id, short_id])
    with platform.payments_client() as client:
        ok = client.get(f"/v1/withdrawals/{ok_id}").json()
        short = client.get(f"/v1/withdrawals/{short_id}").json()
        as_deposit = client.get(f"/v1/deposits/{ok_id}")
    assert short["status"] == "failed" and short["reason"] == "INSUFFICIENT_FUNDS"
    assert as_deposit.status_code == 404
    after = balances(platform, ["p000020", "p000021"])
    assert after["p000021"] == OPENING_BALANCE
    if ok["status"] == "completed":
        assert after["p000020"] == OPENING_BALANCE - 2_000
    else:  # payout declined: the wallet debit was refunded
        assert ok["reason"] == "PROVIDER_DECLINED"
        assert after["p000020"] == OPENING_BALANCE


def test_an_unknown_player_ends_failed_with_the_wallets_reason(platform: Platform) -> None:
    with platform.payments_client() as client:
        answers = [
            client.post(
                "/v1/withdrawals",
                json={"player_id": "nobody-here", "amount": 100, "idempotency_key": _key()},
            )
            for _ in range(3)
        ]
        ids = [a.json()["withdrawal_id"] for a in answers]
        wait_until_final(platform, ids)
        views = [client.get(f"/v1/withdrawals/{i}").json() for i in ids]
    assert {(v["status"], v["reason"]) for v in views} == {("failed", "UNKNOWN_PLAYER")}


def test_bad_input_gets_a_4xx_json_error_never_a_500(platform: Platform) -> None:
    good = {"player_id": "p000030", "amount": 100, "idempotency_key": "k-bad-input"}
    cases: list[tuple[dict[str, object], int]] = [
        ({"content": b'{"player_id": "p1", "amount": ', "headers": JSON}, 400),
        ({"json": {**good, "amount": 0}}, 422),
        ({"json": {**good, "amount": -5}}, 422),
        ({"json": {**good, "amount": 1.5}}, 422),
        ({"json": {**good, "amount": "100"}}, 422),
        ({"json": {**good, "player_id": "p 1; drop"}}, 422),
        ({"json": {**good, "idempotency_key": ""}}, 422),
        ({"json": {**good, "extra": 1}}, 422),
        ({"json": [good]}, 422),
        ({"content": b"x" * 10_000, "headers": JSON}, 413),
    ]
    with platform.payments_client() as client:
        for kwargs, status in cases:
            for path in ("/v1/deposits", "/v1/withdrawals"):
                answer = client.post(path, **kwargs)  # type: ignore[arg-type]
                assert answer.status_code == status, (path, kwargs, answer.text)
                assert "error" in answer.json()
        assert client.get("/v1/deposits/no-such-deposit").status_code == 404
        assert client.get("/v1/deposits/bad%20id").status_code == 422


def test_a_queue_over_its_bound_answers_503_with_retry_after(platform: Platform) -> None:
    settings = PaymentsSettings(
        redis_url=platform.state.backing_address("redis"),
        wallet_urls=platform.url("wallet"),
        **platform.payments_keys(),
        payments_stream="payments.bound-test",  # no worker reads it
        payments_max_queue_depth=3,
    )

    async def submit_five() -> list[httpx.Response]:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://payments", auth=platform.as_gateway()
            ) as c:
                bodies = [
                    {"player_id": "p000030", "amount": 10, "idempotency_key": f"bound-{n}"}
                    for n in range(5)
                ]
                answers = [await c.post("/v1/deposits", json=body) for body in bodies]
                answers.append(await c.post("/v1/deposits", json=bodies[0]))  # a known key
                return answers

    answers = asyncio.run(submit_five())
    assert [a.status_code for a in answers] == [202, 202, 202, 503, 503, 202]
    assert answers[3].json()["error"]["code"] == "QUEUE_FULL"
    assert int(answers[3].headers["Retry-After"]) >= 1
    assert platform.redis.xlen("payments.bound-test") == 3


def test_a_worker_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    platform: Platform,
) -> None:
    victim = platform.service("payments-worker-1")
    consumer = httpx.get(f"{victim.url}/v1/worker", timeout=5).json()["consumer"]
    who = players(25, first=31)
    bodies = [
        {"player_id": who[n % len(who)], "amount": 100 + n, "idempotency_key": _key()}
        for n in range(300)
    ]
    before = balances(platform, who)

    orphaned: list[str] = []

    async def submit_and_kill() -> list[httpx.Response]:
        first = await submit_all(platform, "/v1/deposits", bodies[:120])
        orphaned.extend(await kill_when_busy(platform, victim, consumer))  # mid-batch
        rest = await submit_all(platform, "/v1/deposits", bodies[120:])
        return first + rest

    answers = asyncio.run(submit_and_kill())
    killed_at = time.monotonic()
    assert [a.status_code for a in answers] == [202] * len(bodies)
    assert orphaned, "the killed worker held no entries: the test did not kill it mid-batch"

    ids = [a.json()["deposit_id"] for a in answers]
    stages = wait_until_final(platform, ids, timeout_s=40)
    recovered_s = time.monotonic() - killed_at
    counts = ledger_counts(platform, ids)
    completed = [i for i in ids if stages[i] == "completed"]
    assert {i: counts.get(i, 0) for i in ids} == {i: int(i in completed) for i in ids}
    expected = dict(before)
    for body, deposit_id in zip(bodies, ids, strict=True):
        if deposit_id in completed:
            expected[str(body["player_id"])] += int(body["amount"])  # type: ignore[call-overload]
    assert balances(platform, who) == expected
    assert held_by(platform, consumer) == []
    survivor = httpx.get(f"{platform.url('payments-worker-2')}/metrics", timeout=5).text
    reclaimed = next(
        float(line.split()[-1])
        for line in survivor.splitlines()
        if line.startswith("payments_reclaimed_entries_total")
    )
    assert reclaimed >= len(orphaned)
    print(
        f"killed worker held {len(orphaned)} entries; {len(completed)}/{len(ids)} completed, "
        f"all final {recovered_s:.1f} s after the kill"
    )
