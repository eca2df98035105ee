"""Lifecycle hooks: whoever fires an event knows nothing of who listens (the dashboard,
the recorder, the journal, a test subscribe)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class EventHook(Generic[T]):
    """A list of listeners called in order with one argument."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[T], None]] = []

    def add_listener(self, listener: Callable[[T], None]) -> Callable[[T], None]:
        """Subscribe; returns the listener so it can be used as a decorator."""
        self._listeners.append(listener)
        return listener

    def remove_listener(self, listener: Callable[[T], None]) -> None:
        self._listeners.remove(listener)

    def fire(self, value: T) -> None:
        for listener in list(self._listeners):
            listener(value)
