"""Lucky Ledger players as a locustfile: ``spikekit run scenario-locustfile.yaml``.

``SpikePlayer`` gives them spikekit's client, the scenario's impatience and think time,
a seeded account (``player_id``, ``password``) and ``ack()`` for the wallet audit.
"""

from __future__ import annotations

from spikekit.load.own import SpikePlayer


class Bettor(SpikePlayer):
    """Logs in, then wagers and now and then looks at its wallet."""

    weight = 3

    def start_session(self) -> None:
        answer = self.request(
            "POST",
            "/v2/sessions",
            json={"player": self.player_id, "pin": self.password},
            expect=(201,),
        )
        if not answer.ok:
            self.session_started = False  # log in again on the next action
            return
        self.wallet = str(answer.body["wallet_id"])
        self.headers = {"X-Session-Token": answer.header("X-Session-Token") or ""}

    def act(self) -> None:
        if self.rng.random() < 0.2:
            self.request("GET", f"/v2/wallets/{self.wallet}", "/v2/wallets/{wallet}")
            return
        stake = self.rng.randint(10, 300)
        key = f"{self.player_id}-{self.rng.getrandbits(64):016x}"
        answer = self.request(
            "POST",
            "/v2/wagers",
            json={"wallet": self.wallet, "stake": {"cents": stake}, "game": "dice"},
            headers={"Idempotency-Key": key},  # kept by every retry: applied at most once
            expect=(201,),
            accept=(422,),  # insufficient funds
        )
        for body in answer.acknowledged:  # each success the player saw
            wager = body.get("wager")
            if isinstance(wager, dict) and "id" in wager:
                self.ack("bet", wager["id"], stake)
                if wager.get("payout_id"):
                    self.ack("win", wager["payout_id"], wager["payout"]["cents"])
        if answer.unanswered and not answer.acknowledged:
            self.unacknowledged("bet", stake, answer.unanswered)


class Topper(SpikePlayer):
    """Logs in and tops its wallet up."""

    weight = 1

    def start_session(self) -> None:
        answer = self.request(
            "POST",
            "/v2/sessions",
            json={"player": self.player_id, "pin": self.password},
            expect=(201,),
        )
        if not answer.ok:
            self.session_started = False
            return
        self.wallet = str(answer.body["wallet_id"])
        self.headers = {"X-Session-Token": answer.header("X-Session-Token") or ""}

    def act(self) -> None:
        cents = self.rng.choice((500, 1000, 2500))
        key = f"{self.player_id}-t{self.rng.getrandbits(64):016x}"
        answer = self.request(
            "POST",
            "/v2/topups",
            json={"wallet": self.wallet, "amount": {"cents": cents}},
            headers={"Idempotency-Key": key},
            expect=(201,),
        )
        if answer.acknowledged:  # one key: one top-up, however many answers said so
            self.ack("deposit", answer.acknowledged[0]["topup"]["id"], cents)
        elif answer.unanswered:
            self.unacknowledged("deposit", cents, answer.unanswered)
