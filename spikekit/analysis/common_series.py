"""Series of the common metric names (docs/run-directory.md, "Names from common metrics"),
per service, for the bottleneck hints of a platform that only has those.

The recorder derives them (:mod:`spikekit.telemetry.common_names`; analysis reads only the
run directory, so the names are repeated here and a unit test ties the two):

- ``scraped_cpu_percent``: the CPU % of one core of the process serving a ``/metrics``,
  from its ``process_cpu_seconds_total``. The bundled platform's services expose it too,
  but psutil watches their processes more precisely (every process, PostgreSQL's backends
  included), so it is read only for a service that has no psutil row;
- ``http_5xx_per_s``: 5xx answers per second, labelled with the ``family`` they were read
  from; a service exposing two families would count every request twice, so one family is
  read per service and replica: the one with the most 5xx answers.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from typing import Any

import numpy as np

from spikekit.analysis import series as s
from spikekit.analysis.sources import Source, by_source, labels_of

SCRAPED_CPU = "scraped_cpu_percent"
HTTP_5XX = "http_5xx_per_s"
#: the recorded HTTP families the 5xx are read from (their every answer, for the share)
HTTP_FAMILIES = frozenset(
    {
        "http_requests_per_s",
        "http_server_requests_per_s",
        "http_server_request_duration_per_s",
        "http_request_duration_per_s",
    }
)
#: labels that name what was asked, in the order they are looked for
_ROUTE_LABELS = ("route", "handler", "uri", "http_route", "path", "endpoint")
_METHOD_LABELS = ("method", "http_request_method")


def scraped_cpu(metrics: Any, n: int, measured: Set[str]) -> dict[Source, s.Floats]:
    """CPU % of one core per (service, labels) from the scrape, for services not in
    ``measured`` (those psutil watched)."""
    return {
        source: cpu
        for source, cpu in by_source(metrics, SCRAPED_CPU, n).items()
        if source[0] not in measured
    }


@dataclass(frozen=True)
class ServerErrors:
    """One service (replica)'s 5xx answers per second, from one family: ``answers`` all
    its answers per second in that family (None when the raw rows are absent), and the
    5xx total per route."""

    family: str
    errors: s.Floats
    answers: s.Floats | None
    by_route: dict[str, s.Floats]

    def top_route(self, inside: slice) -> str | None:
        """The route with the most 5xx answers within ``inside``."""
        if not self.by_route:
            return None
        return max(self.by_route, key=lambda route: float(self.by_route[route][inside].sum()))


def _route(labels: dict[str, str]) -> str | None:
    route = next((labels[k] for k in _ROUTE_LABELS if k in labels), None)
    if route is None:
        return None
    method = next((labels[k] for k in _METHOD_LABELS if k in labels), None)
    return f"{method} {route}" if method else route


def server_errors(metrics: Any, n: int) -> dict[tuple[str, str | None], ServerErrors]:
    """5xx answers per (service, replica), one family each (the one with the most)."""
    grouped: dict[tuple[str, str | None, str], dict[str, s.Floats]] = {}
    for (service, text), values in by_source(metrics, HTTP_5XX, n).items():
        labels = labels_of(text)
        family = labels.pop("family", "")
        routes = grouped.setdefault((service, labels.get("instance"), family), {})
        route = _route(labels) or "(all)"
        routes[route] = np.nan_to_num(values) + routes.get(route, np.zeros(n))
    best: dict[tuple[str, str | None], ServerErrors] = {}
    for (service, replica, family), routes in grouped.items():
        errors = np.sum(list(routes.values()), axis=0)
        current = best.get((service, replica))
        if current is not None and current.errors.sum() >= errors.sum():
            continue
        answers = _answers(metrics, n, service, replica, family)
        named = {r: v for r, v in routes.items() if r != "(all)"}
        best[(service, replica)] = ServerErrors(family, errors, answers, named)
    return best


def _answers(
    metrics: Any, n: int, service: str, replica: str | None, family: str
) -> s.Floats | None:
    total: s.Floats | None = None
    for (who, text), values in by_source(
        s.metric_rows(metrics, family, service), family, n
    ).items():
        if who == service and labels_of(text).get("instance") == replica:
            total = np.nan_to_num(values) + (total if total is not None else np.zeros(n))
    return total
