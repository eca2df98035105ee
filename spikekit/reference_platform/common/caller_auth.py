"""The FastAPI side of :mod:`.service_auth`: a router dependency that checks the caller.

A service puts :func:`authenticated_caller` on the router of its internal money API
(``APIRouter(dependencies=[CALLER_CHECK])``, the wallet's player API and payments) or on
each signed route (``@router.post(..., dependencies=[CALLER_CHECK])``, the router's, the
studios' and auth's) and its :class:`~.service_auth.Verifier` in ``app.state.verifier``.
The dependency runs before the route's own parameters and before any money moves; it
answers 401 or 403 in the service's error format (:class:`~.errors.ApiError`), and the
three headers appear in the OpenAPI schema.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request

from spikekit.reference_platform.common.errors import ApiError, openapi_errors
from spikekit.reference_platform.common.fast_routes import FastRequest
from spikekit.reference_platform.common.service_auth import (
    CALLER_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ServiceAuthError,
    Verifier,
)

AUTH_ERRORS: dict[int | str, dict[str, Any]] = openapi_errors(
    {
        401: "missing, unknown, stale or wrong caller signature (X-Spikekit-*)",
        403: "the calling service may not run this operation",
    }
)


def request_target(request: Request) -> str:
    """The path as the caller sent it (percent-encoded), with its query when it has one."""
    scope = request.scope
    raw = scope.get("raw_path") or scope["path"].encode()
    target = bytes(raw).split(b"?", 1)[0].decode("latin-1")
    query = bytes(scope.get("query_string") or b"").decode("latin-1")
    return f"{target}?{query}" if query else target


async def authenticated_caller(
    request: Request,
    caller: Annotated[
        str | None, Header(alias=CALLER_HEADER, description="the calling service")
    ] = None,
    timestamp: Annotated[
        str | None, Header(alias=TIMESTAMP_HEADER, description="Unix seconds of the signing")
    ] = None,
    signature: Annotated[
        str | None,
        Header(
            alias=SIGNATURE_HEADER,
            description="hex HMAC-SHA256 of METHOD, path, caller, timestamp and body "
            "with the caller's key (docs/security.md)",
        ),
    ] = None,
) -> str:
    """The calling service, once its signature and its permission are checked."""
    route = str(getattr(request.scope.get("route"), "path", ""))
    headers = {CALLER_HEADER: caller, TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature}
    body = await request.body()
    return _verify(
        request.app.state.verifier, request.method, request_target(request), route, headers, body
    )


CALLER_CHECK = Depends(authenticated_caller)


def fast_caller(request: FastRequest) -> str:
    """:func:`authenticated_caller` for a route of :mod:`.fast_routes`: the same check, the
    same 401 / 403 answers."""
    headers = {name: request.header(name.lower().encode()) for name in _HEADERS}
    method = str(request.scope["method"])
    return _verify(
        request.state.verifier, method, request.target(), request.template, headers, request.body
    )


_HEADERS = (CALLER_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)


def _verify(
    verifier: object,
    method: str,
    target: str,
    route: str,
    headers: dict[str, str | None],
    body: bytes,
) -> str:
    assert isinstance(verifier, Verifier)
    try:
        return verifier.check(method, target, route, headers, body)
    except ServiceAuthError as error:
        raise ApiError(error.status, error.code, str(error)) from error
