"""Small fakes of the gateway's ports and of the pooled HTTP client's interface."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping

from spikekit.reference_platform.auth.entrypoints.schemas import LoginResponse, SessionResponse
from spikekit.reference_platform.common.http_client import HttpResponse, TransportError
from spikekit.reference_platform.gateway.domain import GatewayError, Unauthorized
from spikekit.reference_platform.gateway.service_layer.ports import (
    Payment,
    PaymentKind,
    RoutedRound,
)
from spikekit.reference_platform.providers.schemas import GameInfo, LaunchResponse


class FakeAuth:
    def __init__(self) -> None:
        self.sessions: dict[str, str] = {}
        self.calls: Counter[str] = Counter()

    async def register(self, username: str, password: str) -> str:
        self.calls["register"] += 1
        return f"p-{username}"

    async def login(self, username: str, password: str, forwarded_for: str) -> LoginResponse:
        self.calls["login"] += 1
        token = f"st_{username}"
        self.sessions[token] = f"p-{username}"
        return LoginResponse(token=token, player_id=f"p-{username}", expires_in=60)

    async def validate(self, token: str) -> SessionResponse:
        self.calls["validate"] += 1
        if token not in self.sessions:
            raise Unauthorized()
        return SessionResponse(player_id=self.sessions[token], expires_in=60)

    async def logout(self, token: str) -> None:
        self.sessions.pop(token, None)


class FakeWallet:
    def __init__(self) -> None:
        self.balances: dict[str, int] = {}

    async def open_account(self, player_id: str) -> None:
        self.balances.setdefault(player_id, 0)

    async def balance(self, player_id: str) -> int | None:
        return self.balances.get(player_id)


class FakeRouter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    async def games(self) -> list[GameInfo]:
        self.calls["games"] += 1
        game = GameInfo(
            id="g", name="G", family="slots", providers=["aurora"], min_bet=1, max_bet=9
        )
        orphan = game.model_copy(update={"id": "h", "providers": []})
        return [game, orphan]

    async def launch(self, player_id: str, game: str) -> LaunchResponse:
        return LaunchResponse(session_id="aurora.s", game=game, provider="aurora")

    async def play(self, player_id: str, game: str, bet: int, session_id: str) -> RoutedRound:
        raise GatewayError(503, "no_provider", "down", 1)


class FakePayments:
    def __init__(self) -> None:
        self.payments: dict[str, Payment] = {}

    async def submit(
        self, kind: PaymentKind, player_id: str, amount: int, idempotency_key: str
    ) -> Payment:
        payment = Payment(kind, f"{kind.value}-{idempotency_key}", player_id, "pending", amount)
        self.payments[payment.payment_id] = payment
        return payment

    async def get(self, kind: PaymentKind, payment_id: str) -> Payment | None:
        return self.payments.get(payment_id)


class FakeProfiles:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    async def remember(self, player_id: str, username: str, ttl_s: int) -> None:
        self.names[player_id] = username

    async def username(self, player_id: str) -> str | None:
        return self.names.get(player_id)


class FakeLobby:
    async def get(self, load: Callable[[], Awaitable[bytes]]) -> bytes:
        return await load()


class FakePool:
    """The interface of ``HttpPool`` the gateway uses: answers or raises from a script."""

    def __init__(self, base_urls: list[str], script: list[HttpResponse | TransportError]) -> None:
        self.base_urls = base_urls
        self.script = script
        self.in_use = 0
        self.sent: list[tuple[str, str, bytes, float]] = []
        self.headers: list[dict[str, str]] = []

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
    ) -> HttpResponse:
        self.sent.append((method, path, body, timeout))
        self.headers.append(dict(headers or {}))
        step = self.script.pop(0)
        if isinstance(step, TransportError):
            raise step
        return step

    async def aclose(self) -> None:
        return None


def answer(status: int, payload: object, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, headers or {}, json.dumps(payload).encode())
