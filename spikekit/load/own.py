"""The base class of a locustfile's own players: ``from spikekit.load.own import SpikePlayer``.

A locustfile's ``HttpUser`` and ``FastHttpUser`` classes run as they are, under the run's
spike shape, workers, recording, chaos and report. :class:`SpikePlayer` gives a locustfile
what the bundled personas have: the players' lean client over the worker's shared pool,
the scenario's impatience (retries, refreshes, ``Retry-After``) and think time or pacing
(a late paced action measured from when it was due), a seeded account per player
(:attr:`~spikekit.load.personas.Player.player_id`, :attr:`username`, :attr:`password`),
and :meth:`SpikePlayer.ack` for the transactions the player saw acknowledged, so that the
wallet audit reconciles them with the platform's ledger::

    class Bettor(SpikePlayer):
        weight = 3

        def start_session(self) -> None:  # once per session: log in
            answer = self.request("POST", "/v2/sessions", json={"user": self.username})
            self.headers = {"X-Session-Token": answer.header("X-Session-Token") or ""}

        def act(self) -> None:  # one action, then the think time
            answer = self.request("POST", "/v2/wagers", json=...)
            if answer.ok:
                self.ack("bet", answer.body["wager"]["id"], 100)

A plain Locust user acknowledges with :func:`ack` (``ack(self, "bet", tx_id, cents,
player_id=...)``). A locustfile is code: it runs with the rights of whoever starts the run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from locust import User

from spikekit.load.acks import unacked
from spikekit.load.personas import Answer, Player, players_environment
from spikekit.rundir.acks import Ack, AckKind

__all__ = ["Answer", "SpikePlayer", "ack"]


class SpikePlayer(Player):
    """A locustfile's player: override :meth:`act` (and :meth:`start_session` for a login).

    ``self.headers`` is sent with every request (a session header); setting ``self.token``
    sends ``Authorization: Bearer <token>``. A 401 ends the session: :meth:`start_session` runs
    again on the next action.
    """

    abstract = True

    def on_start(self) -> None:
        super().on_start()
        self.session_started = False
        self.headers: dict[str, str] = {}

    @property
    def username(self) -> str:
        return self.login_as[0] if self.login_as else ""

    @property
    def password(self) -> str:
        return self.login_as[1] if self.login_as else ""

    def next_action(self) -> None:
        if not self.session_started:
            self.session_started = True
            self.start_session()
        else:
            self.act()

    def start_session(self) -> None:
        """Once per session before the first :meth:`act` (a login); nothing by default."""

    def act(self) -> None:
        """One action of the player (one request and its retries, as a rule)."""
        raise NotImplementedError(f"{type(self).__name__}: define act()")

    def request(
        self,
        method: str,
        path: str,
        name: str | None = None,
        *,
        json: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Sequence[int] = (200,),
        accept: Sequence[int] = (),
    ) -> Answer:
        """One request with the scenario's impatience; ``name`` groups it in the report
        (default the path; the report shows ``METHOD name``: give a template such as
        ``/v2/wallets/{id}`` when the path holds an id)."""
        answer = self.call(
            method,
            path,
            name or path,
            body=dict(json) if json is not None else None,
            expect=expect,
            accept=accept,
            headers={**self.headers, **(headers or {})},
        )
        if answer.status == 401:
            self.session_started = False
        return answer

    def ack(self, kind: str, tx_id: object, amount: int, balance_after: int | None = None) -> None:
        """A transaction this player saw acknowledged (``bet``, ``win``, ``deposit``,
        ``withdrawal``; ``amount`` in integer minor units)."""
        balance = None if balance_after is None else int(balance_after)
        record = Ack(time.time(), AckKind(kind), self.player_id, str(tx_id), int(amount), balance)
        self.ctx.acks.write([record])

    def unacknowledged(self, kind: str, amount: int, count: int = 1) -> None:
        """Requests of a transaction sent without an acknowledgement (failed, timed out):
        the platform may still have applied them, the audit allows for that."""
        self.ctx.unacked.write(unacked(time.time(), AckKind(kind), self.player_id, amount, count))


def ack(
    user: User,
    kind: str,
    tx_id: object,
    amount: int,
    *,
    player_id: str,
    balance_after: int | None = None,
) -> None:
    """:meth:`SpikePlayer.ack` for any Locust user of a spikekit run (an ``HttpUser``)."""
    ctx = players_environment(user.environment).context()
    balance = None if balance_after is None else int(balance_after)
    ctx.acks.write([Ack(time.time(), AckKind(kind), player_id, str(tx_id), int(amount), balance)])
