"""A chaos run in a process of its own, for the crash and Ctrl-C tests.

``python -m tests.integration.chaos.chaos_child TOXIPROXY_URL JOURNAL LINK [LINK ...]``
puts a 60 s latency toxic on each link (at t=0) and waits, journaling to JOURNAL.
"""

from __future__ import annotations

import sys
from pathlib import Path

from spikekit.chaos.context import ChaosContext
from spikekit.chaos.registry import build_fault
from spikekit.chaos.run import ChaosRun
from spikekit.chaos.schedule import MonotonicClock, ScheduledFault, Scheduler
from spikekit.rundir.journal import Journal
from spikekit.scenarios.faults import NetworkLatency


def main(toxiproxy: str, journal_file: str, links: list[str]) -> None:
    ctx = ChaosContext(toxiproxy_url=toxiproxy)
    entries = []
    for index, name in enumerate(links):
        spec = NetworkLatency(type="network.latency", at=0, link=name, latency_ms=100)
        fault = build_fault(spec, ctx, fault_id=f"slow-{index}", duration_s=60)
        entries.append(ScheduledFault(fault, 0.0, 60.0))
    with Journal(Path(journal_file)) as journal:
        scheduler = Scheduler(entries, clock=MonotonicClock(journal.started), sinks=[journal])
        try:
            with ChaosRun(scheduler) as run:
                run.wait()
        except KeyboardInterrupt:
            sys.exit(130)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
