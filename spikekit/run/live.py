"""The part of a run that starts at t = 0: the chaos schedule, its journal and the platform
recorder, all on the load's clock; stop conditions fed each second; one orderly stop.

Faults of the toolkit itself go to the journal as ``toolkit_incident`` and to the console
(``progress``) the moment they are noticed: a lost Locust worker or master (from the load
runner), a run folder that cannot be written, and Toxiproxy dying under the bundled
platform (checked every second): its links carry every call between the services, so the
run is stopped. A journal that cannot be written (disk full) never raises into the run:
the first error is kept in :attr:`LivePart.journal_error`. A stop condition on a platform
signal (``metric: query``) is fed the recorder's latest second of its series
(:func:`signal_values`), so PromQL or a scraped metric can end the run. With
``--metrics-port``, each second (with its live values), each fault event and each incident
also go to :class:`~spikekit.run.live_metrics.LiveMetrics`."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from spikekit.chaos.run import ChaosRun
from spikekit.chaos.schedule import MonotonicClock, ScheduledFault, Scheduler
from spikekit.chaos.steady import SteadyWindow
from spikekit.chaos.stop import SecondStats, StopConditions
from spikekit.load.events import LoadStarted
from spikekit.load.result import GeneratorIncident, IncidentKind
from spikekit.load.runner import LoadRunner
from spikekit.reference_platform.supervisor import ProcessEvent
from spikekit.run import hooks as run_hooks
from spikekit.run import rundir
from spikekit.run.live_metrics import LiveMetrics
from spikekit.run.platform import Platform
from spikekit.rundir.journal import (
    EventSink,
    FaultReverted,
    Journal,
    JournalEvent,
    PlatformEvent,
    RunEnded,
    RunStarted,
    ToolkitIncident,
)
from spikekit.rundir.layout import JOURNAL
from spikekit.rundir.live import SecondSummary
from spikekit.scenarios import SLO, Scenario, SLOMetric, StopCondition
from spikekit.scenarios.slo import TelemetrySeries
from spikekit.telemetry.latest import LatestSecond
from spikekit.telemetry.promql import feed_for
from spikekit.telemetry.recorder import PlatformRecorder

LOGIN = "POST /api/login"


#: how many seconds the recorder's latest second may lag the load's before it is no data
STALE_S = 3


def signal_values(
    conditions: Sequence[StopCondition | SLO], latest: LatestSecond | None, t: int
) -> dict[tuple[SLOMetric, str], float]:
    """The value of each platform signal the stop conditions (or SLOs, for the steady-state
    gate) watch, under ``(query, signal)``, from the recorder's last second (none when that
    second is older than :data:`STALE_S` behind ``t``)."""
    values: dict[tuple[SLOMetric, str], float] = {}
    if latest is None or latest.t < t - STALE_S:
        return values
    for condition in conditions:
        series = condition.series
        if condition.signal is None or series is None:
            continue
        if isinstance(series, TelemetrySeries) and series.per is not None:
            continue  # a ratio over a window: the analysis's, not one second's
        value = latest.worst(series, floor=condition.is_floor)
        if value is not None:
            factor = series.factor if isinstance(series, TelemetrySeries) else 1.0
            values[(SLOMetric.QUERY, condition.signal)] = value * factor
    return values


def second_stats(
    summary: SecondSummary, signals: Mapping[tuple[SLOMetric, str], float] | None = None
) -> SecondStats:
    """What the stop conditions look at, from the load's per-second summary (and the
    platform signals of :func:`signal_values`)."""
    values: dict[tuple[SLOMetric, str], float] = dict(signals or {})
    if summary.requests:
        values[(SLOMetric.ERROR_RATE, "*")] = summary.failures / summary.requests
        values[(SLOMetric.LATENCY_P95, "*")] = summary.p95_ms
        values[(SLOMetric.LATENCY_P99, "*")] = summary.p99_ms
    for endpoint, (requests, failures, p95) in summary.endpoints.items():
        if requests:
            values[(SLOMetric.ERROR_RATE, endpoint)] = failures / requests
            values[(SLOMetric.LATENCY_P95, endpoint)] = p95
            if endpoint in summary.endpoint_quantiles:  # not in older live.jsonl lines
                values[(SLOMetric.LATENCY_P99, endpoint)] = summary.endpoint_quantiles[endpoint][1]
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
        metrics: LiveMetrics | None = None,
    ) -> None:
        self.scenario = scenario
        self.metrics = metrics  # --metrics-port: the run's own series, fed each second
        self.run_dir = run_dir
        self.platform = platform
        self.faults = faults
        self.runner = runner
        self.hooks = hooks
        self.stops = StopConditions(scenario.stop_conditions)
        self.steady = SteadyWindow()  # the faults' steady-state gates read it
        for entry in faults:  # a fault's own gate, else the scenario's default
            if (gate := scenario.steady_state_for(entry.fault.spec)) is not None:
                entry.steady = self.steady.gate(gate, scenario.slos)
        self.journal: Journal | None = None
        self.chaos: ChaosRun | None = None
        self.recorder: PlatformRecorder | None = None
        self.started_at: float | None = None
        self.aborted: str | None = None
        self.journal_error: str | None = None
        self.incidents: list[GeneratorIncident] = []
        self.failed_reverts: list[FaultReverted] = []
        runner.events.started.add_listener(self.on_started)
        runner.events.second_elapsed.add_listener(self.on_second)
        runner.events.incident.add_listener(self.on_incident)

    # --- the journal, never raising ----------------------------------------------------------

    def record(self, event: JournalEvent) -> None:
        """Put ``event`` in the journal; a write that fails (disk full) is kept, not raised."""
        if isinstance(event, FaultReverted) and not event.ok:
            self.failed_reverts.append(event)
        if self.journal is None:
            return
        try:
            self.journal.write(event)
        except OSError as error:
            if self.journal_error is None:
                self.journal_error = f"cannot write {JOURNAL}: {error.strerror or error}"
                self.hooks.progress.fire(f"{self.journal_error} (journal events lost from here)")

    def on_incident(self, incident: GeneratorIncident) -> None:
        """A fault of the toolkit: journal it, say it; a hole in the data does not stop."""
        self.incidents.append(incident)
        if self.metrics is not None:
            self.metrics.incident(incident)
        if incident.kind in (IncidentKind.DISK_FULL, IncidentKind.WRITE_FAILED):
            rundir.release_space(self.run_dir, "journal")  # room to say what happened
        if self.journal is not None:
            self.record(
                ToolkitIncident(
                    **self.journal.stamp(),
                    kind=incident.kind.value,
                    subject=incident.subject,
                    detail=incident.detail,
                    records_lost_from_ts=incident.records_lost_from_ts,
                    records_of=list(incident.records_of),
                )
            )
        going_on = incident.kind is IncidentKind.WORKER_LOST and self.aborted is None
        then = "the run goes on; its data has a hole" if going_on else "the run stops"
        self.hooks.progress.fire(f"toolkit fault: {incident.detail} ({then})")

    def on_platform_event(self, happened: ProcessEvent) -> None:
        """A process of the platform exited or was started again: journal it, say it."""
        self.hooks.progress.fire(f"platform: {happened.detail}")
        if self.journal is not None:
            kind = "process_exited" if happened.kind == "exited" else "process_restarted"
            self.record(
                PlatformEvent(
                    **self.journal.stamp(),
                    kind=kind,
                    subject=happened.name,
                    detail=happened.detail,
                    pid=happened.pid,
                    exit_code=happened.exit_code,
                )
            )

    def on_started(self, started: LoadStarted) -> None:
        self.started_at = started.started_at
        t0 = time.monotonic() - (time.time() - started.started_at)
        self.journal = Journal(self.run_dir / JOURNAL, started=t0)
        sinks: list[EventSink] = [self.record, self.hooks.fault_event.fire]
        if self.metrics is not None:
            self.metrics.run_named(self.run_dir.name)
            sinks.append(self.metrics.fault_event)
        self.record(
            RunStarted(
                **self.journal.stamp(),
                scenario=self.scenario.name,
                planned_duration_s=self.scenario.planned_duration_s,
            )
        )
        scheduler = Scheduler(
            self.faults,
            clock=MonotonicClock(t0),
            sinks=sinks,
            run_end_t=self.scenario.planned_duration_s,
        )
        self.chaos = ChaosRun(scheduler, handle_signals=False).__enter__()
        self.recorder = PlatformRecorder(
            self.run_dir,
            self.platform.scrape_targets(),
            self.platform.watched_processes(),
            started_at=started.started_at,
            feed=feed_for(self.scenario, self.hooks.progress.fire),
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
        for happened in self.platform.tick():  # HAProxy or a service died, or came back
            self.on_platform_event(happened)
        lost = self.platform.lost() if self.aborted is None else None
        if lost is not None:
            t = time.time() - (self.started_at or time.time())  # now, not the second judged
            self.on_incident(GeneratorIncident(t, IncidentKind.TOXIPROXY_LOST, "toxiproxy", lost))
            self.abort(lost)
        signals = signal_values(
            [*self.scenario.stop_conditions, *self.scenario.slos],
            self.recorder.latest() if self.recorder is not None else None,
            summary.t,
        )
        stats = second_stats(summary, signals)
        self.steady.feed(stats)
        if self.metrics is not None:
            self.metrics.second(summary, stats)
        reason = self.stops.feed(stats)
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
                for line in self.recorder.feed.summary() if self.recorder.feed else []:
                    self.hooks.progress.fire(line)
                self.recorder = None
            if self.journal is not None:
                self.record(RunEnded(**self.journal.stamp(), status=status))
                journal, self.journal = self.journal, None
                try:
                    journal.close()
                except OSError as error:
                    self.journal_error = self.journal_error or f"cannot close {JOURNAL}: {error}"
