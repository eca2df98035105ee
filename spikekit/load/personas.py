"""The players, as Locust ``User`` classes (imported only in Locust processes).

Each persona is a small state machine: one Locust task, :meth:`Player.step`, performs the
next action of its journey (one request and its retries), then the player thinks for the
scenario's think time — or, paced (``think_time.pacing``), waits until its next action is
due (:class:`~spikekit.load.pacing.Pacer`); the first request of a paced action carries its
lateness to the recorder in Locust's request ``context``. Stopping players therefore
finish their action and are never killed half-way through a wallet call (given
``stop_timeout`` above the network timeout), nor between waking up and their next request
(:class:`~spikekit.load.stopping.StopsBetweenActions`).

What the players of a worker share travels on Locust's environment, a
:class:`PlayersEnvironment` (no module state): one keep-alive connection pool (an edge in
front of the origin, not a socket per player, docs/load-model.md), and the run's
:class:`~spikekit.load.context.WorkerContext` once the master's setup has arrived. Players send
through their own lean client (:mod:`spikekit.load.client`), not Locust's
``FastHttpSession``, which cost them twice the CPU per request; the client fires Locust's
``request`` event as ``FastHttpSession`` did, so Locust's statistics and the recorder see the
same requests. ``Player`` is therefore a plain ``User``: a ``FastHttpUser`` would build, per
player, a session, a user agent and a cookie jar that nothing uses.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from locust import User, task
from locust.env import Environment
from locust.exception import StopTest

from spikekit.load.acks import payment_ack, round_acks, unacked
from spikekit.load.client import PlayerClient
from spikekit.load.context import Identity, WorkerContext
from spikekit.load.http import PoolLimits, Pools
from spikekit.load.impatience import Reaction, classify, parse_retry_after
from spikekit.load.pacing import LATE_MS, Pacer
from spikekit.load.players import player_address
from spikekit.load.stopping import StopsBetweenActions
from spikekit.rundir.acks import AckKind

#: Wait of an open-model user whose session is over (it idles until the run stops).
IDLE_WAIT_S = 3600.0
FALLBACK_GAMES = ("starburst-nova", "book-of-ra-redux")
LEAVE_AFTER_FAILED_ROUNDS = 2  # a game that fails this often in a row: back to the lobby


class PlayersEnvironment(Environment):
    """Locust's environment of a worker, with what all its players share.

    ``pools``: one shared pool of at most ``limits.connections`` keep-alive sockets;
    :attr:`worker_context`: set by the worker when the master's setup arrives.
    """

    def __init__(
        self,
        limits: PoolLimits,
        *,
        user_classes: list[type[User]],
        host: str | None = None,
    ) -> None:
        super().__init__(user_classes=user_classes, host=host)
        self.pools = Pools(limits)
        self.worker_context: WorkerContext | None = None

    def context(self) -> WorkerContext:
        if self.worker_context is None:
            raise RuntimeError("the master's setup has not arrived: no players yet")
        return self.worker_context


def players_environment(environment: Environment) -> PlayersEnvironment:
    """The environment of players, which must be a :class:`PlayersEnvironment`."""
    if not isinstance(environment, PlayersEnvironment):
        raise RuntimeError("the players need a PlayersEnvironment: they have no pool")
    return environment


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    ok: bool
    attempts: int = 1  # requests sent for this action (impatient retries included)
    #: the body of every successful answer the player saw in this action, in order: a
    #: slow success that the impatient player refreshed was still acknowledged to it
    acknowledged: tuple[dict[str, Any], ...] = ()
    #: the headers of the last answer (a journey captures a session token from them)
    headers: tuple[tuple[bytes, bytes], ...] = ()

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` of the last answer (case-insensitive)."""
        wanted = name.lower().encode("latin-1")
        for key, value in self.headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None

    @property
    def unanswered(self) -> int:
        """Requests of this action that got no acknowledgement (the platform may have
        applied them anyway: a timeout after the commit)."""
        return max(0, self.attempts - len(self.acknowledged))


@dataclass(frozen=True)
class Game:
    slug: str
    family: str


class Player(StopsBetweenActions):
    """What every persona does: log in, browse, play, pay — impatiently."""

    abstract = True
    bets: ClassVar[Sequence[int]] = (10, 20, 50, 100, 200)
    deposits: ClassVar[Sequence[int]] = (1000, 2000, 5000)
    deposit_chance: ClassVar[float] = 0.05

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        if self.host is None:
            raise StopTest("the players need the target's base URL (--host)")
        self.shared = players_environment(environment)
        pool = self.shared.pools.for_url(self.host)
        self.http = PlayerClient(pool, self.host, environment.events.request)

    def on_start(self) -> None:
        ctx = self.shared.context()
        self.ctx = ctx
        self.me: Identity = ctx.new_identity()
        self.rng = self.me.rng
        seeded = ctx.picker.credentials(self.me.index)
        self.login_as: tuple[str, str] | None = (seeded.username, seeded.password)
        self.address = player_address(self.me.index)
        self.player_id = seeded.player_id
        self.token: str | None = None
        self.games: list[Game] = []
        self.game: str | None = None
        self.session_id: str | None = None
        self.failed_rounds = 0  # in a row, in the current game
        self.balance: int | None = None
        self.needs_money = False
        self.deadline: float | None = None
        self.in_session = False
        self.pacer: Pacer | None = None
        self.first_request_due = False  # a paced action whose first request is not sent yet
        # the client copies it into every request's event: {LATE_MS: ms} when paced, else empty
        self.request_context: dict[str, float] = {}
        if ctx.session_length_s is not None and not ctx.session_open():
            ctx.turned_away += 1
            return
        if ctx.session_length_s is not None:
            self.deadline = time.monotonic() + ctx.session_length_s
        self.in_session = True
        ctx.active += 1
        think = ctx.scenario.think_time
        if think.pacing:  # the first action is due now, at the session start
            rng = self.rng
            self.pacer = Pacer(lambda: rng.uniform(think.min, think.max), time.perf_counter)
            self.request_context = {LATE_MS: 0.0}

    def on_stop(self) -> None:
        self._end_session()
        self.ctx.slots.release(self.me.slot)

    def _end_session(self) -> None:
        if self.in_session:
            self.in_session = False
            self.ctx.active -= 1

    def wait_time(self) -> float:
        if not self.in_session:
            return IDLE_WAIT_S
        if self.pacer is not None:
            return self.pacer.wait()  # until the next action is due; 0 when behind schedule
        think = self.ctx.scenario.think_time
        return self.rng.uniform(think.min, think.max)

    @task
    def step(self) -> None:
        if not self.in_session:
            return
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self._end_session()  # the open model's session is over: the player leaves
            return
        self.first_request_due = self.pacer is not None
        self.next_action()

    def next_action(self) -> None:
        """Log in when the player has no session, else :meth:`act`."""
        if self.token is None:
            self.login()
        else:
            self.act()

    def act(self) -> None:
        """One action of a logged-in player; personas override it."""
        self.play()

    # --- requests with impatience ----------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        name: str,
        *,
        body: dict[str, Any] | None = None,
        expect: Sequence[int] = (200,),
        accept: Sequence[int] = (),
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """One action's request, retried or refreshed as the scenario's impatience says.

        ``expect``: success codes; ``accept``: business answers (e.g. 402) that are correct
        behaviour of the platform, counted as successes and never retried. ``headers``: extra
        headers of every attempt.

        Paced players: the action's first request is recorded from when the action was due
        (its lateness goes along in the request's context); retries, and further requests
        of the same action, from their own send.
        """
        self.http.identify(self.address, self.token)
        answers = (*expect, *accept)  # the rest are failures, recorded as such
        slow_threshold_s = self.ctx.scenario.impatience.slow_threshold
        attempt = 0
        seen: list[dict[str, Any]] = []  # successful answers, slow ones included
        while True:
            began = time.perf_counter()
            if self.pacer is not None:  # mutated in place: the client copies it per request
                late_s = self.pacer.lateness(began) if self.first_request_due else 0.0
                self.request_context[LATE_MS] = late_s * 1000.0
                self.first_request_due = False
            reply = self.http.request(
                method,
                path,
                name,
                body=body,
                ok=answers,
                context=self.request_context,
                headers=headers,
            )
            got = tuple(reply.headers)
            status = reply.status  # 0: no answer (the reply carries the socket's error)
            ok = reply.error is None  # status in expect or in accept
            if ok:
                parsed = _json(reply.body)
                seen.append(parsed)
                retry_after = None  # only a failed answer's Retry-After is honoured
            else:
                parsed = {}
                retry_after = reply.header("Retry-After")
            elapsed = time.perf_counter() - began
            if status == 401:
                self.token = self.session_id = None  # session lost: log in again
                return Answer(status, {}, False, attempt + 1, tuple(seen), got)
            if ok and elapsed <= slow_threshold_s:  # what decide() says to OK
                return Answer(status, parsed, True, attempt + 1, tuple(seen), got)
            outcome = classify(ok=ok, elapsed_s=elapsed, slow_threshold_s=slow_threshold_s)
            decision = self.me.policy.decide(outcome, attempt, parse_retry_after(retry_after))
            if not decision.again:
                done = ok and decision.reaction is not Reaction.GIVE_UP
                return Answer(status, parsed, done, attempt + 1, tuple(seen), got)
            attempt += 1
            if decision.delay_s > 0:
                time.sleep(decision.delay_s)  # gevent-patched: yields to other players

    # --- journey steps ---------------------------------------------------------------------

    def login(self) -> None:
        if self.login_as is None:
            return
        username, password = self.login_as
        answer = self.call(
            "POST", "/api/login", "/api/login", body={"username": username, "password": password}
        )
        if answer.ok and "token" in answer.body:
            self.token = str(answer.body["token"])
            self.player_id = str(answer.body.get("player_id", self.player_id))

    def lobby(self) -> None:
        answer = self.call("GET", "/api/lobby", "/api/lobby")
        if answer.ok:
            games = answer.body.get("games") or []
            self.games = [
                Game(str(g["id"]), str(g.get("family", ""))) for g in games if "id" in g
            ] or self.games

    def pick_game(self) -> str:
        games = self.games or [Game(slug, "slots") for slug in FALLBACK_GAMES]
        focus = self.ctx.scenario.games
        if focus.family is not None and self.rng.random() < focus.share:
            favoured = [g for g in games if g.family == focus.family]
            games = favoured or games
        return self.rng.choice(games).slug

    def launch(self) -> None:
        game = self.pick_game()
        answer = self.call("POST", f"/api/games/{game}/launch", "/api/games/{game}/launch")
        if answer.ok and "session_id" in answer.body:
            self.game, self.session_id = game, str(answer.body["session_id"])

    def round(self) -> None:
        if self.game is None or self.session_id is None:
            return
        bet = self.rng.choice(self.bets)
        if self.balance is not None and self.balance < bet:
            self.needs_money = True
            return
        answer = self.call(
            "POST",
            f"/api/games/{self.game}/rounds",
            "/api/games/{game}/rounds",
            body={"session_id": self.session_id, "bet": bet},
            accept=(402,),
        )
        if answer.unanswered:
            self.ctx.unacked.write(
                unacked(time.time(), AckKind.BET, self.player_id, bet, answer.unanswered)
            )
        self.failed_rounds = 0 if answer.ok or answer.status == 402 else self.failed_rounds + 1
        if answer.status == 402:
            self.needs_money = True
        elif answer.status == 404 or self.failed_rounds >= LEAVE_AFTER_FAILED_ROUNDS:
            # the game is gone or keeps failing: the player launches a game again, as
            # players do when a game errors out (the platform may route it elsewhere)
            self.session_id, self.failed_rounds = None, 0
        # every success the player saw is a round played (a refreshed round is another
        # round: its request carries no idempotency key), whatever the action's outcome
        for body in answer.acknowledged:
            acks = round_acks(time.time(), self.player_id, body)
            self.ctx.acks.write(acks)
            if acks:
                self.balance = acks[0].balance_after

    def deposit(self) -> str | None:
        amount = self.rng.choice(self.deposits)
        key = f"{self.player_id}-{self.me.serial}-{self.rng.getrandbits(48):012x}"
        answer = self.call(
            "POST",
            "/api/deposits",
            "/api/deposits",
            body={"amount": amount, "idempotency_key": key},
            expect=(202,),
        )
        # every retry carried the same key: at most one deposit, acknowledged when any
        # answer of the action said so (a slow 202 the player refreshed included)
        if not answer.acknowledged:
            self.ctx.unacked.write(unacked(time.time(), AckKind.DEPOSIT, self.player_id, amount))
            return None
        said = answer.body if answer.ok else answer.acknowledged[0]
        ack = payment_ack(time.time(), AckKind.DEPOSIT, self.player_id, said, amount)
        if ack is None:
            return None
        self.ctx.acks.write([ack])
        self.needs_money = False
        self.balance = None  # credited later, by the payment workers
        return ack.tx_id

    def withdraw(self, amount: int) -> None:
        key = f"{self.player_id}-w{self.me.serial}-{self.rng.getrandbits(48):012x}"
        answer = self.call(
            "POST",
            "/api/withdrawals",
            "/api/withdrawals",
            body={"amount": amount, "idempotency_key": key},
            expect=(202,),
            accept=(402,),
        )
        accepted = [b for b in answer.acknowledged if "withdrawal_id" in b]
        if answer.status == 202 or accepted:
            said = answer.body if answer.status == 202 else accepted[0]
            ack = payment_ack(time.time(), AckKind.WITHDRAWAL, self.player_id, said, amount)
            if ack is not None:
                self.ctx.acks.write([ack])
        elif not answer.ok:
            self.ctx.unacked.write(unacked(time.time(), AckKind.WITHDRAWAL, self.player_id, amount))

    def check_balance(self) -> None:
        answer = self.call("GET", "/api/balance", "/api/balance")
        if answer.ok and "balance" in answer.body:
            self.balance = int(answer.body["balance"])

    def play(self) -> None:
        """lobby → launch → rounds, depositing when the money runs out (or on a whim)."""
        if not self.games:
            self.lobby()
        elif self.session_id is None:
            self.launch()
        elif self.needs_money or self.rng.random() < self.deposit_chance:
            self.deposit()
        else:
            self.round()


def _json(content: bytes | None) -> dict[str, Any]:
    if not content:
        return {}
    try:
        value = json.loads(content)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
