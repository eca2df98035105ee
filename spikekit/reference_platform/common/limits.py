"""Request limits as pure ASGI middleware: refused before the app does any work.

:class:`BodyLimit` answers 413 to a body over the limit before the app parses it,
and 400 to a ``Content-Length`` that is not a number, in the service's error
format (:mod:`.errors`). :func:`refuse` writes such an answer straight to ASGI,
for other middleware that turns requests away (the gateway's backpressure).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spikekit.reference_platform.common.errors import INTERNAL, ErrorFormat


async def refuse(
    send: Send,
    status: int,
    code: str,
    message: str,
    fmt: ErrorFormat = INTERNAL,
    *,
    retry_after_s: int | None = None,
    close: bool = False,
) -> None:
    """An error answer in ``fmt``; ``close`` when the rest of the request is never read."""
    body = json.dumps(fmt.body(code, message)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if retry_after_s is not None:
        headers.append((b"retry-after", str(retry_after_s).encode()))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: a body over ``max_bytes`` gets 413 before the app parses it.

    A declared ``Content-Length`` is checked up front (the server then holds the body
    to it); a chunked body is read here, bounded, and replayed to the app.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, fmt: ErrorFormat = INTERNAL) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.fmt = fmt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await self._refuse(send, 400)
            elif int(declared) > self.max_bytes:
                await self._refuse(send, 413)
            else:
                await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send, 413)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, status: int) -> None:
        if status == 413:
            code, message = "BODY_TOO_LARGE", f"the body is over {self.max_bytes} bytes"
        else:
            code, message = "BAD_CONTENT_LENGTH", "Content-Length is not a number"
        await refuse(send, status, code, message, self.fmt, close=True)
