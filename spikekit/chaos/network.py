"""Network faults: a Toxiproxy toxic on one link, or the link taken down.

A link is a Toxiproxy proxy named ``<service>-<dependency>`` (``gateway-postgres``); the
toxic is named ``spikekit-<fault id>`` so that faults on one link can overlap and each is
removed alone. Removal retries and falls back to a full ``POST /reset`` when Toxiproxy
keeps refusing (see :meth:`ToxiproxyClient.remove_toxic_or_reset`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeVar

from tenacity import Retrying, stop_after_attempt, wait_exponential

from spikekit.chaos.base import Fault, RevertRecord, register
from spikekit.errors import ToxiproxyError
from spikekit.scenarios.faults import (
    NetworkBandwidth,
    NetworkDown,
    NetworkLatency,
    NetworkLimitData,
    NetworkResetPeer,
    NetworkSlowClose,
    NetworkTimeout,
)
from spikekit.toxiproxy.client import Proxy, ToxicType, ToxiproxyClient

if TYPE_CHECKING:
    from spikekit.chaos.context import ChaosContext

__all__ = ["LinkDownFault", "ProxyDisabled", "ToxicAdded", "ToxicFault", "toxic_of"]

TOXIC_PREFIX = "spikekit-"

#: The network faults that are a toxic.
ToxicSpec = (
    NetworkLatency
    | NetworkTimeout
    | NetworkResetPeer
    | NetworkBandwidth
    | NetworkSlowClose
    | NetworkLimitData
)
LinkSpecT = TypeVar("LinkSpecT", bound=ToxicSpec | NetworkDown)


def toxic_of(spec: ToxicSpec) -> tuple[ToxicType, dict[str, int | float]]:
    """The Toxiproxy toxic type and attributes of a network fault spec."""
    match spec:
        case NetworkLatency():
            return ToxicType.LATENCY, {"latency": spec.latency_ms, "jitter": spec.jitter_ms}
        case NetworkTimeout():
            return ToxicType.TIMEOUT, {"timeout": spec.timeout_ms}
        case NetworkResetPeer():
            return ToxicType.RESET_PEER, {"timeout": spec.timeout_ms}
        case NetworkBandwidth():
            return ToxicType.BANDWIDTH, {"rate": spec.rate_kb_s}
        case NetworkSlowClose():
            return ToxicType.SLOW_CLOSE, {"delay": spec.delay_ms}
        case NetworkLimitData():
            return ToxicType.LIMIT_DATA, {"bytes": spec.max_bytes}
    raise TypeError(f"not a toxic fault: {spec!r}")  # pragma: no cover


class ToxicAdded(RevertRecord):
    kind: Literal["toxiproxy.toxic"] = "toxiproxy.toxic"
    api: str
    proxy: str
    toxic: str

    def undo(self, ctx: ChaosContext) -> str:
        ctx.guard.check_url(self.api, "toxiproxy")
        with ToxiproxyClient(self.api) as client:
            outcome = client.remove_toxic_or_reset(self.proxy, self.toxic)
        return f"toxic {outcome.value}"


class ProxyDisabled(RevertRecord):
    kind: Literal["toxiproxy.disabled"] = "toxiproxy.disabled"
    api: str
    proxy: str

    def undo(self, ctx: ChaosContext) -> str:
        ctx.guard.check_url(self.api, "toxiproxy")
        with ToxiproxyClient(self.api) as client:
            try:
                for attempt in Retrying(
                    stop=stop_after_attempt(3),
                    wait=wait_exponential(multiplier=0.1, max=1.0),
                    reraise=True,
                ):
                    with attempt:
                        client.enable_proxy(self.proxy)
            except ToxiproxyError as error:
                if error.status == 404:
                    return "proxy gone"
                client.reset()
                return "proxy enabled by reset"
        return "proxy enabled"


class _LinkFault(Fault[LinkSpecT]):
    """A fault on one Toxiproxy proxy; :meth:`check` makes sure the link exists."""

    def _proxy(self, client: ToxiproxyClient) -> Proxy:
        proxies = client.list_proxies()
        proxy = proxies.get(self.spec.link)
        if proxy is None:
            known = ", ".join(sorted(proxies)) or "none"
            raise self.config_error(f"unknown link {self.spec.link!r} (links: {known})")
        self.ctx.guard.check_address(proxy.upstream, f"link {proxy.name}")
        return proxy

    def check(self) -> None:
        with self.ctx.toxiproxy() as client:
            self._proxy(client)

    @property
    def api(self) -> str:
        assert self.ctx.toxiproxy_url is not None
        return self.ctx.toxiproxy_url


@register(
    "network.latency",
    "network.timeout",
    "network.reset_peer",
    "network.bandwidth",
    "network.slow_close",
    "network.limit_data",
)
class ToxicFault(_LinkFault[ToxicSpec]):
    """Latency, timeout, reset_peer, bandwidth, slow_close or limit_data on one link."""

    def _inject(self) -> RevertRecord:
        toxic_type, attributes = toxic_of(self.spec)
        name = f"{TOXIC_PREFIX}{self.fault_id}"
        with self.ctx.toxiproxy() as client:
            proxy = self._proxy(client)
            client.add_toxic(
                proxy.name,
                toxic_type,
                attributes,
                name=name,
                stream=self.spec.direction.value,
                toxicity=self.spec.toxicity,
            )
        return ToxicAdded(api=self.api, proxy=proxy.name, toxic=name)


@register("network.down")
class LinkDownFault(_LinkFault[NetworkDown]):
    """The link is down: the proxy is disabled (listener closed, connections dropped)."""

    def _inject(self) -> RevertRecord:
        with self.ctx.toxiproxy() as client:
            proxy = self._proxy(client)
            client.disable_proxy(proxy.name)
        return ProxyDisabled(api=self.api, proxy=proxy.name)
