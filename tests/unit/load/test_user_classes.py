"""Which Locust classes play: the personas, a locustfile's users, or the scenario's journeys.

Run in a subprocess: Locust monkey-patches the process it is imported in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LOCUSTFILE = """
from locust import HttpUser, task
from locust.contrib.fasthttp import FastHttpUser
from spikekit.load.own import SpikePlayer

class Plain(HttpUser):
    weight = 2
    @task
    def home(self): self.client.get("/")

class Fast(FastHttpUser):
    @task
    def home(self): self.client.get("/")

class Mine(SpikePlayer):
    weight = 5
    def act(self): self.request("GET", "/")

class Helper(SpikePlayer):  # a base of the user's own: not played
    abstract = True
"""

PROBE = """
import json, sys
from spikekit.scenarios import Scenario
from spikekit.load.user_classes import LocustfileError, user_classes

def scenario(players):
    return Scenario.model_validate({
        "name": "unit", "target": {"url": "http://127.0.0.1:9"},
        "load": {"model": "closed", "stages": [{"duration": 5, "players": 2}]},
        "players": players,
    })

def picked(players):
    try:
        return {c.__name__: c.weight for c in user_classes(scenario(players))}
    except LocustfileError as error:
        return str(error)

locustfile = sys.argv[1]
broken = sys.argv[2]
journeys = [
    {"name": "bettor", "weight": 3, "steps": [{"path": "/a"}]},
    {"name": "idle", "weight": 0, "steps": [{"path": "/b"}]},
]
print(json.dumps({
    "personas": picked({}),
    "locustfile": picked({"locustfile": locustfile}),
    "weighted": picked({"locustfile": locustfile, "weights": {"Mine": 1, "Fast": 4}}),
    "unknown": picked({"locustfile": locustfile, "weights": {"Nope": 1}}),
    "broken": picked({"locustfile": broken}),
    "journeys": picked({"journeys": journeys}),
}))
"""


def test_the_players_of_each_kind_and_their_weights(tmp_path: Path) -> None:
    locustfile = tmp_path / "mine.py"
    locustfile.write_text(LOCUSTFILE)
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('oops')\n")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(locustfile), str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.splitlines()[-1])
    assert set(found["personas"]) == {
        "SlotPlayer",
        "HighRoller",
        "Depositor",
        "LobbyBrowser",
        "NewRegistrant",
    }
    # HttpUser and FastHttpUser as they are, and the SpikePlayer; abstract bases left out
    assert found["locustfile"] == {"Fast": 1, "Mine": 5, "Plain": 2}
    assert found["weighted"] == {"Fast": 4, "Mine": 1}  # the scenario's mix wins
    assert "Nope" in found["unknown"] and "Plain" in found["unknown"]
    assert "RuntimeError: oops" in found["broken"]
    assert found["journeys"] == {"bettor": 3}  # weight 0 does not play
