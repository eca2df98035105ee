"""Every money operation refuses a caller without credentials, with a wrong key, and with
another service's key — and not a cent moves. Real wallet, payments, PostgreSQL, Redis.

The incident this guards: ``POST /v1/players/{id}/deposit`` without credentials
credited 1,000,000.00 EUR. An authorized call of each kind goes through, on the same
stack, so that the refusals are not a stack that refuses everything.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from spikekit.reference_platform.common.service_auth import (
    GATEWAY,
    PAYMENTS,
    SIGNATURE_HEADER,
    Signer,
)
from spikekit.reference_platform.common.signed_httpx import SignedAuth, StudioAuth
from spikekit.reference_platform.wallet.signing import signed_headers
from tests.integration.security.conftest import OPENING_BALANCE, Secured

MILLION = 100_000_000  # 1,000,000.00 in cents
STREAM = "payments.requests"


@dataclass(frozen=True)
class Operation:
    """One money-moving operation, who may run it, and which other service may not."""

    name: str
    service: str
    method: str
    path: str
    body: dict[str, Any] | None
    allowed: str
    other: str  # a service of the stack not allowed it
    other_status: int  # 403 when the service knows the other caller, else 401
    headers: dict[str, str] = field(default_factory=dict)


OPERATIONS = [
    Operation(
        "wallet deposit",
        "wallet",
        "POST",
        "/v1/players/p000001/deposit",
        {"amount": MILLION},
        PAYMENTS,
        GATEWAY,
        403,
        {"Idempotency-Key": "attack-deposit"},
    ),
    Operation(
        "wallet withdrawal",
        "wallet",
        "POST",
        "/v1/players/p000002/withdraw",
        {"amount": OPENING_BALANCE},
        PAYMENTS,
        GATEWAY,
        403,
        {"Idempotency-Key": "attack-withdrawal"},
    ),
    Operation(
        "wallet account opening",
        "wallet",
        "PUT",
        "/v1/players/p777777",
        None,
        GATEWAY,
        PAYMENTS,
        403,
    ),
    Operation(
        "wallet balance",
        "wallet",
        "GET",
        "/v1/players/p000003/balance",
        None,
        GATEWAY,
        PAYMENTS,
        403,
    ),
    # payments holds only the gateway's key: another service is a stranger there (401)
    Operation(
        "payments deposit",
        "payments",
        "POST",
        "/v1/deposits",
        {"player_id": "p000004", "amount": MILLION, "idempotency_key": "attack-dep"},
        GATEWAY,
        PAYMENTS,
        401,
    ),
    Operation(
        "payments withdrawal",
        "payments",
        "POST",
        "/v1/withdrawals",
        {"player_id": "p000005", "amount": OPENING_BALANCE, "idempotency_key": "attack-wd"},
        GATEWAY,
        PAYMENTS,
        401,
    ),
]


def _send(secured: Secured, op: Operation, auth: httpx.Auth | None) -> httpx.Response:
    content = b"" if op.body is None else json.dumps(op.body).encode()
    headers = {"Content-Type": "application/json", **op.headers}
    with httpx.Client(base_url=secured.url(op.service), timeout=10) as client:
        return client.request(op.method, op.path, content=content, headers=headers, auth=auth)


def _unchanged(secured: Secured, before: dict[str, int], ledger: int, queued: int) -> None:
    time.sleep(0.3)  # a worker would have taken anything queued by now
    assert secured.redis.xlen(STREAM) == queued, "a refused payment was queued"
    after = secured.balances()
    assert after == before and "p777777" not in after
    assert secured.ledger_size() == ledger


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
@pytest.mark.parametrize("credentials", ["none", "wrong key", "another service's key"])
def test_money_operations_refuse_callers_without_the_right_credentials(
    secured: Secured, op: Operation, credentials: str
) -> None:
    auth: httpx.Auth | None = None
    expected = 401
    if credentials == "wrong key":
        auth = SignedAuth(Signer(op.allowed, secrets.token_hex(32)))
    elif credentials == "another service's key":
        auth, expected = SignedAuth(secured.stack.keys.signer(op.other)), op.other_status
    before, ledger, queued = secured.balances(), secured.ledger_size(), secured.redis.xlen(STREAM)
    answer = _send(secured, op, auth)
    assert answer.status_code == expected, answer.text
    assert answer.json()["error"]["code"] == ("FORBIDDEN" if expected == 403 else "UNAUTHENTICATED")
    assert set(answer.json()) == {"error"}  # nothing of the account leaks
    _unchanged(secured, before, ledger, queued)


@pytest.mark.parametrize("operation", ["debit", "credit", "rollback", "bet-and-settle"])
def test_the_studios_money_calls_need_that_studios_own_secret(
    secured: Secured, operation: str
) -> None:
    body: dict[str, Any] = {"player_id": "p000006", "tx_id": f"forged-{operation}"}
    body |= {"round_id": "forged-round", "amount": MILLION, "game_id": "g"}
    if operation == "rollback":
        body = {**body, "original_tx_id": "forged-debit"}
        del body["amount"], body["game_id"]
    if operation == "bet-and-settle":  # a bet of 1 cent and a win of a million
        body = {"player_id": "p000006", "round_id": "forged-round", "game_id": "g"}
        body |= {"bet_tx_id": "forged-bet", "bet": 1, "win_tx_id": "forged-win", "win": MILLION}
    raw = json.dumps(body).encode()
    keys = secured.stack.keys
    forged = [
        {"Content-Type": "application/json"},
        signed_headers(secrets.token_hex(32), raw),
        signed_headers(keys.studios["blitz"], raw),  # another studio's secret
        {  # an internal service's signature is no studio's
            "Content-Type": "application/json",
            **keys.signer(PAYMENTS).headers("POST", f"/v1/providers/aurora/{operation}", raw),
        },
    ]
    before, ledger = secured.balances(), secured.ledger_size()
    with httpx.Client(base_url=secured.url("wallet"), timeout=10) as client:
        for headers in forged:
            answer = client.post(f"/v1/providers/aurora/{operation}", content=raw, headers=headers)
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"]["code"] == "INVALID_SIGNATURE"
    _unchanged(secured, before, ledger, secured.redis.xlen(STREAM))


def test_a_signature_cannot_be_replayed_on_another_operation_or_too_late(
    secured: Secured,
) -> None:
    keys = secured.stack.keys
    raw = json.dumps({"amount": 500}).encode()
    deposit = "/v1/players/p000007/deposit"
    captured = keys.signer(PAYMENTS).headers("POST", deposit, raw)
    stale = Signer(PAYMENTS, keys.callers[PAYMENTS], lambda: time.time() - 120)
    attempts = [
        ("/v1/players/p000007/withdraw", captured),  # same body, another operation
        ("/v1/players/p000008/deposit", captured),  # same body, another player
        (deposit, stale.headers("POST", deposit, raw)),  # signed two minutes ago
        (deposit, {**captured, SIGNATURE_HEADER: captured[SIGNATURE_HEADER].upper()[::-1]}),
    ]
    before, ledger = secured.balances(), secured.ledger_size()
    with httpx.Client(base_url=secured.url("wallet"), timeout=10) as client:
        for path, headers in attempts:
            sent = {**headers, "Content-Type": "application/json", "Idempotency-Key": "replay"}
            answer = client.post(path, content=raw, headers=sent)
            assert answer.status_code == 401, (path, answer.text)
    _unchanged(secured, before, ledger, secured.redis.xlen(STREAM))


def test_the_allowed_callers_move_money_with_the_keys_the_stack_handed_out(
    secured: Secured,
) -> None:
    keys = secured.stack.keys
    as_payments = SignedAuth(keys.signer(PAYMENTS))
    as_gateway = SignedAuth(keys.signer(GATEWAY))
    with httpx.Client(base_url=secured.url("wallet"), timeout=10) as wallet:
        key = {"Idempotency-Key": uuid.uuid4().hex}
        path = "/v1/players/p000010"
        deposit = wallet.post(
            f"{path}/deposit", json={"amount": 700}, headers=key, auth=as_payments
        )
        assert deposit.status_code == 200 and deposit.json()["balance"] == OPENING_BALANCE + 700
        key = {"Idempotency-Key": uuid.uuid4().hex}
        out = wallet.post(f"{path}/withdraw", json={"amount": 200}, headers=key, auth=as_payments)
        assert out.json()["balance"] == OPENING_BALANCE + 500
        assert wallet.get(f"{path}/balance", auth=as_gateway).json()["balance"] == 10_500
        new = f"/v1/players/p-{uuid.uuid4().hex[:8]}"
        assert wallet.put(new, auth=as_gateway).status_code == 201
        bet = {"player_id": "p000010", "tx_id": uuid.uuid4().hex, "round_id": "r", "amount": 100}
        studio = wallet.post("/v1/providers/aurora/debit", json=bet, auth=StudioAuth(keys.studios))
        assert studio.json()["balance"] == OPENING_BALANCE + 400
        spin = {"player_id": "p000010", "round_id": "spin", "bet": 100, "win": 250}
        spin |= {"bet_tx_id": uuid.uuid4().hex, "win_tx_id": uuid.uuid4().hex}
        settled = wallet.post(
            "/v1/providers/aurora/bet-and-settle", json=spin, auth=StudioAuth(keys.studios)
        )
        assert settled.json()["balance"] == OPENING_BALANCE + 550, settled.text
    # the gateway's payment goes through payments and its worker, signed at each hop
    with httpx.Client(base_url=secured.url("payments"), timeout=30, auth=as_gateway) as payments:
        body = {"player_id": "p000011", "amount": 300, "idempotency_key": uuid.uuid4().hex}
        accepted = payments.post("/v1/deposits", json=body)
        assert accepted.status_code == 202, accepted.text
        deposit_id = accepted.json()["deposit_id"]
        deadline = time.monotonic() + 20
        while (view := payments.get(f"/v1/deposits/{deposit_id}").json())["status"] == "pending":
            assert time.monotonic() < deadline, "the deposit never completed"
            time.sleep(0.1)
    assert view["status"] == "completed", view  # the worker's call to the wallet was signed
    assert secured.balances()["p000011"] == OPENING_BALANCE + 300
