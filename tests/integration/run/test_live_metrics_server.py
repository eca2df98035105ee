"""``--metrics-port``'s server on a real socket: it serves the registry, refuses a port in
use (exit 2 through the CLI), and leaves the port free when it closes; the bind guard."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from spikekit.cli.main import app
from spikekit.errors import ConfigError
from spikekit.ports import is_listening
from spikekit.run.live_metrics import LiveMetrics
from spikekit.run.live_metrics_server import MetricsServer, check_bind
from spikekit.scenarios import load_scenario


def test_it_serves_the_registry_and_frees_the_port_when_closed() -> None:
    metrics = LiveMetrics(load_scenario("smoke"))
    with MetricsServer(metrics.registry, "127.0.0.1", 0) as server:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}/metrics"
        text = httpx.get(server.url, timeout=5).text
        assert 'spikekit_run_phase{phase="setup",stage="0"} 1.0' in text
        assert "spikekit_run_planned_seconds 50.0" in text
        assert "python_gc" not in text  # its own registry, not the process-wide one
        port = server.port
    assert not is_listening(port)
    server.close()  # twice: nothing happens
    with MetricsServer(metrics.registry, "127.0.0.1", port) as again:  # free: bound at once
        assert httpx.get(again.url, timeout=5).status_code == 200


def test_a_port_in_use_is_a_config_error_naming_the_flag() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = MetricsServer(LiveMetrics(load_scenario("smoke")).registry, "127.0.0.1", port)
        with pytest.raises(ConfigError, match=rf"--metrics-port {port}: cannot listen"):
            server.start()


def test_a_run_on_a_port_in_use_exits_2_before_anything_starts(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            app, ["run", "smoke", "--out", str(out), "--metrics-port", str(port)]
        )
    assert result.exit_code == 2, result.output
    assert f"--metrics-port {port}: cannot listen on 127.0.0.1:{port}" in result.output
    assert not out.exists() or list(out.iterdir()) == []  # no run directory, no platform


def test_a_bind_beyond_loopback_needs_allow_target() -> None:
    check_bind("127.0.0.1", ())
    check_bind("127.0.0.5", ())
    check_bind("localhost", ())
    with pytest.raises(ConfigError, match=r"--metrics-bind 0.0.0.0: .*--allow-target 0.0.0.0"):
        check_bind("0.0.0.0", ())
    check_bind("0.0.0.0", ("0.0.0.0",))  # named: allowed


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--metrics-port", "9100", "--metrics-bind", "0.0.0.0"], "--metrics-bind 0.0.0.0:"),
        (["--metrics-bind", "127.0.0.2"], "expected --metrics-port PORT with it"),
        (["--metrics-port", "70000"], "'--metrics-port': '70000': expected a whole number"),
    ],
)
def test_the_flags_refuse_bad_values_with_exit_2(args: list[str], said: str) -> None:
    result = CliRunner().invoke(app, ["run", "smoke", "--dry-run", *args])
    assert result.exit_code == 2, result.output
    assert said in result.output and "Traceback" not in result.output


def test_close_waits_for_one_more_scrape_of_a_scraper_only() -> None:
    registry = LiveMetrics(load_scenario("smoke")).registry
    server = MetricsServer(registry, "127.0.0.1", 0).start()
    started = time.monotonic()
    server.close()  # never scraped: nobody to wait for (shutdown polls each 0.5 s)
    assert time.monotonic() - started < 1.0
    server = MetricsServer(registry, "127.0.0.1", 0).start()
    for _ in range(2):  # a scraper every 0.3 s
        httpx.get(server.url, timeout=5)
        time.sleep(0.3)
    closing = threading.Thread(target=server.close)
    started = time.monotonic()
    closing.start()
    time.sleep(0.2)
    assert closing.is_alive()  # waiting for the next scrape
    assert "spikekit_run_phase" in httpx.get(server.url, timeout=5).text  # the last values
    closing.join(5)
    assert not closing.is_alive() and time.monotonic() - started < 2.0
    assert not is_listening(server.port)
    server = MetricsServer(registry, "127.0.0.1", 0).start()
    for _ in range(2):
        httpx.get(server.url, timeout=5)
        time.sleep(0.3)
    started = time.monotonic()
    server.close()  # the scraper is gone: at most its interval and a second
    assert 1.2 <= time.monotonic() - started < 3.0
