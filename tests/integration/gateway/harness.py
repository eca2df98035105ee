"""Real stacks for the gateway tests, and what the tests do with them.

Every service is a separate process started by the real supervisor, PostgreSQL,
Redis and Toxiproxy included; settings reach the processes through ``SPIKEKIT_*``
variables of the test process. One studio (aurora) keeps the stack small; the
wallet runs two replicas so that round robin can be seen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from spikekit.reference_platform.spec import Profile, ServiceSpec, StackSpec, ToxiproxyMode
from spikekit.reference_platform.state import StackState
from spikekit.reference_platform.supervisor import Stack
from spikekit.toxiproxy.client import ToxiproxyClient

RP = "spikekit.reference_platform"
PLAYERS = 40
WALLET = ServiceSpec(
    name="wallet",
    app=f"{RP}.wallet.entrypoints.app:create_app",
    replicas=2,
    needs=("postgres", "redis"),
)
AUTH = ServiceSpec(
    name="auth", app=f"{RP}.auth.entrypoints.app:create_app", needs=("postgres", "redis")
)
AURORA = ServiceSpec(
    name="provider-aurora", app=f"{RP}.providers.app:create_app", needs=("wallet",)
)
ROUTER = ServiceSpec(
    name="router", app=f"{RP}.router.app:create_app", needs=("redis", "provider-aurora")
)
PAYMENTS = ServiceSpec(
    name="payments", app=f"{RP}.payments.entrypoints.api:create_app", needs=("redis", "wallet")
)
WORKER = ServiceSpec(
    name="payments-worker",
    app=f"{RP}.payments.entrypoints.worker:create_app",
    needs=("redis", "wallet"),
)
GATEWAY = ServiceSpec(
    name="gateway",
    app=f"{RP}.gateway.app:create_app",
    needs=("redis", "auth", "wallet", "router", "payments"),
)
FULL = (WALLET, AUTH, AURORA, ROUTER, PAYMENTS, WORKER, GATEWAY)
SMALL = (
    WALLET.model_copy(update={"replicas": 1}),
    AUTH,
    AURORA,
    ROUTER,
    GATEWAY.model_copy(update={"needs": ("redis", "auth", "wallet", "router")}),
)
# cheap argon2 for registrations; fast payment processing; a small per-address login limit
ENV = {
    "SPIKEKIT_AUTH_ARGON2_TIME_COST": "1",
    "SPIKEKIT_AUTH_ARGON2_MEMORY_KIB": "8192",
    "SPIKEKIT_AUTH_ADDRESS_ATTEMPTS": "30",
    "SPIKEKIT_PAYMENTS_PROVIDER_LATENCY_S": "0.01",
    "SPIKEKIT_PAYMENTS_DECLINE_RATE": "0",
    "SPIKEKIT_PAYMENTS_BLOCK_MS": "100",
    "SPIKEKIT_PROVIDER_THINK_MS": "1",
}


@dataclass
class Platform:
    stack: Stack
    state: StackState
    redis: redis.Redis

    def url(self, service: str) -> str:
        return next(s.url for s in self.state.services if s.name == service)

    @property
    def gateway(self) -> str:
        return self.url("gateway")

    def client(self, timeout: float = 10) -> httpx.Client:
        return httpx.Client(base_url=self.gateway, timeout=timeout)

    def toxiproxy(self) -> ToxiproxyClient:
        assert self.state.toxiproxy_api is not None
        return ToxiproxyClient(self.state.toxiproxy_api)

    def metric(self, service: str, name: str, **labels: str) -> float:
        """The sum of the samples of ``name`` whose labels include ``labels``."""
        text = httpx.get(f"{self.url(service)}/metrics", timeout=10).text
        total = 0.0
        for line in text.splitlines():
            if not (line.startswith(name + "{") or line.startswith(name + " ")):
                continue
            head, value = line.rsplit(" ", 1)
            if all(f'{k}="{v}"' in head for k, v in labels.items()):
                total += float(value)
        return total


@contextmanager
def running_platform(
    tmp: Path, services: tuple[ServiceSpec, ...], profile: Profile, env: dict[str, str]
) -> Iterator[Platform]:
    spec = StackSpec(
        services=services, profile=profile, toxiproxy=ToxiproxyMode.ON, players=PLAYERS
    )
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**ENV, **env}.items():
            patch.setenv(key, value)
        stack = Stack(spec, tmp / "stack")
        stack.start()  # the variables are read by the children at spawn
    try:
        state = stack.state
        assert state is not None
        address = state.backing_address("redis")
        assert address is not None
        client = redis.Redis.from_url(address)
        try:
            yield Platform(stack, state, client)
        finally:
            client.close()
    finally:
        stack.stop()


def login(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    """Bearer headers of a fresh session."""
    answer = client.post("/api/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def seeded(number: int) -> tuple[str, str]:
    """Username and password of seeded player ``number``."""
    return f"player{number:06d}", f"spike-{number % 64}"


def wait_for(check: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """``check()``'s first truthy answer within ``timeout`` seconds, else its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


@dataclass(frozen=True)
class Timed:
    status: int
    error: str | None
    retry_after: str | None
    elapsed_s: float


def burst(base_url: str, path: str, count: int, timeout: float = 10) -> list[Timed]:
    """``count`` GETs of ``path`` at once, each with its own never-issued session token."""
    start = threading.Barrier(count)

    def one(index: int) -> Timed:
        headers = {"Authorization": f"Bearer st_unknown-{index:04d}"}
        with httpx.Client(base_url=base_url, timeout=timeout) as client:
            start.wait()
            began = time.perf_counter()
            answer = client.get(path, headers=headers)
            elapsed = time.perf_counter() - began
        error = answer.json().get("error") if answer.status_code >= 400 else None
        return Timed(answer.status_code, error, answer.headers.get("retry-after"), elapsed)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


@contextmanager
def slowed_link(platform: Platform, link: str, latency_ms: int) -> Iterator[None]:
    """A Toxiproxy latency toxic on ``link`` (answers delayed) while the block runs."""
    with platform.toxiproxy() as toxiproxy:
        toxiproxy.add_toxic(link, "latency", {"latency": latency_ms}, name="gateway-test-slow")
        try:
            yield
        finally:
            toxiproxy.remove_toxic(link, "gateway-test-slow")
