"""PromQL against a Prometheus server of the user's own, once a second (docs/telemetry.md).

The platform recorder evaluates every query of the scenario's ``telemetry.prometheus``
next to its scrapes, one ``GET /api/v1/query?query=...&time=...`` per query per second,
each with a short timeout (:class:`PromqlFeed`). Every sample of the answer becomes a row
``service, metric=NAME, labels, value``: a vector gives one row per series (its labels,
``__name__`` aside), a scalar one row without labels, an empty vector none. A query that
fails or times out records nothing for that second; the feed counts the seconds and says
the first failure of each query once, not every second.

Before the run, :func:`check_prometheus` asks the server's build info and runs every query
once: an unreachable server or a query Prometheus refuses is a :class:`ConfigError`
(exit 2) naming the query and Prometheus's own words. Non-finite values (NaN, ±Inf) are
no data: the run directory's tables and the report's JSON hold finite numbers only.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from spikekit.errors import ConfigError, SpikekitError
from spikekit.scenarios import Scenario
from spikekit.scenarios.telemetry import NamedQuery, scenario_queries
from spikekit.telemetry.prometheus import LabelKey

Sample = tuple[LabelKey, float]
Say = Callable[[str], None]
MAX_SERIES = 1000  # per query and second: a query that returns more is cut (and said)
MAX_ERROR_CHARS = 300


class PromqlError(SpikekitError, ValueError):
    """An answer of the query API that gives no samples: Prometheus's error, or a shape
    the feed does not record (a range vector, a string)."""


def _value(pair: object) -> float | None:
    if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[1], str):
        raise PromqlError(f'a [time, "value"] pair, got {str(pair)[:80]}')
    try:
        value = float(pair[1])
    except ValueError:
        raise PromqlError(f"a number as the value, got {pair[1][:40]!r}") from None
    return value if math.isfinite(value) else None


def _labels(metric: object) -> LabelKey:
    if not isinstance(metric, dict):
        raise PromqlError(f"a series' labels as a mapping, got {str(metric)[:80]}")
    return tuple(sorted((str(k), str(v)) for k, v in metric.items() if k != "__name__"))


def samples(answer: object) -> list[Sample]:
    """The samples of a query API answer (its JSON), or :class:`PromqlError` saying why
    there are none to record."""
    if not isinstance(answer, dict):
        raise PromqlError("a JSON object from the query API")
    if answer.get("status") != "success":
        kind = answer.get("errorType") or "error"
        raise PromqlError(
            f"{kind}: {str(answer.get('error') or 'no reason given')[:MAX_ERROR_CHARS]}"
        )
    data = answer.get("data")
    if not isinstance(data, dict):
        raise PromqlError("a 'data' object in the answer")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        value = _value(result)
        return [] if value is None else [((), value)]
    if kind == "vector":
        if not isinstance(result, list):
            raise PromqlError("a list of series as the vector's result")
        out: list[Sample] = []
        for series in result:
            if not isinstance(series, dict):
                raise PromqlError(f"a series as a mapping, got {str(series)[:80]}")
            value = _value(series.get("value"))
            if value is not None:
                out.append((_labels(series.get("metric", {})), value))
        return out
    raise PromqlError(
        f"an instant vector or a scalar, got a {kind} (write the query without a range "
        "selector [..], e.g. rate(x[1m]) rather than x[1m])"
        if kind == "matrix"
        else f"an instant vector or a scalar, got a {kind}"
    )


def ask(client: httpx.Client, url: str, query: str, at: float, timeout_s: float) -> list[Sample]:
    """Evaluate ``query`` at Unix time ``at``; :class:`PromqlError` when it gives nothing."""
    params = {"query": query, "time": f"{at:.3f}", "timeout": f"{max(1, int(timeout_s * 1000))}ms"}
    try:
        response = client.get(f"{url}/api/v1/query", params=params, timeout=timeout_s)
    except httpx.TimeoutException:
        raise PromqlError(f"no answer within {timeout_s:g} s") from None
    except httpx.HTTPError as error:
        raise PromqlError(f"{url} did not answer ({type(error).__name__}: {error})") from None
    try:
        answer = response.json()
    except ValueError:
        raise PromqlError(f"HTTP {response.status_code}, not a JSON answer") from None
    return samples(answer)


@dataclass(frozen=True)
class Outcome:
    """One query in one second: its samples, or why there were none."""

    query: NamedQuery
    samples: tuple[Sample, ...] = ()
    error: str | None = None


class PromqlFeed:
    """The scenario's queries against one Prometheus; the recorder calls :meth:`evaluate`
    for each query each second (from its thread pool); :meth:`summary` says at the end
    which queries failed in how many seconds."""

    def __init__(
        self,
        url: str,
        queries: Sequence[NamedQuery],
        *,
        timeout_s: float = 0.8,
        say: Say | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.queries = list(queries)
        self.timeout_s = timeout_s
        self.say = say
        self.failed_seconds: Counter[str] = Counter()
        self.last_error: dict[str, str] = {}
        self._cut: set[str] = set()
        self._lock = threading.Lock()

    def evaluate(self, client: httpx.Client, query: NamedQuery, at: float) -> Outcome:
        try:
            found = ask(client, self.url, query.query, at, self.timeout_s)
        except PromqlError as error:
            return self._failed(query, str(error))
        if len(found) > MAX_SERIES:
            with self._lock:
                first = query.name not in self._cut
                self._cut.add(query.name)
            if first and self.say is not None:
                self.say(
                    f"telemetry: PromQL query {query.name} returned {len(found)} series; only "
                    f"the first {MAX_SERIES} are recorded each second (said once)"
                )
            found = found[:MAX_SERIES]
        return Outcome(query, tuple(found))

    def _failed(self, query: NamedQuery, why: str) -> Outcome:
        with self._lock:
            first = query.name not in self.last_error
            self.failed_seconds[query.name] += 1
            self.last_error[query.name] = why
        if first and self.say is not None:
            self.say(
                f"telemetry: PromQL query {query.name} failed ({why}); a second it fails "
                "records nothing (said once, counted to the end)"
            )
        return Outcome(query, error=why)

    def summary(self) -> list[str]:
        """One line per query that failed in some second, for the end of the run."""
        with self._lock:
            return [
                f"telemetry: PromQL query {name} recorded nothing in {count} second(s) "
                f"(last: {self.last_error[name]})"
                for name, count in sorted(self.failed_seconds.items())
            ]


def check_prometheus(url: str, queries: Sequence[NamedQuery], *, timeout_s: float = 5.0) -> str:
    """The server's version once it answers and every query parses and runs; otherwise a
    :class:`ConfigError` naming the query (or the server) and Prometheus's error."""
    base = url.rstrip("/")
    with httpx.Client(timeout=timeout_s) as client:
        try:
            response = client.get(f"{base}/api/v1/status/buildinfo")
            info = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ConfigError(
                f"telemetry.prometheus.url: {base} is not a Prometheus query API "
                f"(GET /api/v1/status/buildinfo: {type(error).__name__}: {error})"
            ) from None
        data = info.get("data") if isinstance(info, dict) else None
        if response.status_code != 200 or not isinstance(data, dict):
            raise ConfigError(
                f"telemetry.prometheus.url: {base} is not a Prometheus query API "
                f"(GET /api/v1/status/buildinfo answered HTTP {response.status_code})"
            )
        for query in queries:
            try:
                ask(client, base, query.query, time.time(), timeout_s)
            except PromqlError as error:
                raise ConfigError(
                    f"{query.field}: Prometheus refused {query.query!r}: {error}"
                ) from None
        return str(data.get("version", "unknown version"))


def feed_for(scenario: Scenario, say: Say | None = None) -> PromqlFeed | None:
    """The feed of the scenario's queries (its section's and its SLOs' and stop
    conditions' ``query:``), or None without a ``telemetry.prometheus`` section."""
    prometheus = scenario.telemetry.prometheus if scenario.telemetry else None
    if prometheus is None:
        return None
    return PromqlFeed(prometheus.url, scenario_queries(scenario), say=say)
