"""``load/live.jsonl``: typed lines, the runner's tail and the master's writer agree."""

from __future__ import annotations

import math
from pathlib import Path

from spikekit.rundir.live import (
    Ended,
    Listening,
    LiveTail,
    LiveWriter,
    SecondSummary,
    Started,
    WorkerLost,
    parse_line,
)


def test_live_tail_returns_only_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    tail = LiveTail(path)
    assert tail.read() == []
    path.write_text('{"event": "started", "started_at": 1, "workers": 2}\n{"event": "wor')
    assert tail.read() == [Started(started_at=1, workers=2)]
    with path.open("a") as handle:
        handle.write('ker_lost", "worker": "worker-1", "t": 0, "workers_left": 1}\n')
    assert tail.read() == [WorkerLost(worker="worker-1", t=0, workers_left=1)]


def test_what_the_writer_emits_the_tail_reads(tmp_path: Path) -> None:
    path = tmp_path / "load" / "live.jsonl"
    second = SecondSummary(
        t=0,
        target_players=5,
        actual_players=4,
        requests=3,
        failures=1,
        generator_errors=0,
        p50_ms=10.0,
        p95_ms=20.0,
        p99_ms=math.nan,
        max_ms=30.0,
        generator_cpu_max=12.0,
        endpoints={"GET /api/lobby": (3, 1, math.nan)},
    )
    lines = [
        Listening(port=5557, expect_workers=2),
        Started(started_at=1.5, workers=2),
        second,
        WorkerLost(worker="worker-1", pid=42, t=3.2, last_t=2, workers_left=1),
        Ended(status="completed", files=["a"], late_reports=1, lost_workers=["worker-1"]),
    ]
    writer = LiveWriter(path)
    for line in lines:
        writer.emit(line)
    writer.close()
    assert writer.error is None
    read = LiveTail(path).read()
    assert [type(line) for line in read] == [type(line) for line in lines]
    back = read[2]
    assert isinstance(back, SecondSummary)
    assert math.isnan(back.p99_ms) and math.isnan(back.endpoints["GET /api/lobby"][2])
    assert back.to_json()["p99_ms"] is None


def test_lines_of_another_event_are_ignored() -> None:
    assert parse_line('{"event": "something_new", "x": 1}') is None
