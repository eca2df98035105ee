"""A small real stack per module: PostgreSQL, Redis, Toxiproxy, the wallet, three studios
and the router, with short timeouts so that the faults play out in seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from spikekit.reference_platform.common.service_auth import GATEWAY, ROUTER
from spikekit.reference_platform.common.signed_httpx import SignedAuth
from spikekit.reference_platform.seed import SeedPlan, seed_accounts
from spikekit.reference_platform.spec import Profile, ServiceSpec, StackSpec, ToxiproxyMode
from spikekit.reference_platform.supervisor import Stack

BALANCE = 100_000
PLAYERS = 20
FAST = {
    "SPIKEKIT_PROVIDER_WALLET_TIMEOUT_S": "0.3",
    "SPIKEKIT_PROVIDER_WALLET_ATTEMPTS": "3",
    "SPIKEKIT_PROVIDER_RECONCILE_INTERVAL_S": "0.3",
    # long enough that the breaker test sees it open after its 12 rounds on a loaded CI
    # machine (at 1.5 s it had half-opened by then once), short for the recovery waits
    "SPIKEKIT_ROUTER_BREAKER_OPEN_S": "4",
    "SPIKEKIT_ROUTER_BREAKER_THRESHOLD": "3",
    "SPIKEKIT_PROVIDER_THINK_MS": "1",
}
STUDIOS = ("aurora", "blitz", "cobalt")
APP = "spikekit.reference_platform.{}:create_app"


def router_stack(profile: Profile) -> StackSpec:
    services = [
        ServiceSpec(
            name="wallet",
            app=APP.format("wallet.entrypoints.app"),
            needs=("postgres", "redis"),
        ),
        *(
            ServiceSpec(name=f"provider-{s}", app=APP.format("providers.app"), needs=("wallet",))
            for s in STUDIOS
        ),
        ServiceSpec(
            name="router",
            app=APP.format("router.app"),
            needs=("redis", *(f"provider-{s}" for s in STUDIOS)),
        ),
    ]
    return StackSpec(services=tuple(services), profile=profile, toxiproxy=ToxiproxyMode.AUTO)


@dataclass
class Platform:
    stack: Stack
    dsn: str
    urls: dict[str, str]

    @property
    def router(self) -> str:
        return self.urls["router"]

    def provider(self, studio: str) -> str:
        return self.urls[f"provider-{studio}"]

    @property
    def as_gateway(self) -> SignedAuth:
        """Signs a launch or a round at the router as the gateway does."""
        return SignedAuth(self.stack.keys.signer(GATEWAY))

    @property
    def as_router(self) -> SignedAuth:
        """Signs a launch or a round at a studio as the router does."""
        return SignedAuth(self.stack.keys.signer(ROUTER))

    def rows(self, sql: str, *args: object) -> list[Any]:
        async def fetch() -> list[Any]:
            conn = await asyncpg.connect(self.dsn, timeout=10)
            try:
                return list(await conn.fetch(sql, *args, timeout=30))
            finally:
                await conn.close()

        return asyncio.run(fetch())

    def balance(self, player: str) -> int:
        answer = httpx.get(
            f"{self.urls['wallet']}/v1/players/{player}/balance",
            timeout=10,
            auth=self.as_gateway,  # as the gateway reads it
        )
        answer.raise_for_status()
        return int(answer.json()["balance"])

    def metric(self, service: str, name: str, **labels: str) -> float:
        """The sum of the samples of ``name`` whose labels include ``labels``."""
        text = httpx.get(f"{self.urls[service]}/metrics", timeout=10).text
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            head, value = line.rsplit(" ", 1)
            if all(f'{k}="{v}"' in head for k, v in labels.items()):
                total += float(value)
        return total


def start_platform(
    profile: Profile, state_dir: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Platform]:
    with pytest.MonkeyPatch.context() as env:
        for key, value in {**FAST, **(extra_env or {})}.items():
            env.setenv(key, value)
        with Stack(router_stack(profile), state_dir) as stack:
            assert stack.postgres is not None and stack.state is not None
            dsn = stack.postgres.dsn
            plan = SeedPlan(players=PLAYERS, min_balance=BALANCE, max_balance=BALANCE)
            asyncio.run(seed_accounts(dsn, plan))
            urls = {s.service: s.url for s in stack.state.services}
            yield Platform(stack, dsn, urls)


def wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()
