"""Telemetry from a platform of the user's own: the ``telemetry:`` section of a scenario.

A platform of your own gets no telemetry of the bundled kind, so the scenario says where
its signals are, two ways that may be combined (docs/telemetry.md)::

    telemetry:
      scrape:                              # Prometheus text at URL/metrics, once a second
        - {service: api, url: http://127.0.0.1:8080}
      prometheus:                          # a Prometheus server's HTTP query API
        url: http://127.0.0.1:9090
        queries:                           # NAME: PROMQL, evaluated once a second
          api_5xx_per_s: sum(rate(http_requests_total{code=~"5.."}[15s]))
          db_pool_in_use: {query: max(pool_in_use), service: wallet}
          up: {query: up, service_label: job}   # each row's service: its series' job

``scrape`` is the scenario's ``--scrape SERVICE=URL``. Each query's answer is recorded as
rows of ``platform_metrics.parquet`` with ``metric=NAME``, ``service=prometheus`` (or the
query's ``service``, or per series the value of its ``service_label``) and the labels of
each returned series. An SLO or a stop condition
of ``metric: query`` may also carry its own PromQL (``query:``): it is evaluated as one
more query of this section, under a name derived from the SLO's name
(:func:`query_series_name`).

Everything here is untrusted input: URLs are http(s) with a host, names are metric
names, the number of queries and the length of each are bounded, and every problem
names its field. Whether the hosts may be reached is the run's guard's to say.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from spikekit.scenarios.model import FieldPath, Scenario
    from spikekit.scenarios.slo import SeriesRef

#: the service of a query's rows unless the query names one
PROMETHEUS_SERVICE = "prometheus"
MAX_QUERIES = 50  # evaluated every second: one request each
MAX_QUERY_CHARS = 2000
MAX_SCRAPES = 100
QUERY_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$")
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,99}$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,99}$")
_NAME_EXPECTED = (
    "a metric name (letters, digits, '_' and ':', not starting with a digit, at most "
    "200 characters)"
)
_SERVICE_EXPECTED = "a lower-case service name such as 'api' or 'wallet-db' (at most 100)"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def http_base_url(value: str) -> str:
    """An http(s) URL with a host and neither query nor fragment, without its final ``/``."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"an http:// or https:// URL with a host, got {value!r}")
    if parts.query or parts.fragment or len(value) > 2000:
        raise ValueError(
            f"a base URL without '?query' or '#fragment' (2000 at most), got {value!r}"
        )
    return value.rstrip("/")


def check_promql(text: str) -> str:
    """A PromQL expression as text: 1 to :data:`MAX_QUERY_CHARS` characters, printable.

    Whether it parses is Prometheus's to say: the run asks it once before it starts.
    """
    expr = text.strip()
    if not expr or len(expr) > MAX_QUERY_CHARS or _CONTROL.search(expr):
        raise ValueError(
            f"a PromQL expression of 1 to {MAX_QUERY_CHARS} printable characters, got "
            f"{len(expr)} characters{' with control characters' if _CONTROL.search(expr) else ''}"
        )
    return expr


def query_series_name(kind: str, name: str) -> str:
    """The series name a ``query:`` of an SLO (``kind`` ``slo``, the SLO's name) or of a
    stop condition (``stop``, the expression itself: stop conditions have no name) is
    recorded under: ``slo_wager_p95``, ``stop_3f9a0c12b4de``."""
    if kind == "stop":
        return f"stop_{hashlib.sha256(name.encode()).hexdigest()[:12]}"
    slug = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")[:120]
    return f"{kind}_{slug or 'query'}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScrapeUrl(_Model):
    """A ``/metrics`` of the platform, recorded as ``--scrape SERVICE=URL`` is."""

    service: str = Field(description="The name its rows are recorded under.")
    url: str = Field(description="The base URL whose /metrics is read (a final /metrics is fine).")

    @field_validator("service")
    @classmethod
    def _service(cls, value: str) -> str:
        if not SERVICE_NAME.match(value):
            raise ValueError(f"{_SERVICE_EXPECTED}, got {value!r}")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_base_url(value).removesuffix("/metrics")


class PromQuery(_Model):
    """One PromQL expression; written as a plain string, it is the expression alone."""

    query: str = Field(description="The PromQL expression (an instant vector or a scalar).")
    service: str = Field(
        default=PROMETHEUS_SERVICE, description="The service its rows are recorded under."
    )
    service_label: str | None = Field(
        default=None,
        description="A label (e.g. job) whose value is each row's service instead "
        "(the label is then left out of the row's labels; a series without it: service).",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"query": data}
        if not isinstance(data, dict | BaseModel):
            raise ValueError(f"a PromQL expression or a mapping (query, service), got {data!r}")
        return data

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        return check_promql(value)

    @field_validator("service")
    @classmethod
    def _service(cls, value: str) -> str:
        if not SERVICE_NAME.match(value):
            raise ValueError(f"{_SERVICE_EXPECTED}, got {value!r}")
        return value

    @field_validator("service_label")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        if value is not None and not LABEL_NAME.match(value):
            raise ValueError(f"a label name such as 'job' or 'service', got {value!r}")
        return value


class PrometheusSource(_Model):
    """A Prometheus server whose query API evaluates ``queries`` once a second."""

    url: str = Field(description="The server's base URL, e.g. http://127.0.0.1:9090.")
    queries: dict[str, PromQuery] = Field(
        default_factory=dict, description="NAME: PROMQL (or {query, service}), at most 50."
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_base_url(value)

    @field_validator("queries", mode="before")
    @classmethod
    def _names(cls, queries: Any) -> Any:
        if not isinstance(queries, dict):
            return queries  # pydantic says what was expected
        if len(queries) > MAX_QUERIES:
            raise ValueError(f"at most {MAX_QUERIES} queries (one request each second each)")
        for name in queries:
            if not isinstance(name, str) or not QUERY_NAME.match(name):
                raise ValueError(f"query names: {_NAME_EXPECTED}, got {name!r}")
        return queries


class Telemetry(_Model):
    """Where a platform of your own exposes its signals (only with ``target: {url: ...}``)."""

    scrape: list[ScrapeUrl] = Field(
        default_factory=list, max_length=MAX_SCRAPES, description="/metrics to scrape."
    )
    prometheus: PrometheusSource | None = Field(
        default=None, description="A Prometheus server and the PromQL queries to evaluate."
    )

    @property
    def empty(self) -> bool:
        return not self.scrape and self.prometheus is None


@dataclass(frozen=True)
class NamedQuery:
    """A query as the run evaluates it: its series name, expression and service."""

    name: str
    query: str
    service: str = PROMETHEUS_SERVICE
    origin: str = ""  # the field it was written in, for messages
    service_label: str | None = None  # each row's service from this label of its series

    @property
    def field(self) -> str:
        return self.origin or f"telemetry.prometheus.queries.{self.name}"


def _asked(scenario: Scenario) -> list[tuple[FieldPath, NamedQuery]]:
    """The ``query:`` of each SLO and stop condition, with where it was written."""
    written: list[tuple[str, int, str | None, SeriesRef | None]] = [
        ("slos", index, slo.query, slo.series) for index, slo in enumerate(scenario.slos)
    ]
    written += [
        ("stop_conditions", index, stop.query, stop.series)
        for index, stop in enumerate(scenario.stop_conditions)
    ]
    asked: list[tuple[FieldPath, NamedQuery]] = []
    for kind, index, query, series in written:
        if query is not None and series is not None:
            name, service = series.metric, series.service or PROMETHEUS_SERVICE
            where = f"{kind}[{index}].query"
            asked.append(((kind, index, "query"), NamedQuery(name, query, service, where)))
    return asked


def telemetry_problems(scenario: Scenario) -> list[tuple[FieldPath, str]]:
    """What is wrong across the section and the ``query:`` of SLOs and stop conditions."""
    problems: list[tuple[FieldPath, str]] = []
    prometheus = scenario.telemetry.prometheus if scenario.telemetry else None
    named = dict(prometheus.queries) if prometheus else {}
    seen: dict[str, str] = {name: q.query for name, q in named.items()}
    for path, asked in _asked(scenario):
        if prometheus is None:
            problems.append(
                (path, "a telemetry.prometheus section ({url: ...}) to evaluate the query on")
            )
            continue
        other = seen.setdefault(asked.name, asked.query)
        if other != asked.query:
            problems.append(
                (
                    path,
                    f"a query of its own: its series {asked.name!r} is another query's "
                    f"({other!r}); rename it, or name that query in series: instead",
                )
            )
    if prometheus is not None and len(seen) > MAX_QUERIES:
        problems.append(
            (
                ("telemetry", "prometheus", "queries"),
                f"at most {MAX_QUERIES} queries with those of the SLOs and stop conditions, "
                f"got {len(seen)}",
            )
        )
    return problems


def scenario_queries(scenario: Scenario) -> list[NamedQuery]:
    """Every query the run evaluates: the section's, then those of SLOs and stop conditions
    (each once)."""
    prometheus = scenario.telemetry.prometheus if scenario.telemetry else None
    if prometheus is None:
        return []
    queries = {
        name: NamedQuery(name, q.query, q.service, service_label=q.service_label)
        for name, q in prometheus.queries.items()
    }
    for _, asked in _asked(scenario):
        queries.setdefault(asked.name, asked)
    return list(queries.values())
