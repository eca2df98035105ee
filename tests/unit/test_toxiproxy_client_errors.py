"""Error mapping and the removal fallback, driven by a fake HTTP transport.

A stalled removal (Shopify/toxiproxy#412, #558) cannot be produced on demand
against the real server, so these use httpx's own fake transport
(:class:`httpx.MockTransport`); everything else is tested against the real server in
``tests/integration/toxiproxy``.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from spikekit.errors import ToxiproxyError
from spikekit.toxiproxy.client import RemovalOutcome, ToxicType, ToxiproxyClient

Handler = Callable[[httpx.Request], httpx.Response]


class FakeToxiproxy:
    """Records requests; answers with ``handler`` (which may raise transport errors)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def client(self, **kwargs: float) -> ToxiproxyClient:
        return ToxiproxyClient(
            "http://toxiproxy.test", transport=httpx.MockTransport(self), **kwargs
        )

    def calls(self, method: str) -> int:
        return sum(r.method == method for r in self.requests)


def _error(status: int, text: str) -> httpx.Response:
    return httpx.Response(status, json={"error": text, "status": status})


def _stalls(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("stalled", request=request)


def test_requests_carry_a_non_browser_user_agent_and_a_timeout() -> None:
    fake = FakeToxiproxy(lambda r: httpx.Response(200, json={"version": "2.12.0"}))
    with fake.client(timeout=1.5) as client:
        assert client.version() == "2.12.0"
    (request,) = fake.requests
    assert request.headers["user-agent"].startswith("spikekit/")
    assert request.extensions["timeout"]["read"] == 1.5


def test_json_error_text_and_status_are_kept() -> None:
    fake = FakeToxiproxy(lambda r: _error(409, "proxy already exists"))
    with fake.client() as client, pytest.raises(ToxiproxyError) as err:
        client.create_proxy("pg", listen="127.0.0.1:0", upstream="127.0.0.1:5432")
    assert str(err.value) == "create proxy 'pg': proxy already exists (HTTP 409)"
    assert err.value.status == 409


def test_plain_text_error_is_kept() -> None:
    fake = FakeToxiproxy(lambda r: httpx.Response(403, text="User agent not allowed\n"))
    with fake.client() as client, pytest.raises(ToxiproxyError, match="User agent not allowed"):
        client.reset()


def test_plain_text_version_of_old_servers() -> None:
    fake = FakeToxiproxy(lambda r: httpx.Response(200, text="2.1.4\n"))
    with fake.client() as client:
        assert client.version() == "2.1.4"


def test_unknown_attribute_is_refused_before_sending() -> None:
    fake = FakeToxiproxy(lambda r: httpx.Response(200))
    with fake.client() as client, pytest.raises(ToxiproxyError, match="expected jitter, latency"):
        client.add_toxic("pg", ToxicType.LATENCY, {"delay": 100})
    assert fake.requests == []


def test_remove_retries_a_stall_with_its_own_timeout() -> None:
    outcomes = iter([_stalls, _stalls, lambda r: httpx.Response(204)])
    fake = FakeToxiproxy(lambda r: next(outcomes)(r))
    with fake.client(remove_timeout=0.7) as client:
        assert client.remove_toxic("pg", "latency_downstream") is True
    assert fake.calls("DELETE") == 3
    assert {r.extensions["timeout"]["read"] for r in fake.requests} == {0.7}


def test_remove_gives_up_after_the_attempts() -> None:
    fake = FakeToxiproxy(_stalls)
    with fake.client(remove_attempts=2) as client, pytest.raises(ToxiproxyError, match="within"):
        client.remove_toxic("pg", "t")
    assert fake.calls("DELETE") == 2


def test_stalled_removal_falls_back_to_reset() -> None:
    fake = FakeToxiproxy(lambda r: _stalls(r) if r.method == "DELETE" else httpx.Response(204))
    with fake.client(remove_attempts=2) as client:
        assert client.remove_toxic_or_reset("pg", "t") is RemovalOutcome.RESET
    assert [(r.method, r.url.path) for r in fake.requests][-1] == ("POST", "/reset")


def test_server_error_on_removal_also_falls_back_to_reset() -> None:
    fake = FakeToxiproxy(
        lambda r: _error(500, "boom") if r.method == "DELETE" else httpx.Response(204)
    )
    with fake.client(remove_attempts=2) as client:
        assert client.remove_toxic_or_reset("pg", "t") is RemovalOutcome.RESET
    assert fake.calls("DELETE") == 2


def test_failed_reset_reports_both_failures() -> None:
    fake = FakeToxiproxy(_stalls)
    with (
        fake.client(remove_attempts=1) as client,
        pytest.raises(ToxiproxyError, match=r"remove toxic 't'.*fallback reset failed too"),
    ):
        client.remove_toxic_or_reset("pg", "t")


def test_a_refused_removal_is_not_reset_away() -> None:
    fake = FakeToxiproxy(lambda r: _error(400, "bad request"))
    with fake.client() as client, pytest.raises(ToxiproxyError, match="bad request"):
        client.remove_toxic_or_reset("pg", "t")
    assert fake.calls("DELETE") == 1 and fake.calls("POST") == 0
