"""One dependency of the gateway over HTTP: pooled, round robin, a deadline on every call.

Built on the services' small pooled client (:class:`~spikekit.reference_platform.common.
http_client.HttpPool`, asyncio streams + httptools), which the router, the studios and
payments use too: keep-alive connections, at most ``size`` at once, round robin over the
dependency's replicas, one deadline covering the wait for a slot, connect, write and
read. httpx's ``AsyncClient`` collapses under many tasks (FACTS.md); aiohttp costs about
twice the client CPU per call (see the client's module docstring).

:meth:`Upstream.call` answers the HTTP answer or raises :class:`Unavailable` when
there was none in time; an idempotent call whose connection was refused is tried
once more on the next replica. :meth:`Upstream.fail` and :meth:`Upstream.parse`
turn error answers and bodies into the gateway's errors and typed models.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError

from spikekit.reference_platform.common import oplog
from spikekit.reference_platform.common.http_client import (
    ConnectFailed,
    HttpPool,
    HttpResponse,
    RequestTimeout,
    TransportError,
)
from spikekit.reference_platform.gateway.adapters.metrics import GatewayMetrics
from spikekit.reference_platform.gateway.domain import (
    NO_REMAP,
    GatewayError,
    Remap,
    Unavailable,
    UpstreamFailure,
    upstream_error,
)

T = TypeVar("T")
JSON_HEADERS = {"Content-Type": "application/json"}


class Upstream:
    def __init__(
        self,
        name: str,
        pool: HttpPool,
        timeout_s: float | None,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.name = name
        self.pool = pool
        self.timeout_s = timeout_s
        self.metrics = metrics
        if metrics is not None:
            metrics.track_pool(name, lambda: pool.in_use)

    async def call(
        self,
        operation: str,
        method: str,
        path: str,
        payload: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        idempotent: bool = False,
    ) -> HttpResponse:
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        sent = {**JSON_HEADERS, **headers} if headers else JSON_HEADERS
        started = time.perf_counter()
        try:
            response = await self._send(method, path, body, sent, idempotent)
        except RequestTimeout as error:
            self._count(operation, "timeout")
            limit = self.timeout_s or 0.0  # only a call with a timeout times out
            oplog.event(
                "dependency_timeout",
                "warning",
                self.name,
                dependency=self.name,
                operation=operation,
                timeout_s=limit,
            )
            raise Unavailable(
                f"{self.name}_timeout", f"{self.name} did not answer within {limit:g} s"
            ) from error
        except TransportError as error:
            self._count(operation, "connection")
            oplog.event(
                "dependency_unreachable",
                "warning",
                self.name,
                dependency=self.name,
                operation=operation,
                error=error.reason,
            )
            raise Unavailable(f"{self.name}_unavailable", f"{self.name}: {error.reason}") from error
        finally:
            if self.metrics is not None:
                self.metrics.upstream_seconds.labels(self.name, operation).observe(
                    time.perf_counter() - started
                )
        if response.status == 429:
            self._count(operation, "status_429")
        elif response.status >= 500:
            self._count(operation, "status_5xx")
        return response

    async def _send(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str], idempotent: bool
    ) -> HttpResponse:
        try:
            return await self.pool.request(method, path, body, headers, timeout=self.timeout_s)
        except ConnectFailed:
            if not idempotent or len(self.pool.base_urls) < 2:
                raise
        return await self.pool.request(method, path, body, headers, timeout=self.timeout_s)

    def fail(self, operation: str, response: HttpResponse, remap: Remap = NO_REMAP) -> GatewayError:
        """The player's error for an error answer (status >= 400)."""
        code, message = "", ""
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            error = payload.get("error")
            if isinstance(error, dict):
                code, message = str(error.get("code", "")), str(error.get("message", ""))
            elif isinstance(error, str):
                code, message = error.upper(), str(payload.get("detail", ""))
        elif response.status < 500:
            self._count(operation, "bad_answer")
        failure = UpstreamFailure(
            self.name, response.status, code, message, response.headers.get("retry-after")
        )
        return upstream_error(failure, remap)

    def parse(self, operation: str, shape: TypeAdapter[T], response: HttpResponse) -> T:
        """The 2xx body as ``shape``; a body that is not one is a 503 (never trusted, never 500)."""
        try:
            return shape.validate_json(response.body)
        except ValidationError as error:
            self._count(operation, "bad_answer")
            raise Unavailable(
                "bad_upstream_answer", f"{self.name} answered {operation} with an unexpected body"
            ) from error

    def _count(self, operation: str, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.upstream_error(self.name, operation, reason)

    async def aclose(self) -> None:
        await self.pool.aclose()
