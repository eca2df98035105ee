"""A tiny real HTTP/1.1 server for the players' client tests (asyncio, its own process).

``python http_server.py --port P --control-port C``. On ``P``, by path:

- ``/echo``: 200, JSON of what arrived (method, path, headers lower-cased, body, which
  connection it came on and how many requests that connection carried);
- ``/status/CODE``: that status (with ``Retry-After: 2``);
- ``/slow/MS``: answers after MS ms — or notices the client closing the socket first;
- ``/close-after``: answers, then closes the connection 50 ms later (an idle keep-alive
  socket closed by the server);
- ``/drop-next``: answers; the next request on that connection is read and the connection
  closed without an answer; ``/drop``: closes without answering;
- ``/set-cookie``: sets ``edge=abc123``; ``/chunked``: a chunked answer; ``/eof``: an answer
  without a length, ended by closing the connection.

On ``C``: ``GET /stats`` (connections accepted, open, most open at once, requests, sockets
the client closed while ``/slow`` waited), ``POST /reset``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Stats:
    accepted: int = 0
    open: int = 0
    max_open: int = 0
    requests: int = 0
    abandoned: int = 0  # /slow requests whose socket the client closed before the answer


stats = Stats()


def answer(status: int, body: bytes, *headers: str, length: bool = True) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "Content-Type: application/json", *headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def as_json(data: dict[str, Any], status: int = 200, *headers: str) -> bytes:
    return answer(status, json.dumps(data).encode(), *headers)


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return method, target, headers, body


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    stats.accepted += 1
    stats.open += 1
    stats.max_open = max(stats.max_open, stats.open)
    connection, carried, drop_next = stats.accepted, 0, False
    try:
        while True:
            try:
                method, path, headers, body = await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            carried += 1
            stats.requests += 1
            if drop_next or path == "/drop":
                return
            parts = path.partition("?")[0].strip("/").split("/")
            close_after = False
            if parts[0] == "echo":
                seen = {
                    "method": method,
                    "path": path,
                    "headers": headers,
                    "body": body.decode(),
                    "connection": connection,
                    "carried": carried,
                }
                writer.write(as_json(seen))
            elif parts[0] == "status":
                writer.write(as_json({"status": int(parts[1])}, int(parts[1]), "Retry-After: 2"))
            elif parts[0] == "slow":
                try:
                    if not await asyncio.wait_for(reader.read(1), int(parts[1]) / 1000):
                        stats.abandoned += 1
                        return
                except TimeoutError:
                    pass
                writer.write(as_json({"slow": True}))
            elif parts[0] == "close-after":
                writer.write(as_json({"closing": True}))
                close_after = True
            elif parts[0] == "drop-next":
                writer.write(as_json({"dropping": "next"}))
                drop_next = True
            elif parts[0] == "set-cookie":
                writer.write(as_json({}, 200, "Set-Cookie: edge=abc123; Path=/"))
            elif parts[0] == "chunked":
                chunks = [b'{"chunked":', b' "yes", "n"', b": 3}"]
                data = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
                writer.write(answer(200, data, "Transfer-Encoding: chunked", length=False))
            elif parts[0] == "eof":
                writer.write(answer(200, b'{"until": "close"}', "Connection: close", length=False))
                await writer.drain()
                return
            else:
                writer.write(as_json({"error": "no such path"}, 404))
            await writer.drain()
            if close_after:
                await asyncio.sleep(0.05)
                return
    finally:
        stats.open -= 1
        writer.close()


async def control(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global stats
    try:
        while True:
            try:
                method, path, _, _ = await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            if method == "POST" and path == "/reset":
                stats = Stats(open=stats.open, max_open=stats.open)
            writer.write(as_json(asdict(stats)))
            await writer.drain()
    finally:
        writer.close()


async def main(port: int, control_port: int) -> None:
    server = await asyncio.start_server(serve, "127.0.0.1", port)
    controller = await asyncio.start_server(control, "127.0.0.1", control_port)
    async with server, controller:
        await asyncio.gather(server.serve_forever(), controller.serve_forever())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control-port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(main(args.port, args.control_port))
