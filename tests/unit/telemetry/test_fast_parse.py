"""The recorder's own reader of the text exposition gives what prometheus_client's does."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from spikekit.reference_platform.common.service_app import ServiceMetrics
from spikekit.telemetry import prometheus
from spikekit.telemetry.prometheus import parse

HAPROXY = """\
# HELP haproxy_backend_status Current status of the service.
# TYPE haproxy_backend_status gauge
haproxy_backend_status{proxy="gateway",state="DOWN"} 0
haproxy_backend_status{proxy="gateway",state="UP"} 1
# TYPE haproxy_server_http_responses_total counter
haproxy_server_http_responses_total{proxy="gateway",server="g0",code="5xx"} 12
haproxy_server_http_responses_total{proxy="gateway",server="g0",code="2xx"} 3.5e+03
# TYPE some_untyped untyped
some_untyped 4
# TYPE odd_gauge gauge
odd_gauge{path="/a,b={c}"} 2 1767225600000
"""


def _service_text() -> str:
    metrics = ServiceMetrics("gateway")
    for route in ("/api/games/{game}/rounds", "/api/lobby"):
        for status in (200, 404, 503):
            metrics.observe(route, "POST", status, 0.0)
    gauge = Gauge("pool_in_use", "in use", ["dependency"], registry=metrics.registry)
    gauge.labels("wallet").set(3)
    Counter("plain", "no labels", registry=metrics.registry).inc(2)
    return generate_latest(metrics.registry).decode()


def test_same_snapshot_as_the_library_on_a_service_scrape() -> None:
    text = _service_text()
    fast = parse(text)
    assert fast == prometheus._parse_library(text)
    assert len(fast.histograms) == 6 and fast.counters and fast.gauges


def test_same_snapshot_on_haproxy_lines_odd_labels_and_timestamps() -> None:
    fast = parse(HAPROXY)
    assert fast == prometheus._parse_library(HAPROXY)
    assert fast.gauges[("odd_gauge", (("path", "/a,b={c}"),))] == 2.0
    key = (("code", "2xx"), ("proxy", "gateway"), ("server", "g0"))
    assert fast.counters[("haproxy_server_http_responses", key)] == 3500.0


def test_an_escaped_label_value_is_read_by_the_library() -> None:
    registry = CollectorRegistry()
    Gauge("g", "g", ["name"], registry=registry).labels('say "hi"\\now').set(1)
    Histogram("h_seconds", "h", registry=registry).observe(0.2)
    text = generate_latest(registry).decode()
    assert parse(text) == prometheus._parse_library(text)
    assert parse(text).gauges[("g", (("name", 'say "hi"\\now'),))] == 1.0


def test_a_line_it_cannot_read_falls_back_to_the_library() -> None:
    text = '# TYPE x gauge\nx{a="1"}\n'  # no value: the library says what is wrong
    try:
        prometheus._parse_library(text)
    except ValueError as error:
        expected: object = type(error)
    else:
        expected = None
    try:
        parse(text)
    except ValueError as error:
        assert type(error) is expected
    else:
        assert expected is None
