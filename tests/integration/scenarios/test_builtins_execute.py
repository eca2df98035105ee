"""Every built-in scenario, briefly executed against one real reference platform.

For each built-in: every fault of its schedule is built for the running stack and its
``check()`` resolves the target (links, services, tables, the busiest provider), and a
flood must name a stream that exists on the platform; none is injected. Then the
scenario's own personas play through the real Locust load engine against the gateway:
the whole shape compressed into a few seconds (``duration_scale``) at about 30 players
(``scale``), logging in as the stack's seeded accounts.

Compressed, every scenario starts with a login storm (30 players log in within a
second or two), and the resilient platform sheds what exceeds auth's bounded password
checks with 503 + Retry-After, as it would at the real scale: a third to a half of the
login attempts fail and are retried. So failed logins and registrations are allowed,
but each must have been shed by the platform (the gateway's 5xx, auth's rate limit),
none may fail for a wrong identity, and (nearly) every player must get in; past the
login the platform must answer. Players who got to play (a deposit or a round
answered) must have left acknowledged transactions, exactly one per deposit.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from spikekit.chaos.context import ChaosContext
from spikekit.chaos.registry import scheduled_faults
from spikekit.load.options import LoadOptions
from spikekit.load.result import LoadStatus
from spikekit.load.runner import LoadRunner
from spikekit.reference_platform.supervisor import Stack
from spikekit.scenarios import Scenario, builtin_names, load_scenario
from spikekit.scenarios.faults import QueueFlood
from spikekit.scenarios.shape import OpenShape
from spikekit.scenarios.stages import OpenLoad
from tests.integration.scenarios.conftest import ACCOUNTS, service_url

#: The whole shape of a scenario is compressed into this many seconds of load.
SHAPE_S = 5.0
#: Players at the peak (closed model) or sessions started during the run (open model).
PLAYERS = 30
#: Seeds of the brief runs, one per built-in (other runs here keep the scenarios' own).
SEED_BASE = 1000
AUTH_ENDPOINTS = frozenset({"POST /api/login", "POST /api/register"})
#: Failures allowed on the other endpoints (the platform is healthy: none expected).
MAX_OTHER_FAILURE_SHARE = 0.05


def brief(scenario: Scenario, seed: int) -> Scenario:
    """The scenario with its whole shape in ``SHAPE_S`` s and about ``PLAYERS`` players.

    Each run gets a seed of its own: new registrants' usernames derive from the seed, and
    a seed used again on the same platform would register taken names (409).
    """
    duration_scale = SHAPE_S / scenario.duration_s
    if isinstance(scenario.load, OpenLoad):
        shape = OpenShape(scenario.load, duration_scale=duration_scale)
        scale = PLAYERS / shape.curve.integral(0, SHAPE_S)  # sessions started in the run
    else:
        scale = PLAYERS / scenario.load.peak
    data = scenario.model_dump()
    data["population"]["accounts"] = ACCOUNTS
    data.update(scale=scale, duration_scale=duration_scale, seed=seed)
    return Scenario.model_validate(data)


def _is_login_error(metric: str, labels: dict[str, str]) -> bool:
    route = labels.get("route", "")
    return metric == "http_request_errors_total" and route.endswith(("/login", "/register"))


def counters(stack: Stack) -> dict[str, float]:
    """auth's login outcomes and the gateway's 5xx answers to logins and registrations."""
    found: dict[str, float] = {"gateway_5xx": 0.0}
    for service in ("auth", "gateway"):
        text = httpx.get(f"{service_url(stack, service)}/metrics", timeout=10).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "auth_logins_total":
                    found[sample.labels["outcome"]] = sample.value
                elif service == "gateway" and _is_login_error(sample.name, sample.labels):
                    found["gateway_5xx"] += sample.value
    return found


def check_faults(scenario: Scenario, stack: Stack) -> None:
    ctx = ChaosContext.for_platform(stack.state_dir)
    faults = scheduled_faults(scenario, ctx)
    assert len(faults) == len(scenario.faults)
    for entry in faults:
        entry.fault.check()
        spec = entry.fault.spec
        if isinstance(spec, QueueFlood):  # its check() resolves nothing: look ourselves
            with redis.Redis.from_url(ctx.redis_address(), socket_timeout=5) as client:
                kind = client.type(spec.stream)
            assert kind == b"stream", (
                f"{scenario.name}: {entry.fault.fault_id} floods {spec.stream!r}, "
                f"which is no stream of the platform ({kind!r})"
            )


def money(rows: list[dict[str, Any]], endpoint: str) -> int:
    """Requests to ``endpoint`` that did not fail (402 is an answer, not a failure)."""
    return sum(r["requests"] - r["failures"] for r in rows if r["endpoint"] == endpoint)


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_faults_resolve_and_its_players_play(
    name: str, stack: Stack, tmp_path: Path
) -> None:
    scenario = brief(load_scenario(name), seed=SEED_BASE + builtin_names().index(name))
    check_faults(scenario, stack)

    before = counters(stack)
    options = LoadOptions(
        workers=1,
        max_duration_s=SHAPE_S + 4.0,  # a safety net: the shape ends first
        connections_per_worker=64,
        stop_timeout_s=2.0,
        grace_s=2.0,
    )
    with LoadRunner(scenario, service_url(stack, "gateway"), tmp_path, options) as runner:
        result = runner.wait()
    delta = {k: v - before.get(k, 0.0) for k, v in counters(stack).items()}

    assert result.status is LoadStatus.COMPLETED, (result.status, result.reason)
    assert not result.killed, result.killed
    assert result.totals.peak_actual_players >= PLAYERS // 2, result.totals
    rows = pq.read_table(tmp_path / "timeseries.parquet").to_pylist()
    assert sum(r["requests"] for r in rows if r["endpoint"] == "*") > 0, f"{name}: no request"

    # logins: the right identities, (nearly) every player in, failed attempts all shed
    auth = [r for r in rows if r["endpoint"] in AUTH_ENDPOINTS]
    auth_failed = sum(r["failures"] for r in auth)
    shed = delta["gateway_5xx"] + delta["rate_limited"]
    assert delta["bad_password"] == delta["unknown"] == 0, delta
    assert delta["ok"] >= result.totals.peak_actual_players * 0.8, (delta, result.totals)
    assert auth_failed <= shed, f"{name}: {auth_failed} logins failed, {shed:.0f} were shed"

    # past the login, the platform answers
    others = [r for r in rows if r["endpoint"] != "*" and r["endpoint"] not in AUTH_ENDPOINTS]
    other_requests = sum(r["requests"] for r in others)
    other_failed = sum(r["failures"] for r in others)
    assert other_requests > 0, f"{name}: nobody got past the login"
    assert other_failed <= MAX_OTHER_FAILURE_SHARE * other_requests, (
        f"{name}: {other_failed} of {other_requests} requests past the login failed"
    )

    # every deposit answered 202 is logged as acknowledged; bets at most once per round
    acked = Counter(
        json.loads(line)["kind"]
        for line in (tmp_path / "acked_transactions.jsonl").read_text().splitlines()
    )
    deposits, rounds = (
        money(rows, "POST /api/deposits"),
        money(rows, "POST /api/games/{game}/rounds"),
    )
    assert acked["deposit"] == deposits, (acked, deposits)
    assert acked["bet"] <= rounds and acked["win"] <= acked["bet"], (acked, rounds)
    assert acked["withdrawal"] <= money(rows, "POST /api/withdrawals"), acked
    if deposits + rounds:
        assert result.acked_transactions == sum(acked.values()) > 0
    print(
        f"\n{name}: scale {scenario.scale:.5f}, duration x{scenario.duration_scale:.5f}, "
        f"peak {result.totals.peak_actual_players} players; {delta['ok']:.0f} logins ok, "
        f"{auth_failed} failed (gateway 5xx {delta['gateway_5xx']:.0f}); "
        f"{other_requests} requests past the login, {other_failed} failed;"
        f" acked {dict(acked)}"
    )
