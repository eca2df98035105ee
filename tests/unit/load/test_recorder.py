"""HDR merge across workers and the per-second aggregation of the master's recorder."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from spikekit.load import histograms as hdr
from spikekit.load.outputs import write_outputs
from spikekit.load.protocol import EndpointSecond, WorkerSecond
from spikekit.load.recorder import Recorder, tracking_error
from spikekit.rundir.live import SecondSummary
from spikekit.rundir.tables import PlayersRow

LOGIN, ROUNDS = "POST /api/login", "POST /api/games/{game}/rounds"


def endpoint(latencies_ms: list[float], failures: int = 0, generator: int = 0) -> EndpointSecond:
    histogram = hdr.new_histogram()
    for value in latencies_ms:
        hdr.record_ms(histogram, value)
    return EndpointSecond(len(latencies_ms), failures, generator, hdr.encode(histogram))


def report(worker: str, t: int, players: int = 10, **endpoints: EndpointSecond) -> WorkerSecond:
    named = {LOGIN if k == "login" else ROUNDS: v for k, v in endpoints.items()}
    return WorkerSecond(worker, t, players + 5, players, 12.5, 50 * 2**20, named)


def test_wire_format_round_trips() -> None:
    original = report("worker-0", 3, login=endpoint([1.0, 2.0], failures=1))
    assert WorkerSecond.from_wire(original.to_wire()) == original


def test_percentiles_of_merged_workers_match_the_raw_samples() -> None:
    rng = random.Random(4)
    samples = [[rng.lognormvariate(3, 1) for _ in range(3000)] for _ in range(2)]
    recorder = Recorder(lambda t: 20, ["worker-0", "worker-1"])
    recorder.add(report("worker-0", 0, rounds=endpoint(samples[0])))
    recorder.add(report("worker-1", 0, rounds=endpoint(samples[1])))
    (summary,) = recorder.due(elapsed_s=1.5)
    everything = np.array(samples[0] + samples[1])
    for q, value in ((50, summary.p50_ms), (95, summary.p95_ms), (99, summary.p99_ms)):
        assert value == pytest.approx(np.percentile(everything, q), rel=0.01)
    assert summary.max_ms == pytest.approx(everything.max(), rel=0.001)
    assert summary.requests == 6000 and summary.actual_players == 20


def test_rows_per_second_per_endpoint_and_star() -> None:
    recorder = Recorder(lambda t: 20 + t, ["worker-0", "worker-1"])
    recorder.add(report("worker-0", 0, login=endpoint([10.0, 20.0], failures=1)))
    recorder.add(report("worker-1", 0, rounds=endpoint([5.0]), login=endpoint([30.0])))
    recorder.add(report("worker-0", 1))
    (first,) = recorder.due(elapsed_s=2.1)  # both reported second 0
    assert recorder.due(elapsed_s=2.1) == []  # second 1: worker-1 has not reported it yet
    recorder.add(report("worker-1", 1))
    (second,) = recorder.due(elapsed_s=2.2)
    rows = {(r.t, r.endpoint): r for r in recorder.timeseries}
    assert (rows[0, LOGIN].requests, rows[0, LOGIN].failures) == (3, 1)
    assert rows[0, LOGIN].p50_ms == pytest.approx(20.0, rel=0.001)
    assert (rows[0, "*"].requests, rows[0, "*"].failures) == (4, 1)
    assert rows[0, ROUNDS].requests == 1
    assert rows[1, "*"].requests == 0 and math.isnan(rows[1, "*"].p95_ms)
    assert (first.t, second.t, first.target_players, second.target_players) == (0, 1, 20, 21)
    assert recorder.totals["*"].get_total_count() == 4


def test_a_lagging_worker_does_not_hold_the_run_up_and_late_data_still_counts() -> None:
    recorder = Recorder(lambda t: 10, ["worker-0", "worker-1"], lateness_s=3.0)
    recorder.add(report("worker-0", 0, players=7, login=endpoint([1.0])))
    assert recorder.due(elapsed_s=3.9) == []
    (summary,) = recorder.due(elapsed_s=4.0)  # second 0 ended at 1 s, + 3 s lateness
    assert summary.actual_players == 7
    recorder.add(report("worker-1", 0, players=5, login=endpoint([2.0, 3.0], failures=2)))
    assert recorder.late_reports == 1
    star = next(r for r in recorder.timeseries if r.endpoint == "*")
    assert (star.requests, star.failures) == (3, 2)
    assert recorder.totals[LOGIN].get_total_count() == 3


def test_missing_reports_reuse_the_last_known_players() -> None:
    recorder = Recorder(lambda t: 10, ["worker-0", "worker-1"])
    recorder.add(report("worker-0", 0, players=4))
    recorder.add(report("worker-1", 0, players=6))
    recorder.add(report("worker-0", 1, players=5))
    summaries = recorder.finish()
    assert [s.actual_players for s in summaries] == [10, 11]


def test_generator_errors_are_not_failures_and_are_health() -> None:
    recorder = Recorder(lambda t: 1, ["worker-0"])
    recorder.add(report("worker-0", 0, login=endpoint([1.0], generator=3)))
    (summary,) = recorder.finish()
    assert (summary.failures, summary.generator_errors) == (0, 3)
    errors = [g for g in recorder.generator if g.metric == "generator_errors"]
    assert errors[0].value == 3.0 and errors[0].node == "worker-0"


def test_summary_json_round_trips_with_nan() -> None:
    recorder = Recorder(lambda t: 1, ["worker-0"])
    recorder.add(report("worker-0", 0))
    (summary,) = recorder.finish()
    data = json.loads(json.dumps(summary.to_json()))
    assert data["p95_ms"] is None
    back = SecondSummary.from_json(data)
    assert back.t == 0 and math.isnan(back.p95_ms)


def test_tracking_error() -> None:
    rows = [
        PlayersRow(0, 0, 0),
        PlayersRow(1, 100, 90),
        PlayersRow(2, 100, 110),
        PlayersRow(3, 0, 5),
    ]
    error = tracking_error(rows, until_t=3)
    assert (error.mean_abs, error.max_abs, error.seconds) == (10.0, 10, 2)
    assert error.relative == pytest.approx(0.1)


def test_outputs_follow_the_run_directory_format(tmp_path: Path) -> None:
    recorder = Recorder(lambda t: 10, ["worker-0"])
    recorder.add(report("worker-0", 0, login=endpoint([10.0, 12.0])))
    recorder.add(report("worker-0", 1, rounds=endpoint([4.0])))
    recorder.add_master_sample(0, 3.0, 2**20)
    recorder.finish()
    write_outputs(recorder, tmp_path)
    series = pq.read_table(tmp_path / "timeseries.parquet")
    assert series.schema.names == [
        "t", "endpoint", "requests", "failures", "p50_ms", "p95_ms", "p99_ms", "max_ms",
    ]  # fmt: skip
    assert str(series.schema.field("t").type) == "int64"
    players = pq.read_table(tmp_path / "players.parquet").to_pylist()
    assert players == [
        {"t": 0, "target_players": 10, "actual_players": 10},
        {"t": 1, "target_players": 10, "actual_players": 10},
    ]
    generator = pq.read_table(tmp_path / "generator.parquet").to_pylist()
    assert {"t": 0, "service": "loadgen", "metric": "generator_cpu_percent",
            "labels": "node=master", "value": 3.0} in generator  # fmt: skip
    encoded = json.loads((tmp_path / "histograms.json").read_text())
    assert set(encoded) == {"*", LOGIN, ROUNDS}
    assert hdr.decode(encoded["*"]).get_total_count() == 3


def test_a_lost_workers_last_players_are_not_carried_on() -> None:
    """A killed worker's last count must not stay in the actual players: once its users are
    spread over the workers left, it would be counted twice."""
    recorder = Recorder(lambda t: 50, ["worker-0", "worker-1"])
    for t in range(3):
        recorder.add(report("worker-0", t, players=25))
        recorder.add(report("worker-1", t, players=25))
    assert [r.actual_players for r in recorder.due(4.5)] == [50, 50, 50]
    recorder.add(report("worker-0", 3, players=25))  # worker-1 died after second 2
    assert recorder.drop_worker("worker-1") and recorder.lost == ["worker-1"]
    for t in range(4, 7):
        recorder.add(report("worker-0", t, players=50))  # its users spread to worker-0
    rows = recorder.due(7.5)
    assert [r.actual_players for r in rows] == [25, 50, 50, 50]
    assert recorder.all_reported(6)  # no longer waits for the lost worker
    late = report("worker-1", 3, players=25)
    recorder.add(late)  # a late report still counts in the requests, not as a player
    assert "worker-1" not in recorder.workers
    assert not recorder.drop_worker("worker-1")


def test_a_lagging_worker_keeps_its_last_count() -> None:
    recorder = Recorder(lambda t: 20, ["worker-0", "worker-1"], lateness_s=1.0)
    recorder.add(report("worker-0", 0, players=10))
    recorder.add(report("worker-1", 0, players=10))
    recorder.add(report("worker-0", 1, players=10))
    assert [r.actual_players for r in recorder.due(3.5)] == [20, 20]


def test_a_late_report_for_an_endpoint_the_final_second_lacked_gets_a_row() -> None:
    recorder = Recorder(lambda t: 10, ["worker-0", "worker-1"], lateness_s=3.0)
    recorder.add(report("worker-0", 0, login=endpoint([1.0])))
    recorder.due(elapsed_s=4.0)  # second 0 is final without worker-1: no rounds row in it
    recorder.add(report("worker-1", 0, rounds=endpoint([5.0, 7.0], failures=1)))
    rows = {(r.t, r.endpoint): r for r in recorder.timeseries}
    assert (rows[0, ROUNDS].requests, rows[0, ROUNDS].failures) == (2, 1)
    assert rows[0, ROUNDS].max_ms == pytest.approx(7.0, rel=0.01)  # only its own latencies
    assert (rows[0, "*"].requests, rows[0, "*"].failures) == (3, 1)
    assert recorder.totals[ROUNDS].get_total_count() == 2
    assert recorder.totals["*"].get_total_count() == 3
    recorder.add(report("worker-1", 0, rounds=endpoint([9.0])))  # that row exists now
    assert rows[0, ROUNDS].requests == 3 and rows[0, "*"].requests == 4
    assert len(recorder.timeseries) == 3 and recorder.late_reports == 2


def test_the_late_row_is_written_with_its_second(tmp_path: Path) -> None:
    recorder = Recorder(lambda t: 10, ["worker-0", "worker-1"], lateness_s=1.0)
    recorder.add(report("worker-0", 0, login=endpoint([1.0])))
    recorder.add(report("worker-0", 1, login=endpoint([1.0])))
    recorder.due(elapsed_s=3.5)  # seconds 0 and 1 final
    recorder.add(report("worker-1", 0, rounds=endpoint([5.0])))
    write_outputs(recorder, tmp_path)
    rows = pq.read_table(tmp_path / "timeseries.parquet").to_pylist()
    assert [r["t"] for r in rows] == sorted(r["t"] for r in rows)
    assert {(r["t"], r["endpoint"]) for r in rows if r["t"] == 0} == {
        (0, LOGIN),
        (0, "*"),
        (0, ROUNDS),
    }


def test_requests_cut_are_counted_apart_per_endpoint() -> None:
    recorder = Recorder(lambda t: 10, ["worker-0"])
    cut = report("worker-0", 0, login=endpoint([1.0]))
    cut.cut = {ROUNDS: 2}
    recorder.add(WorkerSecond.from_wire(cut.to_wire()))  # cut travels on the wire
    late = report("worker-0", 0)
    late.cut = {ROUNDS: 1, LOGIN: 1}
    recorder.due(elapsed_s=1.5)
    recorder.add(late)  # a late report's cut counts too
    assert recorder.cut == {ROUNDS: 3, LOGIN: 1} and recorder.cut_requests == 4
    assert sum(r.requests for r in recorder.timeseries if r.endpoint == "*") == 1
