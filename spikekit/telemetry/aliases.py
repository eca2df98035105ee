"""Names the analysis reads (docs/run-directory.md), derived from what services expose.

Services name their metrics after themselves (``wallet_db_pool_in_use``); the
analysis wants one name across services (``db_pool_in_use{pool=wallet}``).
Each rule maps a service metric to the analysis name and relabels it. The names any
Prometheus-instrumented platform exposes (process CPU, pools, queue depths, HTTP 5xx)
are :mod:`.common_names`' and apply to every target.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from spikekit.telemetry.common_names import common_aliases
from spikekit.telemetry.prometheus import LabelKey


@dataclass(frozen=True)
class Alias:
    source: str  # the per-second metric name as recorded (after rate/quantile derivation)
    target: str
    relabel: Callable[[str, LabelKey], LabelKey]
    transform: Callable[[float], float] = float
    keep: Callable[[LabelKey], bool] = lambda _: True  # which label sets of the source


def _rename(old: str, new: str) -> Callable[[str, LabelKey], LabelKey]:
    def relabel(_: str, key: LabelKey) -> LabelKey:
        return tuple(sorted((new if k == old else k, v) for k, v in key))

    return relabel


def _pool(service: str, key: LabelKey) -> LabelKey:
    return tuple(sorted((*key, ("pool", service))))


def _stream(name: str) -> Callable[[str, LabelKey], LabelKey]:
    """One series per stream, whichever replica reported it (they all see the same XLEN)."""

    def relabel(_: str, key: LabelKey) -> LabelKey:
        return (("stream", name),)

    return relabel


def _per_provider(_: str, key: LabelKey) -> LabelKey:
    """One series per provider, whichever router replica reported it."""
    return tuple((k, v) for k, v in key if k == "provider")


def _balancer(_: str, key: LabelKey) -> LabelKey:
    """HAProxy's ``proxy`` (and ``server``) as ``backend`` (and ``server``)."""
    return tuple(sorted(("backend" if k == "proxy" else k, v) for k, v in key if k != "state"))


def _checked_server_up(key: LabelKey) -> bool:
    """``haproxy_server_status{state="UP"}`` of a health-checked server (not a fail-open
    backup, see reference_platform/haproxy.py)."""
    labels = dict(key)
    return labels.get("state") == "UP" and not labels.get("server", "").endswith("-failopen")


_OP = _rename("operation", "op")
ALIASES: tuple[Alias, ...] = (
    Alias("wallet_transaction_duration_p95_ms", "wallet_tx_latency_p95_ms", _OP),
    Alias("wallet_transaction_duration_p99_ms", "wallet_tx_latency_p99_ms", _OP),
    # payment entries leave the stream only once final: its length is the backlog
    Alias("payments_stream_depth", "stream_depth", _stream("payments.requests")),
    Alias("payments_stream_depth", "stream_lag", _stream("payments.requests")),
    Alias("reporting_lag_entries", "stream_lag", _stream("wallet.events")),
    Alias("router_breaker_state", "breaker_state", _per_provider),
    Alias("router_provider_health_error_rate", "provider_health", _per_provider, lambda v: 1.0 - v),
    # HAProxy's Prometheus exporter (service "haproxy"): the load balancer's view of replicas
    Alias("haproxy_backend_active_servers", "lb_servers_up", _balancer),
    Alias("haproxy_server_status", "lb_server_up", _balancer, keep=_checked_server_up),
    Alias("haproxy_backend_current_queue", "lb_queue", _balancer),
    Alias("haproxy_backend_current_sessions", "lb_sessions", _balancer),
    Alias("haproxy_backend_retry_warnings_per_s", "lb_retries_per_s", _balancer),
    Alias("haproxy_backend_redispatch_warnings_per_s", "lb_redispatches_per_s", _balancer),
    Alias("haproxy_backend_connection_errors_per_s", "lb_connection_errors_per_s", _balancer),
)

_SUFFIX_ALIASES = {"_db_pool_in_use": "db_pool_in_use", "_db_pool_size": "db_pool_size"}


def aliases_for(
    service: str, metric: str, key: LabelKey, value: float = 0.0
) -> Iterator[tuple[str, LabelKey, float]]:
    """The analysis names (and values) under which a recorded row also appears."""
    for alias in ALIASES:
        if alias.source == metric and alias.keep(key):
            yield alias.target, alias.relabel(service, key), alias.transform(value)
    for suffix, target in _SUFFIX_ALIASES.items():
        if metric.endswith(suffix) and metric != target:
            yield target, _pool(service, key), value
    yield from common_aliases(metric, key, value)
