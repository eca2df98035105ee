"""The metric names any Prometheus-instrumented platform exposes, as recorded, under the
analysis names the hints read (docs/run-directory.md, "Names from common metrics")."""

from __future__ import annotations

import pytest

from spikekit.analysis import common_series
from spikekit.analysis import series as analysis_series
from spikekit.reference_platform.common.exposition import Exposition
from spikekit.reference_platform.common.service_app import ServiceMetrics
from spikekit.telemetry import common_names
from spikekit.telemetry.aliases import aliases_for
from spikekit.telemetry.prometheus import label_text, parse, per_second

Named = dict[tuple[str, str], float]


def _recorded(service: str, before: str, after: str, elapsed_s: float = 1.0) -> Named:
    """What the recorder writes under analysis names for two scrapes ``elapsed_s`` apart."""
    out: Named = {}
    for metric, key, value in per_second(parse(before), parse(after), elapsed_s):
        for alias, alias_key, alias_value in aliases_for(service, metric, key, value):
            out[(alias, label_text(alias_key))] = alias_value
    return out


def _counter(name: str, lines: str) -> str:
    return f"# TYPE {name} counter\n{lines}"


def test_process_cpu_seconds_become_the_percent_of_a_core() -> None:
    before = _counter("process_cpu_seconds_total", "process_cpu_seconds_total 10.0\n")
    after = _counter("process_cpu_seconds_total", "process_cpu_seconds_total 11.5\n")
    named = _recorded("checkout", before, after, elapsed_s=2.0)
    assert named == {("scraped_cpu_percent", ""): pytest.approx(75.0)}


@pytest.mark.parametrize(
    ("kind", "name", "status_label", "five", "four"),
    [
        ("counter", "http_requests_total", "status", "503", "404"),
        ("counter", "http_requests_total", "code", "500", "429"),
        ("counter", "http_requests_total", "status", "5xx", "4xx"),  # fastapi-instrumentator
        ("histogram", "http_server_requests_seconds", "status", "502", "400"),  # Micrometer
        (
            "histogram",
            "http_server_request_duration_seconds",
            "http_response_status_code",
            "504",
            "401",
        ),  # OpenTelemetry
    ],
)
def test_5xx_answers_of_the_common_http_families_are_counted_per_second(
    kind: str, name: str, status_label: str, five: str, four: str
) -> None:
    def scrape(errors: int, refused: int) -> str:
        if kind == "counter":
            return _counter(
                name,
                f'{name}{{method="GET",route="/pay",{status_label}="{five}"}} {errors}\n'
                f'{name}{{method="GET",route="/pay",{status_label}="{four}"}} {refused}\n',
            )
        lines = [f"# TYPE {name} histogram"]
        for status, count in ((five, errors), (four, refused)):
            labels = f'method="GET",uri="/pay",{status_label}="{status}"'
            lines += [
                f'{name}_bucket{{{labels},le="+Inf"}} {count}',
                f"{name}_count{{{labels}}} {count}",
                f"{name}_sum{{{labels}}} 1.0",
            ]
        return "\n".join(lines) + "\n"

    named = _recorded("checkout", scrape(10, 100), scrape(40, 300))
    errors = {key: value for key, value in named.items() if key[0] == "http_5xx_per_s"}
    assert list(errors.values()) == [30.0], named  # the 4xx are not errors of the server
    [(_, labels)] = errors
    assert f"{status_label}={five}" in labels and "family=http_" in labels


def test_hikaricp_and_suffixed_pools_and_queue_depths_get_the_analysis_names() -> None:
    text = """\
# TYPE hikaricp_connections_active gauge
hikaricp_connections_active{pool="HikariPool-1"} 9
# TYPE hikaricp_connections_max gauge
hikaricp_connections_max{pool="HikariPool-1"} 10
# TYPE orders_queue_depth gauge
orders_queue_depth 1200
# TYPE jobs_stream_depth gauge
jobs_stream_depth{queue="emails"} 7
# TYPE payments_stream_depth gauge
payments_stream_depth 3
"""
    named = _recorded("checkout", text, text)
    assert named[("db_pool_in_use", "pool=HikariPool-1")] == 9
    assert named[("db_pool_size", "pool=HikariPool-1")] == 10
    assert named[("stream_depth", "stream=orders")] == 1200
    assert named[("stream_depth", "stream=emails")] == 7
    # the bundled payments stream keeps its own alias (its real name), not a second one
    assert [k for k in named if k[0] == "stream_depth" and "payments" in k[1]] == [
        ("stream_depth", "stream=payments.requests")
    ]


def test_a_bundled_service_exposes_its_process_cpu_and_our_5xx_are_read() -> None:
    metrics = ServiceMetrics("gateway")
    metrics.observe("/api/login", "POST", 503, 0.0)
    metrics.observe("/api/login", "POST", 200, 0.0)
    before = Exposition(metrics.registry).generate().decode()
    metrics.observe("/api/login", "POST", 503, 0.0)
    after = Exposition(metrics.registry).generate().decode()
    assert "process_cpu_seconds_total" in after
    named = _recorded("gateway", before, after)
    assert ("scraped_cpu_percent", "") in named
    family = "family=http_request_duration_per_s"
    assert named[("http_5xx_per_s", f"{family},method=POST,route=/api/login,status=5xx")] == 1.0


def test_the_analysis_reads_the_names_the_recorder_writes() -> None:
    assert common_series.SCRAPED_CPU == common_names.SCRAPED_CPU
    assert common_series.HTTP_5XX == common_names.HTTP_5XX
    assert set(common_names.HTTP_FAMILIES) == common_series.HTTP_FAMILIES
    assert analysis_series.DB_POOL_IN_USE == common_names.DB_POOL_IN_USE
    assert analysis_series.DB_POOL_SIZE == common_names.DB_POOL_SIZE
    assert analysis_series.STREAM_DEPTH == common_names.STREAM_DEPTH
