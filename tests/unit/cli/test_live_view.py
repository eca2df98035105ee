"""The live view's wiring: a redrawn region on a terminal (at most twice a second), the
plain lines of a log elsewhere, and plain lines again when drawing fails."""

from __future__ import annotations

import io

import pytest
from rich.console import Console, RenderableType

from spikekit.cli.live_frame import LiveFrame, Plan
from spikekit.cli.live_view import LiveView, plain_line
from spikekit.rundir.live import SecondSummary
from spikekit.scenarios.loader import load_scenario


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _second(t: int) -> SecondSummary:
    return SecondSummary(
        t=t,
        target_players=50,
        actual_players=48,
        requests=40 + t,
        failures=1,
        generator_errors=0,
        p50_ms=20.0,
        p95_ms=80.0,
        p99_ms=150.0,
        max_ms=300.0,
        generator_cpu_max=12.0,
        endpoints={"GET /api/lobby": (40 + t, 1, 30.0)},
    )


@pytest.fixture
def plan() -> Plan:
    return Plan.of(load_scenario("smoke"), "spikekit run smoke")


def _console(*, terminal: bool) -> Console:
    return Console(file=io.StringIO(), record=True, width=160, force_terminal=terminal)


def test_off_a_terminal_it_prints_todays_plain_lines(plan: Plan) -> None:
    console = _console(terminal=False)
    with LiveView(plan, console=console) as view:
        assert not view.live
        view.event("t=0: 1 workers, 1 faults scheduled, 50 s planned")
        for t in range(25):
            view.second(_second(t))
    lines = console.export_text().splitlines()
    assert lines == [
        "t=0: 1 workers, 1 faults scheduled, 50 s planned",
        plain_line(_second(0)),
        plain_line(_second(10)),
        plain_line(_second(20)),
    ]
    assert lines[2] == (
        "t 10 s  players 48 / 50  req/s 50  errors 2.0%  p95 80 ms  p99 150 ms  generator cpu 12 %"
    )
    assert view.redraws == 0


def test_term_dumb_gets_the_plain_lines_too(plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    console = _console(terminal=True)
    with LiveView(plan, console=console) as view:
        view.second(_second(0))
    assert not view.live and console.export_text().splitlines() == [plain_line(_second(0))]


def test_on_a_terminal_the_frame_is_drawn_and_the_events_stay_above_it(plan: Plan) -> None:
    console = _console(terminal=True)
    clock = FakeClock()
    with LiveView(plan, console=console, clock=clock) as view:
        assert view.live
        for t in range(3):
            view.second(_second(t))
            clock.t += 1.0
        view.event("t=2s injected slow-provider: provider.latency")
    text = console.export_text()
    assert view.redraws == 3
    assert "3 s of 50 s" in text and "stage 1/3 ramp to 50 players" in text
    assert "SLOs (live estimate" in text and "endpoints (last second, hottest first)" in text
    assert "t=2s injected slow-provider: provider.latency" in text
    assert plain_line(_second(0)) not in text  # no log lines under the live region


def test_it_redraws_at_most_twice_a_second(plan: Plan) -> None:
    console = _console(terminal=True)
    clock = FakeClock()
    with LiveView(plan, console=console, clock=clock) as view:
        for t in range(10):  # a burst of late seconds at one instant: one redraw
            view.second(_second(t))
        assert view.redraws == 1
        clock.t += 0.49
        view.second(_second(10))
        assert view.redraws == 1
        clock.t += 0.01
        view.second(_second(11))
        assert view.redraws == 2
        clock.t += 0.2
        view.second(_second(12))  # too soon: drawn when the view closes
        assert view.redraws == 2
    assert view.redraws == 3
    assert "13 s of 50 s" in console.export_text()  # the last second was drawn


class BreaksAfter(LiveFrame):
    """A frame whose drawing fails from its ``n``-th call on (a bug in the view)."""

    def __init__(self, plan: Plan, n: int) -> None:
        super().__init__(plan)
        self.calls, self.n = 0, n

    def render(self) -> RenderableType:
        self.calls += 1
        if self.calls >= self.n:
            raise ValueError("cannot draw this")
        return super().render()


def test_a_drawing_error_falls_back_to_plain_lines_and_says_so_once(
    plan: Plan, capsys: pytest.CaptureFixture[str]
) -> None:
    console = _console(terminal=True)
    clock = FakeClock()
    with LiveView(plan, console=console, clock=clock, frame=BreaksAfter(plan, 3)) as view:
        for t in range(14):
            view.second(_second(t))
            clock.t += 1.0
        view.event("t=13s reverted slow-provider")
    assert view.failed == "ValueError: cannot draw this"
    warned = capsys.readouterr().err
    assert warned.count("the live view failed (ValueError: cannot draw this)") == 1
    assert "plain lines from now on" in warned
    text = console.export_text()
    lines = text.splitlines()
    # second 0 was drawn at the start, second 1 broke it: its line at once, then every 10 s
    assert plain_line(_second(1)) in lines and plain_line(_second(11)) in lines
    assert plain_line(_second(2)) not in lines
    assert lines[-1] == "t=13s reverted slow-provider"


def test_a_view_that_cannot_even_start_runs_in_plain_lines(
    plan: Plan, capsys: pytest.CaptureFixture[str]
) -> None:
    console = _console(terminal=True)
    with LiveView(plan, console=console, frame=BreaksAfter(plan, 1)) as view:
        view.second(_second(0))
    assert view.failed is not None and "live view failed" in capsys.readouterr().err
    assert console.export_text().splitlines() == [plain_line(_second(0))]
