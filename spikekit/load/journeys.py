"""The five personas (Locust user classes; their weights come from the scenario's mix)."""

from __future__ import annotations

from typing import ClassVar

from spikekit.load.personas import Player


class SlotPlayer(Player):
    """login → lobby → launch → rounds with think time → sometimes a deposit."""


class HighRoller(Player):
    """Few of them: big bets, frequent large deposits."""

    bets: ClassVar[tuple[int, ...]] = (500, 1000, 2000, 5000)
    deposits: ClassVar[tuple[int, ...]] = (20_000, 50_000, 100_000)
    deposit_chance: ClassVar[float] = 0.2


class Depositor(Player):
    """The payment path: deposit → watch it complete → balance → now and then withdraw."""

    deposits: ClassVar[tuple[int, ...]] = (2000, 5000, 10_000, 20_000)

    def on_start(self) -> None:
        super().on_start()
        self.pending: str | None = None

    def act(self) -> None:
        if self.pending is not None:
            answer = self.call("GET", f"/api/deposits/{self.pending}", "/api/deposits/{id}")
            if not answer.ok or answer.body.get("status") != "pending":
                self.pending = None
        elif self.rng.random() < 0.25:
            self.check_balance()
        elif self.rng.random() < 0.15:
            self.withdraw(self.rng.choice((500, 1000, 2000)))
        else:
            self.pending = self.deposit()


class LobbyBrowser(Player):
    """Logs in and looks around: lobby, balance, profile; rarely plays a round."""

    def act(self) -> None:
        roll = self.rng.random()
        if roll < 0.55:
            self.lobby()
        elif roll < 0.75:
            self.check_balance()
        elif roll < 0.9:
            self.call("GET", "/api/me", "/api/me")
        elif self.session_id is None:
            self.launch()
        else:
            self.round()


class NewRegistrant(Player):
    """register → login → first deposit, then plays like a slot player."""

    def on_start(self) -> None:
        super().on_start()
        self.login_as = None  # a new account, not a seeded one
        self.first_deposit = False

    def login(self) -> None:
        if self.login_as is None:
            self.register()
        if self.login_as is not None:
            super().login()

    def register(self) -> None:
        username = self.ctx.registrant_name(self.me)
        password = f"new-{self.rng.getrandbits(32):08x}"
        answer = self.call(
            "POST",
            "/api/register",
            "/api/register",
            body={"username": username, "password": password},
            expect=(201,),
        )
        if answer.ok:
            self.login_as = (username, password)
            self.player_id = str(answer.body.get("player_id", ""))

    def act(self) -> None:
        if not self.first_deposit:
            self.first_deposit = self.deposit() is not None
        else:
            self.play()


PERSONAS: tuple[type[Player], ...] = (
    SlotPlayer,
    HighRoller,
    Depositor,
    LobbyBrowser,
    NewRegistrant,
)
