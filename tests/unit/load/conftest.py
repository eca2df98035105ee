"""Scenarios for the load engine's unit tests."""

from __future__ import annotations

from typing import Any

from spikekit.scenarios import Scenario


def scenario(load: dict[str, Any], **extra: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "unit",
        "target": {"url": "http://127.0.0.1:9"},
        "population": {"accounts": 10_000},
        "load": load,
    }
    data.update(extra)
    return Scenario.model_validate(data)


CLOSED = {
    "model": "closed",
    "stages": [
        {"duration": 10, "players": 100},
        {"duration": 10, "players": 100},
        {"duration": 5, "players": 0},
    ],
}
OPEN = {
    "model": "open",
    "session_length": 20,
    "stages": [{"duration": 10, "arrivals_per_s": 10}, {"duration": 10, "arrivals_per_s": 10}],
}
