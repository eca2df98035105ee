"""Pure parts of the Toxiproxy client: models, toxic types, binary lookup."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from spikekit.toxiproxy.client import Proxy, ProxySpec, Stream, Toxic, ToxicType
from spikekit.toxiproxy.server import find_toxiproxy_server

# What toxiproxy-server 2.12 answers for GET /proxies/pg (captured from the real server).
SERVER_PROXY = {
    "name": "pg",
    "listen": "127.0.0.1:41357",
    "upstream": "127.0.0.1:5432",
    "enabled": True,
    "Logger": {},
    "toxics": [
        {
            "attributes": {"latency": 300, "jitter": 0},
            "name": "latency_downstream",
            "type": "latency",
            "stream": "downstream",
            "toxicity": 1,
        }
    ],
}


def test_proxy_parses_the_servers_json() -> None:
    proxy = Proxy.model_validate(SERVER_PROXY)
    assert (proxy.listen_host, proxy.listen_port) == ("127.0.0.1", 41357)
    toxic = proxy.toxic("latency_downstream")
    assert toxic is not None
    assert toxic.type is ToxicType.LATENCY and toxic.stream is Stream.DOWNSTREAM
    assert toxic.attributes == {"latency": 300, "jitter": 0} and toxic.toxicity == 1.0
    assert proxy.toxic("nope") is None


def test_models_are_frozen() -> None:
    proxy = Proxy.model_validate(SERVER_PROXY)
    with pytest.raises(ValidationError):
        proxy.enabled = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("listen", "host", "port"),
    [("127.0.0.1:8474", "127.0.0.1", 8474), ("[::1]:9000", "::1", 9000), (":7000", "", 7000)],
)
def test_listen_address_is_split(listen: str, host: str, port: int) -> None:
    proxy = Proxy(name="x", listen=listen, upstream="127.0.0.1:1")
    assert (proxy.listen_host, proxy.listen_port) == (host, port)


def test_listen_without_port_is_an_error() -> None:
    with pytest.raises(ValueError, match="host:port"):
        _ = Proxy(name="x", listen="localhost", upstream="127.0.0.1:1").listen_port


def test_unknown_toxic_type_in_a_response_is_refused() -> None:
    with pytest.raises(ValidationError):
        Toxic.model_validate({"name": "d", "type": "down"})  # "down" = disable the proxy


def test_every_toxic_type_names_its_attributes() -> None:
    assert ToxicType.LATENCY.attribute_names == {"latency", "jitter"}
    assert ToxicType.SLICER.attribute_names == {"average_size", "size_variation", "delay"}
    assert ToxicType.LIMIT_DATA.attribute_names == {"bytes"}
    assert all(t.attribute_names for t in ToxicType)
    assert "down" not in {t.value for t in ToxicType}


def test_a_proxy_is_a_proxy_spec() -> None:
    spec = ProxySpec(name="a", listen="127.0.0.1:0", upstream="127.0.0.1:6379")
    assert spec.enabled is True
    assert isinstance(Proxy.model_validate(SERVER_PROXY), ProxySpec)


def _fake_binary(root: Path, *, executable: bool = True) -> Path:
    binary = root / ".tools" / "bin" / "toxiproxy-server"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755 if executable else 0o644)
    return binary


def test_find_prefers_the_tools_dir_under_start(tmp_path: Path) -> None:
    binary = _fake_binary(tmp_path)
    assert find_toxiproxy_server([tmp_path]) == binary


def test_find_skips_a_non_executable_file(tmp_path: Path) -> None:
    binary = _fake_binary(tmp_path, executable=False)
    assert find_toxiproxy_server([tmp_path]) != binary


def test_find_falls_back_to_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = tmp_path / "bin" / "toxiproxy-server"
    on_path.parent.mkdir()
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    monkeypatch.setenv("PATH", str(on_path.parent) + os.pathsep + os.environ.get("PATH", ""))
    assert find_toxiproxy_server([tmp_path / "empty"]) == on_path


def test_find_returns_none_when_nothing_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_toxiproxy_server([tmp_path]) is None
