"""Provider faults: the HTTP-level misbehaviour Toxiproxy cannot make, via the simulators.

Each game-provider simulator exposes a control API (``docs/provider-control-api.md``);
a fault is one ``PUT /control/providers/{provider}/faults/{fault_id}`` on every replica of
the simulator and is removed with ``DELETE`` on the same path (falling back to clearing
the provider's faults). Every fault is sent with ``expires_in_s`` = its duration, so a
simulator ends it by itself even when spikekit dies before the revert.
``provider: busiest`` is resolved when the fault starts, from ``GET /control/providers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

import httpx
from pydantic import JsonValue
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from spikekit import __version__
from spikekit.chaos.base import Fault, FaultConfigError, RevertRecord, register
from spikekit.errors import ChaosError
from spikekit.scenarios.faults import (
    ProviderCapacity,
    ProviderErrors,
    ProviderHang,
    ProviderLatency,
    ProviderRateLimit,
)

if TYPE_CHECKING:
    from spikekit.chaos.context import ChaosContext

__all__ = ["ProviderControl", "ProviderFault", "ProviderFaultSet"]

ProviderSpec = (
    ProviderErrors | ProviderRateLimit | ProviderLatency | ProviderHang | ProviderCapacity
)
BUSIEST = "busiest"


class ProviderControl:
    """A client of one simulator's control API (``base_url`` = the simulator's URL)."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers={"User-Agent": f"spikekit/{__version__}"},
        )

    def __enter__(self) -> ProviderControl:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: object = None) -> httpx.Response:
        what = f"{method} {self.base_url}{path}"
        retrying = Retrying(
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=0.1, max=1.0),
            retry=retry_if_exception_type(httpx.TransportError),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = self._http.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise ChaosError("provider", f"{what}: no answer ({error})") from error
        if response.status_code >= 400 and not (method == "DELETE" and response.status_code == 404):
            raise ChaosError(
                "provider", f"{what}: HTTP {response.status_code} {response.text[:200]}"
            )
        return response

    def providers(self) -> dict[str, int]:
        """Provider ids and the rounds each has served."""
        body = self._call("GET", "/control/providers").json()
        return {str(p["id"]): int(p.get("rounds", 0)) for p in body.get("providers", [])}

    def set_fault(self, provider: str, fault_id: str, body: dict[str, JsonValue]) -> None:
        self._call("PUT", _path(provider, fault_id), body)

    def clear_fault(self, provider: str, fault_id: str) -> bool:
        """False when the simulator did not have it (already expired or cleared)."""
        return self._call("DELETE", _path(provider, fault_id)).status_code != 404

    def clear_provider(self, provider: str) -> None:
        self._call("DELETE", f"/control/providers/{quote(provider, safe='')}/faults")


def _path(provider: str, fault_id: str) -> str:
    return f"/control/providers/{quote(provider, safe='')}/faults/{quote(fault_id, safe='')}"


class ProviderFaultSet(RevertRecord):
    kind: Literal["provider.fault"] = "provider.fault"
    urls: list[str]
    provider: str
    fault_id: str

    def undo(self, ctx: ChaosContext) -> str:
        outcomes: list[str] = []
        for url in self.urls:
            ctx.guard.check_url(url, "provider")
            with ProviderControl(url) as control:
                try:
                    outcomes.append(
                        "cleared" if control.clear_fault(self.provider, self.fault_id) else "absent"
                    )
                except ChaosError:
                    control.clear_provider(self.provider)
                    outcomes.append("provider reset")
        return ", ".join(sorted(set(outcomes))) or "no simulator"


@register(
    "provider.errors",
    "provider.rate_limit",
    "provider.latency",
    "provider.hang",
    "provider.capacity",
)
class ProviderFault(Fault[ProviderSpec]):
    """One misbehaviour set on a provider through every simulator replica's control API."""

    def _urls(self) -> Sequence[str]:
        if not self.ctx.provider_urls:
            raise FaultConfigError(
                self.fault_type, "no provider simulator in the platform (providers service)"
            )
        for url in self.ctx.provider_urls:
            self.ctx.guard.check_url(url, "provider")
        return self.ctx.provider_urls

    def check(self) -> None:
        self._urls()

    def body(self) -> dict[str, JsonValue]:
        """The JSON of ``PUT .../faults/{id}``: the kind, its parameters, its expiry."""
        params = {k: v for k, v in self.spec.params().items() if k != "provider"}
        return {
            "type": self.spec.type.removeprefix("provider."),
            **params,
            "expires_in_s": self.duration_s,
        }

    def _provider(self, urls: Sequence[str]) -> str:
        if self.spec.provider != BUSIEST:
            return self.spec.provider
        rounds: dict[str, int] = {}
        for url in urls:
            with ProviderControl(url) as control:
                for provider, count in control.providers().items():
                    rounds[provider] = rounds.get(provider, 0) + count
        if not rounds:
            raise self.error("no provider to pick as the busiest")
        return max(sorted(rounds), key=lambda p: rounds[p])

    def _inject(self) -> RevertRecord:
        urls = list(self._urls())
        provider = self._provider(urls)
        record = ProviderFaultSet(urls=urls, provider=provider, fault_id=self.fault_id)
        try:
            for url in urls:
                with ProviderControl(url) as control:
                    control.set_fault(provider, self.fault_id, self.body())
        except BaseException:
            record.undo(self.ctx)
            raise
        return record
