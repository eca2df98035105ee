"""The fixed target of the load benchmarks: a tiny JSON endpoint on uvicorn.

A raw ASGI app (no framework, so the server is as cheap as it gets) answering every path
with the same ~250-byte JSON. Its fields satisfy every persona's journey (a token, a
game list, a session, a round with a bet, a deposit id), and its status codes are the
ones the personas expect (201 for a registration, 202 for a deposit or withdrawal, 200
otherwise), so spikekit's players run their real journeys against it without a failure.

    with TinyTarget(run_dir, cores={0}) as target:   # one uvicorn worker pinned to core 0
        ... target.url ...
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import nullcontext
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import psutil

from bench.harness import REPO, pinned
from spikekit.ports import LOOPBACK, free_port
from spikekit.processes import ManagedProcess, ProcessRef, spawn, terminate_refs

BODY = json.dumps(
    {
        "token": "bench-token",
        "player_id": "p000001",
        "games": [{"id": "starburst-nova", "family": "slots"}],
        "session_id": "s-1",
        "provider": "provider-aurora",
        "bet": 10,
        "bet_tx_id": "b-1",
        "win": 0,
        "balance": 10_000_000,
        "deposit_id": "d-1",
        "withdrawal_id": "w-1",
        "status": "completed",
    },
    separators=(",", ":"),
).encode()
_CREATED = {"/api/register": 201, "/api/deposits": 202, "/api/withdrawals": 202}
_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:  # drain the request body
        message = await receive()
        more = bool(message.get("more_body", False))
    status = _CREATED.get(scope["path"], 200) if scope["method"] == "POST" else 200
    await send({"type": "http.response.start", "status": status, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": BODY})


class TinyTarget:
    """``uvicorn bench.target:app`` as a child process (uvloop, httptools, no access log)."""

    def __init__(
        self,
        folder: Path,
        *,
        cores: set[int] | None = None,
        workers: int = 1,
        keep_alive_s: int = 5,
        backlog: int = 2048,
    ) -> None:
        self.folder = folder
        self.cores = cores
        self.workers = workers
        self.keep_alive_s = keep_alive_s
        self.backlog = backlog
        self.port = free_port()
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> TinyTarget:
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.target:app",
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
            "--workers",
            str(self.workers),
            "--timeout-keep-alive",
            str(self.keep_alive_s),
            "--backlog",
            str(self.backlog),
        ]
        log = self.folder / f"target-{self.port}.log"
        with pinned(self.cores) if self.cores else nullcontext():
            self.process = spawn("tiny-target", argv, log, cwd=REPO, death_signal=signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the tiny target exited: {self.process.log_tail()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the tiny target did not answer in 20 s: {log}")

    def stop(self) -> None:
        """SIGTERM uvicorn (it stops its workers), then kill any worker left, by PID."""
        process, self.process = self.process, None
        if process is None:
            return
        children = [
            ProcessRef("tiny-target-worker", c.pid, c.create_time()) for c in _children(process.pid)
        ]
        process.stop(10)
        terminate_refs(children, timeout=5)

    def pids(self) -> list[int]:
        """The server's processes (uvicorn and its workers)."""
        if self.process is None:
            return []
        return [self.process.pid, *(c.pid for c in _children(self.process.pid))]

    def __enter__(self) -> TinyTarget:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _children(pid: int) -> list[psutil.Process]:
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.NoSuchProcess:
        return []
