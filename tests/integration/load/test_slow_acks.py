"""A slow success the impatient player refreshed was still acknowledged to it.

The fake gateway holds every request for 1.5 s from t = 3 s; the players find a request
slow after 0.5 s and always refresh it. A held round is answered (the platform played
it) and then played again by the refresh: both rounds were acknowledged to the player,
and the acknowledgements the players wrote are exactly those the gateway sent.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from spikekit.load import LoadEvents, LoadOptions, LoadRunner, LoadStatus
from spikekit.load.events import LoadStarted
from tests.integration.load.conftest import running_gateway, scenario_for

LOAD = {
    "model": "closed",
    "stages": [{"duration": 1, "players": 30}, {"duration": 7, "players": 30}],
}
IMPATIENT = {"refresh_on_slow": 1.0, "retry_on_failure": 0.0, "slow_threshold": 0.5}


def test_slow_answers_that_were_refreshed_are_acknowledged_exactly(tmp_path: Path) -> None:
    with running_gateway(tmp_path) as gateway:
        scenario = scenario_for(
            gateway.url, LOAD, think_time={"min": 0.1, "max": 0.3}, impatience=IMPATIENT
        )
        events = LoadEvents()

        @events.started.add_listener
        def stall(started: LoadStarted) -> None:
            gateway.stall(started.started_at + 3.0, 1.5)

        options = LoadOptions(workers=1, stop_timeout_s=5.0, grace_s=5.0)
        with LoadRunner(scenario, gateway.url, tmp_path / "run", options, events) as runner:
            result = runner.wait()
        counts = gateway.counts()
    assert result.status is LoadStatus.COMPLETED, result
    lines = (result.run_dir / "acked_transactions.jsonl").read_text().splitlines()
    kinds = Counter(json.loads(line)["kind"] for line in lines)
    assert kinds["bet"] > 0
    assert dict(kinds) == {k: v for k, v in counts["acked"].items() if v}
    refreshed = (result.run_dir / "unacked_transactions.jsonl").read_text().splitlines()
    assert not any(json.loads(line)["kind"] == "deposit" for line in refreshed)
