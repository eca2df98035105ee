"""A short real run: master + 2 workers, a few hundred players, the fake gateway."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq
import pytest

from spikekit.load import LoadEvents, LoadOptions, LoadResult, LoadRunner, LoadStatus
from spikekit.load import histograms as hdr
from spikekit.processes import ProcessRef
from spikekit.rundir.live import SecondSummary
from tests.integration.load.conftest import FakeGateway, scenario_for

CLOSED = {
    "model": "closed",
    "stages": [
        {"duration": 4, "players": 300},
        {"duration": 8, "players": 300},
        {"duration": 3, "players": 100},
    ],
}
ROUNDS = "POST /api/games/{game}/rounds"


@dataclass
class Outcome:
    result: LoadResult
    seconds: list[SecondSummary]
    counts: dict[str, Any]  # what the fake gateway received and acknowledged
    processes: list[ProcessRef]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory, module_gateway: FakeGateway) -> Outcome:
    gateway = module_gateway
    run_dir = tmp_path_factory.mktemp("run")
    seconds: list[SecondSummary] = []
    events = LoadEvents()
    events.second_elapsed.add_listener(seconds.append)
    scenario = scenario_for(gateway.url, CLOSED)
    runner = LoadRunner(scenario, gateway.url, run_dir, LoadOptions(workers=2), events)
    with runner:
        refs = [p.ref for p in (runner.master, *runner.workers) if p is not None]
        result = runner.wait()
    return Outcome(result, seconds, gateway.counts(), refs)


def test_the_run_completes_and_leaves_no_process(outcome: Outcome) -> None:
    assert outcome.result.status is LoadStatus.COMPLETED, outcome.result
    assert outcome.result.killed == [] and outcome.result.workers == 2
    assert len(outcome.processes) == 3
    assert not any(ref.is_alive() for ref in outcome.processes)
    assert [s.t for s in outcome.seconds] == list(range(len(outcome.seconds)))
    print(
        f"\nreq/s {outcome.result.totals.requests_per_s:.0f}, tracking {outcome.result.tracking}"
        f", cut {outcome.result.cut_requests}"
    )


def test_timeseries_has_per_second_rows_for_all_and_each_endpoint(outcome: Outcome) -> None:
    rows = pq.read_table(outcome.result.run_dir / "timeseries.parquet").to_pylist()
    star = [r for r in rows if r["endpoint"] == "*"]
    assert [r["t"] for r in star] == list(range(len(star))) and len(star) >= 15
    endpoints = {r["endpoint"] for r in rows}
    assert {"POST /api/login", "GET /api/lobby", ROUNDS, "POST /api/deposits"} <= endpoints
    assert not any("starburst" in e or "/d1" in e for e in endpoints)  # templated names
    # what the gateway received is what was recorded, and the requests cut (a player
    # killed with its request out, after stop_timeout) are counted apart
    received = sum(outcome.counts["requests"].values())
    assert sum(r["requests"] for r in star) + outcome.result.cut_requests == received
    assert sum(r["failures"] for r in star) == 0
    busy = [r for r in star if r["requests"] > 0]
    assert all(not math.isnan(r["p95_ms"]) and r["p50_ms"] <= r["p99_ms"] for r in busy)


def test_actual_players_track_the_target(outcome: Outcome) -> None:
    players = pq.read_table(outcome.result.run_dir / "players.parquet").to_pylist()
    assert max(p["actual_players"] for p in players) == 300
    hold = [p for p in players if 5 <= p["t"] < 12]
    assert all(abs(p["actual_players"] - p["target_players"]) <= 15 for p in hold)
    assert outcome.result.tracking.relative < 0.1


def test_histograms_decode_and_count_every_request(outcome: Outcome) -> None:
    encoded = json.loads((outcome.result.run_dir / "histograms.json").read_text())
    total = hdr.decode(encoded["*"]).get_total_count()
    assert total + outcome.result.cut_requests == sum(outcome.counts["requests"].values())
    assert hdr.decode(encoded[ROUNDS]).get_total_count() > 0


def test_acked_transactions_match_what_the_gateway_acknowledged(outcome: Outcome) -> None:
    lines = (outcome.result.run_dir / "acked_transactions.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    kinds = Counter(r["kind"] for r in records)
    assert dict(kinds) == {k: v for k, v in outcome.counts["acked"].items() if v}
    assert kinds["deposit"] > 0 and kinds["bet"] > 0
    assert outcome.result.acked_transactions == len(records)
    assert [r["ts"] for r in records] == sorted(r["ts"] for r in records)
    bet = next(r for r in records if r["kind"] == "bet")
    assert bet["tx_id"].startswith("a:") and isinstance(bet["balance_after"], int)


def test_generator_health_is_recorded(outcome: Outcome) -> None:
    rows = pq.read_table(outcome.result.run_dir / "generator.parquet").to_pylist()
    nodes = {r["labels"] for r in rows if r["metric"] == "generator_cpu_percent"}
    assert nodes == {"node=master", "node=worker-0", "node=worker-1"}
