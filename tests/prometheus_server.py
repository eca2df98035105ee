"""A real Prometheus for tests: Debian's 2.42 package unpacked by ``make prometheus``.

:func:`prometheus_server` starts it on a free 127.0.0.1 port with a generated config
(every target scraped each second) and a temporary ``--storage.tsdb.path``, waits for
``/-/ready``, and ends it by its PID. Without the binary the test fails (it is never
skipped): the message says to run ``make prometheus``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from spikekit.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
BINARY = ROOT / ".tools" / "prometheus" / "usr" / "bin" / "prometheus"
INSTALL_HINT = (
    f"Prometheus not found at {BINARY}: run 'make prometheus' (it unpacks Debian's "
    "prometheus package there; nothing is installed system-wide)"
)


def find_prometheus() -> Path:
    """The binary ``make prometheus`` unpacked, else ``prometheus`` on PATH; fails the
    test without either."""
    if BINARY.is_file() and os.access(BINARY, os.X_OK):
        return BINARY
    found = shutil.which("prometheus")
    if found is None:
        pytest.fail(INSTALL_HINT)
    return Path(found)


@dataclass(frozen=True)
class Prometheus:
    url: str
    pid: int

    def wait_for(self, query: str, timeout: float = 15.0) -> list[Any]:
        """The vector of ``query`` once it is non-empty (its targets are synced about 5 s
        after Prometheus starts, so the first scrape comes that late)."""
        deadline = time.monotonic() + timeout
        result: list[Any] = []
        while time.monotonic() < deadline:
            answer = httpx.get(f"{self.url}/api/v1/query", params={"query": query}, timeout=2)
            result = answer.json()["data"]["result"]
            if result:
                return result
            time.sleep(0.2)
        raise AssertionError(f"Prometheus never answered {query!r} as wanted; last: {result}")


def _config(targets: Sequence[str] | Mapping[str, Sequence[str]]) -> str:
    jobs = targets if isinstance(targets, Mapping) else {"app": targets}
    return yaml.safe_dump(
        {
            "global": {
                "scrape_interval": "1s",
                "scrape_timeout": "900ms",
                "evaluation_interval": "1s",
            },
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": list(found)}]}
                for job, found in jobs.items()
            ],
        }
    )


@contextmanager
def prometheus_server(
    folder: Path, targets: Sequence[str] | Mapping[str, Sequence[str]]
) -> Iterator[Prometheus]:
    """Prometheus scraping ``targets`` (``host:port``) every second, until the block ends:
    one job ``app``, or one job per key of a mapping (``{"wallet": ["127.0.0.1:8101"]}``)."""
    binary = find_prometheus()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prometheus.yml").write_text(_config(targets))
    port = free_port()
    log = (folder / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            str(binary),
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                said = (folder / "prometheus.log").read_text()[-2000:]
                pytest.fail(f"Prometheus exited ({process.returncode}): {said}")
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("Prometheus did not become ready within 30 s")
            time.sleep(0.1)
        yield Prometheus(url, process.pid)
    finally:
        process.terminate()  # by its PID: the process this helper started
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()
