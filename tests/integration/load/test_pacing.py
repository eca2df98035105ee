"""Coordinated omission, for real: Locust players against a gateway that stalls for 2 s.

The same 30 players play twice against the fake gateway, which holds every request arriving
between t = 4 s and t = 6 s until the stall ends. Their actions come every 0.25-0.35 s:

- **paced** (``think_time.pacing: true``): each action is due at the previous one's due time
  plus the interval. A player held by the stall owes about 5 actions when it ends; it plays
  them back to back, each recorded from when it was due. The requests due during the stall
  are all there, each with a latency reaching to the stall's end;
- **not paced**: each player sends one request into the stall, waits for it, then thinks. Its
  next actions are simply not sent during the stall: fewer requests complete, and none is
  measured from when it would have started.

Both runs log raw samples (``time`` of completion, corrected ``latency_ms``, ``service_ms``),
so ``due = time - latency`` is when each request's action was due. Margins are wide (the
expected ratios are about 5 and 2) so that a loaded 2-core machine does not decide.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from spikekit.load import LoadEvents, LoadOptions, LoadRunner, LoadStatus
from spikekit.load.events import LoadStarted
from tests.integration.load.conftest import FakeGateway, scenario_for

PLAYERS = 30
STALL_AT, STALL_S = 4.0, 2.0
STALL_END = STALL_AT + STALL_S
LOAD = {
    "model": "closed",
    "stages": [{"duration": 1, "players": PLAYERS}, {"duration": 9, "players": PLAYERS}],
}


@dataclass(frozen=True)
class Sample:
    done: float  # run seconds of completion (the second it is recorded in)
    latency_ms: float  # as recorded: from when the action was due, for a paced first request
    service_ms: float  # from the send, as Locust measured it

    @property
    def due(self) -> float:
        return self.done - self.latency_ms / 1000.0

    @property
    def late_ms(self) -> float:
        return self.latency_ms - self.service_ms


@dataclass
class Played:
    samples: list[Sample]
    p99_ms: dict[int, float]  # per run second, endpoint "*"

    def due_in(self, start: float, end: float) -> list[Sample]:
        return [s for s in self.samples if start <= s.due < end]

    def completed_in(self, start: float, end: float) -> int:
        return sum(start <= s.done < end for s in self.samples)


def play(gateway: FakeGateway, run_dir: Path, *, pacing: bool) -> Played:
    scenario = scenario_for(
        gateway.url,
        LOAD,
        think_time={"min": 0.25, "max": 0.35, "pacing": pacing},
        impatience={"refresh_on_slow": 0.0, "retry_on_failure": 0.0},
    )
    events = LoadEvents()

    @events.started.add_listener
    def stall_the_gateway(started: LoadStarted) -> None:
        gateway.stall(started.started_at + STALL_AT, STALL_S)

    options = LoadOptions(workers=1, raw_samples=True, stop_timeout_s=3.0, grace_s=5.0)
    with LoadRunner(scenario, gateway.url, run_dir, options, events) as runner:
        result = runner.wait()
        raw = runner.raw_samples_path(0)
    assert result.status is LoadStatus.COMPLETED, result
    assert result.started_at is not None
    samples = []
    with raw.open(encoding="utf-8", newline="") as handle:
        for line in csv.DictReader(handle):
            assert line["outcome"] == "ok", line
            done = float(line["time"]) - result.started_at
            samples.append(Sample(done, float(line["latency_ms"]), float(line["service_ms"])))
    rows = pq.read_table(run_dir / "timeseries.parquet").to_pylist()
    p99 = {int(r["t"]): r["p99_ms"] for r in rows if r["endpoint"] == "*" and r["requests"]}
    return Played(samples, p99)


@pytest.fixture(scope="module")
def runs(
    module_gateway: FakeGateway, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Played, Played]:
    paced = play(module_gateway, tmp_path_factory.mktemp("paced"), pacing=True)
    unpaced = play(module_gateway, tmp_path_factory.mktemp("unpaced"), pacing=False)
    return paced, unpaced


def test_paced_requests_due_during_the_stall_are_measured_to_its_end(
    runs: tuple[Played, Played],
) -> None:
    paced, unpaced = runs
    due = paced.due_in(STALL_AT, STALL_END - 0.5)
    sent = unpaced.due_in(STALL_AT, STALL_END - 0.5)  # not corrected: due = sent
    print(f"\ndue in the stall: paced {len(due)}, not paced {len(sent)} (sent)")
    assert len(due) >= 2 * len(sent) and len(due) >= 2 * PLAYERS  # about 150 vs 30
    short = [s for s in due if s.done < STALL_END - 0.05]
    assert not short, short[:5]  # each one's latency reaches to the stall's end
    late = [s for s in paced.samples if s.late_ms >= 500]
    assert len(late) >= PLAYERS  # the actions the stall made late: sent after being due
    assert all(s.late_ms == 0 for s in unpaced.samples)  # nothing corrected


def test_the_stalled_seconds_p99_shows_the_stall_and_more_requests_complete_paced(
    runs: tuple[Played, Played],
) -> None:
    paced, unpaced = runs
    stalled = range(int(STALL_AT), int(STALL_END) + 2)
    worst = max(paced.p99_ms.get(t, 0.0) for t in stalled)
    print(f"\np99 of seconds {list(stalled)}: paced {[paced.p99_ms.get(t) for t in stalled]}")
    assert worst >= 1500
    slow_paced = sum(s.latency_ms >= 1000 for s in paced.samples)
    slow_unpaced = sum(s.latency_ms >= 1000 for s in unpaced.samples)
    print(f"requests at 1 s or more: paced {slow_paced}, not paced {slow_unpaced}")
    assert slow_paced >= 1.5 * slow_unpaced  # about 4 per player vs 1
    window = (STALL_AT, STALL_END + 2.0)
    completed = paced.completed_in(*window), unpaced.completed_in(*window)
    print(f"completed in t = {window}: paced {completed[0]}, not paced {completed[1]}")
    assert completed[0] >= 1.3 * completed[1]  # about 2x: paced players keep their schedule


def test_paced_players_are_on_schedule_while_the_platform_keeps_up(
    runs: tuple[Played, Played],
) -> None:
    paced, _ = runs
    calm = [s for s in paced.samples if 1.5 <= s.done < STALL_AT]
    assert len(calm) >= 2 * PLAYERS
    on_time = sum(s.late_ms < 300 for s in calm)
    assert on_time >= 0.9 * len(calm), sorted(s.late_ms for s in calm)[-10:]
