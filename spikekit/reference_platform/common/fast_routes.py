"""Hot routes answered without FastAPI's per-request machinery, exactly as FastAPI would.

FastAPI spends about 0.2 ms of CPU on every request here before the route's own code runs
(dependency solving re-inspects annotations per request, parameter models, the router's
matching, exception and exit-stack middleware): measured in-process on this machine, a
signed round at a studio cost 220-245 µs through FastAPI against 6 µs for the same
parsing and answer in plain ASGI. A round crosses three of our apps (gateway, router,
studio), so the framework cost more CPU than the round's own work.

A service registers a handler for ``(METHOD, "/route/{template}")`` in its
:class:`FastTable`; :class:`FastRoutes` (ASGI middleware, inside the request metrics and
the body limit, so both still apply) answers such a request with it. The route stays
declared in FastAPI too (the OpenAPI schema, the contract tests, every other request):

- a handler returns ``None`` to leave a request to FastAPI, the body replayed: it does so
  whenever the body is not what the route's model accepts, so a 422 is FastAPI's own;
- an exception the handler raises is answered by the app's exception handler for its
  type (the same ``ApiError`` / ``GatewayError`` answers); one without a handler goes on
  up, to the server-error middleware, like FastAPI's;
- a handler performs its checks in the order FastAPI's dependencies would (caller
  signature, session token, service state), and calls the same function the FastAPI
  route calls, so nothing a route decides is written twice.

A request with a ``Content-Type`` other than ``application/json`` on a route with a body
goes to FastAPI.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON = b"application/json"
M = TypeVar("M", bound=BaseModel)


@dataclass
class Answer:
    """What a fast handler answers: status, body and extra headers (JSON by default)."""

    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    media_type: bytes = JSON


def json_answer(model: BaseModel, status: int = 200) -> Answer:
    """A pydantic model as FastAPI's ``response_model`` serialises it (by alias, JSON)."""
    return Answer(status, model.model_dump_json(by_alias=True).encode())


@dataclass(frozen=True)
class FastRequest:
    """One request as a handler sees it."""

    scope: Scope
    params: dict[str, str]
    body: bytes
    template: str

    @property
    def state(self) -> Any:
        """``app.state`` of the FastAPI app."""
        return self.scope["app"].state

    def header(self, name: bytes) -> str | None:
        """A header's value (``name`` lower-case), the first when repeated."""
        for key, value in self.scope["headers"]:
            if key == name:
                return bytes(value).decode("latin-1")
        return None

    def target(self) -> str:
        """The path as sent (percent-encoded), with its query: what a caller signs."""
        raw = self.scope.get("raw_path") or self.scope["path"].encode()
        target = bytes(raw).split(b"?", 1)[0].decode("latin-1")
        query = bytes(self.scope.get("query_string") or b"").decode("latin-1")
        return f"{target}?{query}" if query else target


Handler = Callable[[FastRequest], Awaitable[Answer | None]]


def parse_body(adapter: TypeAdapter[M], request: FastRequest) -> M | None:
    """The body as the route's model, or None (FastAPI then answers the 422)."""
    if request.header(b"content-type") != "application/json":
        return None
    try:
        return adapter.validate_json(request.body)
    except ValidationError:
        return None


@dataclass(frozen=True)
class _Route:
    method: str
    template: str  # what ``scope["route"].path`` says, as for FastAPI's routes
    pattern: re.Pattern[str]
    handler: Handler

    @property
    def path(self) -> str:
        return self.template


class FastTable:
    """The fast routes of one app, by method and path template."""

    def __init__(self) -> None:
        self._exact: dict[tuple[str, str], _Route] = {}
        self._templated: list[_Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        regex = "^" + re.sub(r"\{([a-zA-Z_]\w*)\}", r"(?P<\1>[^/]+)", template) + "$"
        route = _Route(method.upper(), template, re.compile(regex), handler)
        if "{" in template:
            self._templated.append(route)
        else:
            self._exact[(route.method, template)] = route

    def match(self, method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
        route = self._exact.get((method, path))
        if route is not None:
            return route, {}
        for route in self._templated:
            if route.method == method:
                found = route.pattern.match(path)
                if found is not None:
                    return route, found.groupdict()
        return None

    def __len__(self) -> int:
        return len(self._exact) + len(self._templated)


class FastRoutes:
    """ASGI middleware: a request on a route of ``table`` is answered by its handler."""

    def __init__(self, app: ASGIApp, table: FastTable, exception_handlers: dict[Any, Any]) -> None:
        self.app = app
        self.table = table
        self.exception_handlers = exception_handlers  # the app's own dict, filled later

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not len(self.table):
            await self.app(scope, receive, send)
            return
        found = self.table.match(scope["method"], scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        route, params = found
        body = await _read_body(receive)
        if body is None:  # the client went away
            return
        scope["route"] = route  # the request metrics' route template
        request = FastRequest(scope, params, body, route.template)
        try:
            answer = await route.handler(request)
        except Exception as error:
            handler = self._handler_for(error)
            if handler is None:
                raise
            response = handler(Request(scope, _replay(body, receive)), error)
            if inspect.isawaitable(response):
                response = await response
            assert isinstance(response, Response)
            await response(scope, _replay(body, receive), send)
            return
        if answer is None:  # FastAPI's to answer (a body the model refuses)
            scope.pop("route", None)
            await self.app(scope, _replay(body, receive), send)
            return
        headers = [
            (b"content-length", str(len(answer.body)).encode()),
            (b"content-type", answer.media_type),
            *answer.headers,
        ]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})

    def _handler_for(self, error: Exception) -> Callable[..., Any] | None:
        for kind in type(error).__mro__:
            if kind in self.exception_handlers:
                handler: Callable[..., Any] = self.exception_handlers[kind]
                return handler
        return None


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
