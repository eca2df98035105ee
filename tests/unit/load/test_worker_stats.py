"""A worker's per-second statistics: what the request hook records is what reaches the master."""

from __future__ import annotations

import csv
import errno
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spikekit.load import histograms as hdr
from spikekit.load.context import WorkerContext
from spikekit.load.http import RequestCut
from spikekit.load.pacing import LATE_MS
from spikekit.load.players import PlayerPicker
from spikekit.load.protocol import SECOND_MESSAGE, WorkerSecond
from spikekit.load.worker_stats import RawSampleLog, WorkerStats
from spikekit.rundir.acks import AckLog
from tests.unit.load.conftest import CLOSED, scenario

T0 = 1_000.0


class FakeRunner:
    """The two things WorkerStats uses of Locust's WorkerRunner."""

    user_count = 3

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def send_message(self, kind: str, data: Any) -> None:
        self.sent.append((kind, data))


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[WorkerContext]:
    acks, unacked = AckLog(tmp_path / "acks-worker-0.jsonl"), AckLog(tmp_path / "unacked.jsonl")
    yield WorkerContext(
        scenario=scenario(CLOSED),
        worker_index=0,
        workers_total=1,
        started_at=T0,
        acks=acks,
        unacked=unacked,
        picker=PlayerPicker(1, 100),
    )
    acks.close()
    unacked.close()


def test_a_second_carries_counts_and_the_histogram_of_its_requests(
    ctx: WorkerContext,
) -> None:
    completions = iter([T0 + 0.5] * 500 + [T0 + 0.6, T0 + 0.7, T0 + 1.2])
    runner = FakeRunner()
    worker = WorkerStats(runner, "worker-0", ctx, clock=lambda: next(completions))
    rng = random.Random(3)
    rounds = [rng.lognormvariate(2, 1) for _ in range(500)]
    for value in rounds[:-1]:
        worker.on_request("POST", "/api/games/{game}/rounds", value)
    worker.on_request("POST", "/api/games/{game}/rounds", rounds[-1], exception=ValueError("500"))
    worker.on_request("POST", "/api/login", 7.0, exception=OSError(errno.EMFILE, "too many"))
    worker.on_request("POST", "/api/login", 9.0)
    worker.on_request("GET", "/api/lobby", 4.0)  # completes in second 1

    worker.send_due(T0 + 1.05)
    assert [kind for kind, _ in runner.sent] == [SECOND_MESSAGE]
    second = WorkerSecond.from_wire(runner.sent[0][1])
    assert second.t == 0 and second.users == 3
    endpoint = second.endpoints["POST /api/games/{game}/rounds"]
    assert (endpoint.requests, endpoint.failures, endpoint.generator_errors) == (500, 1, 0)
    expected = hdr.new_histogram()
    for value in rounds:
        hdr.record_ms(expected, value)
    assert endpoint.histogram == hdr.encode(expected)
    login = second.endpoints["POST /api/login"]
    assert (login.requests, login.failures, login.generator_errors) == (1, 0, 1)
    assert hdr.decode(login.histogram).get_total_count() == 1  # generator errors left out
    assert "GET /api/lobby" not in second.endpoints  # second 1 is not over yet


def test_a_paced_request_is_recorded_from_when_its_action_was_due(
    ctx: WorkerContext, tmp_path: Path
) -> None:
    raw = RawSampleLog(tmp_path / "raw.csv")
    runner = FakeRunner()
    worker = WorkerStats(runner, "worker-0", ctx, raw, clock=lambda: T0 + 0.5)
    rounds = "/api/games/{game}/rounds"
    worker.on_request("POST", rounds, 20.0, context={LATE_MS: 1500.0})  # sent 1.5 s late
    worker.on_request("POST", rounds, 30.0, context={LATE_MS: 0.0})  # a retry: its own send
    worker.on_request("POST", rounds, 40.0, context={})  # a player that is not paced
    raw.close()

    worker.send_due(T0 + 1.05)
    histogram = hdr.decode(
        WorkerSecond.from_wire(runner.sent[0][1]).endpoints[f"POST {rounds}"].histogram
    )
    assert histogram.get_total_count() == 3
    assert histogram.get_max_value() == histogram.get_highest_equivalent_value(1_520_000)
    with raw.path.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [(float(r["latency_ms"]), float(r["service_ms"])) for r in lines] == [
        (1520.0, 20.0),
        (30.0, 30.0),
        (40.0, 40.0),
    ]


def test_a_request_cut_is_counted_apart_not_as_a_request(
    ctx: WorkerContext, tmp_path: Path
) -> None:
    raw = RawSampleLog(tmp_path / "raw.csv")
    runner = FakeRunner()
    worker = WorkerStats(runner, "worker-0", ctx, raw, clock=lambda: T0 + 0.5)
    rounds = "POST /api/games/{game}/rounds"
    worker.on_request("POST", "/api/games/{game}/rounds", 3.0)
    worker.on_request("POST", "/api/games/{game}/rounds", 2.0, exception=RequestCut("http://x/r"))
    raw.close()
    worker.send_due(T0 + 1.05)
    second = WorkerSecond.from_wire(runner.sent[0][1])
    endpoint = second.endpoints[rounds]
    assert (endpoint.requests, endpoint.failures, endpoint.generator_errors) == (1, 0, 0)
    assert hdr.decode(endpoint.histogram).get_total_count() == 1
    assert second.cut == {rounds: 1}
    with raw.path.open() as file:
        assert [row["outcome"] for row in csv.DictReader(file)] == ["ok", "cut"]


def test_a_request_completing_after_a_clock_step_back_is_never_dropped(
    ctx: WorkerContext,
) -> None:
    now = [T0 + 1.5]
    runner = FakeRunner()
    worker = WorkerStats(runner, "worker-0", ctx, clock=lambda: now[0])
    worker.on_request("GET", "/api/lobby", 1.0)
    worker.send_due(T0 + 2.05)  # seconds 0 and 1 sent
    now[0] = T0 + 0.9  # the wall clock stepped back into second 0
    worker.on_request("GET", "/api/lobby", 2.0)
    worker.send_due(T0 + 3.05)
    seconds = [WorkerSecond.from_wire(data) for _, data in runner.sent]
    assert [s.t for s in seconds] == [0, 1, 2]
    assert [s.endpoints["GET /api/lobby"].requests for s in seconds[1:]] == [1, 1]
