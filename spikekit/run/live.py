"""The part of a run that starts at t = 0: the chaos schedule, its journal and the platform
recorder, all on the load's clock; stop conditions fed each second; one orderly stop."""

from __future__ import annotations

import time
from pathlib import Path

from spikekit.chaos.journal import Journal, RunEnded, RunStarted
from spikekit.chaos.run import ChaosRun
from spikekit.chaos.schedule import MonotonicClock, ScheduledFault, Scheduler
from spikekit.chaos.stop import SecondStats, StopConditions
from spikekit.load.events import LoadStarted
from spikekit.load.recorder import SecondSummary
from spikekit.load.runner import LoadRunner
from spikekit.run import hooks as run_hooks
from spikekit.run.platform import Platform
from spikekit.scenarios import Scenario, SLOMetric
from spikekit.telemetry.recorder import PlatformRecorder

JOURNAL = "journal.jsonl"
LOGIN = "POST /api/login"


def second_stats(summary: SecondSummary) -> SecondStats:
    """What the stop conditions look at, from the load's per-second summary."""
    values: dict[tuple[SLOMetric, str], float] = {}
    if summary.requests:
        values[(SLOMetric.ERROR_RATE, "*")] = summary.failures / summary.requests
        values[(SLOMetric.LATENCY_P95, "*")] = summary.p95_ms
        values[(SLOMetric.LATENCY_P99, "*")] = summary.p99_ms
    for endpoint, (requests, failures, p95) in summary.endpoints.items():
        if requests:
            values[(SLOMetric.ERROR_RATE, endpoint)] = failures / requests
            values[(SLOMetric.LATENCY_P95, endpoint)] = p95
            if endpoint == LOGIN:
                values[(SLOMetric.LOGIN_SUCCESS_RATE, endpoint)] = 1 - failures / requests
    return SecondStats(summary.t, values)


class LivePart:
    """Subscribed to the load runner's events; owns everything that must stop with it."""

    def __init__(
        self,
        scenario: Scenario,
        run_dir: Path,
        platform: Platform,
        faults: list[ScheduledFault],
        runner: LoadRunner,
        hooks: run_hooks.RunHooks,
    ) -> None:
        self.scenario = scenario
        self.run_dir = run_dir
        self.platform = platform
        self.faults = faults
        self.runner = runner
        self.hooks = hooks
        self.stops = StopConditions(scenario.stop_conditions)
        self.journal: Journal | None = None
        self.chaos: ChaosRun | None = None
        self.recorder: PlatformRecorder | None = None
        self.started_at: float | None = None
        self.aborted: str | None = None
        runner.events.started.add_listener(self.on_started)
        runner.events.second_elapsed.add_listener(self.on_second)

    def on_started(self, started: LoadStarted) -> None:
        self.started_at = started.started_at
        t0 = time.monotonic() - (time.time() - started.started_at)
        self.journal = Journal(self.run_dir / JOURNAL, started=t0)
        self.journal.write(
            RunStarted(
                **self.journal.stamp(),
                scenario=self.scenario.name,
                planned_duration_s=self.scenario.planned_duration_s,
            )
        )
        scheduler = Scheduler(
            self.faults,
            clock=MonotonicClock(t0),
            sinks=[self.journal, self.hooks.fault_event.fire],
            run_end_t=self.scenario.planned_duration_s,
        )
        self.chaos = ChaosRun(scheduler, handle_signals=False).__enter__()
        self.recorder = PlatformRecorder(
            self.run_dir,
            self.platform.scrape_targets(),
            self.platform.watched_processes(),
            started_at=started.started_at,
        ).start()
        self.hooks.run_started.fire(
            run_hooks.RunStarted(
                run_dir=self.run_dir,
                scenario=self.scenario.name,
                target_url=self.runner.target_url,
                started_at=started.started_at,
                planned_duration_s=started.planned_duration_s,
                workers=started.workers,
                faults=len(self.faults),
            )
        )

    def on_second(self, summary: SecondSummary) -> None:
        self.platform.tick()
        reason = self.stops.feed(second_stats(summary))
        if reason is not None:
            self.abort(reason)
        self.hooks.second_elapsed.fire(summary)

    def abort(self, reason: str) -> None:
        """End the run early and in order: faults reverted, load stopped, files written."""
        if self.aborted is not None:
            return
        self.aborted = reason
        self.hooks.progress.fire(f"stopping early: {reason}")
        if self.chaos is not None:
            self.chaos.abort(reason)
        self.runner.stop(reason)

    def close(self, status: str) -> None:
        """Revert every fault, stop recording, close the journal. Safe to call twice."""
        try:
            if self.chaos is not None:
                chaos, self.chaos = self.chaos, None
                chaos.__exit__(None, None, None)
        finally:
            if self.recorder is not None:
                self.recorder.stop()
                self.recorder = None
            if self.journal is not None:
                self.journal.write(RunEnded(**self.journal.stamp(), status=status))
                self.journal.close()
                self.journal = None
