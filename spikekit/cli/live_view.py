"""The live view of ``spikekit run``: a :class:`~spikekit.cli.live_frame.LiveFrame` in a
Rich ``Live`` region on a terminal, today's plain lines everywhere else.

On a terminal (standard output a TTY, ``TERM`` not ``dumb``) the frame is redrawn from the
``second_elapsed`` hook, at most twice a second (``auto_refresh=False``: no drawing thread,
and a burst of late seconds draws once); event lines are printed above the region, so
they stay in the scrollback. Off a terminal (a pipe, a CI log, ``TERM=dumb``) nothing is
redrawn: each event is one line, and one summary line every ``every_s`` seconds
(``t 10 s  players 50 / 50  req/s 42 ...``).

Drawing must never break the run: the first exception from Rich stops the live region,
says so once on stderr, and the view carries on in plain lines.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.markup import escape

from spikekit.cli import console as cli_console
from spikekit.cli.live_frame import LiveFrame, Plan
from spikekit.rundir.journal import JournalEvent
from spikekit.rundir.live import SecondSummary

__all__ = ["MIN_REDRAW_S", "LiveView", "plain_line"]

#: the shortest time between two redraws (refresh at most twice a second)
MIN_REDRAW_S = 0.5


def plain_line(s: SecondSummary) -> str:
    """One second as the plain line of a log (what the view prints off a terminal)."""
    errors = s.failures / s.requests if s.requests else 0.0
    cells = [
        ("t", f"{s.t} s"),
        ("players", f"{s.actual_players:,} / {s.target_players:,}"),
        ("req/s", f"{s.requests:,}"),
        ("errors", f"{errors:.1%}"),
        ("p95", "-" if math.isnan(s.p95_ms) else f"{s.p95_ms:.0f} ms"),
        ("p99", "-" if math.isnan(s.p99_ms) else f"{s.p99_ms:.0f} ms"),
        (
            "generator cpu",
            "-" if math.isnan(s.generator_cpu_max) else f"{s.generator_cpu_max:.0f} %",
        ),
    ]
    return "  ".join(f"{name} {value}" for name, value in cells)


def wants_live(console: Console) -> bool:
    """A terminal that can redraw: a TTY, and ``TERM`` not ``dumb`` (nor ``unknown``)."""
    return console.is_terminal and not console.is_dumb_terminal


class LiveView:
    """Fed by the run's hooks (on the runner's and the chaos engine's threads: one lock)."""

    def __init__(
        self,
        plan: Plan,
        *,
        console: Console | None = None,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        every_s: int = 10,
        frame: LiveFrame | None = None,
    ) -> None:
        self.console = console or cli_console.out
        self.frame = frame or LiveFrame(plan)
        self.live = wants_live(self.console) if live is None else live
        self.every_s = every_s
        self.redraws = 0  # how many times the region was drawn (tests read it)
        self.failed: str | None = None  # why the live region was given up, once it was
        self._clock = clock
        self._lock = threading.RLock()
        self._live: Live | None = None
        self._last_redraw = -math.inf
        self._pending = False  # a second arrived too soon after a redraw: draw it next
        self._last_line = -every_s

    def __enter__(self) -> LiveView:
        if self.live:
            with self._lock:
                try:
                    self._live = Live(
                        self.frame.render(),
                        console=self.console,
                        refresh_per_second=2,
                        auto_refresh=False,
                    )
                    self._live.start(refresh=True)
                except Exception as error:  # never let drawing break the run
                    self._give_up(error)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:
            if self._live is None:
                return
            try:
                if self._pending:
                    self._draw()
                self._live.stop()
            except Exception as error:
                self._give_up(error)
            finally:
                self._live = None

    # --- the hooks ------------------------------------------------------------------------

    def event(self, text: str) -> None:
        """An event line: above the live region on a terminal, a line of the log otherwise."""
        with self._lock:
            try:
                self.console.print(
                    escape(text), soft_wrap=True, style="yellow" if self._live else None
                )
            except Exception as error:
                if self._live is None:
                    raise
                self._give_up(error)
                self.console.print(escape(text), soft_wrap=True)

    def fault_event(self, event: JournalEvent) -> None:
        """A journal event of the chaos engine: the faults the frame shows (drawn with the
        next second)."""
        with self._lock:
            self.frame.fault_event(event)

    def second(self, summary: SecondSummary) -> None:
        with self._lock:
            self.frame.second(summary)
            if self._live is not None:
                self._redraw()
                if self._live is not None:
                    return
            if summary.t - self._last_line >= self.every_s:  # plain lines (or given up)
                self._last_line = summary.t
                self.console.print(escape(plain_line(summary)), soft_wrap=True)

    # --- drawing --------------------------------------------------------------------------

    def _redraw(self) -> None:
        if self._clock() - self._last_redraw < MIN_REDRAW_S:
            self._pending = True
            return
        try:
            self._draw()
        except Exception as error:
            self._give_up(error)

    def _draw(self) -> None:
        assert self._live is not None
        self._live.update(self.frame.render(), refresh=True)
        self._last_redraw = self._clock()
        self._pending = False
        self.redraws += 1

    def _give_up(self, error: Exception) -> None:
        """Stop the live region for good, say why once, and go on in plain lines."""
        live, self._live = self._live, None
        if live is not None:
            with contextlib.suppress(Exception):  # the terminal may be what failed
                live.stop()
        if self.failed is None:
            self.failed = f"{type(error).__name__}: {error}"
            cli_console.warn(f"the live view failed ({self.failed}); plain lines from now on")
        self._last_line = -self.every_s  # the next second prints its line at once
