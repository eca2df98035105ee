"""The platform recorder against a real stack: metrics each second, processes, a frozen service."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pandas as pd

from spikekit.reference_platform.spec import ServiceSpec, StackSpec, ToxiproxyMode
from spikekit.reference_platform.supervisor import Stack
from spikekit.rundir.layout import PLATFORM_METRICS_PARTS as PARTS_DIR
from spikekit.telemetry.recorder import PlatformRecorder, ScrapeTarget, WatchedProcess

GATEWAY = ServiceSpec(
    name="gateway", app="spikekit.reference_platform.gateway.app:create_app", needs=("redis",)
)


def test_records_every_second_and_notices_a_frozen_service(tmp_path: Path) -> None:
    spec = StackSpec(services=(GATEWAY,), toxiproxy=ToxiproxyMode.OFF)
    with Stack(spec, tmp_path / "stack") as stack:
        state = stack.state
        assert state is not None
        gateway = state.services[0]
        targets = [ScrapeTarget("gateway", gateway.url)]
        watched = [WatchedProcess(p.name, p.ref()) for p in state.processes()]
        recorder = PlatformRecorder(tmp_path, targets, watched, flush_every_s=1)
        with recorder, httpx.Client(base_url=gateway.url, timeout=2) as client:
            deadline = time.monotonic() + 3.5
            while time.monotonic() < deadline:
                client.get("/no/such/route")
            os.kill(gateway.pid, signal.SIGSTOP)
            try:
                time.sleep(2.5)
            finally:
                os.kill(gateway.pid, signal.SIGCONT)
            # while it runs, what it recorded is in closed part files: a kill loses little
            parts = sorted((tmp_path / PARTS_DIR).glob("part-*.parquet"))
            assert len(parts) >= 3 and pd.read_parquet(parts[0])["t"].min() == 0
    assert not (tmp_path / PARTS_DIR).exists()  # merged into the one file at the stop
    table = pd.read_parquet(tmp_path / "platform_metrics.parquet")
    assert list(table.columns) == ["t", "service", "metric", "labels", "value"]
    up = table[table.metric == "up"].sort_values("t")
    assert len(up) >= 5
    assert up.value.iloc[:3].tolist() == [1.0, 1.0, 1.0]
    assert 0.0 in up.value.tolist(), "a SIGSTOPped service must be recorded as down"
    rates = table[table.metric == "http_request_duration_per_s"]
    assert rates.value.max() > 10, "requests per second of the gateway"
    p95 = table[table.metric == "http_request_duration_p95_ms"]
    assert (p95.value > 0).all() and len(p95) >= 2
    cpu = table[table.metric == "process_cpu_percent"]
    assert {"gateway", "redis"} <= set(cpu.service)
