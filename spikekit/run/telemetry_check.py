"""Before a run: the telemetry a platform of your own offers, checked (docs/telemetry.md).

Every host the run will read telemetry from (``--scrape``, ``telemetry.scrape``, the
Prometheus server) goes through the run's target guard, as the target itself does; the
Prometheus server must answer its query API and run every query once, so that a query it
cannot parse is refused (exit 2) before anything starts, not found at t = 1 s.
"""

from __future__ import annotations

from collections.abc import Callable

from spikekit.guard import TargetGuard
from spikekit.run.options import RunOptions
from spikekit.scenarios import Scenario
from spikekit.scenarios.telemetry import scenario_queries
from spikekit.telemetry.promql import check_prometheus


def check_telemetry(
    scenario: Scenario, options: RunOptions, guard: TargetGuard, say: Callable[[str], None]
) -> None:
    """Raise UnsafeTargetError or ConfigError (exit 2), or say what will be recorded."""
    telemetry = scenario.telemetry
    for target in options.scrape_targets(telemetry):
        guard.check_url(target.url, f"telemetry scrape of {target.service}")
    prometheus = telemetry.prometheus if telemetry is not None else None
    if prometheus is None:
        return
    guard.check_url(prometheus.url, "telemetry.prometheus")
    queries = scenario_queries(scenario)
    version = check_prometheus(prometheus.url, queries)
    say(
        f"telemetry: Prometheus {version} at {prometheus.url}, {len(queries)} PromQL "
        "quer" + ("y" if len(queries) == 1 else "ies") + " each second"
    )
