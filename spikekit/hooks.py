"""Lifecycle hooks: whoever fires an event knows nothing of who listens (the dashboard,
the recorder, the journal, a test subscribe).

A listener that raises does not end the run: the error is logged, counted on the hook
(:attr:`EventHook.listener_errors`) and the other listeners are still called. Only
``BaseException`` that is not an ``Exception`` (Ctrl-C, ``SystemExit``) goes through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class EventHook(Generic[T]):
    """A list of listeners called in order with one argument."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[T], None]] = []
        self.listener_errors = 0

    def add_listener(self, listener: Callable[[T], None]) -> Callable[[T], None]:
        """Subscribe; returns the listener so it can be used as a decorator."""
        self._listeners.append(listener)
        return listener

    def remove_listener(self, listener: Callable[[T], None]) -> None:
        self._listeners.remove(listener)

    def fire(self, value: T) -> None:
        """Call every listener with ``value``; a listener's exception is logged and counted."""
        for listener in list(self._listeners):
            try:
                listener(value)
            except Exception:
                self.listener_errors += 1
                name = getattr(listener, "__qualname__", repr(listener))
                log.exception(
                    "listener %s failed on %s; the run goes on", name, type(value).__name__
                )
