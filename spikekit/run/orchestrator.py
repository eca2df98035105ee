"""``spikekit run``: the whole spike on one clock, and every output at the end.

    scenario ─▶ run directory ─▶ platform up ─▶ load (t = 0) ─┬─ chaos schedule + journal
                                                             ├─ platform recorder
                                                             └─ stop conditions
               ◀─ report ◀─ audit + ledger ◀─ faults reverted ◀─ load ends / stops

Ctrl-C or SIGTERM once: an orderly stop (faults reverted, load files written, audit run,
report of an aborted run). Twice: stop now; faults are still reverted on the way out.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from spikekit.chaos.guard import TargetGuard
from spikekit.chaos.registry import scheduled_faults
from spikekit.errors import RunAborted
from spikekit.load.options import LoadOptions
from spikekit.load.result import LoadResult, LoadStatus
from spikekit.load.runner import LoadRunner
from spikekit.reports.build import build_report
from spikekit.run import rundir
from spikekit.run.hooks import RunHooks, RunOutcome
from spikekit.run.live import JOURNAL, LivePart
from spikekit.run.options import RunOptions
from spikekit.run.platform import platform_for
from spikekit.scenarios import Scenario
from spikekit.scenarios.target import UrlTarget

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SpikeRun:
    def __init__(self, options: RunOptions, hooks: RunHooks | None = None) -> None:
        self.options = options
        self.hooks = hooks or RunHooks()
        self.scenario: Scenario = options.resolve()
        self.live: LivePart | None = None
        self._signals = 0

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
        scenario, options = self.scenario, self.options
        guard = TargetGuard(options.allow_targets)
        if isinstance(scenario.target, UrlTarget):
            guard.check_url(scenario.target.url, "target")
        run_dir = rundir.create(options.out, scenario)
        (run_dir / JOURNAL).touch()
        started_wall = time.time()
        rundir.write_meta(run_dir, scenario, "", started_at=started_wall)
        self._say(f"run directory: {run_dir}")
        result: LoadResult | None = None
        with self._orderly_signals(), platform_for(scenario, run_dir, options, self._say) as pf:
            rundir.write_meta(run_dir, scenario, pf.base_url, started_at=started_wall)
            faults = scheduled_faults(scenario, pf.chaos_context(guard))
            load_options = LoadOptions(
                workers=options.workers,
                allow_targets=options.allow_targets,
                remote_workers=options.remote_workers,
                master_bind=options.master_bind,
                master_port=options.master_port,
            )
            runner = LoadRunner(scenario, pf.base_url, run_dir, load_options)
            self.live = LivePart(scenario, run_dir, pf, faults, runner, self.hooks)
            status = "aborted"
            try:
                runner.start()
                self._say(f"load: {runner.plan.workers} Locust workers against {pf.base_url}")
                result = runner.wait()
                status = "completed" if result.status is LoadStatus.COMPLETED else "aborted"
            finally:
                self.live.close(status)
            pf.finish(run_dir)
        return self._conclude(run_dir, started_wall, result)

    def _conclude(
        self, run_dir: Path, started_wall: float, result: LoadResult | None
    ) -> RunOutcome:
        assert self.live is not None
        aborted = self.live.aborted
        if aborted is None and result is not None and result.status is not LoadStatus.COMPLETED:
            aborted = result.reason or result.status.value
        started_at = self.live.started_at or started_wall
        rundir.write_meta(
            run_dir,
            self.scenario,
            self.live.runner.target_url,
            started_at=started_at,
            ended_at=time.time(),
            aborted=aborted,
        )
        if result is None:
            raise RunAborted(f"the run ended before its load started; see {run_dir}")
        self._say("analysing and writing the report ...")
        built = build_report(run_dir)
        verdict = built.summary.verdict
        outcome = RunOutcome(
            run_dir=run_dir,
            verdict=verdict.verdict,
            paragraph=verdict.paragraph,
            exit_code=verdict.exit_code,
            aborted=aborted,
            load=result,
            outputs=(built.html, built.summary_path, built.junit),
        )
        self.hooks.run_ended.fire(outcome)
        return outcome
