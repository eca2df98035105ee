"""The PromQL feed against a real Prometheus (Debian's 2.42, ``make prometheus``) scraping
a tiny ``/metrics`` of our own (prometheus_client in a thread) whose gauge the test moves:
the recorder records the new value within two scrape intervals, in the same file as its
scrapes; a failing query records nothing and is said once; the pre-run check refuses a
query Prometheus cannot parse, naming it and Prometheus's words."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from spikekit.errors import ConfigError
from spikekit.ports import free_port
from spikekit.scenarios.slo import SeriesRef
from spikekit.scenarios.telemetry import NamedQuery
from spikekit.telemetry.promql import PromqlFeed, check_prometheus
from spikekit.telemetry.recorder import PlatformRecorder, ScrapeTarget
from tests.prometheus_server import Prometheus, prometheus_server


class App:
    """A ``/metrics`` of ours: ``queue_depth{queue}`` gauges the test sets."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.depth = Gauge("queue_depth", "Depth", ["queue"], registry=self.registry)
        self.depth.labels("a").set(3)
        self.depth.labels("b").set(1)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    app = App()
    server, thread = start_http_server(app.port, addr="127.0.0.1", registry=app.registry)
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory, app: App) -> Iterator[Prometheus]:
    """One server for the module: its targets are synced ~5 s after it starts."""
    folder = tmp_path_factory.mktemp("prometheus")
    with prometheus_server(folder, [f"127.0.0.1:{app.port}"]) as server:
        server.wait_for("queue_depth")  # its first scrape (targets are synced after ~5 s)
        yield server


QUERIES = [
    NamedQuery("depth", "max by (queue) (queue_depth)"),
    NamedQuery("depth_total", "sum(queue_depth)", service="queue"),
    NamedQuery("answer", "scalar(vector(42))"),
    NamedQuery("depth_by_job", "queue_depth", service_label="job"),  # service: the job's
    NamedQuery("broken", "sum(queue_depth"),  # Prometheus cannot parse it (QUERIES[4])
    # parses, fails as it runs: two series with one label set once `queue` is overwritten
    NamedQuery("clash", 'label_replace(queue_depth, "queue", "x", "", "")'),
]


def test_the_feed_records_the_gauge_within_two_scrape_intervals(
    tmp_path: Path, app: App, prometheus: Prometheus
) -> None:
    said: list[str] = []
    feed = PromqlFeed(prometheus.url, QUERIES, say=said.append)
    recorder = PlatformRecorder(
        tmp_path, [ScrapeTarget("app", app.url)], feed=feed, flush_every_s=1
    )
    a = SeriesRef(metric="depth", service="prometheus", labels={"queue": ["a"]})
    with recorder:
        deadline = time.monotonic() + 5
        while (latest := recorder.latest()) is None or latest.worst(a) != 3.0:
            assert time.monotonic() < deadline, f"no depth 3 in the feed: {latest}"
            time.sleep(0.05)
        app.depth.labels("a").set(11)
        moved = time.monotonic()
        while (latest := recorder.latest()) is None or latest.worst(a) != 11.0:
            assert time.monotonic() - moved < 5, f"the feed never saw depth 11: {latest}"
            time.sleep(0.05)
        seen_after = time.monotonic() - moved
        time.sleep(1.2)  # one more second, then the file
    # two scrape intervals (1 s each) at most between the gauge moving and the feed's row
    print(f"the feed saw the new value {seen_after:.2f} s after the gauge moved")
    assert seen_after <= 2.0 + 0.3, f"the feed saw the new value {seen_after:.2f} s later"
    table = pd.read_parquet(tmp_path / "platform_metrics.parquet")
    depth = table[(table.metric == "depth") & (table.service == "prometheus")]
    assert set(depth.labels) == {"queue=a", "queue=b"}  # the series' labels, not __name__
    by_t = depth[depth.labels == "queue=a"].sort_values("t").value.tolist()
    assert by_t[0] == 3.0 and by_t[-1] == 11.0 and set(by_t) <= {3.0, 11.0}
    total = table[table.metric == "depth_total"]
    assert set(total.service) == {"queue"} and total.value.max() == 12.0
    by_job = table[table.metric == "depth_by_job"]
    assert set(by_job.service) == {"app"}  # Prometheus's job label, left out of the labels
    assert {text.split(",")[-1] for text in by_job.labels} == {"queue=a", "queue=b"}
    assert all(text.startswith("instance=127.0.0.1:") for text in by_job.labels)
    answer = table[table.metric == "answer"]
    assert set(answer.labels) == {""} and set(answer.value) == {42.0}
    # the scrapes went on next to the queries, into the same file
    assert set(table[table.metric == "queue_depth"].service) == {"app"}
    # failing queries: no rows, counted every second, said once each
    assert not table.metric.isin(["broken", "clash"]).any()
    seconds = recorder.seconds_recorded
    assert feed.failed_seconds["broken"] == feed.failed_seconds["clash"] == seconds >= 3
    assert len(said) == 2, said
    assert "broken failed (bad_data:" in said[0] or "broken failed (bad_data:" in said[1]
    assert any("clash failed (execution:" in line for line in said), said
    summary = feed.summary()
    assert len(summary) == 2 and f"recorded nothing in {seconds} second(s)" in summary[0]


def test_the_pre_run_check_names_the_query_prometheus_refuses(prometheus: Prometheus) -> None:
    assert check_prometheus(prometheus.url, QUERIES[:4]).startswith("2.42")
    with pytest.raises(ConfigError) as caught:
        check_prometheus(prometheus.url, [QUERIES[0], QUERIES[4]])
    message = str(caught.value)
    assert message.startswith("telemetry.prometheus.queries.broken: Prometheus refused")
    assert "'sum(queue_depth'" in message and "parse error" in message
    origin = NamedQuery("slo_x", "rate(queue_depth)", origin="slos[2].query")
    with pytest.raises(ConfigError, match=r"^slos\[2\]\.query: Prometheus refused .*range"):
        check_prometheus(prometheus.url, [origin])
    matrix = NamedQuery("window", "queue_depth[10s]")
    with pytest.raises(ConfigError, match=r"got a matrix"):
        check_prometheus(prometheus.url, [matrix])


def test_the_pre_run_check_refuses_what_is_not_prometheus(app: App) -> None:
    with pytest.raises(ConfigError, match=r"^telemetry.prometheus.url: .* is not a Prometheus"):
        check_prometheus(app.url, [])  # a /metrics, not a query API
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConfigError, match=r"is not a Prometheus query API .*ConnectError"):
        check_prometheus(closed, [], timeout_s=1)
