"""The recorder keeps each final second's histogram per endpoint (a late report's as one
more row of its second) and ``write_outputs`` puts them in ``latency_histograms.parquet``
after the parts the master wrote while the run went on."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikekit.load import histograms as hdr
from spikekit.load.outputs import write_outputs
from spikekit.load.protocol import EndpointSecond, WorkerSecond
from spikekit.load.recorder import Recorder
from spikekit.rundir import layout
from spikekit.rundir.second_histograms import PartWriter, parts_dir, read_latency_histograms

LOGIN, LOBBY = "POST /api/login", "GET /api/lobby"


def endpoint(latencies_ms: list[float]) -> EndpointSecond:
    return EndpointSecond(len(latencies_ms), 0, 0, hdr.encode(hdr.histogram_of_ms(latencies_ms)))


def report(worker: str, t: int, **endpoints: EndpointSecond) -> WorkerSecond:
    return WorkerSecond(worker, t, 5, 5, 10.0, 2**20, dict(endpoints))


def test_final_seconds_and_late_reports_become_rows_that_add_up(tmp_path: Path) -> None:
    recorder = Recorder(lambda t: 10, ["worker-0", "worker-1"], lateness_s=3.0)
    recorder.add(report("worker-0", 0, **{LOGIN: endpoint([10.0, 20.0])}))
    recorder.add(report("worker-1", 0, **{LOGIN: endpoint([30.0]), LOBBY: endpoint([1.0])}))
    recorder.due(elapsed_s=1.5)  # every worker reported second 0: final
    first = recorder.take_histograms()
    assert sorted((r.t, r.endpoint, int(r.count.sum())) for r in first) == [
        (0, LOBBY, 1),
        (0, LOGIN, 3),
    ]  # never a "*" row: the file adds the endpoints up
    assert recorder.take_histograms() == []  # handed over once
    PartWriter(tmp_path).write(first)

    recorder.add(report("worker-0", 1, **{LOBBY: endpoint([2.0, 2.0])}))
    recorder.due(elapsed_s=5.0)  # worker-1 lags: second 1 final by lateness
    recorder.add(report("worker-1", 1, **{LOBBY: endpoint([400.0])}))  # late
    assert recorder.late_reports == 1
    recorder.finish()
    write_outputs(recorder, tmp_path)  # the rest as a last part, then all merged

    assert (tmp_path / layout.LATENCY_HISTOGRAMS).is_file()
    assert not parts_dir(tmp_path).exists()
    histograms = read_latency_histograms(tmp_path)
    assert histograms is not None
    lobby = histograms.rows(LOBBY, 1, 2)
    assert lobby.t.tolist() == [1, 1]  # the second's row and the late one
    assert int(lobby.count.sum()) == 3
    # every latency of the run is in the file, as in the whole-run histogram
    everything = histograms.rows("*")
    assert int(everything.count.sum()) == recorder.totals["*"].get_total_count() == 7
    merged = np.zeros(hdr.new_histogram().counts_len, dtype=np.int64)
    np.add.at(merged, everything.bucket, everything.count)
    whole = np.ctypeslib.as_array(recorder.totals["*"].counts)
    assert np.array_equal(merged, whole)
