"""Retry storms against 503s, and the hard deadline against a run that does not stop."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pyarrow.parquet as pq

from spikekit.load import LoadOptions, LoadRunner, LoadStatus
from spikekit.load.events import LoadEvents, LoadStarted
from tests.integration.load.conftest import FakeGateway, scenario_for

HOLD = {
    "model": "closed",
    "stages": [{"duration": 2, "players": 60}, {"duration": 6, "players": 60}],
}


def test_impatient_players_retry_503s(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    fake_gateway.set_mode(fail_rate=0.7, fail_paths=["/api/login"], retry_after=5)
    scenario = scenario_for(
        fake_gateway.url,
        HOLD,
        think_time={"min": 3, "max": 4},  # without retries: one login per player in 8 s
        impatience={"retry_on_failure": 1.0, "max_retries": 3},
    )
    with LoadRunner(scenario, fake_gateway.url, tmp_path, LoadOptions(workers=1)) as runner:
        result = runner.wait()
    assert result.status is LoadStatus.COMPLETED
    logins = fake_gateway.counts()["logins"]  # attempts that got past the 503s, per player
    attempts = fake_gateway.counts()["requests"]["POST /api/login"]
    assert attempts >= 2.0 * 60  # the retry storm: several attempts per player
    assert attempts > 1.5 * sum(logins.values())
    rows = pq.read_table(tmp_path / "timeseries.parquet").to_pylist()
    login = [r for r in rows if r["endpoint"] == "POST /api/login"]
    assert sum(r["failures"] for r in login) > 0.5 * attempts  # the 503s are failures
    assert sum(r["requests"] for r in login) == attempts


def test_the_hard_deadline_kills_a_run_that_does_not_stop(
    fake_gateway: FakeGateway, tmp_path: Path
) -> None:
    scenario = scenario_for(fake_gateway.url, HOLD)
    options = LoadOptions(
        workers=1, max_duration_s=2.0, stop_timeout_s=1.0, wrapup_s=1.0, kill_grace_s=1.0
    )
    runner = LoadRunner(scenario, fake_gateway.url, tmp_path, options)
    events = runner.events

    @events.started.add_listener
    def hang_the_master(started: LoadStarted) -> None:  # a hung master never stops on its own
        assert runner.master is not None
        os.kill(runner.master.pid, signal.SIGSTOP)

    with runner:
        refs = [p.ref for p in (runner.master, *runner.workers) if p is not None]
        result = runner.wait()
    assert result.status is LoadStatus.ABORTED and result.reason == "hard deadline"
    assert "load-master" in result.killed
    # the deadline counts from t = 0 (the processes' start-up before it is not bounded here)
    assert result.started_at is not None
    assert result.ended_at - result.started_at < runner.hard_deadline_s + 4.0
    assert not any(ref.is_alive() for ref in refs)


def test_events_are_plain_hooks() -> None:
    events = LoadEvents()
    seen: list[LoadStarted] = []
    events.started.add_listener(seen.append)
    events.started.fire(LoadStarted(1.0, 2, 3.0))
    events.started.remove_listener(seen.append)
    events.started.fire(LoadStarted(1.0, 2, 3.0))
    assert seen == [LoadStarted(1.0, 2, 3.0)]
