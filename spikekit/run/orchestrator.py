"""``spikekit run``: the whole spike on one clock, and every output at the end.

    scenario ─▶ run directory ─▶ platform up ─▶ load (t = 0) ─┬─ chaos schedule + journal
                                                             ├─ platform recorder
                                                             └─ stop conditions
               ◀─ report ◀─ audit + ledger ◀─ faults reverted ◀─ load ends / stops

With ``--metrics-port`` the live part also feeds the run's own series
(:mod:`spikekit.run.live_metrics`), served from before the run directory exists until every
output is written (:mod:`spikekit.run.live_metrics_server`; docs/live-metrics.md).

Ctrl-C or SIGTERM once: an orderly stop (faults reverted, load files written, audit run,
report of an aborted run). Twice: stop now; faults are still reverted on the way out.

Faults of the toolkit itself never end in a traceback: a lost Locust worker is a hole in
the data (the run goes on, the report says so and is inconclusive); a lost master, a
dead Toxiproxy or a full disk abort the run (exit 3) with the faults reverted and what
could be written kept. Per-second files the master could not write are rebuilt from
``load/live.jsonl``; when the report itself cannot be written (disk full) the outcome
says so, and ``spikekit report RUN_DIR`` builds it once there is room. A fault that could
not be reverted is named with how to revert it by hand.
"""

from __future__ import annotations

import dataclasses
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from spikekit.chaos.registry import scheduled_faults
from spikekit.chaos.resolve import available_for, refuse_unresolved, resolve_faults
from spikekit.errors import ConfigError, RunAborted
from spikekit.exit_codes import ExitCode
from spikekit.guard import TargetGuard
from spikekit.load.options import LoadOptions
from spikekit.load.result import LoadResult, LoadStatus, read_totals
from spikekit.load.runner import LoadRunner
from spikekit.reports.build import build_report
from spikekit.run import rundir
from spikekit.run.hooks import RunHooks, RunOutcome
from spikekit.run.ledger_source import check_ledger
from spikekit.run.live import LivePart
from spikekit.run.live_metrics import LiveMetrics
from spikekit.run.live_metrics_server import MetricsServer
from spikekit.run.machine_fit import check_this_machine
from spikekit.run.options import RunOptions
from spikekit.run.plan_record import record_plan
from spikekit.run.platform import Platform, platform_for
from spikekit.run.telemetry_check import check_telemetry
from spikekit.rundir.layout import JOURNAL, LIVE, META
from spikekit.rundir.tables import recover_from_live
from spikekit.scenarios import Scenario
from spikekit.scenarios.target import UrlTarget

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SpikeRun:
    def __init__(self, options: RunOptions, hooks: RunHooks | None = None) -> None:
        self.options = options
        self.hooks = hooks or RunHooks()
        self.scenario: Scenario = options.resolve()
        #: the peak against this machine's bundled platform (None: a platform of your own)
        self.machine_fit = check_this_machine(self.scenario, ref=options.scenario)
        self.live: LivePart | None = None
        self._signals = 0
        self.notes: list[str] = []  # what could not be done (disk full ...), for the outcome

    def _say(self, text: str) -> None:
        self.hooks.progress.fire(text)

    @contextmanager
    def _orderly_signals(self) -> Iterator[None]:
        """First SIGINT/SIGTERM: stop in order. Second: raise KeyboardInterrupt."""

        def handler(signum: int, _frame: FrameType | None) -> None:
            self._signals += 1
            name = signal.Signals(signum).name
            if self._signals > 1 or self.live is None or self.live.started_at is None:
                raise KeyboardInterrupt(name)
            self.live.abort(f"interrupted by {name}")

        previous: dict[signal.Signals, Any] = {s: signal.signal(s, handler) for s in _SIGNALS}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    def execute(self) -> RunOutcome:
        """The run; with ``--metrics-port`` its metrics are served from before anything
        starts (a port in use: exit 2) until every output is written, then the port is
        closed on every way out."""
        if self.options.metrics_port is None:
            return self._execute(None)
        metrics = LiveMetrics(self.scenario)
        server = MetricsServer(
            metrics.registry, self.options.metrics_bind, self.options.metrics_port
        )
        with server:  # bound here, closed on every way out
            self._say(f"live metrics: {server.url}")
            return self._execute(metrics)

    def _execute(self, metrics: LiveMetrics | None) -> RunOutcome:
        scenario, options = self.scenario, self.options
        guard = TargetGuard(options.allow_targets)
        if isinstance(scenario.target, UrlTarget):
            guard.check_url(scenario.target.url, "target")
            if scenario.target.ledger is not None:  # refused before anything starts
                source = check_ledger(scenario.target.ledger, options.scenario, guard)
                self._say(f"wallet audit: the ledger will be read from {source}")
            check_telemetry(scenario, options, guard, self._say)  # hosts guarded, PromQL run
        have = available_for(scenario, toxiproxy_url=options.toxiproxy_url)
        refuse_unresolved(resolve_faults(scenario, have))  # exit 2 before anything starts
        run_dir = rundir.create(options.out, scenario)
        (run_dir / JOURNAL).touch()
        rundir.reserve_space(run_dir)
        started_wall = time.time()
        fit = self.machine_fit.record() if self.machine_fit else None
        rundir.write_meta(run_dir, scenario, "", started_at=started_wall, machine_fit=fit)
        record_plan(run_dir, scenario)  # capacity_plan.json: only with measured costs
        self._say(f"run directory: {run_dir}")
        result: LoadResult | None = None
        with self._orderly_signals(), platform_for(scenario, run_dir, options, self._say) as pf:
            rundir.write_meta(
                run_dir, scenario, pf.base_url, started_at=started_wall, machine_fit=fit
            )
            faults = scheduled_faults(scenario, pf.chaos_context(guard))
            load_options = LoadOptions(
                workers=options.workers,
                allow_targets=options.allow_targets,
                remote_workers=options.remote_workers,
                master_bind=options.master_bind,
                master_port=options.master_port,
            )
            runner = LoadRunner(scenario, pf.base_url, run_dir, load_options)
            self.live = LivePart(scenario, run_dir, pf, faults, runner, self.hooks, metrics)
            status = "aborted"
            try:
                runner.start()
                self._say(f"load: {runner.plan.workers} Locust workers against {pf.base_url}")
                result = runner.wait()
                status = "completed" if result.status is LoadStatus.COMPLETED else "aborted"
            finally:
                self.live.close(status)
                if metrics is not None:
                    metrics.ended()
            self._finish(pf, run_dir)
        return self._conclude(run_dir, started_wall, result)

    def _finish(self, pf: Platform, run_dir: Path) -> None:
        """The after-run audit, unless the run folder cannot take its files."""
        try:
            pf.finish(run_dir)
        except OSError as error:
            note = f"the wallet audit was not taken: {error.strerror or error}"
            self.notes.append(note)
            self._say(note)

    def _conclude(
        self, run_dir: Path, started_wall: float, result: LoadResult | None
    ) -> RunOutcome:
        assert self.live is not None
        aborted = self.live.aborted
        if aborted is None and result is not None and result.status is not LoadStatus.COMPLETED:
            aborted = result.reason or result.status.value
        rundir.release_space(run_dir)
        if result is not None and self._rebuild_load_files(run_dir):
            totals, tracking = read_totals(run_dir, self.scenario.planned_duration_s)
            result = dataclasses.replace(result, totals=totals, tracking=tracking)
        started_at = self.live.started_at or started_wall
        try:
            rundir.write_meta(
                run_dir,
                self.scenario,
                self.live.runner.target_url,
                started_at=started_at,
                ended_at=time.time(),
                aborted=aborted,
                machine_fit=self.machine_fit.record() if self.machine_fit else None,
            )
        except OSError as error:
            self.notes.append(f"{META} not updated: {error.strerror or error}")
        if result is None:
            raise RunAborted(f"the run ended before its load started; see {run_dir}")
        self._say("analysing and writing the report ...")
        try:
            built = build_report(run_dir)
        except (OSError, ConfigError) as error:
            return self._unreported(run_dir, aborted, result, error)
        verdict = built.summary.verdict
        not_reverted = tuple(
            f"{f.fault_id} ({f.fault} on {f.target}): {f.reason}; revert it by hand: "
            f"{f.revert_by_hand}"
            for f in built.summary.faults_not_reverted
        )
        for line in not_reverted:
            self._say(f"fault NOT reverted: {line}")
        incidents = tuple(
            f"t={i.t:.0f} s {i.kind}: {i.detail}" for i in built.summary.toolkit_incidents
        )
        paragraph = " ".join([verdict.paragraph, *self.notes])
        outcome = RunOutcome(
            run_dir=run_dir,
            verdict=verdict.verdict,
            paragraph=paragraph,
            exit_code=verdict.exit_code,
            aborted=aborted,
            load=result,
            outputs=(built.html, built.summary_path, built.junit),
            incidents=incidents,
            not_reverted=not_reverted,
        )
        self.hooks.run_ended.fire(outcome)
        return outcome

    def _rebuild_load_files(self, run_dir: Path) -> bool:
        """The per-second files the Locust master did not write, from ``load/live.jsonl``."""
        try:
            rebuilt = recover_from_live(run_dir)
        except OSError as error:
            self.notes.append(f"per-second data not rebuilt: {error.strerror or error}")
            return False
        for name in rebuilt:
            self._say(f"rebuilt {name} from {LIVE}")
        if rebuilt:
            self.notes.append(
                f"Per-second data rebuilt from {LIVE} ({', '.join(rebuilt)}; "
                "per-endpoint p50/p99/max unknown)."
            )
        return bool(rebuilt)

    def _unreported(
        self, run_dir: Path, aborted: str | None, result: LoadResult, error: Exception
    ) -> RunOutcome:
        """The report could not be built (disk full): say what happened, exit 3."""
        assert self.live is not None
        why = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        sentences = [f"The run was aborted before its end ({aborted})." if aborted else ""]
        sentences += [f"The toolkit itself failed at {i.text()}." for i in self.live.incidents]
        sentences += [
            f"Fault '{r.fault_id}' ({r.fault} on {r.target}) was not reverted ({r.error}); "
            f"revert it by hand: spikekit chaos revert --all {run_dir}."
            for r in self.live.failed_reverts
        ]
        sentences += self.notes
        sentences.append(
            f"The report could not be written ({why}): make room, then run "
            f"`spikekit report {run_dir}`."
        )
        self._say(f"report not written: {why}")
        outcome = RunOutcome(
            run_dir=run_dir,
            verdict="FAILED",
            paragraph=" ".join(x for x in sentences if x),
            exit_code=ExitCode.ABORTED,
            aborted=aborted or f"the report could not be written ({why})",
            load=result,
            outputs=(run_dir,),
            incidents=tuple(i.text() for i in self.live.incidents),
            not_reverted=tuple(
                f"{r.fault_id}: {r.error}; revert it by hand: spikekit chaos revert --all {run_dir}"
                for r in self.live.failed_reverts
            ),
        )
        self.hooks.run_ended.fire(outcome)
        return outcome
