"""Which raw series of a scrape are worth a row in ``platform_metrics.parquet``.

Our services expose what the analysis reads and little else, so all of theirs are kept.
HAProxy's Prometheus exporter exposes about a hundred series per server (bytes, cache,
compression, idle connections, one row per possible state of every state gauge): about
340 rows a second for two gateway replicas, most of which nothing reads. Of HAProxy only
what the report, the hints and an operator use is kept, per backend and per server:
status (the current state's row only), current sessions, queue, retries, redispatches,
connection errors, 5xx answers and the last health check (its current state's row only),
plus the backend's count of servers in rotation. The ``lb_*`` aliases
(:mod:`.aliases`) are derived before this choice, so they see every row.
"""

from __future__ import annotations

from spikekit.telemetry.prometheus import LabelKey

#: metric names (as recorded, ``_per_s`` for counters) kept for service ``haproxy``
HAPROXY_SERIES = frozenset(
    f"haproxy_{level}_{name}"
    for level in ("backend", "server")
    for name in (
        "status",
        "current_sessions",
        "current_queue",
        "retry_warnings_per_s",
        "redispatch_warnings_per_s",
        "connection_errors_per_s",
        "http_responses_per_s",
    )
) | {"haproxy_backend_active_servers", "haproxy_server_check_status"}

#: gauges with one row per possible state, 1 for the current one: only that row is kept
_ONE_OF_STATES = frozenset(
    {"haproxy_backend_status", "haproxy_server_status", "haproxy_server_check_status"}
)


def _haproxy(metric: str, key: LabelKey, value: float) -> bool:
    if metric not in HAPROXY_SERIES:
        return False
    if metric in _ONE_OF_STATES:
        return value == 1
    if metric.endswith("http_responses_per_s"):
        return ("code", "5xx") in key
    return True


def keep(service: str, metric: str, key: LabelKey, value: float) -> bool:
    """Whether a raw row of ``service`` is recorded (its aliases always are)."""
    if service == "haproxy":
        return _haproxy(metric, key, value)
    return True
