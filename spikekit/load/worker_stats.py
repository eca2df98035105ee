"""Per-second statistics of one worker (Locust process): HDR histograms per endpoint,
sent to the master every second as a ``spikekit_second`` message.

A request counts in the run second in which it *completed*. Its latency is Locust's response
time, plus, for the first request of a paced player's action, how late it was sent after the
action was due (``context[LATE_MS]``, :mod:`spikekit.load.pacing`): the histograms hold that
corrected latency (coordinated omission). Errors of the generator itself
(out of file descriptors, out of ephemeral ports, our pool closed) are counted apart and
never as platform failures, and so are requests *cut* (the player was killed after its
request was sent, before the answer ended: :class:`~spikekit.load.http.RequestCut`), which the
platform may have received and answered.

Opt-in (``LoadOptions(raw_samples=True)``, the worker's ``--raw-samples FILE``): every
request is also appended to a CSV, :class:`RawSampleLog`, so that the recorded percentiles
can be checked against an independent computation from the raw samples, with the corrected
latency and the service time (Locust's response time) side by side. It costs a line per
request; it is off by default.
"""

from __future__ import annotations

import csv
import errno
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import gevent
import psutil

from spikekit.load import histograms as hdr
from spikekit.load.context import WorkerContext
from spikekit.load.http import RequestCut
from spikekit.load.pacing import LATE_MS
from spikekit.load.protocol import SECOND_MESSAGE, EndpointSecond, WorkerSecond

GENERATOR_ERRNOS = frozenset(
    {errno.EMFILE, errno.ENFILE, errno.EADDRNOTAVAIL, errno.ENOBUFS, errno.ENOMEM}
)
#: Send a second this long after it ended (requests completing right at the edge).
SEND_DELAY_S = 0.05


def is_generator_error(exception: BaseException | None) -> bool:
    if exception is None:
        return False
    if isinstance(exception, OSError) and exception.errno in GENERATOR_ERRNOS:
        return True
    return isinstance(exception, RuntimeError) and "pool closed" in str(exception)


RAW_COLUMNS = ("time", "endpoint", "latency_ms", "service_ms", "outcome")


class RawSampleLog:
    """One CSV line per request: Unix ``time`` of completion (the instant the worker
    buckets it by), ``endpoint``, ``latency_ms`` as recorded in the histograms (from the
    intended start for the first request of a paced action), ``service_ms`` as Locust
    reported it (from the send; equal to ``latency_ms`` when not late), and ``outcome``
    (``ok``, ``failure``, or not in the histograms: ``generator_error``, ``cut``)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(RAW_COLUMNS)
        self.count = 0

    def write(
        self, now: float, endpoint: str, latency_ms: float, service_ms: float, outcome: str
    ) -> None:
        self._writer.writerow((repr(now), endpoint, repr(latency_ms), repr(service_ms), outcome))
        self.count += 1

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


class _Bucket:
    """One endpoint in one second: counts, and the latencies of its requests (failures
    included, generator errors not), made an HDR histogram when the second is sent."""

    __slots__ = ("cut", "failures", "generator_errors", "latencies", "requests")

    def __init__(self) -> None:
        self.latencies = hdr.LatencyBuffer()
        self.requests = 0
        self.failures = 0
        self.generator_errors = 0
        self.cut = 0  # sent, then the player was killed before its answer ended


class WorkerStats:
    def __init__(
        self,
        runner: Any,
        name: str,
        ctx: WorkerContext,
        raw: RawSampleLog | None = None,
        clock: Callable[[], float] = time.time,
        on_write_error: Callable[[str], None] | None = None,
    ) -> None:
        self.runner = runner
        self.clock = clock  # Unix time of a request's completion
        self.name = name
        self.ctx = ctx
        self.raw = raw
        self.on_write_error = on_write_error
        self._buckets: dict[int, dict[str, _Bucket]] = {}
        self._sent_through = -1
        self._process = psutil.Process()
        self._process.cpu_percent(None)

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        exception: BaseException | None = None,
        context: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        # Runs for every request on the players' greenlets: keep it to a few dict lookups
        # and one append (the histogram is built once per second, in report()).
        now = self.clock()
        latency = response_time
        if context:  # empty unless the player is paced
            latency += context.get(LATE_MS, 0.0)
        # never a second already sent (a wall-clock step back would lose the request)
        t = max(self._sent_through + 1, math.floor(now - self.ctx.started_at))
        endpoint = f"{request_type} {name}"
        second = self._buckets.get(t)
        if second is None:
            second = self._buckets[t] = {}
        bucket = second.get(endpoint)
        if bucket is None:
            bucket = second[endpoint] = _Bucket()
        if exception is not None and is_generator_error(exception):
            bucket.generator_errors += 1
            if self.raw is not None:
                self.raw.write(now, endpoint, latency, response_time, "generator_error")
            return
        if isinstance(exception, RequestCut):
            bucket.cut += 1
            if self.raw is not None:
                self.raw.write(now, endpoint, latency, response_time, "cut")
            return
        bucket.requests += 1
        if exception is not None:
            bucket.failures += 1
        bucket.latencies.add(latency)
        if self.raw is not None:
            outcome = "ok" if exception is None else "failure"
            self.raw.write(now, endpoint, latency, response_time, outcome)

    def report(self, t: int) -> WorkerSecond:
        buckets = self._buckets.pop(t, {})
        return WorkerSecond(
            worker=self.name,
            t=t,
            users=int(self.runner.user_count),
            players=self.ctx.active,
            cpu_percent=float(self._process.cpu_percent(None)),
            rss_bytes=int(self._process.memory_info().rss),
            pid=self._process.pid,
            endpoints={
                endpoint: EndpointSecond(
                    b.requests,
                    b.failures,
                    b.generator_errors,
                    hdr.encode(b.latencies.histogram()) if len(b.latencies) else "",
                )
                for endpoint, b in buckets.items()
            },
            cut={endpoint: b.cut for endpoint, b in buckets.items() if b.cut},
        )

    def send_due(self, now: float) -> None:
        """Send every second that has ended and was not sent yet."""
        current = math.floor(now - self.ctx.started_at)
        for t in range(self._sent_through + 1, current):
            self.runner.send_message(SECOND_MESSAGE, self.report(t).to_wire())
            self._sent_through = t
        self.ctx.acks.flush()
        self.ctx.unacked.flush()
        if self.raw is not None:
            self.raw.flush()
        error = self.ctx.acks.error or self.ctx.unacked.error
        if error is not None and self.on_write_error is not None:
            self.on_write_error(error)

    def loop(self) -> None:
        """Runs as a greenlet: wake just after each second ends, send it."""
        while True:
            now = time.time()
            into = (now - self.ctx.started_at) % 1.0
            gevent.sleep(
                max(0.0, 1.0 - into + SEND_DELAY_S)
                if now >= self.ctx.started_at
                else self.ctx.started_at - now + SEND_DELAY_S
            )
            self.send_due(time.time())
