"""A fake gateway (a real uvicorn process) for real Locust runs, and run helpers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from spikekit.ports import free_port, is_listening
from spikekit.processes import spawn, wait_until
from spikekit.scenarios import Scenario

FAKE = Path(__file__).with_name("fake_gateway.py")


@dataclass
class FakeGateway:
    url: str

    def counts(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/_fake/counts", timeout=5).json())

    def set_mode(self, **mode: Any) -> None:
        httpx.post(f"{self.url}/_fake/mode", json=mode, timeout=5).raise_for_status()

    def stall(self, at: float, seconds: float) -> None:
        """Hold every request arriving from Unix time ``at`` for ``seconds`` until then."""
        body = {"at": at, "seconds": seconds}
        httpx.post(f"{self.url}/_fake/stall", json=body, timeout=5).raise_for_status()


@contextmanager
def running_gateway(log_dir: Path) -> Iterator[FakeGateway]:
    port = free_port()
    argv = [sys.executable, str(FAKE), "--port", str(port)]
    process = spawn("fake-gateway", argv, log_dir / "fake-gateway.log")
    try:
        alive = lambda: process.poll() is None  # noqa: E731
        if not wait_until(lambda: is_listening(port), timeout=20, alive=alive):
            pytest.fail(f"the fake gateway did not start:\n{process.log_tail()}")
        yield FakeGateway(f"http://127.0.0.1:{port}")
    finally:
        process.stop(timeout=5)


@pytest.fixture
def fake_gateway(tmp_path: Path) -> Iterator[FakeGateway]:
    with running_gateway(tmp_path) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def module_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGateway]:
    with running_gateway(tmp_path_factory.mktemp("gateway")) as gateway:
        yield gateway


def scenario_for(url: str, load: dict[str, Any], **extra: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "load-it",
        "target": {"url": url},
        "population": {"accounts": 5000},
        "load": load,
        "think_time": {"min": 0.2, "max": 1.0},
        "seed": 11,
    }
    data.update(extra)
    return Scenario.model_validate(data)
