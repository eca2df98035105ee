"""``--metrics-port``: the run's live metrics served over HTTP while it goes on.

:class:`MetricsServer` is prometheus-client's WSGI server (``start_http_server``) on one
daemon thread, serving only the registry it is given (:class:`~spikekit.run.live_metrics.
LiveMetrics`). It binds when it starts — the first thing a run does, so a port in use is a
:class:`~spikekit.errors.ConfigError` (exit 2) before anything else starts — and
:meth:`MetricsServer.close` shuts it down and closes the listening socket on every way out
of the run (the port is free again). Any path answers the exposition; ``/metrics`` is the
one documented.

The last values (the final seconds' counters, the ``teardown`` phase) are set a moment
before the run ends; so that a scraper gets them, :meth:`MetricsServer.close` first waits
for one more scrape — only when something has scraped already, and at most the interval
seen between its last two scrapes plus a second (:data:`MAX_LINGER_S` at most). When the
run raised (a second Ctrl-C, a refusal) it closes at once.

:func:`check_bind`: the address to listen on must be loopback unless the user named it
with ``--allow-target ADDR`` — the same allowance the target guard asks of a host off
this machine (:mod:`spikekit.guard`), since a non-loopback bind serves the run's figures
to the network.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from types import TracebackType
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Metric, start_http_server

from spikekit.errors import ConfigError, UnsafeTargetError
from spikekit.guard import TargetGuard

__all__ = ["MAX_LINGER_S", "MetricsServer", "check_bind"]

#: The longest :meth:`MetricsServer.close` waits for a last scrape.
MAX_LINGER_S = 20.0


def check_bind(bind: str, allowed: Iterable[str]) -> None:
    """Pass for a loopback address (or one named with ``--allow-target``), else raise
    ConfigError naming ``--metrics-bind``."""
    try:
        TargetGuard(allowed).check_host(bind, "--metrics-bind")
    except UnsafeTargetError:
        raise ConfigError(
            f"--metrics-bind {bind}: expected a loopback address (127.0.0.0/8 or ::1); "
            f"{bind} serves the run's metrics beyond this machine: name it with "
            f"--allow-target {bind} if you mean it"
        ) from None


class _Scrapes:
    """The registry as served, noting when each scrape began (for the last one at close)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.times: list[float] = []  # monotonic; the last two are kept
        self.changed = threading.Condition()

    def collect(self) -> Iterable[Metric]:
        with self.changed:
            self.times = [*self.times[-1:], time.monotonic()]
            self.changed.notify_all()
        return self.registry.collect()

    def restricted_registry(self, names: Iterable[str]) -> object:  # ?name[]=... scrapes
        return self.registry.restricted_registry(names)

    def wait_for_one_after(self, since: float) -> None:
        """Until a scrape begins after ``since``, bounded by the scraper's own interval."""
        with self.changed:
            if not self.times:
                return  # nobody scrapes: nobody to wait for
            interval = self.times[-1] - self.times[0] if len(self.times) > 1 else 1.0
            deadline = since + min(interval + 1.0, MAX_LINGER_S)
            while self.times[-1] <= since and (left := deadline - time.monotonic()) > 0:
                self.changed.wait(left)


class MetricsServer:
    """``registry`` on ``http://bind:port/metrics`` from :meth:`start` to :meth:`close`."""

    def __init__(self, registry: CollectorRegistry, bind: str, port: int) -> None:
        self.registry = registry
        self.bind = bind
        self.port = port  # 0: any free port; the one bound once started
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._scrapes = _Scrapes(registry)

    @property
    def url(self) -> str:
        host = f"[{self.bind}]" if ":" in self.bind else self.bind
        return f"http://{host}:{self.port}/metrics"

    def start(self) -> MetricsServer:
        """Bind and serve; a port that cannot be bound is a ConfigError naming the flag."""
        try:
            server, thread = start_http_server(self.port, addr=self.bind, registry=self._scrapes)
        except OSError as error:
            why = error.strerror or str(error)
            raise ConfigError(
                f"--metrics-port {self.port}: cannot listen on {self.bind}:{self.port} "
                f"({why}); expected a free port (0 picks one)"
            ) from None
        self._server, self._thread = server, thread
        self.port = int(server.server_port)
        return self

    def close(self, *, last_scrape: bool = True) -> None:
        """Stop serving and free the port (after one more scrape, see the module's
        docstring, unless ``last_scrape`` is False). Safe to call twice."""
        if self._server is None:
            return
        if last_scrape:
            self._scrapes.wait_for_one_after(time.monotonic())
        server, self._server = self._server, None
        server.shutdown()  # serve_forever returns
        server.server_close()  # the listening socket closed: nothing left on the port
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> MetricsServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(last_scrape=error is None)
