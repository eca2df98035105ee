"""Analysis names from the metric names any Prometheus-instrumented platform exposes.

The bundled services name most of their metrics after themselves, and :mod:`.aliases`
maps those. A platform of the user's own, scraped with ``--scrape SERVICE=URL``, has no
psutil rows and none of our names, but it nearly always exposes a few names that the
common client libraries and exporters write; these rules turn them into the analysis
names the bottleneck hints read (docs/run-directory.md, "Names from common metrics"):

- **process CPU**: ``process_cpu_seconds_total`` (every official Prometheus client's
  process collector: Go, Python, Java simpleclient, Node's prom-client) is recorded as a
  rate, CPU seconds per second; times 100 it is ``scraped_cpu_percent``, the CPU % of one
  core of the process that serves the ``/metrics`` (an exporter's own CPU when the target
  is an exporter, not the CPU of what it exports);
- **DB pool**: ``*_db_pool_in_use`` / ``*_db_pool_size`` (:mod:`.aliases`), and HikariCP's
  ``hikaricp_connections_active`` / ``hikaricp_connections_max`` (Micrometer, label
  ``pool``), as ``db_pool_in_use`` / ``db_pool_size``. pgbouncer_exporter is left out: its
  in-use (``pgbouncer_pools_server_active_connections{database,user}``) and pool size
  (``pgbouncer_databases_pool_size{name}``) carry different label sets, so no pair of
  series says "the share of this pool in use" without a join the scrape cannot make;
- **queue depth**: ``*_queue_depth`` and ``*_stream_depth`` gauges, as ``stream_depth``
  with ``stream=<the name's prefix>`` unless the series has a ``stream`` or ``queue``
  label (that one names it);
- **HTTP 5xx**: the answers with a 5xx status of ``http_requests_total`` (labels
  ``status``/``code``/``status_code``), Micrometer's ``http_server_requests_seconds``
  (``status``), OpenTelemetry's ``http_server_request_duration_seconds``
  (``http_response_status_code``) and ours and prometheus-fastapi-instrumentator's
  ``http_request_duration_seconds`` (``status="5xx"``), per second, as ``http_5xx_per_s``
  with every label kept plus ``family=<the recorded name>``: a service that exposes two
  of these families counts each request twice, so the hints read one family per service.

Pure functions of one recorded row; the recorder calls :func:`common_aliases` for every
row of every scrape through :func:`spikekit.telemetry.aliases.aliases_for`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from spikekit.telemetry.prometheus import LabelKey

#: analysis names written here (the hints read them: spikekit/analysis/hints.py)
SCRAPED_CPU = "scraped_cpu_percent"
HTTP_5XX = "http_5xx_per_s"
DB_POOL_IN_USE = "db_pool_in_use"
DB_POOL_SIZE = "db_pool_size"
STREAM_DEPTH = "stream_depth"

#: the recorded name of ``process_cpu_seconds_total`` (a counter, recorded as a rate)
CPU_SECONDS_RATE = "process_cpu_seconds_per_s"

#: recorded HTTP families (counters and histogram counts, as rates) → their status labels
HTTP_FAMILIES: dict[str, tuple[str, ...]] = {
    "http_requests_per_s": ("status", "code", "status_code"),
    "http_server_requests_per_s": ("status",),
    "http_server_request_duration_per_s": ("http_response_status_code",),
    "http_request_duration_per_s": ("status",),
}
_5XX = re.compile(r"5(\d\d|xx)")

#: pool gauges under names of their own → the analysis name (labels kept: ``pool``)
POOL_NAMES = {
    "hikaricp_connections_active": DB_POOL_IN_USE,
    "hikaricp_connections_max": DB_POOL_SIZE,
}
_DEPTH_SUFFIXES = ("_queue_depth", "_stream_depth")
#: depth gauges that :mod:`.aliases` maps by name already (to their stream's real name)
NAMED_DEPTHS = frozenset({"payments_stream_depth"})


def is_5xx(metric: str, key: LabelKey) -> bool:
    """Whether a recorded row of an HTTP family counts answers with a 5xx status."""
    names = HTTP_FAMILIES.get(metric)
    if names is None:
        return False
    return any(k in names and _5XX.fullmatch(v) is not None for k, v in key)


def _depth_labels(metric: str, key: LabelKey) -> LabelKey:
    if any(k in ("stream", "queue") for k, _ in key):
        return tuple(sorted(("stream" if k == "queue" else k, v) for k, v in key))
    prefix = metric
    for suffix in _DEPTH_SUFFIXES:
        prefix = prefix.removesuffix(suffix)
    return tuple(sorted((*key, ("stream", prefix))))


def common_aliases(
    metric: str, key: LabelKey, value: float
) -> Iterator[tuple[str, LabelKey, float]]:
    """The analysis names (and values) under which a recorded row of a common name also
    appears; nothing for any other row."""
    if metric == CPU_SECONDS_RATE:
        yield SCRAPED_CPU, key, value * 100.0
    elif metric in HTTP_FAMILIES:
        if is_5xx(metric, key):
            yield HTTP_5XX, tuple(sorted((*key, ("family", metric)))), value
    elif metric in POOL_NAMES:
        yield POOL_NAMES[metric], key, value
    elif metric.endswith(_DEPTH_SUFFIXES) and metric not in NAMED_DEPTHS:
        yield STREAM_DEPTH, _depth_labels(metric, key), value
