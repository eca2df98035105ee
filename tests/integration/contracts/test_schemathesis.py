"""Schemathesis against every service's OpenAPI on one real stack: no generated request gets a 5xx.

One reference platform (real PostgreSQL, Redis and service processes, 2,000 seeded
players) serves the whole module. Each API operation is one test: schemathesis
loads the schema each service serves at ``/openapi.json`` and Hypothesis sends it
valid and invalid requests (positive and negative generation), checked with
``not_a_server_error`` and the conformance of every answer's body, Content-Type and
headers to the schema.

So that generated requests get past the front door and exercise validation:

- the wallet's provider API is signed, by a ``requests`` session that puts the HMAC of
  the exact bytes sent in ``X-Wallet-Signature`` whenever the path names a known studio;
- the gateway's player API gets a real bearer token (a seeded player's login) on part
  of the cases, and a known game in its ``{game}`` paths;
- a studio's control API gets its own studio name; faults it sets are cleared after
  each control operation so that no injected 5xx leaks into another test.

The three studios run the same app (``providers.app:create_app``): provider-aurora
stands for all of them. A 5xx found here is fixed in the service and its case kept in
``FOUND_CASES``, replayed first on every run so that it stays fixed whatever Hypothesis
generates.
"""

from __future__ import annotations

import importlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Err, Ok

from spikekit.reference_platform.auth.domain import seed_password, seed_player_id, seed_username
from spikekit.reference_platform.common.service_auth import PERMISSIONS, StackKeys, role_of
from spikekit.reference_platform.providers.catalogue import GAMES
from spikekit.reference_platform.spec import ToxiproxyMode, default_stack
from spikekit.reference_platform.supervisor import Stack
from spikekit.reference_platform.wallet.signing import SIGNATURE_HEADER, sign

# services in test order; provider-aurora stands for the three studios (same app factory)
SERVICES = ("auth", "wallet", "payments", "reporting", "provider-aurora", "router", "gateway")
STUDIO = "aurora"
MAX_EXAMPLES = 50  # per operation, positive and negative cases together
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
PLAYER, LOGOUT_PLAYER = 1, 2  # seeded players whose tokens the gateway cases carry
GAME = next(g.id for g in GAMES.values() if STUDIO in g.studios)


@dataclass(frozen=True)
class FoundCase:
    """A request schemathesis once answered with a 5xx; replayed first on every run."""

    reason: str
    body: dict[str, object]


# a NUL character cannot be stored in PostgreSQL text: asyncpg raised
# CharacterNotInRepertoireError, which auth's adapter took for an outage (503)
_NUL_USERNAME = FoundCase(
    "a username with a NUL character (U+0000) was sent to PostgreSQL: 503, not 401",
    {"username": "player\u0000001", "password": "spike-1"},
)
FOUND_CASES: dict[tuple[str, str], FoundCase] = {
    ("auth", "POST /login"): _NUL_USERNAME,
    ("gateway", "POST /api/login"): _NUL_USERNAME,  # relayed auth's 503
}

pytestmark = pytest.mark.timeout(600)


def _operations() -> list[Any]:
    """One pytest param per operation of every service, read from the app factories'
    schemas (no server needed at collection); the tests then use the served schema."""
    stack = default_stack()
    params = []
    for name in SERVICES:
        module, _, factory = stack.service(name).app.partition(":")
        schema = getattr(importlib.import_module(module), factory)().openapi()
        for path, methods in schema["paths"].items():
            for method in methods:
                if method not in HTTP_METHODS:
                    continue
                label = f"{method.upper()} {path}"
                params.append(pytest.param(name, label, id=f"{name} {label}"))
    return params


OPERATIONS = _operations()


def _caller_for(service: str, method: str, path: str) -> str | None:
    """The caller the permission matrix allows for this request (None: an unsigned route)."""
    role = role_of(service)
    for permission in PERMISSIONS:
        template = re.sub(r"\{[^/}]+\}", "[^/]+", permission.path)
        if (permission.service, permission.method) == (role, method) and re.fullmatch(
            template, path
        ):
            return min(permission.callers)
    return None


class SigningSession(requests.Session):
    """Signs as the platform's callers do, with the stack's keys: a wallet provider call as
    the studio (HMAC of the exact body bytes), every route of the permission matrix as a
    caller the matrix allows (docs/security.md)."""

    def __init__(self, keys: StackKeys, service: str) -> None:
        super().__init__()
        self.keys = keys
        self.service = service

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        path = urlsplit(request.url or "").path
        match = re.match(r"/v1/providers/([^/]+)/", path)
        secret = self.keys.studios.get(unquote(match[1])) if match else None
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        if not isinstance(body, bytes):
            return super().send(request, **kwargs)
        caller = _caller_for(self.service, request.method or "", path)
        if secret is not None and self.service == "wallet":
            request.headers[SIGNATURE_HEADER] = sign(secret, body)
        elif caller is not None:
            signer = self.keys.signer(caller)
            request.headers.update(signer.headers(request.method or "", request.path_url, body))
        return super().send(request, **kwargs)


@dataclass
class Platform:
    stack: Stack
    tokens: dict[int, str]
    schemas: dict[str, schemathesis.BaseSchema] = field(default_factory=dict)

    def service(self, name: str) -> tuple[str, Path]:
        """The URL and log file of the (single) replica of ``name``."""
        assert self.stack.state is not None
        info = next(s for s in self.stack.state.services if s.service == name)
        return info.url, Path(info.log)

    def schema(self, name: str) -> schemathesis.BaseSchema:
        if name not in self.schemas:
            url, _ = self.service(name)
            self.schemas[name] = schemathesis.openapi.from_url(f"{url}/openapi.json", timeout=10)
        return self.schemas[name]


def _login(client: httpx.Client, gateway: str, n: int) -> str:
    answer = client.post(
        f"{gateway}/api/login",
        json={"username": seed_username(n), "password": seed_password(n)},
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    spec = default_stack().with_options(players=2000, toxiproxy=ToxiproxyMode.OFF)
    with Stack(spec, tmp_path_factory.mktemp("contracts") / "stack") as stack:
        platform = Platform(stack, {})
        gateway, _ = platform.service("gateway")
        # before any generated login can trip the per-address login limit
        with httpx.Client(timeout=10) as client:
            platform.tokens = {n: _login(client, gateway, n) for n in (PLAYER, LOGOUT_PLAYER)}
        yield platform


def _variants(service: str, label: str, platform: Platform) -> list[dict[str, Any]]:
    """Fixed parts that get generated cases past authentication and lookups."""
    _, path = label.split(" ", 1)
    if service == "wallet" and path.startswith("/v1/providers/{provider}/"):
        return [{"path_parameters": {"provider": p}} for p in platform.stack.keys.studios]
    if service == "wallet" and "{player_id}" in path:
        return [{"path_parameters": {"player_id": seed_player_id(PLAYER)}}]
    if service == "provider-aurora" and "{provider}" in path:
        return [{"path_parameters": {"provider": STUDIO}}]
    if service == "gateway" and path not in {"/api/login", "/api/register", "/api/lobby"}:
        player = LOGOUT_PLAYER if path == "/api/logout" else PLAYER
        fixed: dict[str, Any] = {"headers": {"authorization": f"Bearer {platform.tokens[player]}"}}
        if "{game}" in path:
            fixed["path_parameters"] = {"game": GAME}
        return [fixed]
    return []


def _strategy(service: str, label: str, platform: Platform) -> SearchStrategy[Case]:
    operation = platform.schema(service).find_operation_by_label(label)
    assert operation is not None, f"{service} no longer serves {label} at /openapi.json"
    variants = [{}, *_variants(service, label, platform)]
    strategies = [
        operation.as_strategy(mode, **fixed)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for fixed in variants
    ]
    if any("player_id" in json.dumps(body.definition) for body in operation.body):
        # valid bodies for a seeded player reach the ledger, not just the lookup's 404
        seeded = operation.as_strategy(
            GenerationMode.POSITIVE, **variants[min(1, len(variants) - 1)]
        )
        strategies.append(seeded.map(_seeded_player))
    return st.one_of(strategies)


def _seeded_player(case: Case) -> Case:
    """A seeded player (and, where the body names one, a game of provider-aurora)."""
    if isinstance(case.body, dict) and "player_id" in case.body:
        case.body["player_id"] = seed_player_id(PLAYER)
        if "game" in case.body:
            case.body["game"] = GAME
    return case


def _explore(strategy: SearchStrategy[Case], send: Callable[[Case], None]) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,  # the same cases on every run: a strict xfail stays strict
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )
    @given(case=strategy)
    def explore(case: Case) -> None:
        send(case)

    explore()


@pytest.fixture
def clear_faults(platform: Platform) -> Iterator[None]:
    """Faults set through a studio's control API end with the test that set them."""
    yield
    url, _ = platform.service("provider-aurora")
    httpx.delete(f"{url}/control/faults", timeout=10).raise_for_status()


@pytest.mark.usefixtures("clear_faults")
@pytest.mark.parametrize(("service", "label"), OPERATIONS)
def test_no_generated_request_gets_a_server_error(
    platform: Platform,
    service: str,
    label: str,
    record_property: Callable[[str, object], None],
) -> None:
    url, log = platform.service(service)
    statuses: Counter[int] = Counter()
    session = SigningSession(platform.stack.keys, service)

    def send(case: Case) -> None:
        response = case.call_and_validate(base_url=url, session=session, checks=CHECKS)
        statuses[response.status_code] += 1

    offset = log.stat().st_size
    try:
        if known := FOUND_CASES.get((service, label)):
            operation = platform.schema(service).find_operation_by_label(label)
            assert operation is not None
            send(operation.Case(body=known.body, media_type="application/json"))
        _explore(_strategy(service, label, platform), send)
    except BaseException as failure:
        with log.open("rb") as lines:
            lines.seek(offset)
            written = lines.read().decode(errors="replace")
        failure.add_note(
            f"--- {log.name} during this test (last 6,000 chars) ---\n"
            f"{written[-6000:] or '(nothing written)'}"
        )
        raise
    finally:
        session.close()
        record_property("statuses", dict(sorted(statuses.items())))
    seen = dict(sorted(statuses.items()))
    print(f"\n{service} {label}: {statuses.total()} requests, statuses {seen}")
    assert statuses.total() > 0
    method, path = label.split(" ", 1)
    if _caller_for(service, method, re.sub(r"\{[^/}]+\}", "x", path)) is not None:
        # a signed route: the generated cases got past the signature check to the route
        assert set(statuses) - {401}, f"every signed request was refused: {seen}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_served_operation_is_tested(platform: Platform, service: str) -> None:
    results = list(platform.schema(service).get_all_operations())
    assert [r.err() for r in results if isinstance(r, Err)] == [], "schema errors"
    served = {r.ok().label for r in results if isinstance(r, Ok)}
    collected = {param.values[1] for param in OPERATIONS if param.values[0] == service}
    assert served, f"{service} serves no operation"
    assert served == collected
