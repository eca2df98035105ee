"""A listener's failure is logged and counted, and never ends the run."""

from __future__ import annotations

import logging

import pytest

from spikekit.hooks import EventHook


def test_a_failing_listener_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    hook: EventHook[int] = EventHook()
    seen: list[int] = []

    def broken(value: int) -> None:
        raise ValueError(f"cannot take {value}")

    hook.add_listener(broken)
    hook.add_listener(seen.append)
    with caplog.at_level(logging.ERROR, logger="spikekit.hooks"):
        hook.fire(1)
        hook.fire(2)
    assert seen == [1, 2]
    assert hook.listener_errors == 2
    assert "broken" in caplog.text and "cannot take 1" in caplog.text


def test_ctrl_c_in_a_listener_still_goes_through() -> None:
    hook: EventHook[int] = EventHook()

    def interrupted(value: int) -> None:
        raise KeyboardInterrupt

    hook.add_listener(interrupted)
    with pytest.raises(KeyboardInterrupt):
        hook.fire(1)
    assert hook.listener_errors == 0
