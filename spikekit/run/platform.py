"""What a run runs against: the bundled platform, started for the run inside its run
directory, or a platform of the user's own at a URL. Either way the run gets a base URL for
the load, a context for the chaos engine, what to record, and an after-run audit."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from spikekit.chaos.context import ChaosContext
from spikekit.guard import TargetGuard
from spikekit.reference_platform.audit import audit_sync
from spikekit.reference_platform.control_api import StackControl
from spikekit.reference_platform.ledger_export import ledger_table, payments_table
from spikekit.reference_platform.quiet import QuietWatch, activity
from spikekit.reference_platform.spec import Profile as StackProfile
from spikekit.reference_platform.spec import StackSpec, default_stack
from spikekit.reference_platform.supervisor import ProcessEvent, Stack
from spikekit.run.ledger_source import LedgerError, describe, read_ledger, split_declined
from spikekit.run.options import RunOptions
from spikekit.rundir.frames import write_audit, write_ledger, write_payments
from spikekit.rundir.layout import PLATFORM_DIR
from spikekit.scenarios import Scenario
from spikekit.scenarios.target import PlatformTarget, UrlTarget
from spikekit.scenarios.telemetry import Telemetry
from spikekit.telemetry.recorder import ScrapeTarget, WatchedProcess

Say = Callable[[str], None]


class ExternalPlatform:
    """A platform of the user's own: load, the faults it offers, and an audit of its
    ledger when ``target.ledger`` says how to read it (docs/ledger-export.md)."""

    def __init__(
        self,
        target: UrlTarget,
        options: RunOptions,
        say: Say = print,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.base_url = target.url.rstrip("/")
        self.telemetry = telemetry
        self.ledger = target.ledger
        self.options = options
        self.say = say
        self.entered = datetime.now(UTC)

    def __enter__(self) -> ExternalPlatform:
        self.entered = datetime.now(UTC)
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def chaos_context(self, guard: TargetGuard) -> ChaosContext:
        return ChaosContext(guard=guard, toxiproxy_url=self.options.toxiproxy_url)

    def scrape_targets(self) -> list[ScrapeTarget]:
        """What ``--scrape SERVICE=URL`` and ``telemetry.scrape`` name (checked when the
        options were resolved)."""
        return self.options.scrape_targets(self.telemetry)

    def watched_processes(self) -> list[WatchedProcess]:
        return []

    def tick(self) -> list[ProcessEvent]:
        """Called once a second on the main thread: nothing of this platform is watched."""
        return []

    def lost(self) -> str | None:
        """A toolkit process of ours that died under the run: none here (the user's
        Toxiproxy is theirs; a revert that cannot reach it is reported as such)."""
        return None

    def finish(self, run_dir: Path) -> None:
        """Let the platform settle, then read its ledger as ``target.ledger`` says (nothing
        without it: the report says the reconciliation was skipped). A source that cannot
        be read is said and leaves the audit skipped; the run's other outputs stand."""
        if self.ledger is None:
            return
        self.say(f"letting the platform settle for {self.options.drain_s:g} s ...")
        time.sleep(self.options.drain_s)
        where = describe(self.ledger, self.options.scenario)
        try:
            table = read_ledger(self.ledger, self.options.scenario, self.entered, datetime.now(UTC))
        except LedgerError as error:
            self.say(f"wallet audit: not taken, the ledger could not be read: {error}")
            return
        ledger, declined = split_declined(table)
        write_ledger(run_dir, ledger)
        if declined is not None:  # accepted, then declined: the audit excuses them
            write_payments(run_dir, declined)
        also = f" and {declined.num_rows:,} declined payments" if declined is not None else ""
        self.say(f"wallet audit: {ledger.num_rows:,} ledger entries{also} from {where}")


def stack_spec(scenario: Scenario, options: RunOptions) -> StackSpec:
    assert isinstance(scenario.target, PlatformTarget)
    players = options.players if options.players is not None else scenario.population.accounts
    spec = default_stack().with_options(
        profile=StackProfile(scenario.target.profile.value), players=players
    )
    return spec.with_replicas(**{s.value: n for s, n in scenario.target.replicas.items()})


class BundledPlatform:
    """The reference platform, started in ``<run_dir>/platform`` and stopped after the run."""

    def __init__(
        self, scenario: Scenario, run_dir: Path, options: RunOptions, say: Say = print
    ) -> None:
        self.stack = Stack(stack_spec(scenario, options), run_dir / PLATFORM_DIR)
        self.options = options
        self.say = say
        self.control: StackControl | None = None

    def __enter__(self) -> BundledPlatform:
        started = time.monotonic()
        self.say(
            f"starting the reference platform ({self.stack.spec.profile.value}, "
            f"{self.stack.spec.players:,} players) ..."
        )
        self.stack.start()
        self.control = StackControl(self.stack)
        self.say(f"platform up in {time.monotonic() - started:.1f} s")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.say("stopping the reference platform ...")
        try:
            self.stack.stop()
        except OSError as failed:  # stack.json not written (disk full); everything stopped
            self.say(f"platform state not saved ({failed.strerror or failed}); it is stopped")

    @property
    def base_url(self) -> str:
        """HAProxy in front of the gateway replicas when it runs, else the one gateway."""
        return self.stack.player_url

    def chaos_context(self, guard: TargetGuard) -> ChaosContext:
        return ChaosContext.for_platform(
            self.stack.state_dir, guard=guard, toxiproxy_url=self.options.toxiproxy_url
        )

    def scrape_targets(self) -> list[ScrapeTarget]:
        targets = [
            ScrapeTarget(r.spec.name, r.url, r.process.name if r.spec.replicas > 1 else None)
            for r in self.stack.replicas
        ]
        if self.stack.balancer is not None:  # its Prometheus exporter: up/down, queue, retries
            targets.append(ScrapeTarget("haproxy", self.stack.balancer.stats_url))
        return targets

    def watched_processes(self) -> list[WatchedProcess]:
        state = self.stack.state
        if state is None:
            return []
        watched = [WatchedProcess(s.service, s.ref()) for s in state.services]
        watched += [WatchedProcess(b.kind, b.ref()) for b in state.backing]
        if state.balancer is not None:
            watched.append(WatchedProcess("haproxy", state.balancer.ref()))
        return watched

    def tick(self) -> list[ProcessEvent]:
        """Answer the chaos engine's restart requests (only this thread may start children);
        what happened to the stack's processes since the last tick (exits, restarts)."""
        if self.control is not None:
            self.control.handle_pending()
        return self.stack.watch()

    def lost(self) -> str | None:
        """Why the run cannot go on because a toolkit process of the stack died, or None.

        Toxiproxy is the toolkit's, not the platform's, and the supervisor does not restart
        it: every link between the services goes through it, so without it the platform is
        cut off, and the toxics it held died with it.
        """
        proxy = self.stack.toxiproxy
        if proxy is None:
            return None
        code = proxy.process.poll()
        if code is None:
            return None
        how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
        with contextlib.suppress(ValueError):
            how = f"killed by {signal.Signals(-code).name}" if code < 0 else how
        return (
            f"Toxiproxy (PID {proxy.process.pid}) {how}: every link between the platform's "
            "services goes through it, so the platform is cut off (the supervisor does not "
            "restart it), and the toxics it held died with it"
        )

    def finish(self, run_dir: Path) -> None:
        """Let queues drain, then export the ledger and audit it."""
        if self.stack.postgres is None:
            return
        dsn = self.stack.postgres.dsn
        redis_url = self.stack.redis.url if self.stack.redis is not None else None
        self.say(f"letting queues drain (up to {self.options.drain_s:g} s) ...")
        started = time.monotonic()
        watch = QuietWatch()
        while (waited := time.monotonic() - started) < self.options.drain_s:
            self.tick()
            if redis_url is not None and watch.quiet(activity(dsn, redis_url)):
                self.say(f"queues drained in {waited:.1f} s")
                break
            time.sleep(0.2)
        ledger = ledger_table(dsn)
        write_ledger(run_dir, ledger)
        entries = ledger.num_rows
        if self.stack.redis is not None:
            write_payments(run_dir, payments_table(self.stack.redis.url))
        report = audit_sync(dsn)
        write_audit(run_dir, report.model_dump())
        verdict = "clean" if report.ok else "DISCREPANCIES"
        self.say(f"wallet audit: {verdict} ({entries:,} ledger entries)")


Platform = BundledPlatform | ExternalPlatform


def platform_for(
    scenario: Scenario, run_dir: Path, options: RunOptions, say: Say = print
) -> Platform:
    if isinstance(scenario.target, PlatformTarget):
        return BundledPlatform(scenario, run_dir, options, say)
    return ExternalPlatform(scenario.target, options, say, scenario.telemetry)
