"""The services' own logs on a real stack: auth shedding a storm of logins writes
timestamped, rate-limited lines to ``logs/auth.log`` and a count of what it suppressed."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from spikekit.reference_platform.spec import ServiceSpec, StackSpec, ToxiproxyMode
from spikekit.reference_platform.supervisor import Stack
from spikekit.telemetry.prometheus import parse

SERVICES = (
    ServiceSpec(
        name="auth",
        app="spikekit.reference_platform.auth.entrypoints.app:create_app",
        needs=("postgres", "redis"),
    ),
    ServiceSpec(
        name="gateway",
        app="spikekit.reference_platform.gateway.app:create_app",
        needs=("redis", "auth"),
    ),
)
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
LOGINS = 1_200


def _login(client: httpx.Client, i: int) -> int:
    body = {"username": f"nobody{i:05d}", "password": "wrong-password"}
    return client.post("/api/login", json=body).status_code


def _overloaded(auth_url: str) -> float:
    snapshot = parse(httpx.get(f"{auth_url}/metrics", timeout=5).text)
    return snapshot.counters[("auth_logins", (("outcome", "overloaded"),))]


def test_a_storm_of_sheds_writes_a_bounded_number_of_lines_and_a_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPIKEKIT_AUTH_VERIFY_BOUND", "1")  # one check at a time: the rest shed
    monkeypatch.setenv("SPIKEKIT_AUTH_ADDRESS_ATTEMPTS", "1000000")
    spec = StackSpec(services=SERVICES, toxiproxy=ToxiproxyMode.OFF)
    stack = Stack(spec, tmp_path / "stack")
    with stack:
        auth_url = next(r.url for r in stack.replicas if r.spec.name == "auth")
        with (
            httpx.Client(base_url=stack.player_url, timeout=30) as client,
            ThreadPoolExecutor(16) as pool,
        ):
            statuses = list(pool.map(lambda i: _login(client, i), range(LOGINS)))
        shed = _overloaded(auth_url)
        assert statuses.count(503) >= 1_000 and shed >= 1_000, (shed, set(statuses))
    log = (tmp_path / "stack" / "logs" / "auth.log").read_text()
    lines = log.splitlines()
    assert re.search(rf"^{STAMP} auth/0 INFO started pid=\d+ port=\d+$", log, re.M), log
    sheds = [line for line in lines if re.match(rf"^{STAMP} auth/0 WARNING shed ", line)]
    assert sheds and "reason=overloaded" in sheds[0]
    suppressed = [
        int(m.group(1))
        for line in lines
        if (
            m := re.search(
                r"suppressed key=shed:overloaded .* suppressed (\d+) similar lines$", line
            )
        )
    ]
    print(f"{shed:.0f} sheds: {len(sheds)} lines written, {sum(suppressed)} suppressed")
    assert suppressed, log
    assert len(sheds) + sum(suppressed) == shed  # every shed written or counted, once
    assert len(lines) < 100  # bounded: 20 lines per 10 s window, not one per shed
