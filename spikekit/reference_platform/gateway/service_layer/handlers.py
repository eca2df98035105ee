"""What each player request does: the gateway's handlers, against the ports only.

Stateless: a request carries its session token, every fact comes from a
dependency (or a cache of one), so any replica serves any request. Rules that
live here rather than in a dependency:

- a session token is checked with auth (cached per replica for a few seconds in
  the resilient profile, ``gateway_session_cache_ttl_s``, never past the session's end);
- registering opens the player's wallet account; an account found missing later
  (the wallet was down during registration) is opened on the next balance check;
- a withdrawal larger than the balance is refused at once with 402 (the payment
  workers check again when the money moves);
- a payment is only shown to the player who made it (anyone else: 404).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from spikekit.reference_platform.auth.service_layer.cache import ValidationCache
from spikekit.reference_platform.gateway.domain import GatewayError, Unauthorized, Unavailable
from spikekit.reference_platform.gateway.service_layer.ports import (
    AuthPort,
    LobbyPort,
    Payment,
    PaymentKind,
    PaymentsPort,
    ProfilesPort,
    RoutedRound,
    RouterPort,
    WalletPort,
)
from spikekit.reference_platform.providers.schemas import LaunchResponse


@dataclass(frozen=True)
class Login:
    token: str
    player_id: str
    expires_in: int


@dataclass(frozen=True)
class Profile:
    player_id: str
    username: str | None
    balance: int


class Gateway:
    def __init__(
        self,
        *,
        auth: AuthPort,
        wallet: WalletPort,
        router: RouterPort,
        payments: PaymentsPort,
        lobby: LobbyPort,
        profiles: ProfilesPort,
        sessions: ValidationCache | None = None,
        on_session_lookup: Callable[[bool], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.auth = auth
        self.wallet = wallet
        self.router = router
        self.payments = payments
        self.lobby_store = lobby
        self.profiles = profiles
        self.sessions = sessions
        self.on_session_lookup = on_session_lookup
        self.clock = clock

    # -- sessions ----------------------------------------------------------------------

    async def authenticate(self, token: str) -> str:
        """The player whose live session ``token`` is, or :class:`Unauthorized`."""
        now = self.clock()
        if self.sessions is not None:
            cached = self.sessions.get(token, now)
            self._note_lookup(cached is not None)
            if cached is not None:
                return cached.player_id
        session = await self.auth.validate(token)
        if session.expires_in <= 0:
            raise Unauthorized("the session has expired")
        if self.sessions is not None:
            self.sessions.put(token, session.player_id, now + session.expires_in, now)
        return session.player_id

    async def register(self, username: str, password: str) -> str:
        player_id = await self.auth.register(username, password)
        await self.profiles.remember(player_id, username.lower(), ttl_s=3600)
        with contextlib.suppress(Unavailable):  # else opened at the first balance check
            await self.wallet.open_account(player_id)
        return player_id

    async def login(self, username: str, password: str, forwarded_for: str) -> Login:
        answer = await self.auth.login(username, password, forwarded_for)
        await self.profiles.remember(answer.player_id, username.lower(), answer.expires_in)
        if self.sessions is not None:
            now = self.clock()
            self.sessions.put(answer.token, answer.player_id, now + answer.expires_in, now)
        return Login(answer.token, answer.player_id, answer.expires_in)

    async def logout(self, token: str) -> None:
        if self.sessions is not None:
            self.sessions.discard(token)
        await self.auth.logout(token)

    def _note_lookup(self, hit: bool) -> None:
        if self.on_session_lookup is not None:
            self.on_session_lookup(hit)

    # -- the player's money ------------------------------------------------------------

    async def balance(self, player_id: str) -> int:
        balance = await self.wallet.balance(player_id)
        if balance is None:  # registered while the wallet was away: open it now
            await self.wallet.open_account(player_id)
            balance = await self.wallet.balance(player_id)
        if balance is None:
            raise GatewayError(404, "unknown_player", "the wallet has no account for this player")
        return balance

    async def me(self, player_id: str) -> Profile:
        balance = await self.balance(player_id)
        return Profile(player_id, await self.profiles.username(player_id), balance)

    async def pay(
        self, kind: PaymentKind, player_id: str, amount: int, idempotency_key: str
    ) -> Payment:
        if kind is PaymentKind.WITHDRAWAL and await self.balance(player_id) < amount:
            raise GatewayError(402, "insufficient_funds", "the balance is below the amount")
        payment = await self.payments.submit(kind, player_id, amount, idempotency_key)
        if payment.status == "failed" and payment.reason == "INSUFFICIENT_FUNDS":
            raise GatewayError(402, "insufficient_funds", "the balance is below the amount")
        return payment

    async def payment(self, kind: PaymentKind, player_id: str, payment_id: str) -> Payment:
        payment = await self.payments.get(kind, payment_id)
        if payment is None or payment.player_id != player_id:
            raise GatewayError(404, "not_found", f"no {kind.value} {payment_id!r}")
        return payment

    # -- games -------------------------------------------------------------------------

    async def lobby(self) -> bytes:
        """The lobby's JSON body ``{"games": [...]}``, cached or not as the profile says."""
        return await self.lobby_store.get(self._load_lobby)

    async def _load_lobby(self) -> bytes:
        games = await self.router.games()
        playable = [game.model_dump() for game in games if game.providers]
        body = {"games": playable}
        return json.dumps(body, separators=(",", ":")).encode()

    async def launch(self, player_id: str, game: str) -> LaunchResponse:
        return await self.router.launch(player_id, game)

    async def play(self, player_id: str, game: str, bet: int, session_id: str) -> RoutedRound:
        return await self.router.play(player_id, game, bet, session_id)
