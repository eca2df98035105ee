"""A studio's wallet calls: the first attempt goes without tenacity, the retries keep
their counts, backoff and byte-for-byte body; on a scripted pool of the client's interface."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from spikekit.reference_platform.common.http_client import HttpResponse, RequestTimeout
from spikekit.reference_platform.providers.wallet_client import (
    RetryPolicy,
    SeamlessWallet,
    WalletGaveUp,
    WalletRejected,
)

OK = HttpResponse(200, {}, b'{"status":"ok","code":"OK","balance":900}')
BUSY = HttpResponse(503, {}, b'{"error":{"code":"WALLET_UNAVAILABLE","message":"busy"}}')
UNKNOWN = HttpResponse(404, {}, b'{"error":{"code":"UNKNOWN_PLAYER","message":"p9"}}')


class ScriptedPool:
    """Answers (or raises) from a script, one item per request, and records what was sent."""

    def __init__(self, *script: HttpResponse | Exception) -> None:
        self.script = list(script)
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        timeout: float,
    ) -> HttpResponse:
        self.sent.append((path, body, dict(headers or {})))
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def _wallet(pool: ScriptedPool, attempts: int = 3) -> SeamlessWallet:
    policy = RetryPolicy(timeout_s=1.0, attempts=attempts, backoff_s=0.001)
    return SeamlessWallet("aurora", "secret", pool, policy)  # type: ignore[arg-type]


def test_a_first_answer_is_one_request() -> None:
    pool = ScriptedPool(OK)
    answer = asyncio.run(_wallet(pool).debit("p1", "tx1", "r1", 100, "gonzo-gold"))
    assert (answer.ok, answer.balance) == (True, 900)
    assert [path for path, _, _ in pool.sent] == ["/v1/providers/aurora/debit"]


def test_retries_after_a_timeout_and_a_5xx_send_the_same_signed_bytes() -> None:
    pool = ScriptedPool(RequestTimeout("wallet", "slow"), BUSY, OK)
    answer = asyncio.run(_wallet(pool).credit("p1", "tx2", "r1", 50, "gonzo-gold"))
    assert answer.ok and len(pool.sent) == 3
    assert len({(body, tuple(sorted(h.items()))) for _, body, h in pool.sent}) == 1


def test_it_gives_up_after_every_attempt_and_counts_them() -> None:
    pool = ScriptedPool(BUSY, BUSY, BUSY)
    with pytest.raises(WalletGaveUp, match="gave up after 3 attempts"):
        asyncio.run(_wallet(pool).debit("p1", "tx3", "r1", 100, "gonzo-gold"))
    assert len(pool.sent) == 3


def test_one_attempt_gives_up_at_once() -> None:
    pool = ScriptedPool(RequestTimeout("wallet", "slow"))
    with pytest.raises(WalletGaveUp, match="gave up after 1 attempts"):
        asyncio.run(_wallet(pool, attempts=1).debit("p1", "tx4", "r1", 100, "gonzo-gold"))


def test_a_4xx_is_not_retried() -> None:
    pool = ScriptedPool(UNKNOWN, OK)
    with pytest.raises(WalletRejected) as raised:
        asyncio.run(_wallet(pool).debit("p9", "tx5", "r1", 100, "gonzo-gold"))
    assert raised.value.status == 404 and len(pool.sent) == 1
