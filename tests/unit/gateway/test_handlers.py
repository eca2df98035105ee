"""The gateway's handlers against fakes of their ports (no network)."""

from __future__ import annotations

import asyncio
import json

import pytest

from spikekit.reference_platform.gateway.bootstrap import bootstrap
from spikekit.reference_platform.gateway.domain import GatewayError, Unauthorized
from spikekit.reference_platform.gateway.service_layer.handlers import Gateway
from spikekit.reference_platform.gateway.service_layer.ports import PaymentKind
from spikekit.reference_platform.gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import (
    FakeAuth,
    FakeLobby,
    FakePayments,
    FakeProfiles,
    FakeRouter,
    FakeWallet,
)


def gateway(profile: str = "resilient") -> tuple[Gateway, FakeAuth, FakeWallet]:
    auth, wallet = FakeAuth(), FakeWallet()
    handlers = bootstrap(
        GatewaySettings(profile=profile),
        auth=auth,
        wallet=wallet,
        router=FakeRouter(),
        payments=FakePayments(),
        lobby=FakeLobby(),
        profiles=FakeProfiles(),
    )
    return handlers, auth, wallet


def test_register_opens_the_wallet_account_and_me_shows_the_name() -> None:
    handlers, _, wallet = gateway()
    player = asyncio.run(handlers.register("Alice", "correct horse"))
    assert wallet.balances == {player: 0}
    profile = asyncio.run(handlers.me(player))
    assert (profile.username, profile.balance) == ("alice", 0)


@pytest.mark.parametrize(("profile", "validations"), [("resilient", 0), ("fragile", 3)])
def test_session_validations_are_cached_only_in_the_resilient_profile(
    profile: str, validations: int
) -> None:
    handlers, auth, _ = gateway(profile)
    login = asyncio.run(handlers.login("bob", "pw", "127.0.0.1"))
    for _ in range(3):
        assert asyncio.run(handlers.authenticate(login.token)) == login.player_id
    assert auth.calls["validate"] == validations


def test_logout_forgets_the_cached_session() -> None:
    handlers, _, _ = gateway()
    login = asyncio.run(handlers.login("bob", "pw", "127.0.0.1"))
    asyncio.run(handlers.logout(login.token))
    with pytest.raises(Unauthorized):
        asyncio.run(handlers.authenticate(login.token))


def test_a_withdrawal_above_the_balance_is_402_before_payments_is_asked() -> None:
    handlers, _, wallet = gateway()
    wallet.balances["p1"] = 500
    with pytest.raises(GatewayError) as caught:
        asyncio.run(handlers.pay(PaymentKind.WITHDRAWAL, "p1", 501, "k"))
    assert (caught.value.status, caught.value.code) == (402, "insufficient_funds")
    accepted = asyncio.run(handlers.pay(PaymentKind.WITHDRAWAL, "p1", 500, "k"))
    assert accepted.status == "pending"


def test_a_payment_is_only_shown_to_its_player() -> None:
    handlers, _, _ = gateway()
    deposit = asyncio.run(handlers.pay(PaymentKind.DEPOSIT, "p1", 100, "k"))
    mine = asyncio.run(handlers.payment(PaymentKind.DEPOSIT, "p1", deposit.payment_id))
    assert mine.amount == 100
    with pytest.raises(GatewayError) as caught:
        asyncio.run(handlers.payment(PaymentKind.DEPOSIT, "p2", deposit.payment_id))
    assert caught.value.status == 404


def test_a_missing_account_is_opened_at_the_balance_check() -> None:
    handlers, _, wallet = gateway()
    assert asyncio.run(handlers.balance("p9")) == 0
    assert wallet.balances == {"p9": 0}


def test_the_lobby_lists_playable_games_only() -> None:
    handlers, _, _ = gateway()
    games = json.loads(asyncio.run(handlers.lobby()))["games"]
    assert [g["id"] for g in games] == ["g"]
    assert set(games[0]) == {"id", "name", "family", "providers", "min_bet", "max_bet"}
