"""The operator log: its one-line format and its per-key rate limit, on a fake clock."""

from __future__ import annotations

import io
import re
import time

from spikekit.reference_platform.common.oplog import OpLog, RateLimiter, format_line

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z auth/0 WARNING login_shed( \S+=\S+)*$")


class Clock:
    def __init__(self, t: float = 1_764_583_200.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _log(clock: Clock, burst: int = 3) -> tuple[OpLog, io.StringIO]:
    out = io.StringIO()
    return OpLog("auth/0", out, limiter=RateLimiter(burst, 10.0), clock=clock, timers=False), out


def test_a_line_is_timestamped_utc_with_source_level_event_and_fields() -> None:
    line = format_line(
        1_764_583_200.25, "auth/0", "warning", "login_shed", {"reason": "overloaded", "n": 3}
    )
    assert line == "2025-12-01T10:00:00.250Z auth/0 WARNING login_shed reason=overloaded n=3"
    assert LINE.match(line)


def test_values_with_spaces_or_quotes_are_quoted_and_floats_short() -> None:
    line = format_line(0.0, "gateway/1", "error", "e", {"error": 'a "b" c', "s": 0.123456})
    assert line.endswith('e error="a \\"b\\" c" s=0.1235')


def test_a_storm_writes_the_burst_then_one_suppression_line_when_the_window_closes() -> None:
    clock = Clock()
    log, out = _log(clock)
    for _ in range(1_500):
        log.event("login_shed", reason="overloaded")
        clock.t += 0.001  # 1.5 s of storm
    assert len(out.getvalue().splitlines()) == 3
    clock.t += 10
    log.flush()
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    assert lines[-1].endswith("suppressed 1497 similar lines")
    assert "key=login_shed" in lines[-1]
    log.flush()  # reported once
    assert len(out.getvalue().splitlines()) == 4


def test_the_next_line_of_a_key_reports_what_its_closed_window_suppressed() -> None:
    clock = Clock()
    log, out = _log(clock, burst=1)
    log.event("breaker", key="aurora")
    log.event("breaker", key="aurora")
    clock.t += 11
    log.event("breaker", key="aurora", state="closed")
    lines = out.getvalue().splitlines()
    assert [line.split()[3] for line in lines] == ["breaker", "suppressed", "breaker"]
    assert lines[1].endswith("suppressed 1 similar lines")


def test_keys_are_limited_separately() -> None:
    clock = Clock()
    log, out = _log(clock, burst=1)
    for _ in range(5):
        log.event("timeout", key="wallet")
        log.event("timeout", key="auth")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2


def test_exit_flush_reports_open_windows() -> None:
    clock = Clock()
    log, out = _log(clock, burst=1)
    log.event("shed")
    log.event("shed")
    log.flush(final=True)
    assert out.getvalue().splitlines()[-1].endswith("suppressed 1 similar lines")


def test_a_timer_writes_the_summary_when_the_window_ends() -> None:
    out = io.StringIO()
    log = OpLog("auth/0", out, limiter=RateLimiter(1, 0.05))
    log.event("shed")
    log.event("shed")
    deadline = time.monotonic() + 5
    while "suppressed 1" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert out.getvalue().splitlines()[-1].endswith("suppressed 1 similar lines")


def test_a_closed_stream_never_raises() -> None:
    out = io.StringIO()
    log = OpLog("auth/0", out, clock=Clock(), timers=False)
    out.close()
    log.event("shed")
