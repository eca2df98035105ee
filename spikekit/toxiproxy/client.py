"""A small typed client for the Toxiproxy HTTP API (server v2.12).

Toxiproxy sits between a service and a dependency and degrades the link on
request: a *proxy* forwards ``listen`` to ``upstream``; *toxics* on a proxy add
latency, throttle bandwidth, cut connections. Taking a link fully down is not
a toxic: disable the proxy (:meth:`ToxiproxyClient.disable_proxy`).

Every call has a timeout and every failure, including "nothing listens there",
raises :class:`~spikekit.errors.ToxiproxyError` naming the proxy or toxic and
the server's own words. Removing toxics retries, because removal under heavy
traffic is known to stall (Shopify/toxiproxy#412, #558), and
:meth:`ToxiproxyClient.remove_toxic_or_reset` falls back to ``POST /reset``.

    with ToxiproxyClient("http://127.0.0.1:8474") as tp:
        db = tp.create_proxy("wallet_pg", listen="127.0.0.1:0", upstream="127.0.0.1:5432")
        tp.add_toxic(db.name, ToxicType.LATENCY, {"latency": 200})
        ...
        tp.remove_toxic_or_reset(db.name, "latency_downstream")
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from spikekit import __version__
from spikekit.errors import ToxiproxyError

__all__ = [
    "DEFAULT_URL",
    "Proxy",
    "ProxySpec",
    "RemovalOutcome",
    "Stream",
    "Toxic",
    "ToxicType",
    "ToxiproxyClient",
]

DEFAULT_URL = "http://127.0.0.1:8474"
USER_AGENT = f"spikekit/{__version__}"  # Toxiproxy answers 403 to "Mozilla/..."


class ToxicType(StrEnum):
    """The toxics Toxiproxy ships. ("down" is not one: disable the proxy.)"""

    LATENCY = "latency"
    BANDWIDTH = "bandwidth"
    SLOW_CLOSE = "slow_close"
    TIMEOUT = "timeout"
    RESET_PEER = "reset_peer"
    SLICER = "slicer"
    LIMIT_DATA = "limit_data"

    @property
    def attribute_names(self) -> frozenset[str]:
        """The attributes the server understands for this toxic (it ignores others)."""
        return _ATTRIBUTES[self]


_ATTRIBUTES: dict[ToxicType, frozenset[str]] = {
    ToxicType.LATENCY: frozenset({"latency", "jitter"}),  # ms
    ToxicType.BANDWIDTH: frozenset({"rate"}),  # KB/s
    ToxicType.SLOW_CLOSE: frozenset({"delay"}),  # ms
    ToxicType.TIMEOUT: frozenset({"timeout"}),  # ms, 0 = forever
    ToxicType.RESET_PEER: frozenset({"timeout"}),  # ms
    ToxicType.SLICER: frozenset({"average_size", "size_variation", "delay"}),  # bytes, us
    ToxicType.LIMIT_DATA: frozenset({"bytes"}),
}


class Stream(StrEnum):
    """Direction a toxic acts on: ``downstream`` is upstream -> client."""

    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"


class RemovalOutcome(StrEnum):
    """How :meth:`ToxiproxyClient.remove_toxic_or_reset` got the toxic off."""

    REMOVED = "removed"
    ABSENT = "absent"  # already gone (or its proxy is): nothing to do
    RESET = "reset"  # removal kept failing; POST /reset cleared everything


class Toxic(BaseModel):
    """A toxic as the server reports it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    type: ToxicType
    stream: Stream = Stream.DOWNSTREAM
    toxicity: float = 1.0
    attributes: Mapping[str, int | float] = Field(default_factory=dict)


class ProxySpec(BaseModel):
    """What is needed to create a proxy (``listen`` may use port 0)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    listen: str
    upstream: str
    enabled: bool = True


class Proxy(ProxySpec):
    """A proxy as the server reports it: ``listen`` holds the real port."""

    toxics: tuple[Toxic, ...] = ()

    @property
    def listen_host(self) -> str:
        """Host part of ``listen`` (IPv6 brackets removed)."""
        return _split_hostport(self.listen)[0]

    @property
    def listen_port(self) -> int:
        """Port part of ``listen``."""
        return _split_hostport(self.listen)[1]

    def toxic(self, name: str) -> Toxic | None:
        """The toxic called ``name`` on this proxy, if any."""
        return next((t for t in self.toxics if t.name == name), None)


def _split_hostport(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"not a host:port address: {address!r}")
    return host.strip("[]"), int(port)


def _seg(name: str) -> str:
    """A proxy or toxic name as one URL path segment."""
    return quote(name, safe="")


def _server_error_text(response: httpx.Response) -> str:
    """The ``error`` field of Toxiproxy's JSON error body, or the raw text."""
    text = response.text.strip()
    try:
        body = json.loads(text)
    except ValueError:
        return text or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else text


def _check_attributes(
    type: ToxicType | str, attributes: Mapping[str, int | float], what: str
) -> None:
    """Refuse attribute names the server would silently ignore for a known toxic type."""
    try:
        known = ToxicType(type).attribute_names
    except ValueError:  # unknown type: let the server say so
        return
    unknown = set(attributes) - known
    if unknown:
        raise ToxiproxyError(
            f"{what}: unknown attribute(s) {', '.join(sorted(unknown))}; "
            f"expected {', '.join(sorted(known))}"
        )


def _is_retryable(exc: BaseException) -> bool:
    """Retry removals that timed out, could not connect or hit a 5xx."""
    return isinstance(exc, ToxiproxyError) and (exc.status is None or exc.status >= 500)


class ToxiproxyClient:
    """Synchronous Toxiproxy API client; a context manager that closes its connections.

    ``timeout`` bounds every request; ``remove_attempts`` and ``remove_timeout``
    shape the retries of :meth:`remove_toxic` (each attempt has its own timeout).
    ``transport`` lets tests plug in a fake :class:`httpx.BaseTransport`.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        timeout: float = 5.0,
        remove_attempts: int = 3,
        remove_timeout: float = 2.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.remove_attempts = remove_attempts
        self.remove_timeout = remove_timeout
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT},
            transport=transport,
        )

    # -- lifecycle ---------------------------------------------------------

    def close(self) -> None:
        """Close the underlying HTTP connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- server ------------------------------------------------------------

    def version(self) -> str:
        """The server's version string (``"git"`` for an unstamped source build)."""
        response = self._request("GET", "/version", what="read server version")
        try:
            body = response.json()
        except ValueError:  # servers before 2.5 answer plain text
            return response.text.strip()
        return str(body["version"]) if isinstance(body, dict) else str(body)

    def reset(self) -> None:
        """Re-enable every proxy and remove every toxic on every proxy."""
        self._request("POST", "/reset", what="reset all proxies")

    # -- proxies -----------------------------------------------------------

    def list_proxies(self) -> dict[str, Proxy]:
        """Every proxy by name."""
        body = self._request("GET", "/proxies", what="list proxies").json()
        return {name: Proxy.model_validate(p) for name, p in body.items()}

    def get_proxy(self, name: str) -> Proxy:
        """One proxy with its toxics."""
        response = self._request("GET", f"/proxies/{_seg(name)}", what=f"get proxy {name!r}")
        return Proxy.model_validate(response.json())

    def create_proxy(self, name: str, *, listen: str, upstream: str, enabled: bool = True) -> Proxy:
        """Create a proxy; ``listen="127.0.0.1:0"`` lets the server pick the port."""
        spec = ProxySpec(name=name, listen=listen, upstream=upstream, enabled=enabled)
        response = self._request(
            "POST", "/proxies", body=spec.model_dump(), what=f"create proxy {name!r}"
        )
        return Proxy.model_validate(response.json())

    def populate(self, proxies: Sequence[ProxySpec]) -> list[Proxy]:
        """Create or replace several proxies in one call (``POST /populate``)."""
        names = ", ".join(repr(p.name) for p in proxies)
        fields = set(ProxySpec.model_fields)
        payload = [p.model_dump(include=fields) for p in proxies]
        response = self._request("POST", "/populate", body=payload, what=f"populate {names}")
        return [Proxy.model_validate(p) for p in response.json()["proxies"]]

    def enable_proxy(self, name: str) -> Proxy:
        """Open the proxy's listener again."""
        return self._set_enabled(name, enabled=True)

    def disable_proxy(self, name: str) -> Proxy:
        """Close the listener and drop live connections: the link is down."""
        return self._set_enabled(name, enabled=False)

    def delete_proxy(self, name: str, *, missing_ok: bool = False) -> None:
        """Delete a proxy and its toxics; ``missing_ok`` makes a missing proxy fine."""
        try:
            self._request("DELETE", f"/proxies/{_seg(name)}", what=f"delete proxy {name!r}")
        except ToxiproxyError as exc:
            if not (missing_ok and exc.status == 404):
                raise

    def _set_enabled(self, name: str, *, enabled: bool) -> Proxy:
        verb = "enable" if enabled else "disable"
        response = self._request(
            "POST",
            f"/proxies/{_seg(name)}",
            body={"enabled": enabled},
            what=f"{verb} proxy {name!r}",
        )
        return Proxy.model_validate(response.json())

    # -- toxics ------------------------------------------------------------

    def list_toxics(self, proxy: str) -> list[Toxic]:
        """The toxics on ``proxy``."""
        response = self._request(
            "GET", f"/proxies/{_seg(proxy)}/toxics", what=f"list toxics of proxy {proxy!r}"
        )
        return [Toxic.model_validate(t) for t in response.json()]

    def add_toxic(
        self,
        proxy: str,
        type: ToxicType | str,
        attributes: Mapping[str, int | float],
        *,
        name: str | None = None,
        stream: Stream | str = Stream.DOWNSTREAM,
        toxicity: float = 1.0,
    ) -> Toxic:
        """Add a toxic; its name defaults to ``"<type>_<stream>"`` (the server's rule).

        Attribute names unknown for a known type raise, since the server would
        silently ignore them (``{"latency_ms": 200}`` would add no latency).
        """
        label = f"{type} toxic {name!r}" if name else f"{type} toxic"
        what = f"add {label} to proxy {proxy!r}"
        _check_attributes(type, attributes, what)
        payload: dict[str, Any] = {
            "type": str(type),
            "stream": str(stream),
            "toxicity": toxicity,
            "attributes": dict(attributes),
        }
        if name is not None:
            payload["name"] = name
        response = self._request("POST", f"/proxies/{_seg(proxy)}/toxics", body=payload, what=what)
        return Toxic.model_validate(response.json())

    def update_toxic(
        self,
        proxy: str,
        toxic_name: str,
        attributes: Mapping[str, int | float] | None = None,
        *,
        toxicity: float | None = None,
    ) -> Toxic:
        """Change a toxic in place; attributes not given keep their values."""
        payload: dict[str, Any] = {}
        if attributes is not None:
            payload["attributes"] = dict(attributes)
        if toxicity is not None:
            payload["toxicity"] = toxicity
        response = self._request(
            "POST",
            f"/proxies/{_seg(proxy)}/toxics/{_seg(toxic_name)}",
            body=payload,
            what=f"update toxic {toxic_name!r} on proxy {proxy!r}",
        )
        return Toxic.model_validate(response.json())

    def remove_toxic(self, proxy: str, toxic_name: str) -> bool:
        """Remove a toxic, retrying stalls; False when it (or its proxy) was already gone.

        Up to ``remove_attempts`` tries, each bounded by ``remove_timeout``,
        with a short exponential backoff; timeouts, connection errors and 5xx
        are retried, a 404 is success. Raises the last error when all fail.
        """
        what = f"remove toxic {toxic_name!r} from proxy {proxy!r}"
        retrying = Retrying(
            stop=stop_after_attempt(self.remove_attempts),
            wait=wait_exponential(multiplier=0.1, max=1.0),
            retry=retry_if_exception(_is_retryable),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    self._request(
                        "DELETE",
                        f"/proxies/{_seg(proxy)}/toxics/{_seg(toxic_name)}",
                        what=what,
                        timeout=self.remove_timeout,
                    )
        except ToxiproxyError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def remove_toxic_or_reset(self, proxy: str, toxic_name: str) -> RemovalOutcome:
        """Remove a toxic for sure: :meth:`remove_toxic`, then ``POST /reset`` as a fallback.

        The fallback is deliberately heavy: when removal keeps failing (the
        stall of Shopify/toxiproxy#412, #558 under heavy traffic), ``/reset``
        removes *every* toxic on *every* proxy and re-enables every disabled
        proxy, so other faults still active on this server are reverted too.
        That is the right trade for a revert path: a fault that will not go away
        is worse than ending others early. Raises ToxiproxyError only when the
        reset fails as well (or removal was refused for a non-retryable reason).
        """
        try:
            removed = self.remove_toxic(proxy, toxic_name)
        except ToxiproxyError as exc:
            if not _is_retryable(exc):
                raise
            try:
                self.reset()
            except ToxiproxyError as reset_exc:
                raise ToxiproxyError(
                    f"remove toxic {toxic_name!r} from proxy {proxy!r} failed ({exc}) "
                    f"and the fallback reset failed too ({reset_exc})",
                    status=reset_exc.status,
                ) from reset_exc
            return RemovalOutcome.RESET
        return RemovalOutcome.REMOVED if removed else RemovalOutcome.ABSENT

    # -- transport ---------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        body: object = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send one request; turn every failure into a ToxiproxyError saying ``what`` failed."""
        try:
            response = self._http.request(
                method,
                path,
                json=body,
                timeout=self.timeout if timeout is None else timeout,
            )
        except httpx.TimeoutException as exc:
            limit = self.timeout if timeout is None else timeout
            raise ToxiproxyError(
                f"{what}: Toxiproxy at {self.base_url} did not answer within {limit:g} s"
                f" ({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            raise ToxiproxyError(
                f"{what}: cannot reach Toxiproxy ({exc or type(exc).__name__}); "
                f"is toxiproxy-server running at {self.base_url}?"
            ) from exc
        if response.is_error:
            raise ToxiproxyError(
                f"{what}: {_server_error_text(response)} (HTTP {response.status_code})",
                status=response.status_code,
            )
        return response
