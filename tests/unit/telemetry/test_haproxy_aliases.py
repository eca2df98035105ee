"""HAProxy's exporter lines, as recorded, under the names docs/run-directory.md gives."""

from __future__ import annotations

from spikekit.telemetry.aliases import aliases_for
from spikekit.telemetry.prometheus import label_text, parse, per_second

SCRAPE = """\
# HELP haproxy_backend_active_servers Total number of active UP servers with a non-zero weight
# TYPE haproxy_backend_active_servers gauge
haproxy_backend_active_servers{proxy="gateway"} 2
# TYPE haproxy_backend_current_queue gauge
haproxy_backend_current_queue{proxy="gateway"} 3
# TYPE haproxy_backend_redispatch_warnings_total counter
haproxy_backend_redispatch_warnings_total{proxy="gateway"} %d
# TYPE haproxy_server_status gauge
haproxy_server_status{proxy="gateway",server="gateway-2",state="DOWN"} 1
haproxy_server_status{proxy="gateway",server="gateway-2",state="UP"} 0
haproxy_server_status{proxy="gateway",server="gateway-1",state="UP"} 1
haproxy_server_status{proxy="gateway",server="gateway-1-failopen",state="UP"} 1
"""


def _recorded(before: int, after: int) -> dict[tuple[str, str], float]:
    rows = per_second(parse(SCRAPE % before), parse(SCRAPE % after), 1.0)
    out: dict[tuple[str, str], float] = {}
    for metric, key, value in rows:
        for alias, alias_key, alias_value in aliases_for("haproxy", metric, key, value):
            out[(alias, label_text(alias_key))] = alias_value
    return out


def test_backend_up_down_queue_and_redispatches_are_named_for_the_analysis() -> None:
    named = _recorded(10, 15)
    assert named == {
        ("lb_servers_up", "backend=gateway"): 2.0,
        ("lb_queue", "backend=gateway"): 3.0,
        ("lb_redispatches_per_s", "backend=gateway"): 5.0,
        ("lb_server_up", "backend=gateway,server=gateway-2"): 0.0,
        ("lb_server_up", "backend=gateway,server=gateway-1"): 1.0,
    }
