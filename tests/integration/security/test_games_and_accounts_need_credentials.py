"""Bets, game sessions, accounts and logins refuse a caller without the right credentials:
no signature, a wrong key, another service's key — and no balance, ledger entry,
account or session changes. Real router, studio, auth, wallet, PostgreSQL and Redis.

The router's and the studios' ``/v1/launch`` and ``/v1/rounds`` bet for any player id
they are given, auth's ``/register`` and ``/login`` open an account or a session for any
username: only the gateway may ask the router and auth, only the router a studio. An
allowed call of each kind goes through on the same stack, so that the refusals are not a
stack that refuses everything.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from spikekit.reference_platform.common.service_auth import GATEWAY, PAYMENTS, ROUTER, Signer
from spikekit.reference_platform.common.signed_httpx import SignedAuth
from tests.integration.security.conftest import OPENING_BALANCE, Secured

GAME = "gonzo-gold"  # offered by aurora only: the router has nowhere else to send it
VICTIM = ("victim", "correct horse battery")  # registered by the gateway, see below


@dataclass(frozen=True)
class Operation:
    """One operation that bets or opens something for a player, and who may run it."""

    name: str
    service: str
    path: str
    body: dict[str, Any]
    allowed: str
    others: tuple[str, ...]  # services of the stack it refuses; each holds a key of its own


def _round(player: str) -> dict[str, Any]:
    return {"player_id": player, "game": GAME, "bet": OPENING_BALANCE}  # all the player has


OPERATIONS = [
    Operation(
        "router launch",
        "router",
        "/v1/launch",
        {"player_id": "p000012", "game": GAME},
        GATEWAY,
        (PAYMENTS, ROUTER),
    ),
    Operation(
        "router round", "router", "/v1/rounds", _round("p000013"), GATEWAY, (PAYMENTS, ROUTER)
    ),
    Operation(
        "studio launch",
        "provider-aurora",
        "/v1/launch",
        {"player_id": "p000014", "game": GAME},
        ROUTER,
        (GATEWAY, PAYMENTS),
    ),
    Operation(
        "studio round",
        "provider-aurora",
        "/v1/rounds",
        _round("p000015"),
        ROUTER,
        (GATEWAY, PAYMENTS),
    ),
    Operation(
        "auth registration",
        "auth",
        "/register",
        {"username": "mallory", "password": "long enough"},
        GATEWAY,
        (ROUTER, PAYMENTS),
    ),
    Operation(
        "auth login",
        "auth",
        "/login",
        {"username": VICTIM[0], "password": VICTIM[1]},
        GATEWAY,
        (ROUTER, PAYMENTS),
    ),
]


@dataclass(frozen=True)
class Snapshot:
    balances: dict[str, int]
    ledger: int
    usernames: set[str]
    sessions: int

    @classmethod
    def of(cls, secured: Secured) -> Snapshot:
        return cls(
            secured.balances(), secured.ledger_size(), secured.usernames(), secured.sessions()
        )


def _send(secured: Secured, op: Operation, auth: httpx.Auth | None) -> httpx.Response:
    content = json.dumps(op.body).encode()
    headers = {"Content-Type": "application/json", "X-Forwarded-For": "198.51.100.66"}
    with httpx.Client(base_url=secured.url(op.service), timeout=10) as client:
        return client.post(op.path, content=content, headers=headers, auth=auth)


@pytest.fixture(scope="module")
def victim(secured: Secured) -> Iterator[str]:
    """A player with credentials at auth, registered as the gateway registers one."""
    as_gateway = SignedAuth(secured.stack.keys.signer(GATEWAY))
    body = {"username": VICTIM[0], "password": VICTIM[1]}
    answer = httpx.post(f"{secured.url('auth')}/register", json=body, auth=as_gateway, timeout=10)
    assert answer.status_code == 201, answer.text
    yield str(answer.json()["player_id"])


@pytest.mark.usefixtures("victim")
@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
@pytest.mark.parametrize("credentials", ["none", "wrong key", "another service's key"])
def test_bets_sessions_and_accounts_refuse_callers_without_the_right_credentials(
    secured: Secured, op: Operation, credentials: str
) -> None:
    keys = secured.stack.keys
    attempts: list[httpx.Auth | None] = [None]
    if credentials == "wrong key":
        attempts = [SignedAuth(Signer(op.allowed, secrets.token_hex(32)))]
    elif credentials == "another service's key":
        attempts = [SignedAuth(keys.signer(other)) for other in op.others]
    before = Snapshot.of(secured)
    for auth in attempts:
        answer = _send(secured, op, auth)
        # each called service holds only its allowed callers' keys: any other is a stranger
        assert answer.status_code == 401, answer.text
        assert answer.json() == {"error": answer.json()["error"]}  # nothing else leaks
        assert answer.json()["error"]["code"] == "UNAUTHENTICATED"
    after = Snapshot.of(secured)
    assert after == before
    assert "mallory" not in after.usernames


def test_the_allowed_callers_bet_and_open_sessions_with_the_keys_the_stack_handed_out(
    secured: Secured, victim: str
) -> None:
    keys = secured.stack.keys
    as_gateway, as_router = SignedAuth(keys.signer(GATEWAY)), SignedAuth(keys.signer(ROUTER))
    before = Snapshot.of(secured)
    with httpx.Client(base_url=secured.url("auth"), timeout=10, auth=as_gateway) as auth:
        name = f"player-{secrets.token_hex(4)}"
        registered = auth.post("/register", json={"username": name, "password": "long enough"})
        assert registered.status_code == 201, registered.text
        login = auth.post("/login", json={"username": VICTIM[0], "password": VICTIM[1]})
        assert login.status_code == 200 and login.json()["player_id"] == victim, login.text
        token = login.json()["token"]
        # validating and ending a session need the token, not the gateway's signature
        validate = f"{secured.url('auth')}/sessions/validate"
        validated = httpx.post(validate, json={"token": token}, timeout=10)
        assert validated.json()["player_id"] == victim
    assert Snapshot.of(secured).usernames == before.usernames | {name}
    assert Snapshot.of(secured).sessions == before.sessions + 1
    player, bet = "p000016", 100
    with httpx.Client(base_url=secured.url("router"), timeout=30, auth=as_gateway) as router:
        launch = router.post("/v1/launch", json={"player_id": player, "game": GAME})
        assert launch.status_code == 200, launch.text
        session = launch.json()["session_id"]
        body = {"player_id": player, "game": GAME, "bet": bet, "session_id": session}
        routed = router.post("/v1/rounds", json=body)
        assert routed.status_code == 200, routed.text  # and the router signed for the studio
    with httpx.Client(
        base_url=secured.url("provider-aurora"), timeout=30, auth=as_router
    ) as studio:
        played = studio.post("/v1/rounds", json={"player_id": player, "game": GAME, "bet": bet})
        assert played.status_code == 200, played.text
    wins = routed.json()["win"] + played.json()["win"]
    assert secured.balances()[player] == OPENING_BALANCE - 2 * bet + wins
    assert secured.ledger_size() > before.ledger
