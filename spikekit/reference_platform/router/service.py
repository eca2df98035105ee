"""Routing: which studios to try for a launch or a round, in which order, and failover.

Resilient: the studios offering the game ranked by shared health (the session's studio
first while it is healthy), each guarded by its breaker, the next one tried when one
fails. Fragile: the catalogue's first studio (or the session's), and nothing else.

Errors::

    RouterError                 status and code of the answer
    ├── (402/404/409/422)       the studio's answer about the request, passed on
    ├── (502 CALLER_REFUSED)    the studio refused the router's signature (its key)
    └── NoProvider              503: no studio could serve it
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from spikekit.errors import SpikekitError
from spikekit.reference_platform.common.http_client import HttpResponse
from spikekit.reference_platform.providers.catalogue import GAMES
from spikekit.reference_platform.router.breakers import BreakerOpen
from spikekit.reference_platform.router.health import rank
from spikekit.reference_platform.router.health_store import HealthBoard
from spikekit.reference_platform.router.metrics import RouterMetrics
from spikekit.reference_platform.router.provider_client import ProviderClient, ProviderFailed
from spikekit.reference_platform.router.settings import Mechanisms


class RouterError(SpikekitError):
    def __init__(
        self, status: int, code: str, message: str, retry_after: str | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.retry_after = retry_after
        super().__init__(message)


class NoProvider(RouterError):
    def __init__(self, message: str, retry_after: str | None = None) -> None:
        super().__init__(503, "NO_PROVIDER", message, retry_after or "1")


class RoundUncertain(RouterError):
    """A studio may have played the round but did not say: never replayed elsewhere."""

    def __init__(self, message: str, retry_after: str | None = None) -> None:
        super().__init__(503, "ROUND_UNCERTAIN", message, retry_after or "1")


class Router:
    def __init__(
        self,
        clients: Mapping[str, ProviderClient],
        mechanisms: Mechanisms,
        board: HealthBoard,
        metrics: RouterMetrics | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.clients = clients
        self.mechanisms = mechanisms
        self.board = board
        self.metrics = metrics
        self.rng = rng or random.Random()

    def order(self, game_id: str, prefer: str | None = None) -> list[str]:
        """The studios to try for ``game_id``, best first (only the first without failover)."""
        game = GAMES.get(game_id)
        if game is None:
            raise RouterError(404, "UNKNOWN_GAME", f"no game {game_id!r}")
        offered = [s for s in game.studios if s in self.clients]
        if not offered:
            raise NoProvider(f"no studio offering {game_id!r} is configured")
        if self.mechanisms.health_routing:
            ordered = rank(offered, self.board.view(), time.time(), self.rng, prefer)
        else:
            ordered = sorted(offered, key=lambda s: s != prefer)
        return ordered if self.mechanisms.failover else ordered[:1]

    async def launch(self, player_id: str, game_id: str) -> dict[str, Any]:
        body = {"player_id": player_id, "game": game_id}
        answer, _ = await self._route("launch", "/v1/launch", game_id, None, lambda _: body)
        return answer

    async def play(
        self, player_id: str, game_id: str, bet: int, session_id: str | None
    ) -> dict[str, Any]:
        prefer = session_id.split(".", 1)[0] if session_id else None

        def body(studio: str) -> dict[str, Any]:
            fields: dict[str, Any] = {"player_id": player_id, "game": game_id, "bet": bet}
            if session_id and studio == prefer:
                fields["session_id"] = session_id
            return fields

        answer, moved = await self._route("rounds", "/v1/rounds", game_id, prefer, body)
        return {**answer, "failover": moved}

    async def _route(
        self,
        operation: str,
        path: str,
        game_id: str,
        prefer: str | None,
        body: Callable[[str], dict[str, Any]],
    ) -> tuple[dict[str, Any], bool]:
        studios = self.order(game_id, prefer)
        failure: Exception | None = None
        for index, studio in enumerate(studios):
            if index and self.metrics is not None:
                self.metrics.failovers.labels(operation, studios[index - 1]).inc()
            payload = json.dumps(body(studio), separators=(",", ":")).encode()
            moves_money = operation == "rounds" and self.mechanisms.safe_rounds
            try:
                response = await self.clients[studio].post(
                    operation, path, payload, idempotent=not moves_money
                )
            except BreakerOpen as error:
                failure = error
                if self.metrics is not None:
                    self.metrics.errors.labels(studio, operation, "open").inc()
                continue
            except ProviderFailed as error:
                if moves_money and error.ambiguous:
                    # the studio may have taken the bet: another studio would take a second
                    raise RoundUncertain(
                        f"{studio} did not settle the round ({error.reason}); it finishes or "
                        "rolls back what it started",
                        error.retry_after,
                    ) from error
                failure = error
                continue
            return _answer(response), index > 0
        if self.metrics is not None:
            self.metrics.no_provider.labels(operation).inc()
        retry_after = failure.retry_after if isinstance(failure, ProviderFailed) else None
        raise NoProvider(f"no studio could serve {game_id!r}: {failure}", retry_after)


def _answer(response: HttpResponse) -> dict[str, Any]:
    """A 2xx body, or the studio's 4xx about the request as a :class:`RouterError`."""
    try:
        payload = response.json()
    except ValueError as error:
        raise NoProvider("the studio answered something that is not JSON") from error
    if not isinstance(payload, dict):
        raise NoProvider("the studio answered something that is not a JSON object")
    if 200 <= response.status < 300:
        return payload
    detail = payload.get("error") or {}
    code = str(detail.get("code", "PROVIDER_ERROR"))
    if code in _CALLER_REFUSED:  # the router's own key: a configuration error, nothing moved
        raise RouterError(502, "CALLER_REFUSED", f"the studio refused the router: {code}")
    status = 409 if response.status == 401 else response.status  # 401 is the players' auth
    raise RouterError(status, code, str(detail.get("message", "")))


_CALLER_REFUSED = frozenset({"UNAUTHENTICATED", "FORBIDDEN"})  # common/caller_auth.py
