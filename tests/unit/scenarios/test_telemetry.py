"""The ``telemetry:`` section and ``metric: query``: good files load and dump back, bad ones
give one problem naming the field; a bundled target with telemetry is refused at run time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spikekit.errors import ConfigError, ScenarioError
from spikekit.run.options import RunOptions
from spikekit.scenarios import SLOMetric, parse_scenario
from spikekit.scenarios.loader import dump_scenario
from spikekit.scenarios.telemetry import MAX_QUERIES, query_series_name, scenario_queries

HEAD = """\
name: mine
target: {url: "http://127.0.0.1:9000"}
load: {model: closed, stages: [{duration: 1m, players: 10}]}
"""
PROMETHEUS = """\
telemetry:
  prometheus:
    url: http://127.0.0.1:9090/
    queries:
      api_5xx: 'sum(rate(http_requests_total{code=~"5.."}[15s]))'
      pool: {query: max(db_pool_in_use), service: wallet}
      up: {query: up, service_label: job}
"""


def _problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "mine.yaml")
    return list(caught.value.problems)


def test_the_section_slos_and_stop_conditions_load_and_dump_back() -> None:
    text = (
        HEAD
        + PROMETHEUS
        + """\
  scrape:
    - {service: api, url: "http://127.0.0.1:9000/metrics"}
    - {service: api, url: "http://127.0.0.2:9000"}
slos:
  - {name: Wager p95!, metric: query, query: "max(wager_p95_ms)", threshold: 250}
  - {name: pool, metric: query, series: {metric: pool, service: wallet}, threshold: 18}
  - {name: workers up, metric: query, query: "sum(up)", threshold: 2, floor: true}
stop_conditions:
  - {metric: query, query: "sum(up)", threshold: 1, floor: true, sustained: 2s}
  - {metric: query, series: {metric: api_5xx, labels: {code: ["500", "503"]}}, threshold: 50}
"""
    )
    scenario = parse_scenario(text, "mine.yaml")
    assert scenario.telemetry is not None and scenario.telemetry.prometheus is not None
    assert scenario.telemetry.prometheus.url == "http://127.0.0.1:9090"
    assert [s.url for s in scenario.telemetry.scrape] == [
        "http://127.0.0.1:9000",
        "http://127.0.0.2:9000",
    ]
    wager, pool, up = scenario.slos
    assert wager.metric is SLOMetric.QUERY and wager.series is not None
    assert (wager.series.metric, wager.series.service) == ("slo_wager_p95", "prometheus")
    assert not wager.is_floor and up.is_floor and not pool.is_floor
    down, errors = scenario.stop_conditions
    assert down.is_floor and down.signal == f"prometheus/{query_series_name('stop', 'sum(up)')}"
    assert errors.signal == "*/api_5xx{code=500|503}" and not errors.is_floor
    queries = {q.name: q for q in scenario_queries(scenario)}
    assert list(queries) == [
        "api_5xx",
        "pool",
        "up",
        "slo_wager_p95",
        "slo_workers_up",
        down.signal[11:],
    ]
    assert queries["pool"].service == "wallet" and queries["up"].service_label == "job"
    assert queries["slo_wager_p95"].field == "slos[0].query"
    assert queries["api_5xx"].field == "telemetry.prometheus.queries.api_5xx"
    assert parse_scenario(dump_scenario(scenario)) == scenario


def test_scrape_urls_merge_with_the_command_line_and_name_instances() -> None:
    scenario = parse_scenario(
        HEAD + "telemetry:\n  scrape: [{service: api, url: 'http://127.0.0.1:9001'}]\n"
    )
    options = RunOptions(scenario="x", scrape=("api=http://127.0.0.1:9000", "db=http://h:1"))
    targets = options.scrape_targets(scenario.telemetry)
    assert [(t.service, t.url, t.instance) for t in targets] == [
        ("api", "http://127.0.0.1:9000", "api-1"),
        ("db", "http://h:1", None),
        ("api", "http://127.0.0.1:9001", "api-2"),
    ]


BAD = [
    (
        "telemetry: {prometheus: {url: 'ftp://127.0.0.1:9090'}}",
        "telemetry.prometheus.url",
        "an http:// or https:// URL with a host",
    ),
    (
        "telemetry: {prometheus: {url: 'http://:9090'}}",
        "telemetry.prometheus.url",
        "an http:// or https:// URL with a host",
    ),
    (
        "telemetry: {prometheus: {url: 'http://h:9090/?x=1'}}",
        "telemetry.prometheus.url",
        "without '?query'",
    ),
    (
        "telemetry: {prometheus: {url: 'http://h', queries: {'5xx': up}}}",
        "telemetry.prometheus.queries",
        "query names: a metric name",
    ),
    (
        "telemetry: {prometheus: {url: 'http://h', queries: {'a b': up}}}",
        "telemetry.prometheus.queries",
        "query names: a metric name",
    ),
    (
        "telemetry: {prometheus: {url: 'http://h', queries: {a: ''}}}",
        "telemetry.prometheus.queries.a.query",
        "a PromQL expression of 1 to 2000",
    ),
    (
        f"telemetry: {{prometheus: {{url: 'http://h', queries: {{a: '{'x' * 2001}'}}}}}}",
        "telemetry.prometheus.queries.a.query",
        "a PromQL expression of 1 to 2000",
    ),
    (
        "telemetry: {prometheus: {url: 'http://h', queries: {a: {query: up, service: API}}}}",
        "telemetry.prometheus.queries.a.service",
        "a lower-case service name",
    ),
    (
        "telemetry: {prometheus: {url: 'http://h', queries: {a: {query: up, service_label: a-b}}}}",
        "telemetry.prometheus.queries.a.service_label",
        "a label name such as 'job'",
    ),
    (
        "telemetry: {prometheus: {url: 'http://h', queries: {a: 5}}}",
        "telemetry.prometheus.queries.a",
        "a PromQL expression or a mapping",
    ),
    (
        "telemetry: {scrape: [{service: api, url: 'http://'}]}",
        "telemetry.scrape[0].url",
        "an http:// or https:// URL with a host",
    ),
    (
        "telemetry: {scrape: [{service: 'my api', url: 'http://h'}]}",
        "telemetry.scrape[0].service",
        "a lower-case service name",
    ),
    (
        "telemetry: {prometheus: {url: 'http://h'}, grafana: {}}",
        "telemetry.grafana",
        "no such field",
    ),
    (
        "slos: [{name: a, metric: query, query: 'sum(up)', threshold: 1}]",
        "slos[0].query",
        "a telemetry.prometheus section",
    ),
    (
        "stop_conditions: [{metric: query, query: 'sum(up)', threshold: 1}]",
        "stop_conditions[0].query",
        "a telemetry.prometheus section",
    ),
    (
        "slos: [{name: a, metric: query, threshold: 1}]",
        "slos[0]",
        "metric query: a series:",
    ),
    (
        "slos: [{name: a, metric: error_rate, query: 'sum(up)', threshold: 1}]",
        "slos[0]",
        "query: only with metric: query",
    ),
    (
        "slos: [{name: a, metric: latency_p95, floor: true, threshold: 1}]",
        "slos[0]",
        "floor: only with metric: query",
    ),
    (
        "stop_conditions: [{metric: error_rate, floor: true, threshold: 1}]",
        "stop_conditions[0]",
        "floor: only with metric: query",
    ),
    (
        "slos: [{name: a, metric: query, query: up, series: x, threshold: 1}]",
        "slos[0]",
        "query: or series:, not both",
    ),
]


@pytest.mark.parametrize(("body", "path", "expected"), BAD)
def test_bad_telemetry_is_one_problem_naming_the_field(body: str, path: str, expected: str) -> None:
    problems = _problems(HEAD + body + "\n")
    assert len(problems) == 1, problems
    field, message = problems[0]
    assert field == path
    assert expected in message
    assert "\n" not in message


def test_a_query_named_twice_with_another_expression_is_refused() -> None:
    problems = _problems(
        HEAD
        + PROMETHEUS.replace("api_5xx:", "slo_a:")
        + "slos: [{name: a, metric: query, query: 'sum(up)', threshold: 1}]\n"
    )
    assert [p for p, _ in problems] == ["slos[0].query"]
    assert "its series 'slo_a' is another query's" in problems[0][1]


def test_too_many_queries_are_refused_in_the_section_and_with_the_slos() -> None:
    many = "".join(f"      q{i}: up\n" for i in range(MAX_QUERIES + 1))
    section = f"telemetry:\n  prometheus:\n    url: http://h\n    queries:\n{many}"
    problems = _problems(HEAD + section)
    assert problems[0][0] == "telemetry.prometheus.queries"
    assert f"at most {MAX_QUERIES} queries" in problems[0][1]
    full = "".join(f"      q{i}: up\n" for i in range(MAX_QUERIES))
    section = f"telemetry:\n  prometheus:\n    url: http://h\n    queries:\n{full}"
    problems = _problems(
        HEAD + section + "slos: [{name: a, metric: query, query: 'sum(up)', threshold: 1}]\n"
    )
    assert problems[0][0] == "telemetry.prometheus.queries"
    assert "with those of the SLOs and stop conditions" in problems[0][1]


def test_telemetry_on_the_bundled_platform_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "bundled.yaml"
    body = HEAD.replace('target: {url: "http://127.0.0.1:9000"}\n', "")
    path.write_text(body + PROMETHEUS)
    with pytest.raises(ConfigError, match=r"telemetry: only for a platform of your own"):
        RunOptions(scenario=str(path)).resolve()
    # the same file against a URL target of the command line is fine
    resolved = RunOptions(scenario=str(path), target_url="http://127.0.0.1:9000").resolve()
    assert resolved.telemetry is not None


def test_the_cli_says_a_bad_section_names_the_field_and_exits_2(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from spikekit.cli.main import app

    path = tmp_path / "bad.yaml"
    path.write_text(HEAD + "telemetry: {prometheus: {url: 'gopher://h'}}\n")
    result = CliRunner().invoke(app, ["run", str(path)])
    assert result.exit_code == 2
    assert "telemetry.prometheus.url" in result.output
    assert "Traceback" not in result.output


def test_the_example_of_docs_telemetry_validates() -> None:
    doc = Path(__file__).parents[3] / "docs" / "telemetry.md"
    example = re.search(r"```yaml\n(.*?)```", doc.read_text(), re.DOTALL)
    assert example is not None
    scenario = parse_scenario(example.group(1), str(doc))
    assert scenario.telemetry is not None and scenario.telemetry.prometheus is not None
    names = [q.name for q in scenario_queries(scenario)]
    assert names[:3] == ["api_5xx_per_s", "wallet_db_pool_in_use", "queue_depth"]
    assert "slo_wager_p95" in names and len(names) == 6
