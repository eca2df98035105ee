"""``/metrics`` text: byte for byte what prometheus_client's ``generate_latest`` writes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest

from spikekit.reference_platform.common.exposition import Exposition


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    latency = Histogram("req_seconds", "Latency\nby route", ["route", "status"], registry=registry)
    for route in ("/api/games/{game}/rounds", "/api/lobby"):
        latency.labels(route, "2xx").observe(0.004)
        latency.labels(route, "5xx").observe(2.5)
    odd = Gauge("odd", 'a "quoted" \\ help', ["name"], registry=registry)
    odd.labels('say "hi"\\\nnow').set(1e-7)
    odd.labels("big").set(123456789.0)
    Counter("calls", "calls", registry=registry).inc(3)
    Info("build", "build info", registry=registry).info({"version": "1"})
    return registry


def test_the_text_is_generate_latests_scrape_after_scrape() -> None:
    registry = _registry()
    exposition = Exposition(registry)
    assert exposition.generate() == generate_latest(registry)
    Histogram("late_seconds", "added later", registry=registry).observe(0.1)
    registry_text = generate_latest(registry)
    assert exposition.generate() == registry_text  # the memo holds label sets, not values
    assert b"late_seconds_bucket" in registry_text
