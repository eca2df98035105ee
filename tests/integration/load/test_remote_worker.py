"""Locust's distributed mode: a run whose master waits for a worker started elsewhere.

The "elsewhere" is another process started here the way a user starts it on a second
machine (``spikekit worker --master HOST --master-port P``): the master holds the run
until both workers are in, both play, and the remote one leaves when the master ends.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from spikekit.load import LoadEvents, LoadOptions, LoadRunner, LoadStatus
from spikekit.ports import free_port
from spikekit.processes import spawn
from tests.integration.load.conftest import FakeGateway, scenario_for

LOAD = {
    "model": "closed",
    "stages": [{"duration": 3, "players": 40}, {"duration": 5, "players": 40}],
}


def test_a_worker_from_another_machine_joins_the_run(
    tmp_path: Path, fake_gateway: FakeGateway
) -> None:
    port = free_port()
    acks = tmp_path / "remote-acks.jsonl"
    options = LoadOptions(workers=1, remote_workers=1, master_port=port, startup_timeout_s=40)
    scenario = scenario_for(fake_gateway.url, LOAD)
    runner = LoadRunner(scenario, fake_gateway.url, tmp_path / "run", options, LoadEvents())
    with runner:
        argv = [sys.executable, "-m", "spikekit", "worker", "--master", "127.0.0.1"]
        argv += ["--master-port", str(port), "--acks-file", str(acks)]
        remote = spawn("remote-worker", argv, tmp_path / "remote-worker.log")
        try:
            result = runner.wait()
            remote.popen.wait(30)  # it follows its master out, as on another machine
        finally:
            remote.stop(timeout=5)
    assert result.status is LoadStatus.COMPLETED, (result, remote.log_tail())
    assert result.workers == 1  # the local ones; the master waited for the remote one too
    assert result.totals.requests > 0
    assert remote.popen.returncode == 0, remote.log_tail()
    remote_acks = [json.loads(line) for line in acks.read_text().splitlines()]
    local_acks = (tmp_path / "run" / "acked_transactions.jsonl").read_text().splitlines()
    assert remote_acks and local_acks  # both workers played (each logs what it saw acked)
