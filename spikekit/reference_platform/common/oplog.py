"""Operator log lines of the platform's processes: what happened, one line each, rate-limited.

A service process calls :func:`configure` once at start (``serve.py``); from then on
:func:`event` writes one line to its stderr, which the supervisor sends to
``logs/<process>.log``::

    2026-12-01T10:00:00.123Z auth/0 WARNING login_shed reason=overloaded in_flight=12

(ISO-8601 UTC time, service/replica, level, event, ``key=value`` fields; a value with a
space or a quote is JSON-quoted). Each event key (the event name, or ``event:key`` when
the caller names one, e.g. a dependency) may write at most ``burst`` lines per window
(10 s); past that its lines are counted, and when the window closes one line says
``suppressed K similar lines``, so a storm of sheds cannot flood the disk. The summary
is written by a timer at the window's end, by the next line of that key, or at exit
(``serve.py`` also flushes on SIGTERM and SIGINT, which uvicorn re-raises after its
graceful shutdown, so that a stopped service still says what it suppressed).

Before :func:`configure` (a unit test, a tool importing a service), :func:`event` does
nothing. The supervisor uses its own :class:`OpLog` on its own file.
"""

from __future__ import annotations

import atexit
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

__all__ = ["OpLog", "RateLimiter", "configure", "event", "flush_at_exit", "format_line"]

Value = str | int | float | bool | None
WINDOW_S = 10.0
BURST = 20  # lines per key per window


def _timestamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _value(value: Value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    if not text or any(c in text for c in ' "=\n\t'):
        return json.dumps(text)
    return text


def format_line(t: float, source: str, level: str, name: str, fields: dict[str, Value]) -> str:
    """One log line (without the newline)."""
    pairs = "".join(f" {k}={_value(v)}" for k, v in fields.items())
    return f"{_timestamp(t)} {source} {level.upper()} {name}{pairs}"


@dataclass
class _Window:
    ends: float
    written: int = 0
    suppressed: int = 0


class RateLimiter:
    """A fixed window per key: ``burst`` lines allowed, the rest counted until it closes."""

    def __init__(self, burst: int = BURST, window_s: float = WINDOW_S) -> None:
        self.burst = burst
        self.window_s = window_s
        self._windows: dict[str, _Window] = {}

    def allow(self, key: str, now: float) -> tuple[bool, int]:
        """Whether a line of ``key`` may be written now, and how many lines of the closed
        window before it were suppressed (to be reported first)."""
        window = self._windows.get(key)
        closed = 0
        if window is None or now >= window.ends:
            closed = window.suppressed if window is not None else 0
            window = self._windows[key] = _Window(ends=now + self.window_s)
        if window.written < self.burst:
            window.written += 1
            return True, closed
        window.suppressed += 1
        return False, closed

    def closed(self, now: float) -> dict[str, int]:
        """Windows that have ended with lines suppressed: key → count (each reported once)."""
        done = {k: w.suppressed for k, w in self._windows.items() if now >= w.ends and w.suppressed}
        for key in done:
            del self._windows[key]
        return done

    def pending(self) -> dict[str, int]:
        """Every window still holding suppressed lines (at exit)."""
        return {k: w.suppressed for k, w in self._windows.items() if w.suppressed}

    def next_end(self) -> float | None:
        ends = [w.ends for w in self._windows.values() if w.suppressed]
        return min(ends) if ends else None


class OpLog:
    """Rate-limited operator lines of one process, written to ``stream``."""

    def __init__(
        self,
        source: str,
        stream: TextIO,
        *,
        limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.time,
        timers: bool = True,
    ) -> None:
        self.source = source
        self.stream = stream
        self.limiter = limiter or RateLimiter()
        self.clock = clock
        self.timers = timers  # a timer writes the summary when a window closes
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def event(self, name: str, level: str = "warning", key: str = "", **fields: Value) -> None:
        """Write ``name`` with ``fields`` unless its key has written too much lately."""
        limit_key = f"{name}:{key}" if key else name
        now = self.clock()
        with self._lock:
            allowed, closed = self.limiter.allow(limit_key, now)
            if closed:
                self._summary(now, limit_key, closed)
            if allowed:
                self._write(format_line(now, self.source, level, name, fields))
            elif self.timers and self._timer is None:
                self._arm(now)

    def flush(self, *, final: bool = False) -> None:
        """Write the summary of every closed window (every window when ``final``)."""
        now = self.clock()
        with self._lock:
            done = self.limiter.pending() if final else self.limiter.closed(now)
            for key, count in done.items():
                self._summary(now, key, count)
            if final:
                self.limiter = RateLimiter(self.limiter.burst, self.limiter.window_s)

    def _summary(self, now: float, key: str, count: int) -> None:
        window = self.limiter.window_s
        fields: dict[str, Value] = {"key": key, "window_s": window}
        line = format_line(now, self.source, "warning", "suppressed", fields)
        self._write(f"{line} suppressed {count} similar lines")

    def _write(self, line: str) -> None:
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a full disk or a closed stream never fails a request
            pass

    def _arm(self, now: float) -> None:
        end = self.limiter.next_end()
        if end is None:
            return
        self._timer = threading.Timer(max(0.0, end - now) + 0.01, self._on_timer)
        self._timer.daemon = True
        self._timer.start()

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
        self.flush()
        with self._lock:
            if self.limiter.next_end() is not None and self._timer is None:
                self._arm(self.clock())


_current: OpLog | None = None


def configure(service: str, replica: str | int = 0, stream: TextIO | None = None) -> OpLog:
    """Set this process's log (once, at start); the summaries still due are written at exit."""
    global _current
    log = OpLog(f"{service}/{replica}", stream if stream is not None else sys.stderr)
    if _current is None:
        atexit.register(flush_at_exit)
    _current = log
    return log


def flush_at_exit() -> None:
    """Write every summary still due (the process is ending)."""
    if _current is not None:
        _current.flush(final=True)


def event(name: str, level: str = "warning", key: str = "", **fields: Value) -> None:
    """One operator line from this process (nothing before :func:`configure`)."""
    if _current is not None:
        _current.event(name, level, key, **fields)
