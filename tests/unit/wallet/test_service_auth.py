"""Service authentication: signatures, the replay window, key rotation, the matrix, the keys."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from spikekit.reference_platform.auth.entrypoints.app import create_app as auth_app
from spikekit.reference_platform.auth.settings import AuthSettings
from spikekit.reference_platform.common.service_auth import (
    CALLER_HEADER,
    GATEWAY,
    MAX_SKEW_S,
    PAYMENTS,
    PERMISSIONS,
    PROVIDERS,
    ROUTER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Forbidden,
    Signer,
    StackKeys,
    Unauthenticated,
    Verifier,
    callers_of,
    services_called_by,
)
from spikekit.reference_platform.gateway.adapters.metrics import GatewayMetrics
from spikekit.reference_platform.gateway.bootstrap import connect
from spikekit.reference_platform.gateway.settings import GatewaySettings
from spikekit.reference_platform.payments.entrypoints.api import create_app as payments_app
from spikekit.reference_platform.payments.settings import PaymentsSettings
from spikekit.reference_platform.providers.app import create_app as provider_app
from spikekit.reference_platform.providers.settings import ProviderSettings
from spikekit.reference_platform.router.app import create_app as router_app
from spikekit.reference_platform.router.bootstrap import bootstrap as router_bootstrap
from spikekit.reference_platform.router.settings import RouterSettings
from spikekit.reference_platform.spec import default_stack
from spikekit.reference_platform.supervisor import Stack
from spikekit.reference_platform.wallet.entrypoints.app import create_app as wallet_app
from spikekit.reference_platform.wallet.settings import WalletSettings
from spikekit.reference_platform.wallet.signing import sign as sign_body
from spikekit.reference_platform.wallet.signing import verify

from .fakes import FakeStore, FakeUnitOfWork

NOW = 1_767_225_600.0
DEPOSIT = "/v1/players/{player_id}/deposit"
BODY = b'{"amount":500}'
TARGET = "/v1/players/p000001/deposit"


def verifier(service: str = "wallet", **keys: list[str]) -> Verifier:
    keys = keys or {PAYMENTS: ["k-payments"], GATEWAY: ["k-gateway"]}
    return Verifier.of(service, keys, clock=lambda: NOW)


def signed(caller: str = PAYMENTS, key: str = "k-payments", at: float = NOW) -> dict[str, str]:
    return Signer(caller, key, lambda: at).headers("POST", TARGET, BODY)


def check(headers: dict[str, str], v: Verifier | None = None, **where: str) -> str:
    v = v or verifier()
    method, target = where.get("method", "POST"), where.get("target", TARGET)
    body = where["body"].encode() if "body" in where else BODY
    return v.check(method, target, where.get("route", DEPOSIT), dict(headers), body)


def test_a_signed_call_of_an_allowed_caller_passes() -> None:
    headers = signed()
    assert set(headers) == {CALLER_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER}
    assert headers[TIMESTAMP_HEADER] == str(int(NOW))
    assert check(headers) == PAYMENTS


@pytest.mark.parametrize(
    "where",
    [
        {"method": "PUT"},  # another operation
        {"target": "/v1/players/p000002/deposit"},  # another player
        {"target": "/v1/players/p000001/withdraw", "route": "/v1/players/{player_id}/withdraw"},
        {"body": '{"amount":50000}'},  # another amount
    ],
)
def test_a_signature_is_good_for_one_method_path_and_body_only(where: dict[str, str]) -> None:
    with pytest.raises(Unauthenticated):
        check(signed(), **where)


def test_missing_unknown_or_forged_credentials_are_401() -> None:
    cases = [
        {},
        {k: v for k, v in signed().items() if k != SIGNATURE_HEADER},
        {k: v for k, v in signed().items() if k != TIMESTAMP_HEADER},
        signed(key="not-the-key"),
        signed(caller="mallory", key="k-payments"),
        {**signed(), CALLER_HEADER: GATEWAY},  # the payments signature claimed by the gateway
        {**signed(), SIGNATURE_HEADER: "é" * 64},  # not even ASCII
    ]
    for headers in cases:
        with pytest.raises(Unauthenticated) as caught:
            check(headers)
        assert caught.value.status == 401


def test_a_studio_signature_that_is_not_ascii_is_wrong_not_an_error() -> None:
    assert not verify("secret", BODY, "é" * 64)
    assert verify("secret", BODY, sign_body("secret", BODY).upper())


def test_the_replay_window_bounds_the_timestamp_both_ways() -> None:
    assert check(signed(at=NOW - MAX_SKEW_S)) == PAYMENTS
    assert check(signed(at=NOW + MAX_SKEW_S)) == PAYMENTS
    for at in (NOW - MAX_SKEW_S - 1, NOW + MAX_SKEW_S + 1, 0.0):
        with pytest.raises(Unauthenticated, match="off"):
            check(signed(at=at))
    with pytest.raises(Unauthenticated):
        check({**signed(), TIMESTAMP_HEADER: "soon"})


def test_during_a_rotation_the_current_and_the_previous_key_are_accepted() -> None:
    rotating = verifier(payments=["k-new", "k-old"])
    assert check(signed(key="k-new"), rotating) == PAYMENTS
    assert check(signed(key="k-old"), rotating) == PAYMENTS
    with pytest.raises(Unauthenticated):
        check(signed(key="k-older"), rotating)


def test_a_known_caller_without_the_permission_is_403() -> None:
    headers = Signer(GATEWAY, "k-gateway", lambda: NOW).headers("POST", TARGET, BODY)
    with pytest.raises(Forbidden) as caught:
        check(headers)
    assert caught.value.status == 403
    with pytest.raises(Forbidden):  # a route without a row: nobody may
        check(signed(), route="/v1/players/{player_id}/everything")


def test_the_matrix_follows_the_call_graph() -> None:
    allowed = {(p.service, p.method, p.path): p.callers for p in PERMISSIONS}
    assert allowed[("wallet", "POST", DEPOSIT)] == {PAYMENTS}
    assert allowed[("wallet", "POST", "/v1/players/{player_id}/withdraw")] == {PAYMENTS}
    assert allowed[("wallet", "PUT", "/v1/players/{player_id}")] == {GATEWAY}
    assert allowed[("payments", "POST", "/v1/deposits")] == {GATEWAY}
    assert allowed[("auth", "POST", "/register")] == {GATEWAY}
    assert allowed[("auth", "POST", "/login")] == {GATEWAY}
    for path in ("/v1/launch", "/v1/rounds"):
        assert allowed[("router", "POST", path)] == {GATEWAY}
        assert allowed[(PROVIDERS, "POST", path)] == {ROUTER}
    assert callers_of("wallet") == {GATEWAY, PAYMENTS}
    assert callers_of("payments") == {GATEWAY}
    assert callers_of("auth") == callers_of("router") == {GATEWAY}
    assert callers_of("provider-aurora") == callers_of("provider-cobalt") == {ROUTER}
    assert services_called_by(GATEWAY) == {"auth", "wallet", "router", "payments"}
    assert services_called_by(PAYMENTS) == {"wallet"}
    assert services_called_by(ROUTER) == {PROVIDERS}


def test_a_studio_accepts_the_router_and_nobody_else() -> None:
    target, body = "/v1/rounds", b'{"player_id":"p000001","game":"aviator-sky","bet":100}'
    studio = Verifier.of("provider-blitz", {ROUTER: ["k-router"]}, clock=lambda: NOW)
    headers = Signer(ROUTER, "k-router", lambda: NOW).headers("POST", target, body)
    assert studio.check("POST", target, target, headers, body) == ROUTER
    as_gateway = Signer(GATEWAY, "k-gateway", lambda: NOW).headers("POST", target, body)
    with pytest.raises(Unauthenticated):  # the studio holds no key of the gateway's
        studio.check("POST", target, target, as_gateway, body)
    knows_gateway = Verifier.of("provider-blitz", {GATEWAY: ["k-gateway"]}, clock=lambda: NOW)
    with pytest.raises(Forbidden):  # and would not let it bet if it did
        knows_gateway.check("POST", target, target, as_gateway, body)


def _checked_routes(app: FastAPI) -> set[tuple[str, str]]:
    """The operations whose schema asks for the caller's signature."""
    checked = set()
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if SIGNATURE_HEADER in names:
                checked.add((method.upper(), path))
    return checked


# what each service serves unsigned: nothing that moves money or opens an account or a
# session for a player id of the caller's choosing
UNSIGNED = {
    "wallet": set(),  # besides the studios' own signed API, /v1/providers/{provider}/...
    "payments": set(),
    "auth": {("POST", "/sessions/validate"), ("POST", "/logout")},  # need the token
    "router": {("GET", "/v1/games"), ("GET", "/v1/providers")},
    PROVIDERS: {
        ("GET", "/v1/games"),
        ("GET", "/control/providers"),
        ("PUT", "/control/providers/{provider}/faults/{fault_id}"),
        ("DELETE", "/control/providers/{provider}/faults/{fault_id}"),
        ("DELETE", "/control/providers/{provider}/faults"),
        ("GET", "/control/faults"),
        ("DELETE", "/control/faults"),
    },
}


def test_every_checked_route_has_a_row_and_every_row_a_checked_route() -> None:
    apps = {
        "wallet": wallet_app(WalletSettings(), uow=lambda: FakeUnitOfWork(FakeStore())),
        "payments": payments_app(),
        "auth": auth_app(AuthSettings()),
        "router": router_app(RouterSettings()),
        PROVIDERS: provider_app(ProviderSettings(service="provider-cobalt")),
    }
    assert set(apps) == {p.service for p in PERMISSIONS}
    for service, app in apps.items():
        rows = {(p.method, p.path) for p in PERMISSIONS if p.service == service}
        assert _checked_routes(app) == rows, service
        served = {
            (method.upper(), path)
            for path, operations in app.openapi()["paths"].items()
            for method in operations
        }
        others = served - rows
        if service == "wallet":  # everything else is the studios' signed API
            assert all(p.startswith("/v1/providers/{provider}/") for _, p in others), others
        else:
            assert others == UNSIGNED[service], service


def test_stack_keys_are_fresh_private_and_handed_out_by_need(tmp_path: Path) -> None:
    stack = Stack(default_stack(), tmp_path)
    other = Stack(default_stack(), tmp_path)
    assert stack.keys.callers[PAYMENTS] != other.keys.callers[PAYMENTS]
    assert set(stack.keys.callers) == {GATEWAY, PAYMENTS, ROUTER}
    assert len(stack.keys.callers[GATEWAY]) == 64
    wallet = stack.key_env("wallet")
    assert json.loads(wallet["SPIKEKIT_CALLER_KEYS"]) == {
        GATEWAY: [stack.keys.callers[GATEWAY]],
        PAYMENTS: [stack.keys.callers[PAYMENTS]],
    }
    assert set(json.loads(wallet["SPIKEKIT_WALLET_PROVIDER_SECRETS"])) >= {"aurora", "blitz"}
    payments = stack.key_env("payments")
    assert json.loads(payments["SPIKEKIT_CALLER_KEYS"]) == {GATEWAY: [stack.keys.callers[GATEWAY]]}
    assert payments["SPIKEKIT_CALLER_KEY"] == stack.keys.callers[PAYMENTS]
    assert stack.key_env("payments-worker")["SPIKEKIT_CALLER_KEY"] == stack.keys.callers[PAYMENTS]
    assert stack.key_env("gateway")["SPIKEKIT_CALLER_KEY"] == stack.keys.callers[GATEWAY]
    assert json.loads(stack.key_env("gateway")["SPIKEKIT_CALLER_KEYS"]) == {}
    router = stack.key_env("router")
    assert router["SPIKEKIT_CALLER_KEY"] == stack.keys.callers[ROUTER]
    assert json.loads(router["SPIKEKIT_CALLER_KEYS"]) == {GATEWAY: [stack.keys.callers[GATEWAY]]}
    auth = stack.key_env("auth")
    assert json.loads(auth["SPIKEKIT_CALLER_KEYS"]) == {GATEWAY: [stack.keys.callers[GATEWAY]]}
    assert auth["SPIKEKIT_CALLER_KEY"] == ""  # auth calls nobody
    aurora = stack.key_env("provider-aurora")
    assert aurora["SPIKEKIT_PROVIDER_WALLET_SECRET"] == stack.keys.studios["aurora"]
    assert aurora["SPIKEKIT_CALLER_KEY"] == ""
    assert json.loads(aurora["SPIKEKIT_CALLER_KEYS"]) == {ROUTER: [stack.keys.callers[ROUTER]]}
    path = stack.keys.save(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert StackKeys.load(tmp_path) == stack.keys
    assert stack.keys.callers[GATEWAY] not in repr(stack.keys)


def test_the_gateway_signs_its_calls_to_every_dependency_with_its_own_key() -> None:
    base = "http://127.0.0.1:1"
    settings = GatewaySettings(
        caller_key="k-gateway",
        auth_urls=base,
        wallet_urls=base,
        router_urls=base,
        payments_urls=base,
    )

    async def wiring() -> dict[str, Signer | None]:
        async with connect(settings, GatewayMetrics(CollectorRegistry())) as running:
            return {u.name: u.pool.signer for u in running.upstreams}

    signers = asyncio.run(wiring())
    assert set(signers) == {"auth", "wallet", "router", "payments"}
    assert set(signers.values()) == {Signer(GATEWAY, "k-gateway")}
    payments = PaymentsSettings(service="payments-worker", caller_key="k-payments")
    assert payments.signer() == Signer(PAYMENTS, "k-payments")
    assert PaymentsSettings().signer() is None  # no key, no signature: the wallet says 401


def test_the_router_signs_its_calls_to_every_studio_with_its_own_key() -> None:
    base = "http://127.0.0.1:1"
    settings = RouterSettings(
        caller_key="k-router", provider_urls={"aurora": base, "blitz": f"{base},{base}"}
    )

    async def wiring() -> list[Signer | None]:
        runtime = router_bootstrap(settings)
        try:
            return [pool.signer for pool in runtime.pools]
        finally:
            await runtime.close()

    assert asyncio.run(wiring()) == [Signer(ROUTER, "k-router")] * 2
    assert RouterSettings().signer() is None  # no key: the studios say 401
