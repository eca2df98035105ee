"""A round at a studio: debit the bet, play, credit the win; roll back a bet given up on.

An instant round (a slot spin, :attr:`~.catalogue.Game.instant`) is played first and
sent as one "bet and settle" call, the bet and the win together (each under its own
``tx_id``); given up on, its bet is rolled back like a debit's. A live or crash round
holds the bet while it plays: debit, play, credit.

Errors (what the HTTP layer turns into statuses)::

    RoundError
    ├── UnknownGame          the studio does not offer the game            404
    ├── InvalidSession       a session id not issued for this player/game  401
    ├── BadBet               outside the game's min/max bet                 422
    ├── UnknownPlayer        the wallet has no such account                 404
    ├── InsufficientFunds    the wallet refused the bet                     402
    ├── BetRefused           the wallet refused the bet for another reason  409
    └── WalletUnavailable    the bet was never taken or is rolled back      503

A credit given up on is not an error for the player: the round is answered with
``settled: false`` and the credit is retried in the background by the
:class:`Reconciler`, with the same ``tx_id``, like a rollback that could not be sent.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from spikekit.errors import SpikekitError
from spikekit.reference_platform.common.tasks import stop_task
from spikekit.reference_platform.providers.catalogue import Game, Studio, games_of
from spikekit.reference_platform.providers.domain import (
    OutcomeDraw,
    RoundIds,
    session_token,
    session_valid,
)
from spikekit.reference_platform.providers.metrics import ProviderMetrics
from spikekit.reference_platform.providers.wallet_client import (
    SeamlessWallet,
    WalletAnswer,
    WalletCallError,
    WalletGaveUp,
    WalletRejected,
)


class RoundError(SpikekitError):
    status = 400
    code = "ROUND_ERROR"


class UnknownGame(RoundError):
    status, code = 404, "UNKNOWN_GAME"


class InvalidSession(RoundError):
    status, code = 401, "INVALID_SESSION"


class BadBet(RoundError):
    status, code = 422, "INVALID_BET"


class UnknownPlayer(RoundError):
    status, code = 404, "UNKNOWN_PLAYER"


class InsufficientFunds(RoundError):
    status, code = 402, "INSUFFICIENT_FUNDS"


class BetRefused(RoundError):
    status, code = 409, "BET_REFUSED"


class WalletUnavailable(RoundError):
    status, code = 503, "WALLET_UNAVAILABLE"


class _Settled(Exception):  # a signal inside this module, never out of it
    """A bet and settle given up on, whose rollback found the round settled: it stands."""

    def __init__(self, answer: WalletAnswer) -> None:
        self.answer = answer
        super().__init__(answer.code)


@dataclass(frozen=True)
class RoundResult:
    round_id: str
    game: str
    bet: int
    win: int
    balance: int
    bet_tx_id: str
    win_tx_id: str
    settled: bool


@dataclass
class _Pending:
    describe: str
    send: Callable[[], Awaitable[WalletAnswer]]
    since: float = field(default_factory=time.monotonic)


class Reconciler:
    """Retries wallet calls a round gave up on (rollbacks, credits) until they are answered."""

    def __init__(
        self, interval_s: float, max_age_s: float, metrics: ProviderMetrics | None = None
    ) -> None:
        self.interval_s = interval_s
        self.max_age_s = max_age_s
        self.metrics = metrics
        self.pending: list[_Pending] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, describe: str, send: Callable[[], Awaitable[WalletAnswer]]) -> None:
        self.pending.append(_Pending(describe, send))
        self._report()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self.pending:
            await asyncio.sleep(self.interval_s)
            await self.retry_once()

    async def retry_once(self) -> None:
        still: list[_Pending] = []
        now = time.monotonic()
        batch = list(self.pending)
        for job in batch:
            try:
                await job.send()
            except WalletGaveUp:
                if now - job.since < self.max_age_s:
                    still.append(job)
            except WalletCallError:
                pass  # a 4xx will not get better by sending it again
        self.pending = still + self.pending[len(batch) :]
        self._report()

    def _report(self) -> None:
        if self.metrics is not None:
            self.metrics.pending.set(len(self.pending))

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task)


class Rounds:
    """Launches and rounds of one studio."""

    def __init__(
        self,
        studio: Studio,
        wallet: SeamlessWallet,
        draw: OutcomeDraw,
        reconciler: Reconciler,
        session_secret: str,
        metrics: ProviderMetrics | None = None,
        *,
        bet_and_settle: bool = True,
    ) -> None:
        self.studio = studio
        self.bet_and_settle = bet_and_settle  # one wallet call for an instant round
        self.games = games_of(studio.name)
        self.wallet = wallet
        self.draw = draw
        self.reconciler = reconciler
        self.session_secret = session_secret
        self.metrics = metrics
        self.think_rng = random.Random(draw.rng.random())

    def game(self, game_id: str) -> Game:
        game = self.games.get(game_id)
        if game is None:
            raise UnknownGame(f"{self.studio.name} does not offer {game_id!r}")
        return game

    def launch(self, player_id: str, game_id: str) -> str:
        """A session id for the player at this game (any replica of the studio accepts it)."""
        self.game(game_id)
        return session_token(self.session_secret, self.studio.name, player_id, game_id)

    async def play(
        self, player_id: str, game_id: str, bet: int, session_id: str | None = None
    ) -> RoundResult:
        game = self.game(game_id)
        if session_id is not None and not session_valid(
            self.session_secret, self.studio.name, player_id, game_id, session_id
        ):
            raise InvalidSession("the session was not issued for this player and game")
        if not game.min_bet <= bet <= game.max_bet:
            raise BadBet(f"bet must be {game.min_bet}..{game.max_bet} minor units, got {bet}")
        outcome = "unsettled"
        try:
            result = await self._play(player_id, game, bet)
            outcome = "won" if result.win else "lost"
            return result
        except RoundError as error:
            outcome = error.code.lower()
            raise
        finally:
            if self.metrics is not None:
                self.metrics.rounds.labels(outcome).inc()

    async def _play(self, player_id: str, game: Game, bet: int) -> RoundResult:
        ids = RoundIds.new(self.studio.name)
        if game.instant and self.bet_and_settle:
            return await self._play_instant(player_id, game, bet, ids)
        taken = await self._taken(
            player_id,
            ids,
            bet,
            self.wallet.debit(player_id, ids.bet_tx, ids.round_id, bet, game.id),
        )
        await self._think()
        win = self.draw.win(bet, game.family)

        async def credit() -> WalletAnswer:
            return await self.wallet.credit(player_id, ids.win_tx, ids.round_id, win, game.id)

        try:
            paid = await credit()
        except WalletGaveUp:
            self.reconciler.add(f"credit {ids.win_tx}", credit)
            return RoundResult(
                ids.round_id, game.id, bet, win, taken.balance, ids.bet_tx, ids.win_tx, False
            )
        return RoundResult(
            ids.round_id, game.id, bet, win, paid.balance, ids.bet_tx, ids.win_tx, paid.ok
        )

    async def _play_instant(
        self, player_id: str, game: Game, bet: int, ids: RoundIds
    ) -> RoundResult:
        """Play, then one call for the bet and the win."""
        await self._think()
        win = self.draw.win(bet, game.family)
        call = self.wallet.bet_and_settle(player_id, ids, bet, win, game.id)
        try:
            paid = await self._taken(player_id, ids, bet, call)
        except _Settled as settled:  # given up on, but the wallet had settled the round
            paid = settled.answer
        return RoundResult(
            ids.round_id, game.id, bet, win, paid.balance, ids.bet_tx, ids.win_tx, True
        )

    async def _taken(
        self, player_id: str, ids: RoundIds, bet: int, call: Awaitable[WalletAnswer]
    ) -> WalletAnswer:
        """The wallet's acceptance of the bet (alone, or with its win); a call given up on
        is rolled back, a refusal raised as the round's error."""
        try:
            taken = await call
        except WalletGaveUp as error:
            rolled = await self._roll_back(player_id, ids)
            if rolled is not None and rolled.code == "ROUND_SETTLED":
                raise _Settled(rolled) from error  # only a bet and settle settles a round
            raise WalletUnavailable(
                f"the wallet did not answer; bet rolled back ({error})"
            ) from error
        except WalletRejected as error:
            if error.status == 404:
                raise UnknownPlayer(f"unknown player {player_id!r}") from error
            raise BetRefused(str(error)) from error
        if not taken.ok:
            if taken.code == "INSUFFICIENT_FUNDS":
                raise InsufficientFunds(f"balance {taken.balance} is below the bet {bet}")
            raise BetRefused(f"the wallet refused the bet: {taken.code}")
        return taken

    async def _roll_back(self, player_id: str, ids: RoundIds) -> WalletAnswer | None:
        """The rollback's answer; None when it is left to the reconciler or impossible."""

        async def rollback() -> WalletAnswer:
            return await self.wallet.rollback(player_id, ids.rollback_tx, ids.round_id, ids.bet_tx)

        try:
            return await rollback()
        except WalletGaveUp:
            self.reconciler.add(f"rollback {ids.rollback_tx}", rollback)
        except WalletCallError:
            pass  # e.g. unknown player: the bet cannot have been taken
        return None

    async def _think(self) -> None:
        studio = self.studio
        delay = studio.think_ms + self.think_rng.uniform(-studio.jitter_ms, studio.jitter_ms)
        if delay > 0:
            await asyncio.sleep(delay / 1000)
